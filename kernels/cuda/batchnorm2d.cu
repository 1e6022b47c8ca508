// Batch normalisation on the device (see kernels/batchnorm2d.h), per channel c over its M = N*HW values.
//
// Training statistics by Welford's algorithm (one pass, numerically stable). A state (count, mean, M2)
// absorbs a value x as
//   count += 1,  delta = x - mean,  mean += delta/count,  M2 += delta*(x - mean)
// and two states merge as
//   n = na + nb,  delta = mb - ma,  mean = ma + delta*nb/n,  M2 = M2a + M2b + delta^2*na*nb/n;
// var = M2 / M (biased, for normalising).
// Three kernels, so a layer with few channels still fills the GPU:
//   1. stats_partial, grid (G, C): block (g, c) folds a contiguous share of channel c's values into one state
//      per thread, merges the 32 lanes of each warp by shuffles (__shfl_down_sync, 5 steps) and the warps'
//      states in shared memory -> partial state (g, c).  G depends only on the shapes.
//   2. stats_final, one thread per channel: merges the G partial states in order g = 0, 1, ... -> mean, rstd,
//      running statistics (unbiased variance var*M/(M-1), as PyTorch).
//   3. normalize, pointwise: y = (x - mean) * (gamma*rstd) + beta.
// Backward uses the same shape: per-(g, c) partial sums of dy and dy*xhat (block_sum), a per-channel final
// sum in order (dgamma += sum dy*xhat, dbeta += sum dy), then pointwise
//   dx += gamma*rstd * (dy - sum(dy)/M - xhat * sum(dy*xhat)/M).
// Every sum has a fixed order: deterministic, no atomics.
#include <cmath>

#include "kernels/batchnorm2d.h"
#include "kernels/cuda/batchnorm_stats.h"
#include "kernels/cuda/kernel_utils.h"

namespace facet::cuda {

namespace {

struct Welford {
  float count, mean, m2;
};

__device__ __forceinline__ Welford welford_merge(Welford a, Welford b) {
  const float n = a.count + b.count;
  if (b.count == 0.0f) return a;
  if (a.count == 0.0f) return b;
  const float delta = b.mean - a.mean, wb = b.count / n;
  return {n, a.mean + delta * wb, a.m2 + b.m2 + delta * delta * a.count * wb};
}

__device__ __forceinline__ Welford warp_welford(Welford w) {
  for (int offset = 16; offset > 0; offset >>= 1) {
    const Welford other{__shfl_down_sync(0xffffffffu, w.count, offset),
                        __shfl_down_sync(0xffffffffu, w.mean, offset),
                        __shfl_down_sync(0xffffffffu, w.m2, offset)};
    w = welford_merge(w, other);
  }
  return w;  // lane 0 holds the warp's state
}

// Channel c's value j (j < M = N*HW) lives at n*C*HW + c*HW + hw with n = j / HW, hw = j % HW.
__device__ __forceinline__ int64_t channel_at(int64_t j, int c, int C, int HW) {
  return (j / HW * C + c) * HW + j % HW;
}

// Splits per channel: about 16 values per thread of a 256-thread block, at most 64 (G depends only on M).
int splits_for(int64_t M) {
  const int64_t g = (M + 16 * kBlock - 1) / (16 * kBlock);
  return int(g < 1 ? 1 : (g > 64 ? 64 : g));
}

// Block (g, c): Welford state (count, mean, M2) of split g of channel c -> partial[c][g] (see above).
__global__ void bn_stats_partial_kernel(float* partial /* (C, G, 3) */, const float* in, int C, int HW,
                                        int64_t M) {
  FACET_SHARED_ARRAY(float, warp_states, [32][3]);
  const int g = int(blockIdx.x), G = int(gridDim.x), c = int(blockIdx.y);
  const int64_t chunk = (M + G - 1) / G, begin = g * chunk, end = begin + chunk < M ? begin + chunk : M;
  Welford w{0.0f, 0.0f, 0.0f};
  for (int64_t j = begin + threadIdx.x; j < end; j += blockDim.x) {
    const float x = in[channel_at(j, c, C, HW)];
    w.count += 1.0f;
    const float delta = x - w.mean;
    w.mean += delta / w.count;
    w.m2 += delta * (x - w.mean);
  }
  w = warp_welford(w);
  const int lane = int(threadIdx.x) % 32, warp = int(threadIdx.x) / 32, warps = int(blockDim.x) / 32;
  if (lane == 0) {
    warp_states[warp][0] = w.count;
    warp_states[warp][1] = w.mean;
    warp_states[warp][2] = w.m2;
  }
  __syncthreads();
  if (threadIdx.x != 0) return;
  Welford total{0.0f, 0.0f, 0.0f};
  for (int i = 0; i < warps; ++i)
    total = welford_merge(total, {warp_states[i][0], warp_states[i][1], warp_states[i][2]});
  float* out = partial + (int64_t(c) * G + g) * 3;
  out[0] = total.count;
  out[1] = total.mean;
  out[2] = total.m2;
}

// Thread c: merge partial[c][0..G) in order; mean, rstd = 1/sqrt(M2/M + eps), running statistics.
__global__ void bn_stats_final_kernel(float* mean, float* rstd, float* running_mean, float* running_var,
                                      const float* partial, int C, int G, int64_t M, float momentum,
                                      float eps) {
  const int64_t c = global_index();
  if (c >= C) return;
  Welford w{0.0f, 0.0f, 0.0f};
  for (int g = 0; g < G; ++g) {
    const float* s = partial + (c * G + g) * 3;
    w = welford_merge(w, {s[0], s[1], s[2]});
  }
  const float var = w.m2 / float(M);
  mean[c] = w.mean;
  rstd[c] = rsqrtf(var + eps);
  const float unbiased = M > 1 ? var * float(M) / float(M - 1) : var;
  if (running_mean) running_mean[c] = (1.0f - momentum) * running_mean[c] + momentum * w.mean;
  if (running_var) running_var[c] = (1.0f - momentum) * running_var[c] + momentum * unbiased;
}

// y = (x - mean[c]) * (gamma[c] * r) + beta[c], r = rstd[c] (training) or, when rstd is null (eval, with the
// running statistics as mean and var), r = 1/sqrt(var[c] + eps).
__global__ void bn_normalize_kernel(float* out, const float* in, const float* gamma, const float* beta,
                                    const float* mean, const float* rstd, const float* var, float eps, int C,
                                    int HW, int64_t total) {
  for (int64_t i = global_index(); i < total; i += grid_stride()) {
    const int c = int(i / HW % C);
    const float r = rstd ? rstd[c] : 1.0f / sqrtf(var[c] + eps);
    const float a = (gamma ? gamma[c] : 1.0f) * r, b = beta ? beta[c] : 0.0f;
    out[i] = (in[i] - mean[c]) * a + b;
  }
}

// Block (g, c): sum dy and sum dy*xhat over split g of channel c, xhat = (x - mean)*rstd -> partial[c][g].
__global__ void bn_backward_partial_kernel(float* partial /* (C, G, 2) */, const float* dout, const float* in,
                                           const float* mean, const float* rstd, int C, int HW, int64_t M) {
  const int g = int(blockIdx.x), G = int(gridDim.x), c = int(blockIdx.y);
  const int64_t chunk = (M + G - 1) / G, begin = g * chunk, end = begin + chunk < M ? begin + chunk : M;
  const float mu = mean[c], r = rstd[c];
  float sdy = 0.0f, sdy_xhat = 0.0f;
  for (int64_t j = begin + threadIdx.x; j < end; j += blockDim.x) {
    const int64_t at = channel_at(j, c, C, HW);
    const float dy = dout[at];
    sdy += dy;
    sdy_xhat += dy * (in[at] - mu) * r;
  }
  sdy = block_sum(sdy);
  sdy_xhat = block_sum(sdy_xhat);
  if (threadIdx.x == 0) {
    partial[(int64_t(c) * G + g) * 2] = sdy;
    partial[(int64_t(c) * G + g) * 2 + 1] = sdy_xhat;
  }
}

// sums (C, 2) = per-channel totals of the partials, in order; adds them into dbeta/dgamma when wanted.
__global__ void bn_backward_final_kernel(float* sums, float* dgamma, float* dbeta, const float* partial,
                                         int C, int G) {
  const int64_t c = global_index();
  if (c >= C) return;
  float sdy = 0.0f, sdy_xhat = 0.0f;
  for (int g = 0; g < G; ++g) {
    sdy += partial[(c * G + g) * 2];
    sdy_xhat += partial[(c * G + g) * 2 + 1];
  }
  sums[c * 2] = sdy;
  sums[c * 2 + 1] = sdy_xhat;
  if (dbeta) dbeta[c] += sdy;
  if (dgamma) dgamma[c] += sdy_xhat;
}

// dx += gamma*rstd * (dy - sum(dy)/M - xhat * sum(dy*xhat)/M), pointwise.
__global__ void bn_backward_input_kernel(float* din, const float* dout, const float* in, const float* gamma,
                                         const float* mean, const float* rstd, const float* sums, int C,
                                         int HW, int64_t M, int64_t total) {
  for (int64_t i = global_index(); i < total; i += grid_stride()) {
    const int c = int(i / HW % C);
    const float r = rstd[c], k = (gamma ? gamma[c] : 1.0f) * r;
    const float mean_dy = sums[2 * c] / float(M), mean_dy_xhat = sums[2 * c + 1] / float(M);
    const float xhat = (in[i] - mean[c]) * r;
    din[i] += k * (dout[i] - mean_dy - xhat * mean_dy_xhat);
  }
}

// rstd[c] = 1/sqrt(running_var[c] + eps): the eval backward's constants, in the forward's expression.
__global__ void bn_eval_rstd_kernel(float* rstd, const float* running_var, float eps, int C) {
  const int64_t c = global_index();
  if (c < C) rstd[c] = 1.0f / sqrtf(running_var[c] + eps);
}

// dx += gamma*rstd * dy, pointwise (eval: the statistics are constants).
__global__ void bn_backward_eval_input_kernel(float* din, const float* dout, const float* gamma, const float* rstd,
                                              int C, int HW, int64_t total) {
  for (int64_t i = global_index(); i < total; i += grid_stride()) {
    const int c = int(i / HW % C);
    din[i] += (gamma ? gamma[c] : 1.0f) * rstd[c] * dout[i];
  }
}

}  // namespace

namespace detail {
// Kernels 1 and 2 above: mean, rstd and the running statistics (also used by the fused bn_act_pool.cu).
void batchnorm2d_batch_stats(float* mean, float* rstd, float* running_mean, float* running_var, const float* in,
                             int N, int C, int HW, float momentum, float eps) {
  const int64_t M = int64_t(N) * HW;
  if (C <= 0 || M <= 0) return;
  const int G = splits_for(M);
  Workspace partial(size_t(C) * G * 3);  // (C, G, 3) Welford states
  FACET_LAUNCH(bn_stats_partial_kernel, dim3(unsigned(G), unsigned(C)), kBlock, 0, stream(), partial.get(),
               in, C, HW, M);
  FACET_LAUNCH(bn_stats_final_kernel, grid_for(C), kBlock, 0, stream(), mean, rstd, running_mean, running_var,
               partial.get(), C, G, M, momentum, eps);
}

int batchnorm2d_splits(int64_t values_per_channel) { return splits_for(values_per_channel); }

// Kernel of backward step 2 above: sums (C, 2) from partial (C, G, 2) in order, added into dbeta/dgamma.
void batchnorm2d_backward_sums(float* sums, float* dgamma, float* dbeta, const float* partial, int C, int G) {
  FACET_LAUNCH(bn_backward_final_kernel, grid_for(C), kBlock, 0, stream(), sums, dgamma, dbeta, partial, C, G);
}
}  // namespace detail

void batchnorm2d_forward_train(float* out, float* mean, float* rstd, float* running_mean, float* running_var,
                               const float* in, const float* gamma, const float* beta, int N, int C, int HW,
                               float momentum, float eps) {
  const int64_t M = int64_t(N) * HW, total = M * C;
  if (C <= 0 || M <= 0) return;
  detail::batchnorm2d_batch_stats(mean, rstd, running_mean, running_var, in, N, C, HW, momentum, eps);
  FACET_LAUNCH(bn_normalize_kernel, grid_for(total), kBlock, 0, stream(), out, in, gamma, beta, mean, rstd,
               nullptr, 0.0f, C, HW, total);
}

void batchnorm2d_forward_eval(float* out, const float* in, const float* gamma, const float* beta,
                              const float* running_mean, const float* running_var, int N, int C, int HW,
                              float eps) {
  const int64_t total = int64_t(N) * C * HW;
  FACET_LAUNCH(bn_normalize_kernel, grid_for(total), kBlock, 0, stream(), out, in, gamma, beta, running_mean,
               nullptr, running_var, eps, C, HW, total);
}

void batchnorm2d_backward(float* din, float* dgamma, float* dbeta, const float* dout, const float* in,
                          const float* gamma, const float* mean, const float* rstd, int N, int C, int HW) {
  const int64_t M = int64_t(N) * HW, total = M * C;
  if (C <= 0 || M <= 0 || (!din && !dgamma && !dbeta)) return;
  const int G = splits_for(M);
  Workspace partial(size_t(C) * G * 2);  // (C, G, 2): sum dy, sum dy*xhat
  Workspace sums(size_t(C) * 2);         // (C, 2)
  FACET_LAUNCH(bn_backward_partial_kernel, dim3(unsigned(G), unsigned(C)), kBlock, 0, stream(), partial.get(),
               dout, in, mean, rstd, C, HW, M);
  detail::batchnorm2d_backward_sums(sums.get(), dgamma, dbeta, partial.get(), C, G);
  if (din)
    FACET_LAUNCH(bn_backward_input_kernel, grid_for(total), kBlock, 0, stream(), din, dout, in, gamma, mean,
                 rstd, sums.get(), C, HW, M, total);
}

// Eval backward: dbeta += sum dy, dgamma += sum dy*xhat (the training backward's partial and final sums with
// the running mean and rstd), dx += gamma*rstd*dy.
void batchnorm2d_backward_eval(float* din, float* dgamma, float* dbeta, const float* dout, const float* in,
                               const float* gamma, const float* running_mean, const float* running_var, int N,
                               int C, int HW, float eps) {
  const int64_t M = int64_t(N) * HW, total = M * C;
  if (C <= 0 || M <= 0 || (!din && !dgamma && !dbeta)) return;
  Workspace rstd(static_cast<size_t>(C));
  FACET_LAUNCH(bn_eval_rstd_kernel, grid_for(C), kBlock, 0, stream(), rstd.get(), running_var, eps, C);
  if (dgamma || dbeta) {
    const int G = splits_for(M);
    Workspace partial(size_t(C) * G * 2);  // (C, G, 2): sum dy, sum dy*xhat
    Workspace sums(size_t(C) * 2);         // (C, 2)
    FACET_LAUNCH(bn_backward_partial_kernel, dim3(unsigned(G), unsigned(C)), kBlock, 0, stream(), partial.get(),
                 dout, in, running_mean, rstd.get(), C, HW, M);
    detail::batchnorm2d_backward_sums(sums.get(), dgamma, dbeta, partial.get(), C, G);
  }
  if (din)
    FACET_LAUNCH(bn_backward_eval_input_kernel, grid_for(total), kBlock, 0, stream(), din, dout, gamma, rstd.get(),
                 C, HW, total);
}

}  // namespace facet::cuda
