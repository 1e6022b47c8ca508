// Batch normalisation over (N,C,HW) (see kernels/batchnorm2d.h). Threads split the channels; each channel's
// statistics are summed in double in a fixed (n, hw) order, so results do not depend on the thread count.
#include "kernels/batchnorm2d.h"

#include <cmath>

namespace facet::cpu {
namespace {

// Enough work per channel loop to be worth threads.
bool worth_threads(int N, int C, int HW) { return int64_t(N) * C * HW >= (1 << 15) && C > 1; }

}  // namespace

// Training: per channel c over its M = N*HW values
//   mean = (1/M) sum x,  var = (1/M) sum (x - mean)^2 (two passes, stable),  rstd = 1/sqrt(var + eps)
//   y = gamma * (x - mean) * rstd + beta
//   running_mean <- (1-momentum) running_mean + momentum mean
//   running_var  <- (1-momentum) running_var  + momentum var M/(M-1)     (unbiased; M = 1 uses var itself)
// mean and rstd are saved for backward. Null gamma/beta mean 1/0 (non-affine).
void batchnorm2d_forward_train(float* out, float* mean, float* rstd, float* running_mean, float* running_var,
                               const float* in, const float* gamma, const float* beta, int N, int C, int HW,
                               float momentum, float eps) {
  const int64_t M = int64_t(N) * HW;
  const int64_t stride_n = int64_t(C) * HW;  // distance between images
#pragma omp parallel for schedule(static) if (worth_threads(N, C, HW))
  for (int c = 0; c < C; ++c) {
    double s = 0.0;
    for (int n = 0; n < N; ++n) {
      const float* x = in + n * stride_n + int64_t(c) * HW;
      for (int i = 0; i < HW; ++i) s += x[i];
    }
    const double mu = s / double(M);
    double ss = 0.0;
    for (int n = 0; n < N; ++n) {
      const float* x = in + n * stride_n + int64_t(c) * HW;
      for (int i = 0; i < HW; ++i) ss += (x[i] - mu) * (x[i] - mu);
    }
    const double var = ss / double(M);
    const double r = 1.0 / std::sqrt(var + double(eps));
    mean[c] = float(mu);
    rstd[c] = float(r);
    const double unbiased = M > 1 ? var * double(M) / double(M - 1) : var;
    if (running_mean) running_mean[c] = (1.0f - momentum) * running_mean[c] + momentum * float(mu);
    if (running_var) running_var[c] = (1.0f - momentum) * running_var[c] + momentum * float(unbiased);
    // y = (x - mean) a + beta with a = gamma rstd (centre first: no cancellation when |mean| >> std)
    const float a = float((gamma ? gamma[c] : 1.0f) * r), m = float(mu), b = beta ? beta[c] : 0.0f;
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
//   dbeta  = sum dy,   dgamma = sum dy * xhat                    (accumulated into dbeta/dgamma if wanted)
//   dx    += gamma * rstd * (dy - dbeta/M - xhat * dgamma/M)    (dbeta, dgamma: this call's sums)
void batchnorm2d_backward(float* din, float* dgamma, float* dbeta, const float* dout, const float* in,
                          const float* gamma, const float* mean, const float* rstd, int N, int C, int HW) {
  const int64_t M = int64_t(N) * HW;
  const int64_t stride_n = int64_t(C) * HW;
#pragma omp parallel for schedule(static) if (worth_threads(N, C, HW))
  for (int c = 0; c < C; ++c) {
    const float mu = mean[c], r = rstd[c];
    double sdy = 0.0, sdy_xhat = 0.0;
    for (int n = 0; n < N; ++n) {
      const int64_t at = n * stride_n + int64_t(c) * HW;
      for (int i = 0; i < HW; ++i) {
        const double xhat = (double(in[at + i]) - mu) * r;
        sdy += dout[at + i];
        sdy_xhat += double(dout[at + i]) * xhat;
      }
    }
    if (dbeta) dbeta[c] += float(sdy);
    if (dgamma) dgamma[c] += float(sdy_xhat);
    if (!din) continue;
    const float k = (gamma ? gamma[c] : 1.0f) * r;
    const float mean_dy = float(sdy / double(M)), mean_dy_xhat = float(sdy_xhat / double(M));
    for (int n = 0; n < N; ++n) {
      const int64_t at = n * stride_n + int64_t(c) * HW;
      for (int i = 0; i < HW; ++i) {
        const float xhat = (in[at + i] - mu) * r;
        din[at + i] += k * (dout[at + i] - mean_dy - xhat * mean_dy_xhat);
      }
    }
  }
}

}  // namespace facet::cpu
