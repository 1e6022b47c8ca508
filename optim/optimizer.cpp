// Optimizer base: parameter bookkeeping, the step loop, state for checkpoints, and the config factory.
#include "optim/optimizer.h"

#include <cmath>
#include <set>
#include <stdexcept>

#include "optim/adam.h"
#include "optim/regularize.h"
#include "optim/sgd.h"

namespace facet {

namespace {
void check_lr(float lr) {
  if (!(lr >= 0.0f) || !std::isfinite(lr))
    throw std::invalid_argument("optimizer: learning rate " + std::to_string(lr) +
                                " must be finite and >= 0");
}
}  // namespace

Optimizer::Optimizer(std::vector<NamedTensor> params, float lr) : lr_(lr), params_(std::move(params)) {
  check_lr(lr);
  std::set<std::string> names;
  std::set<const TensorImpl*> impls;
  for (const NamedTensor& p : params_) {
    if (p.name.empty()) throw std::invalid_argument("optimizer: a parameter has an empty name");
    if (!p.tensor.defined())
      throw std::invalid_argument("optimizer: parameter '" + p.name + "' is undefined");
    if (!names.insert(p.name).second)
      throw std::invalid_argument("optimizer: two parameters are named '" + p.name + "'");
    if (!impls.insert(p.tensor.impl()).second)
      throw std::invalid_argument("optimizer: parameter '" + p.name +
                                  "' is listed twice (under another name)");
  }
}

void Optimizer::set_learning_rate(float lr) {
  check_lr(lr);
  lr_ = lr;
}

void Optimizer::set_max_norm(float max_norm) {
  if (!(max_norm >= 0.0f))
    throw std::invalid_argument("optimizer: max_norm " + std::to_string(max_norm) +
                                " must be >= 0 (0 = off)");
  max_norm_ = max_norm;
}

// One slot per parameter, its buffers zero-filled on the parameter's device. Also follows a parameter that
// moved to another device (Module::to) since the buffers were made.
void Optimizer::ensure_state() {
  const std::vector<std::string> names = buffer_names();
  if (slots_.empty())
    for (const NamedTensor& p : params_) slots_.push_back(Slot{p, {}, 0});
  for (Slot& s : slots_) {
    const Device dev = s.param.tensor.device();
    if (s.buffers.empty())
      for (size_t b = 0; b < names.size(); ++b)
        s.buffers.push_back(Tensor::zeros(s.param.tensor.shape(), dev));
    for (Tensor& b : s.buffers) b.move_to(dev);
  }
}

void Optimizer::step() {
  ensure_state();
  for (Slot& s : slots_) {
    const Tensor grad = s.param.tensor.grad();
    if (!grad.defined()) continue;
    if (grad.numel() != s.param.tensor.numel() || grad.device() != s.param.tensor.device())
      throw std::logic_error("optimizer: the gradient of '" + s.param.name + "' is " +
                             shape_str(grad.shape()) + " on " + device_name(grad.device()) +
                             ", the parameter " + shape_str(s.param.tensor.shape()) + " on " +
                             device_name(s.param.tensor.device()));
    ++s.steps;
    update(s, grad);
  }
  ++steps_;
  if (max_norm_ > 0.0f) apply_max_norm(params_, max_norm_);
}

void Optimizer::zero_grad() {
  for (NamedTensor& p : params_) p.tensor.zero_grad();
}

std::vector<NamedTensor> Optimizer::state_tensors() {
  ensure_state();
  const std::vector<std::string> names = buffer_names();
  std::vector<NamedTensor> out;
  for (const Slot& s : slots_)
    for (size_t b = 0; b < names.size(); ++b)
      out.push_back({"optim/" + s.param.name + "/" + names[b], s.buffers[b]});
  return out;
}

nlohmann::json Optimizer::state() const {
  nlohmann::json per_param = nlohmann::json::object();
  for (size_t i = 0; i < params_.size(); ++i)
    per_param[params_[i].name] = slots_.empty() ? int64_t(0) : slots_[i].steps;
  return {{"type", name()},        {"lr", lr_},
          {"steps", steps_},       {"param_steps", per_param},
          {"max_norm", max_norm_}, {"hyper", hyperparameters()}};
}

void Optimizer::load_state(const nlohmann::json& st) {
  try {
    const std::string type = st.at("type").get<std::string>();
    if (type != name())
      throw std::runtime_error("it was saved by a '" + type + "' optimizer, this one is '" + name() + "'");
    const nlohmann::json& per_param = st.at("param_steps");
    if (!per_param.is_object() || per_param.size() != params_.size())
      throw std::runtime_error("\"param_steps\" lists " + std::to_string(per_param.size()) +
                               " parameters, this optimizer has " + std::to_string(params_.size()));
    for (const NamedTensor& p : params_)
      if (!per_param.contains(p.name))
        throw std::runtime_error("\"param_steps\" has no entry for parameter '" + p.name + "'");
    // Read and check everything before changing anything.
    std::vector<int64_t> param_steps;
    for (const NamedTensor& p : params_) param_steps.push_back(per_param.at(p.name).get<int64_t>());
    const int64_t steps = st.at("steps").get<int64_t>();
    const float lr = st.at("lr").get<float>(), max_norm = st.at("max_norm").get<float>();
    check_lr(lr);
    if (!(max_norm >= 0.0f)) throw std::runtime_error("\"max_norm\" is " + std::to_string(max_norm));
    for (int64_t n : param_steps)
      if (n < 0 || n > steps)
        throw std::runtime_error("a parameter step count " + std::to_string(n) +
                                 " is outside [0, steps = " + std::to_string(steps) + "]");
    set_hyperparameters(st.at("hyper"));  // validates all of them before assigning any
    lr_ = lr;
    max_norm_ = max_norm;
    steps_ = steps;
    ensure_state();
    for (size_t i = 0; i < slots_.size(); ++i) slots_[i].steps = param_steps[i];
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error(std::string("optimizer load_state: malformed state (") + e.what() + ")");
  } catch (const std::exception& e) {
    throw std::runtime_error(std::string("optimizer load_state: ") + e.what());
  }
}

std::unique_ptr<Optimizer> make_optimizer(const nlohmann::json& config, std::vector<NamedTensor> params) {
  if (!config.is_object() || !config.contains("type") || !config["type"].is_string())
    throw std::invalid_argument("optimizer config needs a \"type\" (\"sgd\", \"adam\" or \"adamw\"), got " +
                                config.dump());
  const std::string type = config["type"].get<std::string>();
  nlohmann::json options = config;
  options.erase("type");
  if (type == "sgd") return std::make_unique<Sgd>(std::move(params), sgd_options_from_json(options));
  if (type == "adam") return std::make_unique<Adam>(std::move(params), adam_options_from_json(options));
  if (type == "adamw")
    return std::make_unique<AdamW>(std::move(params),
                                   adam_options_from_json(options, {.weight_decay = 0.01f}));
  throw std::invalid_argument("optimizer config: unknown type \"" + type + "\" (known: sgd, adam, adamw)");
}

}  // namespace facet
