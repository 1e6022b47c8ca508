// 2-D max pooling on the device (see kernels/maxpool2d.h), matching the CPU kernel exactly.
//   forward   out[n,c,p,q] = max over the k x k window at (p*st-pad, q*st-pad); argmax = h*W + w of the first
//             maximum in row-major window order (strict >), a NaN wins (the first NaN), padding never wins;
//             a window without input cells gives -inf and argmax -1. One thread per output.
//   backward  din[n,c,h,w] += sum of dout[n,c,p,q] over the windows whose argmax is (h,w).
//             Gathered, not scattered: one thread per input cell visits the (at most ceil(k/st)^2) windows
//             that contain it, in increasing (p, q) — the order the CPU's scatter adds them in. No atomics,
//             so the result is deterministic and equals the CPU's bit for bit, even with overlapping windows.
#include <cmath>

#include "kernels/cuda/kernel_utils.h"
#include "kernels/cuda/pool_window.h"
#include "kernels/maxpool2d.h"

namespace facet::cuda {

namespace {
struct Identity {
  __device__ float operator()(float v) const { return v; }
};

// out = max over the window, argmax = h*W + w of the first maximum (a NaN wins); one thread per output.
__global__ void maxpool2d_forward_kernel(float* out, int32_t* argmax, const float* in, Pool2dDims d) {
  const int P = d.P(), Q = d.Q();
  const int64_t total = int64_t(d.N) * d.C * P * Q;
  for (int64_t o = global_index(); o < total; o += grid_stride()) {
    const int q = int(o % Q), p = int(o / Q % P);
    const int64_t plane = o / (int64_t(P) * Q);  // n*C + c
    float best;
    int32_t best_at;
    pool_window(in + plane * d.H * d.W, p, q, d, Identity{}, best, best_at);
    out[o] = best;
    argmax[o] = best_at;
  }
}

// din[h,w] += sum of dout[p,q] over the windows (p,q) whose argmax is (h,w); one thread per input cell.
__global__ void maxpool2d_backward_kernel(float* din, const float* dout, const int32_t* argmax,
                                          Pool2dDims d) {
  const int P = d.P(), Q = d.Q();
  const int64_t total = int64_t(d.N) * d.C * d.H * d.W;
  for (int64_t i = global_index(); i < total; i += grid_stride()) {
    const int hw = int(i % (int64_t(d.H) * d.W)), h = hw / d.W, w = hw % d.W;
    const int64_t plane = i / (int64_t(d.H) * d.W);
    const float* dy = dout + plane * P * Q;
    const int32_t* am = argmax + plane * P * Q;
    int p_lo, p_hi, q_lo, q_hi;
    window_range(h, d.pad, d.k, d.stride, P, p_lo, p_hi);
    window_range(w, d.pad, d.k, d.stride, Q, q_lo, q_hi);
    float acc = din[i];
    for (int p = p_lo; p <= p_hi; ++p)
      for (int q = q_lo; q <= q_hi; ++q)
        if (am[p * Q + q] == hw) acc += dy[p * Q + q];
    din[i] = acc;
  }
}
}  // namespace

void maxpool2d_forward(float* out, int32_t* argmax, const float* in, const Pool2dDims& d) {
  const int64_t total = int64_t(d.N) * d.C * d.P() * d.Q();
  FACET_LAUNCH(maxpool2d_forward_kernel, grid_for(total), kBlock, 0, stream(), out, argmax, in, d);
}

void maxpool2d_backward(float* din, const float* dout, const int32_t* argmax, const Pool2dDims& d) {
  if (!din) return;
  const int64_t total = int64_t(d.N) * d.C * d.H * d.W;
  FACET_LAUNCH(maxpool2d_backward_kernel, grid_for(total), kBlock, 0, stream(), din, dout, argmax, d);
}

}  // namespace facet::cuda
