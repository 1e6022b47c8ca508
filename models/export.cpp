#include "models/export.h"

#include <cmath>
#include <set>
#include <stdexcept>

#include "layers/batchnorm2d.h"

#ifndef FACET_VERSION
#define FACET_VERSION "0.1"
#endif

namespace facet {

std::string facet_version() { return FACET_VERSION; }

std::vector<PortableTensor> torch_named_tensors(Model& model) {
  Sequential& trunk = model.trunk();
  const std::vector<NamedTensor> trunk_params = trunk.parameters(), trunk_buffers = trunk.buffers();
  size_t ip = 0, ib = 0;
  std::vector<PortableTensor> out;
  // Sequential::parameters() lists layer 0's, then layer 1's, ... each prefixed "<layer name>.": the same
  // tensors the layer lists itself, so walking both in step pairs facet's name with the layer's index.
  auto take = [&](const std::vector<NamedTensor>& all, size_t& at, const NamedTensor& own, const std::string& prefix) {
    if (at >= all.size() || all[at].tensor.impl() != own.tensor.impl())
      throw std::logic_error("torch_named_tensors: the trunk's tensor list does not follow its layers");
    out.push_back({all[at++].name, prefix + own.name, own.tensor});
  };
  for (size_t i = 0; i < trunk.size(); ++i) {
    const std::string prefix = "trunk." + std::to_string(i) + ".";
    for (const auto& p : trunk[i].parameters()) take(trunk_params, ip, p, prefix);
    for (const auto& b : trunk[i].buffers()) take(trunk_buffers, ib, b, prefix);
  }
  const std::vector<NamedTensor> all = model.parameters();
  const auto& heads = model.heads();
  for (size_t h = 0; h < heads.size(); ++h)
    for (const char* part : {"weight", "bias"})
      for (const auto& p : all)
        if (p.name == heads[h].name + "." + part)
          out.push_back({p.name, "heads." + std::to_string(h) + "." + part, p.tensor});
  return out;
}

// The torch prefixes ("trunk.1.") of the trunk's BatchNorm layers: PyTorch saves num_batches_tracked there.
static std::vector<std::string> batchnorm_prefixes(Model& model) {
  std::vector<std::string> out;
  for (size_t i = 0; i < model.trunk().size(); ++i)
    if (dynamic_cast<BatchNorm2d*>(&model.trunk()[i])) out.push_back("trunk." + std::to_string(i) + ".");
  return out;
}

std::map<std::string, std::string> export_metadata(const nlohmann::json& info) {
  std::map<std::string, std::string> m;
  m["format"] = "pt";  // tells Hugging Face's loaders the names and layouts are PyTorch's
  m["facet_version"] = facet_version();
  m["model_kind"] = info.at("model").value("kind", "");
  for (const char* key : {"model", "scheme", "transform"})
    if (info.contains(key)) m[key] = info.at(key).dump();
  m["input"] = "NCHW float32 after the transform's resize, crop and scale; then (x - mean) / std per channel "
               "with the transform's normalization";
  return m;
}

void export_safetensors(Model& model, const nlohmann::json& info, const std::string& path) {
  std::vector<SafeTensor> out;
  for (const auto& t : torch_named_tensors(model)) {
    const Tensor host = t.tensor.to(Device::CPU);
    out.push_back(SafeTensor::f32(t.torch_name, host.shape(), host.data()));
  }
  const int64_t zero = 0;
  for (const auto& prefix : batchnorm_prefixes(model))
    out.push_back(SafeTensor::i64(prefix + "num_batches_tracked", {}, &zero));
  write_safetensors(path, out, export_metadata(info));
}

static std::string shape_text(const std::vector<int64_t>& s) {
  std::string t = "(";
  for (size_t i = 0; i < s.size(); ++i) t += (i ? ", " : "") + std::to_string(s[i]);
  return t + ")";
}

void import_safetensors(const SafetensorsFile& file, Model& model) {
  auto refuse = [&](const std::string& why) {
    return std::runtime_error("safetensors file '" + file.path + "': " + why);
  };
  const std::vector<PortableTensor> targets = torch_named_tensors(model);
  std::set<std::string> used;
  std::vector<std::vector<float>> values;
  for (const auto& t : targets) {
    const SafeTensor* s = file.find(t.torch_name);
    if (!s) s = file.find(t.facet_name);
    if (!s)
      throw refuse("no tensor '" + t.torch_name + "' (facet's '" + t.facet_name + "', shape " +
                   shape_text(t.tensor.shape()) + ") that the " + model.kind() +
                   " model needs; was the file saved from the same architecture (its layer order decides the "
                   "indices)?");
    used.insert(s->name);
    if (s->dtype != "F32" && s->dtype != "F64" && s->dtype != "F16" && s->dtype != "BF16")
      throw refuse("tensor '" + s->name + "' has dtype " + s->dtype + "; weights must be floating point");
    if (s->shape != std::vector<int64_t>(t.tensor.shape().begin(), t.tensor.shape().end()))
      throw refuse("tensor '" + s->name + "' has shape " + shape_text(s->shape) + ", the " + model.kind() +
                   " model's '" + t.facet_name + "' is " + shape_text(t.tensor.shape()) +
                   " (another input size, channel count, layer width or head?)");
    values.push_back(s->to_float());
    for (size_t i = 0; i < values.back().size(); ++i)
      if (!std::isfinite(values.back()[i]))
        throw refuse("tensor '" + s->name + "' holds a non-finite value at element " + std::to_string(i));
  }
  for (const auto& s : file.tensors) {
    const bool counter = s.name.size() > 20 && s.name.ends_with(".num_batches_tracked");
    if (!used.count(s.name) && !counter)
      throw refuse("tensor '" + s.name + "' has no place in the " + model.kind() +
                   " model (its tensors are named like '" + targets.front().torch_name + "')");
  }
  for (size_t i = 0; i < targets.size(); ++i)
    Tensor(targets[i].tensor).copy_from(Tensor::from_vector(values[i], targets[i].tensor.shape()));
}

}  // namespace facet
