// SGD (see optim/sgd.h): options, state and one kernel call per parameter.
#include "optim/sgd.h"

#include <cmath>
#include <stdexcept>

#include "kernels/optim_update.h"
#include "optim/options_json.h"
#include "tensor/dispatch.h"

namespace facet {

namespace {
void validate(const SgdOptions& o) {
  auto bad = [](const std::string& msg) { return std::invalid_argument("SGD options: " + msg); };
  if (!(o.lr >= 0.0f) || !std::isfinite(o.lr))
    throw bad("lr " + std::to_string(o.lr) + " must be finite and >= 0");
  if (!(o.momentum >= 0.0f && o.momentum < 1.0f))
    throw bad("momentum " + std::to_string(o.momentum) + " must be in [0, 1)");
  if (!(o.weight_decay >= 0.0f) || !std::isfinite(o.weight_decay))
    throw bad("weight_decay " + std::to_string(o.weight_decay) + " must be finite and >= 0");
  if (o.nesterov && o.momentum == 0.0f) throw bad("nesterov needs momentum > 0");
}
}  // namespace

nlohmann::json to_json(const SgdOptions& o) {
  return {{"lr", o.lr}, {"momentum", o.momentum}, {"weight_decay", o.weight_decay}, {"nesterov", o.nesterov}};
}

SgdOptions sgd_options_from_json(const nlohmann::json& j, SgdOptions o) {
  detail::check_known_keys(j, "SGD options", {"lr", "momentum", "weight_decay", "nesterov"});
  detail::read_option(j, "SGD options", "lr", o.lr);
  detail::read_option(j, "SGD options", "momentum", o.momentum);
  detail::read_option(j, "SGD options", "weight_decay", o.weight_decay);
  detail::read_option(j, "SGD options", "nesterov", o.nesterov);
  validate(o);
  return o;
}

Sgd::Sgd(std::vector<NamedTensor> params, SgdOptions options)
    : Optimizer(std::move(params), options.lr), options_(options) {
  validate(options_);
}

std::vector<std::string> Sgd::buffer_names() const {
  if (options_.momentum == 0.0f) return {};
  return {"velocity"};
}

void Sgd::update(Slot& slot, const Tensor& grad) {
  Tensor& p = slot.param.tensor;
  float* velocity = slot.buffers.empty() ? nullptr : slot.buffers[0].data();
  kernels_for(p.device()).sgd_update(p.data(), velocity, grad.data(), p.numel(), lr_, options_.momentum,
             options_.weight_decay, options_.nesterov);
}

nlohmann::json Sgd::hyperparameters() const {
  return to_json(options());
}

void Sgd::set_hyperparameters(const nlohmann::json& h) {
  const SgdOptions o = sgd_options_from_json(h);
  if ((o.momentum == 0.0f) != (options_.momentum == 0.0f))
    throw std::runtime_error("the saved SGD has momentum " + std::to_string(o.momentum) + ", this one " +
                             std::to_string(options_.momentum) + ": their state buffers differ");
  options_ = o;
}

}  // namespace facet
