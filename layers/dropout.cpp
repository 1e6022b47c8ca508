#include "layers/dropout.h"

#include <cstdio>

#include "tensor/ops.h"

namespace facet {

Tensor Dropout::forward(const Tensor& x) {
  if (!training_) return x;
  uint64_t offset = offset_;
  offset_ += uint64_t(x.numel() + 3) / 4 * 4;  // whole Philox blocks: masks never share random words
  return dropout(x, p_, true, seed_, offset);
}

std::string Dropout::describe() const {
  char buf[32];
  std::snprintf(buf, sizeof buf, "dropout p=%.2f", double(p_));
  return buf;
}

}  // namespace facet
