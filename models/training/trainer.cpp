#include "models/training/trainer.h"
#include "data/io/atomic_file.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <stdexcept>

#include "kernels/cuda/runtime.h"
#include "models/training/report.h"
#include "models/training/run_dir.h"
#include "optim/regularize.h"
#include "tensor/checkpoint.h"
#include "tensor/ops.h"

namespace facet {

namespace {

std::atomic<bool> g_stop{false};

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

std::string fmt(const char* f, double v) {
  char b[64];
  std::snprintf(b, sizeof b, f, v);
  return b;
}

std::string duration_text(double s) {
  if (!std::isfinite(s) || s < 0) return "?";
  const int t = int(s + 0.5);
  char b[32];
  if (t >= 3600) std::snprintf(b, sizeof b, "%dh%02dm", t / 3600, t / 60 % 60);
  else std::snprintf(b, sizeof b, "%dm%02ds", t / 60, t % 60);
  return b;
}

std::vector<std::string> attribute_names(const Model& m) {
  std::vector<std::string> n;
  for (const auto& a : m.attributes()) n.push_back(a.name);
  return n;
}
std::vector<int> attribute_classes(const Model& m) {
  std::vector<int> c;
  for (const auto& a : m.attributes()) c.push_back(a.classes);
  return c;
}

// While fit() runs, this thread's CUDA kernels and copies go to the trainer's stream. Work queued before on
// the default stream (Model::to, checkpoint loads) is waited for first: a non-blocking stream does not wait
// for it. On leaving, also by an exception, the trainer's stream is drained, so that no kernel of ours still
// uses memory the caching allocator hands out again (it reuses blocks without stream synchronisation).
class OnStream {
 public:
  explicit OnStream(cuda::Stream* stream) : stream_(stream) {
    if (!stream_) return;
    cuda::synchronize();
    scope_.emplace(*stream_);
  }
  ~OnStream() {
    if (!stream_) return;
    try {
      stream_->synchronize();
    } catch (const std::exception&) {  // a destructor must not throw; the next CUDA call reports the error
    }
  }
  OnStream(const OnStream&) = delete;
  OnStream& operator=(const OnStream&) = delete;

 private:
  cuda::Stream* stream_;
  std::optional<cuda::StreamScope> scope_;
};

}  // namespace

void request_training_stop() { g_stop.store(true); }
bool training_stop_requested() { return g_stop.load(); }
void clear_training_stop() { g_stop.store(false); }

// ---- batches -> tensors ------------------------------------------------------------------------------------------

Tensor batch_images(const data::Batch& b, bool mirror, Device device) {
  Tensor x = Tensor::from_vector(b.images, {b.n, b.c, b.h, b.w});  // (N, C, H, W), on the host
  if (mirror) {
    float* p = x.data();
    for (int64_t row = 0; row < int64_t(b.n) * b.c * b.h; ++row) std::reverse(p + row * b.w, p + (row + 1) * b.w);
  }
  return x.to(device);
}

std::vector<int> head_tasks(const Model& model, const data::LabelScheme& scheme) {
  std::vector<int> out;
  for (const auto& h : model.heads()) {
    if (h.regression) {
      if (scheme.target_dim != h.outputs)
        throw std::invalid_argument("head '" + h.name + "' regresses " + std::to_string(h.outputs) +
                                    " numbers; label scheme '" + scheme.name + "' gives " +
                                    std::to_string(scheme.target_dim) + " targets (use --labels tuple)");
      out.push_back(-1);
      continue;
    }
    const int t = scheme.task_index(h.name);
    if (t < 0) throw std::invalid_argument("head '" + h.name + "' has no task in label scheme '" + scheme.name + "'");
    if (int(scheme.tasks[size_t(t)].classes.size()) != h.outputs)
      throw std::invalid_argument("head '" + h.name + "' has " + std::to_string(h.outputs) + " outputs; label scheme '" +
                                  scheme.name + "' has " + std::to_string(scheme.tasks[size_t(t)].classes.size()) +
                                  " classes for it");
    out.push_back(t);
  }
  return out;
}

std::vector<int> attribute_tasks(const Model& model, const data::LabelScheme& scheme) {
  std::vector<int> out;
  for (const auto& a : model.attributes()) {
    const int t = scheme.task_index(a.name);
    if (t < 0)
      throw std::invalid_argument("the model predicts '" + a.name + "', which label scheme '" + scheme.name +
                                  "' does not label");
    out.push_back(t);
  }
  return out;
}

Tensor batch_loss(const Model& model, const std::vector<Tensor>& outputs, const data::Batch& b,
                  const std::vector<int>& head_task, const LossOptions& options) {
  const auto& heads = model.heads();
  std::vector<std::vector<int32_t>> labels(heads.size());
  std::vector<std::vector<float>> targets(heads.size());
  for (size_t h = 0; h < heads.size(); ++h) {
    if (heads[h].regression) {
      if (b.target_dim != heads[h].outputs || b.targets.size() != size_t(b.n) * size_t(b.target_dim))
        throw std::invalid_argument("batch has " + std::to_string(b.target_dim) + " targets per face; head '" +
                                    heads[h].name + "' needs " + std::to_string(heads[h].outputs));
      targets[h] = b.targets;
    } else {
      labels[h] = b.labels.at(size_t(head_task[h]));
    }
  }
  return model_loss(model, outputs, labels, targets, options);
}

// ---- evaluation ------------------------------------------------------------------------------------------------

std::vector<Tensor> infer(Model& model, const data::Batch& b, bool tta) {
  NoGradGuard no_grad;
  const Device device = model.device();
  std::vector<Tensor> out = model.forward(batch_images(b, false, device));
  if (!tta) return out;
  std::vector<Tensor> mirrored = model.forward(batch_images(b, true, device));
  for (size_t h = 0; h < out.size(); ++h) out[h] = (out[h] + mirrored[h]) * 0.5f;  // mean of the outputs
  return out;
}

std::vector<Tensor> infer_ensemble(const std::vector<Model*>& models, const std::vector<const data::Batch*>& batches,
                                   bool tta) {
  if (models.empty() || models.size() != batches.size())
    throw std::invalid_argument("infer_ensemble: " + std::to_string(models.size()) + " models for " +
                                std::to_string(batches.size()) + " batches (one batch per model)");
  std::vector<Tensor> out = infer(*models[0], *batches[0], tta);
  if (models.size() == 1) return out;
  NoGradGuard no_grad;
  for (size_t k = 1; k < models.size(); ++k) {
    std::vector<Tensor> o = infer(*models[k], *batches[k], tta);
    for (size_t h = 0; h < out.size(); ++h) out[h] = out[h] + o[h];
  }
  const float inv = 1.0f / float(models.size());
  for (auto& t : out) t = t * inv;
  return out;
}

void require_same_heads(const Model& first, const Model& other, const std::string& what) {
  auto heads_text = [](const Model& m) {
    std::string s;
    for (const auto& h : m.heads())
      s += (s.empty() ? "" : ", ") + h.name + " " + std::to_string(h.outputs) + (h.regression ? " (regression)" : "");
    return s;
  };
  const auto &a = first.heads(), &b = other.heads();
  bool same = a.size() == b.size();
  for (size_t h = 0; same && h < a.size(); ++h)
    same = a[h].name == b[h].name && a[h].outputs == b[h].outputs && a[h].regression == b[h].regression;
  const auto aa = first.attributes(), ba = other.attributes();
  same = same && aa.size() == ba.size();
  for (size_t t = 0; same && t < aa.size(); ++t) same = aa[t].name == ba[t].name && aa[t].classes == ba[t].classes;
  if (!same || first.kind() != other.kind())
    throw std::invalid_argument(what + " is a " + other.kind() + " with heads " + heads_text(other) +
                                "; the ensemble's first model is a " + first.kind() + " with heads " +
                                heads_text(first) + ": members must be one model kind with the same heads");
}

Metrics evaluate(Model& model, data::Loader& loader, const data::LabelScheme& scheme, const EvalOptions& options) {
  return evaluate(std::vector<Model*>{&model}, std::vector<data::Loader*>{&loader}, scheme, options);
}

Metrics evaluate(const std::vector<Model*>& models, const std::vector<data::Loader*>& loaders,
                 const data::LabelScheme& scheme, const EvalOptions& options) {
  if (models.empty() || models.size() != loaders.size())
    throw std::invalid_argument("evaluate: " + std::to_string(models.size()) + " models for " +
                                std::to_string(loaders.size()) + " loaders (one loader per model)");
  Model& model = *models[0];
  for (size_t k = 1; k < models.size(); ++k) require_same_heads(model, *models[k], "model " + std::to_string(k + 1));
  const std::vector<int> attr_task = attribute_tasks(model, scheme);
  const std::vector<int> head_task = options.loss ? head_tasks(model, scheme) : std::vector<int>{};
  Metrics metrics(attribute_specs(attribute_names(model), attribute_classes(model), scheme), default_groupings());
  for (size_t k = 0; k < models.size(); ++k) {
    models[k]->set_training(false);
    loaders[k]->start_epoch(0);
  }
  std::vector<data::Batch> bs(models.size());
  std::vector<const data::Batch*> batches;
  for (const auto& x : bs) batches.push_back(&x);
  const data::Batch& b = bs[0];
  const auto& samples = loaders[0]->dataset().samples;
  while (loaders[0]->next(bs[0])) {
    for (size_t k = 1; k < models.size(); ++k)
      if (!loaders[k]->next(bs[k]) || bs[k].indices != b.indices)
        throw std::logic_error("evaluate: the loader of model " + std::to_string(k + 1) +
                               " does not give the first loader's faces in its order (same data set, no shuffle, "
                               "same batch size needed)");
    if (b.n == 0) continue;
    std::vector<Tensor> outputs = infer_ensemble(models, batches, options.tta);
    Prediction p = model.predict(outputs);
    std::vector<std::vector<int32_t>> truth;
    for (int t : attr_task) truth.push_back(b.labels.at(size_t(t)));
    std::vector<std::vector<int32_t>> groups(2, std::vector<int32_t>(size_t(b.n)));
    for (int i = 0; i < b.n; ++i) {
      const auto& s = samples.at(size_t(b.indices[size_t(i)]));
      groups[0][size_t(i)] = s.race;
      groups[1][size_t(i)] = s.gender;
    }
    metrics.add(truth, p.classes, groups, p.defined);
    if (options.loss) {
      NoGradGuard no_grad;
      metrics.add_loss(double(batch_loss(model, outputs, b, head_task, {}).item()) * b.n, b.n);
    }
    if (options.on_batch) options.on_batch(b, p);
  }
  return metrics;
}

// ---- checkpoints ---------------------------------------------------------------------------------------------------

LoadedModel load_model_checkpoint(const std::string& path) {
  Checkpoint ck = load_checkpoint(path);  // validated: magic, sizes, CRC, table
  if (!ck.meta.is_object() || !ck.meta.contains("model") || !ck.meta.contains("scheme") ||
      !ck.meta.contains("transform"))
    throw std::runtime_error("checkpoint '" + path +
                             "' is not a facet model checkpoint: its metadata lacks the model config, label scheme or "
                             "input transform (use best.ckpt or last.ckpt from a `facet train` run directory)");
  LoadedModel m;
  m.meta = ck.meta;
  try {
    m.model = make_model(ck.meta.at("model"), 0);
    m.scheme = data::LabelScheme::from_json(ck.meta.at("scheme"));
    m.transform = transform_from_json(ck.meta.at("transform"));
  } catch (const std::exception& e) {
    throw std::runtime_error("checkpoint '" + path + "': its metadata does not describe a model facet can build: " +
                             e.what());
  }
  std::vector<NamedTensor> targets = m.model->parameters();
  for (auto& b : m.model->buffers()) targets.push_back(b);
  try {
    ck.load_into(targets, {"optim/"});
  } catch (const std::exception& e) {
    throw std::runtime_error("checkpoint '" + path + "' does not fit the " + m.model->kind() +
                             " model its metadata describes: " + e.what());
  }
  // A NaN or inf weight (a run that diverged without NaN loss) scores every face the same: refuse, don't score.
  for (const auto& t : targets) {
    const std::vector<float> v = t.tensor.to_vector();
    const auto bad = std::find_if(v.begin(), v.end(), [](float x) { return !std::isfinite(x); });
    if (bad != v.end())
      throw std::runtime_error("checkpoint '" + path + "': tensor '" + t.name + "' holds a non-finite value (" +
                               std::to_string(*bad) + " at element " + std::to_string(bad - v.begin()) + " of " +
                               std::to_string(v.size()) + "): the run diverged; use an earlier checkpoint or "
                               "retrain with a lower --lr");
  }
  m.model->set_training(false);
  return m;
}

// ---- schedules and optimizers ------------------------------------------------------------------------------------

LrSchedule schedule_of(const OptimSpec& o, int epochs) {
  LrSchedule s;
  if (o.schedule == "constant") s = LrSchedule::constant(o.lr);
  else if (o.schedule == "step") s = LrSchedule::step(o.lr, o.step_size, o.gamma);
  else if (o.schedule == "cosine") s = LrSchedule::cosine(o.lr, std::max(1, epochs - o.warmup), o.min_lr);
  else throw std::invalid_argument("--schedule '" + o.schedule + "': use constant, step or cosine");
  if (o.warmup > 0) s = s.with_warmup(o.warmup);
  return s;
}

std::unique_ptr<Optimizer> optimizer_of(const OptimSpec& o, std::vector<NamedTensor> params) {
  nlohmann::json c = {{"type", o.optimizer}, {"lr", o.lr}};
  if (o.optimizer == "sgd") {
    c["momentum"] = o.momentum;
    c["nesterov"] = o.nesterov;
    c["weight_decay"] = o.weight_decay;
  } else if (o.optimizer == "adam" || o.optimizer == "adamw") {
    if (o.weight_decay > 0 || o.optimizer == "adam") c["weight_decay"] = o.weight_decay;  // adamw: 0.01 by default
  } else {
    throw std::invalid_argument("--optimizer '" + o.optimizer + "': use sgd, adam or adamw");
  }
  auto opt = make_optimizer(c, std::move(params));
  if (o.max_norm > 0) opt->set_max_norm(o.max_norm);
  return opt;
}

// ---- epoch records -----------------------------------------------------------------------------------------------

nlohmann::json EpochRecord::to_json(const std::vector<AttributeSpec>& attributes) const {
  nlohmann::json j = {{"epoch", epoch}, {"lr", lr}, {"seconds", seconds}, {"images_per_s", images_per_s},
                      {"train_loss", train_loss}};
  for (size_t a = 0; a < attributes.size(); ++a) j["train_" + attributes[a].name] = train_accuracy[a];
  if (has_val) {
    j["val_loss"] = val_loss;
    j["val_mean"] = val_mean;
    for (size_t a = 0; a < attributes.size(); ++a) {
      j["val_" + attributes[a].name] = val_accuracy[a];
      if (attributes[a].ordinal) j["val_" + attributes[a].name + "_one_off"] = val_one_off[a];
    }
  }
  return j;
}

EpochRecord EpochRecord::from_json(const nlohmann::json& j, const std::vector<AttributeSpec>& attributes) {
  EpochRecord r;
  r.epoch = j.at("epoch");
  r.lr = j.at("lr");
  r.seconds = j.at("seconds");
  r.images_per_s = j.at("images_per_s");
  r.train_loss = j.at("train_loss");
  r.has_val = j.contains("val_loss");
  for (const auto& a : attributes) {
    r.train_accuracy.push_back(j.at("train_" + a.name));
    if (r.has_val) {
      r.val_accuracy.push_back(j.at("val_" + a.name));
      r.val_one_off.push_back(a.ordinal ? j.at("val_" + a.name + "_one_off").get<double>() : 0.0);
    }
  }
  if (r.has_val) {
    r.val_loss = j.at("val_loss");
    r.val_mean = j.at("val_mean");
  }
  return r;
}

// ---- the trainer ---------------------------------------------------------------------------------------------------

Trainer::Trainer(Model& model, const TrainSpec& spec, const RunData& data, std::string run_dir, std::ostream& out)
    : model_(model), spec_(spec), data_(data), dir_(std::move(run_dir)), out_(out) {
  device_ = parse_device(spec_.run.device);
  require_device(device_, "--device " + spec_.run.device);
  model_.to(device_);
  if (device_ == Device::CUDA) stream_ = std::make_unique<cuda::Stream>();
  head_task_ = head_tasks(model_, data_.scheme);
  attribute_task_ = attribute_tasks(model_, data_.scheme);
  attributes_ = attribute_specs(attribute_names(model_), attribute_classes(model_), data_.scheme);
  opt_ = optimizer_of(spec_.optim, model_.parameters());

  data::LoaderOptions lo;
  lo.batch_size = spec_.run.batch;
  lo.workers = spec_.data.workers;
  lo.seed = spec_.run.seed;
  lo.transform = data_.transform;
  lo.augment = true;
  lo.shuffle = true;
  lo.weights = data_.train_weights;
  train_loader_ = std::make_unique<data::Loader>(data_.train, lo);
  if (!data_.val.empty()) {
    lo.augment = false;
    lo.shuffle = false;
    lo.weights.clear();
    lo.batch_size = std::max(spec_.run.batch, 128);
    val_loader_ = std::make_unique<data::Loader>(data_.val, lo);
  }
}

Trainer::~Trainer() = default;

nlohmann::json Trainer::model_meta() const {
  return {{"model", model_.config()},
          {"scheme", data_.scheme.to_json()},
          {"transform", data_.transform.to_json()},
          {"spec", to_json(spec_)}};
}

// ---- checkpoints of the run ------------------------------------------------------------------------------------

nlohmann::json EpochPosition::to_json() const {
  return {{"epoch", epoch},   {"batch", batch},       {"loss_sum", loss_sum},
          {"seen", seen},     {"correct", correct},   {"labelled", labelled}};
}

EpochPosition EpochPosition::from_json(const nlohmann::json& j) {
  EpochPosition p;
  p.epoch = j.at("epoch");
  p.batch = j.at("batch");
  p.loss_sum = j.at("loss_sum");  // nlohmann writes doubles in round-trip precision: the sum comes back exact
  p.seen = j.at("seen");
  p.correct = j.at("correct").get<std::vector<int64_t>>();
  p.labelled = j.at("labelled").get<std::vector<int64_t>>();
  return p;
}

namespace {

// Refuses to checkpoint a diverged model: a loss can stay finite (1e33) while weights or batchnorm running
// variances overflow to inf, and such a checkpoint would load and score every face alike. Throws, naming the
// first tensor (parameters, then buffers, then optimizer state) holding inf or NaN and the step it was found at.
void require_finite(const std::vector<NamedTensor>& tensors, int epoch, int64_t step, const std::string& file) {
  for (const auto& t : tensors) {
    const std::vector<float> v = t.tensor.to_vector();
    for (size_t i = 0; i < v.size(); ++i) {
      if (std::isfinite(v[i])) continue;
      throw std::runtime_error("training diverged: tensor '" + t.name + "' holds " + std::to_string(v[i]) +
                               " (element " + std::to_string(i) + " of " + std::to_string(v.size()) +
                               ") in epoch " + std::to_string(epoch) + " after optimizer step " +
                               std::to_string(step) + "; " + file +
                               " was not written, the checkpoints on disk hold the last finite state (lower --lr, "
                               "or add --clip 5)");
    }
  }
}

}  // namespace

void Trainer::save_best(int epoch, double score, int64_t step) {
  std::vector<NamedTensor> t = model_.parameters();
  for (auto& b : model_.buffers()) t.push_back(b);
  require_finite(t, epoch, step, RunDir(dir_).best());
  nlohmann::json meta = model_meta();
  meta["facet_checkpoint"] = "model";
  meta["epoch"] = epoch;
  meta["score"] = {{"metric", spec_.run.best_metric}, {"value", score}};
  save_checkpoint(RunDir(dir_).best(), t, meta);
}

void Trainer::save_last(const TrainResult& r, int epochs_done, int since_best, int64_t step,
                        const EpochPosition* mid) {
  std::vector<NamedTensor> t = model_.parameters();
  for (auto& b : model_.buffers()) t.push_back(b);
  for (auto& s : opt_->state_tensors()) t.push_back(s);
  require_finite(t, mid ? mid->epoch + 1 : epochs_done, step, RunDir(dir_).last());
  // A save interrupted by a kill leaves its temporary file behind; the next save clears it away.
  for (const auto& name : io::remove_stale_temps(dir_)) out_ << "removed " << name << " (left by an interrupted save)\n";
  nlohmann::json meta = model_meta();
  meta["facet_checkpoint"] = "training";
  meta["epoch"] = epochs_done;
  meta["step"] = step;
  if (mid) meta["position"] = mid->to_json();
  meta["optimizer"] = opt_->state();
  meta["dropout_offsets"] = model_.dropout_offsets();
  meta["best_epoch"] = r.best_epoch;
  meta["best_score"] = r.best_score;
  meta["since_best"] = since_best;
  meta["history"] = nlohmann::json::array();
  for (const auto& e : r.history) meta["history"].push_back(e.to_json(attributes_));
  save_checkpoint(RunDir(dir_).last(), t, meta);
}

int Trainer::load_last(TrainResult& r, int& since_best, std::optional<EpochPosition>& mid) {
  const std::string path = RunDir(dir_).last();
  for (const auto& name : io::remove_stale_temps(dir_)) out_ << "removed " << name << " (left by an interrupted save)\n";
  if (!std::filesystem::exists(path))
    throw std::runtime_error("cannot resume: " + path + " does not exist (the run finished no epoch yet; start it "
                             "again without --resume)");
  Checkpoint ck = load_checkpoint(path);
  if (ck.meta.value("facet_checkpoint", std::string()) != "training")
    throw std::runtime_error("cannot resume from " + path + ": it is not a training checkpoint");
  if (ck.meta.at("model") != model_.config())
    throw std::runtime_error("cannot resume from " + path + ": it holds a different model (" +
                             ck.meta.at("model").dump() + ") than the run's config.json (" + model_.config().dump() +
                             ")");
  std::vector<NamedTensor> t = model_.parameters();
  for (auto& b : model_.buffers()) t.push_back(b);
  for (auto& s : opt_->state_tensors()) t.push_back(s);
  ck.load_into(t);
  opt_->load_state(ck.meta.at("optimizer"));
  model_.set_dropout_offsets(ck.meta.at("dropout_offsets").get<std::vector<uint64_t>>());
  r.best_epoch = ck.meta.at("best_epoch");
  r.best_score = ck.meta.at("best_score");
  since_best = ck.meta.at("since_best");
  for (const auto& e : ck.meta.at("history")) r.history.push_back(EpochRecord::from_json(e, attributes_));
  const int epochs_done = ck.meta.at("epoch");
  if (ck.meta.contains("position")) {  // a mid-epoch checkpoint (--checkpoint-every); older ones have none
    mid = EpochPosition::from_json(ck.meta.at("position"));
    if (mid->epoch != epochs_done || mid->correct.size() != attributes_.size() ||
        mid->labelled.size() != attributes_.size() || mid->batch < 0 ||
        mid->batch > train_loader_->batches_per_epoch())
      throw std::runtime_error("cannot resume from " + path + ": its position " + ck.meta.at("position").dump() +
                               " does not fit this run (epoch " + std::to_string(epochs_done) + ", " +
                               std::to_string(train_loader_->batches_per_epoch()) + " batches per epoch)");
  }
  return epochs_done;
}

void Trainer::write_history(const std::vector<EpochRecord>& h) {
  nlohmann::json j = nlohmann::json::array();
  for (const auto& e : h) j.push_back(e.to_json(attributes_));
  io::write_file_atomic(RunDir(dir_).metrics_json(), j.dump(2) + "\n");
  std::ostringstream csv;
  csv << "epoch,lr,seconds,images_per_s,train_loss";
  for (const auto& a : attributes_) csv << ",train_" << a.name;
  csv << ",val_loss,val_mean";
  for (const auto& a : attributes_) {
    csv << ",val_" << a.name;
    if (a.ordinal) csv << ",val_" << a.name << "_one_off";
  }
  csv << "\n";
  for (const auto& e : h) {
    csv << e.epoch << "," << e.lr << "," << e.seconds << "," << e.images_per_s << "," << e.train_loss;
    for (double v : e.train_accuracy) csv << "," << v;
    if (e.has_val) {
      csv << "," << e.val_loss << "," << e.val_mean;
      for (size_t a = 0; a < attributes_.size(); ++a) {
        csv << "," << e.val_accuracy[a];
        if (attributes_[a].ordinal) csv << "," << e.val_one_off[a];
      }
    } else {
      csv << ",,";
      for (const auto& a : attributes_) csv << (a.ordinal ? ",," : ",");
    }
    csv << "\n";
  }
  io::write_file_atomic(RunDir(dir_).metrics_csv(), csv.str());
  // Curves: loss, and accuracy per attribute (train dashed-lighter, validation solid), by epoch.
  std::vector<Series> loss{{"train loss", {}, palette(0), false}, {"val loss", {}, palette(1), false}};
  std::vector<Series> acc;
  for (size_t a = 0; a < attributes_.size(); ++a) {
    acc.push_back({"train " + attributes_[a].name, {}, palette(a), true});
    acc.push_back({"val " + attributes_[a].name, {}, palette(a), false});
  }
  for (const auto& e : h) {
    loss[0].y.push_back(e.train_loss);
    if (e.has_val) loss[1].y.push_back(e.val_loss);
    for (size_t a = 0; a < attributes_.size(); ++a) {
      acc[2 * a].y.push_back(100.0 * e.train_accuracy[a]);
      if (e.has_val) acc[2 * a + 1].y.push_back(100.0 * e.val_accuracy[a]);
    }
  }
  plot_curves(RunDir(dir_).loss_png(), "loss per epoch", "loss", loss);
  plot_curves(RunDir(dir_).accuracy_png(), "accuracy per epoch (light: training batches, dark: validation)", "%", acc);
}

// The epoch in progress: the loader's position and the running sums (what a mid-epoch checkpoint stores), the
// count of batches trained for the progress line, and the clock.
struct Trainer::EpochRun {
  int epoch = 0;               // 0-based
  double lr = 0;
  EpochPosition pos;           // pos.batch: loader batches consumed (empty ones too); the running sums
  int64_t steps = 0;           // batches trained (non-empty), the progress line's count
  Clock::time_point t0 = Clock::now();
  double last_print = 0;
  int64_t saved_batch = -1;    // pos.batch at the last mid-epoch save of this epoch (-1: none)
};

// "epoch 2/20 [31/120] 850 img/s loss 1.2345 age 41.2% gender 80.0% ETA 3m10s", rewritten in place on a
// terminal; the final one ends with the epoch's wall time instead of the ETA.
void Trainer::progress_line(const EpochRun& e, bool final) {
  const int64_t batches = train_loader_->batches_per_epoch();
  const int epochs = spec_.run.epochs;
  const double s = since(e.t0), ips = s > 0 ? double(e.pos.seen) / s : 0.0;
  const double per_batch = e.steps ? s / double(e.steps) : 0.0;
  const double epoch_est = epochs_timed_ ? epoch_seconds_sum_ / epochs_timed_ : per_batch * double(batches);
  const double eta = per_batch * double(batches - e.steps) + epoch_est * double(epochs - e.epoch - 1);
  std::string text = "epoch " + std::to_string(e.epoch + 1) + "/" + std::to_string(epochs) + " [" +
                     std::to_string(e.steps) + "/" + std::to_string(batches) + "] " + fmt("%.0f img/s", ips) +
                     " loss " + fmt("%.4f", e.pos.seen ? e.pos.loss_sum / double(e.pos.seen) : 0.0);
  for (size_t a = 0; a < attributes_.size(); ++a)
    text += " " + attributes_[a].name + " " +
            fmt("%.1f%%", e.pos.labelled[a] ? 100.0 * double(e.pos.correct[a]) / double(e.pos.labelled[a]) : 0.0);
  text += final ? " (" + duration_text(s) + ")" : " ETA " + duration_text(eta);
  if (live_) out_ << "\r" << text << "\033[K" << (final ? "\n" : "") << std::flush;
  else out_ << text << "\n" << std::flush;
}

// One optimizer step on one batch: forward -> loss (sum over heads) -> backward -> [clip] -> step; the batch's
// loss and the training accuracy counts go into the epoch's running sums. Returns the batch's mean loss.
float Trainer::train_step(const data::Batch& b, EpochRun& e) {
  std::vector<Tensor> outputs = model_.forward(batch_images(b, false, device_));  // [head] (N, classes)
  Tensor loss = batch_loss(model_, outputs, b, head_task_, loss_options_);
  const float lv = loss.item();
  if (!std::isfinite(lv))
    throw std::runtime_error("training diverged: the loss is " + std::to_string(lv) + " at epoch " +
                             std::to_string(e.epoch + 1) + ", batch " + std::to_string(e.steps + 1) +
                             " (lower --lr, or add --clip 5)");
  opt_->zero_grad();
  loss.backward();
  bool step = true;
  if (spec_.optim.clip > 0) step = std::isfinite(clip_grad_norm(params_, spec_.optim.clip));
  if (step) opt_->step();
  Prediction p = model_.predict(outputs);
  for (size_t a = 0; a < attributes_.size(); ++a) {
    const auto& truth = b.labels.at(size_t(attribute_task_[a]));
    for (int i = 0; i < b.n; ++i) {
      if (truth[size_t(i)] < 0) continue;
      ++e.pos.labelled[a];
      e.pos.correct[a] += p.classes[a][size_t(i)] == truth[size_t(i)];
    }
  }
  e.pos.loss_sum += double(lv) * b.n;
  e.pos.seen += b.n;
  ++e.steps;
  return lv;
}

// The training batches of one epoch (from `mid` when resuming inside it), with progress lines, mid-epoch
// checkpoints (--checkpoint-every) and on_batch. Returns false when a stop was requested (the epoch is not
// recorded); `e` then holds what the interruption message needs.
bool Trainer::run_epoch(EpochRun& e, std::optional<EpochPosition>& mid) {
  const int64_t batches = train_loader_->batches_per_epoch();
  e.pos.epoch = e.epoch;
  e.pos.correct.assign(attributes_.size(), 0);
  e.pos.labelled.assign(attributes_.size(), 0);
  if (mid && mid->epoch == e.epoch) e.pos = *mid;  // the loader skips the batches done, the sums come back
  mid.reset();
  e.steps = e.pos.batch;
  train_loader_->start_epoch(e.epoch, e.pos.batch);
  e.t0 = Clock::now();
  data::Batch b;
  while (train_loader_->next(b)) {
    ++e.pos.batch;
    if (b.n == 0) continue;
    const float lv = train_step(b, e);
    const double s = since(e.t0);
    if ((live_ && s - e.last_print > 0.5) || (!live_ && s - e.last_print > 60)) {
      progress_line(e, false);
      e.last_print = s;
    }
    const int64_t step = int64_t(e.epoch) * batches + e.pos.batch;
    if (spec_.run.checkpoint_every > 0 && step % spec_.run.checkpoint_every == 0) {
      save_last(result_, e.epoch, since_best_, step, &e.pos);
      e.saved_batch = e.pos.batch;
    }
    if (callbacks_.on_batch) callbacks_.on_batch(BatchEvent{e.epoch + 1, e.steps, batches, double(lv)});
    if (training_stop_requested()) return false;
  }
  return true;
}

// The model on the validation split into `rec`, and the validation line.
void Trainer::validate(EpochRecord& rec) {
  Metrics m = evaluate(model_, *val_loader_, data_.scheme, {spec_.run.tta, true, {}});
  rec.has_val = true;
  rec.val_loss = m.mean_loss();
  rec.val_mean = m.mean_accuracy();
  std::string text = "  validation: loss " + fmt("%.4f", rec.val_loss);
  for (size_t a = 0; a < attributes_.size(); ++a) {
    rec.val_accuracy.push_back(m.attribute(a).accuracy());
    rec.val_one_off.push_back(attributes_[a].ordinal ? m.attribute(a).one_off() : 0.0);
    text += " " + attributes_[a].name + " " + fmt("%.2f%%", 100.0 * rec.val_accuracy[a]);
    if (attributes_[a].ordinal) text += fmt(" (one-off %.2f%%)", 100.0 * rec.val_one_off[a]);
    if (m.attribute(a).undefined) text += " undefined " + std::to_string(m.attribute(a).undefined);
    if (m.attribute(a).reject_rule)
      text += fmt(" (coverage %.1f%%, ", 100.0 * m.attribute(a).coverage()) +
              fmt("%.2f%% when defined)", 100.0 * m.attribute(a).accuracy_when_defined());
  }
  out_ << text << "\n";
}

// The epoch's score under --best-metric, higher is better. Without a validation split, the training figures
// stand in.
double Trainer::score_of(const EpochRecord& rec) const {
  const std::string& metric = spec_.run.best_metric;
  const auto& accs = rec.has_val ? rec.val_accuracy : rec.train_accuracy;
  if (metric == "loss") return -(rec.has_val ? rec.val_loss : rec.train_loss);
  if (metric == "mean") {
    double score = 0;
    for (double v : accs) score += v;
    return score / double(std::max<size_t>(1, accs.size()));
  }
  for (size_t i = 0; i < attributes_.size(); ++i)
    if (attributes_[i].name == metric) return accs[i];
  throw std::invalid_argument("--best-metric '" + metric + "': use mean, loss or a head name");
}

// The record of a finished epoch: the training figures, then validation when there is a split.
EpochRecord Trainer::finish_epoch(const EpochRun& e) {
  progress_line(e, true);
  EpochRecord rec;
  rec.epoch = e.epoch + 1;
  rec.lr = e.lr;
  rec.seconds = since(e.t0);
  rec.images_per_s = rec.seconds > 0 ? double(e.pos.seen) / rec.seconds : 0.0;
  rec.train_loss = e.pos.seen ? e.pos.loss_sum / double(e.pos.seen) : 0.0;
  for (size_t a = 0; a < attributes_.size(); ++a)
    rec.train_accuracy.push_back(e.pos.labelled[a] ? double(e.pos.correct[a]) / double(e.pos.labelled[a]) : 0.0);
  if (val_loader_) validate(rec);
  return rec;
}

// Keeps the best checkpoint, rewrites the last one and the curves, prints whether the best moved.
void Trainer::record_epoch(const EpochRecord& rec, double score) {
  const int64_t batches = train_loader_->batches_per_epoch();
  result_.history.push_back(rec);
  epoch_seconds_sum_ += rec.seconds;
  ++epochs_timed_;
  const bool better = result_.best_epoch == 0 || score > result_.best_score;
  if (better) {
    result_.best_epoch = rec.epoch;
    result_.best_score = score;
    since_best_ = 0;
    save_best(rec.epoch, score, int64_t(rec.epoch) * batches);
  } else {
    ++since_best_;
  }
  save_last(result_, rec.epoch, since_best_, int64_t(rec.epoch) * batches);
  write_history(result_.history);
  const std::string& metric = spec_.run.best_metric;
  out_ << "  " << (better ? "new best" : "best stays") << ": epoch " << result_.best_epoch << " ("
       << (metric == "loss" ? "loss " + fmt("%.4f", -result_.best_score)
                            : metric + " " + fmt("%.2f%%", 100 * result_.best_score))
       << ")\n"
       << std::flush;
}

// for each epoch: learning rate from the schedule, run_epoch, the record (validate), the checkpoints, on_epoch,
// early stopping.
TrainResult Trainer::fit(bool resume) {
  OnStream on_stream(stream_.get());
  clear_training_stop();
  result_ = TrainResult();
  since_best_ = 0;
  epoch_seconds_sum_ = 0;
  epochs_timed_ = 0;
  int start = 0;
  std::optional<EpochPosition> mid;  // set when resuming from a mid-epoch checkpoint
  if (resume) {
    start = load_last(result_, since_best_, mid);
    out_ << "resuming " << dir_ << " after epoch " << start;
    if (mid) out_ << " and " << mid->batch << " batches of epoch " << start + 1;
    out_ << " (best so far: epoch " << result_.best_epoch << ")\n";
  }
  const RunSpec& run = spec_.run;
  const LrSchedule schedule = schedule_of(spec_.optim, run.epochs);
  schedule.validate();
  loss_options_ = LossOptions();
  loss_options_.label_smoothing = spec_.optim.label_smoothing;
  params_ = model_.parameters();
  live_ = &out_ == &std::cout && isatty(STDOUT_FILENO);
  const auto t_fit = Clock::now();
  if (start >= run.epochs) out_ << "nothing to do: " << start << " of " << run.epochs << " epochs are done\n";

  for (int epoch = start; epoch < run.epochs; ++epoch) {
    EpochRun e;
    e.epoch = epoch;
    e.lr = schedule.at(epoch);
    opt_->set_learning_rate(float(e.lr));
    model_.set_training(true);
    if (!run_epoch(e, mid)) {
      if (live_) out_ << "\n";
      out_ << "interrupted during epoch " << epoch + 1 << "; " << dir_ << "/last.ckpt holds epoch " << epoch;
      if (e.saved_batch >= 0) out_ << " and " << e.saved_batch << " batches of epoch " << epoch + 1;
      out_ << ". Continue with: facet train --resume " << dir_ << "\n";
      result_.interrupted = true;
      break;
    }
    const EpochRecord rec = finish_epoch(e);
    record_epoch(rec, score_of(rec));
    if (callbacks_.on_epoch) callbacks_.on_epoch(rec);
    if (run.patience > 0 && since_best_ >= run.patience && epoch + 1 < run.epochs) {
      out_ << "early stop: no better " << run.best_metric << " for " << run.patience << " epochs\n";
      result_.stopped_early = true;
      break;
    }
  }
  result_.seconds = since(t_fit);
  return result_;
}

}  // namespace facet
