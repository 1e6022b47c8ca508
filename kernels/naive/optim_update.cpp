// Optimizer updates (kernels/optim_update.h), one loop over the parameters; the float arithmetic in the same
// order as kernels/cpu/optim_update.cpp.
#include "kernels/optim_update.h"

#include <cmath>

namespace facet::naive {

// g = grad + wd p;  v = momentum v + g;  g = nesterov ? g + momentum v : v;  p -= lr g   (no velocity at momentum 0)
void sgd_update(float* param, float* velocity, const float* grad, int64_t n, float lr, float momentum,
                float weight_decay, bool nesterov) {
  for (int64_t i = 0; i < n; ++i) {
    float g = grad[i] + weight_decay * param[i];
    if (momentum != 0.0f) {
      velocity[i] = momentum * velocity[i] + g;
      g = nesterov ? g + momentum * velocity[i] : velocity[i];
    }
    param[i] -= lr * g;
  }
}

// Adam (L2: g = grad + wd p) or AdamW (decoupled: p *= 1 - lr wd);  m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2;
// p -= lr (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)
void adam_update(float* param, float* m, float* v, const float* grad, int64_t n, float lr, float beta1, float beta2,
                 float eps, float weight_decay, bool decoupled, int64_t step) {
  const float bc1 = float(1.0 - std::pow(double(beta1), double(step)));
  const float bc2 = float(1.0 - std::pow(double(beta2), double(step)));
  for (int64_t i = 0; i < n; ++i) {
    float p = param[i], g = grad[i];
    if (decoupled)
      p *= 1.0f - lr * weight_decay;
    else
      g += weight_decay * p;
    m[i] = beta1 * m[i] + (1.0f - beta1) * g;
    v[i] = beta2 * v[i] + (1.0f - beta2) * g * g;
    param[i] = p - lr * (m[i] / bc1) / (std::sqrt(v[i] / bc2) + eps);
  }
}

// each row w_r of (rows, cols) with ||w_r|| > max_norm is scaled down to norm max_norm
void max_norm_rows(float* w, int rows, int cols, float max_norm) {
  for (int r = 0; r < rows; ++r) {
    double ss = 0.0;
    for (int j = 0; j < cols; ++j) ss += double(w[int64_t(r) * cols + j]) * w[int64_t(r) * cols + j];
    const double norm = std::sqrt(ss);
    if (norm <= double(max_norm)) continue;
    for (int j = 0; j < cols; ++j) w[int64_t(r) * cols + j] *= float(double(max_norm) / norm);
  }
}

}  // namespace facet::naive
