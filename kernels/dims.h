// Shape structs shared by the CPU and CUDA kernels. Plain ints, no Tensor: kernels are pure functions on raw
// buffers, so tests and benches call them directly.
#pragma once
#include <cstdint>

#if defined(__CUDACC__)
#define FACET_HD __host__ __device__
#else
#define FACET_HD
#endif

namespace facet {

// 2-D convolution, NCHW input (N,C,H,W), weight (K,C,R,S), output (N,K,P,Q).
struct Conv2dDims {
  int N, C, H, W;   // input
  int K, R, S;      // output channels, kernel height, kernel width
  int stride = 1;
  int pad = 0;      // zero padding on every side
  FACET_HD int P() const { return (H + 2 * pad - R) / stride + 1; }
  FACET_HD int Q() const { return (W + 2 * pad - S) / stride + 1; }
};

// 2-D max pooling, input (N,C,H,W), output (N,C,P,Q). Padding cells never win (they are -inf).
struct Pool2dDims {
  int N, C, H, W;
  int k;            // window k x k
  int stride;
  int pad = 0;
  FACET_HD int P() const { return (H + 2 * pad - k) / stride + 1; }
  FACET_HD int Q() const { return (W + 2 * pad - k) / stride + 1; }
};

}  // namespace facet
