// 2-D convolution on the device (see kernels/conv2d.h), as three implicit GEMMs on our tiled SGEMM kernel
// (kernels/cuda/gemm_tiled.h). "Implicit": the im2col matrix is never stored; the GEMM's B loader computes
// each element from the input on the fly while staging a 16x64 tile in shared memory.
// With CRS = C*R*S and PQ = P*Q:
//   forward      out (K, N*PQ)     = W (K, CRS) * im2col (CRS, N*PQ)           + bias[k] in the store
//   backward     dW (K, CRS)      += dout (K, N*PQ) * im2col^T (N*PQ, CRS)     split-K, see below
//   data         din (C, N*HW)    += W^T (C, K*R*S) * G (K*R*S, N*HW)
//                where G[(k,r,s), (n,h,w)] = dout[n,k,p,q] if h = p*st-pad+r and w = q*st-pad+s for an output
//                cell (p,q), else 0: the transposed convolution written as a gather, so no atomics.
//   bias         dbias[k]         += sum_{n,p,q} dout[n,k,p,q]                 one block per k, block_sum
// dW's reduction runs over N*PQ (262144 for the first BaseCNN layer) while its output is small (K x CRS), so
// the reduction is split into slices (blockIdx.z) that write partial products to a workspace, then added in
// slice order: deterministic, and enough blocks to fill the GPU. The slice count depends only on the shapes.
// The naive direct kernels at the end are the readable reference (set_conv2d_algorithm selects them).
// conv2d_forward_bn_stats is the forward followed by batchnorm2d.cu's batch-statistics kernels: on the device the
// statistics are a second read of the output (not gathered in the GEMM's store as the CPU twin does), with
// the same formulas and the same results within float rounding.
#include <atomic>
#include <cmath>

#include "kernels/conv2d.h"
#include "kernels/cuda/batchnorm_stats.h"
#include "kernels/cuda/conv2d_algorithms.h"
#include "kernels/cuda/gemm_tiled.h"
#include "kernels/cuda/kernel_utils.h"

namespace facet::cuda {

namespace {

struct ConvGeometry {
  int N, C, H, W, K, R, S, stride, pad, P, Q;
  // im2col[(c,r,s), (n,p,q)] = in[n, c, p*st-pad+r, q*st-pad+s], 0 in the padding.
  __device__ __forceinline__ float im2col(const float* in, int crs, int npq) const {
    const int c = crs / (R * S), rs = crs % (R * S), r = rs / S, s = rs % S;
    const int n = npq / (P * Q), pq = npq % (P * Q), p = pq / Q, q = pq % Q;
    const int h = p * stride - pad + r, w = q * stride - pad + s;
    if (h < 0 || h >= H || w < 0 || w >= W) return 0.0f;
    return in[((int64_t(n) * C + c) * H + h) * W + w];
  }
};
ConvGeometry geometry(const Conv2dDims& d) {
  return {d.N, d.C, d.H, d.W, d.K, d.R, d.S, d.stride, d.pad, d.P(), d.Q()};
}

// ---- forward: out = W * im2col ----------------------------------------------------------------------------
struct WeightRowsA {  // A(k, crs) = W[k, crs]
  static constexpr bool kFastK = true;
  const float* w;
  int CRS;
  __device__ __forceinline__ float operator()(int k, int crs) const { return w[int64_t(k) * CRS + crs]; }
};
struct Im2colB {  // B(crs, npq)
  static constexpr bool kFastK = false;
  const float* in;
  ConvGeometry g;
  __device__ __forceinline__ float operator()(int crs, int npq) const { return g.im2col(in, crs, npq); }
};
struct OutputStore {  // out[n, k, p, q] = acc + bias[k]
  float* out;
  const float* bias;
  int K, PQ;
  __device__ __forceinline__ void operator()(int k, int npq, float acc, int) const {
    out[(int64_t(npq / PQ) * K + k) * PQ + npq % PQ] = acc + (bias ? bias[k] : 0.0f);
  }
};

// ---- backward data: din += W^T * G ------------------------------------------------------------------------
struct WeightColumnsA {  // A(c, krs) = W[k, c, r, s]
  static constexpr bool kFastK = true;
  const float* w;
  int C, RS;
  __device__ __forceinline__ float operator()(int c, int krs) const {
    return w[(int64_t(krs / RS) * C + c) * RS + krs % RS];
  }
};
struct OutputGradGatherB {  // B(krs, nhw) = dout[n, k, p, q] where (h, w) = (p*st-pad+r, q*st-pad+s), else 0
  static constexpr bool kFastK = false;
  const float* dout;
  ConvGeometry g;
  __device__ __forceinline__ float operator()(int krs, int nhw) const {
    const int k = krs / (g.R * g.S), rs = krs % (g.R * g.S), r = rs / g.S, s = rs % g.S;
    const int n = nhw / (g.H * g.W), hw = nhw % (g.H * g.W), h = hw / g.W, w = hw % g.W;
    const int ph = h + g.pad - r, qw = w + g.pad - s;
    if (ph < 0 || qw < 0 || ph % g.stride != 0 || qw % g.stride != 0) return 0.0f;
    const int p = ph / g.stride, q = qw / g.stride;
    if (p >= g.P || q >= g.Q) return 0.0f;
    return dout[((int64_t(n) * g.K + k) * g.P + p) * g.Q + q];
  }
};
struct InputGradStore {  // din[n, c, h, w] += acc
  float* din;
  int C, HW;
  __device__ __forceinline__ void operator()(int c, int nhw, float acc, int) const {
    din[(int64_t(nhw / HW) * C + c) * HW + nhw % HW] += acc;
  }
};

// ---- backward weight: dW += dout * im2col^T (split-K) -----------------------------------------------------
struct OutputGradRowsA {  // A(k, npq) = dout[n, k, p, q]
  static constexpr bool kFastK = true;
  const float* dout;
  int K, PQ;
  __device__ __forceinline__ float operator()(int k, int npq) const {
    return dout[(int64_t(npq / PQ) * K + k) * PQ + npq % PQ];
  }
};
struct Im2colTransposedB {  // B(npq, crs) = im2col(crs, npq)
  static constexpr bool kFastK = true;
  const float* in;
  ConvGeometry g;
  __device__ __forceinline__ float operator()(int npq, int crs) const { return g.im2col(in, crs, npq); }
};
struct WeightGradStore {  // one slice: dW[k, crs] += acc; several: slices[z][k, crs] = acc
  float* dst;
  int CRS;
  int64_t slice_floats;  // 0: accumulate straight into dW
  __device__ __forceinline__ void operator()(int k, int crs, float acc, int z) const {
    const int64_t at = int64_t(k) * CRS + crs;
    if (slice_floats == 0)
      dst[at] += acc;
    else
      dst[z * slice_floats + at] = acc;
  }
};

// dW[i] += sum_z slices[z][i], z in order
__global__ void add_slices_kernel(float* dw, const float* slices, int splits, int64_t n) {
  for (int64_t i = global_index(); i < n; i += grid_stride()) {
    float s = 0.0f;
    for (int z = 0; z < splits; ++z) s += slices[z * n + i];
    dw[i] += s;
  }
}

// dbias[k] += sum_{n, pq} dout[n, k, pq]: block k, threads stride over (n, pq), then block_sum.
__global__ void bias_grad_kernel(float* dbias, const float* dout, int N, int K, int PQ) {
  const int k = int(blockIdx.x);
  const int64_t total = int64_t(N) * PQ;
  float s = 0.0f;
  for (int64_t i = threadIdx.x; i < total; i += blockDim.x) s += dout[(i / PQ * K + k) * PQ + i % PQ];
  s = block_sum(s);
  if (threadIdx.x == 0) dbias[k] += s;
}

// ---- the naive direct kernels: the formulas of kernels/conv2d.h, one thread per output element ------------
// out[n,k,p,q] = bias[k] + sum_{c,r,s} in[n,c,p*st-pad+r,q*st-pad+s] * w[k,c,r,s]
__global__ void conv2d_forward_naive_kernel(float* out, const float* in, const float* w, const float* bias,
                                            ConvGeometry g) {
  const int64_t total = int64_t(g.N) * g.K * g.P * g.Q;
  for (int64_t o = global_index(); o < total; o += grid_stride()) {
    const int q = int(o % g.Q), p = int(o / g.Q % g.P), k = int(o / (int64_t(g.P) * g.Q) % g.K);
    const int64_t n = o / (int64_t(g.K) * g.P * g.Q);
    float acc = bias ? bias[k] : 0.0f;
    for (int c = 0; c < g.C; ++c)
      for (int r = 0; r < g.R; ++r) {
        const int h = p * g.stride - g.pad + r;
        if (h < 0 || h >= g.H) continue;
        for (int s = 0; s < g.S; ++s) {
          const int x = q * g.stride - g.pad + s;
          if (x < 0 || x >= g.W) continue;
          acc += in[((n * g.C + c) * g.H + h) * g.W + x] * w[((int64_t(k) * g.C + c) * g.R + r) * g.S + s];
        }
      }
    out[o] = acc;
  }
}

// din[n,c,h,w] += sum_{k,r,s: h = p*st-pad+r, w = q*st-pad+s} dout[n,k,p,q] * w[k,c,r,s]
__global__ void conv2d_backward_data_naive_kernel(float* din, const float* dout, const float* w,
                                                  ConvGeometry g) {
  const int64_t total = int64_t(g.N) * g.C * g.H * g.W;
  for (int64_t i = global_index(); i < total; i += grid_stride()) {
    const int x = int(i % g.W), h = int(i / g.W % g.H), c = int(i / (int64_t(g.H) * g.W) % g.C);
    const int64_t n = i / (int64_t(g.C) * g.H * g.W);
    float acc = 0.0f;
    for (int k = 0; k < g.K; ++k)
      for (int r = 0; r < g.R; ++r)
        for (int s = 0; s < g.S; ++s) {
          const int ph = h + g.pad - r, qw = x + g.pad - s;
          if (ph < 0 || qw < 0 || ph % g.stride || qw % g.stride) continue;
          const int p = ph / g.stride, q = qw / g.stride;
          if (p >= g.P || q >= g.Q) continue;
          acc += dout[((n * g.K + k) * g.P + p) * g.Q + q] * w[((int64_t(k) * g.C + c) * g.R + r) * g.S + s];
        }
    din[i] += acc;
  }
}

// dw[k,c,r,s] += sum_{n,p,q} dout[n,k,p,q] * in[n,c,p*st-pad+r,q*st-pad+s]
__global__ void conv2d_backward_weight_naive_kernel(float* dw, const float* dout, const float* in,
                                                    ConvGeometry g) {
  const int64_t total = int64_t(g.K) * g.C * g.R * g.S;
  for (int64_t i = global_index(); i < total; i += grid_stride()) {
    const int s = int(i % g.S), r = int(i / g.S % g.R), c = int(i / (int64_t(g.R) * g.S) % g.C);
    const int k = int(i / (int64_t(g.C) * g.R * g.S));
    float acc = 0.0f;
    for (int64_t n = 0; n < g.N; ++n)
      for (int p = 0; p < g.P; ++p) {
        const int h = p * g.stride - g.pad + r;
        if (h < 0 || h >= g.H) continue;
        for (int q = 0; q < g.Q; ++q) {
          const int x = q * g.stride - g.pad + s;
          if (x < 0 || x >= g.W) continue;
          acc += dout[((n * g.K + k) * g.P + p) * g.Q + q] * in[((n * g.C + c) * g.H + h) * g.W + x];
        }
      }
    dw[i] += acc;
  }
}

// dbias[k] += sum_{n,p,q} dout[n,k,p,q]
__global__ void conv2d_backward_bias_naive_kernel(float* dbias, const float* dout, ConvGeometry g) {
  for (int64_t k = global_index(); k < g.K; k += grid_stride()) {
    float acc = 0.0f;
    for (int64_t n = 0; n < g.N; ++n)
      for (int pq = 0; pq < g.P * g.Q; ++pq) acc += dout[(n * g.K + k) * g.P * g.Q + pq];
    dbias[k] += acc;
  }
}

std::atomic<Conv2dAlgorithm> selected{Conv2dAlgorithm::implicit_gemm};

}  // namespace

void set_conv2d_algorithm(Conv2dAlgorithm algorithm) {
  selected = algorithm;
}
Conv2dAlgorithm conv2d_algorithm() {
  return selected;
}

void conv2d_forward_implicit_gemm(float* out, const float* in, const float* weight, const float* bias,
                                  const Conv2dDims& d) {
  const ConvGeometry g = geometry(d);
  const int CRS = d.C * d.R * d.S, PQ = g.P * g.Q;
  gemm_tiled(d.K, d.N * PQ, CRS, 1, CRS > 0 ? CRS : 1, WeightRowsA{weight, CRS}, Im2colB{in, g},
             OutputStore{out, bias, d.K, PQ});
}

void conv2d_backward_implicit_gemm(float* din, float* dweight, float* dbias, const float* dout,
                                   const float* in, const float* weight, const Conv2dDims& d) {
  const ConvGeometry g = geometry(d);
  const int CRS = d.C * d.R * d.S, PQ = g.P * g.Q, NPQ = d.N * PQ, KRS = d.K * d.R * d.S;
  if (din)
    gemm_tiled(d.C, d.N * d.H * d.W, KRS, 1, KRS > 0 ? KRS : 1, WeightColumnsA{weight, d.C, d.R * d.S},
               OutputGradGatherB{dout, g}, InputGradStore{din, d.C, d.H * d.W});
  if (dweight && NPQ > 0) {
    // Slices: aim for ~256 blocks over the (K/64) x (CRS/64) output tiles, each slice >= 8 K-steps of 16.
    const int tiles = ((d.K + kGemmBM - 1) / kGemmBM) * ((CRS + kGemmBN - 1) / kGemmBN);
    int splits = (256 + tiles - 1) / tiles;
    const int max_splits = (NPQ + 8 * kGemmBK - 1) / (8 * kGemmBK);
    splits = splits < max_splits ? splits : max_splits;
    if (splits < 1) splits = 1;
    int k_per_split = (NPQ + splits - 1) / splits;
    k_per_split = (k_per_split + kGemmBK - 1) / kGemmBK * kGemmBK;
    splits = (NPQ + k_per_split - 1) / k_per_split;
    const OutputGradRowsA a{dout, d.K, PQ};
    const Im2colTransposedB b{in, g};
    const int64_t slice = int64_t(d.K) * CRS;
    if (splits == 1) {
      gemm_tiled(d.K, CRS, NPQ, 1, k_per_split, a, b, WeightGradStore{dweight, CRS, 0});
    } else {
      Workspace slices(size_t(splits) * size_t(slice));  // (splits, K, CRS)
      gemm_tiled(d.K, CRS, NPQ, splits, k_per_split, a, b, WeightGradStore{slices.get(), CRS, slice});
      FACET_LAUNCH(add_slices_kernel, grid_for(slice), kBlock, 0, stream(), dweight, slices.get(), splits,
                   slice);
    }
  }
  if (dbias && d.K > 0)
    FACET_LAUNCH(bias_grad_kernel, dim3(unsigned(d.K)), kBlock, 0, stream(), dbias, dout, d.N, d.K, PQ);
}

void conv2d_forward_naive(float* out, const float* in, const float* weight, const float* bias,
                          const Conv2dDims& d) {
  const ConvGeometry g = geometry(d);
  FACET_LAUNCH(conv2d_forward_naive_kernel, grid_for(int64_t(d.N) * d.K * g.P * g.Q), kBlock, 0, stream(),
               out, in, weight, bias, g);
}

void conv2d_backward_naive(float* din, float* dweight, float* dbias, const float* dout, const float* in,
                           const float* weight, const Conv2dDims& d) {
  const ConvGeometry g = geometry(d);
  if (din)
    FACET_LAUNCH(conv2d_backward_data_naive_kernel, grid_for(int64_t(d.N) * d.C * d.H * d.W), kBlock, 0,
                 stream(), din, dout, weight, g);
  if (dweight)
    FACET_LAUNCH(conv2d_backward_weight_naive_kernel, grid_for(int64_t(d.K) * d.C * d.R * d.S), kBlock, 0,
                 stream(), dweight, dout, in, g);
  if (dbias)
    FACET_LAUNCH(conv2d_backward_bias_naive_kernel, grid_for(d.K), kBlock, 0, stream(), dbias, dout, g);
}

// One thread per weight: w'[k, i] = a_k w[k, i]; thread i < K also writes bias'_k (a_k in double, as the CPU).
__global__ void fold_batchnorm_kernel(float* weight_out, float* bias_out, const float* weight, const float* bias,
                                      const float* gamma, const float* beta, const float* running_mean,
                                      const float* running_var, float eps, int K, int CRS) {
  const int64_t total = int64_t(K) * CRS;
  for (int64_t i = global_index(); i < total; i += grid_stride()) {
    const int k = int(i / CRS);
    const double a = double(gamma ? gamma[k] : 1.0f) / sqrt(double(running_var[k]) + double(eps));
    weight_out[i] = float(double(weight[i]) * a);
    if (i < K) {
      const double ak = double(gamma ? gamma[i] : 1.0f) / sqrt(double(running_var[i]) + double(eps));
      bias_out[i] = float((double(bias ? bias[i] : 0.0f) - double(running_mean[i])) * ak +
                          double(beta ? beta[i] : 0.0f));
    }
  }
}

void conv2d_forward(float* out, const float* in, const float* weight, const float* bias,
                    const Conv2dDims& d) {
  if (selected == Conv2dAlgorithm::naive)
    conv2d_forward_naive(out, in, weight, bias, d);
  else
    conv2d_forward_implicit_gemm(out, in, weight, bias, d);
}

void conv2d_backward(float* din, float* dweight, float* dbias, const float* dout, const float* in,
                     const float* weight, const Conv2dDims& d) {
  if (selected == Conv2dAlgorithm::naive)
    conv2d_backward_naive(din, dweight, dbias, dout, in, weight, d);
  else
    conv2d_backward_implicit_gemm(din, dweight, dbias, dout, in, weight, d);
}

void conv2d_forward_bn_stats(float* out, float* mean, float* rstd, float* running_mean, float* running_var,
                             const float* in, const float* weight, const float* bias, float momentum, float eps,
                             const Conv2dDims& d) {
  if (d.N <= 0 || d.K <= 0 || d.P() <= 0 || d.Q() <= 0) return;
  conv2d_forward(out, in, weight, bias, d);
  detail::batchnorm2d_batch_stats(mean, rstd, running_mean, running_var, out, d.N, d.K, d.P() * d.Q(), momentum,
                                  eps);
}

void conv2d_fold_batchnorm(float* weight_out, float* bias_out, const float* weight, const float* bias,
                           const float* gamma, const float* beta, const float* running_mean,
                           const float* running_var, float eps, int K, int CRS) {
  if (K <= 0 || CRS <= 0) return;
  FACET_LAUNCH(fold_batchnorm_kernel, grid_for(int64_t(K) * CRS), kBlock, 0, stream(), weight_out, bias_out, weight,
               bias, gamma, beta, running_mean, running_var, eps, K, CRS);
}

}  // namespace facet::cuda
