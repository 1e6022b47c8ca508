#include "layers/activation.h"

#include <cstdio>

#include "tensor/ops.h"

namespace facet {

Tensor ReLU::forward(const Tensor& x) { return relu(x); }

Tensor LeakyReLU::forward(const Tensor& x) { return leaky_relu(x, alpha_); }

std::string LeakyReLU::describe() const {
  char buf[40];
  std::snprintf(buf, sizeof buf, "leakyrelu alpha=%g", double(alpha_));
  return buf;
}

}  // namespace facet
