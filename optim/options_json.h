// Reading optimizer options from JSON (internal to optim/): every key must be known, every value a number
// (or a bool where the option is one), so a typo in a config is an error that names the key.
#pragma once
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <type_traits>

namespace facet::detail {

inline void check_known_keys(const nlohmann::json& j, const char* what,
                             std::initializer_list<const char*> known) {
  if (!j.is_object())
    throw std::invalid_argument(std::string(what) + " must be a JSON object, got " + j.dump());
  for (const auto& [key, value] : j.items()) {
    bool ok = false;
    std::string list;
    for (const char* k : known) {
      ok = ok || key == k;
      list += (list.empty() ? "" : ", ") + std::string(k);
    }
    if (!ok)
      throw std::invalid_argument(std::string(what) + ": unknown key \"" + key + "\" (known: " + list + ")");
  }
}

template <class T>
void read_option(const nlohmann::json& j, const char* what, const char* key, T& out) {
  if (!j.contains(key)) return;
  const nlohmann::json& v = j[key];
  constexpr bool is_bool = std::is_same_v<T, bool>, is_int = std::is_integral_v<T> && !is_bool;
  const bool ok = is_bool ? v.is_boolean() : is_int ? v.is_number_integer() : v.is_number();
  if (!ok)
    throw std::invalid_argument(std::string(what) + ": \"" + key + "\" must be " +
                                (is_bool  ? "a boolean"
                                 : is_int ? "an integer"
                                          : "a number") +
                                ", got " + v.dump());
  out = v.get<T>();
}

}  // namespace facet::detail
