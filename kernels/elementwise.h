// The small ops that autograd, losses and optimizers need. Backward functions accumulate (+=).
//   fill:        x_i = v
//   add:         out = a + b                  (backward: da += dout, db += dout -> accumulate)
//   accumulate:  dst += src
//   axpy:        y += a * x                   (scale's backward, SGD-style updates)
//   scale:       out = s * in
//   mul:         out = a * b                  (da += dout*b, db += dout*a)
//   sum:         out[0] = sum_i in_i          (din_i += dout[0])
//   sum_squares: out[0] = sum_i in_i^2        (gradient-norm clipping)
//   slice_columns: out[b, j] = in[b, start+j] for j < width   (din[b, start+j] += dout[b, j])
#pragma once
#include <cstdint>

#define FACET_ELEMENTWISE_API                                                                          \
  void fill(float* x, float v, int64_t n);                                                              \
  void add_forward(float* out, const float* a, const float* b, int64_t n);                              \
  void accumulate(float* dst, const float* src, int64_t n);                                             \
  void axpy(float* y, float a, const float* x, int64_t n);                                              \
  void scale_forward(float* out, const float* in, float s, int64_t n);                                  \
  void mul_forward(float* out, const float* a, const float* b, int64_t n);                              \
  void mul_backward(float* da /* or null */, float* db /* or null */, const float* dout, const float* a, \
                    const float* b, int64_t n);                                                          \
  void sum_forward(float* out /* (1) */, const float* in, int64_t n);                                   \
  void sum_backward(float* din, const float* dout /* (1) */, int64_t n);                                \
  void sum_squares(float* out /* (1) */, const float* in, int64_t n);                                   \
  void slice_columns_forward(float* out /* (B,width) */, const float* in /* (B,D) */, int B, int D,      \
                             int start, int width);                                                      \
  void slice_columns_backward(float* din /* (B,D) */, const float* dout /* (B,width) */, int B, int D,   \
                              int start, int width);

namespace facet {
namespace cpu { FACET_ELEMENTWISE_API }
namespace cuda { FACET_ELEMENTWISE_API }
}  // namespace facet
#undef FACET_ELEMENTWISE_API
