// validate_model_config: a model description is checked whole before make_model allocates a single weight, so
// a zero-width layer or a CRC-valid checkpoint claiming 100000 channels is refused with its field named instead
// of ending in "training diverged" or a bare std::bad_alloc halfway through building the model.
#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include "models/config_util.h"

namespace facet {

namespace {

using nlohmann::json;

[[noreturn]] void refuse(const std::string& what) { throw std::invalid_argument("model config: " + what); }

int int_in(const json& c, const char* key, int fallback, int lo, int hi, const char* flag) {
  const int v = config_get(c, key, fallback);
  if (v < lo || v > hi)
    refuse(std::string("'") + key + "' is " + std::to_string(v) + ", outside [" + std::to_string(lo) + ", " +
           std::to_string(hi) + "]" + (*flag ? std::string(" (") + flag + ")" : std::string()));
  return v;
}

// Layer widths: each in [1, kMaxModelWidth] (a 0-wide layer passes nothing on, so the loss cannot fall).
std::vector<int> widths_in(const json& c, const char* key, const std::vector<int>& fallback, const char* flag) {
  const auto w = config_get(c, key, fallback);
  if (w.size() > size_t(kMaxModelLayers))
    refuse(std::string("'") + key + "' lists " + std::to_string(w.size()) + " layers, over " +
           std::to_string(kMaxModelLayers) + " (" + flag + ")");
  for (size_t i = 0; i < w.size(); ++i)
    if (w[i] < 1 || w[i] > kMaxModelWidth)
      refuse(std::string("'") + key + "'[" + std::to_string(i) + "] is " + std::to_string(w[i]) + ": layer " +
             std::to_string(i + 1) + " of " + flag + " needs a width in [1, " + std::to_string(kMaxModelWidth) + "]");
  return w;
}

void probability(const json& c, const char* key, bool one_allowed, const char* flag) {
  if (!c.contains(key)) return;
  const float p = config_get(c, key, 0.0f);
  if (!(p >= 0 && (one_allowed ? p <= 1 : p < 1)))
    refuse(std::string("'") + key + "' is " + c.at(key).dump() + ", outside [0, 1" + (one_allowed ? "]" : ")") +
           " (" + flag + ")");
}

// Weights of a stack of dense layers in -> w[0] -> ... -> out (weights and biases), in double: no overflow.
double dense_parameters(double in, const std::vector<int>& w, double out) {
  double n = 0;
  for (int x : w) n += in * x + x, in = x;
  return n + in * out + out;
}

double head_outputs(const json& c, double fallback) {
  if (!c.contains("heads")) return fallback;
  double n = 0;
  for (const auto& h : config_heads(c, {})) {
    if (h.outputs > kMaxModelWidth)
      refuse("head '" + h.name + "' has " + std::to_string(h.outputs) + " classes, over " +
             std::to_string(kMaxModelWidth));
    n += h.outputs;
  }
  return n;
}

// Side after `k`x`k` windows at `stride` with `pad` (conv or pool): floor((s + 2 pad - k) / stride) + 1.
int window(int s, int k, int stride, int pad) { return s + 2 * pad < k ? 0 : (s + 2 * pad - k) / stride + 1; }

double parameters_of(const std::string& kind, const json& c) {
  const int channels = int_in(c, "channels", 3, 1, 4, "--gray");
  const int size = int_in(c, "size", kind == "fcn2hot" || kind == "tuple" ? 32 : 64, 1, kMaxModelSide, "--size");
  if (kind == "basecnn") {
    const auto conv = widths_in(c, "conv_channels", {32, 32, 64, 64, 128, 128}, "--conv-channels");
    const auto dense = widths_in(c, "dense", {256, 128}, "--dense");
    double n = 0, in = channels, side = size;
    for (int w : conv) n += 9.0 * in * w + 3.0 * w, in = w, side = std::floor(side / 2);  // conv + bias + BN
    return n + dense_parameters(in * side * side, dense, head_outputs(c, 17));
  }
  if (kind == "levihassner") {
    int s = window(window(size, 7, 4, 0), 3, 2, 0);  // conv1, pool1
    s = window(window(s, 5, 1, 2), 3, 2, 0);         // conv2, pool2
    s = window(window(s, 3, 1, 1), 3, 2, 0);         // conv3, pool3
    const double convs = 49.0 * channels * 96 + 96 + 25.0 * 96 * 256 + 256 + 9.0 * 256 * 384 + 384;
    return convs + dense_parameters(384.0 * s * s, {512, 512}, head_outputs(c, 10));
  }
  const int age_classes = int_in(c, "age_classes", 8, 2, 1000, "--labels");
  const auto hidden = widths_in(c, "hidden", kind == "fcn2hot" ? std::vector<int>{64, 32, 32, 16, 16}
                                                                : std::vector<int>{32, 32, 16, 16, 10},
                                "--hidden");
  return dense_parameters(double(channels) * size * size, hidden, kind == "fcn2hot" ? age_classes + 2 : 2);
}

}  // namespace

void validate_model_config(const json& c) {
  if (!c.is_object()) refuse("expected a JSON object, got " + c.dump());
  const std::string kind = config_get(c, "kind", std::string());
  if (kind != "basecnn" && kind != "levihassner" && kind != "fcn2hot" && kind != "tuple") return;  // make_model says
  probability(c, "dropout", false, "--dropout");
  probability(c, "dropout_first", false, "--dropout-first");
  probability(c, "threshold", true, "--threshold");
  probability(c, "leaky_alpha", true, "--leaky-alpha");
  if (c.contains("margin") && !(config_get(c, "margin", 0.0f) >= 0 && std::isfinite(config_get(c, "margin", 0.0f))))
    refuse("'margin' is " + c.at("margin").dump() + ": must be finite and >= 0 (--margin)");
  const double n = parameters_of(kind, c);
  if (n > double(kMaxModelParameters))
    refuse("the " + kind + " it describes has about " + std::to_string(int64_t(n)) + " parameters, over facet's " +
           "limit of " + std::to_string(kMaxModelParameters) + " (narrower layers or a smaller --size)");
}

}  // namespace facet
