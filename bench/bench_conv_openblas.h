// A Caffe-style 2-D convolution on OpenBLAS, the outside reference for facet's conv2d in the kernels section
// (rows with impl "openblas-im2col"). Bench only: OpenBLAS is dlopen'ed (bench_util.h), never linked.
//   forward   per image n: col = im2col(x_n) (C*R*S, P*Q); y_n (K, P*Q) = bias + W (K, C*R*S) * col
//   backward  per image n: db += row sums of dy_n; col = im2col(x_n); dW += dy_n * col^T;
//             dcol = W^T * dy_n; dx_n += col2im(dcol)
// Every product is one OpenBLAS sgemm using OpenBLAS's own threads; im2col, col2im and the bias/db loops are
// plain single-threaded loops, as in Caffe's CPU path. Same semantics as kernels/conv2d.h (cross-correlation,
// zero padding `pad` on every side, `stride`); gradients are added (+=) and may each be null.
#pragma once
#include "bench/bench_util.h"
#include "kernels/dims.h"

namespace facet::bench {

// One image (C,H,W) -> col (C*R*S, P*Q): col[(c*R + r)*S + s][p*Q + q] = img[c][p*st-pad+r][q*st-pad+s], 0 in
// the padding.
void im2col(float* col, const float* img, const Conv2dDims& d);
// The adjoint of im2col: img[c][h][w] += every col entry im2col would have read from (c,h,w).
void col2im_add(float* img, const float* col, const Conv2dDims& d);

class OpenBlasConv {
 public:
  OpenBlasConv(const OpenBlas& ob, const Conv2dDims& d);
  void forward(float* out, const float* in, const float* weight, const float* bias /* or null */);
  void backward(float* din, float* dweight, float* dbias, const float* dout, const float* in,
                const float* weight);

 private:
  const OpenBlas& ob_;
  Conv2dDims d_;
  Buffer col_, dcol_;  // one image's (C*R*S, P*Q) columns and their gradient
};

}  // namespace facet::bench
