// models/export.h: PyTorch names of a model's tensors, and importing safetensors weights: a match copies every
// value; a missing, misshapen, extra or non-finite tensor is refused naming the file and the tensor, and copies
// nothing.
#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>

#include "models/export.h"

using namespace facet;
using Catch::Matchers::Contains;

namespace {

nlohmann::json tiny_basecnn() {
  return {{"kind", "basecnn"}, {"size", 16}, {"conv_channels", {4, 8}}, {"dense", {16}},
          {"heads", {{{"name", "age"}, {"classes", 3}}, {{"name", "gender"}, {"classes", 2}}}}};
}

SafetensorsFile exported(Model& m) {
  const std::string path = (std::filesystem::temp_directory_path() / "facet_test_export.safetensors").string();
  export_safetensors(m, {{"model", m.config()}, {"scheme", nlohmann::json::object()}, {"transform", nlohmann::json::object()}}, path);
  SafetensorsFile f = read_safetensors(path);
  std::filesystem::remove(path);
  f.path = "w.safetensors";
  return f;
}

SafeTensor* find(SafetensorsFile& f, const std::string& name) {
  for (auto& t : f.tensors)
    if (t.name == name) return &t;
  FAIL("no tensor " << name);
  return nullptr;
}

}  // namespace

TEST_CASE("export: BaseCNN's tensors get torch_train.py's names", "[export]") {
  auto m = make_model(tiny_basecnn(), 1);
  std::vector<std::string> names;
  for (const auto& t : torch_named_tensors(*m)) names.push_back(t.facet_name + "=" + t.torch_name);
  // trunk: conv1 bn1 act1 pool1 conv2 bn2 act2 pool2 flatten fc1 fcact1 drop1 -> indices 0, 1, 4, 5, 9
  CHECK(names == std::vector<std::string>{
                     "conv1.weight=trunk.0.weight", "conv1.bias=trunk.0.bias", "bn1.weight=trunk.1.weight",
                     "bn1.bias=trunk.1.bias", "bn1.running_mean=trunk.1.running_mean",
                     "bn1.running_var=trunk.1.running_var", "conv2.weight=trunk.4.weight", "conv2.bias=trunk.4.bias",
                     "bn2.weight=trunk.5.weight", "bn2.bias=trunk.5.bias", "bn2.running_mean=trunk.5.running_mean",
                     "bn2.running_var=trunk.5.running_var", "fc1.weight=trunk.9.weight", "fc1.bias=trunk.9.bias",
                     "age.weight=heads.0.weight", "age.bias=heads.0.bias", "gender.weight=heads.1.weight",
                     "gender.bias=heads.1.bias"});
}

TEST_CASE("export: safetensors weights import into a fresh model exactly", "[export]") {
  auto a = make_model(tiny_basecnn(), 1), b = make_model(tiny_basecnn(), 2);
  SafetensorsFile f = exported(*a);
  CHECK(find(f, "trunk.1.num_batches_tracked")->dtype == "I64");
  import_safetensors(f, *b);
  const auto pa = torch_named_tensors(*a), pb = torch_named_tensors(*b);
  for (size_t i = 0; i < pa.size(); ++i) CHECK(pa[i].tensor.to_vector() == pb[i].tensor.to_vector());
}

TEST_CASE("export: a bad weight file is refused naming file and tensor, and nothing is copied", "[export]") {
  auto a = make_model(tiny_basecnn(), 1);
  auto target = make_model(tiny_basecnn(), 2);
  const std::vector<float> before = torch_named_tensors(*target)[0].tensor.to_vector();

  SafetensorsFile missing = exported(*a);
  missing.tensors.erase(missing.tensors.begin() + 3);
  const std::string gone = exported(*a).tensors[3].name;
  CHECK_THROWS_WITH(import_safetensors(missing, *target), Contains("w.safetensors") && Contains("'" + gone + "'"));

  SafetensorsFile shape = exported(*a);
  find(shape, "heads.0.weight")->shape = {16, 3};
  CHECK_THROWS_WITH(import_safetensors(shape, *target), Contains("'heads.0.weight'") && Contains("(16, 3)"));

  SafetensorsFile extra = exported(*a);
  extra.tensors.push_back(extra.tensors.back());
  extra.tensors.back().name = "trunk.99.weight";
  CHECK_THROWS_WITH(import_safetensors(extra, *target), Contains("'trunk.99.weight'") && Contains("no place"));

  SafetensorsFile nan = exported(*a);
  const float bad = std::nanf("");
  std::memcpy(find(nan, "heads.1.bias")->bytes.data() + 4, &bad, 4);
  CHECK_THROWS_WITH(import_safetensors(nan, *target), Contains("'heads.1.bias'") && Contains("element 1"));

  CHECK(torch_named_tensors(*target)[0].tensor.to_vector() == before);  // every refusal left the model as it was
}

TEST_CASE("export: ONNX bytes start with the IR version and name the opset", "[export]") {
  auto m = make_model(tiny_basecnn(), 1);
  const std::string onnx = encode_onnx(*m, {{"model", m->config()}, {"transform", {{"normalization", {{"mean", {0.5, 0.5, 0.5}}, {"std", {0.25, 0.25, 0.25}}}}}}});
  REQUIRE(onnx.size() > 2);
  CHECK(onnx[0] == 0x08);  // field 1 (ir_version), varint
  CHECK(onnx[1] == 8);
  CHECK(onnx.find("BatchNormalization") != std::string::npos);
  CHECK(onnx.find("normalize.mean") != std::string::npos);
  // A normalization that does not fit the channels is refused rather than broadcast wrongly.
  CHECK_THROWS_WITH(encode_onnx(*m, {{"model", m->config()}, {"transform", {{"normalization", {{"mean", {0.5, 0.5}}, {"std", {1, 1}}}}}}}),
                    Contains("3 channels"));
}
