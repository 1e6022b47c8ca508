// conv2d's plain im2col + SGEMM path (kernels/cpu/conv2d_reference.cpp), same contract as kernels/conv2d.h:
// the reference the fast batch-parallel conv2d is tested against, and its fallback for small batches.
#pragma once
#include "kernels/dims.h"

namespace facet::cpu {
void conv2d_forward_reference(float* out /* (N,K,P,Q) */, const float* in /* (N,C,H,W) */,
                              const float* weight /* (K,C,R,S) */, const float* bias /* (K) or null */,
                              const Conv2dDims& d);
void conv2d_backward_reference(float* din /* (N,C,H,W) or null */, float* dweight /* (K,C,R,S) or null */,
                               float* dbias /* (K) or null */, const float* dout /* (N,K,P,Q) */,
                               const float* in, const float* weight, const Conv2dDims& d);
}  // namespace facet::cpu
