// Pointwise activations on n floats.
//   relu:       y = max(x, 0)               dy/dx = 1 if x > 0 else 0
//   leakyrelu:  y = x if x > 0 else a*x     dy/dx = 1 if x > 0 else a
// Backward accumulates: din += dout * dy/dx (evaluated at the saved input).
#pragma once
#include <cstdint>

#define FACET_ACTIVATION_API                                                                           \
  void relu_forward(float* out, const float* in, int64_t n);                                            \
  void relu_backward(float* din, const float* dout, const float* in, int64_t n);                        \
  void leakyrelu_forward(float* out, const float* in, int64_t n, float alpha);                          \
  void leakyrelu_backward(float* din, const float* dout, const float* in, int64_t n, float alpha);

namespace facet {
namespace cpu { FACET_ACTIVATION_API }
namespace cuda { FACET_ACTIVATION_API }
}  // namespace facet
#undef FACET_ACTIVATION_API
