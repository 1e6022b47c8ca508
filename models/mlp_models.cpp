#include "models/mlp_models.h"

#include "layers/activation.h"
#include "layers/dropout.h"
#include "layers/linear.h"
#include "models/config_util.h"
#include "models/interpret.h"
#include "tensor/ops.h"
#include "tensor/rng.h"

namespace facet {

// flatten -> [linear -> relu -> dropout]* -> linear(outputs)
static void build_mlp(Sequential& net, int inputs, const std::vector<int>& hidden, int outputs, float p_first,
                      float p_rest, uint64_t seed, Rng& rng) {
  net.emplace<Flatten>("flatten");
  int in = inputs;
  for (size_t i = 0; i < hidden.size(); ++i) {
    std::string k = std::to_string(i + 1);
    net.emplace<Linear>("fc" + k, in, hidden[i], rng);
    net.emplace<ReLU>("act" + k);
    float p = i == 0 ? p_first : p_rest;
    if (p > 0) net.emplace<Dropout>("drop" + k, p, seed * 1000003 + i);
    in = hidden[i];
  }
  net.emplace<Linear>("out", in, outputs, rng);
}

static int flat_inputs(nlohmann::json& config) {
  int c = config_get(config, "channels", 3), s = config_get(config, "size", 32);
  config["channels"] = c;
  config["size"] = s;
  return c * s * s;
}

FCN2Hot::FCN2Hot(const nlohmann::json& config, uint64_t seed) {
  config_ = config;
  config_["kind"] = "fcn2hot";
  int inputs = flat_inputs(config_);
  auto hidden = config_get(config, "hidden", std::vector<int>{64, 32, 32, 16, 16});
  age_classes_ = config_get(config, "age_classes", 8);
  threshold_ = config_get(config, "threshold", 0.5f);
  float p_first = config_get(config, "dropout_first", 0.8f), p_rest = config_get(config, "dropout", 0.5f);
  config_["hidden"] = hidden;
  config_["age_classes"] = age_classes_;
  Rng rng(seed);
  build_mlp(trunk_, inputs, hidden, age_classes_ + 2, p_first, p_rest, seed, rng);
  heads_ = {{"age", age_classes_, false}, {"gender", 2, false}};
}

std::vector<Tensor> FCN2Hot::forward(const Tensor& x) {
  Tensor out = trunk_.forward(x);  // (B, age_classes + 2)
  return {slice_columns(out, 0, age_classes_), slice_columns(out, age_classes_, 2)};
}

Prediction FCN2Hot::predict(const std::vector<Tensor>& outputs) const {
  auto age = softmax(outputs[0]).to_vector(), gender = softmax(outputs[1]).to_vector();
  int B = int(outputs[0].size(0));
  Prediction p{std::vector<std::vector<int32_t>>(2, std::vector<int32_t>(size_t(B))),
               std::vector<std::vector<float>>(2, std::vector<float>(size_t(B)))};
  std::vector<float> v(size_t(age_classes_ + 2));
  for (int b = 0; b < B; ++b) {
    std::copy_n(age.begin() + size_t(b) * age_classes_, age_classes_, v.begin());
    std::copy_n(gender.begin() + size_t(b) * 2, 2, v.begin() + age_classes_);
    AgeGender r = interpret_2hot(v.data(), age_classes_, threshold_);
    p.classes[0][size_t(b)] = r.age;
    p.classes[1][size_t(b)] = r.gender;
    p.confidence[0][size_t(b)] = p.confidence[1][size_t(b)] = r.confidence;
  }
  return p;
}

TupleModel::TupleModel(const nlohmann::json& config, uint64_t seed) {
  config_ = config;
  config_["kind"] = "tuple";
  int inputs = flat_inputs(config_);
  auto hidden = config_get(config, "hidden", std::vector<int>{32, 32, 16, 16, 10});
  age_classes_ = config_get(config, "age_classes", 8);
  margin_ = config_get(config, "margin", 0.5f);
  float p = config_get(config, "dropout", 0.0f);
  config_["hidden"] = hidden;
  config_["age_classes"] = age_classes_;
  Rng rng(seed);
  build_mlp(trunk_, inputs, hidden, 2, p, p, seed, rng);
  heads_ = {{"tuple", 2, true}};
}

std::vector<Tensor> TupleModel::forward(const Tensor& x) { return {trunk_.forward(x)}; }

std::vector<Attribute> TupleModel::attributes() const { return {{"age", age_classes_}, {"gender", 2}}; }

Prediction TupleModel::predict(const std::vector<Tensor>& outputs) const {
  auto v = outputs[0].to_vector();
  int B = int(outputs[0].size(0));
  Prediction p{std::vector<std::vector<int32_t>>(2, std::vector<int32_t>(size_t(B))),
               std::vector<std::vector<float>>(2, std::vector<float>(size_t(B)))};
  for (int b = 0; b < B; ++b) {
    AgeGender r = interpret_tuple(v[size_t(2 * b)], v[size_t(2 * b + 1)], age_classes_, margin_);
    p.classes[0][size_t(b)] = r.age;
    p.classes[1][size_t(b)] = r.gender;
    p.confidence[0][size_t(b)] = p.confidence[1][size_t(b)] = r.confidence;
  }
  return p;
}

}  // namespace facet
