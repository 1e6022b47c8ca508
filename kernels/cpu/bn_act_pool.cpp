// Fused batchnorm2d -> leaky ReLU -> max-pool on the CPU (see kernels/bn_act_pool.h). Threads split the
// channels: a channel's statistics, its pooled outputs and its gradients are all one thread's, so the results
// do not depend on the thread count and backward needs no atomics.
#include "kernels/bn_act_pool.h"

#include <cmath>
#include <cstdint>

#include "kernels/cpu/batchnorm_stats.h"
#include "kernels/cpu/pool_plane.h"

namespace facet::cpu {
namespace {

bool worth_threads(const Pool2dDims& d) { return int64_t(d.N) * d.C * d.H * d.W >= (1 << 15) && d.C > 1; }

// The per-channel affine map of batch normalisation followed by the activation, exactly as the unfused
// kernels compute it: z = (x - m) * a + b, y = z > 0 ? z : alpha * z (+0: ReLU gives +0, never -0).
struct ChannelMap {
  float m, a, b, alpha;
  float z(float x) const { return (x - m) * a + b; }
  float y(float x) const {
    const float v = z(x);
    return v > 0.0f ? v : alpha * v + 0.0f;
  }
  float slope(float x) const { return z(x) > 0.0f ? 1.0f : alpha; }  // dy/dz (alpha at z = 0)
  float operator()(float x) const { return y(x); }
  detail::v8f operator()(detail::v8f x) const {  // y, eight at a time
    const detail::v8f zero = {}, v = (x - m) * a + b;
    return v > zero ? v : alpha * v + zero;
  }
};

ChannelMap channel_map(const float* mean, const float* rstd, const float* gamma, const float* beta, float alpha,
                       int c) {
  return {mean[c], (gamma ? gamma[c] : 1.0f) * rstd[c], beta ? beta[c] : 0.0f, alpha};
}

// Channel c of every image: out = max over the window of f(x).
void pool_channel(float* out, int32_t* argmax, const float* in, const Pool2dDims& d, const ChannelMap& f, int c) {
  const int HW = d.H * d.W, PQ = d.P() * d.Q();
  for (int n = 0; n < d.N; ++n) {
    const int64_t plane = int64_t(n) * d.C + c;
    detail::pool_plane(out + plane * PQ, argmax + plane * PQ, in + plane * HW, d, f);
  }
}

}  // namespace

// Training: batch statistics of channel c (the same code as batchnorm2d_forward_train, so mean, rstd and the
// running statistics are bit-identical to it), then one pass: out = max over the window of y(x).
// Eval: mean = running_mean, rstd = 1/sqrt(running_var + eps), written to mean/rstd (when given) and used alike.
void bn_act_pool_forward(float* out, int32_t* argmax, float* mean, float* rstd, float* running_mean,
                         float* running_var, const float* in, const float* gamma, const float* beta, bool training,
                         float momentum, float eps, float alpha, const Pool2dDims& d) {
  const int HW = d.H * d.W;
#pragma omp parallel for schedule(static) if (worth_threads(d))
  for (int c = 0; c < d.C; ++c) {
    float m, r;
    if (training) {
      detail::batchnorm2d_channel_stats(mean, rstd, running_mean, running_var, in, d.N, d.C, HW, momentum, eps, c);
      m = mean[c], r = rstd[c];
    } else {
      m = running_mean[c], r = float(1.0 / std::sqrt(double(running_var[c]) + double(eps)));
      if (mean) mean[c] = m;
      if (rstd) rstd[c] = r;
    }
    pool_channel(out, argmax, in, d, ChannelMap{m, (gamma ? gamma[c] : 1.0f) * r, beta ? beta[c] : 0.0f, alpha}, c);
  }
}

// The same pass with mean and rstd given (null: 0 and 1).
void bn_act_pool_apply(float* out, int32_t* argmax, const float* in, const float* mean, const float* rstd,
                       const float* gamma, const float* beta, float alpha, const Pool2dDims& d) {
#pragma omp parallel for schedule(static) if (worth_threads(d))
  for (int c = 0; c < d.C; ++c) {
    const float m = mean ? mean[c] : 0.0f, r = rstd ? rstd[c] : 1.0f;
    pool_channel(out, argmax, in, d, ChannelMap{m, (gamma ? gamma[c] : 1.0f) * r, beta ? beta[c] : 0.0f, alpha}, c);
  }
}

// Per channel: (1) over the windows, g = dout * slope(z at the winner); sum g and sum g*(x - mean) in double
// (fixed window order); (2) every cell of the channel gets dx += a * (-sum g/M - xhat * sum(g xhat)/M);
// (3) each winner gets dx += a * g. (2) + (3) is a * (G - sum g/M - xhat sum(g xhat)/M) of the header.
void bn_act_pool_backward(float* din, float* dgamma, float* dbeta, const float* dout, const int32_t* argmax,
                          const float* in, const float* gamma, const float* beta, const float* mean,
                          const float* rstd, float alpha, const Pool2dDims& d) {
  if (!din && !dgamma && !dbeta) return;
  const int HW = d.H * d.W, PQ = d.P() * d.Q();
  const int64_t M = int64_t(d.N) * HW;
#pragma omp parallel for schedule(static) if (worth_threads(d))
  for (int c = 0; c < d.C; ++c) {
    const ChannelMap f = channel_map(mean, rstd, gamma, beta, alpha, c);
    const float r = rstd[c];
    double sg = 0.0, sgx = 0.0;  // sum g, sum g * (x - mean)
    for (int n = 0; n < d.N; ++n) {
      const int64_t plane = int64_t(n) * d.C + c;
      const float* x = in + plane * HW;
      const float* dy = dout + plane * PQ;
      const int32_t* am = argmax + plane * PQ;
      for (int i = 0; i < PQ; ++i) {
        if (am[i] < 0) continue;
        const float xv = x[am[i]];
        const double g = double(dy[i] * f.slope(xv));
        sg += g;
        sgx += g * (double(xv) - double(f.m));
      }
    }
    const double sgxhat = sgx * double(r);
    if (dbeta) dbeta[c] += float(sg);
    if (dgamma) dgamma[c] += float(sgxhat);
    if (!din) continue;
    const float mean_g = float(sg / double(M)), mean_gxhat = float(sgxhat / double(M));
    for (int n = 0; n < d.N; ++n) {
      const int64_t plane = int64_t(n) * d.C + c;
      const float* x = in + plane * HW;
      float* dx = din + plane * HW;
      for (int i = 0; i < HW; ++i) dx[i] += f.a * (-mean_g - (x[i] - f.m) * r * mean_gxhat);
      const float* dy = dout + plane * PQ;
      const int32_t* am = argmax + plane * PQ;
      for (int i = 0; i < PQ; ++i)
        if (am[i] >= 0) dx[am[i]] += f.a * (dy[i] * f.slope(x[am[i]]));
    }
  }
}

}  // namespace facet::cpu
