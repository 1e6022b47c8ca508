// SGEMM, row-major (as cblas with CblasRowMajor):  C = alpha * op(A) * op(B) + beta * C
// op(A) is (M,K): A itself (lda >= K) or, with transA, A^T of an (K,M) array (lda >= M); likewise op(B) (K,N).
// beta == 0 overwrites C without reading it (NaNs in C do not leak through), as BLAS does.
// The building block of linear and conv2d (im2col / implicit GEMM).
#pragma once

namespace facet {
// The definition in plain loops (kernels/naive/gemm.cpp): read these first.
namespace naive {
void sgemm(bool transA, bool transB, int M, int N, int K, float alpha, const float* A, int lda,
           const float* B, int ldb, float beta, float* C, int ldc);
}  // namespace naive

// The same functions, fast: kernels/cpu/ (threads, blocking) and kernels/cuda/gemm.cu (the GPU).
namespace cpu {
decltype(naive::sgemm) sgemm;
}  // namespace cpu
namespace cuda {
decltype(naive::sgemm) sgemm;
}  // namespace cuda
}  // namespace facet
