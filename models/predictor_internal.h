// What facet's own tools use of the Predictor beyond its public API (models/predictor.h): the checkpoint
// loading it shares with `facet eval`, and the label scheme `facet predict` reads the truth of UTKFace-named
// files with. Not installed.
#pragma once
#include <string>
#include <vector>

#include "models/predictor.h"
#include "models/training/trainer.h"

namespace facet {

// Loads a trainer checkpoint and, when the user said what they expect (model_kind, labels; empty = anything),
// refuses one holding something else, naming both.
LoadedModel load_expected_model(const std::string& checkpoint, const std::string& model_kind,
                                const std::string& labels);
// Loads the members of an ensemble (one checkpoint: a single model) with load_expected_model and moves them
// to `device`; refuses, naming the checkpoint, a member whose heads or label scheme differ from the first's
// (its outputs would be averaged with classes that mean something else).
std::vector<LoadedModel> load_ensemble(const std::vector<std::string>& checkpoints,
                                       const std::string& model_kind, const std::string& labels,
                                       Device device);

struct PredictorAccess {
  static const data::LabelScheme& scheme(const Predictor& p);
  // [head of ModelInfo::heads] -> its task in scheme(), or -1.
  static const std::vector<int>& head_tasks(const Predictor& p);
};

}  // namespace facet
