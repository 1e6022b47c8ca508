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
  // What forward() fuses (same values and gradients as layer by layer, far less memory traffic):
  //   conv_bn_act_pool  each Conv2d -> BatchNorm2d -> ReLU/LeakyReLU -> MaxPool2d run as conv_bn_act_pool
  //                     (tensor/ops.h: batch statistics in the conv's epilogue; batchnorm folded into the conv
  //                     in eval), and a BatchNorm2d -> activation -> MaxPool2d run without a conv before it as
  //                     batchnorm_act_pool (the default);
  //   bn_act_pool       only the latter;
  //   none              layer by layer.
  enum class Fusion { none, bn_act_pool, conv_bn_act_pool };
  void set_fusion(Fusion f) { fusion_ = f; }
  void set_fusion(bool on) { fusion_ = on ? Fusion::conv_bn_act_pool : Fusion::none; }
  Fusion fusion() const { return fusion_; }
  Module& operator[](size_t i) { return *layers_[i].second; }
  const std::string& name(size_t i) const { return layers_[i].first; }  // "conv1", ... (facet explain, viz)

 private:
  // The fused op starting at layer i when the layers from i on are a fusable run; returns how many layers it
  // covered (0: none, run layer i alone).
  size_t forward_fused(size_t i, const Tensor& x, Tensor& out);

  std::vector<std::pair<std::string, std::unique_ptr<Module>>> layers_;
  Fusion fusion_ = Fusion::conv_bn_act_pool;
};

}  // namespace facet
