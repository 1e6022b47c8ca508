// facet::Predictor (models/predictor.h): checkpoints -> models on a device; images -> one batch per ensemble
// member (in that member's input transform) -> the mean of the members' outputs -> per-head classes.
#include "models/predictor.h"

#include <filesystem>
#include <mutex>
#include <stdexcept>

#include "data/image_io.h"
#include "data/transforms.h"
#include "models/predictor_internal.h"
#include "tensor/ops.h"

namespace fs = std::filesystem;

namespace facet {

// ---- loading (shared with `facet eval`)
// -----------------------------------------------------------------------

LoadedModel load_expected_model(const std::string& checkpoint, const std::string& model_kind,
                                const std::string& labels) {
  if (!fs::exists(checkpoint))
    throw std::runtime_error("checkpoint '" + checkpoint +
                             "' does not exist (a run directory holds best.ckpt and "
                             "last.ckpt)");
  LoadedModel m = load_model_checkpoint(checkpoint);
  const std::string kind = m.model->kind();
  auto describe = [&] {
    return kind + " (" + std::to_string(m.transform.width) + "x" + std::to_string(m.transform.height) + ", " +
           std::to_string(m.transform.channels) + " channel(s), labels " + m.scheme.name + ")";
  };
  if (!model_kind.empty() && model_kind != kind)
    throw std::runtime_error("checkpoint '" + checkpoint + "' holds a " + describe() + " model, not a " +
                             model_kind + ": pass a " + model_kind + " checkpoint or leave --model out");
  if (!labels.empty() && labels != m.scheme.name)
    throw std::runtime_error("checkpoint '" + checkpoint + "' was trained on labels '" + m.scheme.name +
                             "', not '" + labels + "': its heads cannot be scored on another scheme");
  return m;
}

std::vector<LoadedModel> load_ensemble(const std::vector<std::string>& checkpoints,
                                       const std::string& model_kind, const std::string& labels,
                                       Device device) {
  std::vector<LoadedModel> members;
  for (const auto& c : checkpoints) {
    members.push_back(load_expected_model(c, model_kind, labels));
    members.back().model->to(device);
    if (members.size() == 1) continue;
    require_same_heads(*members[0].model, *members.back().model, "checkpoint '" + c + "'");
    if (members.back().scheme.to_json() != members[0].scheme.to_json())
      throw std::runtime_error("checkpoint '" + c + "' was trained on labels '" + members.back().scheme.name +
                               "' (or other class edges) than '" + checkpoints[0] + "' ('" +
                               members[0].scheme.name +
                               "'): an ensemble's members must share one label scheme");
  }
  return members;
}

// ---- the predictor
// ---------------------------------------------------------------------------------------------

struct Predictor::Impl {
  PredictorOptions options;
  std::vector<LoadedModel> members;
  std::vector<Model*> models;
  ModelInfo info;
  std::vector<int> head_task;  // [attribute] -> task of members[0].scheme, -1 when it has none
  std::vector<int> prob_head;  // [attribute] -> the softmax head of the same name and width, or -1
  std::mutex mutex;            // Model::forward is not reentrant: one prediction at a time

  void load(const std::vector<std::string>& checkpoints);
  std::vector<ImagePrediction> run(const std::vector<data::Image>& images);
};

namespace {

int task_of(const data::LabelScheme& scheme, const std::string& name) {
  for (size_t k = 0; k < scheme.tasks.size(); ++k)
    if (scheme.tasks[k].name == name) return int(k);
  return -1;
}

// Copies a view into an Image (packed rows), checking every field against what the caller can have meant.
data::Image image_of(const ImageView& v, size_t index) {
  const std::string at = "Predictor: image " + std::to_string(index) + ": ";
  if (!v.pixels) throw std::invalid_argument(at + "pixels is null");
  if (v.width <= 0 || v.height <= 0)
    throw std::invalid_argument(at + "size " + std::to_string(v.width) + "x" + std::to_string(v.height) +
                                " (width and height must be > 0)");
  if (v.channels != 1 && v.channels != 3)
    throw std::invalid_argument(at + std::to_string(v.channels) +
                                " channels (1 = gray or 3 = RGB; drop alpha "
                                "first)");
  const size_t row = size_t(v.width) * size_t(v.channels);
  const size_t stride = v.stride ? v.stride : row;
  if (stride < row)
    throw std::invalid_argument(at + "stride " + std::to_string(stride) + " is shorter than a row of " +
                                std::to_string(row) + " bytes (width * channels)");
  if (int64_t(v.width) * v.height > data::max_pixels())
    throw std::invalid_argument(at + std::to_string(v.width) + "x" + std::to_string(v.height) +
                                " is over the " + std::to_string(data::max_pixels()) +
                                "-pixel limit (FACET_MAX_PIXELS)");
  data::Image img(v.width, v.height, v.channels);
  for (int y = 0; y < v.height; ++y)
    std::copy_n(v.pixels + size_t(y) * stride, row, img.pixels.data() + size_t(y) * row);
  return img;
}

}  // namespace

void Predictor::Impl::load(const std::vector<std::string>& checkpoints) {
  if (checkpoints.empty()) throw std::invalid_argument("Predictor: no checkpoint given");
  if (!(options.min_confidence >= 0 && options.min_confidence <= 1))
    throw std::invalid_argument("Predictor: min_confidence " + std::to_string(options.min_confidence) +
                                " is outside 0..1");
  const Device device = parse_device(options.device);
  require_device(device, "device '" + options.device + "'");
  members = load_ensemble(checkpoints, options.model_kind, "", device);
  for (const auto& mm : members) {
    models.push_back(mm.model.get());
    if (mm.transform.channels != members[0].transform.channels)  // one decoding of each image serves all
      throw std::runtime_error("checkpoint '" + checkpoints[models.size() - 1] + "' reads " +
                               std::to_string(mm.transform.channels) + " channel(s), '" + checkpoints[0] +
                               "' " + std::to_string(members[0].transform.channels) +
                               ": an ensemble's members must all be colour or all grayscale");
  }
  const LoadedModel& m = members[0];
  info.kind = m.model->kind();
  info.members = int(members.size());
  info.width = m.transform.width, info.height = m.transform.height, info.channels = m.transform.channels;
  const auto& heads = m.model->heads();
  for (const auto& at : m.model->attributes()) {
    const int task = task_of(m.scheme, at.name);
    head_task.push_back(task);
    int ph = -1;
    for (size_t h = 0; h < heads.size(); ++h)
      if (heads[h].name == at.name && !heads[h].regression && heads[h].outputs == at.classes) ph = int(h);
    prob_head.push_back(ph);
    info.heads.push_back(at.name);
    std::vector<std::string> labels;
    for (int c = 0; c < at.classes; ++c)
      labels.push_back(task >= 0 && size_t(c) < m.scheme.tasks[size_t(task)].classes.size()
                           ? m.scheme.tasks[size_t(task)].classes[size_t(c)]
                           : std::to_string(c));
    info.labels.push_back(std::move(labels));
  }
}

// images (already at info.channels) -> per member an (N, C, H, W) batch in its transform -> ensemble outputs.
std::vector<ImagePrediction> Predictor::Impl::run(const std::vector<data::Image>& images) {
  if (images.empty()) return {};
  std::vector<data::Batch> bs(members.size());
  std::vector<const data::Batch*> batches;
  for (size_t k = 0; k < members.size(); ++k) {
    const auto& t = members[k].transform;
    data::Batch& b = bs[k];
    b.c = t.channels, b.h = t.height, b.w = t.width, b.n = int(images.size());
    const size_t per_image = size_t(t.channels) * t.width * t.height;
    b.images.resize(images.size() * per_image);  // (N, C, H, W)
    for (size_t j = 0; j < images.size(); ++j)
      data::finish(data::prepare(images[j], t), t, false, 0, b.images.data() + j * per_image);
    batches.push_back(&b);
  }
  const std::vector<Tensor> outputs = infer_ensemble(models, batches, options.tta);
  const Prediction p = members[0].model->predict(outputs);
  std::vector<std::vector<float>> probs(prob_head.size());  // [attribute] -> (N, classes) softmax rows
  for (size_t a = 0; a < prob_head.size(); ++a)
    if (prob_head[a] >= 0) probs[a] = softmax(outputs[size_t(prob_head[a])]).to_vector();
  std::vector<ImagePrediction> out(images.size());
  for (size_t i = 0; i < images.size(); ++i) {
    for (size_t a = 0; a < info.heads.size(); ++a) {
      HeadPrediction h;
      h.name = info.heads[a];
      h.class_index = p.classes[a][i];
      h.probability = p.confidence[a][i];
      if (h.class_index >= 0 && h.probability < options.min_confidence) h.class_index = -1;
      if (!p.defined.empty() && !p.defined[a][i]) h.class_index = -1;  // the model's own reject rule
      h.label = h.class_index < 0 || head_task[a] < 0 ? "undefined" : info.labels[a][size_t(h.class_index)];
      if (prob_head[a] >= 0) {
        const size_t n = info.labels[a].size();
        h.probabilities.assign(probs[a].begin() + long(i * n), probs[a].begin() + long((i + 1) * n));
      }
      out[i].heads.push_back(std::move(h));
    }
  }
  return out;
}

Predictor::Predictor(const std::string& checkpoint, const PredictorOptions& options)
    : Predictor(std::vector<std::string>{checkpoint}, options) {}

Predictor::Predictor(const std::vector<std::string>& checkpoints, const PredictorOptions& options)
    : impl_(std::make_unique<Impl>()) {
  impl_->options = options;
  impl_->load(checkpoints);
}

Predictor::~Predictor() = default;
Predictor::Predictor(Predictor&&) noexcept = default;
Predictor& Predictor::operator=(Predictor&&) noexcept = default;

const ModelInfo& Predictor::info() const {
  return impl_->info;
}

std::vector<ImagePrediction> Predictor::predict_batch(const std::vector<ImageView>& views) const {
  std::vector<data::Image> images;
  for (size_t i = 0; i < views.size(); ++i) {
    images.push_back(image_of(views[i], i));
    if (images.back().c != impl_->info.channels)
      images.back() = data::convert_channels(images.back(), impl_->info.channels);
  }
  std::lock_guard<std::mutex> lock(impl_->mutex);
  return impl_->run(images);
}

ImagePrediction Predictor::predict(const ImageView& image) const {
  return predict_batch({image}).at(0);
}

ImagePrediction Predictor::predict(const uint8_t* pixels, int width, int height, int channels,
                                   size_t stride) const {
  return predict(ImageView{pixels, width, height, channels, stride});
}

ImagePrediction Predictor::predict_file(const std::string& path) const {
  // As `facet predict` reads a file: the structure and the header's pixel count are checked before decoding.
  std::vector<uint8_t> bytes;
  std::string error;
  if (!data::read_file_bytes(path, bytes, error)) throw std::runtime_error(error);
  const std::string problem = data::check_image_bytes(bytes.data(), bytes.size());
  if (!problem.empty()) throw std::runtime_error(path + ": " + problem);
  data::Image img;
  if (!data::decode_image(bytes.data(), bytes.size(), impl_->info.channels, img, error, path))
    throw std::runtime_error(error);
  return predict(ImageView{img.pixels.data(), img.w, img.h, img.c, 0});
}

const data::LabelScheme& PredictorAccess::scheme(const Predictor& p) {
  return p.impl_->members[0].scheme;
}
const std::vector<int>& PredictorAccess::head_tasks(const Predictor& p) {
  return p.impl_->head_task;
}

}  // namespace facet
