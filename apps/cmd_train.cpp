// `facet train`: every flag fills one field of a TrainSpec; the work is models/training/trainer_run.h's run_training.
#include "apps/cmd_train.h"
#include "data/attributes.h"

#include <unistd.h>

#include <climits>
#include <cmath>
#include <csignal>
#include <iostream>
#include <memory>
#include <sstream>

#include "apps/cli_checks.h"
#include "models/basecnn.h"
#include "models/training/trainer.h"
#include "models/training/trainer_data.h"
#include "models/training/trainer_run.h"

namespace {

using facet::TrainSpec;
using facet::cli::number_in;

// Flag ranges (apps/cli_checks.h). Widths and sides are the CLI's sanity bounds; models/model.cpp bounds the
// parameter count of the whole description, which also guards checkpoints.
constexpr double kInf = INFINITY, kMaxInt = INT_MAX, kMaxWidth = 65536, kMaxSide = 4096;
constexpr double kMaxSeed = 18446744073709551615.0;  // 2^64 - 1 (uint64); negative text is refused, not wrapped

// What `--resume` honours: the rest of the flags define the run, which its config.json already fixes.
const char* const kResumable[] = {"--resume", "--epochs", "--threads", "--workers", "--patience", "--device",
                                  "--max-pixels", "--checkpoint-every", "--help"};

// `--resume DIR` with a flag it would ignore (--lr, --batch, --model, ...): refused, naming them.
void refuse_unhonoured_on_resume(const CLI::App* cmd) {
  std::string ignored;
  for (const CLI::Option* o : cmd->get_options()) {
    if (o->count() == 0) continue;
    bool honoured = false;
    for (const char* r : kResumable) honoured = honoured || o->get_name() == r;
    if (!honoured) ignored += (ignored.empty() ? "" : ", ") + o->get_name();
  }
  if (!ignored.empty())
    throw std::invalid_argument("--resume continues the run its config.json defines and would ignore " + ignored +
                                ": drop them (only --epochs, --threads, --workers, --patience, --device and "
                                "--max-pixels may change on resume), or start a new run with --out");
}

volatile std::sig_atomic_t g_signals = 0;

extern "C" void on_interrupt(int) {
  if (g_signals > 0) _exit(130);  // second Ctrl-C: stop now
  g_signals = 1;
  facet::request_training_stop();
}

struct TrainArgs {
  TrainSpec spec;
  std::string model = "basecnn", activation, resume, tuple_read;
  std::vector<int> conv_channels, dense, hidden;
  float dropout = -1, dropout_first = -1, threshold = -1, margin = -1, leaky_alpha = -1;
  float bn_momentum = -1, bn_eps = -1;
  bool gray = false, keras_defaults = false, no_normalize = false, no_test = false;
  std::string argv;
};

std::string join(const std::vector<int>& v) {
  std::string s;
  for (int x : v) {
    if (!s.empty()) s += ",";
    s += std::to_string(x);
  }
  return s;
}

}  // namespace

void install_training_interrupt() {
  std::signal(SIGINT, on_interrupt);
  std::signal(SIGTERM, on_interrupt);
}

std::string train_command_line(const TrainSpec& s) {
  const TrainSpec d;
  std::ostringstream c;
  c << "facet train --model " << s.model.value("kind", std::string("basecnn"));
  auto str = [&](const char* flag, const std::string& v, const std::string& def) {
    if (v != def) c << " " << flag << " " << (v.find(' ') != std::string::npos ? "'" + v + "'" : v);
  };
  auto num = [&](const char* flag, double v, double def) {
    if (v != def) c << " " << flag << " " << v;
  };
  auto flag = [&](const char* f, bool v) {
    if (v) c << " " << f;
  };
  str("--data", s.data.path, "");
  str("--format", s.data.format, d.data.format);
  c << " --labels " << s.data.labels;
  str("--duplicates", s.data.duplicates, d.data.duplicates);
  str("--split", s.data.split_file, "");
  num("--val", s.data.val, d.data.val);
  num("--test", s.data.test, d.data.test);
  num("--fold", s.data.fold, d.data.fold);
  flag("--subject-exclusive", s.data.subject_exclusive);
  num("--max-per-class", s.data.max_per_class, 0);
  str("--balance", s.data.balance, d.data.balance);
  num("--limit", s.data.limit, 0);
  c << " --size " << s.data.size;
  flag("--gray", s.data.channels == 1);
  num("--resize", s.data.resize, 0);
  flag("--random-crop", s.data.random_crop);
  flag("--flip", s.data.flip);
  flag("--equalize", s.data.equalize);
  flag("--ycbcr", s.data.ycbcr);
  str("--scale", s.data.scale, d.data.scale);
  flag("--no-normalize", !s.data.normalize);
  for (const char* key : {"activation"})
    if (s.model.contains(key)) c << " --activation " << s.model[key].get<std::string>();
  // The Keras preset is spelled out as its three values: the command rebuilds the same model either way.
  if (s.model.contains("leaky_alpha")) c << " --leaky-slope " << s.model["leaky_alpha"].get<float>();
  if (s.model.contains("bn_momentum")) c << " --bn-momentum " << s.model["bn_momentum"].get<float>();
  if (s.model.contains("bn_eps")) c << " --bn-eps " << s.model["bn_eps"].get<float>();
  if (s.model.contains("conv_channels")) c << " --conv-channels " << join(s.model["conv_channels"]);
  if (s.model.contains("dense")) c << " --dense " << join(s.model["dense"]);
  if (s.model.contains("hidden")) c << " --hidden " << join(s.model["hidden"]);
  if (s.model.contains("dropout")) c << " --dropout " << s.model["dropout"].get<float>();
  if (s.model.contains("dropout_first")) c << " --dropout-first " << s.model["dropout_first"].get<float>();
  if (s.model.contains("threshold")) c << " --threshold " << s.model["threshold"].get<float>();
  if (s.model.contains("margin")) c << " --margin " << s.model["margin"].get<float>();
  if (s.model.contains("read")) c << " --tuple-read " << s.model["read"].get<std::string>();
  c << " --epochs " << s.run.epochs << " --batch " << s.run.batch << " --optimizer " << s.optim.optimizer << " --lr "
    << s.optim.lr;
  num("--momentum", s.optim.momentum, d.optim.momentum);
  flag("--nesterov", s.optim.nesterov);
  num("--weight-decay", s.optim.weight_decay, d.optim.weight_decay);
  str("--schedule", s.optim.schedule, d.optim.schedule);
  num("--warmup", s.optim.warmup, 0);
  num("--max-norm", s.optim.max_norm, 0);
  num("--clip", s.optim.clip, 0);
  num("--label-smoothing", s.optim.label_smoothing, 0);
  num("--patience", s.run.patience, 0);
  num("--checkpoint-every", s.run.checkpoint_every, 0);
  str("--best-metric", s.run.best_metric, d.run.best_metric);
  flag("--tta", s.run.tta);
  c << " --seed " << s.run.seed;
  num("--threads", s.run.threads, 0);
  str("--device", s.run.device, d.run.device);
  str("--out", s.run.out, "");
  return c.str();
}

void add_train_commands(CLI::App& app) {
  auto a = std::make_shared<TrainArgs>();
  TrainSpec& s = a->spec;
  CLI::App* cmd = app.add_subcommand("train", "train a model; writes a run directory (config, split, per-epoch "
                                              "metrics JSON/CSV, PNG curves, best and last checkpoints, test scores)");
  // model
  cmd->add_option("--model", a->model, "basecnn, fcn2hot, tuple or levihassner")->capture_default_str();
  cmd->add_option("--activation", a->activation, "basecnn: relu or leakyrelu (default leakyrelu)");
  cmd->add_option("--leaky-slope,--leaky-alpha", a->leaky_alpha, "LeakyReLU negative slope (default 0.01, PyTorch's; "
                                                                 "Keras's LeakyReLU: 0.3)")
      ->check(number_in(0, 1));
  cmd->add_option("--bn-momentum", a->bn_momentum, "basecnn: batchnorm momentum in PyTorch's convention, running = "
                                                   "(1 - m) * running + m * batch (default 0.1; Keras's momentum 0.99 "
                                                   "is 0.01 here)");
  cmd->add_option("--bn-eps", a->bn_eps, "basecnn: batchnorm epsilon (default 1e-5, PyTorch's; Keras's: 1e-3)");
  cmd->add_flag("--keras-defaults", a->keras_defaults, "basecnn: the studies' Keras defaults, --bn-momentum 0.01 "
                                                       "--bn-eps 0.001 --leaky-slope 0.3 (explicit flags win)");
  cmd->add_option("--conv-channels", a->conv_channels, "basecnn: channels of each conv cycle (default 32,32,64,64,128,128)")
      ->delimiter(',')
      ->check(number_in(1, kMaxWidth));
  cmd->add_option("--dense", a->dense, "basecnn: dense layer sizes (default 256,128)")->delimiter(',')
      ->check(number_in(1, kMaxWidth));
  cmd->add_option("--hidden", a->hidden, "fcn2hot/tuple: hidden layer sizes (default 64,32,32,16,16 / 32,32,16,16,10)")
      ->delimiter(',')
      ->check(number_in(1, kMaxWidth));
  cmd->add_option("--dropout", a->dropout, "DROP probability, as PyTorch's (TFLearn/Keras 1 dropout(x, k) keeps k: "
                                           "pass 1-k) (basecnn dense layers 0.5; fcn2hot after the first hidden "
                                           "layer 0.5; tuple 0)")
      ->check(number_in(0, 1, false, true));
  cmd->add_option("--dropout-first", a->dropout_first, "fcn2hot: DROP probability on the first hidden layer (default "
                                                       "0.2, the study's TFLearn keep 0.8)")
      ->check(number_in(0, 1, false, true));
  cmd->add_option("--threshold", a->threshold, "fcn2hot: reject rule, per slice: a slice whose winning probability is "
                                               "under this (or that is no one-hot pattern) is undefined (0.5); "
                                               "accuracy still reads every slice by its argmax")
      ->check(number_in(0, 1));
  cmd->add_option("--tuple-read", a->tuple_read, "tuple: round (nearest class; default) or calibrated (per-class "
                                                 "ranges measured on the training faces after training)");
  cmd->add_option("--margin", a->margin, "tuple, round reading: distance from a class beyond which a value is "
                                         "undefined (0.5)")
      ->check(number_in(0, kInf, false, true));
  // data
  cmd->add_option("--data", s.data.path, "UTKFace folder, Adience folder (fold_*_data.txt) or UTKFace CSV file "
                                         "(default: $FACET_DATA/utkface, then $FACET_DATA)");
  cmd->add_option("--format", s.data.format, "auto, utkface, adience, csv, folder (root/<class>/<image>) or manifest "
                                             "(CSV path,<attr1>,...)")->capture_default_str();
  cmd->add_option("--labels", s.data.labels, "label scheme: groups10, bin10, balanced[:K], intuition, seed000, "
                                             "adience8, 2hot, tuple, age edges like 0,7,13,20, parts joined by '+' "
                                             "(+gender, +race); folder/manifest: all (the default), COLUMN:edges=0,7,13, "
                                             "COLUMN:skip")
      ->capture_default_str();
  cmd->add_option("--duplicates", s.data.duplicates, "byte-identical copies: drop-conflicts, keep-first, keep-all")
      ->capture_default_str();
  cmd->add_option("--split", s.data.split_file, "use this split file (from `facet data split` or a run directory)");
  cmd->add_option("--val", s.data.val, "validation fraction")->capture_default_str()
      ->check(number_in(0, 1, false, true));
  cmd->add_option("--test", s.data.test, "test fraction")->capture_default_str()
      ->check(number_in(0, 1, false, true));
  cmd->add_option("--fold", s.data.fold, "Adience protocol: test on this fold (0-4), train on the other four")
      ->check(number_in(0, 4));
  cmd->add_flag("--subject-exclusive", s.data.subject_exclusive, "keep each identity on one side of the split");
  cmd->add_option("--max-per-class", s.data.max_per_class,
                  "before splitting, keep at most this many faces per class of the first head (study D: 5000)")
      ->check(number_in(1, kMaxInt));
  cmd->add_option("--balance", s.data.balance, "training split: undersample:<head>:<class>:<keep>, smallest:<head>, "
                                               "weighted:<head> or none")
      ->capture_default_str();
  cmd->add_option("--limit", s.data.limit, "train on only this many faces (seeded sample; quick checks)")
      ->check(number_in(1, kMaxInt));
  cmd->add_option("--adience-images", s.data.adience_images, "Adience: root holding aligned/ (default: --data)");
  cmd->add_option("--size", s.data.size, "input side in pixels (64, 128, 200, ...)")->capture_default_str()
      ->check(number_in(8, kMaxSide));
  cmd->add_flag("--gray", a->gray, "grayscale input (default colour)");
  cmd->add_option("--resize", s.data.resize, "resize faces to this side before cropping --size (with --random-crop)")
      ->check(number_in(8, kMaxSide));
  cmd->add_flag("--random-crop", s.data.random_crop, "training: random crops of --size from the --resize image");
  cmd->add_flag("--flip", s.data.flip, "training: random horizontal flips");
  cmd->add_flag("--equalize", s.data.equalize, "histogram equalization (study E)");
  cmd->add_flag("--ycbcr", s.data.ycbcr, "RGB -> YCbCr (study E)");
  cmd->add_option("--scale", s.data.scale, "pixel scaling: unit (x/255), minmax (per image) or raw")
      ->capture_default_str();
  cmd->add_flag("--no-normalize", a->no_normalize, "skip the per-channel mean/std normalization");
  cmd->add_option("--workers", s.data.workers, "loader threads")->capture_default_str()
      ->check(facet::cli::threads_range(0));
  // optimisation
  cmd->add_option("--epochs", s.run.epochs, "epochs")->capture_default_str()
      ->check(number_in(1, 1e6));
  cmd->add_option("--batch", s.run.batch, "batch size")->capture_default_str()
      ->check(number_in(1, 65536));
  cmd->add_option("--optimizer", s.optim.optimizer, "sgd, adam or adamw")->capture_default_str();
  cmd->add_option("--lr", s.optim.lr, "learning rate")->capture_default_str()
      ->check(number_in(0, kInf, true, true));
  cmd->add_option("--momentum", s.optim.momentum, "sgd momentum")->capture_default_str()
      ->check(number_in(0, 1, false, true));
  cmd->add_flag("--nesterov", s.optim.nesterov, "sgd: Nesterov momentum");
  cmd->add_option("--weight-decay", s.optim.weight_decay, "L2 (sgd, adam) or decoupled decay (adamw; default 0.01)")
      ->check(number_in(0, kInf, false, true));
  cmd->add_option("--schedule", s.optim.schedule, "learning rate per epoch: constant, step or cosine")
      ->capture_default_str();
  cmd->add_option("--step-size", s.optim.step_size, "step schedule: epochs between decays")->capture_default_str()
      ->check(number_in(1, 1e6));
  cmd->add_option("--gamma", s.optim.gamma, "step schedule: decay factor")->capture_default_str()
      ->check(number_in(0, 1, true, false));
  cmd->add_option("--min-lr", s.optim.min_lr, "cosine schedule: final learning rate")->capture_default_str()
      ->check(number_in(0, kInf, false, true));
  cmd->add_option("--warmup", s.optim.warmup, "epochs of linear learning-rate warmup")
      ->check(number_in(0, 1e6));
  cmd->add_option("--max-norm", s.optim.max_norm, "max-norm constraint on weight rows after each step (study E: 3-4)")
      ->check(number_in(0, kInf, false, true));
  cmd->add_option("--clip", s.optim.clip, "clip the global gradient norm to this value")
      ->check(number_in(0, kInf, false, true));
  cmd->add_option("--label-smoothing", s.optim.label_smoothing, "cross-entropy label smoothing (e.g. 0.1)")
      ->check(number_in(0, 1, false, true));
  // run
  cmd->add_option("--patience", s.run.patience, "early stopping: epochs without a better validation score (0: off)")
      ->check(number_in(0, 1e6));
  cmd->add_option("--checkpoint-every", s.run.checkpoint_every,
                  "also write a resumable last.ckpt every N optimizer steps, mid-epoch (0: after each epoch only)")
      ->check(number_in(0, 1e12));
  cmd->add_option("--best-metric", s.run.best_metric, "what picks the best epoch: mean (validation accuracy over "
                                                      "heads), loss, or a head name")
      ->capture_default_str();
  cmd->add_flag("--tta", s.run.tta, "evaluate with test-time horizontal flip (mean of both outputs)");
  cmd->add_option("--seed", s.run.seed, "seed of everything (init, split, order, augmentation, dropout)")
      ->capture_default_str()
      ->check(number_in(0, kMaxSeed));
  cmd->add_option("--threads", s.run.threads, "kernel threads (default: OpenMP's, i.e. all cores)")
      ->check(facet::cli::threads_range(1));
  cmd->add_option("--device", s.run.device, "cpu or cuda: where the model trains")->capture_default_str();
  cmd->add_option("--out", s.run.out, "run directory (e.g. runs/basecnn64)");
  facet::cli::add_max_pixels(cmd);
  cmd->add_flag("--no-test", a->no_test, "do not score the best checkpoint on the test split at the end");
  cmd->add_option("--resume", a->resume, "continue the run in this directory from its last.ckpt (other flags: only "
                                         "--epochs, --threads, --workers, --patience, --device, --checkpoint-every, --max-pixels may change; "
                                         "others are refused)");

  cmd->callback([a, cmd] {
    std::string argv = "facet train";
    for (const auto* o : cmd->get_options())
      if (o->count() > 0 && o->get_name() != "--help") {
        argv += " " + o->get_name();
        for (const auto& r : o->results()) argv += " " + r;
      }
    TrainSpec spec = a->spec;
    const bool resume = !a->resume.empty();
    if (resume) {
      refuse_unhonoured_on_resume(cmd);
      spec = facet::read_run_spec(a->resume);
      spec.run.out = a->resume;
      if (cmd->count("--epochs")) spec.run.epochs = a->spec.run.epochs;
      if (cmd->count("--threads")) spec.run.threads = a->spec.run.threads;
      if (cmd->count("--workers")) spec.data.workers = a->spec.data.workers;
      if (cmd->count("--patience")) spec.run.patience = a->spec.run.patience;
      if (cmd->count("--device")) spec.run.device = a->spec.run.device;
      if (cmd->count("--checkpoint-every")) spec.run.checkpoint_every = a->spec.run.checkpoint_every;
    } else {
      if (spec.data.path.empty()) spec.data.path = facet::default_data_dir();
      // Your own data (a folder, a manifest) without --labels: every column is a head (data/attributes.h).
      if (!cmd->count("--labels") && facet::data::attribute_format(spec.data.path, spec.data.format))
        spec.data.labels = "all";
      spec.data.channels = a->gray ? 1 : 3;
      spec.data.normalize = !a->no_normalize;
      spec.run.test = !a->no_test;
      nlohmann::json m = {{"kind", a->model}};
      if (!a->activation.empty()) m["activation"] = a->activation;
      if (a->keras_defaults) m.update(facet::keras_model_defaults());
      if (a->leaky_alpha >= 0) m["leaky_alpha"] = a->leaky_alpha;
      if (a->bn_momentum >= 0) m["bn_momentum"] = a->bn_momentum;
      if (a->bn_eps >= 0) m["bn_eps"] = a->bn_eps;
      if (!a->conv_channels.empty()) m["conv_channels"] = a->conv_channels;
      if (!a->dense.empty()) m["dense"] = a->dense;
      if (!a->hidden.empty()) m["hidden"] = a->hidden;
      if (a->dropout >= 0) m["dropout"] = a->dropout;
      if (a->dropout_first >= 0) m["dropout_first"] = a->dropout_first;
      if (a->threshold >= 0) m["threshold"] = a->threshold;
      if (a->margin >= 0) m["margin"] = a->margin;
      if (!a->tuple_read.empty()) m["read"] = a->tuple_read;
      spec.model = m;
      if (spec.run.out.empty())
        throw std::invalid_argument("no run directory: pass --out runs/NAME (it receives checkpoints and metrics)");
    }
    install_training_interrupt();
    const nlohmann::json summary = facet::run_training(spec, resume, argv, std::cout);
    std::cout << "run directory: " << spec.run.out << " (best epoch " << summary.value("best_epoch", 0) << ", "
              << summary.value("wall_seconds", 0.0) << " s)\n";
    if (summary.value("interrupted", false)) throw std::runtime_error("training interrupted");
  });
}
