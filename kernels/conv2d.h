// conv2d: cross-correlation as in every DL framework.
//   forward   out[n,k,p,q] = bias[k] + sum_{c,r,s} in[n,c,p*st-pad+r, q*st-pad+s] * w[k,c,r,s]
//   backward  dw[k,c,r,s] += sum_{n,p,q} dout[n,k,p,q] * in[n,c,p*st-pad+r, q*st-pad+s]
//             dbias[k]    += sum_{n,p,q} dout[n,k,p,q]
//             din[n,c,h,w] += sum_{k,r,s : h = p*st-pad+r, w = q*st-pad+s} dout[n,k,p,q] * w[k,c,r,s]
// Backward accumulates (+=) into the gradients, which may each be null (not wanted).
//
// Two entry points serve a convolution followed by batchnorm2d (kernels/batchnorm2d.h):
//   conv2d_forward_bn_stats  training: conv2d_forward, plus the batch statistics of its output per channel k
//             (mean_k, rstd_k = 1/sqrt(var_k + eps), running statistics updated, each may be null), gathered in
//             the convolution's epilogue while each block of the output is still in cache, so batchnorm never
//             reads the output again for them. Same formulas as batchnorm2d_forward_train's statistics.
//   conv2d_fold_batchnorm    inference: batchnorm with running statistics folded into the weights,
//             a_k = gamma_k / sqrt(running_var_k + eps)          (gamma null: 1, beta null: 0, bias null: 0)
//             weight'[k,c,r,s] = a_k weight[k,c,r,s],   bias'_k = (bias_k - running_mean_k) a_k + beta_k
//             so conv2d(x, weight', bias') = batchnorm2d_eval(conv2d(x, weight, bias)).
#pragma once
#include "kernels/dims.h"

namespace facet {
// The definition in plain loops (kernels/naive/conv2d.cpp): read these first.
namespace naive {
void conv2d_forward(float* out /* (N,K,P,Q) */, const float* in /* (N,C,H,W) */,
                    const float* weight /* (K,C,R,S) */, const float* bias /* (K) or null */,
                    const Conv2dDims& d);
void conv2d_backward(float* din /* (N,C,H,W) or null */, float* dweight /* (K,C,R,S) or null */,
                     float* dbias /* (K) or null */, const float* dout /* (N,K,P,Q) */,
                     const float* in, const float* weight, const Conv2dDims& d);
void conv2d_forward_bn_stats(float* out /* (N,K,P,Q) */, float* mean /* (K) saved */, float* rstd /* (K) saved */,
                             float* running_mean /* (K) in-out or null */,
                             float* running_var /* (K) in-out or null */, const float* in /* (N,C,H,W) */,
                             const float* weight /* (K,C,R,S) */, const float* bias /* (K) or null */,
                             float momentum, float eps, const Conv2dDims& d);
void conv2d_fold_batchnorm(float* weight_out /* (K,C,R,S) */, float* bias_out /* (K) */,
                           const float* weight /* (K,C,R,S) */, const float* bias /* (K) or null */,
                           const float* gamma /* (K) or null */, const float* beta /* (K) or null */,
                           const float* running_mean /* (K) */, const float* running_var /* (K) */, float eps,
                           int K, int CRS);
}  // namespace naive

// The same functions, fast: kernels/cpu/ (threads, blocking) and kernels/cuda/conv2d.cu (the GPU).
namespace cpu {
decltype(naive::conv2d_forward) conv2d_forward;
decltype(naive::conv2d_backward) conv2d_backward;
decltype(naive::conv2d_forward_bn_stats) conv2d_forward_bn_stats;
decltype(naive::conv2d_fold_batchnorm) conv2d_fold_batchnorm;
}  // namespace cpu
namespace cuda {
decltype(naive::conv2d_forward) conv2d_forward;
decltype(naive::conv2d_backward) conv2d_backward;
decltype(naive::conv2d_forward_bn_stats) conv2d_forward_bn_stats;
decltype(naive::conv2d_fold_batchnorm) conv2d_fold_batchnorm;
}  // namespace cuda
}  // namespace facet
