// `facet eval`: score a checkpoint on a data set (test split by default) with every metric, as text, JSON and PNG
// heat maps.
#pragma once
#include <CLI/CLI.hpp>
#include <iosfwd>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "models/training/trainer.h"
#include "models/predictor_internal.h"  // load_ensemble, load_expected_model

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
