// `facet eval`: score a checkpoint on a data set (test split by default) with every metric, as text, JSON and PNG
// heat maps.
#pragma once
#include <CLI/CLI.hpp>
#include <string>

#include "models/trainer.h"

void add_eval_commands(CLI::App& app);

// Loads a trainer checkpoint and, when the user said what they expect (--model, --labels; empty = anything),
// refuses one holding something else, naming both.
facet::LoadedModel load_expected_model(const std::string& checkpoint, const std::string& model_kind,
                                       const std::string& labels);
