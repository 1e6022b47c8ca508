// Optimizer updates on the device (see kernels/optim_update.h): one pointwise pass over a parameter tensor.
//   SGD:   g = grad + wd*param;  v = momentum*v + g;  g = nesterov ? g + momentum*v : v;  param -= lr*g
//   Adam:  g = grad + wd*param (L2)  or  param *= 1 - lr*wd, g = grad (AdamW, decoupled)
//          m = b1*m + (1-b1)*g;  v = b2*v + (1-b2)*g^2;  param -= lr * (m/bc1) / (sqrt(v/bc2) + eps)
//          with the bias corrections bc1 = 1 - b1^t, bc2 = 1 - b2^t computed once on the host in double.
//   max_norm_rows: one warp per row r: n = ||w_r||_2 by a warp-shuffle sum;
//                  if n > max_norm, w_r *= max_norm / n.
#include <cmath>

#include "kernels/cuda/kernel_utils.h"
#include "kernels/optim_update.h"

namespace facet::cuda {

namespace {
// g = grad + wd*p;  v = momentum*v + g;  g = nesterov ? g + momentum*v : v;  p -= lr*g
__global__ void sgd_update_kernel(float* param, float* velocity, const float* grad, int64_t n, float lr,
                                  float momentum, float weight_decay, bool nesterov) {
  for (int64_t i = global_index(); i < n; i += grid_stride()) {
    float g = grad[i] + weight_decay * param[i];
    if (velocity) {
      const float v = momentum * velocity[i] + g;
      velocity[i] = v;
      g = nesterov ? g + momentum * v : v;
    }
    param[i] -= lr * g;
  }
}

// m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2;  p -= lr (m/bc1) / (sqrt(v/bc2) + eps)   (see above for wd)
__global__ void adam_update_kernel(float* param, float* m, float* v, const float* grad, int64_t n, float lr,
                                   float beta1, float beta2, float eps, float weight_decay, bool decoupled,
                                   float bc1, float bc2) {
  for (int64_t i = global_index(); i < n; i += grid_stride()) {
    float p = param[i], g = grad[i];
    if (decoupled)
      p *= 1.0f - lr * weight_decay;
    else
      g += weight_decay * p;
    const float mi = beta1 * m[i] + (1.0f - beta1) * g;
    const float vi = beta2 * v[i] + (1.0f - beta2) * g * g;
    m[i] = mi;
    v[i] = vi;
    param[i] = p - lr * (mi / bc1) / (sqrtf(vi / bc2) + eps);
  }
}

constexpr int kRowsPerBlock = kBlock / 32;

// Warp per row: n = ||w_r||_2; if n > max_norm, w_r *= max_norm / n.
__global__ void max_norm_rows_kernel(float* w, int rows, int cols, float max_norm) {
  const int row = int(blockIdx.x) * kRowsPerBlock + int(threadIdx.x) / 32, lane = int(threadIdx.x) % 32;
  if (row >= rows) return;  // whole warps leave together
  float* wr = w + int64_t(row) * cols;
  float ss = 0.0f;
  for (int j = lane; j < cols; j += 32) ss += wr[j] * wr[j];
  const float norm = sqrtf(warp_sum(ss));
  if (norm <= max_norm) return;
  const float s = max_norm / norm;
  for (int j = lane; j < cols; j += 32) wr[j] *= s;
}
}  // namespace

void sgd_update(float* param, float* velocity, const float* grad, int64_t n, float lr, float momentum,
                float weight_decay, bool nesterov) {
  FACET_LAUNCH(sgd_update_kernel, grid_for(n), kBlock, 0, stream(), param,
               momentum != 0.0f ? velocity : nullptr, grad, n, lr, momentum, weight_decay, nesterov);
}

void adam_update(float* param, float* m, float* v, const float* grad, int64_t n, float lr, float beta1,
                 float beta2, float eps, float weight_decay, bool decoupled, int64_t step) {
  const float bc1 = float(1.0 - std::pow(double(beta1), double(step)));
  const float bc2 = float(1.0 - std::pow(double(beta2), double(step)));
  FACET_LAUNCH(adam_update_kernel, grid_for(n), kBlock, 0, stream(), param, m, v, grad, n, lr, beta1, beta2,
               eps, weight_decay, decoupled, bc1, bc2);
}

void max_norm_rows(float* w, int rows, int cols, float max_norm) {
  FACET_LAUNCH(max_norm_rows_kernel, dim3(unsigned((rows + kRowsPerBlock - 1) / kRowsPerBlock)), kBlock, 0,
               stream(), w, rows, cols, max_norm);
}

}  // namespace facet::cuda
