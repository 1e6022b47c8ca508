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

namespace facet {
// The definition in plain loops (kernels/naive/elementwise.cpp): read these first.
namespace naive {
void fill(float* x, float v, int64_t n);
void add_forward(float* out, const float* a, const float* b, int64_t n);
void accumulate(float* dst, const float* src, int64_t n);
void axpy(float* y, float a, const float* x, int64_t n);
void scale_forward(float* out, const float* in, float s, int64_t n);
void mul_forward(float* out, const float* a, const float* b, int64_t n);
void mul_backward(float* da /* or null */, float* db /* or null */, const float* dout, const float* a,
                  const float* b, int64_t n);
void sum_forward(float* out /* (1) */, const float* in, int64_t n);
void sum_backward(float* din, const float* dout /* (1) */, int64_t n);
void sum_squares(float* out /* (1) */, const float* in, int64_t n);
void slice_columns_forward(float* out /* (B,width) */, const float* in /* (B,D) */, int B, int D,
                           int start, int width);
void slice_columns_backward(float* din /* (B,D) */, const float* dout /* (B,width) */, int B, int D,
                            int start, int width);
}  // namespace naive

// The same functions, fast: kernels/cpu/ (threads, blocking) and kernels/cuda/elementwise.cu (the GPU).
namespace cpu {
decltype(naive::fill) fill;
decltype(naive::add_forward) add_forward;
decltype(naive::accumulate) accumulate;
decltype(naive::axpy) axpy;
decltype(naive::scale_forward) scale_forward;
decltype(naive::mul_forward) mul_forward;
decltype(naive::mul_backward) mul_backward;
decltype(naive::sum_forward) sum_forward;
decltype(naive::sum_backward) sum_backward;
decltype(naive::sum_squares) sum_squares;
decltype(naive::slice_columns_forward) slice_columns_forward;
decltype(naive::slice_columns_backward) slice_columns_backward;
}  // namespace cpu
namespace cuda {
decltype(naive::fill) fill;
decltype(naive::add_forward) add_forward;
decltype(naive::accumulate) accumulate;
decltype(naive::axpy) axpy;
decltype(naive::scale_forward) scale_forward;
decltype(naive::mul_forward) mul_forward;
decltype(naive::mul_backward) mul_backward;
decltype(naive::sum_forward) sum_forward;
decltype(naive::sum_backward) sum_backward;
decltype(naive::sum_squares) sum_squares;
decltype(naive::slice_columns_forward) slice_columns_forward;
decltype(naive::slice_columns_backward) slice_columns_backward;
}  // namespace cuda
}  // namespace facet
