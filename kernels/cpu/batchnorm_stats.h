// Batch statistics of batchnorm2d, shared by kernels/cpu/batchnorm2d.cpp and the fused bn_act_pool.cpp (internal
// to kernels/cpu): mean and rstd per channel, running statistics updated (see kernels/batchnorm2d.h).
#pragma once
#include <cstdint>

namespace facet::cpu::detail {

// Shifted moments of a run of values: s1 += sum (x - shift), s2 += sum (x - shift)^2, in double over 8 lanes
// (value i goes to lane i % 8, the lanes are added in order), so it vectorizes and its order depends only on n.
inline void add_moments(const float* x, int64_t n, double shift, double& s1, double& s2) {
  constexpr int kLanes = 8;
  double a[kLanes] = {}, b[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int j = 0; j < kLanes; ++j) {
      const double v = double(x[i + j]) - shift;
      a[j] += v;
      b[j] += v * v;
    }
  for (; i < n; ++i) {
    const double v = double(x[i]) - shift;
    a[i % kLanes] += v;
    b[i % kLanes] += v * v;
  }
  double sa = 0.0, sb = 0.0;
  for (int j = 0; j < kLanes; ++j) sa += a[j], sb += b[j];
  s1 += sa;
  s2 += sb;
}

// Channel c's mean, rstd and running statistics from its batch mean mu and (biased) variance var over M values:
//   rstd = 1/sqrt(var + eps), running_mean <- (1-momentum) running_mean + momentum mu,
//   running_var <- (1-momentum) running_var + momentum var M/(M-1)      (unbiased; M = 1 uses var itself)
void batchnorm2d_finish_stats(float* mean, float* rstd, float* running_mean, float* running_var, double mu,
                              double var, int64_t M, float momentum, float eps, int c);

void batchnorm2d_batch_stats(float* mean /* (C) */, float* rstd /* (C) */, float* running_mean /* (C) or null */,
                             float* running_var /* (C) or null */, const float* in /* (N,C,HW) */, int N, int C,
                             int HW, float momentum, float eps);

// Channel c's statistics alone (the body of the above): lets a kernel threaded over channels use them.
void batchnorm2d_channel_stats(float* mean, float* rstd, float* running_mean, float* running_var,
                               const float* in, int N, int C, int HW, float momentum, float eps, int c);

}  // namespace facet::cpu::detail
