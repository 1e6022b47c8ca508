// Batch statistics of batchnorm2d, shared by kernels/cpu/batchnorm2d.cpp and the fused bn_act_pool.cpp (internal
// to kernels/cpu): mean and rstd per channel, running statistics updated (see kernels/batchnorm2d.h).
#pragma once

namespace facet::cpu::detail {

void batchnorm2d_batch_stats(float* mean /* (C) */, float* rstd /* (C) */, float* running_mean /* (C) or null */,
                             float* running_var /* (C) or null */, const float* in /* (N,C,HW) */, int N, int C,
                             int HW, float momentum, float eps);

// Channel c's statistics alone (the body of the above): lets a kernel threaded over channels use them.
void batchnorm2d_channel_stats(float* mean, float* rstd, float* running_mean, float* running_var,
                               const float* in, int N, int C, int HW, float momentum, float eps, int c);

}  // namespace facet::cpu::detail
