// The small ops of kernels/elementwise.h on the device. Pointwise ops are grid-stride loops (bit-identical to
// the CPU); sum and sum_squares use the deterministic two-pass reduction of kernels/cuda/reduce.h (float
// partial sums in a fixed tree, where the CPU sums in double: they agree to float rounding, ~1e-6 relative).
#include "kernels/cuda/reduce.h"
#include "kernels/elementwise.h"

namespace facet::cuda {

// out[0] = scale * sum_{b < blocks} partial[b]   (one block; shared by every reduce_to_scalar)
__global__ void reduce_final_kernel(float* out, const float* partial, int blocks, float scale) {
  float s = 0.0f;
  for (int b = threadIdx.x; b < blocks; b += blockDim.x) s += partial[b];
  s = block_sum(s);
  if (threadIdx.x == 0) out[0] = scale * s;
}

namespace {
// x_i = v
__global__ void fill_kernel(float* x, float v, int64_t n) {
  for (int64_t i = global_index(); i < n; i += grid_stride()) x[i] = v;
}
// out_i = a_i + b_i
__global__ void add_kernel(float* out, const float* a, const float* b, int64_t n) {
  for (int64_t i = global_index(); i < n; i += grid_stride()) out[i] = a[i] + b[i];
}
// y_i += a * x_i   (accumulate is a = 1: dst += src, written as a plain add so it is exact like the CPU's)
__global__ void axpy_kernel(float* y, float a, const float* x, int64_t n, bool plain_add) {
  for (int64_t i = global_index(); i < n; i += grid_stride()) y[i] += plain_add ? x[i] : a * x[i];
}
// out_i = s * in_i
__global__ void scale_kernel(float* out, const float* in, float s, int64_t n) {
  for (int64_t i = global_index(); i < n; i += grid_stride()) out[i] = s * in[i];
}
// out_i = a_i * b_i
__global__ void mul_kernel(float* out, const float* a, const float* b, int64_t n) {
  for (int64_t i = global_index(); i < n; i += grid_stride()) out[i] = a[i] * b[i];
}
// d(a*b): da_i += dout_i * b_i,  db_i += dout_i * a_i   (either may be null)
__global__ void mul_backward_kernel(float* da, float* db, const float* dout, const float* a, const float* b,
                                    int64_t n) {
  for (int64_t i = global_index(); i < n; i += grid_stride()) {
    if (da) da[i] += dout[i] * b[i];
    if (db) db[i] += dout[i] * a[i];
  }
}
// d(sum)/d(in_i) = 1:  din_i += dout[0]
__global__ void sum_backward_kernel(float* din, const float* dout, int64_t n) {
  const float g = dout[0];
  for (int64_t i = global_index(); i < n; i += grid_stride()) din[i] += g;
}
// out[b, j] = in[b, start + j]  (forward);  din[b, start + j] += dout[b, j]  (backward)
__global__ void slice_columns_kernel(float* out, const float* in, int B, int D, int start, int width,
                                     bool backward) {
  const int64_t n = int64_t(B) * width;
  for (int64_t i = global_index(); i < n; i += grid_stride()) {
    const int64_t b = i / width, j = i % width, wide = b * D + start + j;
    if (backward)
      out[wide] += in[i];
    else
      out[i] = in[wide];
  }
}
}  // namespace

void fill(float* x, float v, int64_t n) {
  FACET_LAUNCH(fill_kernel, grid_for(n), kBlock, 0, stream(), x, v, n);
}

void add_forward(float* out, const float* a, const float* b, int64_t n) {
  FACET_LAUNCH(add_kernel, grid_for(n), kBlock, 0, stream(), out, a, b, n);
}
void accumulate(float* dst, const float* src, int64_t n) {
  if (dst) FACET_LAUNCH(axpy_kernel, grid_for(n), kBlock, 0, stream(), dst, 1.0f, src, n, true);
}
void axpy(float* y, float a, const float* x, int64_t n) {
  if (y) FACET_LAUNCH(axpy_kernel, grid_for(n), kBlock, 0, stream(), y, a, x, n, false);
}
void scale_forward(float* out, const float* in, float s, int64_t n) {
  FACET_LAUNCH(scale_kernel, grid_for(n), kBlock, 0, stream(), out, in, s, n);
}
void mul_forward(float* out, const float* a, const float* b, int64_t n) {
  FACET_LAUNCH(mul_kernel, grid_for(n), kBlock, 0, stream(), out, a, b, n);
}
void mul_backward(float* da, float* db, const float* dout, const float* a, const float* b, int64_t n) {
  if (da || db) FACET_LAUNCH(mul_backward_kernel, grid_for(n), kBlock, 0, stream(), da, db, dout, a, b, n);
}
// out[0] = sum_i in_i
void sum_forward(float* out, const float* in, int64_t n) {
  reduce_to_scalar(out, n, 1.0f, SumTerm{in});
}
void sum_backward(float* din, const float* dout, int64_t n) {
  if (din) FACET_LAUNCH(sum_backward_kernel, grid_for(n), kBlock, 0, stream(), din, dout, n);
}
// out[0] = sum_i in_i^2
void sum_squares(float* out, const float* in, int64_t n) {
  reduce_to_scalar(out, n, 1.0f, SquareTerm{in});
}

void slice_columns_forward(float* out, const float* in, int B, int D, int start, int width) {
  FACET_LAUNCH(slice_columns_kernel, grid_for(int64_t(B) * width), kBlock, 0, stream(), out, in, B, D, start,
               width, false);
}
void slice_columns_backward(float* din, const float* dout, int B, int D, int start, int width) {
  if (din)
    FACET_LAUNCH(slice_columns_kernel, grid_for(int64_t(B) * width), kBlock, 0, stream(), din, dout, B, D,
                 start, width, true);
}

}  // namespace facet::cuda
