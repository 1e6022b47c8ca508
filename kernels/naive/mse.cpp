// Mean squared error (kernels/mse.h).
#include "kernels/mse.h"

namespace facet::naive {

// loss = (1/n) sum (p - t)^2   (n = 0 gives 0)
void mse_forward(float* loss, const float* pred, const float* target, int64_t n) {
  double s = 0.0;
  for (int64_t i = 0; i < n; ++i) s += (double(pred[i]) - target[i]) * (double(pred[i]) - target[i]);
  loss[0] = n > 0 ? float(s / double(n)) : 0.0f;
}

// dp += dloss * 2 (p - t) / n
void mse_backward(float* dpred, const float* dloss, const float* pred, const float* target, int64_t n) {
  if (!dpred) return;
  for (int64_t i = 0; i < n; ++i) dpred[i] += float(double(dloss[0]) * 2.0 * (double(pred[i]) - target[i]) / double(n));
}

}  // namespace facet::naive
