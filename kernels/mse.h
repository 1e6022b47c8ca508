// Mean squared error over n values:  loss = (1/n) sum_i (p_i - t_i)^2,   dp_i += dloss * 2 (p_i - t_i) / n.
// loss and dloss are one float each, in the backend's memory (device memory for CUDA).
#pragma once
#include <cstdint>

#define FACET_MSE_API                                                                                  \
  void mse_forward(float* loss /* (1) */, const float* pred /* (n) */, const float* target /* (n) */,   \
                   int64_t n);                                                                           \
  void mse_backward(float* dpred /* (n) */, const float* dloss /* (1) */, const float* pred,            \
                    const float* target, int64_t n);

namespace facet {
namespace cpu { FACET_MSE_API }
namespace cuda { FACET_MSE_API }
}  // namespace facet
#undef FACET_MSE_API
