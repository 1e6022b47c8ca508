// NHWC convolution on facet's sgemm (see bench_conv_nhwc.h).
#include "bench/bench_conv_nhwc.h"

#include <omp.h>

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "kernels/gemm.h"

namespace facet::bench {
namespace {

constexpr int64_t kBlockFloats = int64_t(128) << 10;  // col block of one thread: 512 KiB, as conv2d.cpp

thread_local std::vector<float> tl_col, tl_dcol;
float* grow(std::vector<float>& v, int64_t n) {
  if (int64_t(v.size()) < n) v.resize(size_t(n));
  return v.data();
}

// Rows [m0, m1) of col: per pixel, R*S runs of C floats copied from x, or zeros in the padding.
void im2col_rows(float* col, const float* x, const Conv2dDims& d, int64_t m0, int64_t m1) {
  const int P = d.P(), Q = d.Q(), C = d.C;
  const int64_t rsc = int64_t(d.R) * d.S * C;
  for (int64_t m = m0; m < m1; ++m) {
    const int n = int(m / (int64_t(P) * Q)), p = int(m / Q % P), q = int(m % Q);
    float* row = col + (m - m0) * rsc;
    for (int r = 0; r < d.R; ++r) {
      const int h = p - d.pad + r;
      for (int s = 0; s < d.S; ++s) {
        const int w = q - d.pad + s;
        float* dst = row + (int64_t(r) * d.S + s) * C;
        if (h < 0 || h >= d.H || w < 0 || w >= d.W)
          std::memset(dst, 0, sizeof(float) * C);
        else
          std::memcpy(dst, x + ((int64_t(n) * d.H + h) * d.W + w) * C, sizeof(float) * C);
      }
    }
  }
}

void col2im_rows(float* dx, const float* dcol, const Conv2dDims& d, int64_t m0, int64_t m1) {
  const int P = d.P(), Q = d.Q(), C = d.C;
  const int64_t rsc = int64_t(d.R) * d.S * C;
  for (int64_t m = m0; m < m1; ++m) {
    const int n = int(m / (int64_t(P) * Q)), p = int(m / Q % P), q = int(m % Q);
    const float* row = dcol + (m - m0) * rsc;
    for (int r = 0; r < d.R; ++r) {
      const int h = p - d.pad + r;
      if (h < 0 || h >= d.H) continue;
      for (int s = 0; s < d.S; ++s) {
        const int w = q - d.pad + s;
        if (w < 0 || w >= d.W) continue;
        float* dst = dx + ((int64_t(n) * d.H + h) * d.W + w) * C;
        const float* src = row + (int64_t(r) * d.S + s) * C;
        for (int c = 0; c < C; ++c) dst[c] += src[c];
      }
    }
  }
}

}  // namespace

NhwcConv::NhwcConv(const Conv2dDims& d) : d_(d) {
  const int64_t rsc = int64_t(d.R) * d.S * d.C;
  const int64_t reach = 2 * int64_t(d.pad) * (d.Q() + 1) + 1;
  rows_ = int(std::clamp<int64_t>(std::max(kBlockFloats / rsc / 8 * 8, reach), 48, int64_t(d.N) * d.P() * d.Q()));
}

void NhwcConv::forward(float* out, const float* in, const float* weight, const float* bias) {
  const Conv2dDims& d = d_;
  const int64_t npq = int64_t(d.N) * d.P() * d.Q(), rsc = int64_t(d.R) * d.S * d.C;
  const int64_t blocks = (npq + rows_ - 1) / rows_;
#pragma omp parallel for schedule(static)
  for (int64_t b = 0; b < blocks; ++b) {
    const int64_t m0 = b * rows_, m1 = std::min(npq, m0 + rows_);
    float* col = grow(tl_col, (m1 - m0) * rsc);
    im2col_rows(col, in, d, m0, m1);
    float* y = out + m0 * d.K;  // (m1-m0, K)
    cpu::sgemm(false, true, int(m1 - m0), d.K, int(rsc), 1.0f, col, int(rsc), weight, int(rsc), 0.0f, y, d.K);
    if (bias)
      for (int64_t i = 0; i < m1 - m0; ++i)
        for (int k = 0; k < d.K; ++k) y[i * d.K + k] += bias[k];
  }
}

void NhwcConv::backward(float* din, float* dweight, float* dbias, const float* dout, const float* in,
                        const float* weight) {
  const Conv2dDims& d = d_;
  const int64_t npq = int64_t(d.N) * d.P() * d.Q(), rsc = int64_t(d.R) * d.S * d.C, wn = d.K * rsc;
  const int64_t blocks = (npq + rows_ - 1) / rows_;
  const int nt = omp_get_max_threads();
  std::vector<float> partial(size_t(nt) * size_t(wn), 0.0f);  // (threads, K, RSC)
  std::vector<double> dbias_part(size_t(nt) * d.K, 0.0);
#pragma omp parallel num_threads(nt)
  {
    const int t = omp_get_thread_num();
    // Even blocks, then odd ones: two blocks of one phase never touch the same input pixel (the constructor
    // makes a block longer than the 2*pad*(Q+1) pixels its receptive field reaches past each end), so
    // col2im needs no lock.
    for (int phase = 0; phase < 2; ++phase)
#pragma omp for schedule(static)
    for (int64_t b = phase; b < blocks; b += 2) {
      const int64_t m0 = b * rows_, m1 = std::min(npq, m0 + rows_);
      const int rows = int(m1 - m0);
      const float* dy = dout + m0 * d.K;  // (rows, K)
      if (dbias)
        for (int i = 0; i < rows; ++i)
          for (int k = 0; k < d.K; ++k) dbias_part[size_t(t) * d.K + k] += dy[int64_t(i) * d.K + k];
      if (dweight) {
        float* col = grow(tl_col, rows * rsc);
        im2col_rows(col, in, d, m0, m1);
        cpu::sgemm(true, false, d.K, int(rsc), rows, 1.0f, dy, d.K, col, int(rsc), 1.0f,
                   partial.data() + size_t(t) * wn, int(rsc));
      }
      if (din) {
        float* dcol = grow(tl_dcol, rows * rsc);
        cpu::sgemm(false, false, rows, int(rsc), d.K, 1.0f, dy, d.K, weight, int(rsc), 0.0f, dcol, int(rsc));
        col2im_rows(din, dcol, d, m0, m1);
      }
    }
  }
  for (int t = 0; t < nt; ++t) {
    if (dweight)
      for (int64_t i = 0; i < wn; ++i) dweight[i] += partial[size_t(t) * wn + i];
    if (dbias)
      for (int k = 0; k < d.K; ++k) dbias[k] += float(dbias_part[size_t(t) * d.K + k]);
  }
}

void NhwcConv::nchw_to_nhwc(float* dst, const float* src, int N, int C, int H, int W) {
  for (int n = 0; n < N; ++n)
    for (int c = 0; c < C; ++c)
      for (int hw = 0; hw < H * W; ++hw) dst[(int64_t(n) * H * W + hw) * C + c] = src[(int64_t(n) * C + c) * H * W + hw];
}

void NhwcConv::nhwc_to_nchw(float* dst, const float* src, int N, int C, int H, int W) {
  for (int n = 0; n < N; ++n)
    for (int c = 0; c < C; ++c)
      for (int hw = 0; hw < H * W; ++hw) dst[(int64_t(n) * C + c) * H * W + hw] = src[(int64_t(n) * H * W + hw) * C + c];
}

}  // namespace facet::bench
