// Optimizer: updates a list of named parameters from their .grad(), one kernel call per parameter
// (kernels/optim_update.h, on the parameter's device). Parameters whose gradient is undefined (no backward
// pass reached them) are skipped, as PyTorch skips grad=None.
//
// Training loop:   opt.zero_grad(); loss.backward(); [clip_grad_norm(...)]; opt.step();
// Resume:          save  params + opt.state_tensors() as checkpoint tensors, opt.state() in its metadata;
//                  load  them back with Checkpoint::load_into(...), then opt.load_state(meta[...]).
// The state tensors are named "optim/<param name>/<buffer>" (e.g. "optim/conv1.weight/exp_avg"), so they
// sit beside the model's tensors in one checkpoint without clashing.
#pragma once
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tensor/tensor.h"

namespace facet {

class Optimizer {
 public:
  Optimizer(std::vector<NamedTensor> params, float lr);  // names unique and non-empty, tensors defined
  virtual ~Optimizer() = default;
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;

  virtual const char* name() const = 0;  // "sgd", "adam", "adamw": the "type" in state() and configs

  // One update of every parameter that has a gradient, then the max-norm constraint if one is set.
  void step();
  void zero_grad();  // drops every parameter's gradient (the next backward starts from zero)

  float learning_rate() const { return lr_; }
  void set_learning_rate(float lr);              // e.g. from an LrSchedule, before each epoch or step
  int64_t step_count() const { return steps_; }  // step() calls so far

  // Max-norm constraint applied after every step to the parameters of rank >= 2 (linear and conv weights,
  // not biases or batch-norm parameters): see apply_max_norm in optim/regularize.h. 0 turns it off.
  void set_max_norm(float max_norm);
  float max_norm() const { return max_norm_; }

  const std::vector<NamedTensor>& parameters() const { return params_; }

  // ---- state, for checkpoints ----
  // The optimizer's buffers (momentum, moments), allocated on first use on each parameter's device.
  std::vector<NamedTensor> state_tensors();
  // Scalars: {"type", "lr", "steps", "param_steps": {name: n}, "max_norm", "hyper": {...}}.
  nlohmann::json state() const;
  // Restores state() (refused, naming the field, when the type or the parameter names differ). The
  // hyperparameters come back too, as PyTorch's load_state_dict does, so a resumed step is bit-identical.
  void load_state(const nlohmann::json& state);

 protected:
  struct Slot {
    NamedTensor param;
    std::vector<Tensor> buffers;  // each the parameter's shape and device, in buffer_names() order
    int64_t steps = 0;            // updates this parameter received (Adam's t)
  };
  virtual std::vector<std::string> buffer_names() const = 0;  // e.g. {"velocity"}
  virtual void update(Slot& slot, const Tensor& grad) = 0;    // one kernel call
  virtual nlohmann::json hyperparameters() const = 0;
  virtual void set_hyperparameters(const nlohmann::json& h) = 0;

  float lr_;

 private:
  void ensure_state();

  std::vector<NamedTensor> params_;
  std::vector<Slot> slots_;
  int64_t steps_ = 0;
  float max_norm_ = 0.0f;
};

// Builds an optimizer from a config such as {"type": "sgd", "lr": 0.1, "momentum": 0.9, "nesterov": true}
// or {"type": "adamw", "lr": 1e-3, "weight_decay": 0.01}; unknown types and keys are refused by name.
std::unique_ptr<Optimizer> make_optimizer(const nlohmann::json& config, std::vector<NamedTensor> params);

}  // namespace facet
