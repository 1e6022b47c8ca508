// Batch statistics of batchnorm2d on the device, shared by batchnorm2d.cu and the fused bn_act_pool.cu (internal
// to kernels/cuda): Welford partial states per (split, channel), merged in order per channel -> mean, rstd and
// the running statistics (see batchnorm2d.cu).
#pragma once
#include <cstdint>

namespace facet::cuda::detail {

void batchnorm2d_batch_stats(float* mean /* (C) */, float* rstd /* (C) */, float* running_mean /* (C) or null */,
                             float* running_var /* (C) or null */, const float* in /* (N,C,HW) */, int N, int C,
                             int HW, float momentum, float eps);

// How many splits (blocks) per channel the reductions use for this many values: depends on the shape only.
int batchnorm2d_splits(int64_t values_per_channel);

// The ordered per-channel total of (C, G) partial pairs (sum dy, sum dy*xhat) -> sums (C, 2), accumulated into
// dbeta and dgamma when they are not null.
void batchnorm2d_backward_sums(float* sums, float* dgamma, float* dbeta, const float* partial, int C, int G);

}  // namespace facet::cuda::detail
