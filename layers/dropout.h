// Dropout layer: inverted dropout in training, identity in eval. Each forward draws a fresh mask from the
// Philox stream (seed, offset), advancing offset by the number of elements: runs are reproducible.
#pragma once
#include <cstdint>

#include "layers/module.h"

namespace facet {

class Dropout : public Module {
 public:
  Dropout(float p, uint64_t seed) : p_(p), seed_(seed) {}
  Tensor forward(const Tensor& x) override;
  Shape output_shape(const Shape& in) const override { return in; }
  std::string describe() const override;
  uint64_t offset() const { return offset_; }  // saved in checkpoints so a resumed run draws the same masks
  void set_offset(uint64_t offset) { offset_ = offset; }

 private:
  float p_;
  uint64_t seed_;
  uint64_t offset_ = 0;
};

}  // namespace facet
