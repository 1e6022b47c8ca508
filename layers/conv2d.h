// Conv2d layer: weight (out, in, k, k), bias (out). See kernels/conv2d.h for the math.
#pragma once
#include "layers/module.h"

namespace facet {
class Rng;

class Conv2d : public Module {
 public:
  Conv2d(int in_channels, int out_channels, int kernel, int stride, int pad, bool bias, Rng& rng);
  Tensor forward(const Tensor& x) override;
  Shape output_shape(const Shape& in) const override;
  std::string describe() const override;
  std::vector<NamedTensor> parameters() override;
  int stride() const { return stride_; }
  int pad() const { return pad_; }

  Tensor weight;  // (out, in, k, k)
  Tensor bias;    // (out) or undefined

 private:
  int in_, out_, kernel_, stride_, pad_;
};

}  // namespace facet
