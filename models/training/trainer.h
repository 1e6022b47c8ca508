// The training loop and evaluation.
//
// fit(): for each epoch: learning rate from the schedule, then over the shuffled training batches
//   Batch -> Tensor (N, C, H, W) -> model.forward -> model_loss (sum over heads) -> backward -> [clip] -> step,
// with a progress line (images/s, ETA, running loss and accuracy); then evaluation on the validation split,
// one record per epoch (metrics.json / metrics.csv / PNG curves in the run directory), the best checkpoint kept
// by the chosen validation score, the last one rewritten every epoch (model, optimizer state, epoch, dropout
// stream positions, history), and early stopping after `patience` epochs without a better score.
// Everything random comes from the run's seed (data order, augmentation, dropout masks; initialisation happens
// in make_model), and the kernels reduce in a fixed order, so a run repeats bit for bit, and a run resumed from
// its last checkpoint continues exactly as the uninterrupted run would have.
#pragma once
#include <atomic>
#include <functional>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "data/batch.h"
#include "data/loader.h"
#include "models/training/metrics.h"
#include "models/model.h"
#include "models/training/trainer_data.h"
#include "models/training/trainer_spec.h"
#include "optim/optimizer.h"
#include "optim/schedule.h"

namespace facet {

namespace cuda {
class Stream;
}

// ---- batches -> tensors ------------------------------------------------------------------------------------------
// The images of a batch as an (N, C, H, W) tensor on `device`; `mirror` flips every image left-right
// (test-time flip).
Tensor batch_images(const data::Batch& b, bool mirror = false, Device device = Device::CPU);
// Which task of the label scheme feeds each head (classification) and each attribute; -1 for regression heads.
// Throws, naming the head, when the scheme has no task of that name.
std::vector<int> head_tasks(const Model& model, const data::LabelScheme& scheme);
std::vector<int> attribute_tasks(const Model& model, const data::LabelScheme& scheme);
// The loss of one batch under the model's heads (labels for classification heads, targets for regression ones).
Tensor batch_loss(const Model& model, const std::vector<Tensor>& outputs, const data::Batch& b,
                  const std::vector<int>& head_task, const LossOptions& options);

// ---- evaluation ------------------------------------------------------------------------------------------------
struct EvalOptions {
  bool tta = false;  // average the model's outputs on each image and its mirror image
  bool loss = true;  // also compute the mean loss (needs the labels/targets of every head)
  // Called for every batch with the predictions (for per-sample reports); may be empty.
  std::function<void(const data::Batch&, const Prediction&)> on_batch;
};
// Runs the model in eval mode over every batch of `loader` (epoch 0, no augmentation expected) and scores it:
// per-attribute metrics plus race and gender groups from each face's raw attributes.
Metrics evaluate(Model& model, data::Loader& loader, const data::LabelScheme& scheme, const EvalOptions& options);
// The same for an ensemble: models[k] reads loaders[k] (the same faces in the same order, each through its own
// model's input transform, so members may differ in input size), and the ensemble's output is the mean of the
// members' outputs (see infer_ensemble), read by the first model's predict(). Throws when the members' heads
// differ or the loaders fall out of step.
Metrics evaluate(const std::vector<Model*>& models, const std::vector<data::Loader*>& loaders,
                 const data::LabelScheme& scheme, const EvalOptions& options);
// The outputs for a batch of images (eval mode, no graph), averaged with the mirror images' when `tta`. The
// images go to the model's device; the outputs stay there.
std::vector<Tensor> infer(Model& model, const data::Batch& b, bool tta);
// An ensemble's outputs: batches[k] (the same faces, in models[k]'s input transform) through models[k], then
//   out_h = (1/M) sum_k out_h^(k)        for each head h, over the M members.
// For a softmax head that is the mean of the logits, so softmax(out) is the normalised geometric mean of the
// members' probabilities; test-time flip averages the same way. All members must be on one device.
std::vector<Tensor> infer_ensemble(const std::vector<Model*>& models, const std::vector<const data::Batch*>& batches,
                                   bool tta);
// Throws, naming `what` and both models' kinds and heads, unless `other` is the kind of `first` with the same
// heads and attributes (names, widths, regression or not), i.e. unless their outputs can be averaged and read by
// first.predict().
void require_same_heads(const Model& first, const Model& other, const std::string& what);

// ---- checkpoints ---------------------------------------------------------------------------------------------------
// A model with what is needed to feed and read it: its label scheme and input transform.
struct LoadedModel {
  std::unique_ptr<Model> model;
  data::LabelScheme scheme;
  data::TransformConfig transform;
  nlohmann::json meta;
};
// Reads a checkpoint written by the trainer (best.ckpt or last.ckpt) and rebuilds its model. Throws
// std::runtime_error naming the file when it is not a facet model checkpoint, or when its tensors do not fit the
// model its metadata describes (which tensor, both shapes).
LoadedModel load_model_checkpoint(const std::string& path);

// ---- training --------------------------------------------------------------------------------------------------
struct EpochRecord {
  int epoch = 0;  // 1-based
  double lr = 0, seconds = 0, images_per_s = 0;
  double train_loss = 0;
  std::vector<double> train_accuracy;  // [attribute], running accuracy of the training batches (dropout on)
  bool has_val = false;
  double val_loss = 0, val_mean = 0;
  std::vector<double> val_accuracy, val_one_off;  // [attribute]; one-off is 0 for non-ordinal attributes
  nlohmann::json to_json(const std::vector<AttributeSpec>& attributes) const;
  static EpochRecord from_json(const nlohmann::json& j, const std::vector<AttributeSpec>& attributes);
};

struct TrainResult {
  std::vector<EpochRecord> history;
  int best_epoch = 0;
  double best_score = 0;
  bool stopped_early = false;
  bool interrupted = false;
  double seconds = 0;  // wall time of the epochs run in this call
};

// The learning-rate schedule an OptimSpec asks for, over `epochs` epochs.
LrSchedule schedule_of(const OptimSpec& o, int epochs);
std::unique_ptr<Optimizer> optimizer_of(const OptimSpec& o, std::vector<NamedTensor> params);

// Where a training run stands inside an epoch: what a mid-epoch checkpoint (--checkpoint-every) stores besides
// the weights, optimizer state and dropout stream positions, so that a resumed run goes on bit for bit. The
// loader needs only (epoch, batch): its order and augmentation derive from (seed, epoch, position).
struct EpochPosition {
  int epoch = 0;            // 0-based epoch in progress
  int64_t batch = 0;        // training batches of it done (the next one to run)
  double loss_sum = 0;      // running sums of the epoch's training figures so far
  int64_t seen = 0;
  std::vector<int64_t> correct, labelled;  // [attribute]
  nlohmann::json to_json() const;
  static EpochPosition from_json(const nlohmann::json& j);
};

// What on_batch sees after each optimizer step.
struct BatchEvent {
  int epoch = 0;        // 1-based
  int64_t batch = 0;    // batches trained in this epoch so far (1-based after the first)
  int64_t batches = 0;  // per epoch
  double loss = 0;      // this batch's mean loss
};
// Hooks into fit() (tiny-dnn's on_batch_enumerate / on_epoch_enumerate): on_batch after every optimizer step
// (and after a --checkpoint-every save), on_epoch after each epoch's record and checkpoints are written. Either
// may call request_training_stop(); after on_batch the run then stops as on Ctrl-C.
struct TrainCallbacks {
  std::function<void(const BatchEvent&)> on_batch;
  std::function<void(const EpochRecord&)> on_epoch;
};

class Trainer {
 public:
  // `run_dir` receives best.ckpt, last.ckpt, metrics.json/.csv and the curves; `out` the progress lines.
  // Moves the model to spec.run.device (throws, saying to use --device cpu, when that is cuda and no CUDA
  // device can be used); on CUDA the trainer owns a stream that all of fit()'s kernels and copies go to.
  Trainer(Model& model, const TrainSpec& spec, const RunData& data, std::string run_dir, std::ostream& out);
  ~Trainer();
  // Continues from <run_dir>/last.ckpt when `resume` (refused when it was written for another run).
  //   for each epoch: run_epoch (train_step per batch, progress lines), validate, keep best/last, on_epoch.
  TrainResult fit(bool resume);
  void set_callbacks(TrainCallbacks callbacks) { callbacks_ = std::move(callbacks); }
  const std::vector<AttributeSpec>& attributes() const { return attributes_; }
  Device device() const { return device_; }

 private:
  struct EpochRun;  // the epoch in progress (trainer.cpp)
  float train_step(const data::Batch& b, EpochRun& e);
  bool run_epoch(EpochRun& e, std::optional<EpochPosition>& mid);
  void progress_line(const EpochRun& e, bool final);
  void validate(EpochRecord& rec);
  EpochRecord finish_epoch(const EpochRun& e);
  double score_of(const EpochRecord& rec) const;
  void record_epoch(const EpochRecord& rec, double score);
  // `step` (optimizer steps since the run began) names the state in errors; `mid` is set for a mid-epoch save.
  void save_last(const TrainResult& r, int epochs_done, int since_best, int64_t step,
                 const EpochPosition* mid = nullptr);
  void save_best(int epoch, double score, int64_t step);
  int load_last(TrainResult& r, int& since_best, std::optional<EpochPosition>& mid);
  void write_history(const std::vector<EpochRecord>& h);
  nlohmann::json model_meta() const;

  Model& model_;
  const TrainSpec& spec_;
  const RunData& data_;
  std::string dir_;
  std::ostream& out_;
  std::vector<AttributeSpec> attributes_;
  std::vector<int> head_task_, attribute_task_;
  Device device_ = Device::CPU;
  std::unique_ptr<cuda::Stream> stream_;  // CUDA only
  std::unique_ptr<Optimizer> opt_;
  std::unique_ptr<data::Loader> train_loader_, val_loader_;
  TrainCallbacks callbacks_;
  // State of one fit() call.
  TrainResult result_;
  int since_best_ = 0;
  double epoch_seconds_sum_ = 0;  // of the epochs timed in this call, for the ETA
  int epochs_timed_ = 0;
  bool live_ = false;              // progress lines rewritten in place (a terminal)
  LossOptions loss_options_;
  std::vector<NamedTensor> params_;
};

// Asks a running fit() to stop after the current batch (from a SIGINT handler: async-signal-safe). The epoch in
// progress is not saved; the last checkpoint holds the previous one, and `--resume` continues from there.
void request_training_stop();
bool training_stop_requested();
void clear_training_stop();

}  // namespace facet
