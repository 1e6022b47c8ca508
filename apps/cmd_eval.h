// `facet eval`: score a checkpoint on a data set (test split by default) with every metric, as text, JSON and PNG
// heat maps.
#pragma once
#include <CLI/CLI.hpp>
#include <iosfwd>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "models/training/trainer.h"

void add_eval_commands(CLI::App& app);

// What `facet eval` is asked (its flags); several checkpoints make an ensemble.
struct EvalRequest {
  std::vector<std::string> checkpoints;
  std::string data, split, set, out, model, labels, device = "cpu";
  // The reject rule / reading (Model::set_reading); -1 or empty: as the checkpoint was trained.
  float threshold = -1, margin = -1;
  std::string tuple_read;
  bool tta = false;
  int workers = 2, threads = 0, batch = 128;
};
// Scores the checkpoint, or the ensemble of several (the mean of their outputs), as `facet eval` does: prints
// the tables to `os`, writes <out>.json, .txt and the confusion PNGs, and returns the metrics as JSON.
nlohmann::json run_evaluation(const EvalRequest& request, std::ostream& os);

// Loads a trainer checkpoint and, when the user said what they expect (--model, --labels; empty = anything),
// refuses one holding something else, naming both.
facet::LoadedModel load_expected_model(const std::string& checkpoint, const std::string& model_kind,
                                       const std::string& labels);
// Loads the members of an ensemble (one checkpoint: a single model) with load_expected_model and moves them to
// `device`; refuses, naming the checkpoint, a member whose heads or label scheme differ from the first's (its
// outputs would be averaged with classes that mean something else).
std::vector<facet::LoadedModel> load_ensemble(const std::vector<std::string>& checkpoints,
                                              const std::string& model_kind, const std::string& labels,
                                              facet::Device device);
