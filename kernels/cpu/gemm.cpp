// Temporary portable SGEMM (C = alpha * op(A) * op(B) + beta * C, row-major). Rows of C are split across
// OpenMP threads; each row is built with the i-k-j loop order so the innermost loop streams contiguous rows of
// B and C (vectorisable). op(A)/op(B) transposes are handled by packing the transposed operand once.
// To be replaced by the fast AVX-512 kernel (issue 7).
#include <cstddef>
#include <vector>

#include "kernels/gemm.h"

namespace facet::cpu {

void sgemm(bool transA, bool transB, int M, int N, int K, float alpha, const float* A, int lda, const float* B,
           int ldb, float beta, float* C, int ldc) {
  if (M <= 0 || N <= 0) return;
  // Pack op(B) as a contiguous (K, N) row-major array when B is transposed.
  std::vector<float> Bpacked;  // (K, N)
  const float* Bk = B;
  int ldbk = ldb;
  if (transB && K > 0) {
    Bpacked.resize((size_t)K * N);
    for (int j = 0; j < N; ++j)
      for (int k = 0; k < K; ++k) Bpacked[(size_t)k * N + j] = B[(size_t)j * ldb + k];
    Bk = Bpacked.data();
    ldbk = N;
  }
#pragma omp parallel for schedule(static) if ((long)M * N * K > 32768)
  for (int i = 0; i < M; ++i) {
    float* c = C + (size_t)i * ldc;
    if (beta == 0.0f) {
      for (int j = 0; j < N; ++j) c[j] = 0.0f;
    } else if (beta != 1.0f) {
      for (int j = 0; j < N; ++j) c[j] *= beta;
    }
    for (int k = 0; k < K; ++k) {
      const float a = alpha * (transA ? A[(size_t)k * lda + i] : A[(size_t)i * lda + k]);  // alpha*op(A)[i][k]
      const float* b = Bk + (size_t)k * ldbk;
      for (int j = 0; j < N; ++j) c[j] += a * b[j];
    }
  }
}

}  // namespace facet::cpu
