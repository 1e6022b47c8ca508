// maxpool2d: out[n,c,p,q] = max over the k x k window at (p*st-pad, q*st-pad); padding never wins.
// Forward saves argmax[n,c,p,q] = h*W + w of the winner (first maximum in row-major window order).
// Backward routes each gradient to its winner:  din[n,c,argmax] += dout[n,c,p,q].
#pragma once
#include <cstdint>
#include "kernels/dims.h"

namespace facet {
// The definition in plain loops (kernels/naive/maxpool2d.cpp): read these first.
namespace naive {
void maxpool2d_forward(float* out /* (N,C,P,Q) */, int32_t* argmax /* (N,C,P,Q) saved */,
                       const float* in /* (N,C,H,W) */, const Pool2dDims& d);
void maxpool2d_backward(float* din /* (N,C,H,W) */, const float* dout /* (N,C,P,Q) */,
                        const int32_t* argmax, const Pool2dDims& d);
}  // namespace naive

// The same functions, fast: kernels/cpu/ (threads, blocking) and kernels/cuda/maxpool2d.cu (the GPU).
namespace cpu {
decltype(naive::maxpool2d_forward) maxpool2d_forward;
decltype(naive::maxpool2d_backward) maxpool2d_backward;
}  // namespace cpu
namespace cuda {
decltype(naive::maxpool2d_forward) maxpool2d_forward;
decltype(naive::maxpool2d_backward) maxpool2d_backward;
}  // namespace cuda
}  // namespace facet
