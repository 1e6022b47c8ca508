// Fused batchnorm2d -> leaky ReLU -> max-pool on the device (see kernels/bn_act_pool.h).
//   forward   training: the batch statistics of batchnorm2d.cu (Welford partials merged in order), then one
//             thread per pooled output: z = (x - mean) * a + beta and y = act(z) for each cell of its window,
//             the first maximum wins (strict >, a NaN wins, padding never), out = y, argmax = h*W + w.
//             eval: mean = running_mean, rstd = 1/sqrt(running_var + eps) (one thread per channel first).
//             apply: the same pooling kernel with mean and rstd given (null: 0 and 1).
//   backward  1. grid (G, C): block (g, c) sums g = dout * act'(z at the winner) and g * xhat over split g of
//                channel c's windows (block_sum) -> partial (C, G, 2);
//             2. one thread per channel adds the G partials in order -> sums, dbeta += sum g, dgamma += ...
//                (batchnorm2d.cu's own step 2, which sums dy and dy*xhat the same way);
//             3. one thread per input cell: G_cell = the g of the windows it won, gathered in increasing (p, q)
//                as maxpool2d.cu's backward, then dx += a * (G_cell - sum g / M - xhat * sum(g xhat) / M).
// Every sum has a fixed order and nothing is scattered: deterministic, no atomics.
#include <cmath>

#include "kernels/bn_act_pool.h"
#include "kernels/cuda/batchnorm_stats.h"
#include "kernels/cuda/kernel_utils.h"
#include "kernels/cuda/pool_window.h"

namespace facet::cuda {

namespace {

// z = (x - m) * a + b, y = z > 0 ? z : alpha z (+0: ReLU gives +0), dy/dz = 1 if z > 0 else alpha.
struct ChannelMap {
  float m, a, b, alpha;
  __device__ float z(float x) const { return (x - m) * a + b; }
  __device__ float y(float x) const {
    const float v = z(x);
    return v > 0.0f ? v : alpha * v + 0.0f;
  }
  __device__ float slope(float x) const { return z(x) > 0.0f ? 1.0f : alpha; }
  __device__ float operator()(float x) const { return y(x); }
};

// Null mean / rstd (bn_act_pool_apply after folding): 0 / 1.
__device__ __forceinline__ ChannelMap channel_map(const float* mean, const float* rstd, const float* gamma,
                                                  const float* beta, float alpha, int c) {
  return {mean ? mean[c] : 0.0f, (gamma ? gamma[c] : 1.0f) * (rstd ? rstd[c] : 1.0f), beta ? beta[c] : 0.0f, alpha};
}

// Eval statistics: mean = running_mean, rstd = 1/sqrt(running_var + eps) (in double, as the CPU twin).
__global__ void running_stats_kernel(float* mean, float* rstd, const float* running_mean,
                                     const float* running_var, int C, float eps) {
  const int64_t c = global_index();
  if (c >= C) return;
  mean[c] = running_mean[c];
  rstd[c] = float(1.0 / sqrt(double(running_var[c]) + double(eps)));
}

// One thread per pooled output (n, c, p, q).
__global__ void bn_act_pool_forward_kernel(float* out, int32_t* argmax, const float* in, const float* gamma,
                                           const float* beta, const float* mean, const float* rstd, float alpha,
                                           Pool2dDims d) {
  const int P = d.P(), Q = d.Q();
  const int64_t total = int64_t(d.N) * d.C * P * Q;
  for (int64_t o = global_index(); o < total; o += grid_stride()) {
    const int q = int(o % Q), p = int(o / Q % P);
    const int64_t plane = o / (int64_t(P) * Q);  // n*C + c
    const ChannelMap f = channel_map(mean, rstd, gamma, beta, alpha, int(plane % d.C));
    float best;
    int32_t best_at;
    pool_window(in + plane * d.H * d.W, p, q, d, f, best, best_at);
    out[o] = best;
    argmax[o] = best_at;
  }
}

// Block (g, c): sum g and sum g * xhat over split g of channel c's N*P*Q windows -> partial[c][g].
__global__ void bn_act_pool_partial_kernel(float* partial /* (C, G, 2) */, const float* dout,
                                           const int32_t* argmax, const float* in, const float* gamma,
                                           const float* beta, const float* mean, const float* rstd, float alpha,
                                           Pool2dDims d) {
  const int g = int(blockIdx.x), G = int(gridDim.x), c = int(blockIdx.y);
  const int PQ = d.P() * d.Q(), HW = d.H * d.W;
  const int64_t windows = int64_t(d.N) * PQ;
  const int64_t chunk = (windows + G - 1) / G, begin = g * chunk;
  const int64_t end = begin + chunk < windows ? begin + chunk : windows;
  const ChannelMap f = channel_map(mean, rstd, gamma, beta, alpha, c);
  float sg = 0.0f, sgxhat = 0.0f;
  for (int64_t j = begin + threadIdx.x; j < end; j += blockDim.x) {
    const int64_t plane = j / PQ * d.C + c;  // image j / PQ, channel c
    const int64_t o = plane * PQ + j % PQ;
    const int32_t at = argmax[o];
    if (at < 0) continue;
    const float xv = in[plane * HW + at];
    const float gv = dout[o] * f.slope(xv);
    sg += gv;
    sgxhat += gv * (xv - f.m) * rstd[c];
  }
  sg = block_sum(sg);
  sgxhat = block_sum(sgxhat);
  if (threadIdx.x == 0) {
    partial[(int64_t(c) * G + g) * 2] = sg;
    partial[(int64_t(c) * G + g) * 2 + 1] = sgxhat;
  }
}

// One thread per input cell: dx += a * (G_cell - sum g / M - xhat * sum(g xhat) / M).
__global__ void bn_act_pool_input_kernel(float* din, const float* dout, const int32_t* argmax, const float* in,
                                         const float* gamma, const float* beta, const float* mean,
                                         const float* rstd, const float* sums, float alpha, Pool2dDims d) {
  const int P = d.P(), Q = d.Q(), HW = d.H * d.W;
  const int64_t total = int64_t(d.N) * d.C * HW;
  const float M = float(int64_t(d.N) * HW);
  for (int64_t i = global_index(); i < total; i += grid_stride()) {
    const int hw = int(i % HW), h = hw / d.W, w = hw % d.W;
    const int64_t plane = i / HW;
    const int c = int(plane % d.C);
    const ChannelMap f = channel_map(mean, rstd, gamma, beta, alpha, c);
    const float* dy = dout + plane * P * Q;
    const int32_t* am = argmax + plane * P * Q;
    int p_lo, p_hi, q_lo, q_hi;
    window_range(h, d.pad, d.k, d.stride, P, p_lo, p_hi);
    window_range(w, d.pad, d.k, d.stride, Q, q_lo, q_hi);
    const float xv = in[i];
    float won = 0.0f;
    for (int p = p_lo; p <= p_hi; ++p)
      for (int q = q_lo; q <= q_hi; ++q)
        if (am[p * Q + q] == hw) won += dy[p * Q + q];
    const float g_cell = won * f.slope(xv);
    const float xhat = (xv - f.m) * rstd[c];
    din[i] += f.a * (g_cell - sums[2 * c] / M - xhat * (sums[2 * c + 1] / M));
  }
}

}  // namespace

void bn_act_pool_forward(float* out, int32_t* argmax, float* mean, float* rstd, float* running_mean,
                         float* running_var, const float* in, const float* gamma, const float* beta, bool training,
                         float momentum, float eps, float alpha, const Pool2dDims& d) {
  if (d.C <= 0 || d.N <= 0) return;
  if (training)
    detail::batchnorm2d_batch_stats(mean, rstd, running_mean, running_var, in, d.N, d.C, d.H * d.W, momentum, eps);
  else
    FACET_LAUNCH(running_stats_kernel, grid_for(d.C), kBlock, 0, stream(), mean, rstd, running_mean, running_var,
                 d.C, eps);
  bn_act_pool_apply(out, argmax, in, mean, rstd, gamma, beta, alpha, d);
}

void bn_act_pool_apply(float* out, int32_t* argmax, const float* in, const float* mean, const float* rstd,
                       const float* gamma, const float* beta, float alpha, const Pool2dDims& d) {
  if (d.C <= 0 || d.N <= 0) return;
  const int64_t total = int64_t(d.N) * d.C * d.P() * d.Q();
  FACET_LAUNCH(bn_act_pool_forward_kernel, grid_for(total), kBlock, 0, stream(), out, argmax, in, gamma, beta, mean,
               rstd, alpha, d);
}

void bn_act_pool_backward(float* din, float* dgamma, float* dbeta, const float* dout, const int32_t* argmax,
                          const float* in, const float* gamma, const float* beta, const float* mean,
                          const float* rstd, float alpha, const Pool2dDims& d) {
  if ((!din && !dgamma && !dbeta) || d.C <= 0 || d.N <= 0) return;
  const int G = detail::batchnorm2d_splits(int64_t(d.N) * d.P() * d.Q());  // windows per channel
  Workspace partial(size_t(d.C) * G * 2);  // (C, G, 2): sum g, sum g*xhat
  Workspace sums(size_t(d.C) * 2);         // (C, 2)
  FACET_LAUNCH(bn_act_pool_partial_kernel, dim3(unsigned(G), unsigned(d.C)), kBlock, 0, stream(), partial.get(),
               dout, argmax, in, gamma, beta, mean, rstd, alpha, d);
  detail::batchnorm2d_backward_sums(sums.get(), dgamma, dbeta, partial.get(), d.C, G);
  const int64_t total = int64_t(d.N) * d.C * d.H * d.W;
  if (din)
    FACET_LAUNCH(bn_act_pool_input_kernel, grid_for(total), kBlock, 0, stream(), din, dout, argmax, in, gamma, beta,
                 mean, rstd, sums.get(), alpha, d);
}

}  // namespace facet::cuda
