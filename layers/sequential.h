// Sequential: layers applied in order, each with a name ("conv1", "bn1", ...) that prefixes its parameters
// ("conv1.weight"). summary() prints every layer with its output shape when a model is built (darknet style).
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "layers/module.h"

namespace facet {

class Flatten : public Module {
 public:
  Tensor forward(const Tensor& x) override { return x.flatten(1); }
  Shape output_shape(const Shape& in) const override;
  std::string describe() const override { return "flatten"; }
};

class Sequential : public Module {
 public:
  Sequential& add(std::string name, std::unique_ptr<Module> layer);
  template <class L, class... Args>
  L& emplace(std::string name, Args&&... args) {
    auto layer = std::make_unique<L>(std::forward<Args>(args)...);
    L& ref = *layer;
    add(std::move(name), std::move(layer));
    return ref;
  }
  Tensor forward(const Tensor& x) override;
  Shape output_shape(const Shape& in) const override;
  std::string describe() const override;
  std::vector<NamedTensor> parameters() override;
  std::vector<NamedTensor> buffers() override;
  void set_training(bool on) override;
  std::string summary(const Shape& in);  // a table: name, layer, output shape, parameters
  size_t size() const { return layers_.size(); }
  // forward() runs each BatchNorm2d -> ReLU/LeakyReLU -> MaxPool2d run of layers as one fused op
  // (batchnorm_act_pool in tensor/ops.h: same values and gradients, far less memory traffic). Off: layer by layer.
  void set_fusion(bool on) { fuse_ = on; }
  bool fusion() const { return fuse_; }
  Module& operator[](size_t i) { return *layers_[i].second; }

 private:
  // The fused op for layers i, i+1, i+2 when they are batchnorm -> activation -> maxpool and it applies.
  bool forward_fused(size_t i, const Tensor& x, Tensor& out);

  std::vector<std::pair<std::string, std::unique_ptr<Module>>> layers_;
  bool fuse_ = true;
};

}  // namespace facet
