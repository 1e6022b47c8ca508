#include "layers/sequential.h"

#include <cstdio>
#include <stdexcept>

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

Tensor Sequential::forward(const Tensor& x) {
  Tensor h = x;
  for (auto& [name, layer] : layers_) h = layer->forward(h);
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
