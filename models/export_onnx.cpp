// ONNX export: the protobuf wire format written by hand (docs/export.md says why: about 60 lines here against a
// libprotobuf dependency plus onnx.proto compiled at build time, and facet writes ONNX, never reads it).
//
// Wire format (protobuf encoding): a message is a sequence of fields, each a key varint (field_number << 3 |
// wire_type) then the value: wire type 0 a varint (int64, int32, enum; negative numbers as their 10-byte two's
// complement), 2 a length-delimited byte string (strings, bytes, nested messages, packed arrays), 5 four little-
// endian bytes (float). Repeated fields repeat the key. Field numbers are onnx.proto's (ONNX 1.12+, IR version 8).
#include <cstring>
#include <stdexcept>
#include <string_view>
#include <unordered_map>

#include "data/io/atomic_file.h"
#include "layers/activation.h"
#include "layers/batchnorm2d.h"
#include "layers/conv2d.h"
#include "layers/dropout.h"
#include "layers/linear.h"
#include "layers/maxpool2d.h"
#include "models/export.h"

namespace facet {

namespace {

constexpr int64_t kIrVersion = 8;  // ONNX 1.10+, the IR version of opset 15-17
constexpr int64_t kOpset = 17;

class Pb {
 public:
  std::string bytes;
  Pb& i64(int field, int64_t v) {
    key(field, 0);
    varint(uint64_t(v));
    return *this;
  }
  Pb& str(int field, std::string_view s) {
    key(field, 2);
    varint(s.size());
    bytes += s;
    return *this;
  }
  Pb& msg(int field, const Pb& m) { return str(field, m.bytes); }
  Pb& f32(int field, float v) {
    key(field, 5);
    char b[4];
    std::memcpy(b, &v, 4);  // little-endian host (static_assert in tensor/safetensors.cpp)
    bytes.append(b, 4);
    return *this;
  }

 private:
  void varint(uint64_t v) {
    for (; v >= 0x80; v >>= 7) bytes += char(uint8_t(v) | 0x80);
    bytes += char(v);
  }
  void key(int field, int wire) { varint(uint64_t(field) << 3 | uint64_t(wire)); }
};

// onnx.proto field numbers and enums used below.
enum : int { kFloat = 1, kInt64 = 7 };                        // TensorProto.DataType
enum : int { kAttrFloat = 1, kAttrInt = 2, kAttrInts = 7 };  // AttributeProto.AttributeType

Pb attr_int(const char* name, int64_t v) { return Pb().str(1, name).i64(20, kAttrInt).i64(3, v); }
Pb attr_float(const char* name, float v) { return Pb().str(1, name).i64(20, kAttrFloat).f32(2, v); }
Pb attr_ints(const char* name, const std::vector<int64_t>& v) {
  Pb a;
  a.str(1, name).i64(20, kAttrInts);
  for (int64_t x : v) a.i64(8, x);
  return a;
}

// Builds the GraphProto: nodes in order, initializers, the value names.
class Graph {
 public:
  // A node with one output, named after the node; returns the output's name.
  std::string node(const std::string& op, const std::string& name, const std::vector<std::string>& inputs,
                   const std::vector<Pb>& attrs = {}, std::string output = "") {
    if (output.empty()) output = name;
    Pb n;
    for (const auto& in : inputs) n.str(1, in);
    n.str(2, output).str(3, name).str(4, op);
    for (const auto& a : attrs) n.msg(5, a);
    graph_.msg(1, n);
    return output;
  }
  std::string init(const std::string& name, const std::vector<int64_t>& dims, const float* v, int64_t n) {
    return tensor(name, dims, kFloat, v, size_t(n) * 4);
  }
  std::string init_i64(const std::string& name, const std::vector<int64_t>& v) {
    return tensor(name, {int64_t(v.size())}, kInt64, v.data(), v.size() * 8);
  }
  // ValueInfoProto of a float tensor; dims < 0 are the symbolic batch "N".
  static Pb value(const std::string& name, const std::vector<int64_t>& dims) {
    Pb shape;
    for (int64_t d : dims) shape.msg(1, d < 0 ? Pb().str(2, "N") : Pb().i64(1, d));
    Pb tensor_type;
    tensor_type.i64(1, kFloat).msg(2, shape);
    return Pb().str(1, name).msg(2, Pb().msg(1, tensor_type));
  }
  void input(const std::string& name, const std::vector<int64_t>& dims) { inputs_.push_back(value(name, dims)); }
  void output(const std::string& name, const std::vector<int64_t>& dims) { outputs_.push_back(value(name, dims)); }
  Pb finish(const std::string& name) {
    Pb g = graph_;
    g.str(2, name);
    for (const auto& t : inits_) g.msg(5, t);
    for (const auto& v : inputs_) g.msg(11, v);
    for (const auto& v : outputs_) g.msg(12, v);
    return g;
  }

 private:
  std::string tensor(const std::string& name, const std::vector<int64_t>& dims, int type, const void* v, size_t n) {
    Pb t;
    for (int64_t d : dims) t.i64(1, d);
    t.i64(2, type).str(8, name).str(9, std::string_view(static_cast<const char*>(v), n));  // raw_data, little-endian
    inits_.push_back(t);
    return name;
  }
  Pb graph_;
  std::vector<Pb> inits_, inputs_, outputs_;
};

// Adds a parameter as an initializer under its PyTorch name; returns that name.
std::string param(Graph& g, const std::unordered_map<const void*, std::string>& names, const Tensor& t) {
  const Tensor host = t.to(Device::CPU);
  return g.init(names.at(t.impl()), host.shape(), host.data(), host.numel());
}

// One trunk layer as ONNX nodes on `x`; returns the output's name (x itself for dropout, an identity in eval).
std::string layer_nodes(Graph& g, Module& m, const std::string& id, const std::string& x,
                        const std::unordered_map<const void*, std::string>& names) {
  if (auto* c = dynamic_cast<Conv2d*>(&m)) {
    const int64_t k = c->weight.size(2), p = c->pad(), s = c->stride();
    std::vector<std::string> in{x, param(g, names, c->weight)};
    if (c->bias.defined()) in.push_back(param(g, names, c->bias));
    return g.node("Conv", id, in, {attr_ints("kernel_shape", {k, k}), attr_ints("strides", {s, s}),
                                   attr_ints("pads", {p, p, p, p})});
  }
  if (auto* b = dynamic_cast<BatchNorm2d*>(&m))
    return g.node("BatchNormalization", id,
                  {x, param(g, names, b->gamma), param(g, names, b->beta), param(g, names, b->running_mean),
                   param(g, names, b->running_var)},
                  {attr_float("epsilon", b->eps())});
  if (auto* l = dynamic_cast<LeakyReLU*>(&m)) return g.node("LeakyRelu", id, {x}, {attr_float("alpha", l->alpha())});
  if (dynamic_cast<ReLU*>(&m)) return g.node("Relu", id, {x});
  if (auto* p = dynamic_cast<MaxPool2d*>(&m)) {
    const int64_t k = p->kernel(), s = p->stride(), pad = p->pad();
    return g.node("MaxPool", id, {x}, {attr_ints("kernel_shape", {k, k}), attr_ints("strides", {s, s}),
                                       attr_ints("pads", {pad, pad, pad, pad})});
  }
  if (dynamic_cast<Flatten*>(&m)) return g.node("Flatten", id, {x}, {attr_int("axis", 1)});
  if (dynamic_cast<Dropout*>(&m)) return x;
  if (auto* l = dynamic_cast<Linear*>(&m)) {
    std::vector<std::string> in{x, param(g, names, l->weight)};
    if (l->bias.defined()) in.push_back(param(g, names, l->bias));
    return g.node("Gemm", id, in, {attr_int("transB", 1)});  // x (N, in) * W^T (in, out) + b
  }
  throw std::runtime_error("onnx export: layer " + id + " (" + m.describe() + ") has no ONNX translation");
}

// The transform's normalization as Sub and Div nodes: (x - mean) / std, per channel (or one value for all).
std::string normalization_nodes(Graph& g, const nlohmann::json& transform, int channels, const std::string& x) {
  if (!transform.contains("normalization")) return x;
  const auto mean = transform["normalization"].value("mean", std::vector<float>{});
  const auto std = transform["normalization"].value("std", std::vector<float>{});
  if (mean.empty()) return x;
  if (mean.size() != std.size() || (int(mean.size()) != channels && mean.size() != 1))
    throw std::runtime_error("onnx export: the transform's normalization has " + std::to_string(mean.size()) +
                             " means and " + std::to_string(std.size()) + " deviations for " +
                             std::to_string(channels) + " channels");
  const std::vector<int64_t> dims{1, int64_t(mean.size()), 1, 1};
  const std::string centred = g.node("Sub", "normalize_sub", {x, g.init("normalize.mean", dims, mean.data(), int64_t(mean.size()))});
  return g.node("Div", "normalize_div", {centred, g.init("normalize.std", dims, std.data(), int64_t(std.size()))});
}

}  // namespace

std::string encode_onnx(Model& model, const nlohmann::json& info) {
  model.set_training(false);
  std::unordered_map<const void*, std::string> names;  // TensorImpl -> PyTorch name (initializer names)
  for (const auto& t : torch_named_tensors(model)) names[t.tensor.impl()] = t.torch_name;
  const Shape in = model.input_shape(1);  // (1, C, H, W)
  Graph g;
  g.input("image", {-1, in[1], in[2], in[3]});
  std::string x = normalization_nodes(g, info.value("transform", nlohmann::json::object()), int(in[1]), "image");
  Sequential& trunk = model.trunk();
  for (size_t i = 0; i < trunk.size(); ++i) x = layer_nodes(g, trunk[i], "trunk." + std::to_string(i), x, names);

  // Heads: one Linear each on the trunk's features, or consecutive column slices of the trunk's output.
  const std::vector<NamedTensor> params = model.parameters();
  auto find = [&](const std::string& n) -> const Tensor* {
    for (const auto& p : params)
      if (p.name == n) return &p.tensor;
    return nullptr;
  };
  const auto& heads = model.heads();
  const int64_t width = trunk.output_shape(model.input_shape(1))[1];
  int64_t column = 0;
  for (size_t h = 0; h < heads.size(); ++h) {
    const std::string id = "heads." + std::to_string(h);
    std::string y;
    if (const Tensor* w = find(heads[h].name + ".weight")) {
      std::vector<std::string> inputs{x, param(g, names, *w)};
      if (const Tensor* b = find(heads[h].name + ".bias")) inputs.push_back(param(g, names, *b));
      y = g.node("Gemm", id, inputs, {attr_int("transB", 1)});
    } else if (column == 0 && heads[h].outputs == width) {
      y = x;
    } else {
      y = g.node("Slice", id + ".slice",
                 {x, g.init_i64(id + ".starts", {column}), g.init_i64(id + ".ends", {column + heads[h].outputs}),
                  g.init_i64(id + ".axes", {1})});
      column += heads[h].outputs;
    }
    if (heads[h].regression) g.node("Identity", id + ".out", {y}, {}, heads[h].name);
    else g.node("Softmax", id + ".softmax", {y}, {attr_int("axis", 1)}, heads[h].name);
    g.output(heads[h].name, {-1, heads[h].outputs});
  }

  Pb m;
  m.i64(1, kIrVersion).str(2, "facet").str(3, facet_version());
  m.str(6, "facet " + model.kind() + " (docs/export.md): input 'image' (N, C, H, W) float32 after resize, crop and "
           "scale; normalization is inside the graph; outputs: one per head, softmax probabilities (raw values "
           "for a regression head)");
  m.msg(7, g.finish("facet_" + model.kind()));
  m.msg(8, Pb().str(1, "").i64(2, kOpset));
  for (const auto& [k, v] : export_metadata(info)) m.msg(14, Pb().str(1, k).str(2, v));
  return m.bytes;
}

void export_onnx(Model& model, const nlohmann::json& info, const std::string& path) {
  io::write_file_atomic(path, encode_onnx(model, info));
}

}  // namespace facet
