// linear (dense): out[b,o] = bias[o] + sum_i in[b,i] * w[o,i]       (w stored (OUT,IN), as PyTorch)
//   backward: din[b,i] += sum_o dout[b,o]*w[o,i];  dw[o,i] += sum_b dout[b,o]*in[b,i];  dbias[o] += sum_b dout[b,o]
// Gradients accumulate (+=) and may each be null.
#pragma once

namespace facet {
// The definition in plain loops (kernels/naive/linear.cpp): read these first.
namespace naive {
void linear_forward(float* out /* (B,OUT) */, const float* in /* (B,IN) */,
                    const float* weight /* (OUT,IN) */, const float* bias /* (OUT) or null */, int B,
                    int IN, int OUT);
void linear_backward(float* din /* (B,IN) or null */, float* dweight /* (OUT,IN) or null */,
                     float* dbias /* (OUT) or null */, const float* dout /* (B,OUT) */,
                     const float* in, const float* weight, int B, int IN, int OUT);
}  // namespace naive

// The same functions, fast: kernels/cpu/ (threads, blocking) and kernels/cuda/linear.cu (the GPU).
namespace cpu {
decltype(naive::linear_forward) linear_forward;
decltype(naive::linear_backward) linear_backward;
}  // namespace cpu
namespace cuda {
decltype(naive::linear_forward) linear_forward;
decltype(naive::linear_backward) linear_backward;
}  // namespace cuda
}  // namespace facet
