// Adam / AdamW (see optim/adam.h): options, state and one kernel call per parameter.
#include "optim/adam.h"

#include <cmath>
#include <stdexcept>

#include "kernels/optim_update.h"
#include "optim/options_json.h"
#include "tensor/dispatch.h"

namespace facet {

namespace {
void validate(const AdamOptions& o) {
  auto bad = [](const std::string& msg) { return std::invalid_argument("Adam options: " + msg); };
  if (!(o.lr >= 0.0f) || !std::isfinite(o.lr))
    throw bad("lr " + std::to_string(o.lr) + " must be finite and >= 0");
  if (!(o.beta1 >= 0.0f && o.beta1 < 1.0f))
    throw bad("beta1 " + std::to_string(o.beta1) + " must be in [0, 1)");
  if (!(o.beta2 >= 0.0f && o.beta2 < 1.0f))
    throw bad("beta2 " + std::to_string(o.beta2) + " must be in [0, 1)");
  if (!(o.eps >= 0.0f) || !std::isfinite(o.eps))
    throw bad("eps " + std::to_string(o.eps) + " must be finite and >= 0");
  if (!(o.weight_decay >= 0.0f) || !std::isfinite(o.weight_decay))
    throw bad("weight_decay " + std::to_string(o.weight_decay) + " must be finite and >= 0");
}
}  // namespace

nlohmann::json to_json(const AdamOptions& o) {
  return {
      {"lr", o.lr}, {"beta1", o.beta1}, {"beta2", o.beta2}, {"eps", o.eps}, {"weight_decay", o.weight_decay}};
}

AdamOptions adam_options_from_json(const nlohmann::json& j, AdamOptions o) {
  detail::check_known_keys(j, "Adam options", {"lr", "beta1", "beta2", "eps", "weight_decay"});
  detail::read_option(j, "Adam options", "lr", o.lr);
  detail::read_option(j, "Adam options", "beta1", o.beta1);
  detail::read_option(j, "Adam options", "beta2", o.beta2);
  detail::read_option(j, "Adam options", "eps", o.eps);
  detail::read_option(j, "Adam options", "weight_decay", o.weight_decay);
  validate(o);
  return o;
}

Adam::Adam(std::vector<NamedTensor> params, AdamOptions options) : Adam(std::move(params), options, false) {}

Adam::Adam(std::vector<NamedTensor> params, AdamOptions options, bool decoupled)
    : Optimizer(std::move(params), options.lr), options_(options), decoupled_(decoupled) {
  validate(options_);
}

std::vector<std::string> Adam::buffer_names() const {
  return {"exp_avg", "exp_avg_sq"};
}  // m, v

void Adam::update(Slot& slot, const Tensor& grad) {
  Tensor& p = slot.param.tensor;
  kernels_for(p.device()).adam_update(p.data(), slot.buffers[0].data(), slot.buffers[1].data(), grad.data(),
             p.numel(), lr_, options_.beta1, options_.beta2, options_.eps, options_.weight_decay, decoupled_,
             slot.steps);
}

nlohmann::json Adam::hyperparameters() const {
  return to_json(options());
}

void Adam::set_hyperparameters(const nlohmann::json& h) {
  options_ = adam_options_from_json(h);
}

}  // namespace facet
