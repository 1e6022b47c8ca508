// Pointwise activations (see kernels/activation.h). Backward accumulates and reads the saved forward input.
#include "kernels/activation.h"

#include "kernels/cpu/reduce.h"

namespace facet::cpu {

using detail::kParallelMin;

// relu: y = max(x, 0)
void relu_forward(float* out, const float* in, int64_t n) {
#pragma omp parallel for simd schedule(static) if (n >= kParallelMin)
  for (int64_t i = 0; i < n; ++i) out[i] = in[i] > 0.0f ? in[i] : 0.0f;
}

// dy/dx = [x > 0] (0 at x = 0):  din += dout * [x > 0]
void relu_backward(float* din, const float* dout, const float* in, int64_t n) {
  if (!din) return;
#pragma omp parallel for simd schedule(static) if (n >= kParallelMin)
  for (int64_t i = 0; i < n; ++i) din[i] += in[i] > 0.0f ? dout[i] : 0.0f;
}

// leaky relu: y = x if x > 0 else alpha * x
void leakyrelu_forward(float* out, const float* in, int64_t n, float alpha) {
#pragma omp parallel for simd schedule(static) if (n >= kParallelMin)
  for (int64_t i = 0; i < n; ++i) out[i] = in[i] > 0.0f ? in[i] : alpha * in[i];
}

// dy/dx = 1 if x > 0 else alpha (alpha at x = 0):  din += dout * dy/dx
void leakyrelu_backward(float* din, const float* dout, const float* in, int64_t n, float alpha) {
  if (!din) return;
#pragma omp parallel for simd schedule(static) if (n >= kParallelMin)
  for (int64_t i = 0; i < n; ++i) din[i] += in[i] > 0.0f ? dout[i] : alpha * dout[i];
}

}  // namespace facet::cpu
