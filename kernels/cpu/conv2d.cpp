// 2-D convolution (cross-correlation) as im2col + SGEMM, parallel over chunks of images (math in
// kernels/conv2d.h). With CRS = C*R*S and a chunk of G images unrolled into col (CRS, G*PQ):
//   forward   Y (K, G*PQ)       = W (K, CRS) * col (CRS, G*PQ)            -> out, + bias
//   backward  dW (K, CRS)      += dY (K, G*PQ) * col^T (G*PQ, CRS)
//             dcol (CRS, G*PQ)  = W^T (CRS, K) * dY (K, G*PQ)              -> col2im adds it into din
// Why chunks of images and not threads inside each GEMM: a per-image GEMM at batch 64 is small (conv2 at 64x64:
// 32 x 1024 x 288), so splitting it across cores costs two fork/joins and barriers per image and leaves im2col
// and col2im serial in between. Each thread instead takes whole chunks, unrolls them into its own col buffer
// (which stays in its L2), runs the GEMMs on one core and writes its own images' outputs: no barriers, and
// the memory-bound im2col/col2im run on both cores. G is 1 for large images; late layers with few pixels
// (PQ = 4 at conv6) group images so each GEMM has >= kChunkCols columns for the 48-wide micro-kernel.
// Weight gradients are accumulated per slot (chunk c goes to slot c % S, slots in chunk order, S fixed by
// the shape) and the slots are summed in order, so dW does not depend on the thread count (S < 5 threads).
// With fewer chunks than threads (batch-1 inference, or one chunk of tiny images) the reference path runs
// instead: one GEMM per chunk with the threads inside it (kernels/cpu/conv2d_reference.cpp).
#include <omp.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "kernels/conv2d.h"
#include "kernels/cpu/conv2d_reference.h"
#include "kernels/gemm.h"

namespace facet::cpu {
namespace {

constexpr int64_t kChunkCols = 512;  // GEMM columns per chunk: >= 10 tiles of the 48-wide micro-kernel
constexpr int kSlots = 4;            // weight-gradient partial sums (a function of the shape only)

struct Geometry {
  int P, Q;
  int64_t PQ, HW, CRS;
  explicit Geometry(const Conv2dDims& d)
      : P(d.P()), Q(d.Q()), PQ(int64_t(d.P()) * d.Q()), HW(int64_t(d.H) * d.W), CRS(int64_t(d.C) * d.R * d.S) {}
};

int chunk_images(const Conv2dDims& d, const Geometry& g) {
  return int(std::clamp<int64_t>((kChunkCols + g.PQ - 1) / g.PQ, 1, d.N));
}

bool is_pointwise(const Conv2dDims& d) { return d.R == 1 && d.S == 1 && d.stride == 1 && d.pad == 0; }

// Per-thread scratch that only grows: repeated calls (every training step) reuse it without page faults.
float* scratch(std::vector<float>& v, int64_t n) {
  if (int64_t(v.size()) < n) v.resize(size_t(n));
  return v.data();
}
thread_local std::vector<float> tl_col, tl_dcol, tl_y, tl_partial;

// Output columns q whose input column w = q*stride - pad + s lies inside [0, W): q in [lo, hi).
void valid_q(const Conv2dDims& d, int Q, int s, int* lo, int* hi) {
  const int off = s - d.pad;  // w = q*stride + off
  int a = off >= 0 ? 0 : (-off + d.stride - 1) / d.stride;
  int b = d.W - off <= 0 ? 0 : (d.W - off + d.stride - 1) / d.stride;  // first q with w >= W
  *lo = std::min(a, Q);
  *hi = std::clamp(b, *lo, Q);
}

// col[(c*R + r)*S + s, j*PQ + p*Q + q] = in[n0+j, c, p*st-pad+r, q*st-pad+s]   (0 where that is padding)
// One thread, one chunk: each output row segment is a zero edge, a copy (strided for stride > 1), a zero edge.
void im2col_chunk(float* col /* (CRS, G*PQ) */, const float* in /* (N,C,H,W) */, const Conv2dDims& d,
                  const Geometry& g, int n0, int G) {
  const int64_t ld = G * g.PQ;
  for (int s = 0; s < d.S; ++s) {
    int lo, hi;
    valid_q(d, g.Q, s, &lo, &hi);
    const int w0 = lo * d.stride - d.pad + s;
    for (int j = 0; j < G; ++j)
      for (int c = 0; c < d.C; ++c) {
        const float* x = in + (int64_t(n0 + j) * d.C + c) * g.HW;  // (H,W)
        for (int r = 0; r < d.R; ++r) {
          float* dst = col + ((int64_t(c) * d.R + r) * d.S + s) * ld + j * g.PQ;  // (P,Q)
          for (int p = 0; p < g.P; ++p) {
            const int h = p * d.stride - d.pad + r;
            float* drow = dst + int64_t(p) * g.Q;
            if (h < 0 || h >= d.H) {
              std::fill(drow, drow + g.Q, 0.0f);
              continue;
            }
            std::fill(drow, drow + lo, 0.0f);
            if (hi > lo) {
              const float* xrow = x + int64_t(h) * d.W + w0;
              if (d.stride == 1)
                std::copy(xrow, xrow + (hi - lo), drow + lo);
              else
                for (int q = lo; q < hi; ++q) drow[q] = xrow[int64_t(q - lo) * d.stride];
            }
            std::fill(drow + hi, drow + g.Q, 0.0f);
          }
        }
      }
  }
}

// The adjoint of im2col: din[n0+j, c, p*st-pad+r, q*st-pad+s] += dcol[(c*R + r)*S + s, j*PQ + p*Q + q].
// One thread, one chunk, (r, s, p, q) in a fixed order: deterministic.
void col2im_add_chunk(float* din /* (N,C,H,W) */, const float* dcol /* (CRS, G*PQ) */, const Conv2dDims& d,
                      const Geometry& g, int n0, int G) {
  const int64_t ld = G * g.PQ;
  for (int j = 0; j < G; ++j)
    for (int c = 0; c < d.C; ++c) {
      float* x = din + (int64_t(n0 + j) * d.C + c) * g.HW;  // (H,W)
      for (int r = 0; r < d.R; ++r)
        for (int s = 0; s < d.S; ++s) {
          int lo, hi;
          valid_q(d, g.Q, s, &lo, &hi);
          const int w0 = lo * d.stride - d.pad + s;
          const float* src = dcol + ((int64_t(c) * d.R + r) * d.S + s) * ld + j * g.PQ;  // (P,Q)
          for (int p = 0; p < g.P; ++p) {
            const int h = p * d.stride - d.pad + r;
            if (h < 0 || h >= d.H || hi <= lo) continue;
            float* xrow = x + int64_t(h) * d.W + w0;
            const float* srow = src + int64_t(p) * g.Q;
            if (d.stride == 1)
              for (int q = lo; q < hi; ++q) xrow[q - lo] += srow[q];
            else
              for (int q = lo; q < hi; ++q) xrow[int64_t(q - lo) * d.stride] += srow[q];
          }
        }
    }
}

int threads_here() { return omp_in_parallel() ? 1 : omp_get_max_threads(); }

}  // namespace

// out[n,k,p,q] = bias[k] + sum_{c,r,s} in[n,c,p*st-pad+r,q*st-pad+s] * w[k,c,r,s]
void conv2d_forward(float* out, const float* in, const float* weight, const float* bias, const Conv2dDims& d) {
  const Geometry g(d);
  if (d.N <= 0 || d.K <= 0 || g.P <= 0 || g.Q <= 0) return;
  const int G = chunk_images(d, g), chunks = (d.N + G - 1) / G, nt = threads_here();
  if (chunks < nt) {
    conv2d_forward_reference(out, in, weight, bias, d);
    return;
  }
  const int K = d.K, CRS = int(g.CRS);
#pragma omp parallel for schedule(static) num_threads(nt) if (nt > 1)
  for (int ci = 0; ci < chunks; ++ci) {
    const int n0 = ci * G, cnt = std::min(G, d.N - n0), cols = int(cnt * g.PQ);
    const float* X = in + int64_t(n0) * d.C * g.HW;
    if (!(cnt == 1 && is_pointwise(d))) {
      float* col = scratch(tl_col, g.CRS * cols);  // (CRS, cols)
      im2col_chunk(col, in, d, g, n0, cnt);
      X = col;
    }
    float* o = out + int64_t(n0) * K * g.PQ;  // (cnt, K, PQ)
    if (cnt == 1) {
      sgemm(false, false, K, cols, CRS, 1.0f, weight, CRS, X, cols, 0.0f, o, cols);
      if (bias)
        for (int k = 0; k < K; ++k)
          for (int64_t i = 0; i < g.PQ; ++i) o[k * g.PQ + i] += bias[k];
      continue;
    }
    float* y = scratch(tl_y, int64_t(K) * cols);  // (K, cnt*PQ)
    sgemm(false, false, K, cols, CRS, 1.0f, weight, CRS, X, cols, 0.0f, y, cols);
    for (int j = 0; j < cnt; ++j)
      for (int k = 0; k < K; ++k) {
        const float* src = y + int64_t(k) * cols + j * g.PQ;
        float* dst = o + (int64_t(j) * K + k) * g.PQ;
        const float b = bias ? bias[k] : 0.0f;
        for (int64_t i = 0; i < g.PQ; ++i) dst[i] = src[i] + b;
      }
  }
}

// dbias[k]  += sum_{n,p,q} dout[n,k,p,q]                      (double, in (n,p,q) order)
// dW        += sum over chunks of dY_chunk * col_chunk^T       (per slot, slots summed in order)
// din       += col2im(W^T * dY_chunk)                          (each chunk's own images)
void conv2d_backward(float* din, float* dweight, float* dbias, const float* dout, const float* in,
                     const float* weight, const Conv2dDims& d) {
  const Geometry g(d);
  if (d.N <= 0 || d.K <= 0 || g.P <= 0 || g.Q <= 0) return;
  const int K = d.K, CRS = int(g.CRS);
  if (dbias) {
#pragma omp parallel for schedule(static) if (int64_t(d.N) * K * g.PQ >= (1 << 15))
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
  const int G = chunk_images(d, g), chunks = (d.N + G - 1) / G, nt = threads_here();
  if (chunks < nt) {
    conv2d_backward_reference(din, dweight, nullptr, dout, in, weight, d);
    return;
  }
  const int slots = std::min(chunks, std::max(kSlots, nt));
  const int64_t wn = int64_t(K) * CRS;
  // (slots, K, CRS): each slot's first chunk overwrites (beta 0), so no zeroing is needed.
  float* partial = dweight ? scratch(tl_partial, slots * wn) : nullptr;
  const bool pointwise = is_pointwise(d);
#pragma omp parallel for schedule(static) num_threads(std::min(nt, slots)) if (nt > 1)
  for (int slot = 0; slot < slots; ++slot) {
    for (int ci = slot; ci < chunks; ci += slots) {
      const int n0 = ci * G, cnt = std::min(G, d.N - n0), cols = int(cnt * g.PQ);
      const float* dY = dout + int64_t(n0) * K * g.PQ;  // (K, PQ) when cnt == 1
      if (cnt > 1) {
        float* dyc = scratch(tl_y, int64_t(K) * cols);  // (K, cnt*PQ), gathered
        for (int j = 0; j < cnt; ++j)
          for (int k = 0; k < K; ++k)
            std::copy_n(dout + (int64_t(n0 + j) * K + k) * g.PQ, g.PQ, dyc + int64_t(k) * cols + j * g.PQ);
        dY = dyc;
      }
      const bool direct = cnt == 1 && pointwise;  // the image is its own col matrix
      if (dweight) {
        const float* X = in + int64_t(n0) * d.C * g.HW;
        if (!direct) {
          float* col = scratch(tl_col, g.CRS * cols);
          im2col_chunk(col, in, d, g, n0, cnt);
          X = col;
        }
        sgemm(false, true, K, CRS, cols, 1.0f, dY, cols, X, cols, ci == slot ? 0.0f : 1.0f,
              partial + slot * wn, CRS);
      }
      if (din) {
        if (direct) {
          sgemm(true, false, CRS, cols, K, 1.0f, weight, CRS, dY, cols, 1.0f, din + int64_t(n0) * d.C * g.HW, cols);
        } else {
          float* dcol = scratch(tl_dcol, g.CRS * cols);
          sgemm(true, false, CRS, cols, K, 1.0f, weight, CRS, dY, cols, 0.0f, dcol, cols);
          col2im_add_chunk(din, dcol, d, g, n0, cnt);
        }
      }
    }
  }
  if (!dweight) return;
#pragma omp parallel for schedule(static) if (nt > 1 && wn >= (1 << 14))
  for (int64_t i = 0; i < wn; ++i) {
    float s = 0.0f;
    for (int slot = 0; slot < slots; ++slot) s += partial[slot * wn + i];
    dweight[i] += s;
  }
}

}  // namespace facet::cpu
