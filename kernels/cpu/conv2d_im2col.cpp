// conv2d as im2col + one SGEMM per chunk of images, the threads working inside each GEMM and inside
// im2col/col2im. kernels/cpu/conv2d.cpp runs it when the batch has fewer chunks of images than threads (e.g.
// batch-1 inference), where its own batch-parallel path would leave threads idle; tests check the two paths
// against each other. Math in kernels/conv2d.h.
//
// Images are processed in chunks of G (G depends only on the shapes, never on the thread count): the chunk's
// patches are unrolled into col (CRS, G*PQ), CRS = C*R*S, so that
//   forward   Y (K, G*PQ)    = W (K, CRS) * col (CRS, G*PQ)
//   backward  dW (K, CRS)   += dY (K, G*PQ) * col^T (G*PQ, CRS)
//             dcol (CRS, G*PQ) = W^T (CRS, K) * dY (K, G*PQ),  then col2im adds dcol back into din.
// Large images give G = 1 (one GEMM per image, written straight into out); small late-layer images are
// batched so each GEMM still has >= kTargetCols columns. Threads work inside sgemm and inside
// im2col/col2im (over images and channels), so every output element is produced by one thread in a fixed
// order: results do not depend on the thread count as long as sgemm's do.
// A 1x1, stride-1, unpadded convolution needs no im2col when G = 1: the image itself is col.
#include "kernels/cpu/conv2d_im2col.h"
#include "kernels/cpu/conv2d_geometry.h"

#include <algorithm>
#include <cstdint>
#include <vector>

#include "kernels/gemm.h"

namespace facet::cpu {
namespace {

constexpr int64_t kTargetCols = 2048;             // GEMM columns per chunk worth aiming for
constexpr int64_t kColBudget = int64_t(8) << 20;  // floats in the column buffer (32 MiB)
constexpr int64_t kParallelMin = 1 << 15;          // elements before im2col/col2im use threads

using conv_detail::Geometry;
using conv_detail::is_pointwise;

int chunk_images(const Conv2dDims& d, const Geometry& g) {
  return conv_detail::chunk_images(d, g, kTargetCols, kColBudget);
}

// col[(c*R + r)*S + s, j*PQ + p*Q + q] = in[n0+j, c, p*st-pad+r, q*st-pad+s]   (0 where that is padding)
void im2col(float* col /* (CRS, G*PQ) */, const float* in /* (N,C,H,W) */, const Conv2dDims& d,
            const Geometry& g, int n0, int G) {
  const int64_t ld = G * g.PQ;
#pragma omp parallel for collapse(2) schedule(static) if (g.CRS * ld >= kParallelMin)
  for (int j = 0; j < G; ++j) {
    for (int64_t row = 0; row < g.CRS; ++row) {
      const int c = int(row / (d.R * d.S)), r = int(row / d.S % d.R), s = int(row % d.S);
      const float* x = in + (int64_t(n0 + j) * d.C + c) * g.HW;  // (H,W)
      float* dst = col + row * ld + j * g.PQ;                      // (P,Q)
      for (int p = 0; p < g.P; ++p) {
        const int h = p * d.stride - d.pad + r;
        float* drow = dst + int64_t(p) * g.Q;
        if (h < 0 || h >= d.H) {
          std::fill(drow, drow + g.Q, 0.0f);
          continue;
        }
        const float* xrow = x + int64_t(h) * d.W;
        for (int q = 0; q < g.Q; ++q) {
          const int w = q * d.stride - d.pad + s;
          drow[q] = (w >= 0 && w < d.W) ? xrow[w] : 0.0f;
        }
      }
    }
  }
}

// The adjoint of im2col: din[n0+j, c, p*st-pad+r, q*st-pad+s] += dcol[(c*R + r)*S + s, j*PQ + p*Q + q].
// One thread owns each (image, channel) plane and visits (r, s, p, q) in order: no races, deterministic.
void col2im_add(float* din /* (N,C,H,W) */, const float* dcol /* (CRS, G*PQ) */, const Conv2dDims& d,
                const Geometry& g, int n0, int G) {
  const int64_t ld = G * g.PQ;
#pragma omp parallel for collapse(2) schedule(static) if (g.CRS * ld >= kParallelMin)
  for (int j = 0; j < G; ++j) {
    for (int c = 0; c < d.C; ++c) {
      float* x = din + (int64_t(n0 + j) * d.C + c) * g.HW;  // (H,W)
      for (int r = 0; r < d.R; ++r) {
        for (int s = 0; s < d.S; ++s) {
          const float* src = dcol + ((int64_t(c) * d.R + r) * d.S + s) * ld + j * g.PQ;  // (P,Q)
          for (int p = 0; p < g.P; ++p) {
            const int h = p * d.stride - d.pad + r;
            if (h < 0 || h >= d.H) continue;
            float* xrow = x + int64_t(h) * d.W;
            const float* srow = src + int64_t(p) * g.Q;
            for (int q = 0; q < g.Q; ++q) {
              const int w = q * d.stride - d.pad + s;
              if (w >= 0 && w < d.W) xrow[w] += srow[q];
            }
          }
        }
      }
    }
  }
}

}  // namespace

// out[n,k,p,q] = bias[k] + sum_{c,r,s} in[n,c,p*st-pad+r,q*st-pad+s] * w[k,c,r,s]
//   per chunk: Y (K, G*PQ) = W (K,CRS) * col (CRS, G*PQ), then Y is scattered to out (N,K,P,Q) and bias added.
void conv2d_forward_im2col(float* out, const float* in, const float* weight, const float* bias, const Conv2dDims& d) {
  const Geometry g(d);
  if (d.N <= 0 || d.K <= 0 || g.P <= 0 || g.Q <= 0) return;
  const int G = chunk_images(d, g);
  const int K = d.K, CRS = int(g.CRS);
  std::vector<float> col;  // (CRS, G*PQ) patches of one chunk
  std::vector<float> y;    // (K, G*PQ) GEMM result of one chunk (only when G > 1)
  for (int n0 = 0; n0 < d.N; n0 += G) {
    const int cnt = std::min(G, d.N - n0);
    const int cols = int(cnt * g.PQ);
    const float* X = in + int64_t(n0) * d.C * g.HW;
    if (!(cnt == 1 && is_pointwise(d))) {
      col.resize(size_t(g.CRS) * size_t(G * g.PQ));
      im2col(col.data(), in, d, g, n0, cnt);
      X = col.data();
    }
    if (cnt == 1) {
      sgemm(false, false, K, cols, CRS, 1.0f, weight, CRS, X, cols, 0.0f, out + int64_t(n0) * K * g.PQ, cols);
      continue;
    }
    y.resize(size_t(K) * size_t(G * g.PQ));
    sgemm(false, false, K, cols, CRS, 1.0f, weight, CRS, X, cols, 0.0f, y.data(), cols);
#pragma omp parallel for collapse(2) schedule(static) if (int64_t(K) * cols >= kParallelMin)
    for (int j = 0; j < cnt; ++j)
      for (int k = 0; k < K; ++k)
        std::copy_n(y.data() + int64_t(k) * cols + j * g.PQ, g.PQ, out + (int64_t(n0 + j) * K + k) * g.PQ);
  }
  if (!bias) return;
#pragma omp parallel for collapse(2) schedule(static) if (int64_t(d.N) * K * g.PQ >= kParallelMin)
  for (int n = 0; n < d.N; ++n)
    for (int k = 0; k < K; ++k) {
      float* o = out + (int64_t(n) * K + k) * g.PQ;
      for (int64_t i = 0; i < g.PQ; ++i) o[i] += bias[k];
    }
}

// dbias[k]       += sum_{n,p,q} dout[n,k,p,q]                         (double, in (n,p,q) order)
// dw (K,CRS)     += dY (K, G*PQ) * col^T (G*PQ, CRS)                   per chunk
// din            += col2im(W^T (CRS,K) * dY (K, G*PQ))                 per chunk
void conv2d_backward_im2col(float* din, float* dweight, float* dbias, const float* dout, const float* in,
                     const float* weight, const Conv2dDims& d) {
  const Geometry g(d);
  if (d.N <= 0 || d.K <= 0 || g.P <= 0 || g.Q <= 0) return;
  const int K = d.K, CRS = int(g.CRS);
  if (dbias) {
#pragma omp parallel for schedule(static) if (int64_t(d.N) * K * g.PQ >= kParallelMin)
    for (int k = 0; k < K; ++k) {
      double s = 0.0;
      for (int n = 0; n < d.N; ++n) {
        const float* dy = dout + (int64_t(n) * K + k) * g.PQ;
        for (int64_t i = 0; i < g.PQ; ++i) s += dy[i];
      }
      dbias[k] += float(s);
    }
  }
  if (!din && !dweight) return;
  const int G = chunk_images(d, g);
  const bool pointwise = is_pointwise(d);
  std::vector<float> dyc;   // (K, G*PQ) output gradients of one chunk, gathered (only when G > 1)
  std::vector<float> col;   // (CRS, G*PQ) patches of one chunk
  std::vector<float> dcol;  // (CRS, G*PQ) patch gradients of one chunk
  for (int n0 = 0; n0 < d.N; n0 += G) {
    const int cnt = std::min(G, d.N - n0);
    const int cols = int(cnt * g.PQ);
    const float* dY = dout + int64_t(n0) * K * g.PQ;
    if (cnt > 1) {
      dyc.resize(size_t(K) * size_t(G * g.PQ));
#pragma omp parallel for collapse(2) schedule(static) if (int64_t(K) * cols >= kParallelMin)
      for (int j = 0; j < cnt; ++j)
        for (int k = 0; k < K; ++k)
          std::copy_n(dout + (int64_t(n0 + j) * K + k) * g.PQ, g.PQ, dyc.data() + int64_t(k) * cols + j * g.PQ);
      dY = dyc.data();
    }
    const bool direct = cnt == 1 && pointwise;  // the image is its own col matrix
    if (dweight) {
      const float* X = in + int64_t(n0) * d.C * g.HW;
      if (!direct) {
        col.resize(size_t(g.CRS) * size_t(G * g.PQ));
        im2col(col.data(), in, d, g, n0, cnt);
        X = col.data();
      }
      sgemm(false, true, K, CRS, cols, 1.0f, dY, cols, X, cols, 1.0f, dweight, CRS);
    }
    if (din) {
      if (direct) {
        sgemm(true, false, CRS, cols, K, 1.0f, weight, CRS, dY, cols, 1.0f, din + int64_t(n0) * d.C * g.HW, cols);
      } else {
        dcol.resize(size_t(g.CRS) * size_t(G * g.PQ));
        sgemm(true, false, CRS, cols, K, 1.0f, weight, CRS, dY, cols, 0.0f, dcol.data(), cols);
        col2im_add(din, dcol.data(), d, g, n0, cnt);
      }
    }
  }
}

}  // namespace facet::cpu
