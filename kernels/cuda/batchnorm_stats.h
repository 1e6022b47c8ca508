// Batch statistics of batchnorm2d on the device, shared by batchnorm2d.cu and the fused bn_act_pool.cu (internal
// to kernels/cuda): Welford partial states per (split, channel), merged in order per channel -> mean, rstd and
// the running statistics (see batchnorm2d.cu).
#pragma once

namespace facet::cuda::detail {

void batchnorm2d_batch_stats(float* mean /* (C) */, float* rstd /* (C) */, float* running_mean /* (C) or null */,
                             float* running_var /* (C) or null */, const float* in /* (N,C,HW) */, int N, int C,
                             int HW, float momentum, float eps);

}  // namespace facet::cuda::detail
