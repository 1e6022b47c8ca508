// A whole `facet train` run as one call (the CLI and `facet repro` both use it): prepare the data, build the
// model for the label scheme, write the run directory, train, then score the best checkpoint on the test split.
//
// Run directory:
//   config.json        the TrainSpec (enough to --resume or repeat the run), label scheme, input transform with
//                      its normalization, the data notes, command line, machine and threads
//   split.txt          the train/val/test split (data/split.h format)
//   data_report.txt    what the reader skipped, flagged or merged
//   metrics.json/.csv  one record per epoch; loss.png, accuracy.png: the curves
//   best.ckpt          the model of the best validation epoch (+ what eval/predict need to use it)
//   last.ckpt          the last finished epoch with the optimizer state: --resume continues from it
//   test.json/.txt     the best model on the test split; confusion_<head>.png heat maps
//   summary.json       best epoch, wall time, test accuracies
#pragma once
#include <iosfwd>
#include <string>

#include <nlohmann/json.hpp>

#include "models/training/metrics.h"
#include "models/training/trainer.h"
#include "models/training/trainer_spec.h"

namespace facet {

namespace data {
struct LabelScheme;
}

// Fills the model config from the data: input channels and size, and the heads (names and class counts) from
// the label scheme's tasks. Throws std::invalid_argument when the model kind cannot take the scheme
// (fcn2hot needs age + gender, tuple needs --labels tuple).
nlohmann::json complete_model_config(const nlohmann::json& model, const data::LabelScheme& scheme,
                                     const DataSpec& data);

// Trains (or, with `resume`, continues) the run spec.run.out describes. Returns summary.json's content.
// Throws on bad specs and missing data, with messages that name what to change.
// `callbacks` go to the Trainer (see TrainCallbacks).
nlohmann::json run_training(TrainSpec spec, bool resume, const std::string& command_line, std::ostream& out,
                            const TrainCallbacks& callbacks = {});

// Reads <run>/config.json back (for --resume).
TrainSpec read_run_spec(const std::string& run_dir);

// Writes <prefix>.json, <prefix>.txt and <prefix>_confusion_<attribute>.png for one evaluation.
void write_evaluation(const Metrics& m, const std::string& prefix, const std::string& title);

// "Intel(R) Xeon(R) ... , 2 cores (nproc)": for result tables.
std::string machine_description();
int kernel_threads();  // OpenMP threads the kernels use

}  // namespace facet
