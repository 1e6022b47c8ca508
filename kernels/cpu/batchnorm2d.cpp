// Batch normalisation over (N,C,HW) (see kernels/batchnorm2d.h). Threads split the channels; each channel's
// statistics are summed in double in a fixed order (8 lanes over (n, hw)), so results do not depend on the
// thread count.
#include "kernels/batchnorm2d.h"

#include "kernels/cpu/batchnorm_stats.h"

#include <algorithm>
#include <cmath>

namespace facet::cpu {
namespace {

// Enough work per channel loop to be worth threads.
bool worth_threads(int N, int C, int HW) { return int64_t(N) * C * HW >= (1 << 15) && C > 1; }

// Per-channel sums run in kLanes double accumulators (value i of a row goes to lane i % kLanes; the lanes are
// added in order at the end). A single double accumulator is a chain of dependent adds (one per 4 cycles);
// eight independent ones vectorize. The order depends only on (N, HW), never on the thread count.
constexpr int kLanes = 8;

double add_lanes(const double* lane) {
  double s = 0.0;
  for (int j = 0; j < kLanes; ++j) s += lane[j];
  return s;
}

// s1 = sum (x - shift), s2 = sum (x - shift)^2 over one channel: N rows of HW values, stride_n apart, each row
// in 8 double lanes (detail::add_moments), the rows added in order.
void channel_moments(const float* x, int N, int64_t stride_n, int HW, double shift, double& s1, double& s2) {
  s1 = s2 = 0.0;
  for (int n = 0; n < N; ++n) detail::add_moments(x + n * stride_n, HW, shift, s1, s2);
}

// s1 = sum dy, s2 = sum dy * (x - mu) over one channel.
void channel_grad_sums(const float* dy, const float* x, int N, int64_t stride_n, int HW, double mu, double& s1,
                       double& s2) {
  double a[kLanes] = {}, b[kLanes] = {};
  for (int n = 0; n < N; ++n) {
    const float* g = dy + n * stride_n;
    const float* row = x + n * stride_n;
    int i = 0;
    for (; i + kLanes <= HW; i += kLanes)
      for (int j = 0; j < kLanes; ++j) {
        a[j] += double(g[i + j]);
        b[j] += double(g[i + j]) * (double(row[i + j]) - mu);
      }
    for (; i < HW; ++i) {
      a[i % kLanes] += double(g[i]);
      b[i % kLanes] += double(g[i]) * (double(row[i]) - mu);
    }
  }
  s1 = add_lanes(a);
  s2 = add_lanes(b);
}

}  // namespace

}  // namespace facet::cpu

namespace facet::cpu::detail {

// Channel c over its M = N*HW values, in one pass, in double and shifted by the channel's first value s:
//   mean = s + S1/M,  var = S2/M - (S1/M)^2  with S1 = sum (x - s), S2 = sum (x - s)^2,
// so nothing cancels even when |mean| >> std (the shift is within a few std of the mean).
//   rstd = 1/sqrt(var + eps)
//   running_mean <- (1-momentum) running_mean + momentum mean
//   running_var  <- (1-momentum) running_var  + momentum var M/(M-1)     (unbiased; M = 1 uses var itself)
void batchnorm2d_channel_stats(float* mean, float* rstd, float* running_mean, float* running_var,
                               const float* in, int N, int C, int HW, float momentum, float eps, int c) {
  const int64_t M = int64_t(N) * HW;
  const float* xc = in + int64_t(c) * HW;
  const double shift = M > 0 ? double(xc[0]) : 0.0;
  double s1, s2;
  channel_moments(xc, N, int64_t(C) * HW, HW, shift, s1, s2);
  const double d = s1 / double(M);
  const double mu = shift + d;
  const double var = std::max(s2 / double(M) - d * d, 0.0);
  batchnorm2d_finish_stats(mean, rstd, running_mean, running_var, mu, var, M, momentum, eps, c);
}

void batchnorm2d_finish_stats(float* mean, float* rstd, float* running_mean, float* running_var, double mu,
                              double var, int64_t M, float momentum, float eps, int c) {
  mean[c] = float(mu);
  rstd[c] = float(1.0 / std::sqrt(var + double(eps)));
  const double unbiased = M > 1 ? var * double(M) / double(M - 1) : var;
  if (running_mean) running_mean[c] = (1.0f - momentum) * running_mean[c] + momentum * float(mu);
  if (running_var) running_var[c] = (1.0f - momentum) * running_var[c] + momentum * float(unbiased);
}

void batchnorm2d_batch_stats(float* mean, float* rstd, float* running_mean, float* running_var, const float* in,
                             int N, int C, int HW, float momentum, float eps) {
#pragma omp parallel for schedule(static) if (worth_threads(N, C, HW))
  for (int c = 0; c < C; ++c)
    batchnorm2d_channel_stats(mean, rstd, running_mean, running_var, in, N, C, HW, momentum, eps, c);
}

}  // namespace facet::cpu::detail

namespace facet::cpu {

// Training: statistics per channel (detail::batchnorm2d_channel_stats above), then
//   y = gamma * (x - mean) * rstd + beta
// mean and rstd are saved for backward. Null gamma/beta mean 1/0 (non-affine).
void batchnorm2d_forward_train(float* out, float* mean, float* rstd, float* running_mean, float* running_var,
                               const float* in, const float* gamma, const float* beta, int N, int C, int HW,
                               float momentum, float eps) {
  const int64_t stride_n = int64_t(C) * HW;  // distance between images
#pragma omp parallel for schedule(static) if (worth_threads(N, C, HW))
  for (int c = 0; c < C; ++c) {
    detail::batchnorm2d_channel_stats(mean, rstd, running_mean, running_var, in, N, C, HW, momentum, eps, c);
    // y = (x - mean) a + beta with a = gamma rstd (centre first: no cancellation when |mean| >> std)
    const float a = (gamma ? gamma[c] : 1.0f) * rstd[c], m = mean[c], b = beta ? beta[c] : 0.0f;
    for (int n = 0; n < N; ++n) {
      const float* x = in + n * stride_n + int64_t(c) * HW;
      float* y = out + n * stride_n + int64_t(c) * HW;
      for (int i = 0; i < HW; ++i) y[i] = (x[i] - m) * a + b;
    }
  }
}

// Eval: y = gamma * (x - running_mean) / sqrt(running_var + eps) + beta
void batchnorm2d_forward_eval(float* out, const float* in, const float* gamma, const float* beta,
                              const float* running_mean, const float* running_var, int N, int C, int HW,
                              float eps) {
#pragma omp parallel for collapse(2) schedule(static) if (worth_threads(N, C, HW))
  for (int n = 0; n < N; ++n) {
    for (int c = 0; c < C; ++c) {
      const double r = 1.0 / std::sqrt(double(running_var[c]) + double(eps));
      const float a = float((gamma ? gamma[c] : 1.0f) * r), m = running_mean[c], b = beta ? beta[c] : 0.0f;
      const int64_t at = (int64_t(n) * C + c) * HW;
      for (int i = 0; i < HW; ++i) out[at + i] = (in[at + i] - m) * a + b;
    }
  }
}

// Backward through the training statistics, per channel (xhat = (x - mean) * rstd):
//   dbeta  = sum dy,   dgamma = sum dy * xhat = rstd * sum dy (x - mean)   (accumulated if wanted)
//   dx    += gamma * rstd * (dy - dbeta/M - xhat * dgamma/M)    (dbeta, dgamma: this call's sums)
void batchnorm2d_backward(float* din, float* dgamma, float* dbeta, const float* dout, const float* in,
                          const float* gamma, const float* mean, const float* rstd, int N, int C, int HW) {
  const int64_t M = int64_t(N) * HW;
  const int64_t stride_n = int64_t(C) * HW;
#pragma omp parallel for schedule(static) if (worth_threads(N, C, HW))
  for (int c = 0; c < C; ++c) {
    const float mu = mean[c], r = rstd[c];
    const int64_t at_c = int64_t(c) * HW;
    double sdy, sdy_xm;
    channel_grad_sums(dout + at_c, in + at_c, N, stride_n, HW, double(mu), sdy, sdy_xm);
    const double sdy_xhat = sdy_xm * double(r);
    if (dbeta) dbeta[c] += float(sdy);
    if (dgamma) dgamma[c] += float(sdy_xhat);
    if (!din) continue;
    const float k = (gamma ? gamma[c] : 1.0f) * r;
    const float mean_dy = float(sdy / double(M)), mean_dy_xhat = float(sdy_xhat / double(M));
    for (int n = 0; n < N; ++n) {
      const int64_t at = n * stride_n + at_c;
      for (int i = 0; i < HW; ++i) {
        const float xhat = (in[at + i] - mu) * r;
        din[at + i] += k * (dout[at + i] - mean_dy - xhat * mean_dy_xhat);
      }
    }
  }
}

// Backward through the running statistics (eval; they are constants), per channel:
//   dbeta += sum dy,   dgamma += rstd * sum dy (x - running_mean),   dx += gamma * rstd * dy
void batchnorm2d_backward_eval(float* din, float* dgamma, float* dbeta, const float* dout, const float* in,
                               const float* gamma, const float* running_mean, const float* running_var, int N,
                               int C, int HW, float eps) {
  const int64_t stride_n = int64_t(C) * HW;
#pragma omp parallel for schedule(static) if (worth_threads(N, C, HW))
  for (int c = 0; c < C; ++c) {
    const double r = 1.0 / std::sqrt(double(running_var[c]) + double(eps));
    const int64_t at_c = int64_t(c) * HW;
    if (dgamma || dbeta) {
      double sdy, sdy_xm;
      channel_grad_sums(dout + at_c, in + at_c, N, stride_n, HW, double(running_mean[c]), sdy, sdy_xm);
      if (dbeta) dbeta[c] += float(sdy);
      if (dgamma) dgamma[c] += float(sdy_xm * r);
    }
    if (!din) continue;
    const float k = float((gamma ? gamma[c] : 1.0f) * r);
    for (int n = 0; n < N; ++n) {
      const int64_t at = n * stride_n + at_c;
      for (int i = 0; i < HW; ++i) din[at + i] += k * dout[at + i];
    }
  }
}

}  // namespace facet::cpu
