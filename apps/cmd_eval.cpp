// `facet eval --checkpoint C [--data DIR]`: accuracy per head, one-off accuracy and mean class distance for age,
// confusion matrices (printed, JSON, PNG heat maps), the misclassification-by-distance table, and accuracy per
// race and per gender. Several --checkpoint options score their ensemble (the mean of the members' outputs).
#include "apps/cmd_eval.h"

#include <omp.h>

#include <filesystem>
#include <iostream>
#include <memory>
#include <unordered_set>

#include "apps/cli_checks.h"
#include "data/attributes.h"
#include "data/readers.h"
#include "data/split.h"
#include "models/training/trainer_data.h"
#include "models/training/trainer_run.h"
#include "models/predictor_internal.h"

namespace fs = std::filesystem;
using namespace facet;

nlohmann::json run_evaluation(const EvalRequest& r, std::ostream& os) {
  if (r.threads > 0) omp_set_num_threads(r.threads);
  const Device device = parse_device(r.device);
  require_device(device, "--device " + r.device);
  std::vector<LoadedModel> members = load_ensemble(r.checkpoints, r.model, r.labels, device);
  nlohmann::json reading = nlohmann::json::object();
  if (r.threshold >= 0) reading["threshold"] = r.threshold;
  if (r.margin >= 0) reading["margin"] = r.margin;
  if (!r.tuple_read.empty()) reading["read"] = r.tuple_read;
  for (auto& mm : members) mm.model->set_reading(reading);
  const std::string& first_ckpt = r.checkpoints[0];
  LoadedModel& m = members[0];
  const TrainSpec spec = train_spec_from_json(m.meta.value("spec", nlohmann::json::object()));
  std::string path = r.data;
  if (path.empty()) path = !spec.data.path.empty() && fs::exists(spec.data.path) ? spec.data.path : default_data_dir();
  require_data_path(path);

  data::ReadOptions ro;
  ro.format = data::parse_format(r.data.empty() ? spec.data.format : "auto");
  if (m.scheme.kind == "attributes" && ro.format == data::Format::detect)  // a model of your own data's columns
    ro.format = fs::is_directory(path) ? data::Format::folder : data::Format::manifest;
  ro.duplicates = data::parse_duplicate_policy(spec.data.duplicates);
  ro.adience.image_root = spec.data.adience_images;
  data::ReadResult read = data::read_dataset(path, ro);
  data::Dataset ds = read.data;
  const auto drops = data::apply_scheme(ds, m.scheme);
  for (const auto& n : data::column_notes(read.data, m.scheme)) os << "note: " << n << "\n";
  os << "data: " << path << ": " << read.data.size() << " usable faces, " << ds.size() << " labelled by '"
            << m.scheme.name << "'\n";
  if (ds.empty()) throw std::runtime_error("no face in '" + path + "' has the labels '" + m.scheme.name + "' needs");

  std::string split_path = r.split;
  const std::string beside = (fs::path(first_ckpt).parent_path() / "split.txt").string();
  if (split_path.empty() && fs::exists(beside)) split_path = beside;
  std::string set = r.set.empty() ? (split_path.empty() ? "all" : "test") : r.set;
  data::Dataset chosen;
  if (set == "all") {
    chosen = ds;
  } else {
    if (split_path.empty())
      throw std::invalid_argument("--set " + set + " needs a split: pass --split FILE (or --set all)");
    const data::SplitSets sets = data::apply_split(ds, data::read_split(split_path));
    if (set == "test") chosen = sets.test;
    else if (set == "val") chosen = sets.val;
    else if (set == "train") chosen = sets.train;
    else throw std::invalid_argument("--set '" + set + "': use test, val, train or all");
    os << "split " << split_path << ": " << set << " set " << chosen.size() << " faces";
    if (!sets.missing.empty()) os << " (" << sets.missing.size() << " names of the split are not in the data)";
    os << "\n";
    if (chosen.empty())
      throw std::runtime_error("the " + set + " set of " + split_path + " holds none of the faces in '" + path +
                               "' (another data set? use --set all or --split)");
  }

  // On the test set no member may have trained or picked its epoch on a face scored there; on the validation
  // set, none may have trained on one. (--set train and all score seen faces on purpose.)
  if (members.size() > 1 && (set == "test" || set == "val")) {
    std::unordered_set<std::string> scored;
    for (const auto& smp : chosen.samples) scored.insert(smp.name);
    for (const auto& c : r.checkpoints) {
      const std::string own = (fs::path(c).parent_path() / "split.txt").string();
      if (!fs::exists(own)) {
        os << "note: no split.txt beside " << c << ": cannot check that it never saw the faces scored\n";
        continue;
      }
      const data::Split sp = data::read_split(own);
      std::vector<const std::vector<std::string>*> parts = {&sp.train};
      if (set == "test") parts.push_back(&sp.val);
      for (const auto* part : parts)
        for (const auto& name : *part)
          if (scored.count(name))
            throw std::runtime_error("face '" + name + "' of the " + set + " set is in the " +
                                     (part == &sp.train ? "training" : "validation") + " split of " + c + " (" +
                                     own + "): an ensemble is only scored on faces none of its members saw; "
                                     "train the members on one split (facet train --split FILE)");
    }
  }

  std::vector<std::unique_ptr<data::Loader>> loaders;
  std::vector<data::Loader*> loader_ptrs;
  std::vector<Model*> models;
  for (auto& mm : members) {
    data::LoaderOptions lo;
    lo.batch_size = r.batch;
    lo.workers = r.workers;
    lo.shuffle = false;
    lo.augment = false;
    lo.transform = mm.transform;
    loaders.push_back(std::make_unique<data::Loader>(chosen, lo));
    loader_ptrs.push_back(loaders.back().get());
    models.push_back(mm.model.get());
  }
  data::Loader& loader = *loaders[0];
  Metrics metrics = evaluate(models, loader_ptrs, m.scheme, {r.tta, true, {}});
  const auto stats = loader.stats();
  std::string what = first_ckpt;
  for (size_t k = 1; k < r.checkpoints.size(); ++k)
    what += (k + 1 == r.checkpoints.size() ? " and " : ", ") + r.checkpoints[k];
  if (members.size() > 1) what = "the ensemble (mean output) of " + what;
  const std::string title = "eval " + what + " on " + set + " (" + std::to_string(chosen.size()) +
                            " faces" + (r.tta ? ", test-time flip" : "") + ")";
  os << title << "\n";
  if (stats.failed) os << stats.failed << " images could not be decoded and were left out\n";
  os << metrics.to_text();
  const std::string prefix =
      r.out.empty() ? (fs::path(first_ckpt).parent_path() / ((members.size() > 1 ? "ensemble_eval_" : "eval_") + set))
                           .string()
                     : r.out;
  if (!fs::path(prefix).parent_path().empty()) fs::create_directories(fs::path(prefix).parent_path());
  write_evaluation(metrics, prefix, title);
  os << "wrote " << prefix << ".json, " << prefix << ".txt and " << prefix << "_confusion_*.png\n";
  return metrics.to_json();
}

void add_eval_commands(CLI::App& app) {
  auto a = std::make_shared<EvalRequest>();
  CLI::App* cmd = app.add_subcommand("eval", "score a checkpoint: accuracy, one-off, class distance, confusion "
                                             "matrices, distance table, accuracy per race and gender");
  cmd->add_option("--checkpoint", a->checkpoints,
                  "best.ckpt or last.ckpt of a run; give it again to score an ensemble (the mean of the models' "
                  "outputs; every member's training and validation splits must leave out the faces scored)")
      ->required()
      ->allow_extra_args(false);  // one path per --checkpoint: positional inputs stay inputs
  cmd->add_option("--data", a->data, "data set (default: the one the run trained on, else $FACET_DATA/utkface)");
  cmd->add_option("--split", a->split, "split file (default: split.txt beside the checkpoint, when there is one)");
  cmd->add_option("--set", a->set, "test, val, train or all (default: test with a split, else all)");
  cmd->add_flag("--tta", a->tta, "test-time horizontal flip (mean of the outputs of each face and its mirror)");
  cmd->add_option("--out", a->out,
                  "output prefix for .json/.txt/_confusion_*.png (default: <first checkpoint dir>/eval_<set>, "
                  "ensemble_eval_<set> for several)");
  cmd->add_option("--model", a->model, "refuse the checkpoint unless it holds this model kind");
  cmd->add_option("--labels", a->labels, "refuse the checkpoint unless it was trained on this label scheme");
  cmd->add_option("--threshold", a->threshold,
                  "fcn2hot: the reject rule's confidence (default: as trained, 0.5); accuracy scores every face by "
                  "its argmax, the rule gives coverage and accuracy when defined");
  cmd->add_option("--tuple-read", a->tuple_read,
                  "tuple: round (nearest class) or calibrated (per-class ranges from the training faces; out of "
                  "every range = undefined) (default: as trained)");
  cmd->add_option("--margin", a->margin, "tuple, round reading: distance from a class beyond which a value is "
                                         "undefined (default: as trained, 0.5)");
  cmd->add_option("--workers", a->workers, "loader threads")->capture_default_str()
      ->check(facet::cli::threads_range(0));
  cmd->add_option("--threads", a->threads, "kernel threads (default: all cores)")
      ->check(facet::cli::threads_range(1));
  cmd->add_option("--batch", a->batch, "batch size")->capture_default_str()
      ->check(facet::cli::number_in(1, 65536));
  cmd->add_option("--device", a->device, "cpu or cuda: where the model runs")->capture_default_str();
  facet::cli::add_max_pixels(cmd);

  cmd->callback([a] { run_evaluation(*a, std::cout); });
}
