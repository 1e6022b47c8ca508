// The small ops of autograd, losses and optimizers (kernels/elementwise.h), one loop each.
#include "kernels/elementwise.h"

namespace facet::naive {

void fill(float* x, float v, int64_t n) {
  for (int64_t i = 0; i < n; ++i) x[i] = v;
}

void add_forward(float* out, const float* a, const float* b, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] = a[i] + b[i];
}

void accumulate(float* dst, const float* src, int64_t n) {
  if (!dst) return;
  for (int64_t i = 0; i < n; ++i) dst[i] += src[i];
}

void axpy(float* y, float a, const float* x, int64_t n) {
  if (!y) return;
  for (int64_t i = 0; i < n; ++i) y[i] += a * x[i];
}

void scale_forward(float* out, const float* in, float s, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] = s * in[i];
}

void mul_forward(float* out, const float* a, const float* b, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] = a[i] * b[i];
}

// da += dout * b,  db += dout * a
void mul_backward(float* da, float* db, const float* dout, const float* a, const float* b, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    if (da) da[i] += dout[i] * b[i];
    if (db) db[i] += dout[i] * a[i];
  }
}

void sum_forward(float* out, const float* in, int64_t n) {
  double s = 0.0;
  for (int64_t i = 0; i < n; ++i) s += in[i];
  out[0] = float(s);
}

// every input contributed with weight 1:  din += dout[0]
void sum_backward(float* din, const float* dout, int64_t n) {
  if (!din) return;
  for (int64_t i = 0; i < n; ++i) din[i] += dout[0];
}

void sum_squares(float* out, const float* in, int64_t n) {
  double s = 0.0;
  for (int64_t i = 0; i < n; ++i) s += double(in[i]) * in[i];
  out[0] = float(s);
}

// out[b,j] = in[b, start + j]
void slice_columns_forward(float* out, const float* in, int B, int D, int start, int width) {
  for (int b = 0; b < B; ++b)
    for (int j = 0; j < width; ++j) out[int64_t(b) * width + j] = in[int64_t(b) * D + start + j];
}

void slice_columns_backward(float* din, const float* dout, int B, int D, int start, int width) {
  if (!din) return;
  for (int b = 0; b < B; ++b)
    for (int j = 0; j < width; ++j) din[int64_t(b) * D + start + j] += dout[int64_t(b) * width + j];
}

}  // namespace facet::naive
