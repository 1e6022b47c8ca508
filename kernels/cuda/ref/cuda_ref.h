// Vendor reference implementations, for bench/cuda_bench and GPU checks only (never linked into the
// framework): cuBLAS SGEMM and cuDNN convolution, batch norm and max pooling behind facet's kernel
// signatures, in facet::cuda_ref. Device pointers from facet::cuda::device_alloc; work goes to facet::cuda's
// current stream. Pure FP32 arithmetic on both sides, for a like-for-like comparison with our FP32 kernels:
// cuBLAS in its default math mode (no TF32) and cuDNN convolutions with CUDNN_FMA_MATH (the fastest algorithm
// cudnnFind* reports that uses no tensor cores), cached per shape.
// Differences from facet's contracts, forced by the libraries:
//   - batchnorm2d: gamma and beta must not be null (cuDNN has no non-affine mode); epsilon >= 1e-5.
//   - maxpool2d: cuDNN keeps no argmax; maxpool2d_forward ignores argmax (may be null), and the backward
//     takes the forward's input and output instead. cuDNN's tie rule may differ from ours.
#pragma once
#include <cstdint>

#include "kernels/dims.h"

namespace facet::cuda_ref {

void sgemm(bool transA, bool transB, int M, int N, int K, float alpha, const float* A, int lda,
           const float* B, int ldb, float beta, float* C, int ldc);

void linear_forward(float* out, const float* in, const float* weight, const float* bias, int B, int IN,
                    int OUT);
void linear_backward(float* din, float* dweight, float* dbias, const float* dout, const float* in,
                     const float* weight, int B, int IN, int OUT);

void conv2d_forward(float* out, const float* in, const float* weight, const float* bias, const Conv2dDims& d);
void conv2d_backward(float* din, float* dweight, float* dbias, const float* dout, const float* in,
                     const float* weight, const Conv2dDims& d);

void batchnorm2d_forward_train(float* out, float* mean, float* rstd, float* running_mean, float* running_var,
                               const float* in, const float* gamma, const float* beta, int N, int C, int HW,
                               float momentum, float eps);
void batchnorm2d_backward(float* din, float* dgamma, float* dbeta, const float* dout, const float* in,
                          const float* gamma, const float* mean, const float* rstd, int N, int C, int HW,
                          float eps);

void maxpool2d_forward(float* out, int32_t* argmax_unused, const float* in, const Pool2dDims& d);
void maxpool2d_backward(float* din, const float* dout, const float* in, const float* out,
                        const Pool2dDims& d);

}  // namespace facet::cuda_ref
