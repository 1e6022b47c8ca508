// The fused batchnorm2d -> leaky ReLU -> max-pool (kernels/bn_act_pool.h), written as what it fuses: the
// normalised, activated value y of every cell is computed into a full-size buffer, then pooled. The fast
// kernels/cpu/bn_act_pool.cpp never stores y; here it is stored so the three steps can be read one by one.
#include "kernels/bn_act_pool.h"

#include <cmath>
#include <vector>

#include "kernels/batchnorm2d.h"
#include "kernels/maxpool2d.h"

namespace facet::naive {
namespace {

// y = act(z), z = (x - mean_c) * gamma_c * rstd_c + beta_c; null statistics or affine parameters read as
// mean 0, rstd 1, gamma 1, beta 0. Returns y (N,C,H,W).
std::vector<float> normalize_activate(const float* in, const float* mean, const float* rstd, const float* gamma,
                                      const float* beta, float alpha, const Pool2dDims& d) {
  const int HW = d.H * d.W;
  std::vector<float> y(size_t(d.N) * d.C * HW);  // (N,C,H,W)
  for (int n = 0; n < d.N; ++n)
    for (int c = 0; c < d.C; ++c) {
      const float m = mean ? mean[c] : 0.0f, a = (gamma ? gamma[c] : 1.0f) * (rstd ? rstd[c] : 1.0f);
      const float b = beta ? beta[c] : 0.0f;
      for (int i = 0; i < HW; ++i) {
        const int64_t j = (int64_t(n) * d.C + c) * HW + i;
        const float z = (in[j] - m) * a + b;
        y[size_t(j)] = z > 0.0f ? z : alpha * z + 0.0f;  // + 0: ReLU of -0 is +0
      }
    }
  return y;
}

}  // namespace

// Training: the batch statistics (as batchnorm2d_forward_train), eval: the running ones; then apply.
void bn_act_pool_forward(float* out, int32_t* argmax, float* mean, float* rstd, float* running_mean,
                         float* running_var, const float* in, const float* gamma, const float* beta, bool training,
                         float momentum, float eps, float alpha, const Pool2dDims& d) {
  const int HW = d.H * d.W;
  std::vector<float> m(size_t(d.C)), r(size_t(d.C));  // (C) this pass's statistics
  if (training) {
    std::vector<float> normalized(size_t(d.N) * d.C * HW);  // batchnorm's output, unused here
    batchnorm2d_forward_train(normalized.data(), m.data(), r.data(), running_mean, running_var, in, nullptr,
                              nullptr, d.N, d.C, HW, momentum, eps);
  } else {
    for (int c = 0; c < d.C; ++c)
      m[size_t(c)] = running_mean[c], r[size_t(c)] = float(1.0 / std::sqrt(double(running_var[c]) + double(eps)));
  }
  for (int c = 0; c < d.C; ++c) {
    if (mean) mean[c] = m[size_t(c)];
    if (rstd) rstd[c] = r[size_t(c)];
  }
  bn_act_pool_apply(out, argmax, in, m.data(), r.data(), gamma, beta, alpha, d);
}

// out = max-pool of act((x - mean) * gamma * rstd + beta)
void bn_act_pool_apply(float* out, int32_t* argmax, const float* in, const float* mean, const float* rstd,
                       const float* gamma, const float* beta, float alpha, const Pool2dDims& d) {
  const std::vector<float> y = normalize_activate(in, mean, rstd, gamma, beta, alpha, d);
  maxpool2d_forward(out, argmax, y.data(), d);
}

// Chain rule through the three steps: the pool sends dout to the winners, the activation multiplies it by its
// slope there (g = dout * (z > 0 ? 1 : alpha)), batchnorm's backward (training statistics) does the rest:
//   dbeta += sum g,  dgamma += sum g xhat,  dx += gamma rstd (G - sum g / M - xhat sum(g xhat) / M)
void bn_act_pool_backward(float* din, float* dgamma, float* dbeta, const float* dout, const int32_t* argmax,
                          const float* in, const float* gamma, const float* beta, const float* mean,
                          const float* rstd, float alpha, const Pool2dDims& d) {
  const int HW = d.H * d.W;
  const int64_t PQ = int64_t(d.P()) * d.Q();
  std::vector<float> dz(size_t(d.N) * d.C * HW, 0.0f);  // (N,C,H,W) gradient of z, non-zero at the winners
  for (int n = 0; n < d.N; ++n)
    for (int c = 0; c < d.C; ++c) {
      const int64_t plane = int64_t(n) * d.C + c;
      const float a = (gamma ? gamma[c] : 1.0f) * rstd[c], b = beta ? beta[c] : 0.0f;
      for (int64_t i = 0; i < PQ; ++i) {
        const int32_t w = argmax[plane * PQ + i];
        if (w < 0) continue;
        const float z = (in[plane * HW + w] - mean[c]) * a + b;
        dz[size_t(plane * HW + w)] += dout[plane * PQ + i] * (z > 0.0f ? 1.0f : alpha);
      }
    }
  batchnorm2d_backward(din, dgamma, dbeta, dz.data(), in, gamma, mean, rstd, d.N, d.C, HW);
}

}  // namespace facet::naive
