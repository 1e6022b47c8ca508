// Max-pooling of one (H,W) plane into (P,Q) with argmax, for maxpool2d.cpp and the fused bn_act_pool.cpp
// (internal to kernels/cpu). The pooled value is max over the window of f(x) for a pointwise f (identity, or
// batch-norm + activation), and the winner rule is maxpool2d.h's: cells in row-major window order, a later cell
// wins only when strictly larger, or when it is the first NaN; padding cells never win.
//
// pool_plane: any window; 2x2 with stride 2 and no padding (BaseCNN's) goes to pool2x2_plane:
// Which cell wins is data-dependent: written with branches, about half the comparisons are mispredicted and
// cost more than the window's arithmetic. So eight windows at a time are computed with selects in 8-wide GCC
// vectors (vector_size(32): AVX2 registers with -march=native, pairs of SSE registers otherwise): the even and
// odd columns of 16 input floats are split with __builtin_shufflevector, then three compare-and-select steps.
#pragma once
#include <cstdint>
#include <cstring>
#include <limits>

#include "kernels/dims.h"

namespace facet::cpu::detail {

typedef float v8f __attribute__((vector_size(32)));
typedef int32_t v8i __attribute__((vector_size(32)));

inline v8f load8(const float* p) {
  v8f v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// f: a functor with float operator()(float) and v8f operator()(v8f), the same map in both.
template <class F>
void pool2x2_plane(float* y /* (P,Q) */, int32_t* am /* (P,Q) */, const float* x /* (H,W) */, int W, int P, int Q,
                   const F& f) {
  for (int p = 0; p < P; ++p) {
    const float* r0 = x + int64_t(2 * p) * W;  // window rows 2p and 2p+1
    const float* r1 = r0 + W;
    float* yp = y + int64_t(p) * Q;
    int32_t* ap = am + int64_t(p) * Q;
    const int32_t row = 2 * p * W;
    int q = 0;
    const v8i lane = {0, 2, 4, 6, 8, 10, 12, 14};
    for (; q + 8 <= Q; q += 8) {
      const v8f a0 = load8(r0 + 2 * q), a1 = load8(r0 + 2 * q + 8);
      const v8f b0 = load8(r1 + 2 * q), b1 = load8(r1 + 2 * q + 8);
      const v8f v0 = f(__builtin_shufflevector(a0, a1, 0, 2, 4, 6, 8, 10, 12, 14));  // (2p, 2q)
      const v8f v1 = f(__builtin_shufflevector(a0, a1, 1, 3, 5, 7, 9, 11, 13, 15));  // (2p, 2q+1)
      const v8f v2 = f(__builtin_shufflevector(b0, b1, 0, 2, 4, 6, 8, 10, 12, 14));  // (2p+1, 2q)
      const v8f v3 = f(__builtin_shufflevector(b0, b1, 1, 3, 5, 7, 9, 11, 13, 15));  // (2p+1, 2q+1)
      v8f best = v0;
      v8i off = {0, 0, 0, 0, 0, 0, 0, 0};
      v8i t = (v1 > best) | ((v1 != v1) & (best == best));
      best = t ? v1 : best;
      off = t ? 1 : off;
      t = (v2 > best) | ((v2 != v2) & (best == best));
      best = t ? v2 : best;
      off = t ? W : off;
      t = (v3 > best) | ((v3 != v3) & (best == best));
      best = t ? v3 : best;
      off = t ? W + 1 : off;
      const v8i at = off + lane + (row + 2 * q);
      std::memcpy(yp + q, &best, sizeof best);
      std::memcpy(ap + q, &at, sizeof at);
    }
    for (; q < Q; ++q) {  // the last Q % 8 windows, same rule
      const float v[4] = {f(r0[2 * q]), f(r0[2 * q + 1]), f(r1[2 * q]), f(r1[2 * q + 1])};
      const int32_t offs[4] = {0, 1, W, W + 1};
      float best = v[0];
      int32_t off = 0;
      for (int i = 1; i < 4; ++i)
        if (v[i] > best || (v[i] != v[i] && best == best)) best = v[i], off = offs[i];
      yp[q] = best;
      ap[q] = row + 2 * q + off;
    }
  }
}

// Any window (k, stride, pad): scanned cell by cell; a window with no input cell gives -inf and argmax -1.
template <class F>
void pool_plane(float* y /* (P,Q) */, int32_t* am /* (P,Q) */, const float* x /* (H,W) */, const Pool2dDims& d,
                const F& f) {
  const int P = d.P(), Q = d.Q();
  if (d.k == 2 && d.stride == 2 && d.pad == 0) {
    pool2x2_plane(y, am, x, d.W, P, Q, f);
    return;
  }
  for (int p = 0; p < P; ++p)
    for (int q = 0; q < Q; ++q) {
      float best = -std::numeric_limits<float>::infinity();
      int32_t best_at = -1;
      for (int i = 0; i < d.k; ++i) {
        const int h = p * d.stride - d.pad + i;
        if (h < 0 || h >= d.H) continue;
        for (int j = 0; j < d.k; ++j) {
          const int w = q * d.stride - d.pad + j;
          if (w < 0 || w >= d.W) continue;
          const float v = f(x[h * d.W + w]);
          if (best_at < 0 || v > best || (v != v && best == best)) best = v, best_at = h * d.W + w;
        }
      }
      y[p * Q + q] = best;
      am[p * Q + q] = best_at;
    }
}

}  // namespace facet::cpu::detail
