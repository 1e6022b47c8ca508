#include "models/training/trainer_spec.h"

namespace facet {

NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(DataSpec, path, format, labels, duplicates, adience_images, split_file,
                                                val, test, fold, subject_exclusive, max_per_class, balance, limit, size,
                                                channels, resize, random_crop, flip, equalize, ycbcr, scale, normalize,
                                                workers)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(OptimSpec, optimizer, lr, momentum, nesterov, weight_decay, schedule,
                                                step_size, gamma, min_lr, warmup, max_norm, clip, label_smoothing)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(RunSpec, epochs, batch, seed, patience, best_metric, tta, threads, out,
                                                test, device, checkpoint_every)

nlohmann::json to_json(const TrainSpec& s) {
  return {{"data", s.data}, {"model", s.model}, {"optim", s.optim}, {"run", s.run}};
}

TrainSpec train_spec_from_json(const nlohmann::json& j) {
  TrainSpec s;
  if (j.contains("data")) s.data = j.at("data").get<DataSpec>();
  if (j.contains("model")) s.model = j.at("model");
  if (j.contains("optim")) s.optim = j.at("optim").get<OptimSpec>();
  if (j.contains("run")) s.run = j.at("run").get<RunSpec>();
  return s;
}

}  // namespace facet
