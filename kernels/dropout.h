// Inverted dropout: keep_i ~ Bernoulli(1-p), out_i = in_i * keep_i / (1-p); identity in eval (not called).
// backward: din_i += dout_i * keep_i / (1-p).
// The mask comes from a counter-based generator (Philox4x32-10, kernels/philox.h): element i uses counter
// (offset + i) under key seed, so the CPU and CUDA kernels draw the same mask for the same (seed, offset).
#pragma once
#include <cstdint>

namespace facet {
// The definition in plain loops (kernels/naive/dropout.cpp): read these first.
namespace naive {
void dropout_forward(float* out /* (n) */, uint8_t* mask /* (n) saved, 1 = kept */,
                     const float* in /* (n) */, int64_t n, float p, uint64_t seed, uint64_t offset);
void dropout_backward(float* din /* (n) */, const float* dout /* (n) */, const uint8_t* mask,
                      int64_t n, float p);
}  // namespace naive

// The same functions, fast: kernels/cpu/ (threads, blocking) and kernels/cuda/dropout.cu (the GPU).
namespace cpu {
decltype(naive::dropout_forward) dropout_forward;
decltype(naive::dropout_backward) dropout_backward;
}  // namespace cpu
namespace cuda {
decltype(naive::dropout_forward) dropout_forward;
decltype(naive::dropout_backward) dropout_backward;
}  // namespace cuda
}  // namespace facet
