// MaxPool2d layer (no parameters). See kernels/maxpool2d.h.
#pragma once
#include "layers/module.h"

namespace facet {

class MaxPool2d : public Module {
 public:
  MaxPool2d(int kernel, int stride, int pad = 0) : kernel_(kernel), stride_(stride), pad_(pad) {}
  Tensor forward(const Tensor& x) override;
  Shape output_shape(const Shape& in) const override;
  std::string describe() const override;
  int kernel() const { return kernel_; }
  int stride() const { return stride_; }
  int pad() const { return pad_; }

 private:
  int kernel_, stride_, pad_;
};

}  // namespace facet
