// conv2d's small-batch path (kernels/cpu/conv2d_im2col.cpp): im2col + SGEMM per chunk of images with the
// threads inside each GEMM, same contract as kernels/conv2d.h. The batch-parallel conv2d falls back to it when
// the batch has fewer chunks than threads.
#pragma once
#include "kernels/dims.h"

namespace facet::cpu {
void conv2d_forward_im2col(float* out /* (N,K,P,Q) */, const float* in /* (N,C,H,W) */,
                              const float* weight /* (K,C,R,S) */, const float* bias /* (K) or null */,
                              const Conv2dDims& d);
void conv2d_backward_im2col(float* din /* (N,C,H,W) or null */, float* dweight /* (K,C,R,S) or null */,
                               float* dbias /* (K) or null */, const float* dout /* (N,K,P,Q) */,
                               const float* in, const float* weight, const Conv2dDims& d);
}  // namespace facet::cpu
