// Adam and AdamW, exactly PyTorch's torch.optim.Adam / AdamW without amsgrad (formula in
// kernels/optim_update.h; t counts the updates each parameter received, from 1):
//   Adam:   g = grad + weight_decay * w                 (L2 penalty coupled into the gradient, then adapted)
//   AdamW:  w *= 1 - lr * weight_decay;  g = grad       (decay decoupled from the adaptive step)
//   m = b1 m + (1-b1) g;   v = b2 v + (1-b2) g^2;   w -= lr * (m / (1-b1^t)) / (sqrt(v / (1-b2^t)) + eps)
#pragma once
#include "optim/optimizer.h"

namespace facet {

struct AdamOptions {
  float lr = 1e-3f;
  float beta1 = 0.9f;
  float beta2 = 0.999f;
  float eps = 1e-8f;
  float weight_decay = 0.0f;  // PyTorch's AdamW default is 0.01 (AdamW's constructor uses that default)
};
// JSON form of the options: {"lr", "beta1", "beta2", "eps", "weight_decay"}; keys left out keep `base`'s
// value, unknown keys are refused by name.
nlohmann::json to_json(const AdamOptions& o);
AdamOptions adam_options_from_json(const nlohmann::json& j, AdamOptions base = {});

class Adam : public Optimizer {
 public:
  Adam(std::vector<NamedTensor> params, AdamOptions options = {});
  const char* name() const override { return decoupled_ ? "adamw" : "adam"; }
  AdamOptions options() const {  // with the live learning rate (schedules change it)
    AdamOptions o = options_;
    o.lr = lr_;
    return o;
  }

 protected:
  Adam(std::vector<NamedTensor> params, AdamOptions options, bool decoupled);
  std::vector<std::string> buffer_names() const override;
  void update(Slot& slot, const Tensor& grad) override;
  nlohmann::json hyperparameters() const override;
  void set_hyperparameters(const nlohmann::json& h) override;

 private:
  AdamOptions options_;
  bool decoupled_;
};

class AdamW : public Adam {
 public:
  AdamW(std::vector<NamedTensor> params, AdamOptions options = {.weight_decay = 0.01f})
      : Adam(std::move(params), options, true) {}
};

}  // namespace facet
