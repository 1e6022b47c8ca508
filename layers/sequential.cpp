#include "layers/sequential.h"

#include <cstdio>
#include <stdexcept>

#include "layers/activation.h"
#include "layers/batchnorm2d.h"
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

bool Sequential::forward_fused(size_t i, const Tensor& x, Tensor& out) {
  if (!fuse_ || i + 2 >= layers_.size() || x.dim() != 4) return false;
  auto* bn = dynamic_cast<BatchNorm2d*>(layers_[i].second.get());
  auto* pool = dynamic_cast<MaxPool2d*>(layers_[i + 2].second.get());
  if (!bn || !pool) return false;
  float alpha;
  if (auto* leaky = dynamic_cast<LeakyReLU*>(layers_[i + 1].second.get()))
    alpha = leaky->alpha();
  else if (dynamic_cast<ReLU*>(layers_[i + 1].second.get()))
    alpha = 0.0f;
  else
    return false;
  out = batchnorm_act_pool(x, bn->gamma, bn->beta, bn->running_mean, bn->running_var, bn->training(),
                           bn->momentum(), bn->eps(), alpha, pool->kernel(), pool->stride(), pool->pad());
  return true;
}

Tensor Sequential::forward(const Tensor& x) {
  Tensor h = x;
  for (size_t i = 0; i < layers_.size(); ++i) {
    Tensor fused;
    if (forward_fused(i, h, fused)) {
      h = fused;
      i += 2;
      continue;
    }
    h = layers_[i].second->forward(h);
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
