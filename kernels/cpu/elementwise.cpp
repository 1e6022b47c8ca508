// Small pointwise and reduction ops (see kernels/elementwise.h). Pointwise loops are embarrassingly parallel;
// sums use detail::blocked_sum, so their result does not depend on the thread count.
#include "kernels/elementwise.h"

#include "kernels/cpu/reduce.h"

namespace facet::cpu {

using detail::kParallelMin;

// x_i = v
void fill(float* x, float v, int64_t n) {
#pragma omp parallel for simd schedule(static) if (n >= kParallelMin)
  for (int64_t i = 0; i < n; ++i) x[i] = v;
}

// out_i = a_i + b_i          (backward is `accumulate` into each input's gradient)
void add_forward(float* out, const float* a, const float* b, int64_t n) {
#pragma omp parallel for simd schedule(static) if (n >= kParallelMin)
  for (int64_t i = 0; i < n; ++i) out[i] = a[i] + b[i];
}

// dst_i += src_i             (gradient accumulation; a null dst means the gradient is not wanted)
void accumulate(float* dst, const float* src, int64_t n) {
  if (!dst) return;
#pragma omp parallel for simd schedule(static) if (n >= kParallelMin)
  for (int64_t i = 0; i < n; ++i) dst[i] += src[i];
}

// y_i += a * x_i             (scale's backward: d(in) += s * d(out); a null y is skipped)
void axpy(float* y, float a, const float* x, int64_t n) {
  if (!y) return;
#pragma omp parallel for simd schedule(static) if (n >= kParallelMin)
  for (int64_t i = 0; i < n; ++i) y[i] += a * x[i];
}

// out_i = s * in_i           (out may equal in)
void scale_forward(float* out, const float* in, float s, int64_t n) {
#pragma omp parallel for simd schedule(static) if (n >= kParallelMin)
  for (int64_t i = 0; i < n; ++i) out[i] = s * in[i];
}

// out_i = a_i * b_i
void mul_forward(float* out, const float* a, const float* b, int64_t n) {
#pragma omp parallel for simd schedule(static) if (n >= kParallelMin)
  for (int64_t i = 0; i < n; ++i) out[i] = a[i] * b[i];
}

// d(a*b)/da = b, d(a*b)/db = a:   da_i += dout_i * b_i,   db_i += dout_i * a_i   (either may be null)
void mul_backward(float* da, float* db, const float* dout, const float* a, const float* b, int64_t n) {
  if (da) {
#pragma omp parallel for simd schedule(static) if (n >= kParallelMin)
    for (int64_t i = 0; i < n; ++i) da[i] += dout[i] * b[i];
  }
  if (db) {
#pragma omp parallel for simd schedule(static) if (n >= kParallelMin)
    for (int64_t i = 0; i < n; ++i) db[i] += dout[i] * a[i];
  }
}

// out[0] = sum_i in_i        (accumulated in double, thread-count independent)
void sum_forward(float* out, const float* in, int64_t n) {
  out[0] = float(detail::blocked_sum(n, [in](int64_t i) { return double(in[i]); }));
}

// d(sum)/d(in_i) = 1:  din_i += dout[0]
void sum_backward(float* din, const float* dout, int64_t n) {
  if (!din) return;
  const float g = dout[0];
#pragma omp parallel for simd schedule(static) if (n >= kParallelMin)
  for (int64_t i = 0; i < n; ++i) din[i] += g;
}

// out[0] = sum_i in_i^2      (squared L2 norm, for gradient clipping)
void sum_squares(float* out, const float* in, int64_t n) {
  out[0] = float(detail::blocked_sum(n, [in](int64_t i) { return double(in[i]) * double(in[i]); }));
}

// out[b, j] = in[b, start + j]   for j < width:  in (B,D), out (B,width)
void slice_columns_forward(float* out, const float* in, int B, int D, int start, int width) {
#pragma omp parallel for schedule(static) if (int64_t(B) * width >= kParallelMin)
  for (int b = 0; b < B; ++b)
    for (int j = 0; j < width; ++j) out[int64_t(b) * width + j] = in[int64_t(b) * D + start + j];
}

// din[b, start + j] += dout[b, j]   (the other columns of din are untouched)
void slice_columns_backward(float* din, const float* dout, int B, int D, int start, int width) {
  if (!din) return;
#pragma omp parallel for schedule(static) if (int64_t(B) * width >= kParallelMin)
  for (int b = 0; b < B; ++b)
    for (int j = 0; j < width; ++j) din[int64_t(b) * D + start + j] += dout[int64_t(b) * width + j];
}

}  // namespace facet::cpu
