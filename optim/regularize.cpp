// L2 penalty, max-norm constraint, gradient clipping (see optim/regularize.h).
#include "optim/regularize.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "kernels/elementwise.h"
#include "kernels/optim_update.h"
#include "tensor/dispatch.h"
#include "tensor/ops.h"

namespace facet {

std::vector<NamedTensor> weights_only(const std::vector<NamedTensor>& params) {
  std::vector<NamedTensor> out;
  for (const NamedTensor& p : params)
    if (p.tensor.dim() >= 2) out.push_back(p);
  return out;
}

// P = (lambda/2) sum_p sum_i w_pi^2;   dP/dw = lambda * w   (built from ops, so backward does the rest)
Tensor l2_penalty(const std::vector<NamedTensor>& params, float lambda) {
  Tensor total;
  for (const NamedTensor& p : params) {
    Tensor s = sum(mul(p.tensor, p.tensor));
    total = total.defined() ? add(total, s) : s;
  }
  if (!total.defined()) return Tensor::zeros({1});
  return scale(total, 0.5f * lambda);
}

// g += lambda * w
void add_l2_gradient(const std::vector<NamedTensor>& params, float lambda) {
  for (const NamedTensor& p : params) {
    Tensor g = p.tensor.grad();
    if (!g.defined()) continue;
    kernels_for(p.tensor.device()).axpy(g.data(), lambda, p.tensor.data(), p.tensor.numel());
  }
}

void apply_max_norm(const std::vector<NamedTensor>& params, float max_norm) {
  if (!(max_norm > 0.0f))
    throw std::invalid_argument("apply_max_norm: max_norm " + std::to_string(max_norm) + " must be > 0");
  for (const NamedTensor& p : params) {
    if (p.tensor.dim() < 2 || p.tensor.numel() == 0) continue;
    Tensor w = p.tensor;
    const int64_t rows = w.size(0), cols = w.numel() / rows;  // (OUT, IN) or (K, C*R*S)
    kernels_for(w.device()).max_norm_rows(w.data(), int(rows), int(cols), max_norm);
  }
}

// norm = sqrt(sum_p ||g_p||^2) (per-tensor sums of squares in double, added in double);
// if norm > max_norm: g *= max_norm / (norm + 1e-6)
float clip_grad_norm(const std::vector<NamedTensor>& params, float max_norm) {
  if (!(max_norm >= 0.0f))
    throw std::invalid_argument("clip_grad_norm: max_norm " + std::to_string(max_norm) + " must be >= 0");
  std::vector<Tensor> grads;
  double total = 0.0;
  for (const NamedTensor& p : params) {
    Tensor g = p.tensor.grad();
    if (!g.defined()) continue;
    Tensor ss = Tensor::empty({1}, g.device());
    kernels_for(g.device()).sum_squares(ss.data(), g.data(), g.numel());
    total += double(ss.item());
    grads.push_back(g);
  }
  const double norm = std::sqrt(total);
  if (!std::isfinite(norm)) return float(norm);
  const double coef = double(max_norm) / (norm + 1e-6);
  if (coef < 1.0)
    for (Tensor& g : grads) kernels_for(g.device()).scale_forward(g.data(), g.data(), float(coef), g.numel());
  return float(norm);
}

// g_i = min(max(g_i, -clip), clip)   (NaN stays NaN)
void clip_grad_value(const std::vector<NamedTensor>& params, float clip) {
  if (!(clip >= 0.0f))
    throw std::invalid_argument("clip_grad_value: clip " + std::to_string(clip) + " must be >= 0");
  auto clamp = [clip](float* g, int64_t n) {
    for (int64_t i = 0; i < n; ++i) g[i] = g[i] < -clip ? -clip : (g[i] > clip ? clip : g[i]);
  };
  for (const NamedTensor& p : params) {
    Tensor g = p.tensor.grad();
    if (!g.defined()) continue;
    if (g.device() == Device::CPU) {
      clamp(g.data(), g.numel());
    } else {  // no clamp kernel on the device yet: a host round trip (correct, not fast)
      std::vector<float> h = g.to_vector();
      clamp(h.data(), int64_t(h.size()));
      g.copy_from(Tensor::from_vector(h, g.shape()));
    }
  }
}

}  // namespace facet
