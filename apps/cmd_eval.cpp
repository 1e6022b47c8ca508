// `facet eval --checkpoint C [--data DIR]`: accuracy per head, one-off accuracy and mean class distance for age,
// confusion matrices (printed, JSON, PNG heat maps), the misclassification-by-distance table, and accuracy per
// race and per gender.
#include "apps/cmd_eval.h"

#include <omp.h>

#include <filesystem>
#include <iostream>
#include <memory>

#include "data/readers.h"
#include "data/split.h"
#include "models/trainer_data.h"
#include "models/trainer_run.h"

namespace fs = std::filesystem;
using namespace facet;

LoadedModel load_expected_model(const std::string& checkpoint, const std::string& model_kind,
                                const std::string& labels) {
  if (!fs::exists(checkpoint))
    throw std::runtime_error("checkpoint '" + checkpoint + "' does not exist (a run directory holds best.ckpt and "
                             "last.ckpt)");
  LoadedModel m = load_model_checkpoint(checkpoint);
  const std::string kind = m.model->kind();
  auto describe = [&] {
    return kind + " (" + std::to_string(m.transform.width) + "x" + std::to_string(m.transform.height) + ", " +
           std::to_string(m.transform.channels) + " channel(s), labels " + m.scheme.name + ")";
  };
  if (!model_kind.empty() && model_kind != kind)
    throw std::runtime_error("checkpoint '" + checkpoint + "' holds a " + describe() + " model, not a " + model_kind +
                             ": pass a " + model_kind + " checkpoint or leave --model out");
  if (!labels.empty() && labels != m.scheme.name)
    throw std::runtime_error("checkpoint '" + checkpoint + "' was trained on labels '" + m.scheme.name + "', not '" +
                             labels + "': its heads cannot be scored on another scheme");
  return m;
}

namespace {

struct EvalArgs {
  std::string checkpoint, data, split, set, out, model, labels, device = "cpu";
  bool tta = false;
  int workers = 2, threads = 0, batch = 128;
};

}  // namespace

void add_eval_commands(CLI::App& app) {
  auto a = std::make_shared<EvalArgs>();
  CLI::App* cmd = app.add_subcommand("eval", "score a checkpoint: accuracy, one-off, class distance, confusion "
                                             "matrices, distance table, accuracy per race and gender");
  cmd->add_option("--checkpoint", a->checkpoint, "best.ckpt or last.ckpt of a run")->required();
  cmd->add_option("--data", a->data, "data set (default: the one the run trained on, else $FACET_DATA/utkface)");
  cmd->add_option("--split", a->split, "split file (default: split.txt beside the checkpoint, when there is one)");
  cmd->add_option("--set", a->set, "test, val, train or all (default: test with a split, else all)");
  cmd->add_flag("--tta", a->tta, "test-time horizontal flip (mean of the outputs of each face and its mirror)");
  cmd->add_option("--out", a->out, "output prefix for .json/.txt/_confusion_*.png (default: <checkpoint dir>/eval_<set>)");
  cmd->add_option("--model", a->model, "refuse the checkpoint unless it holds this model kind");
  cmd->add_option("--labels", a->labels, "refuse the checkpoint unless it was trained on this label scheme");
  cmd->add_option("--workers", a->workers, "loader threads")->capture_default_str();
  cmd->add_option("--threads", a->threads, "kernel threads (default: all cores)");
  cmd->add_option("--batch", a->batch, "batch size")->capture_default_str();
  cmd->add_option("--device", a->device, "cpu or cuda: where the model runs")->capture_default_str();

  cmd->callback([a] {
    if (a->threads > 0) omp_set_num_threads(a->threads);
    const Device device = parse_device(a->device);
    require_device(device, "--device " + a->device);
    LoadedModel m = load_expected_model(a->checkpoint, a->model, a->labels);
    m.model->to(device);
    const TrainSpec spec = train_spec_from_json(m.meta.value("spec", nlohmann::json::object()));
    std::string path = a->data;
    if (path.empty()) path = !spec.data.path.empty() && fs::exists(spec.data.path) ? spec.data.path : default_data_dir();
    require_data_path(path);

    data::ReadOptions ro;
    ro.format = data::parse_format(a->data.empty() ? spec.data.format : "auto");
    ro.duplicates = data::parse_duplicate_policy(spec.data.duplicates);
    ro.adience.image_root = spec.data.adience_images;
    data::ReadResult read = data::read_dataset(path, ro);
    data::Dataset ds = read.data;
    const auto drops = data::apply_scheme(ds, m.scheme);
    std::cout << "data: " << path << ": " << read.data.size() << " usable faces, " << ds.size() << " labelled by '"
              << m.scheme.name << "'\n";
    if (ds.empty()) throw std::runtime_error("no face in '" + path + "' has the labels '" + m.scheme.name + "' needs");

    std::string split_path = a->split;
    const std::string beside = (fs::path(a->checkpoint).parent_path() / "split.txt").string();
    if (split_path.empty() && fs::exists(beside)) split_path = beside;
    std::string set = a->set.empty() ? (split_path.empty() ? "all" : "test") : a->set;
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
      std::cout << "split " << split_path << ": " << set << " set " << chosen.size() << " faces";
      if (!sets.missing.empty()) std::cout << " (" << sets.missing.size() << " names of the split are not in the data)";
      std::cout << "\n";
      if (chosen.empty())
        throw std::runtime_error("the " + set + " set of " + split_path + " holds none of the faces in '" + path +
                                 "' (another data set? use --set all or --split)");
    }

    data::LoaderOptions lo;
    lo.batch_size = a->batch;
    lo.workers = a->workers;
    lo.shuffle = false;
    lo.augment = false;
    lo.transform = m.transform;
    data::Loader loader(chosen, lo);
    Metrics metrics = evaluate(*m.model, loader, m.scheme, {a->tta, true, {}});
    const auto stats = loader.stats();
    const std::string title = "eval " + a->checkpoint + " on " + set + " (" + std::to_string(chosen.size()) +
                              " faces" + (a->tta ? ", test-time flip" : "") + ")";
    std::cout << title << "\n";
    if (stats.failed) std::cout << stats.failed << " images could not be decoded and were left out\n";
    std::cout << metrics.to_text();
    const std::string prefix =
        a->out.empty() ? (fs::path(a->checkpoint).parent_path() / ("eval_" + set)).string() : a->out;
    if (!fs::path(prefix).parent_path().empty()) fs::create_directories(fs::path(prefix).parent_path());
    write_evaluation(metrics, prefix, title);
    std::cout << "wrote " << prefix << ".json, " << prefix << ".txt and " << prefix << "_confusion_*.png\n";
  });
}
