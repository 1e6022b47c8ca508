// Activation layers (no parameters): ReLU and LeakyReLU(alpha). See kernels/activation.h.
#pragma once
#include "layers/module.h"

namespace facet {

class ReLU : public Module {
 public:
  Tensor forward(const Tensor& x) override;
  Shape output_shape(const Shape& in) const override { return in; }
  std::string describe() const override { return "relu"; }
};

class LeakyReLU : public Module {
 public:
  explicit LeakyReLU(float alpha = 0.01f) : alpha_(alpha) {}
  Tensor forward(const Tensor& x) override;
  Shape output_shape(const Shape& in) const override { return in; }
  std::string describe() const override;
  float alpha() const { return alpha_; }

 private:
  float alpha_;
};

}  // namespace facet
