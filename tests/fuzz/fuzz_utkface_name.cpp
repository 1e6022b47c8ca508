// libFuzzer target: parse_utkface_name (data/utkface.cpp) on arbitrary names.
// Contract under test: never throws; every label it returns is in range; a flawless name is usable.
#include <cstdlib>
#include <string>

#include "data/readers.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string name(reinterpret_cast<const char*>(data), size);
  const facet::data::UtkName r = facet::data::parse_utkface_name(name);
  if (r.age < -1 || r.age > facet::data::kMaxAge || r.gender < -1 || r.gender > 1 || r.race < -1 || r.race > 4)
    std::abort();
  if (r.image && r.flaws.empty() && !r.usable()) std::abort();
  return 0;
}
