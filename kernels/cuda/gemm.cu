// SGEMM on the device (see kernels/gemm.h): C = alpha * op(A) * op(B) + beta * C, row-major, through our
// tiled kernel (kernels/cuda/gemm_tiled.h: 64x64 block tiles, 16-deep K steps in shared memory, 4x4 per
// thread). Each C element is one thread's running sum over k in order: deterministic, no atomics.
#include "kernels/cuda/gemm_tiled.h"
#include "kernels/gemm.h"

namespace facet::cuda {

namespace {
template <bool TA, bool TB>
void run(int M, int N, int K, float alpha, const float* A, int lda, const float* B, int ldb, float beta,
         float* C, int ldc, const float* bias) {
  const StoreMatrixC store{C, ldc, alpha, beta, bias};
  const int k_span = K > 0 ? K : 1;  // K == 0 still launches: C = beta * C (+ bias)
  gemm_tiled(M, N, K, 1, k_span, LoadMatrixA<TA>{A, lda}, LoadMatrixB<TB>{B, ldb}, store);
}
}  // namespace

void sgemm_bias(bool transA, bool transB, int M, int N, int K, float alpha, const float* A, int lda,
                const float* B, int ldb, float beta, float* C, int ldc, const float* bias) {
  if (!transA && !transB)
    run<false, false>(M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, bias);
  else if (!transA && transB)
    run<false, true>(M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, bias);
  else if (transA && !transB)
    run<true, false>(M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, bias);
  else
    run<true, true>(M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, bias);
}

// C(M,N) = alpha * op(A)(M,K) * op(B)(K,N) + beta * C;  beta == 0 overwrites C without reading it.
void sgemm(bool transA, bool transB, int M, int N, int K, float alpha, const float* A, int lda,
           const float* B, int ldb, float beta, float* C, int ldc) {
  sgemm_bias(transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, nullptr);
}

}  // namespace facet::cuda
