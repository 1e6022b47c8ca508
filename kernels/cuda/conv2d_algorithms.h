// The CUDA conv2d beyond kernels/conv2d.h: the naive direct kernels kept as the readable reference, and the
// switch that makes facet::cuda::conv2d_forward/backward use them (tests and cuda_bench compare the two).
#pragma once
#include "kernels/dims.h"

namespace facet::cuda {

enum class Conv2dAlgorithm {
  implicit_gemm,  // default: the tiled GEMM of kernels/cuda/gemm_tiled.h with on-the-fly im2col
  naive,          // one thread per output element, loops straight from the formula
};
void set_conv2d_algorithm(Conv2dAlgorithm algorithm);  // process-wide
Conv2dAlgorithm conv2d_algorithm();

// Direct kernels, same contract as conv2d_forward / conv2d_backward (device pointers, += into gradients).
void conv2d_forward_naive(float* out, const float* in, const float* weight, const float* bias,
                          const Conv2dDims& d);
void conv2d_backward_naive(float* din, float* dweight, float* dbias, const float* dout, const float* in,
                           const float* weight, const Conv2dDims& d);

// The implicit-GEMM versions, whatever the switch says.
void conv2d_forward_implicit_gemm(float* out, const float* in, const float* weight, const float* bias,
                                  const Conv2dDims& d);
void conv2d_backward_implicit_gemm(float* din, float* dweight, float* dbias, const float* dout,
                                   const float* in, const float* weight, const Conv2dDims& d);

}  // namespace facet::cuda
