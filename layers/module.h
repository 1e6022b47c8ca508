// Module: a layer or a stack of layers. forward() builds the graph through tensor/ops; parameters() lists
// what the optimizer trains, buffers() what is saved but not trained (BatchNorm's running statistics).
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "tensor/tensor.h"

namespace facet {

class Module {
 public:
  virtual ~Module() = default;
  virtual Tensor forward(const Tensor& x) = 0;
  virtual Shape output_shape(const Shape& in) const = 0;  // for summaries and shape checks at build time
  virtual std::string describe() const = 0;               // one line, e.g. "conv2d 3->32 3x3/1 pad 1"
  virtual std::vector<NamedTensor> parameters() { return {}; }
  virtual std::vector<NamedTensor> buffers() { return {}; }
  virtual void set_training(bool on) { training_ = on; }
  bool training() const { return training_; }
  void to(Device device);  // moves every parameter and buffer
  int64_t parameter_count();

 protected:
  bool training_ = true;
};

// A new trainable parameter: U(-bound, bound), the PyTorch default for conv and linear (bound = 1/sqrt(fan_in)).
class Rng;
Tensor uniform_parameter(const Shape& shape, float bound, Rng& rng);

}  // namespace facet
