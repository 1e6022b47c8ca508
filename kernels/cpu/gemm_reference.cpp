// The readable reference SGEMM: C = alpha * op(A) * op(B) + beta * C, row-major, one dot product per output
// accumulated in double. Slow on purpose; the fast sgemm (gemm.cpp) is tested against it.
#include "kernels/gemm.h"

namespace facet::cpu {

void sgemm_reference(bool transA, bool transB, int M, int N, int K, float alpha, const float* A, int lda,
                     const float* B, int ldb, float beta, float* C, int ldc) {
  for (int i = 0; i < M; ++i) {
    for (int j = 0; j < N; ++j) {
      double acc = 0.0;
      for (int k = 0; k < K; ++k) {
        const float a = transA ? A[(long)k * lda + i] : A[(long)i * lda + k];  // op(A)[i][k]
        const float b = transB ? B[(long)j * ldb + k] : B[(long)k * ldb + j];  // op(B)[k][j]
        acc += (double)a * (double)b;
      }
      float& c = C[(long)i * ldc + j];
      // beta == 0 overwrites: C may hold NaN/garbage that must not leak into the result.
      c = beta == 0.0f ? (float)(alpha * acc) : (float)(alpha * acc + (double)beta * c);
    }
  }
}

}  // namespace facet::cpu
