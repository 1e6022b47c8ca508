#include "models/training/run_dir.h"

#include <fstream>
#include <stdexcept>

namespace facet {

nlohmann::json RunDir::read_config() const {
  const std::string path = config();
  std::ifstream f(path);
  if (!f) throw std::runtime_error("cannot resume: " + path + " does not exist (is '" + path_ + "' a run directory?)");
  try {
    nlohmann::json j;
    f >> j;
    return j;
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error("cannot resume: " + path + " is not a facet run config: " + e.what());
  }
}

}  // namespace facet
