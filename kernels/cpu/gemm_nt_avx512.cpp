// C = A * B^T + beta * C with the reduction dimension contiguous in both operands (see gemm_microkernel.h):
// the shape of conv2d's weight gradient in NCHW, dW (K, CRS) += dY (K, pixels) * col (CRS, pixels)^T, where the
// pixels are the innermost dimension of dY and of col alike. The blocked sgemm has to transpose both into
// k-major panels first; here nothing is packed. A 4 x 4 tile of C keeps 16 zmm accumulators of 16 partial dot
// products each, and every step of 16 k loads 4 rows of A and 4 of B (8 loads) for 16 FMAs. Once per kc slice
// the accumulators are reduced across lanes, in a fixed order.
//   C[i, j] = beta * C[i, j] + sum_k A[i*lda + k] * B[j*ldb + k]
// One thread; results depend on the shape only. AVX-512 only (the region of avx512_region_begin.h); without it
// sgemm_nt returns false and the caller takes the blocked sgemm.
#include "kernels/cpu/gemm_microkernel.h"

#include "kernels/cpu/avx512_region_begin.h"
#if defined(FACET_AVX512_REGION)

namespace facet::cpu::gemm_detail {
namespace {

using avx512::tail_mask;

constexpr int kTile = 4;     // 4 x 4 tile of C: 16 accumulators + 8 loaded rows = 24 of the 32 zmm registers
constexpr int kSlice = 1024;  // k per slice: the tile's 4 rows of A (16 KiB) stay in L1 while B streams by

// The four lane sums of a[0..3], as one __m128 (lane j = sum of a[j]).
inline __m128 sum4(const __m512& a0, const __m512& a1, const __m512& a2, const __m512& a3) {
  auto half = [](const __m512& v) {  // 16 -> 8 lanes
    return _mm256_add_ps(_mm512_castps512_ps256(v), _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1)));
  };
  const __m256 h01 = _mm256_hadd_ps(half(a0), half(a1));  // a0 a0 a1 a1 | a0 a0 a1 a1 (pairs)
  const __m256 h23 = _mm256_hadd_ps(half(a2), half(a3));
  const __m256 h = _mm256_hadd_ps(h01, h23);  // a0 a1 a2 a3 | a0 a1 a2 a3
  return _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
}

// One tile: rows i < m of A and j < n of B (m, n <= 4; missing rows repeat row 0 and are not stored), depth
// [k0, k0+kc); C tile = (first ? beta * C : C) + the sums (beta == 0 on the first slice: C is not read).
void tile(const float* A, int lda, const float* B, int ldb, float* C, int ldc, int m, int n, int k0, int kc,
          float beta, bool first) {
  const float* a[kTile];
  const float* b[kTile];
  for (int i = 0; i < kTile; ++i) {
    a[i] = A + static_cast<long>(i < m ? i : 0) * lda + k0;
    b[i] = B + static_cast<long>(i < n ? i : 0) * ldb + k0;
  }
  __m512 acc[kTile][kTile];
#pragma GCC unroll 4
  for (int i = 0; i < kTile; ++i)
#pragma GCC unroll 4
    for (int j = 0; j < kTile; ++j) acc[i][j] = _mm512_setzero_ps();
  for (int k = 0; k < kc; k += 16) {
    const __mmask16 mask = tail_mask(k, kc);
    __m512 va[kTile], vb[kTile];
#pragma GCC unroll 4
    for (int i = 0; i < kTile; ++i) {
      va[i] = _mm512_maskz_loadu_ps(mask, a[i] + k);
      vb[i] = _mm512_maskz_loadu_ps(mask, b[i] + k);
    }
#pragma GCC unroll 4
    for (int i = 0; i < kTile; ++i)
#pragma GCC unroll 4
      for (int j = 0; j < kTile; ++j) acc[i][j] = _mm512_fmadd_ps(va[i], vb[j], acc[i][j]);
  }
  const __mmask8 store = static_cast<__mmask8>((1u << n) - 1u);
  for (int i = 0; i < m; ++i) {
    float* c = C + static_cast<long>(i) * ldc;
    __m128 s = sum4(acc[i][0], acc[i][1], acc[i][2], acc[i][3]);
    if (!first)
      s = _mm_add_ps(s, _mm_maskz_loadu_ps(store, c));
    else if (beta != 0.0f)
      s = _mm_fmadd_ps(_mm_set1_ps(beta), _mm_maskz_loadu_ps(store, c), s);
    _mm_mask_storeu_ps(c, store, s);
  }
}

}  // namespace

void sgemm_nt_avx512_impl(int M, int N, int K, const float* A, int lda, const float* B, int ldb, float beta, float* C,
                          int ldc) {
  for (int k0 = 0; k0 < K; k0 += kSlice) {
    const int kc = K - k0 < kSlice ? K - k0 : kSlice;
    for (int i = 0; i < M; i += kTile)
      for (int j = 0; j < N; j += kTile)
        tile(A + static_cast<long>(i) * lda, lda, B + static_cast<long>(j) * ldb, ldb,
             C + static_cast<long>(i) * ldc + j, ldc, M - i < kTile ? M - i : kTile, N - j < kTile ? N - j : kTile,
             k0, kc, beta, k0 == 0);
  }
}

}  // namespace facet::cpu::gemm_detail
#endif
#include "kernels/cpu/avx512_region_end.h"

namespace facet::cpu::gemm_detail {
bool sgemm_nt(int M, int N, int K, const float* A, int lda, const float* B, int ldb, float beta, float* C, int ldc) {
#if defined(FACET_AVX512_REGION)
  if (!avx512_kernel() || M <= 0 || N <= 0 || K <= 0) return false;
  sgemm_nt_avx512_impl(M, N, K, A, lda, B, ldb, beta, C, ldc);
  return true;
#else
  (void)M, (void)N, (void)K, (void)A, (void)lda, (void)B, (void)ldb, (void)beta, (void)C, (void)ldc;
  return false;
#endif
}
}  // namespace facet::cpu::gemm_detail
