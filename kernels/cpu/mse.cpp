// Mean squared error (see kernels/mse.h).
#include "kernels/mse.h"

#include "kernels/cpu/reduce.h"

namespace facet::cpu {

// loss = (1/n) sum_i (p_i - t_i)^2    (double accumulation, thread-count independent; n = 0 gives 0)
void mse_forward(float* loss, const float* pred, const float* target, int64_t n) {
  const double s = detail::blocked_sum(n, [=](int64_t i) {
    const double e = double(pred[i]) - double(target[i]);
    return e * e;
  });
  loss[0] = n > 0 ? float(s / double(n)) : 0.0f;
}

// dloss/dp_i = 2 (p_i - t_i) / n:   dp_i += dloss * 2 (p_i - t_i) / n
void mse_backward(float* dpred, const float* dloss, const float* pred, const float* target, int64_t n) {
  if (!dpred || n <= 0) return;
  const float g = dloss[0] * 2.0f / float(n);
#pragma omp parallel for simd schedule(static) if (n >= detail::kParallelMin)
  for (int64_t i = 0; i < n; ++i) dpred[i] += g * (pred[i] - target[i]);
}

}  // namespace facet::cpu
