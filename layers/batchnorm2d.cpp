#include "layers/batchnorm2d.h"

#include "tensor/ops.h"

namespace facet {

BatchNorm2d::BatchNorm2d(int channels, float momentum, float eps)
    : channels_(channels), momentum_(momentum), eps_(eps) {
  gamma = Tensor::full({channels}, 1.0f).set_requires_grad(true);
  beta = Tensor::zeros({channels}).set_requires_grad(true);
  running_mean = Tensor::zeros({channels});
  running_var = Tensor::full({channels}, 1.0f);
}

Tensor BatchNorm2d::forward(const Tensor& x) {
  return batchnorm2d(x, gamma, beta, running_mean, running_var, training_, momentum_, eps_);
}

std::string BatchNorm2d::describe() const { return "batchnorm " + std::to_string(channels_); }

}  // namespace facet
