#include "layers/sequential.h"

#include <cstdio>
#include <stdexcept>

#include "layers/activation.h"
#include "layers/batchnorm2d.h"
#include "layers/conv2d.h"
#include "layers/maxpool2d.h"
#include "tensor/ops.h"

namespace facet {

Shape Flatten::output_shape(const Shape& in) const {
  if (in.size() < 2) throw std::invalid_argument("flatten: input " + shape_str(in) + " needs a batch dimension");
  int64_t rest = 1;
  for (size_t i = 1; i < in.size(); ++i) rest *= in[i];
  return {in[0], rest};
}

Sequential& Sequential::add(std::string name, std::unique_ptr<Module> layer) {
  for (auto& [n, l] : layers_)
    if (n == name) throw std::invalid_argument("Sequential: two layers named '" + name + "'");
  layers_.emplace_back(std::move(name), std::move(layer));
  return *this;
}

namespace {

// The slope of a ReLU (0) or LeakyReLU layer, or false when m is neither.
bool activation_slope(Module* m, float& alpha) {
  if (auto* leaky = dynamic_cast<LeakyReLU*>(m)) {
    alpha = leaky->alpha();
    return true;
  }
  alpha = 0.0f;
  return dynamic_cast<ReLU*>(m) != nullptr;
}

}  // namespace

size_t Sequential::forward_fused(size_t i, const Tensor& x, Tensor& out) {
  if (fusion_ == Fusion::none || x.dim() != 4) return 0;
  auto layer = [&](size_t j) { return j < layers_.size() ? layers_[j].second.get() : nullptr; };
  auto* conv = fusion_ == Fusion::conv_bn_act_pool ? dynamic_cast<Conv2d*>(layer(i)) : nullptr;
  const size_t b = conv ? i + 1 : i;  // where the batchnorm -> activation -> pool run starts
  auto* bn = dynamic_cast<BatchNorm2d*>(layer(b));
  auto* pool = dynamic_cast<MaxPool2d*>(layer(b + 2));
  float alpha;
  if (!bn || !pool || !layer(b + 1) || !activation_slope(layer(b + 1), alpha)) return 0;
  if (conv) {
    out = conv_bn_act_pool(x, conv->weight, conv->bias, conv->stride(), conv->pad(), bn->gamma, bn->beta,
                           bn->running_mean, bn->running_var, bn->training(), bn->momentum(), bn->eps(), alpha,
                           pool->kernel(), pool->stride(), pool->pad());
    return 4;
  }
  out = batchnorm_act_pool(x, bn->gamma, bn->beta, bn->running_mean, bn->running_var, bn->training(),
                           bn->momentum(), bn->eps(), alpha, pool->kernel(), pool->stride(), pool->pad());
  return 3;
}

Tensor Sequential::forward(const Tensor& x) {
  Tensor h = x;
  for (size_t i = 0; i < layers_.size();) {
    Tensor fused;
    if (const size_t n = forward_fused(i, h, fused)) {
      h = fused;
      i += n;
      continue;
    }
    h = layers_[i].second->forward(h);
    ++i;
  }
  return h;
}

Shape Sequential::output_shape(const Shape& in) const {
  Shape s = in;
  for (auto& [name, layer] : layers_) s = layer->output_shape(s);
  return s;
}

std::string Sequential::describe() const { return "sequential of " + std::to_string(layers_.size()) + " layers"; }

std::vector<NamedTensor> Sequential::parameters() {
  std::vector<NamedTensor> out;
  for (auto& [name, layer] : layers_)
    for (auto& p : layer->parameters()) out.push_back({name + "." + p.name, p.tensor});
  return out;
}

std::vector<NamedTensor> Sequential::buffers() {
  std::vector<NamedTensor> out;
  for (auto& [name, layer] : layers_)
    for (auto& b : layer->buffers()) out.push_back({name + "." + b.name, b.tensor});
  return out;
}

void Sequential::set_training(bool on) {
  training_ = on;
  for (auto& [name, layer] : layers_) layer->set_training(on);
}

std::string Sequential::summary(const Shape& in) {
  std::string out;
  char line[160];
  std::snprintf(line, sizeof line, "%-10s %-28s %-20s %10s\n", "name", "layer", "output", "params");
  out += line;
  std::snprintf(line, sizeof line, "%-10s %-28s %-20s %10s\n", "input", "", shape_str(in).c_str(), "");
  out += line;
  Shape s = in;
  int64_t total = 0;
  for (auto& [name, layer] : layers_) {
    s = layer->output_shape(s);
    int64_t n = layer->parameter_count();
    total += n;
    std::snprintf(line, sizeof line, "%-10s %-28s %-20s %10lld\n", name.c_str(), layer->describe().c_str(),
                  shape_str(s).c_str(), (long long)n);
    out += line;
  }
  std::snprintf(line, sizeof line, "total parameters: %lld\n", (long long)total);
  return out + line;
}

}  // namespace facet
