#include "layers/conv2d.h"

#include <cmath>
#include <stdexcept>

#include "tensor/ops.h"
#include "tensor/rng.h"

namespace facet {

Conv2d::Conv2d(int in_channels, int out_channels, int kernel, int stride, int pad, bool with_bias, Rng& rng)
    : in_(in_channels), out_(out_channels), kernel_(kernel), stride_(stride), pad_(pad) {
  float bound = 1.0f / std::sqrt(float(in_channels * kernel * kernel));
  weight = uniform_parameter({out_channels, in_channels, kernel, kernel}, bound, rng);
  if (with_bias) bias = uniform_parameter({out_channels}, bound, rng);
}

Tensor Conv2d::forward(const Tensor& x) { return conv2d(x, weight, bias, stride_, pad_); }

Shape Conv2d::output_shape(const Shape& in) const {
  if (in.size() != 4 || in[1] != in_)
    throw std::invalid_argument(describe() + ": input " + shape_str(in) + " must be (N," + std::to_string(in_) + ",H,W)");
  return {in[0], out_, (in[2] + 2 * pad_ - kernel_) / stride_ + 1, (in[3] + 2 * pad_ - kernel_) / stride_ + 1};
}

std::string Conv2d::describe() const {
  return "conv2d " + std::to_string(in_) + "->" + std::to_string(out_) + " " + std::to_string(kernel_) + "x" +
         std::to_string(kernel_) + "/" + std::to_string(stride_) + " pad " + std::to_string(pad_);
}

std::vector<NamedTensor> Conv2d::parameters() {
  std::vector<NamedTensor> p{{"weight", weight}};
  if (bias.defined()) p.push_back({"bias", bias});
  return p;
}

}  // namespace facet
