// The textbook SGEMM (kernels/gemm.h): C = alpha * op(A) * op(B) + beta * C, row-major, one dot product per
// output element accumulated in double. Slow on purpose: the blocked kernels/cpu/gemm.cpp is tested against it.
#include "kernels/gemm.h"

#include <cstdint>

namespace facet::naive {

void sgemm(bool transA, bool transB, int M, int N, int K, float alpha, const float* A, int lda, const float* B,
           int ldb, float beta, float* C, int ldc) {
  for (int i = 0; i < M; ++i) {
    for (int j = 0; j < N; ++j) {
      double acc = 0.0;
      for (int k = 0; k < K; ++k) {
        const float a = transA ? A[int64_t(k) * lda + i] : A[int64_t(i) * lda + k];  // op(A)[i][k]
        const float b = transB ? B[int64_t(j) * ldb + k] : B[int64_t(k) * ldb + j];  // op(B)[k][j]
        acc += double(a) * double(b);
      }
      float& c = C[int64_t(i) * ldc + j];
      // beta == 0 overwrites: C may hold NaN or garbage, which must not leak into the result.
      c = beta == 0.0f ? float(alpha * acc) : float(alpha * acc + double(beta) * c);
    }
  }
}

}  // namespace facet::naive
