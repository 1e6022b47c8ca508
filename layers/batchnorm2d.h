// BatchNorm2d layer: per-channel gamma/beta (trained), running mean/var (buffers, used in eval).
// See kernels/batchnorm2d.h for the math. Works on (N,C,H,W) and on (N,C) (a BatchNorm1d).
#pragma once
#include "layers/module.h"

namespace facet {

class BatchNorm2d : public Module {
 public:
  explicit BatchNorm2d(int channels, float momentum = 0.1f, float eps = 1e-5f);
  Tensor forward(const Tensor& x) override;
  Shape output_shape(const Shape& in) const override { return in; }
  std::string describe() const override;
  std::vector<NamedTensor> parameters() override { return {{"weight", gamma}, {"bias", beta}}; }
  std::vector<NamedTensor> buffers() override { return {{"running_mean", running_mean}, {"running_var", running_var}}; }

  float momentum() const { return momentum_; }
  float eps() const { return eps_; }

  Tensor gamma, beta;                  // (C) trained
  Tensor running_mean, running_var;    // (C) buffers

 private:
  int channels_;
  float momentum_, eps_;
};

}  // namespace facet
