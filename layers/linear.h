// Linear (dense) layer: weight (out, in), bias (out). See kernels/linear.h.
#pragma once
#include "layers/module.h"

namespace facet {
class Rng;

class Linear : public Module {
 public:
  Linear(int in_features, int out_features, Rng& rng, bool bias = true);
  Tensor forward(const Tensor& x) override;
  Shape output_shape(const Shape& in) const override;
  std::string describe() const override;
  std::vector<NamedTensor> parameters() override;

  Tensor weight;  // (out, in)
  Tensor bias;    // (out) or undefined

 private:
  int in_, out_;
};

}  // namespace facet
