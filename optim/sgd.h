// Stochastic gradient descent with momentum, Nesterov momentum and L2 weight decay, exactly PyTorch's
// torch.optim.SGD with dampening 0 (formula in kernels/optim_update.h):
//   g = grad + weight_decay * w;   v = momentum * v + g;   g = nesterov ? g + momentum * v : v;   w -= lr * g
#pragma once
#include "optim/optimizer.h"

namespace facet {

struct SgdOptions {
  float lr = 0.01f;
  float momentum = 0.0f;      // 0: plain SGD, no velocity buffer
  float weight_decay = 0.0f;  // L2 coupled into the gradient (lambda * w)
  bool nesterov = false;      // needs momentum > 0
};
// JSON form of the options: {"lr", "momentum", "weight_decay", "nesterov"}; keys left out keep `base`'s
// value, unknown keys are refused by name.
nlohmann::json to_json(const SgdOptions& o);
SgdOptions sgd_options_from_json(const nlohmann::json& j, SgdOptions base = {});

class Sgd : public Optimizer {
 public:
  Sgd(std::vector<NamedTensor> params, SgdOptions options = {});
  const char* name() const override { return "sgd"; }
  SgdOptions options() const {  // with the live learning rate (schedules change it)
    SgdOptions o = options_;
    o.lr = lr_;
    return o;
  }

 protected:
  std::vector<std::string> buffer_names() const override;
  void update(Slot& slot, const Tensor& grad) override;
  nlohmann::json hyperparameters() const override;
  void set_hyperparameters(const nlohmann::json& h) override;

 private:
  SgdOptions options_;
};

}  // namespace facet
