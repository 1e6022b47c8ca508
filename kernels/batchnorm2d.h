// batchnorm2d over (N,C,H,W), statistics per channel c over the M = N*H*W values x_i.
//   train:  mean = (1/M) sum x_i,  var = (1/M) sum (x_i-mean)^2,  rstd = 1/sqrt(var+eps)
//           xhat_i = (x_i-mean)*rstd,  y_i = gamma*xhat_i + beta
//           running_mean = (1-momentum)*running_mean + momentum*mean
//           running_var  = (1-momentum)*running_var  + momentum*var*M/(M-1)   (unbiased, as PyTorch)
//   eval:   y_i = gamma*(x_i-running_mean)/sqrt(running_var+eps) + beta
//   backward (eval: running statistics are constants, rstd = 1/sqrt(running_var+eps), xhat = (x-running_mean)*rstd):
//           dbeta  += sum dy_i,   dgamma += sum dy_i*xhat_i,   dx_i += gamma*rstd*dy_i      (PyTorch's eval grads)
//   backward (train statistics):
//           dbeta  += sum dy_i,   dgamma += sum dy_i*xhat_i
//           dx_i   += gamma*rstd*(dy_i - dbeta_c/M - xhat_i*dgamma_c/M)   (dbeta_c, dgamma_c: this call's sums)
// gamma/beta may be null (non-affine: gamma=1, beta=0); dgamma/dbeta/din may be null (not wanted).
// Forward saves mean and rstd (C) for backward, as llm.c's layernorm does.
#pragma once
#include <cstdint>

namespace facet {
// The definition in plain loops (kernels/naive/batchnorm2d.cpp): read these first.
namespace naive {
void batchnorm2d_forward_train(float* out /* (N,C,HW) */, float* mean /* (C) saved */,
                               float* rstd /* (C) saved */, float* running_mean /* (C) in-out */,
                               float* running_var /* (C) in-out */, const float* in /* (N,C,HW) */,
                               const float* gamma /* (C) */, const float* beta /* (C) */, int N,
                               int C, int HW, float momentum, float eps);
void batchnorm2d_forward_eval(float* out, const float* in, const float* gamma, const float* beta,
                              const float* running_mean, const float* running_var, int N, int C,
                              int HW, float eps);
void batchnorm2d_backward(float* din /* (N,C,HW) */, float* dgamma /* (C) */, float* dbeta /* (C) */,
                          const float* dout, const float* in, const float* gamma, const float* mean,
                          const float* rstd, int N, int C, int HW);
void batchnorm2d_backward_eval(float* din /* (N,C,HW) */, float* dgamma /* (C) */, float* dbeta /* (C) */,
                               const float* dout, const float* in, const float* gamma,
                               const float* running_mean, const float* running_var, int N, int C, int HW,
                               float eps);
}  // namespace naive

// The same functions, fast: kernels/cpu/ (threads, blocking) and kernels/cuda/batchnorm2d.cu (the GPU).
namespace cpu {
decltype(naive::batchnorm2d_forward_train) batchnorm2d_forward_train;
decltype(naive::batchnorm2d_forward_eval) batchnorm2d_forward_eval;
decltype(naive::batchnorm2d_backward) batchnorm2d_backward;
decltype(naive::batchnorm2d_backward_eval) batchnorm2d_backward_eval;
}  // namespace cpu
namespace cuda {
decltype(naive::batchnorm2d_forward_train) batchnorm2d_forward_train;
decltype(naive::batchnorm2d_forward_eval) batchnorm2d_forward_eval;
decltype(naive::batchnorm2d_backward) batchnorm2d_backward;
decltype(naive::batchnorm2d_backward_eval) batchnorm2d_backward_eval;
}  // namespace cuda
}  // namespace facet
