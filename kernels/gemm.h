// SGEMM, row-major (as cblas with CblasRowMajor):  C = alpha * op(A) * op(B) + beta * C
// op(A) is (M,K): A itself (lda >= K) or, with transA, A^T of an (K,M) array (lda >= M); likewise op(B) (K,N).
// beta == 0 overwrites C without reading it (NaNs in C do not leak through), as BLAS does.
// The building block of linear and conv2d (im2col / implicit GEMM).
#pragma once

#define FACET_GEMM_API                                                                                 \
  void sgemm(bool transA, bool transB, int M, int N, int K, float alpha, const float* A, int lda,        \
             const float* B, int ldb, float beta, float* C, int ldc);

namespace facet {
namespace cpu {
FACET_GEMM_API
// The plain triple loop, kept as the readable reference the fast sgemm is tested against.
void sgemm_reference(bool transA, bool transB, int M, int N, int K, float alpha, const float* A, int lda,
                     const float* B, int ldb, float beta, float* C, int ldc);
}  // namespace cpu
namespace cuda { FACET_GEMM_API }
}  // namespace facet
#undef FACET_GEMM_API
