// Model: a network plus what its outputs mean. forward() returns one output per head; the heads are
// classification heads (logits, softmax cross-entropy) or regression heads (MSE). predict() turns outputs into
// per-attribute classes; a model with a reject rule (fcn2hot, tuple) also says which predictions the rule keeps
// ("defined"), separately from the class, so evaluation can score both (see models/interpret.h).
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "layers/sequential.h"

namespace facet {

struct Head {
  std::string name;   // "age", "gender", "race", "2hot", "tuple"
  int outputs;        // width of the head's output
  bool regression;    // MSE on float targets instead of cross-entropy on class labels
  float weight = 1.0f;  // its share of the total loss
};

// What evaluation scores: an attribute with named classes, predicted as one class per sample (-1 = undefined).
struct Attribute {
  std::string name;
  int classes;
};

struct Prediction {
  std::vector<std::vector<int32_t>> classes;     // [attribute][sample], -1 = undefined
  std::vector<std::vector<float>> confidence;    // [attribute][sample], probability of the predicted class
  // [attribute][sample]: 1 where the model's reject rule keeps the class, 0 where the user-facing reading is
  // "undefined". Empty: the model has no reject rule (every class stands).
  std::vector<std::vector<uint8_t>> defined;
};

class Model {
 public:
  virtual ~Model() = default;
  virtual std::string kind() const = 0;  // "basecnn", "fcn2hot", "tuple", "levihassner"
  virtual std::vector<Tensor> forward(const Tensor& x) = 0;
  virtual Prediction predict(const std::vector<Tensor>& outputs) const;  // default: softmax + argmax per head
  const std::vector<Head>& heads() const { return heads_; }
  // Changes how predict() reads the outputs, without touching the weights (`facet eval --threshold`,
  // `--tuple-read`): keys "threshold" (fcn2hot), "read" and "margin" (tuple). The default refuses every key, and
  // a model refuses the keys it has no use for, naming them. The config records the change.
  virtual void set_reading(const nlohmann::json& reading);
  virtual std::vector<Attribute> attributes() const;  // default: one per classification head
  nlohmann::json config() const { return config_; }   // rebuilds the same model with make_model
  Shape input_shape(int batch) const;                 // (batch, C, H, W)

  // The trunk (shared layers) and one linear layer per head, named "<head>.weight" / "<head>.bias".
  std::vector<NamedTensor> parameters();
  std::vector<NamedTensor> buffers();
  void set_training(bool on);
  // Conv -> batchnorm -> activation -> maxpool runs of the trunk as fused ops (default: the whole cycle; see
  // Sequential::Fusion). set_fusion(false) runs layer by layer.
  void set_fusion(bool on) { trunk_.set_fusion(on); }
  void set_fusion(Sequential::Fusion f) { trunk_.set_fusion(f); }
  void to(Device device);
  Device device();  // where the parameters are (the CPU for a model without any)
  std::string summary();  // every layer with its output shape, printed when a model is built
  int64_t parameter_count();
  Sequential& trunk() { return trunk_; }  // the shared layers, for inspection (e.g. a layer's settings)
  // One linear layer per head, or none when the heads are columns of the trunk's output (fcn2hot, tuple).
  Sequential& head_layers() { return head_layers_; }
  // Where each dropout layer's random stream stands, saved in training checkpoints so that a resumed run draws
  // the masks the uninterrupted run would have drawn.
  std::vector<uint64_t> dropout_offsets();
  void set_dropout_offsets(const std::vector<uint64_t>& offsets);  // throws when the count differs

 protected:
  // Adds one linear head per entry of heads_ on top of a trunk whose output is (B, features).
  void build_heads(int features, Rng& rng);
  std::vector<Tensor> apply_heads(const Tensor& features);

  Sequential trunk_;
  Sequential head_layers_;
  std::vector<Head> heads_;
  nlohmann::json config_;
};

// Builds a model from its config (kind, input channels/size, layer sizes, heads' class counts, activation ...).
// Unknown keys and impossible sizes are errors that name the key. Parameters are initialised from `seed`.
std::unique_ptr<Model> make_model(const nlohmann::json& config, uint64_t seed);

// Sum over heads of weight * loss: cross-entropy on labels[head] (-1 = no label) or MSE on targets[head] (B, outputs).
struct LossOptions {
  float label_smoothing = 0.0f;
  std::vector<std::vector<float>> class_weights;  // per head, empty = unweighted
};
Tensor model_loss(const Model& model, const std::vector<Tensor>& outputs,
                  const std::vector<std::vector<int32_t>>& labels, const std::vector<std::vector<float>>& targets,
                  const LossOptions& options = {});

}  // namespace facet
