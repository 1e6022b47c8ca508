// sgemm of every backend against facet::naive::sgemm (itself checked on a hand case): odd shapes, all
// four transpose combinations, padded leading dimensions, several (alpha, beta), beta == 0 over a C full of
// NaN, and K == 0. (tests/kernels/test_sgemm_fast.cpp tests the CPU kernel's internals in more depth.)
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <vector>

#include "kernels/gemm.h"
#include "tests/common/check.h"
#include "tests/kernels/backend.h"

namespace facet::test {
namespace {

using Vec = std::vector<float>;

TEST_CASE("naive::sgemm: hand-computed 2x3 * 3x2, stored plain and transposed") {
  // [[1,2,3],[4,5,6]] * [[7,8],[9,10],[11,12]] = [[58,64],[139,154]]
  const Vec A = {1, 2, 3, 4, 5, 6}, At = {1, 4, 2, 5, 3, 6}, B = {7, 8, 9, 10, 11, 12}, Bt = {7, 9, 11, 8, 10, 12};
  const Vec expect = {58, 64, 139, 154};
  for (int ta = 0; ta < 2; ++ta)
    for (int tb = 0; tb < 2; ++tb) {
      INFO("transA " << ta << " transB " << tb);
      Vec C(4, 1.0f);
      naive::sgemm(ta, tb, 2, 2, 3, 1.0f, ta ? At.data() : A.data(), ta ? 2 : 3, tb ? Bt.data() : B.data(),
                           tb ? 3 : 2, 0.0f, C.data(), 2);
      CHECK_ALL_CLOSE(C, expect, 0.0, 0.0);
      // alpha = 2, beta = -1 over C = expect:  2*AB - AB = AB
      naive::sgemm(ta, tb, 2, 2, 3, 2.0f, ta ? At.data() : A.data(), ta ? 2 : 3, tb ? Bt.data() : B.data(),
                           tb ? 3 : 2, -1.0f, C.data(), 2);
      CHECK_ALL_CLOSE(C, expect, 0.0, 0.0);
    }
}

struct GemmShape {
  int M, N, K;
};

// Runs the backend's sgemm on one case and compares the whole C buffer (padding columns included, which must
// keep their values) with naive::sgemm. Tolerance: atol = 1e-6 * (K + 1) (rounding of K products of values
// in [-1, 1] summed in float in any order), rtol = 1e-5.
void check_gemm(const KernelTable& k, bool tA, bool tB, GemmShape s, float alpha, float beta, int pad, bool nan_c,
                uint64_t seed) {
  const int M = s.M, N = s.N, K = s.K;
  const int lda = (tA ? M : K) + pad, ldb = (tB ? K : N) + pad, ldc = N + pad;
  const Vec A = random_uniform(size_t(tA ? K : M) * size_t(lda), seed);
  const Vec B = random_uniform(size_t(tB ? N : K) * size_t(ldb), seed + 1);
  Vec C = random_uniform(size_t(M) * size_t(ldc), seed + 2);
  Vec ref = C;
  if (nan_c)  // only the M x N window: the padding must stay as it is anyway
    for (int i = 0; i < M; ++i)
      for (int j = 0; j < N; ++j) C[size_t(i) * size_t(ldc) + size_t(j)] = std::numeric_limits<float>::quiet_NaN();
  naive::sgemm(tA, tB, M, N, K, alpha, A.data(), lda, B.data(), ldb, beta, ref.data(), ldc);
  DeviceArray<float> dA(k, A), dB(k, B), dC(k, C);
  k.sgemm(tA, tB, M, N, K, alpha, dA.get(), lda, dB.get(), ldb, beta, dC.get(), ldc);
  INFO("M " << M << " N " << N << " K " << K << " transA " << tA << " transB " << tB << " alpha " << alpha << " beta "
            << beta << " pad " << pad << (nan_c ? " (C full of NaN)" : ""));
  CHECK_ALL_CLOSE(dC.to_host(), ref, 1e-6 * (K + 1), 1e-5);
}

TEST_CASE("sgemm vs naive::sgemm: odd shapes, all transposes, alpha/beta, padded leading dimensions") {
  const GemmShape shapes[] = {{1, 1, 1}, {3, 5, 7}, {17, 13, 29}, {64, 33, 1}, {5, 1, 40}, {1, 70, 9},
                              {67, 131, 300}, {129, 47, 65}, {50, 50, 260}};
  const float ab[][2] = {{1.0f, 0.0f}, {1.0f, 1.0f}, {0.5f, -0.75f}, {-1.25f, 2.0f}};
  for (Backend be : backends_under_test()) {
    INFO("backend " << backend_name(be));
    const KernelTable& k = kernel_table(be);
    uint64_t seed = 1;
    for (const GemmShape& s : shapes)
      for (int t = 0; t < 4; ++t)
        for (const auto& a : ab) check_gemm(k, t & 1, t & 2, s, a[0], a[1], (t + s.M) % 3, false, seed += 3);
  }
}

TEST_CASE("sgemm: beta == 0 overwrites C without reading it (NaN does not leak), K == 0 scales C by beta") {
  for (Backend be : backends_under_test()) {
    INFO("backend " << backend_name(be));
    const KernelTable& k = kernel_table(be);
    for (int t = 0; t < 4; ++t) {
      check_gemm(k, t & 1, t & 2, {9, 14, 11}, 1.0f, 0.0f, 2, true, 100 + t);
      check_gemm(k, t & 1, t & 2, {33, 40, 70}, -0.5f, 0.0f, 1, true, 200 + t);
    }
    check_gemm(k, false, false, {4, 6, 0}, 1.0f, 0.5f, 1, false, 300);  // C = 0.5 C
    check_gemm(k, false, true, {4, 6, 0}, 1.0f, 0.0f, 0, true, 301);    // C = 0
  }
}

}  // namespace
}  // namespace facet::test
