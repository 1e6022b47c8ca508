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
  // Drop probabilities; 0.2 / 0.5 are the study's TFLearn keep probabilities 0.8 / 0.5.
  float p_first = config_get(config, "dropout_first", 0.2f), p_rest = config_get(config, "dropout", 0.5f);
  for (float p : {p_first, p_rest})
    if (!(p >= 0 && p < 1))
      throw std::invalid_argument("model config: dropout " + std::to_string(p) +
                                  " is not a drop probability in [0, 1) (--dropout / --dropout-first)");
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

// Fills sample b of every attribute from one reading per attribute.
static void put(Prediction& p, size_t b, std::initializer_list<Reading> readings) {
  size_t a = 0;
  for (const Reading& r : readings) {
    p.classes[a][b] = r.cls;
    p.confidence[a][b] = r.confidence;
    p.defined[a][b] = r.defined;
    ++a;
  }
}

static Prediction two_attributes(int B) {
  const size_t n = size_t(B);
  return {std::vector<std::vector<int32_t>>(2, std::vector<int32_t>(n)),
          std::vector<std::vector<float>>(2, std::vector<float>(n)),
          std::vector<std::vector<uint8_t>>(2, std::vector<uint8_t>(n))};
}

Prediction FCN2Hot::predict(const std::vector<Tensor>& outputs) const {
  auto age = softmax(outputs[0]).to_vector(), gender = softmax(outputs[1]).to_vector();
  int B = int(outputs[0].size(0));
  Prediction p = two_attributes(B);
  std::vector<float> v(size_t(age_classes_ + 2));
  for (int b = 0; b < B; ++b) {
    std::copy_n(age.begin() + size_t(b) * age_classes_, age_classes_, v.begin());
    std::copy_n(gender.begin() + size_t(b) * 2, 2, v.begin() + age_classes_);
    AgeGender r = interpret_2hot(v.data(), age_classes_, threshold_);
    put(p, size_t(b), {r.age, r.gender});
  }
  return p;
}

void FCN2Hot::set_reading(const nlohmann::json& reading) {
  for (const auto& [key, value] : reading.items()) {
    if (key != "threshold")
      throw std::invalid_argument("model fcn2hot has no reading option '" + key + "' (--tuple-read and --margin "
                                  "apply to tuple; fcn2hot takes --threshold)");
    threshold_ = value.get<float>();
    config_["threshold"] = threshold_;
  }
}

TupleModel::TupleModel(const nlohmann::json& config, uint64_t seed) {
  config_ = config;
  config_["kind"] = "tuple";
  int inputs = flat_inputs(config_);
  auto hidden = config_get(config, "hidden", std::vector<int>{32, 32, 16, 16, 10});
  age_classes_ = config_get(config, "age_classes", 8);
  margin_ = config_get(config, "margin", 0.5f);
  read_ = "round";
  if (config.contains("read")) set_reading({{"read", config_get(config, "read", std::string())}});
  if (config.contains("calibration")) {
    const auto& cal = config.at("calibration");
    try {
      int k = 0;
      for (const char* attr : {"age", "gender"}) {
        for (const auto& e : cal.at(attr)) {
          ClassRange g;
          if (!e.is_null()) g = {true, e.at(0).get<float>(), e.at(1).get<float>(), e.at(2).get<float>()};
          ranges_[k].push_back(g);
        }
        ++k;
      }
    } catch (const nlohmann::json::exception& e) {
      throw std::invalid_argument("model config: key 'calibration' is not {\"age\": [[lo, hi, centre] or null, "
                                  "...], \"gender\": [...]}: " + std::string(e.what()));
    }
    if (ranges_[0].size() != size_t(age_classes_) || ranges_[1].size() != 2)
      throw std::invalid_argument("model config: 'calibration' holds " + std::to_string(ranges_[0].size()) +
                                  " age and " + std::to_string(ranges_[1].size()) + " gender ranges for " +
                                  std::to_string(age_classes_) + " age classes and 2 genders");
  }
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
  Prediction p = two_attributes(B);
  const bool ranges = read_ == "calibrated" && calibrated();
  for (int b = 0; b < B; ++b) {
    const float age = v[size_t(2 * b)], gender = v[size_t(2 * b + 1)];
    if (ranges) {
      put(p, size_t(b), {read_calibrated(age, ranges_[0]), read_calibrated(gender, ranges_[1])});
    } else {
      AgeGender r = interpret_tuple(age, gender, age_classes_, margin_);
      put(p, size_t(b), {r.age, r.gender});
    }
  }
  return p;
}

void TupleModel::set_reading(const nlohmann::json& reading) {
  for (const auto& [key, value] : reading.items()) {
    if (key == "read") {
      const std::string r = value.get<std::string>();
      if (r != "round" && r != "calibrated")
        throw std::invalid_argument("--tuple-read '" + r + "': use round (nearest class, --margin) or calibrated "
                                    "(per-class ranges measured on the training faces)");
      read_ = r;
      config_["read"] = r;
    } else if (key == "margin") {
      margin_ = value.get<float>();
      config_["margin"] = margin_;
    } else {
      throw std::invalid_argument("model tuple has no reading option '" + key + "' (--threshold applies to fcn2hot; "
                                  "tuple takes --tuple-read and --margin)");
    }
  }
}

void TupleModel::calibrate(const std::vector<float>& outputs, const std::vector<std::vector<int32_t>>& labels) {
  nlohmann::json cal = nlohmann::json::object();
  const char* names[2] = {"age", "gender"};
  for (int k = 0; k < 2; ++k) {
    std::vector<float> x(labels.at(size_t(k)).size());
    for (size_t i = 0; i < x.size(); ++i) x[i] = outputs.at(2 * i + size_t(k));
    ranges_[k] = calibrate_ranges(x, labels[size_t(k)], k == 0 ? age_classes_ : 2, kCalibrationShare);
    nlohmann::json rows = nlohmann::json::array();
    for (const auto& g : ranges_[k]) rows.push_back(g.present ? nlohmann::json{g.lo, g.hi, g.centre} : nlohmann::json());
    cal[names[k]] = rows;
  }
  cal["share"] = kCalibrationShare;
  config_["calibration"] = cal;
}

}  // namespace facet
