// relu and leaky ReLU (kernels/activation.h), one loop each.
#include "kernels/activation.h"

namespace facet::naive {

void relu_forward(float* out, const float* in, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] = in[i] > 0.0f ? in[i] : 0.0f;
}

// dy/dx = 1 where x > 0, else 0
void relu_backward(float* din, const float* dout, const float* in, int64_t n) {
  if (!din) return;
  for (int64_t i = 0; i < n; ++i) din[i] += in[i] > 0.0f ? dout[i] : 0.0f;
}

void leakyrelu_forward(float* out, const float* in, int64_t n, float alpha) {
  for (int64_t i = 0; i < n; ++i) out[i] = in[i] > 0.0f ? in[i] : alpha * in[i];
}

// dy/dx = 1 where x > 0, else alpha
void leakyrelu_backward(float* din, const float* dout, const float* in, int64_t n, float alpha) {
  if (!din) return;
  for (int64_t i = 0; i < n; ++i) din[i] += in[i] > 0.0f ? dout[i] : alpha * dout[i];
}

}  // namespace facet::naive
