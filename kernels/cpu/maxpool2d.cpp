// 2-D max pooling (see kernels/maxpool2d.h). Every (n, c) plane is independent: threads split the planes, so
// results are deterministic and backward needs no atomics (a plane's gradient is written by one thread).
#include "kernels/maxpool2d.h"

#include <cmath>
#include <cstdint>
#include <limits>

#include "kernels/cpu/pool2x2.h"

namespace facet::cpu {

namespace {

// The BaseCNN case, 2x2 windows with stride 2 and no padding, runs 8 windows at a time with selects
// (kernels/cpu/pool2x2.h) on the plain values.
struct Identity {
  float operator()(float v) const { return v; }
  detail::v8f operator()(detail::v8f v) const { return v; }
};

}  // namespace

// out[n,c,p,q] = max_{i,j < k} in[n,c, p*st-pad+i, q*st-pad+j]   (cells outside the input never win)
// argmax = h*W + w of the first maximum in row-major window order (strict >: ties keep the earlier cell).
// A NaN in the window wins (the first NaN), so NaNs propagate as in PyTorch. A window with no input cell (not
// reachable with pad <= k/2) gives -inf and argmax -1.
void maxpool2d_forward(float* out, int32_t* argmax, const float* in, const Pool2dDims& d) {
  const int P = d.P(), Q = d.Q();
  const int64_t planes = int64_t(d.N) * d.C;
  const bool two_by_two = d.k == 2 && d.stride == 2 && d.pad == 0;
#pragma omp parallel for schedule(static) if (planes * P * Q * d.k * d.k >= (1 << 15))
  for (int64_t nc = 0; nc < planes; ++nc) {
    const float* x = in + nc * d.H * d.W;  // (H,W)
    float* y = out + nc * P * Q;           // (P,Q)
    int32_t* am = argmax + nc * P * Q;     // (P,Q)
    if (two_by_two) {
      detail::pool2x2_plane(y, am, x, d.W, P, Q, Identity{});
      continue;
    }
    for (int p = 0; p < P; ++p) {
      for (int q = 0; q < Q; ++q) {
        float best = -std::numeric_limits<float>::infinity();
        int32_t best_at = -1;
        for (int i = 0; i < d.k; ++i) {
          const int h = p * d.stride - d.pad + i;
          if (h < 0 || h >= d.H) continue;
          for (int j = 0; j < d.k; ++j) {
            const int w = q * d.stride - d.pad + j;
            if (w < 0 || w >= d.W) continue;
            const float v = x[h * d.W + w];
            if (best_at < 0 || v > best || (std::isnan(v) && !std::isnan(best))) {
              best = v;
              best_at = h * d.W + w;
            }
          }
        }
        y[p * Q + q] = best;
        am[p * Q + q] = best_at;
      }
    }
  }
}

// The max passes its gradient to the winner only:  din[n,c,argmax[n,c,p,q]] += dout[n,c,p,q]
void maxpool2d_backward(float* din, const float* dout, const int32_t* argmax, const Pool2dDims& d) {
  if (!din) return;
  const int PQ = d.P() * d.Q();
  const int64_t planes = int64_t(d.N) * d.C;
#pragma omp parallel for schedule(static) if (planes * PQ >= (1 << 15))
  for (int64_t nc = 0; nc < planes; ++nc) {
    float* dx = din + nc * d.H * d.W;
    const float* dy = dout + nc * PQ;
    const int32_t* am = argmax + nc * PQ;
    for (int i = 0; i < PQ; ++i)
      if (am[i] >= 0) dx[am[i]] += dy[i];
  }
}

}  // namespace facet::cpu
