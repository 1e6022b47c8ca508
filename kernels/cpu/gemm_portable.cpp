// Portable micro-kernel and packing routines for the blocked sgemm (layouts in gemm_microkernel.h): plain
// C++ on fixed-size arrays, which compilers vectorize for whatever SIMD the build targets. Used where the
// CPU lacks AVX-512, and tested on every machine against naive::sgemm.
#include "kernels/cpu/gemm_microkernel.h"

namespace facet::cpu::gemm_detail {
namespace {

constexpr int kMR = 4;
constexpr int kNR = 16;

// C tile (m x n of MR x NR) = sum_k Ap[k*MR + i] * Bp[k*NR + j] + beta * C.
void micro_kernel(int kc, const float* __restrict Ap, const float* __restrict Bp, float* C, int ldc, int m,
                  int n, float beta) {
  float acc[kMR][kNR] = {};
  for (int k = 0; k < kc; ++k) {
    const float* a = Ap + k * kMR;
    const float* b = Bp + k * kNR;
    for (int i = 0; i < kMR; ++i)
      for (int j = 0; j < kNR; ++j) acc[i][j] += a[i] * b[j];
  }
  for (int i = 0; i < m; ++i) {
    float* c = C + static_cast<long>(i) * ldc;
    if (beta == 0.0f) {
      for (int j = 0; j < n; ++j) c[j] = acc[i][j];
    } else {
      for (int j = 0; j < n; ++j) c[j] = acc[i][j] + beta * c[j];
    }
  }
}

// Panel p: dst[p*P*kc + k*P + r] = scale * src[(p*P + r)*ld + k]; tiles of 8 k keep both sides in L1.
void pack_strided(float* dst, const float* src, int ld, int rows, int kc, int P, float scale) {
  const int panels = (rows + P - 1) / P;
  for (int p = 0; p < panels; ++p) {
    float* pdst = dst + static_cast<long>(p) * P * kc;
    for (int k0 = 0; k0 < kc; k0 += 8) {
      const int k1 = k0 + 8 < kc ? k0 + 8 : kc;
      for (int r = 0; r < P; ++r) {
        const int row = p * P + r;
        if (row < rows) {
          const float* in = src + static_cast<long>(row) * ld;
          for (int k = k0; k < k1; ++k) pdst[static_cast<long>(k) * P + r] = scale * in[k];
        } else {
          for (int k = k0; k < k1; ++k) pdst[static_cast<long>(k) * P + r] = 0.0f;
        }
      }
    }
  }
}

// Panel p: dst[p*P*kc + k*P + r] = scale * src[k*ld + p*P + r].
void pack_contiguous(float* dst, const float* src, int ld, int rows, int kc, int P, float scale) {
  const int panels = (rows + P - 1) / P;
  for (int k = 0; k < kc; ++k) {
    const float* in = src + static_cast<long>(k) * ld;
    for (int p = 0; p < panels; ++p) {
      float* out = dst + static_cast<long>(p) * P * kc + static_cast<long>(k) * P;
      for (int r = 0; r < P; ++r) {
        const int row = p * P + r;
        out[r] = row < rows ? scale * in[row] : 0.0f;
      }
    }
  }
}

}  // namespace

const GemmKernel& portable_kernel() {
  static const GemmKernel kernel{"portable-4x16", kMR, kNR, 256, 256, 1024, &micro_kernel, &pack_strided,
                                 &pack_contiguous};
  return kernel;
}

}  // namespace facet::cpu::gemm_detail
