// conv2d as the definition (kernels/conv2d.h): seven nested loops, sums in double, no im2col, no threads.
// The fast kernels/cpu/conv2d.cpp computes the same numbers as im2col + SGEMM.
#include "kernels/conv2d.h"

#include <cmath>
#include <cstdint>
#include <vector>

#include "kernels/batchnorm2d.h"

namespace facet::naive {
namespace {

// Flat indices into the NCHW input (N,C,H,W), the weight (K,C,R,S) and the output (N,K,P,Q).
int64_t in_at(const Conv2dDims& d, int n, int c, int h, int w) {
  return ((int64_t(n) * d.C + c) * d.H + h) * d.W + w;
}
int64_t w_at(const Conv2dDims& d, int k, int c, int r, int s) {
  return ((int64_t(k) * d.C + c) * d.R + r) * d.S + s;
}
int64_t out_at(const Conv2dDims& d, int n, int k, int p, int q) {
  return ((int64_t(n) * d.K + k) * d.P() + p) * d.Q() + q;
}

}  // namespace

// out[n,k,p,q] = bias[k] + sum_{c,r,s} in[n,c,p*st-pad+r, q*st-pad+s] * w[k,c,r,s]   (padding reads 0)
void conv2d_forward(float* out, const float* in, const float* weight, const float* bias, const Conv2dDims& d) {
  for (int n = 0; n < d.N; ++n)
    for (int k = 0; k < d.K; ++k)
      for (int p = 0; p < d.P(); ++p)
        for (int q = 0; q < d.Q(); ++q) {
          double acc = bias ? bias[k] : 0.0;
          for (int c = 0; c < d.C; ++c)
            for (int r = 0; r < d.R; ++r)
              for (int s = 0; s < d.S; ++s) {
                const int h = p * d.stride - d.pad + r, w = q * d.stride - d.pad + s;
                if (h < 0 || h >= d.H || w < 0 || w >= d.W) continue;  // zero padding
                acc += double(in[in_at(d, n, c, h, w)]) * double(weight[w_at(d, k, c, r, s)]);
              }
          out[out_at(d, n, k, p, q)] = float(acc);
        }
}

// The forward loop run backwards: every product in[...] * w[...] that fed out[n,k,p,q] sends dout[n,k,p,q]
// back to both factors. Sums are gathered in double, then added (+=) into the wanted gradients.
void conv2d_backward(float* din, float* dweight, float* dbias, const float* dout, const float* in,
                     const float* weight, const Conv2dDims& d) {
  std::vector<double> gin(din ? size_t(d.N) * d.C * d.H * d.W : 0);  // (N,C,H,W)
  std::vector<double> gw(dweight ? size_t(d.K) * d.C * d.R * d.S : 0);  // (K,C,R,S)
  std::vector<double> gb(dbias ? size_t(d.K) : 0);                    // (K)
  for (int n = 0; n < d.N; ++n)
    for (int k = 0; k < d.K; ++k)
      for (int p = 0; p < d.P(); ++p)
        for (int q = 0; q < d.Q(); ++q) {
          const double dy = dout[out_at(d, n, k, p, q)];
          if (dbias) gb[size_t(k)] += dy;
          for (int c = 0; c < d.C; ++c)
            for (int r = 0; r < d.R; ++r)
              for (int s = 0; s < d.S; ++s) {
                const int h = p * d.stride - d.pad + r, w = q * d.stride - d.pad + s;
                if (h < 0 || h >= d.H || w < 0 || w >= d.W) continue;
                if (din) gin[size_t(in_at(d, n, c, h, w))] += dy * weight[w_at(d, k, c, r, s)];
                if (dweight) gw[size_t(w_at(d, k, c, r, s))] += dy * in[in_at(d, n, c, h, w)];
              }
        }
  for (size_t i = 0; i < gin.size(); ++i) din[i] += float(gin[i]);
  for (size_t i = 0; i < gw.size(); ++i) dweight[i] += float(gw[i]);
  for (size_t i = 0; i < gb.size(); ++i) dbias[i] += float(gb[i]);
}

// The convolution, then batchnorm's batch statistics of its output (kernels/batchnorm2d.h's formulas):
// in plain code the epilogue is a second pass over the output.
void conv2d_forward_bn_stats(float* out, float* mean, float* rstd, float* running_mean, float* running_var,
                             const float* in, const float* weight, const float* bias, float momentum, float eps,
                             const Conv2dDims& d) {
  conv2d_forward(out, in, weight, bias, d);
  const int PQ = d.P() * d.Q();
  const double M = double(d.N) * PQ;  // values per channel
  for (int k = 0; k < d.K; ++k) {
    double s = 0.0, ss = 0.0;
    for (int n = 0; n < d.N; ++n)
      for (int i = 0; i < PQ; ++i) s += out[(int64_t(n) * d.K + k) * PQ + i];
    const double mu = s / M;
    for (int n = 0; n < d.N; ++n)
      for (int i = 0; i < PQ; ++i) {
        const double e = out[(int64_t(n) * d.K + k) * PQ + i] - mu;
        ss += e * e;
      }
    const double var = ss / M;  // biased, as batchnorm normalizes with
    if (mean) mean[k] = float(mu);
    if (rstd) rstd[k] = float(1.0 / std::sqrt(var + eps));
    if (running_mean) running_mean[k] = float((1.0 - momentum) * running_mean[k] + momentum * mu);
    if (running_var) running_var[k] = float((1.0 - momentum) * running_var[k] + momentum * (M > 1 ? var * M / (M - 1) : var));
  }
}

// a_k = gamma_k / sqrt(running_var_k + eps);  weight'[k,...] = a_k weight[k,...];  bias'_k = (bias_k - mean_k) a_k + beta_k
void conv2d_fold_batchnorm(float* weight_out, float* bias_out, const float* weight, const float* bias,
                           const float* gamma, const float* beta, const float* running_mean,
                           const float* running_var, float eps, int K, int CRS) {
  for (int k = 0; k < K; ++k) {
    const double a = double(gamma ? gamma[k] : 1.0f) / std::sqrt(double(running_var[k]) + double(eps));
    for (int i = 0; i < CRS; ++i) weight_out[int64_t(k) * CRS + i] = float(weight[int64_t(k) * CRS + i] * a);
    bias_out[k] = float((double(bias ? bias[k] : 0.0f) - running_mean[k]) * a + double(beta ? beta[k] : 0.0f));
  }
}

}  // namespace facet::naive
