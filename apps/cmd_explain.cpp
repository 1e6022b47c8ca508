#include "apps/cmd_explain.h"

#include <omp.h>

#include <iostream>
#include <memory>
#include <stdexcept>

#include "apps/cli_checks.h"
#include "apps/cmd_eval.h"
#include "data/io/atomic_file.h"
#include "models/explain.h"

using namespace facet;

namespace {

struct ExplainArgs {
  std::string model, checkpoint, json;
  int size = 0, channels = 3, threads = 0;
  bool eval = false;
  ExplainOptions options;
};

// The model to explain: a checkpoint's, or a built-in kind with default layer sizes (initialised from seed
// 0).
std::unique_ptr<Model> model_of(const ExplainArgs& a, std::string& title) {
  if (!a.checkpoint.empty()) {
    if (a.size > 0)
      throw std::invalid_argument("--size " + std::to_string(a.size) +
                                  ": a checkpoint's input size is fixed (" + a.checkpoint +
                                  "); leave --size out");
    LoadedModel m = load_expected_model(a.checkpoint, a.model, "");
    title = m.model->kind() + " from " + a.checkpoint;
    return std::move(m.model);
  }
  if (a.model.empty())
    throw std::invalid_argument(
        "give --model basecnn|levihassner|fcn2hot|tuple or --checkpoint C "
        "(--model-file does not exist yet)");
  nlohmann::json config = {{"kind", a.model}, {"channels", a.channels}};
  if (a.size > 0) config["size"] = a.size;
  auto model = make_model(config, 0);
  title = model->kind() + " (" + std::to_string(model->input_shape(1)[2]) + "x" +
          std::to_string(model->input_shape(1)[3]) + ", " + std::to_string(a.channels) +
          " channel(s), default layers)";
  return model;
}

}  // namespace

void add_explain_commands(CLI::App& app) {
  auto a = std::make_shared<ExplainArgs>();
  CLI::App* cmd = app.add_subcommand(
      "explain",
      "one line per layer: output shape, parameters, forward FLOPs, activation memory, and with --time "
      "measured forward/backward ms; then totals and each layer's share");
  cmd->add_option("--model", a->model,
                  "a built-in model: basecnn, levihassner, fcn2hot, tuple (with a "
                  "--checkpoint: refuse it unless it holds this kind)");
  cmd->add_option("--checkpoint", a->checkpoint, "explain the model of this checkpoint (best.ckpt of a run)");
  cmd->add_option("--size", a->size, "input side in pixels (--model only; default: the model's)")
      ->check(facet::cli::number_in(1, 4096));
  cmd->add_option("--channels", a->channels, "input channels, 3 (colour) or 1 (gray) (--model only)")
      ->check(CLI::IsMember({1, 3}))
      ->capture_default_str();
  cmd->add_option("--batch", a->options.batch, "images per batch (FLOPs, memory and times are for the batch)")
      ->check(facet::cli::number_in(1, 4096))
      ->capture_default_str();
  cmd->add_flag("--eval", a->eval, "count batchnorm and dropout as in evaluation (default: a training step)");
  cmd->add_flag("--time", a->options.time, "measure forward and backward ms per layer on this machine");
  cmd->add_option("--repeats", a->options.repeats, "timed runs per layer (median), after one warm-up")
      ->check(facet::cli::number_in(1, 100))
      ->capture_default_str();
  cmd->add_option("--json", a->json,
                  "also write the table as JSON to this file ('-': to stdout instead of text)");
  cmd->add_option("--threads", a->threads, "kernel threads (default: all cores)")
      ->check(facet::cli::threads_range(1));
  cmd->callback([a] {
    if (a->threads > 0) omp_set_num_threads(a->threads);
    a->options.training = !a->eval;
    std::string title;
    auto model = model_of(*a, title);
    const auto rows = explain_model(*model, a->options);
    if (a->json == "-") {
      std::cout << explain_json(rows, a->options, title).dump(2) << "\n";
      return;
    }
    std::cout << explain_text(rows, a->options, title);
    if (!a->json.empty()) {
      facet::io::write_file_atomic(a->json, explain_json(rows, a->options, title).dump(2) + "\n");
      std::cerr << "wrote " << a->json << "\n";
    }
  });
}
