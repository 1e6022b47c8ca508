#include "layers/maxpool2d.h"

#include <stdexcept>

#include "tensor/ops.h"

namespace facet {

Tensor MaxPool2d::forward(const Tensor& x) { return maxpool2d(x, kernel_, stride_, pad_); }

Shape MaxPool2d::output_shape(const Shape& in) const {
  if (in.size() != 4) throw std::invalid_argument(describe() + ": input " + shape_str(in) + " must be (N,C,H,W)");
  Shape out{in[0], in[1], (in[2] + 2 * pad_ - kernel_) / stride_ + 1, (in[3] + 2 * pad_ - kernel_) / stride_ + 1};
  if (out[2] < 1 || out[3] < 1)
    throw std::invalid_argument(describe() + ": input " + shape_str(in) + " is too small (use fewer pooling stages or a larger image)");
  return out;
}

std::string MaxPool2d::describe() const {
  return "maxpool " + std::to_string(kernel_) + "x" + std::to_string(kernel_) + "/" + std::to_string(stride_);
}

}  // namespace facet
