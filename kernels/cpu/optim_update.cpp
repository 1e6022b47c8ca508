// Optimizer updates on the CPU (see kernels/optim_update.h): one pointwise pass over a parameter tensor.
// The float arithmetic is written in the same order as kernels/cuda/optim_update.cu, so both backends give
// the same numbers up to fused multiply-adds.
#include "kernels/optim_update.h"

#include <cmath>

#include "kernels/cpu/reduce.h"

namespace facet::cpu {

using detail::kParallelMin;

// SGD with momentum (PyTorch's form, dampening 0; the velocity starts at zero so the first step gives v = g):
//   g = grad + wd*p;   v = momentum*v + g;   g = nesterov ? g + momentum*v : v;   p -= lr*g
// With momentum == 0 the velocity is neither needed nor touched (it may be null).
void sgd_update(float* param, float* velocity, const float* grad, int64_t n, float lr, float momentum,
                float weight_decay, bool nesterov) {
  if (momentum == 0.0f) velocity = nullptr;
#pragma omp parallel for simd schedule(static) if (n >= kParallelMin)
  for (int64_t i = 0; i < n; ++i) {
    float g = grad[i] + weight_decay * param[i];
    if (velocity) {
      const float v = momentum * velocity[i] + g;
      velocity[i] = v;
      g = nesterov ? g + momentum * v : v;
    }
    param[i] -= lr * g;
  }
}

// Adam (Kingma & Ba) with PyTorch's weight-decay variants, t = step counted from 1:
//   Adam (L2, coupled):     g = grad + wd*p
//   AdamW (decoupled):      p *= 1 - lr*wd;  g = grad
//   m = b1*m + (1-b1)*g;   v = b2*v + (1-b2)*g^2;   p -= lr * (m/bc1) / (sqrt(v/bc2) + eps)
//   with the bias corrections bc1 = 1 - b1^t, bc2 = 1 - b2^t computed once in double.
void adam_update(float* param, float* m, float* v, const float* grad, int64_t n, float lr, float beta1,
                 float beta2, float eps, float weight_decay, bool decoupled, int64_t step) {
  const float bc1 = float(1.0 - std::pow(double(beta1), double(step)));
  const float bc2 = float(1.0 - std::pow(double(beta2), double(step)));
  const float decay = 1.0f - lr * weight_decay;
#pragma omp parallel for simd schedule(static) if (n >= kParallelMin)
  for (int64_t i = 0; i < n; ++i) {
    float p = param[i], g = grad[i];
    if (decoupled)
      p *= decay;
    else
      g += weight_decay * p;
    const float mi = beta1 * m[i] + (1.0f - beta1) * g;
    const float vi = beta2 * v[i] + (1.0f - beta2) * g * g;
    m[i] = mi;
    v[i] = vi;
    param[i] = p - lr * (mi / bc1) / (std::sqrt(vi / bc2) + eps);
  }
}

// Max-norm constraint (Srivastava et al. 2014; Keras' MaxNorm): for each row r of w (rows, cols), one unit's
// fan-in, n = ||w_r||_2 (summed in double); if n > max_norm then w_r *= max_norm / n. Rows under the limit
// are left bit-for-bit unchanged.
void max_norm_rows(float* w, int rows, int cols, float max_norm) {
#pragma omp parallel for schedule(static) if (int64_t(rows) * cols >= kParallelMin)
  for (int r = 0; r < rows; ++r) {
    float* wr = w + int64_t(r) * cols;  // (cols)
    double ss = 0.0;
    for (int j = 0; j < cols; ++j) ss += double(wr[j]) * double(wr[j]);
    const double norm = std::sqrt(ss);
    if (norm <= double(max_norm)) continue;
    const float s = float(double(max_norm) / norm);
    for (int j = 0; j < cols; ++j) wr[j] *= s;
  }
}

}  // namespace facet::cpu
