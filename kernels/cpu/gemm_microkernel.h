// Internal to kernels/cpu/gemm*.cpp (and the bench/tests that pick a kernel): the register-blocked
// micro-kernels the blocked sgemm driver (gemm.cpp) calls, and how it packs operands for them.
//
// Packed layouts (BLIS style), for a kc-deep slice of op(A) (M,K) and op(B) (K,N):
//   A panel: MR rows of op(A)  -> Ap[k*MR + i]   (k < kc, i < MR; rows past M are zero)
//   B panel: NR cols of op(B)  -> Bp[k*NR + j]   (k < kc, j < NR; columns past N are zero)
// A micro-kernel then computes one MR x NR tile of C from one A panel and one B panel:
//   C[i, j] = sum_k Ap[k*MR + i] * Bp[k*NR + j]  +  beta * C[i, j]      (i < m <= MR, j < n <= NR)
// beta == 0 overwrites C without reading it (so NaN/Inf in C never leak through).
#pragma once

namespace facet::cpu::gemm_detail {

using MicroKernelFn = void (*)(int kc, const float* Ap, const float* Bp, float* C, int ldc, int m, int n,
                               float beta);

// Packs `rows` vectors of length kc into ceil(rows/P) panels of P-wide interleaved form: panel p holds
// dst[p*P*kc + k*P + r] = scale * src(p*P + r, k), zero where p*P + r >= rows.
// "Strided" reads src(r, k) = src[r*ld + k] (a transpose: A, or B^T);
// "contiguous" reads src(r, k) = src[k*ld + r] (a copy of rows: A^T, or B), one whole source row per k so
// the hardware prefetcher sees long sequential streams.
using PackFn = void (*)(float* dst, const float* src, int ld, int rows, int kc, int P, float scale);

struct GemmKernel {
  const char* name;
  int mr, nr;          // register tile
  int kc, mc, nc;      // cache blocks: kc x nr B panel in L1, mc x kc A block and kc x nc B block in L2
  MicroKernelFn micro;
  PackFn pack_strided;
  PackFn pack_contiguous;
};

// The portable kernel (plain C++, any x86-64 or other CPU).
const GemmKernel& portable_kernel();
// The AVX-512 kernel, or null when this CPU lacks AVX-512F (checked once with __builtin_cpu_supports).
const GemmKernel* avx512_kernel();
// The kernel sgemm uses: AVX-512 when the CPU has it, else portable. FACET_SGEMM_KERNEL=portable forces the
// fallback (for testing and benchmarking it).
const GemmKernel& active_kernel();

// sgemm with an explicit kernel (tests run every kernel against naive::sgemm through this).
void sgemm_with(const GemmKernel& kernel, bool transA, bool transB, int M, int N, int K, float alpha,
                const float* A, int lda, const float* B, int ldb, float beta, float* C, int ldc);

// op(B) produced by a function instead of read from a matrix: pack(ctx, dst, k0, kc, j0, cols, nr) writes the
// ceil(cols/nr) B panels of op(B) rows [k0, k0+kc) x columns [j0, j0+cols) in the layout above, zero-padded to
// whole panels. conv2d uses it to unroll im2col straight into the panels (kernels/cpu/conv2d_pack.h), so the
// unrolled matrix is never stored.
struct BPacker {
  void (*pack)(const void* ctx, float* dst, int k0, int kc, int j0, int cols, int nr);
  const void* ctx;
};

// C = alpha * op(A) * op(B) + beta * C with op(B) (K,N) from `b` (same blocking and threads as sgemm_with).
void sgemm_packed_b(const GemmKernel& kernel, bool transA, int M, int N, int K, float alpha, const float* A, int lda,
                    const BPacker& b, float beta, float* C, int ldc);

// C (M,N) = A (M,K) * B (N,K)^T + beta * C on the calling thread, rows of A and B contiguous along K, without
// packing (kernels/cpu/gemm_nt_avx512.cpp: 4 x 4 tiles of dot products; for conv2d's weight gradient).
// Returns false, computing nothing, when this CPU lacks AVX-512 or a dimension is empty.
bool sgemm_nt(int M, int N, int K, const float* A, int lda, const float* B, int ldb, float beta, float* C, int ldc);

}  // namespace facet::cpu::gemm_detail
