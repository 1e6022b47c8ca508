// Fused batchnorm2d -> leaky ReLU -> max-pool: the BaseCNN cycle after its convolution, in one pass over memory.
// Per channel c, with a_c = gamma_c * rstd_c (training: batch statistics, as kernels/batchnorm2d.h; eval: the
// running ones, rstd_c = 1/sqrt(running_var_c + eps)):
//   z = (x - mean_c) * a_c + beta_c                    batch normalisation
//   y = z if z > 0 else alpha z                        leaky ReLU (alpha = 0: ReLU)
//   out[n,c,p,q] = max of y over the k x k window at (p*st-pad, q*st-pad); argmax = h*W + w of the first
//                  maximum (strict >), as kernels/maxpool2d.h
// z and y are never stored: forward writes out and saves argmax, mean and rstd; backward recomputes z at the
// winners. With g = dout[n,c,p,q] * (z > 0 ? 1 : alpha) at the winner (dy is zero everywhere else):
//   dbeta_c  += sum g,   dgamma_c += sum g * xhat      (sums over the windows, xhat = (x - mean_c) * rstd_c)
//   dx       += a_c * (G - sum g / M - xhat * sum(g * xhat) / M)   on every cell, M = N*H*W,
// where G is the sum of g over the windows that cell won (0 for most cells). Backward is for training
// statistics. Compared with the three ops it never writes the two full-size intermediates z and y, nor their
// gradients: the memory traffic of the cycle drops to reading x twice and writing dx once.
//
// bn_act_pool_apply is the forward with mean and rstd already known: training after conv2d_forward_bn_stats
// (kernels/conv2d.h) computed the batch statistics in the convolution's epilogue (x is then read once), or
// inference after batchnorm was folded into the convolution (mean, rstd, gamma, beta all null: 0, 1, 1, 0, so
// out = max-pool of act(x)). Its backward is bn_act_pool_backward with the same mean and rstd.
#pragma once
#include <cstdint>

#include "kernels/dims.h"

namespace facet {
// The definition in plain loops (kernels/naive/bn_act_pool.cpp): read these first.
namespace naive {
void bn_act_pool_forward(float* out /* (N,C,P,Q) */, int32_t* argmax /* (N,C,P,Q) saved */,
                         float* mean /* (C) saved */, float* rstd /* (C) saved */,
                         float* running_mean /* (C) in-out */, float* running_var /* (C) in-out */,
                         const float* in /* (N,C,H,W) */, const float* gamma /* (C) or null */,
                         const float* beta /* (C) or null */, bool training, float momentum, float eps,
                         float alpha, const Pool2dDims& d);
void bn_act_pool_backward(float* din /* (N,C,H,W) */, float* dgamma /* (C) */, float* dbeta /* (C) */,
                          const float* dout /* (N,C,P,Q) */, const int32_t* argmax, const float* in,
                          const float* gamma, const float* beta, const float* mean, const float* rstd,
                          float alpha, const Pool2dDims& d);
void bn_act_pool_apply(float* out /* (N,C,P,Q) */, int32_t* argmax /* (N,C,P,Q) saved */,
                       const float* in /* (N,C,H,W) */, const float* mean /* (C) or null */,
                       const float* rstd /* (C) or null */, const float* gamma /* (C) or null */,
                       const float* beta /* (C) or null */, float alpha, const Pool2dDims& d);
}  // namespace naive

// The same functions, fast: kernels/cpu/ (threads, blocking) and kernels/cuda/bn_act_pool.cu (the GPU).
namespace cpu {
decltype(naive::bn_act_pool_forward) bn_act_pool_forward;
decltype(naive::bn_act_pool_backward) bn_act_pool_backward;
decltype(naive::bn_act_pool_apply) bn_act_pool_apply;
}  // namespace cpu
namespace cuda {
decltype(naive::bn_act_pool_forward) bn_act_pool_forward;
decltype(naive::bn_act_pool_backward) bn_act_pool_backward;
decltype(naive::bn_act_pool_apply) bn_act_pool_apply;
}  // namespace cuda
}  // namespace facet
