// Window scans shared by maxpool2d.cu and the fused bn_act_pool.cu (internal to kernels/cuda): the winner of one
// pooling window under maxpool2d.h's rule, and which windows contain a given row (for gathered backwards).
#pragma once
#include <cmath>
#include <cstdint>

#include "kernels/cuda/kernel_utils.h"
#include "kernels/dims.h"

namespace facet::cuda {

// Window (p, q) of the (H,W) plane x: best = max of f(cell), best_at = h*W + w of the first maximum in row-major
// window order (strict >), a NaN wins (the first NaN), padding never wins; no input cell: -inf and -1.
template <class F>
__device__ __forceinline__ void pool_window(const float* x, int p, int q, const Pool2dDims& d, const F& f,
                                            float& best, int32_t& best_at) {
  best = -INFINITY;
  best_at = -1;
  for (int i = 0; i < d.k; ++i) {
    const int h = p * d.stride - d.pad + i;
    if (h < 0 || h >= d.H) continue;
    for (int j = 0; j < d.k; ++j) {
      const int w = q * d.stride - d.pad + j;
      if (w < 0 || w >= d.W) continue;
      const float v = f(x[h * d.W + w]);
      if (best_at < 0 || v > best || (v != v && best == best)) {  // v != v: v is NaN
        best = v;
        best_at = h * d.W + w;
      }
    }
  }
}

// Windows containing row h: p*st - pad <= h < p*st - pad + k, i.e. p in [ceil((h+pad-k+1)/st), (h+pad)/st].
__device__ __forceinline__ void window_range(int h, int pad, int k, int st, int P, int& lo, int& hi) {
  const int top = h + pad - k + 1;
  lo = top <= 0 ? 0 : (top + st - 1) / st;
  hi = (h + pad) / st;
  if (hi > P - 1) hi = P - 1;
}

}  // namespace facet::cuda
