// The same convolution in the NHWC layout, on facet's own sgemm: the experiment behind docs/performance.md's
// answer to "would NHWC win here?" (kernels rows with impl "nhwc-im2col"). Bench only.
// With x (N, H, W, C), W' (K, R, S, C) and y (N, P, Q, K), the unrolled matrix has one row per output pixel
// whose R*S pieces are contiguous C-long runs of x (the layout's selling point: no per-element gather):
//   col[(n*P + p)*Q + q, (r*S + s)*C + c] = x[n, p-pad+r, q-pad+s, c]          (NPQ, RSC)
//   forward   y (NPQ, K)    = col * W'^T                        sgemm(no, trans)
//   backward  dW' (K, RSC) += dy^T (K, NPQ) * col               sgemm(trans, no), per thread, summed in order
//             dcol (NPQ, RSC) = dy * W'                         sgemm(no, no) -> col2im adds it into dx
//             db += column sums of dy
// Pixels are taken in blocks whose col stays in L2 (as conv2d.cpp's blocks), one block per thread at a time,
// every product on one core. Stride 1; same semantics as kernels/conv2d.h otherwise.
#pragma once
#include <vector>

#include "kernels/dims.h"

namespace facet::bench {

class NhwcConv {
 public:
  explicit NhwcConv(const Conv2dDims& d);
  void forward(float* out /* (N,P,Q,K) */, const float* in /* (N,H,W,C) */, const float* weight /* (K,R,S,C) */,
               const float* bias);
  void backward(float* din, float* dweight, float* dbias, const float* dout, const float* in, const float* weight);

  // Layout conversions for checking against facet's NCHW kernels: (N, C, H, W) <-> (N, H, W, C) and
  // (K, C, R, S) -> (K, R, S, C).
  static void nchw_to_nhwc(float* dst, const float* src, int N, int C, int H, int W);
  static void nhwc_to_nchw(float* dst, const float* src, int N, int C, int H, int W);

 private:
  Conv2dDims d_;
  int rows_;  // pixels per block
};

}  // namespace facet::bench
