// A Caffe-style convolution on OpenBLAS (see bench_conv_openblas.h): per-image im2col + one sgemm.
#include "bench/bench_conv_openblas.h"

#include <algorithm>
#include <cstdint>

namespace facet::bench {
namespace {

// ceil(a / b) for b > 0, and 0 when a <= 0.
int ceil_div_pos(int a, int b) {
  return a <= 0 ? 0 : (a + b - 1) / b;
}

// The output columns q whose input column q*stride-pad+s lies inside [0, W): [lo, hi).
void valid_q(const Conv2dDims& d, int s, int* lo, int* hi) {
  const int Q = d.Q();
  *lo = std::min(Q, ceil_div_pos(d.pad - s, d.stride));
  *hi = std::max(*lo, std::min(Q, ceil_div_pos(d.W + d.pad - s, d.stride)));
}

}  // namespace

void im2col(float* col, const float* img, const Conv2dDims& d) {
  const int P = d.P(), Q = d.Q(), st = d.stride;
  const int64_t PQ = int64_t(P) * Q;
  for (int c = 0; c < d.C; ++c)
    for (int r = 0; r < d.R; ++r)
      for (int s = 0; s < d.S; ++s) {
        float* row = col + ((int64_t(c) * d.R + r) * d.S + s) * PQ;
        int q_lo, q_hi;
        valid_q(d, s, &q_lo, &q_hi);
        for (int p = 0; p < P; ++p) {
          float* dst = row + int64_t(p) * Q;
          const int h = p * st - d.pad + r;
          if (h < 0 || h >= d.H) {
            std::fill(dst, dst + Q, 0.0f);
            continue;
          }
          const float* src = img + (int64_t(c) * d.H + h) * d.W;
          std::fill(dst, dst + q_lo, 0.0f);
          for (int q = q_lo; q < q_hi; ++q) dst[q] = src[q * st - d.pad + s];
          std::fill(dst + q_hi, dst + Q, 0.0f);
        }
      }
}

void col2im_add(float* img, const float* col, const Conv2dDims& d) {
  const int P = d.P(), Q = d.Q(), st = d.stride;
  const int64_t PQ = int64_t(P) * Q;
  for (int c = 0; c < d.C; ++c)
    for (int r = 0; r < d.R; ++r)
      for (int s = 0; s < d.S; ++s) {
        const float* row = col + ((int64_t(c) * d.R + r) * d.S + s) * PQ;
        int q_lo, q_hi;
        valid_q(d, s, &q_lo, &q_hi);
        for (int p = 0; p < P; ++p) {
          const int h = p * st - d.pad + r;
          if (h < 0 || h >= d.H) continue;
          const float* src = row + int64_t(p) * Q;
          float* dst = img + (int64_t(c) * d.H + h) * d.W;
          for (int q = q_lo; q < q_hi; ++q) dst[q * st - d.pad + s] += src[q];
        }
      }
}

OpenBlasConv::OpenBlasConv(const OpenBlas& ob, const Conv2dDims& d)
    : ob_(ob), d_(d), col_(int64_t(d.C) * d.R * d.S * d.P() * d.Q()), dcol_(col_.size()) {}

void OpenBlasConv::forward(float* out, const float* in, const float* weight, const float* bias) {
  const Conv2dDims& d = d_;
  const int PQ = d.P() * d.Q(), CRS = d.C * d.R * d.S;
  const int64_t in_image = int64_t(d.C) * d.H * d.W, out_image = int64_t(d.K) * PQ;
  for (int n = 0; n < d.N; ++n) {
    float* y = out + n * out_image;
    im2col(col_.data(), in + n * in_image, d);
    if (bias)
      for (int k = 0; k < d.K; ++k) std::fill(y + int64_t(k) * PQ, y + int64_t(k + 1) * PQ, bias[k]);
    ob_.sgemm(false, false, d.K, PQ, CRS, 1.0f, weight, CRS, col_.data(), PQ, bias ? 1.0f : 0.0f, y, PQ);
  }
}

void OpenBlasConv::backward(float* din, float* dweight, float* dbias, const float* dout, const float* in,
                            const float* weight) {
  const Conv2dDims& d = d_;
  const int PQ = d.P() * d.Q(), CRS = d.C * d.R * d.S;
  const int64_t in_image = int64_t(d.C) * d.H * d.W, out_image = int64_t(d.K) * PQ;
  for (int n = 0; n < d.N; ++n) {
    const float* dy = dout + n * out_image;
    if (dbias)
      for (int k = 0; k < d.K; ++k) {
        double sum = 0;
        for (int i = 0; i < PQ; ++i) sum += dy[int64_t(k) * PQ + i];
        dbias[k] += float(sum);
      }
    if (dweight) {
      im2col(col_.data(), in + n * in_image, d);
      ob_.sgemm(false, true, d.K, CRS, PQ, 1.0f, dy, PQ, col_.data(), PQ, 1.0f, dweight, CRS);
    }
    if (din) {
      ob_.sgemm(true, false, CRS, PQ, d.K, 1.0f, weight, CRS, dy, PQ, 0.0f, dcol_.data(), PQ);
      col2im_add(din + n * in_image, dcol_.data(), d);
    }
  }
}

}  // namespace facet::bench
