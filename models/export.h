// Taking a model out of facet and weights in (docs/export.md):
//  - torch_named_tensors: a model's parameters and buffers under PyTorch's names. Every facet model is a trunk
//    (a Sequential) plus one Linear per head (BaseCNN, Levi-Hassner) or none (fcn2hot, tuple: the trunk's last
//    Linear holds every head). PyTorch's mirror of that (bench/peer/torch_train.py) is `self.trunk =
//    nn.Sequential(...)` with the same layers in the same order (activations, pools, flatten and dropout
//    included, so the indices agree) and `self.heads = nn.ModuleList(...)`: facet's "conv1.weight" (trunk layer 0)
//    is "trunk.0.weight", "bn1.running_var" is "trunk.1.running_var", the gender head's "gender.bias" is
//    "heads.1.bias". Layouts already agree: conv weight (out, in, kH, kW), linear weight (out, in).
//  - export_safetensors / import_safetensors: those tensors in a safetensors file with a "__metadata__" block
//    (model config, label scheme, input transform as JSON strings, facet's version); BatchNorm layers also get
//    PyTorch's "num_batches_tracked" (I64 scalar, 0: facet does not count) so load_state_dict(strict=True) accepts
//    the file. Import accepts PyTorch's names or facet's, refuses a missing, extra, misshapen or non-finite tensor
//    naming the file and the tensor, and ignores num_batches_tracked.
//  - export_onnx: models/export_onnx.cpp.
#pragma once
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "models/model.h"
#include "tensor/safetensors.h"

namespace facet {

struct PortableTensor {
  std::string facet_name;  // "conv1.weight": the checkpoint's name
  std::string torch_name;  // "trunk.0.weight": the name in PyTorch's state_dict
  Tensor tensor;
};

// Parameters and buffers of `model` in state_dict order (layer by layer: weight, bias, running_mean,
// running_var), under both names.
std::vector<PortableTensor> torch_named_tensors(Model& model);

// What a file needs beside the weights to rebuild and feed the model: `info` holds "model" (Model::config()),
// "scheme" and "transform" (as a facet checkpoint's metadata does).
std::map<std::string, std::string> export_metadata(const nlohmann::json& info);

void export_safetensors(Model& model, const nlohmann::json& info, const std::string& path);

// Copies the tensors of `file` into `model` (built from the file's or the user's config). Nothing is copied
// unless every tensor fits. Throws std::runtime_error naming file.path and the tensor.
void import_safetensors(const SafetensorsFile& file, Model& model);

// The facet version written into exported files ("0.1").
std::string facet_version();

// ONNX (models/export_onnx.cpp): the model in eval mode as an opset-17 graph. Input "image" (N, C, H, W) float32
// after the transform's resize/crop/scale (docs/export.md); the saved per-channel normalization is the graph's
// first two nodes (Sub mean, Div std). One output per head: "<head>" = softmax probabilities (N, classes), or the
// raw values for a regression head (tuple). BatchNormalization stays a node (not folded) so the weights in the
// graph are the checkpoint's, bit for bit. `info` as for export_metadata; its keys also go into the model's
// metadata_props.
void export_onnx(Model& model, const nlohmann::json& info, const std::string& path);
std::string encode_onnx(Model& model, const nlohmann::json& info);

}  // namespace facet
