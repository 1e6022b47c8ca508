// Mean squared error over n values:  loss = (1/n) sum_i (p_i - t_i)^2,   dp_i += dloss * 2 (p_i - t_i) / n.
// loss and dloss are one float each, in the backend's memory (device memory for CUDA).
#pragma once
#include <cstdint>

namespace facet {
// The definition in plain loops (kernels/naive/mse.cpp): read these first.
namespace naive {
void mse_forward(float* loss /* (1) */, const float* pred /* (n) */, const float* target /* (n) */,
                 int64_t n);
void mse_backward(float* dpred /* (n) */, const float* dloss /* (1) */, const float* pred,
                  const float* target, int64_t n);
}  // namespace naive

// The same functions, fast: kernels/cpu/ (threads, blocking) and kernels/cuda/mse.cu (the GPU).
namespace cpu {
decltype(naive::mse_forward) mse_forward;
decltype(naive::mse_backward) mse_backward;
}  // namespace cpu
namespace cuda {
decltype(naive::mse_forward) mse_forward;
decltype(naive::mse_backward) mse_backward;
}  // namespace cuda
}  // namespace facet
