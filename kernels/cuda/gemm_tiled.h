// Our SGEMM: one tiled kernel behind sgemm, linear and the three convolution GEMMs (implicit GEMM).
//
//   C(M,N) = sum_k A(m,k) * B(k,n)    A and B are read through loader functors and C is written by a
//                                      store functor, so the convolution never materialises im2col.
// Tiling (the classic shared-memory + register-blocking scheme):
//   - a block of 256 threads owns a 64x64 tile of C and walks K in steps of 16;
//   - each step the block stages A's 64x16 slice and B's 16x64 slice in shared memory (each thread loads 4 of
//     each, in the order that makes neighbouring threads read neighbouring addresses: the loader says which
//     dimension is contiguous in memory, kFastK), then __syncthreads;
//   - each thread accumulates a 4x4 register tile: rows ty + 16i, columns tx + 16j (i, j < 4). Strided rather
//     than contiguous rows/columns, so a warp's 32 shared-memory reads hit 32 different banks (or broadcast);
//     per k each thread does 8 shared loads for 16 FMAs.
//   - shared rows are padded to 66 floats: with stride 66 the k-fast stores of a warp (k = 0..15 for two
//     rows) land in 32 distinct banks.
// Split-K: blockIdx.z takes the slice [z*k_per_split, (z+1)*k_per_split) of K, and the store receives z, so a
// caller can write per-slice partial sums and add them in a fixed order afterwards (deterministic, no
// atomics).
// Edges: loads outside (M, K) or (K, N) read 0; stores outside (M, N) are skipped, so any size works.
#pragma once
#include <cstdint>

#include "kernels/cuda/cuda_compat.h"

namespace facet::cuda {

constexpr int kGemmBM = 64, kGemmBN = 64, kGemmBK = 16, kGemmThreads = 256;

// C(m,n) = sum over this block's K-slice of A(m,k) B(k,n): 64x64 tile per block, 4x4 per thread (see above).
template <class LoadA, class LoadB, class Store>
__global__ void __launch_bounds__(kGemmThreads)
    gemm_tiled_kernel(int M, int N, int K, int k_per_split, LoadA load_a, LoadB load_b, Store store) {
  constexpr int BM = kGemmBM, BN = kGemmBN, BK = kGemmBK, T = kGemmThreads;
  constexpr int TM = 4, TN = 4;                 // register tile; 16 x 16 threads cover 64 x 64
  FACET_SHARED_ARRAY(float, As, [BK][BM + 2]);  // A slice, stored k-major: As[k][m]
  FACET_SHARED_ARRAY(float, Bs, [BK][BN + 2]);  // B slice: Bs[k][n]
  const int tid = threadIdx.x, tx = tid % 16, ty = tid / 16;
  const int m0 = blockIdx.y * BM, n0 = blockIdx.x * BN;
  const int k_begin = blockIdx.z * k_per_split;
  const int k_end = K < k_begin + k_per_split ? K : k_begin + k_per_split;

  float acc[TM][TN];
  for (int i = 0; i < TM; ++i)
    for (int j = 0; j < TN; ++j) acc[i][j] = 0.0f;

  for (int k0 = k_begin; k0 < k_end; k0 += BK) {
#pragma unroll
    for (int r = 0; r < BM * BK / T; ++r) {
      const int idx = tid + r * T;
      const int kk = LoadA::kFastK ? idx % BK : idx / BM;
      const int m = LoadA::kFastK ? idx / BK : idx % BM;
      const int gm = m0 + m, gk = k0 + kk;
      As[kk][m] = (gm < M && gk < k_end) ? load_a(gm, gk) : 0.0f;
    }
#pragma unroll
    for (int r = 0; r < BK * BN / T; ++r) {
      const int idx = tid + r * T;
      const int kk = LoadB::kFastK ? idx % BK : idx / BN;
      const int n = LoadB::kFastK ? idx / BK : idx % BN;
      const int gn = n0 + n, gk = k0 + kk;
      Bs[kk][n] = (gn < N && gk < k_end) ? load_b(gk, gn) : 0.0f;
    }
    __syncthreads();
#pragma unroll
    for (int kk = 0; kk < BK; ++kk) {
      float a[TM], b[TN];
      for (int i = 0; i < TM; ++i) a[i] = As[kk][ty + 16 * i];
      for (int j = 0; j < TN; ++j) b[j] = Bs[kk][tx + 16 * j];
      for (int i = 0; i < TM; ++i)
        for (int j = 0; j < TN; ++j) acc[i][j] = fmaf(a[i], b[j], acc[i][j]);
    }
    __syncthreads();  // the next step overwrites As/Bs
  }

  for (int i = 0; i < TM; ++i) {
    const int gm = m0 + ty + 16 * i;
    if (gm >= M) continue;
    for (int j = 0; j < TN; ++j) {
      const int gn = n0 + tx + 16 * j;
      if (gn < N) store(gm, gn, acc[i][j], int(blockIdx.z));
    }
  }
}

// Launches gemm_tiled_kernel over an M x N output with `splits` K-slices (k_per_split a multiple of 16).
template <class LoadA, class LoadB, class Store>
void gemm_tiled(int M, int N, int K, int splits, int k_per_split, const LoadA& a, const LoadB& b,
                const Store& s) {
  if (M <= 0 || N <= 0) return;
  const dim3 grid(unsigned((N + kGemmBN - 1) / kGemmBN), unsigned((M + kGemmBM - 1) / kGemmBM),
                  unsigned(splits));
  FACET_LAUNCH((gemm_tiled_kernel<LoadA, LoadB, Store>), grid, dim3(kGemmThreads), 0, current_stream_handle(),
               M, N, K, k_per_split, a, b, s);
}

// Row-major matrices as loaders. A(m,k) is A[m*ld + k], or A[k*ld + m] when transposed; likewise B(k,n).
template <bool Trans>
struct LoadMatrixA {
  static constexpr bool kFastK = !Trans;
  const float* p;
  int ld;
  __device__ __forceinline__ float operator()(int m, int k) const {
    return Trans ? p[int64_t(k) * ld + m] : p[int64_t(m) * ld + k];
  }
};
template <bool Trans>
struct LoadMatrixB {
  static constexpr bool kFastK = Trans;
  const float* p;
  int ld;
  __device__ __forceinline__ float operator()(int k, int n) const {
    return Trans ? p[int64_t(n) * ld + k] : p[int64_t(k) * ld + n];
  }
};

// C[m,n] = alpha * acc + bias[n] (+ beta * C[m,n] unless beta == 0: then C is not read, as BLAS).
struct StoreMatrixC {
  float* c;
  int ldc;
  float alpha, beta;
  const float* bias_per_column;  // or null
  __device__ __forceinline__ void operator()(int m, int n, float acc, int) const {
    float v = alpha * acc;
    if (bias_per_column) v += bias_per_column[n];
    float& dst = c[int64_t(m) * ldc + n];
    dst = beta == 0.0f ? v : v + beta * dst;
  }
};

// sgemm on device pointers with optional per-column bias; used by gemm.cu and linear.cu.
void sgemm_bias(bool transA, bool transB, int M, int N, int K, float alpha, const float* A, int lda,
                const float* B, int ldb, float beta, float* C, int ldc, const float* bias_per_column);

}  // namespace facet::cuda
