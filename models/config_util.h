// Reading model configs: a missing key takes its default, a wrong type or value is an error naming the key.
#pragma once
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

// "heads": [{"name": "age", "classes": 10, "weight": 1.0}, ...]
std::vector<Head> config_heads(const nlohmann::json& c, const std::vector<Head>& fallback);

}  // namespace facet
