// make_model: config -> model. The kind names are what `facet train --model` accepts.
#include "models/basecnn.h"
#include "models/config_util.h"
#include "models/levi_hassner.h"
#include "models/mlp_models.h"

namespace facet {

std::vector<Head> config_heads(const nlohmann::json& c, const std::vector<Head>& fallback) {
  if (!c.contains("heads")) return fallback;
  std::vector<Head> heads;
  for (auto& h : c.at("heads")) {
    if (!h.contains("name") || !h.contains("classes"))
      throw std::invalid_argument("model config: each entry of 'heads' needs 'name' and 'classes': " + h.dump());
    Head head{h.at("name").get<std::string>(), h.at("classes").get<int>(), false, h.value("weight", 1.0f)};
    if (head.outputs < 2) throw std::invalid_argument("model config: head '" + head.name + "' needs at least 2 classes");
    heads.push_back(head);
  }
  if (heads.empty()) throw std::invalid_argument("model config: 'heads' is empty");
  return heads;
}

std::unique_ptr<Model> make_model(const nlohmann::json& config, uint64_t seed) {
  validate_model_config(config);  // sizes, widths and parameter count before any allocation
  std::string kind = config.value("kind", std::string());
  if (kind == "basecnn") return std::make_unique<BaseCNN>(config, seed);
  if (kind == "fcn2hot") return std::make_unique<FCN2Hot>(config, seed);
  if (kind == "tuple") return std::make_unique<TupleModel>(config, seed);
  if (kind == "levihassner") return std::make_unique<LeviHassner>(config, seed);
  throw std::invalid_argument("model config: kind '" + kind + "' is not one of basecnn, fcn2hot, tuple, levihassner");
}

}  // namespace facet
