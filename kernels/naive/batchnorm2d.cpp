// batchnorm2d as written in kernels/batchnorm2d.h: per channel, two passes for the statistics (mean, then the
// variance around it), then the normalisation; sums in double, no threads.
#include "kernels/batchnorm2d.h"

#include <cmath>
#include <vector>

namespace facet::naive {
namespace {

// Index of value i of channel c of image n in an (N,C,HW) array.
int64_t at(int C, int HW, int n, int c, int i) { return (int64_t(n) * C + c) * HW + i; }

}  // namespace

// mean = (1/M) sum x,  var = (1/M) sum (x - mean)^2,  rstd = 1/sqrt(var + eps),  y = gamma (x - mean) rstd + beta
// running_mean = (1-momentum) running_mean + momentum mean;  running_var likewise with var M/(M-1) (unbiased)
void batchnorm2d_forward_train(float* out, float* mean, float* rstd, float* running_mean, float* running_var,
                               const float* in, const float* gamma, const float* beta, int N, int C, int HW,
                               float momentum, float eps) {
  const double M = double(N) * HW;  // values per channel
  for (int c = 0; c < C; ++c) {
    double s = 0.0;
    for (int n = 0; n < N; ++n)
      for (int i = 0; i < HW; ++i) s += in[at(C, HW, n, c, i)];
    const double mu = s / M;
    double ss = 0.0;
    for (int n = 0; n < N; ++n)
      for (int i = 0; i < HW; ++i) ss += (in[at(C, HW, n, c, i)] - mu) * (in[at(C, HW, n, c, i)] - mu);
    const double var = ss / M;
    const double r = 1.0 / std::sqrt(var + eps);
    mean[c] = float(mu);
    rstd[c] = float(r);
    if (running_mean) running_mean[c] = float((1.0 - momentum) * running_mean[c] + momentum * mu);
    if (running_var)
      running_var[c] = float((1.0 - momentum) * running_var[c] + momentum * (M > 1 ? var * M / (M - 1) : var));
    const double g = gamma ? gamma[c] : 1.0, b = beta ? beta[c] : 0.0;
    for (int n = 0; n < N; ++n)
      for (int i = 0; i < HW; ++i) out[at(C, HW, n, c, i)] = float(g * (in[at(C, HW, n, c, i)] - mu) * r + b);
  }
}

// y = gamma (x - running_mean) / sqrt(running_var + eps) + beta
void batchnorm2d_forward_eval(float* out, const float* in, const float* gamma, const float* beta,
                              const float* running_mean, const float* running_var, int N, int C, int HW, float eps) {
  for (int c = 0; c < C; ++c) {
    const double r = 1.0 / std::sqrt(double(running_var[c]) + eps);
    const double g = gamma ? gamma[c] : 1.0, b = beta ? beta[c] : 0.0;
    for (int n = 0; n < N; ++n)
      for (int i = 0; i < HW; ++i)
        out[at(C, HW, n, c, i)] = float(g * (in[at(C, HW, n, c, i)] - double(running_mean[c])) * r + b);
  }
}

// With xhat = (x - mean) rstd:  dbeta += sum dy,  dgamma += sum dy xhat,
// dx += gamma rstd (dy - sum(dy)/M - xhat sum(dy xhat)/M)       (the batch statistics depend on x too)
void batchnorm2d_backward(float* din, float* dgamma, float* dbeta, const float* dout, const float* in,
                          const float* gamma, const float* mean, const float* rstd, int N, int C, int HW) {
  const double M = double(N) * HW;
  for (int c = 0; c < C; ++c) {
    double sdy = 0.0, sdyx = 0.0;
    for (int n = 0; n < N; ++n)
      for (int i = 0; i < HW; ++i) {
        const double xhat = (in[at(C, HW, n, c, i)] - double(mean[c])) * rstd[c];
        sdy += dout[at(C, HW, n, c, i)];
        sdyx += dout[at(C, HW, n, c, i)] * xhat;
      }
    if (dbeta) dbeta[c] += float(sdy);
    if (dgamma) dgamma[c] += float(sdyx);
    if (!din) continue;
    const double k = (gamma ? gamma[c] : 1.0) * rstd[c];
    for (int n = 0; n < N; ++n)
      for (int i = 0; i < HW; ++i) {
        const double xhat = (in[at(C, HW, n, c, i)] - double(mean[c])) * rstd[c];
        din[at(C, HW, n, c, i)] += float(k * (dout[at(C, HW, n, c, i)] - sdy / M - xhat * sdyx / M));
      }
  }
}

// Eval: the running statistics are constants.  dbeta += sum dy,  dgamma += sum dy xhat,  dx += gamma rstd dy
void batchnorm2d_backward_eval(float* din, float* dgamma, float* dbeta, const float* dout, const float* in,
                               const float* gamma, const float* running_mean, const float* running_var, int N, int C,
                               int HW, float eps) {
  for (int c = 0; c < C; ++c) {
    const double r = 1.0 / std::sqrt(double(running_var[c]) + eps);
    const double k = (gamma ? gamma[c] : 1.0) * r;
    double sdy = 0.0, sdyx = 0.0;
    for (int n = 0; n < N; ++n)
      for (int i = 0; i < HW; ++i) {
        const double dy = dout[at(C, HW, n, c, i)];
        sdy += dy;
        sdyx += dy * (in[at(C, HW, n, c, i)] - double(running_mean[c])) * r;
        if (din) din[at(C, HW, n, c, i)] += float(k * dy);
      }
    if (dbeta) dbeta[c] += float(sdy);
    if (dgamma) dgamma[c] += float(sdyx);
  }
}

}  // namespace facet::naive
