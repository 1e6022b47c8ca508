// conv2d: cross-correlation as in every DL framework.
//   forward   out[n,k,p,q] = bias[k] + sum_{c,r,s} in[n,c,p*st-pad+r, q*st-pad+s] * w[k,c,r,s]
//   backward  dw[k,c,r,s] += sum_{n,p,q} dout[n,k,p,q] * in[n,c,p*st-pad+r, q*st-pad+s]
//             dbias[k]    += sum_{n,p,q} dout[n,k,p,q]
//             din[n,c,h,w] += sum_{k,r,s : h = p*st-pad+r, w = q*st-pad+s} dout[n,k,p,q] * w[k,c,r,s]
// Backward accumulates (+=) into the gradients, which may each be null (not wanted).
#pragma once
#include "kernels/dims.h"

#define FACET_CONV2D_API                                                                               \
  void conv2d_forward(float* out /* (N,K,P,Q) */, const float* in /* (N,C,H,W) */,                     \
                      const float* weight /* (K,C,R,S) */, const float* bias /* (K) or null */,         \
                      const Conv2dDims& d);                                                              \
  void conv2d_backward(float* din /* (N,C,H,W) or null */, float* dweight /* (K,C,R,S) or null */,      \
                       float* dbias /* (K) or null */, const float* dout /* (N,K,P,Q) */,               \
                       const float* in, const float* weight, const Conv2dDims& d);

namespace facet {
namespace cpu { FACET_CONV2D_API }
namespace cuda { FACET_CONV2D_API }
}  // namespace facet
#undef FACET_CONV2D_API
