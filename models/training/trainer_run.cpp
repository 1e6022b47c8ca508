#include "models/training/trainer_run.h"
#include "data/io/atomic_file.h"

#include <omp.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <stdexcept>

#include "data/attributes.h"
#include "data/labels.h"
#include "models/mlp_models.h"
#include "models/training/report.h"
#include "models/training/run_dir.h"
#include "models/training/trainer.h"
#include "tensor/checkpoint.h"

namespace facet {

namespace fs = std::filesystem;

nlohmann::json complete_model_config(const nlohmann::json& model, const data::LabelScheme& scheme,
                                     const DataSpec& data) {
  nlohmann::json c = model.is_object() ? model : nlohmann::json::object();
  const std::string kind = c.value("kind", std::string("basecnn"));
  c["kind"] = kind;
  c["channels"] = data.channels;
  c["size"] = data.size;
  if (kind == "basecnn" || kind == "levihassner") {
    nlohmann::json heads = nlohmann::json::array();
    for (const auto& t : scheme.tasks) heads.push_back({{"name", t.name}, {"classes", t.classes.size()}});
    c["heads"] = heads;
  } else if (kind == "fcn2hot") {
    if (scheme.tasks.size() != 2 || scheme.age_task != 0 || scheme.gender_task != 1)
      throw std::invalid_argument("model fcn2hot reads its output as age groups then gender: use --labels 2hot (or "
                                  "another age scheme + gender, e.g. groups10+gender); '" +
                                  scheme.name + "' does not fit");
    c["age_classes"] = scheme.tasks[0].classes.size();
  } else if (kind == "tuple") {
    if (scheme.target_kind != "tuple")
      throw std::invalid_argument("model tuple regresses (age class, gender): use --labels tuple, not '" + scheme.name +
                                  "'");
    c["age_classes"] = scheme.tasks[size_t(scheme.age_task)].classes.size();
  } else {
    throw std::invalid_argument("--model '" + kind + "': use basecnn, fcn2hot, tuple or levihassner");
  }
  return c;
}

std::string machine_description() {
  std::ifstream f("/proc/cpuinfo");
  std::string line, model = "unknown CPU";
  while (std::getline(f, line))
    if (line.rfind("model name", 0) == 0) {
      model = line.substr(line.find(':') + 2);
      break;
    }
  return model + ", " + std::to_string(sysconf(_SC_NPROCESSORS_ONLN)) + " cores";
}

int kernel_threads() { return omp_get_max_threads(); }

TrainSpec read_run_spec(const std::string& run_dir) {
  const RunDir run(run_dir);
  const nlohmann::json j = run.read_config();
  try {
    return train_spec_from_json(j.at("spec"));
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error("cannot resume: " + run.config() + " is not a facet run config: " + e.what());
  }
}

void write_evaluation(const Metrics& m, const std::string& prefix, const std::string& title) {
  io::write_file_atomic(prefix + ".json", m.to_json().dump(2) + "\n");
  io::write_file_atomic(prefix + ".txt", title + "\n" + m.to_text());
  for (size_t a = 0; a < m.attribute_count(); ++a) {
    const auto& r = m.attribute(a);
    char acc[32];
    std::snprintf(acc, sizeof acc, "%.2f%%", 100.0 * r.accuracy());
    plot_confusion(prefix + "_confusion_" + r.spec.name + ".png", r, title + ": " + r.spec.name + " " + acc);
  }
}

static void write_json(const std::string& path, const nlohmann::json& j) {
  io::write_file_atomic(path, j.dump(2) + "\n");
}

// The study's tuple reading: the best model's outputs on the training faces give each class its range
// (TupleModel::calibrate), stored in best.ckpt's model config (eval and predict read them there) and, for a person
// to read, in <dir>/calibration.json. Other models: nothing to do.
static void calibrate_best(const std::string& dir, const data::Dataset& train, int batch, int workers, Device device,
                           std::ostream& out) {
  const std::string path = RunDir(dir).best();
  LoadedModel best = load_model_checkpoint(path);
  auto* tuple = dynamic_cast<TupleModel*>(best.model.get());
  if (!tuple || train.empty()) return;
  best.model->to(device);
  data::LoaderOptions lo;
  lo.batch_size = batch;
  lo.workers = workers;
  lo.shuffle = false;
  lo.augment = false;
  lo.transform = best.transform;
  data::Loader loader(train, lo);
  const std::vector<int> tasks = attribute_tasks(*best.model, best.scheme);
  std::vector<float> outputs;
  std::vector<std::vector<int32_t>> labels(tasks.size());
  loader.start_epoch(0);
  data::Batch b;
  while (loader.next(b)) {
    if (b.n == 0) continue;
    const auto v = infer(*best.model, b, false)[0].to_vector();
    outputs.insert(outputs.end(), v.begin(), v.end());
    for (size_t k = 0; k < tasks.size(); ++k)
      labels[k].insert(labels[k].end(), b.labels.at(size_t(tasks[k])).begin(), b.labels.at(size_t(tasks[k])).end());
  }
  tuple->calibrate(outputs, labels);
  Checkpoint ck = load_checkpoint(path);
  ck.meta["model"] = best.model->config();
  save_checkpoint(path, ck.tensors, ck.meta);
  write_json(RunDir(dir).calibration(), best.model->config().at("calibration"));
  out << "tuple: per-class output ranges (central " << int(100 * kCalibrationShare + 0.5f) << "% of "
      << labels[0].size() << " training faces) stored in " << path << " and " << dir << "/calibration.json\n";
}

namespace {

// The run flags run_training refuses before it reads anything (and --threads, applied at once).
void check_run_spec(const RunSpec& run) {
  if (run.out.empty()) throw std::invalid_argument("no run directory: pass --out runs/NAME");
  if (run.threads > 0) omp_set_num_threads(run.threads);
  if (run.epochs < 1) throw std::invalid_argument("--epochs must be at least 1");
  if (run.checkpoint_every < 0)
    throw std::invalid_argument("--checkpoint-every " + std::to_string(run.checkpoint_every) +
                                ": give a number of optimizer steps, or 0 for a checkpoint after each epoch only");
  if (run.batch < 1) throw std::invalid_argument("--batch must be at least 1");
}

// The run's best checkpoint on the test split: printed, written as <run>/test.json/.txt and the confusion
// images, and returned as JSON for summary.json.
nlohmann::json score_test_split(const TrainSpec& spec, const RunData& data, int best_epoch, Device device,
                                std::ostream& out) {
  const RunDir dir(spec.run.out);
  LoadedModel best = load_model_checkpoint(dir.best());
  best.model->to(device);
  data::LoaderOptions lo;
  lo.batch_size = std::max(spec.run.batch, 128);
  lo.workers = spec.data.workers;
  lo.shuffle = false;
  lo.augment = false;
  lo.transform = best.transform;
  data::Loader test_loader(data.test, lo);
  Metrics m = evaluate(*best.model, test_loader, best.scheme, {spec.run.tta, true, {}});
  const std::string title = "test split, best epoch " + std::to_string(best_epoch) + (spec.run.tta ? ", test-time flip" : "");
  out << title << " (" << data.test.size() << " faces):\n" << m.to_text();
  write_evaluation(m, dir.test_prefix(), title);
  return m.to_json();
}

}  // namespace

nlohmann::json run_training(TrainSpec spec, bool resume, const std::string& command_line, std::ostream& out,
                            const TrainCallbacks& callbacks) {
  const auto t_start = std::chrono::steady_clock::now();
  const std::string dir = spec.run.out;
  check_run_spec(spec.run);
  // Before any data is read: a run asked for on a GPU this machine lacks fails at once, saying so.
  const Device device = parse_device(spec.run.device);
  require_device(device, "--device " + spec.run.device);

  data::TransformConfig saved_transform;
  const data::TransformConfig* transform_override = nullptr;
  if (resume) {
    saved_transform = transform_from_json(RunDir(dir).read_config().at("transform"));
    transform_override = &saved_transform;
    spec.data.split_file = RunDir(dir).split();
  } else if (fs::exists(RunDir(dir).last())) {
    throw std::runtime_error("run directory '" + dir + "' already holds a run (last.ckpt): continue it with "
                             "`facet train --resume " + dir + "`, or pick another --out");
  }
  fs::create_directories(dir);

  out << "data:\n";
  RunData data = prepare_data(spec.data, spec.run.seed, transform_override);
  for (const auto& n : data.notes) out << "  " << n << "\n";
  spec.model = complete_model_config(spec.model, data.scheme, spec.data);
  auto model = make_model(spec.model, spec.run.seed);
  spec.model = model->config();
  out << "model:\n" << model->summary();
  out << "training: " << spec.run.epochs << " epochs, batch " << spec.run.batch << ", " << spec.optim.optimizer
      << " lr " << spec.optim.lr << " (" << schedule_of(spec.optim, spec.run.epochs).describe() << "), seed "
      << spec.run.seed << ", " << kernel_threads() << " threads, "
      << (device == Device::CPU ? "" : "on " + device_description(device) + ", ") << "run directory " << dir
      << "\n";

  if (!resume) {
    data::write_split(RunDir(dir).split(), data.split);
    io::write_file_atomic(RunDir(dir).data_report(), data.report.to_text());
    if (data.scheme.kind == "attributes")  // your own data: the class -> index mapping of every head
      write_json(RunDir(dir).classes(), data::class_map(data.scheme));
  }
  nlohmann::json config = {{"spec", to_json(spec)},
                           {"scheme", data.scheme.to_json()},
                           {"transform", data.transform.to_json()},
                           {"data_notes", data.notes},
                           {"command", command_line},
                           {"machine", machine_description()},
                           {"threads", kernel_threads()},
                           {"device", device_description(device)}};
  if (!resume) write_json(RunDir(dir).config(), config);

  Trainer trainer(*model, spec, data, dir, out);
  trainer.set_callbacks(callbacks);
  TrainResult r = trainer.fit(resume);
  nlohmann::json summary = {{"run", dir},
                            {"command", command_line},
                            {"machine", machine_description()},
                            {"threads", kernel_threads()},
                            {"device", device_description(device)},
                            {"seed", spec.run.seed},
                            {"epochs_run", r.history.size()},
                            {"best_epoch", r.best_epoch},
                            {"best_metric", spec.run.best_metric},
                            {"stopped_early", r.stopped_early},
                            {"interrupted", r.interrupted},
                            {"train_seconds", r.seconds},
                            {"train_faces", data.train.size()},
                            {"val_faces", data.val.size()},
                            {"test_faces", data.test.size()}};
  if (!r.history.empty()) summary["last_epoch"] = r.history.back().to_json(trainer.attributes());
  if (!r.interrupted && r.best_epoch > 0)
    calibrate_best(dir, data.train, std::max(spec.run.batch, 128), spec.data.workers, device, out);
  if (!r.interrupted && spec.run.test && !data.test.empty() && r.best_epoch > 0) {
    summary["test"] = score_test_split(spec, data, r.best_epoch, device, out);
  } else if (!r.interrupted && spec.run.test && data.test.empty()) {
    const std::string why = "test scoring skipped: the split left 0 test faces (" +
                            (spec.data.split_file.empty() ? "--test " + std::to_string(spec.data.test) +
                                                                " of " + std::to_string(data.train.size() +
                                                                                        data.val.size()) + " faces"
                                                          : "split file " + spec.data.split_file) +
                            "; raise --test, or pass --no-test to say you mean it)";
    out << why << "\n";
    summary["test_skipped"] = why;
  }
  summary["wall_seconds"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();
  write_json(RunDir(dir).summary(), summary);
  return summary;
}

}  // namespace facet
