// Pointwise activations on n floats.
//   relu:       y = max(x, 0)               dy/dx = 1 if x > 0 else 0
//   leakyrelu:  y = x if x > 0 else a*x     dy/dx = 1 if x > 0 else a
// Backward accumulates: din += dout * dy/dx (evaluated at the saved input).
#pragma once
#include <cstdint>

namespace facet {
// The definition in plain loops (kernels/naive/activation.cpp): read these first.
namespace naive {
void relu_forward(float* out, const float* in, int64_t n);
void relu_backward(float* din, const float* dout, const float* in, int64_t n);
void leakyrelu_forward(float* out, const float* in, int64_t n, float alpha);
void leakyrelu_backward(float* din, const float* dout, const float* in, int64_t n, float alpha);
}  // namespace naive

// The same functions, fast: kernels/cpu/ (threads, blocking) and kernels/cuda/activation.cu (the GPU).
namespace cpu {
decltype(naive::relu_forward) relu_forward;
decltype(naive::relu_backward) relu_backward;
decltype(naive::leakyrelu_forward) leakyrelu_forward;
decltype(naive::leakyrelu_backward) leakyrelu_backward;
}  // namespace cpu
namespace cuda {
decltype(naive::relu_forward) relu_forward;
decltype(naive::relu_backward) relu_backward;
decltype(naive::leakyrelu_forward) leakyrelu_forward;
decltype(naive::leakyrelu_backward) leakyrelu_backward;
}  // namespace cuda
}  // namespace facet
