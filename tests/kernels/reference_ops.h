// Naive reference implementations for the kernel tests: the textbook definitions as direct loops, accumulated
// in double, written independently of kernels/cpu (no im2col, no GEMM, no blocking).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "kernels/dims.h"

namespace facet::test::ref {

using Vec = std::vector<float>;
using VecD = std::vector<double>;

// out[n,k,p,q] = bias[k] + sum_{c,r,s} in[n,c,p*st-pad+r,q*st-pad+s] * w[k,c,r,s]
inline VecD conv2d_forward(const Vec& in, const Vec& w, const Vec* bias, const Conv2dDims& d) {
  const int P = d.P(), Q = d.Q();
  VecD out(size_t(d.N) * d.K * P * Q);
  for (int n = 0; n < d.N; ++n)
    for (int k = 0; k < d.K; ++k)
      for (int p = 0; p < P; ++p)
        for (int q = 0; q < Q; ++q) {
          double acc = bias ? (*bias)[k] : 0.0;
          for (int c = 0; c < d.C; ++c)
            for (int r = 0; r < d.R; ++r)
              for (int s = 0; s < d.S; ++s) {
                const int h = p * d.stride - d.pad + r, x = q * d.stride - d.pad + s;
                if (h < 0 || h >= d.H || x < 0 || x >= d.W) continue;
                acc += double(in[((size_t(n) * d.C + c) * d.H + h) * d.W + x]) *
                       w[((size_t(k) * d.C + c) * d.R + r) * d.S + s];
              }
          out[((size_t(n) * d.K + k) * P + p) * Q + q] = acc;
        }
  return out;
}

// The three gradients of conv2d for output gradient dout, by scattering every product (no += of old values).
struct Conv2dGrads {
  VecD din, dw, dbias;
};
inline Conv2dGrads conv2d_backward(const Vec& dout, const Vec& in, const Vec& w, const Conv2dDims& d) {
  const int P = d.P(), Q = d.Q();
  Conv2dGrads g{VecD(in.size()), VecD(w.size()), VecD(size_t(d.K))};
  for (int n = 0; n < d.N; ++n)
    for (int k = 0; k < d.K; ++k)
      for (int p = 0; p < P; ++p)
        for (int q = 0; q < Q; ++q) {
          const double dy = dout[((size_t(n) * d.K + k) * P + p) * Q + q];
          g.dbias[size_t(k)] += dy;
          for (int c = 0; c < d.C; ++c)
            for (int r = 0; r < d.R; ++r)
              for (int s = 0; s < d.S; ++s) {
                const int h = p * d.stride - d.pad + r, x = q * d.stride - d.pad + s;
                if (h < 0 || h >= d.H || x < 0 || x >= d.W) continue;
                const size_t xi = ((size_t(n) * d.C + c) * d.H + h) * d.W + x;
                const size_t wi = ((size_t(k) * d.C + c) * d.R + r) * d.S + s;
                g.din[xi] += dy * w[wi];
                g.dw[wi] += dy * in[xi];
              }
        }
  return g;
}

// out[b,o] = bias[o] + sum_i in[b,i] * w[o,i]
inline VecD linear_forward(const Vec& in, const Vec& w, const Vec* bias, int B, int IN, int OUT) {
  VecD out(size_t(B) * OUT);
  for (int b = 0; b < B; ++b)
    for (int o = 0; o < OUT; ++o) {
      double acc = bias ? (*bias)[size_t(o)] : 0.0;
      for (int i = 0; i < IN; ++i) acc += double(in[size_t(b) * IN + i]) * w[size_t(o) * IN + i];
      out[size_t(b) * OUT + o] = acc;
    }
  return out;
}

struct LinearGrads {
  VecD din, dw, dbias;
};
inline LinearGrads linear_backward(const Vec& dout, const Vec& in, const Vec& w, int B, int IN, int OUT) {
  LinearGrads g{VecD(in.size()), VecD(w.size()), VecD(size_t(OUT))};
  for (int b = 0; b < B; ++b)
    for (int o = 0; o < OUT; ++o) {
      const double dy = dout[size_t(b) * OUT + o];
      g.dbias[size_t(o)] += dy;
      for (int i = 0; i < IN; ++i) {
        g.din[size_t(b) * IN + i] += dy * w[size_t(o) * IN + i];
        g.dw[size_t(o) * IN + i] += dy * in[size_t(b) * IN + i];
      }
    }
  return g;
}

// Batch statistics per channel over (N, HW): y = gamma (x - mean)/sqrt(var + eps) + beta, var biased.
struct BatchNormTrain {
  VecD out, mean, var;
};
inline BatchNormTrain batchnorm2d_train(const Vec& in, const Vec* gamma, const Vec* beta, int N, int C, int HW,
                                        double eps) {
  BatchNormTrain r{VecD(in.size()), VecD(size_t(C)), VecD(size_t(C))};
  const double M = double(N) * HW;
  auto at = [&](int n, int c, int i) { return (size_t(n) * C + c) * HW + i; };
  for (int c = 0; c < C; ++c) {
    double s = 0, ss = 0;
    for (int n = 0; n < N; ++n)
      for (int i = 0; i < HW; ++i) s += in[at(n, c, i)];
    const double mean = s / M;
    for (int n = 0; n < N; ++n)
      for (int i = 0; i < HW; ++i) ss += (in[at(n, c, i)] - mean) * (in[at(n, c, i)] - mean);
    const double var = ss / M;
    r.mean[size_t(c)] = mean;
    r.var[size_t(c)] = var;
    const double g = gamma ? (*gamma)[size_t(c)] : 1.0, b = beta ? (*beta)[size_t(c)] : 0.0;
    for (int n = 0; n < N; ++n)
      for (int i = 0; i < HW; ++i) r.out[at(n, c, i)] = g * (in[at(n, c, i)] - mean) / std::sqrt(var + eps) + b;
  }
  return r;
}

inline VecD batchnorm2d_eval(const Vec& in, const Vec* gamma, const Vec* beta, const Vec& rmean, const Vec& rvar,
                             int N, int C, int HW, double eps) {
  VecD out(in.size());
  for (int n = 0; n < N; ++n)
    for (int c = 0; c < C; ++c)
      for (int i = 0; i < HW; ++i) {
        const size_t j = (size_t(n) * C + c) * HW + i;
        const double g = gamma ? (*gamma)[size_t(c)] : 1.0, b = beta ? (*beta)[size_t(c)] : 0.0;
        out[j] = g * (in[j] - double(rmean[size_t(c)])) / std::sqrt(double(rvar[size_t(c)]) + eps) + b;
      }
  return out;
}

// Max over each window; argmax = h*W + w of the first maximum in row-major window order.
struct MaxPool {
  Vec out;
  std::vector<int32_t> argmax;
};
inline MaxPool maxpool2d_forward(const Vec& in, const Pool2dDims& d) {
  const int P = d.P(), Q = d.Q();
  MaxPool r{Vec(size_t(d.N) * d.C * P * Q), std::vector<int32_t>(size_t(d.N) * d.C * P * Q)};
  for (int nc = 0; nc < d.N * d.C; ++nc)
    for (int p = 0; p < P; ++p)
      for (int q = 0; q < Q; ++q) {
        float best = -std::numeric_limits<float>::infinity();
        int32_t at = -1;
        for (int i = 0; i < d.k; ++i)
          for (int j = 0; j < d.k; ++j) {
            const int h = p * d.stride - d.pad + i, w = q * d.stride - d.pad + j;
            if (h < 0 || h >= d.H || w < 0 || w >= d.W) continue;
            const float v = in[size_t(nc) * d.H * d.W + size_t(h) * d.W + w];
            if (at < 0 || v > best) best = v, at = h * d.W + w;
          }
        r.out[(size_t(nc) * P + p) * Q + q] = best;
        r.argmax[(size_t(nc) * P + p) * Q + q] = at;
      }
  return r;
}

inline VecD softmax(const Vec& z, int B, int C) {
  VecD p(z.size());
  for (int b = 0; b < B; ++b) {
    double m = z[size_t(b) * C], s = 0;
    for (int c = 0; c < C; ++c) m = std::max(m, double(z[size_t(b) * C + c]));
    for (int c = 0; c < C; ++c) s += std::exp(z[size_t(b) * C + c] - m);
    for (int c = 0; c < C; ++c) p[size_t(b) * C + c] = std::exp(z[size_t(b) * C + c] - m) / s;
  }
  return p;
}

// loss_b = (1-eps) w_y (-log p_y) + (eps/C) sum_c w_c (-log p_c)  (PyTorch's weighted label smoothing);  0 for y = -1.
inline VecD cross_entropy(const Vec& z, const std::vector<int32_t>& y, const Vec* weights, int B, int C,
                          double eps) {
  const VecD p = softmax(z, B, C);
  VecD loss(static_cast<size_t>(B));
  for (int b = 0; b < B; ++b) {
    if (y[size_t(b)] < 0) continue;
    double l = 0;
    for (int c = 0; c < C; ++c) {
      const double w = weights ? (*weights)[size_t(c)] : 1.0;
      const double q = (c == y[size_t(b)] ? 1.0 - eps : 0.0) + eps / C;  // the share of class c's -log p_c
      l += w * q * -std::log(p[size_t(b) * C + c]);
    }
    loss[size_t(b)] = l;
  }
  return loss;
}

inline double mse(const Vec& pred, const Vec& target) {
  double s = 0;
  for (size_t i = 0; i < pred.size(); ++i) s += (double(pred[i]) - target[i]) * (double(pred[i]) - target[i]);
  return s / double(pred.size());
}

}  // namespace facet::test::ref
