// 2-D max pooling (see kernels/maxpool2d.h). Every (n, c) plane is independent: threads split the planes, so
// results are deterministic and backward needs no atomics (a plane's gradient is written by one thread).
#include "kernels/maxpool2d.h"

#include <cstdint>

#include "kernels/cpu/pool_plane.h"

namespace facet::cpu {

namespace {

// The plain values (kernels/cpu/pool_plane.h: 2x2/2 windows run 8 at a time with selects).
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
#pragma omp parallel for schedule(static) if (planes * P * Q * d.k * d.k >= (1 << 15))
  for (int64_t nc = 0; nc < planes; ++nc) {
    const float* x = in + nc * d.H * d.W;  // (H,W)
    float* y = out + nc * P * Q;           // (P,Q)
    int32_t* am = argmax + nc * P * Q;     // (P,Q)
    detail::pool_plane(y, am, x, d, Identity{});
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
