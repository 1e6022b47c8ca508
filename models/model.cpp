#include "models/model.h"

#include <stdexcept>

#include "layers/dropout.h"
#include "layers/linear.h"
#include "tensor/ops.h"
#include "tensor/rng.h"

namespace facet {

Shape Model::input_shape(int batch) const {
  return {batch, config_.at("channels").get<int64_t>(), config_.at("size").get<int64_t>(), config_.at("size").get<int64_t>()};
}

std::vector<NamedTensor> Model::parameters() {
  auto p = trunk_.parameters();
  for (auto& h : head_layers_.parameters()) p.push_back(h);
  return p;
}

std::vector<NamedTensor> Model::buffers() { return trunk_.buffers(); }

void Model::set_training(bool on) {
  trunk_.set_training(on);
  head_layers_.set_training(on);
}

void Model::to(Device device) {
  trunk_.to(device);
  head_layers_.to(device);
}

Device Model::device() {
  const auto p = parameters();
  return p.empty() ? Device::CPU : p.front().tensor.device();
}

int64_t Model::parameter_count() { return trunk_.parameter_count() + head_layers_.parameter_count(); }

static std::vector<Dropout*> dropout_layers(Sequential& a, Sequential& b) {
  std::vector<Dropout*> out;
  for (Sequential* s : {&a, &b})
    for (size_t i = 0; i < s->size(); ++i)
      if (auto* d = dynamic_cast<Dropout*>(&(*s)[i])) out.push_back(d);
  return out;
}

std::vector<uint64_t> Model::dropout_offsets() {
  std::vector<uint64_t> out;
  for (Dropout* d : dropout_layers(trunk_, head_layers_)) out.push_back(d->offset());
  return out;
}

void Model::set_dropout_offsets(const std::vector<uint64_t>& offsets) {
  auto layers = dropout_layers(trunk_, head_layers_);
  if (offsets.size() != layers.size())
    throw std::invalid_argument("set_dropout_offsets: " + std::to_string(offsets.size()) + " offsets for " +
                                std::to_string(layers.size()) + " dropout layers");
  for (size_t i = 0; i < layers.size(); ++i) layers[i]->set_offset(offsets[i]);
}

std::string Model::summary() {
  std::string s = kind() + "\n" + trunk_.summary(input_shape(1));
  Shape f = trunk_.output_shape(input_shape(1));
  for (size_t h = 0; h < heads_.size(); ++h) {
    // Heads are linear layers on the trunk's features, or (2-hot, tuple) columns of the trunk's own output.
    std::string layer = h < head_layers_.size() ? head_layers_[h].describe() + " -> " +
                                                      shape_str(head_layers_[h].output_shape(f))
                                                : std::to_string(heads_[h].outputs) + " columns of the output";
    s += "head " + heads_[h].name + ": " + layer + (heads_[h].regression ? " (MSE)" : " (softmax cross-entropy)") + "\n";
  }
  return s + "parameters in all: " + std::to_string(parameter_count()) + "\n";
}

void Model::build_heads(int features, Rng& rng) {
  for (auto& h : heads_) head_layers_.emplace<Linear>(h.name, features, h.outputs, rng);
}

std::vector<Tensor> Model::apply_heads(const Tensor& features) {
  std::vector<Tensor> out;
  for (size_t h = 0; h < heads_.size(); ++h) out.push_back(head_layers_[h].forward(features));
  return out;
}

std::vector<Attribute> Model::attributes() const {
  std::vector<Attribute> a;
  for (auto& h : heads_)
    if (!h.regression) a.push_back({h.name, h.outputs});
  return a;
}

void Model::set_reading(const nlohmann::json& reading) {
  if (reading.is_object() && !reading.empty())
    throw std::invalid_argument("model " + kind() + " has no reject rule to set ('" + reading.begin().key() +
                                "'): --threshold applies to fcn2hot, --tuple-read and --margin to tuple");
}

Prediction Model::predict(const std::vector<Tensor>& outputs) const {
  Prediction p;
  for (size_t h = 0; h < heads_.size(); ++h) {
    if (heads_[h].regression) continue;
    auto probs = softmax(outputs[h]).to_vector();
    int B = int(outputs[h].size(0)), C = int(outputs[h].size(1));
    std::vector<int32_t> cls(size_t(B), -1);
    std::vector<float> conf(size_t(B), 0.0f);
    for (int b = 0; b < B; ++b) {
      const float* row = probs.data() + size_t(b) * C;
      int best = 0;
      for (int c = 1; c < C; ++c)
        if (row[c] > row[best]) best = c;
      cls[size_t(b)] = best;
      conf[size_t(b)] = row[best];
    }
    p.classes.push_back(std::move(cls));
    p.confidence.push_back(std::move(conf));
  }
  return p;
}

Tensor model_loss(const Model& model, const std::vector<Tensor>& outputs, const std::vector<std::vector<int32_t>>& labels,
                  const std::vector<std::vector<float>>& targets, const LossOptions& options) {
  const auto& heads = model.heads();
  if (outputs.size() != heads.size())
    throw std::invalid_argument("model_loss: " + std::to_string(outputs.size()) + " outputs for " +
                                std::to_string(heads.size()) + " heads");
  Tensor total;
  for (size_t h = 0; h < heads.size(); ++h) {
    Tensor l;
    if (heads[h].regression) {
      if (h >= targets.size() || int64_t(targets[h].size()) != outputs[h].numel())
        throw std::invalid_argument("model_loss: head '" + heads[h].name + "' needs " + std::to_string(outputs[h].numel()) +
                                    " regression targets");
      l = mse_loss(outputs[h], Tensor::from_vector(targets[h], outputs[h].shape(), outputs[h].device()));
    } else {
      if (h >= labels.size()) throw std::invalid_argument("model_loss: no labels for head '" + heads[h].name + "'");
      CrossEntropyOptions ce;
      ce.label_smoothing = options.label_smoothing;
      if (h < options.class_weights.size()) ce.class_weights = options.class_weights[h];
      l = cross_entropy(outputs[h], labels[h], ce);
    }
    if (heads[h].weight != 1.0f) l = l * heads[h].weight;
    total = total.defined() ? total + l : l;
  }
  return total;
}

}  // namespace facet
