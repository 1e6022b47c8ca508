// AVX-512 micro-kernel and packing routines for the blocked sgemm (see gemm_microkernel.h for the layouts).
// Compiled for AVX-512 inside the region of avx512_region_begin.h, so a FACET_NATIVE=OFF build still runs
// everywhere: avx512_kernel() hands these out only when the CPU reports AVX-512F at run time.
//
// Register tile MR x NR = 8 x 48: 24 zmm accumulators, 3 zmm of B per k step and one broadcast of A at a
// time (28 of the 32 zmm registers). Each k step issues 24 FMAs (12 cycles on two FMA ports) against 3 vector
// loads of B (from L1) and 8 broadcasts of A (from L2): well inside the 2 loads/cycle the core sustains.
// MR = 8 divides the output-channel counts of our convolutions (32, 64, 128), so no rows are wasted there.
#include "kernels/cpu/gemm_microkernel.h"

#include "kernels/cpu/avx512_region_begin.h"
#if defined(FACET_AVX512_REGION)

namespace facet::cpu::gemm_detail {
namespace {

using avx512::tail_mask;
using avx512::transpose16x16;

// C tile (m x n valid of MR x NV*16) = acc + beta*C (beta == 0: C not read).
template <int MR, int NV>
inline void store_tile(__m512 (&acc)[MR][NV], float* C, int ldc, int m, int n, float beta) {
  if (m == MR && n == NV * 16) {
    if (beta == 0.0f) {
#pragma GCC unroll 16
      for (int i = 0; i < MR; ++i)
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v) _mm512_storeu_ps(C + i * ldc + v * 16, acc[i][v]);
    } else if (beta == 1.0f) {
#pragma GCC unroll 16
      for (int i = 0; i < MR; ++i)
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v) {
          float* c = C + i * ldc + v * 16;
          _mm512_storeu_ps(c, _mm512_add_ps(acc[i][v], _mm512_loadu_ps(c)));
        }
    } else {
      const __m512 b = _mm512_set1_ps(beta);
#pragma GCC unroll 16
      for (int i = 0; i < MR; ++i)
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v) {
          float* c = C + i * ldc + v * 16;
          _mm512_storeu_ps(c, _mm512_fmadd_ps(b, _mm512_loadu_ps(c), acc[i][v]));
        }
    }
    return;
  }
  const __m512 b = _mm512_set1_ps(beta);
#pragma GCC unroll 16
  for (int i = 0; i < MR; ++i) {
    if (i >= m) break;
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) {
      const __mmask16 k = tail_mask(v * 16, n);
      float* c = C + i * ldc + v * 16;
      __m512 r = acc[i][v];
      if (beta != 0.0f) r = _mm512_fmadd_ps(b, _mm512_maskz_loadu_ps(k, c), r);
      _mm512_mask_storeu_ps(c, k, r);
    }
  }
}

// One MR x (NV*16) tile: acc[i][v] += Ap[k*MR + i] * Bp[k*NR + 16v .. 16v+15] over k < kc.
template <int MR, int NV>
void micro_kernel(int kc, const float* __restrict Ap, const float* __restrict Bp, float* C, int ldc, int m,
                  int n, float beta) {
  constexpr int NR = NV * 16;
  __m512 acc[MR][NV];
#pragma GCC unroll 16
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) acc[i][v] = _mm512_setzero_ps();
  // Pull the C tile toward L1 while the FMAs run (its rows are ldc apart: the prefetchers miss them).
#pragma GCC unroll 16
  for (int i = 0; i < MR; ++i)
    if (i < m) {
      _mm_prefetch(reinterpret_cast<const char*>(C + i * ldc), _MM_HINT_T0);
      _mm_prefetch(reinterpret_cast<const char*>(C + i * ldc + NR - 1), _MM_HINT_T0);
    }
#pragma GCC unroll 2
  for (int k = 0; k < kc; ++k) {
    __m512 b[NV];
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) b[v] = _mm512_load_ps(Bp + v * 16);
    _mm_prefetch(reinterpret_cast<const char*>(Ap + 8 * MR), _MM_HINT_T0);
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i) {
      const __m512 a = _mm512_set1_ps(Ap[i]);
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) acc[i][v] = _mm512_fmadd_ps(a, b[v], acc[i][v]);
    }
    Ap += MR;
    Bp += NR;
  }
  store_tile<MR, NV>(acc, C, ldc, m, n, beta);
}

// Panel p: dst[p*P*kc + k*P + r] = scale * src[(p*P + r)*ld + k]: 16 rows x 16 k at a time through an
// in-register transpose.
void pack_strided(float* dst, const float* src, int ld, int rows, int kc, int P, float scale) {
  const __m512 s = _mm512_set1_ps(scale);
  const int panels = (rows + P - 1) / P;
  for (int p = 0; p < panels; ++p) {
    float* pdst = dst + static_cast<long>(p) * P * kc;
    for (int r0 = 0; r0 < P; r0 += 16) {
      const __mmask16 store_mask = tail_mask(r0, P);
      for (int k0 = 0; k0 < kc; k0 += 16) {
        const __mmask16 kmask = tail_mask(k0, kc);
        __m512 blk[16];
#pragma GCC unroll 16
        for (int i = 0; i < 16; ++i) {
          const int r = p * P + r0 + i;
          blk[i] = r < rows && r0 + i < P
                       ? _mm512_mul_ps(s, _mm512_maskz_loadu_ps(kmask, src + static_cast<long>(r) * ld + k0))
                       : _mm512_setzero_ps();
        }
        transpose16x16(blk);
        const int kn = kc - k0 < 16 ? kc - k0 : 16;
        for (int i = 0; i < kn; ++i)
          _mm512_mask_storeu_ps(pdst + static_cast<long>(k0 + i) * P + r0, store_mask, blk[i]);
      }
    }
  }
}

// Panel p: dst[p*P*kc + k*P + r] = scale * src[k*ld + p*P + r], walking each source row once per k.
void pack_contiguous(float* dst, const float* src, int ld, int rows, int kc, int P, float scale) {
  const __m512 s = _mm512_set1_ps(scale);
  const int panels = (rows + P - 1) / P;
  const long panel_stride = static_cast<long>(P) * kc;
  for (int k = 0; k < kc; ++k) {
    const float* in = src + static_cast<long>(k) * ld;
    float* out = dst + static_cast<long>(k) * P;
    for (int p = 0; p < panels; ++p, in += P, out += panel_stride) {
      const int left = rows - p * P;
      for (int r0 = 0; r0 < P; r0 += 16) {
        const __m512 v = _mm512_mul_ps(s, _mm512_maskz_loadu_ps(tail_mask(r0, left < P ? left : P), in + r0));
        _mm512_mask_storeu_ps(out + r0, tail_mask(r0, P), v);
      }
    }
  }
}

}  // namespace

extern const GemmKernel kAvx512Kernel;
// kc = 256: the 256 x 48 B panel (48 KiB) is re-read from L1/L2 for every A panel; mc x kc A block 512 KiB
// and the per-thread kc x nc B block 1 MiB stay in the 2 MiB L2.
const GemmKernel kAvx512Kernel{"avx512-8x48", 8, 48, 256, 512, 1008, &micro_kernel<8, 3>, &pack_strided,
                               &pack_contiguous};

}  // namespace facet::cpu::gemm_detail
#endif
#include "kernels/cpu/avx512_region_end.h"

namespace facet::cpu::gemm_detail {
#if defined(FACET_AVX512_REGION)
const GemmKernel* avx512_kernel() {
  // Checked outside the AVX-512 region: this function must run on any x86-64.
  static const bool ok = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
                         __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl");
  return ok ? &kAvx512Kernel : nullptr;
}
#else
const GemmKernel* avx512_kernel() { return nullptr; }
#endif
}  // namespace facet::cpu::gemm_detail
