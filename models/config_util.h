// Reading model configs: a missing key takes its default, a wrong type or value is an error naming the key.
#pragma once
#include <cstdint>
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

#include "models/model.h"

namespace facet {

template <class T>
T config_get(const nlohmann::json& c, const char* key, const T& fallback) {
  if (!c.contains(key)) return fallback;
  try {
    return c.at(key).get<T>();
  } catch (const nlohmann::json::exception&) {
    throw std::invalid_argument(std::string("model config: key '") + key + "' has the wrong type: " + c.at(key).dump());
  }
}

// Bounds of a model description. kMaxModelParameters: 2^28 floats = 1 GiB of weights (3 GiB with Adam's
// moments), about 30x the largest model facet trains (Levi-Hassner at 227x227: about 9 M); beyond it a
// description is a corrupt or hostile file, refused before anything is allocated.
constexpr int64_t kMaxModelParameters = int64_t(1) << 28;
constexpr int kMaxModelWidth = 65536, kMaxModelLayers = 64, kMaxModelSide = 4096;

// Every size, width, probability and the parameter count of `config`, before anything is built; throws
// std::invalid_argument naming the field (and the `facet train` flag that sets it). make_model calls it.
void validate_model_config(const nlohmann::json& config);

// "heads": [{"name": "age", "classes": 10, "weight": 1.0}, ...]
std::vector<Head> config_heads(const nlohmann::json& c, const std::vector<Head>& fallback);

}  // namespace facet
