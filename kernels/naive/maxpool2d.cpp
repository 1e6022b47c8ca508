// maxpool2d as written in kernels/maxpool2d.h: each output scans its k x k window; no threads.
#include "kernels/maxpool2d.h"

namespace facet::naive {

// out = the first maximum (strict >) of the window in row-major order; argmax = h*W + w of it. Padding cells
// are skipped, so they never win.
void maxpool2d_forward(float* out, int32_t* argmax, const float* in, const Pool2dDims& d) {
  const int P = d.P(), Q = d.Q();
  for (int64_t plane = 0; plane < int64_t(d.N) * d.C; ++plane) {
    const float* x = in + plane * d.H * d.W;  // (H,W)
    for (int p = 0; p < P; ++p)
      for (int q = 0; q < Q; ++q) {
        float best = 0.0f;
        int32_t winner = -1;
        for (int i = 0; i < d.k; ++i)
          for (int j = 0; j < d.k; ++j) {
            const int h = p * d.stride - d.pad + i, w = q * d.stride - d.pad + j;
            if (h < 0 || h >= d.H || w < 0 || w >= d.W) continue;
            if (winner < 0 || x[h * d.W + w] > best) best = x[h * d.W + w], winner = h * d.W + w;
          }
        out[(plane * P + p) * Q + q] = best;
        argmax[(plane * P + p) * Q + q] = winner;
      }
  }
}

// Only the winner saw its value reach the output: din[argmax] += dout.
void maxpool2d_backward(float* din, const float* dout, const int32_t* argmax, const Pool2dDims& d) {
  if (!din) return;
  const int64_t PQ = int64_t(d.P()) * d.Q();
  for (int64_t plane = 0; plane < int64_t(d.N) * d.C; ++plane)
    for (int64_t i = 0; i < PQ; ++i)
      if (argmax[plane * PQ + i] >= 0) din[plane * d.H * d.W + argmax[plane * PQ + i]] += dout[plane * PQ + i];
}

}  // namespace facet::naive
