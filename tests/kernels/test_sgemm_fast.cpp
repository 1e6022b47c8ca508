// The blocked sgemm (every micro-kernel this CPU can run, and the public entry point) against the plain
// naive::sgemm: odd and edge shapes around the register tiles and cache blocks, all transposes,
// padded leading dimensions, alpha/beta including beta == 0 over NaN, 1 and 2 threads, and calls from
// inside a parallel region. Deterministic inputs (seeded mt19937).
#include <omp.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <cstdio>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "kernels/cpu/gemm_microkernel.h"
#include "tests/common/check.h"
#include "kernels/gemm.h"

namespace {

using facet::cpu::gemm_detail::GemmKernel;

struct Shape {
  int M, N, K;
};

// The valid m x n entries with the project's rule (tests/common/check.h: |x - ref| <= atol + rtol*|ref|, NaN/Inf
// fail); the padding columns between n and ld must be untouched (they hold the same values as the reference's).
bool close_to(const std::vector<float>& got, const std::vector<float>& ref, int rows, int n, int ld, float atol,
              float rtol, const std::string& what) {
  std::vector<float> g, r;
  int pad_bad = 0;
  for (int i = 0; i < rows; ++i)
    for (int j = 0; j < ld; ++j) {
      const float x = got[static_cast<size_t>(i) * ld + j], e = ref[static_cast<size_t>(i) * ld + j];
      if (j < n) {
        g.push_back(x);
        r.push_back(e);
      } else if (!(x == e || (std::isnan(x) && std::isnan(e))) && ++pad_bad <= 3) {
        std::printf("  %s: padding C[%d,%d] changed to %g from %g\n", what.c_str(), i, j, x, e);
      }
    }
  const facet::test::CloseReport rep = facet::test::all_close(g, r, atol, rtol);
  if (!rep.ok) std::printf("  %s (entries row-major over %d x %d):\n%s\n", what.c_str(), rows, n, rep.text.c_str());
  return rep.ok && pad_bad == 0;
}

// Runs `kernel` (null: the public facet::cpu::sgemm) on one case and compares with naive::sgemm.
bool check_case(const GemmKernel* kernel, bool tA, bool tB, Shape s, float alpha, float beta, int pad,
                unsigned seed) {
  const int M = s.M, N = s.N, K = s.K;
  // Leading dimensions with `pad` extra columns; op(A) is (M,K): A is (M,K) or, transposed, (K,M).
  const int lda = (tA ? M : K) + pad, ldb = (tB ? K : N) + pad, ldc = N + pad;
  std::vector<float> A(static_cast<size_t>(tA ? K : M) * lda), B(static_cast<size_t>(tB ? N : K) * ldb);
  std::vector<float> C(static_cast<size_t>(M) * ldc);
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> uni(-1.0f, 1.0f);
  for (auto& x : A) x = uni(rng);
  for (auto& x : B) x = uni(rng);
  for (auto& x : C) x = uni(rng);
  if (beta == 0.0f)  // beta == 0 must overwrite: NaN in C may not leak through
    for (int i = 0; i < M; ++i)
      for (int j = 0; j < N; ++j) C[static_cast<size_t>(i) * ldc + j] = std::numeric_limits<float>::quiet_NaN();
  std::vector<float> ref = C;
  facet::naive::sgemm(tA, tB, M, N, K, alpha, A.data(), lda, B.data(), ldb, beta, ref.data(), ldc);
  if (kernel)
    facet::cpu::gemm_detail::sgemm_with(*kernel, tA, tB, M, N, K, alpha, A.data(), lda, B.data(), ldb, beta,
                                        C.data(), ldc);
  else
    facet::cpu::sgemm(tA, tB, M, N, K, alpha, A.data(), lda, B.data(), ldb, beta, C.data(), ldc);
  const std::string what = std::string(kernel ? kernel->name : "sgemm") + " tA=" + std::to_string(tA) +
                           " tB=" + std::to_string(tB) + " M=" + std::to_string(M) + " N=" + std::to_string(N) +
                           " K=" + std::to_string(K) + " alpha=" + std::to_string(alpha) +
                           " beta=" + std::to_string(beta) + " threads=" + std::to_string(omp_get_max_threads());
  // float accumulation over K terms of size <= 1: error grows like K * eps in the worst case.
  return close_to(C, ref, M, N, ldc, 2e-6f * (K + 1), 1e-5f, what);
}

std::vector<const GemmKernel*> kernels_here() {
  std::vector<const GemmKernel*> ks{&facet::cpu::gemm_detail::portable_kernel()};
  if (const GemmKernel* k = facet::cpu::gemm_detail::avx512_kernel()) ks.push_back(k);
  return ks;
}

// Restores the OpenMP thread count a test changed.
struct ThreadsGuard {
  int saved = omp_get_max_threads();
  explicit ThreadsGuard(int n) { omp_set_num_threads(n); }
  ~ThreadsGuard() { omp_set_num_threads(saved); }
};

}  // namespace

TEST_CASE("fast sgemm matches the reference on odd and edge shapes, all transposes", "[sgemm][fast]") {
  const std::vector<Shape> shapes = {{1, 1, 1},    {1, 7, 33},    {7, 1, 257},  {33, 257, 7},  {257, 33, 1},
                                     {7, 33, 257}, {8, 48, 256},  {9, 49, 257}, {17, 97, 300}, {33, 33, 33},
                                     {1, 257, 7},  {257, 1, 33}, {15, 17, 513}};
  unsigned seed = 1;
  for (const GemmKernel* k : kernels_here())
    for (int threads : {1, 2}) {
      ThreadsGuard guard(threads);
      for (const Shape& s : shapes)
        for (int t = 0; t < 4; ++t) CHECK(check_case(k, t & 1, t & 2, s, 1.0f, 0.0f, 0, seed++));
    }
}

TEST_CASE("fast sgemm applies alpha and beta like BLAS (beta == 0 overwrites NaN)", "[sgemm][fast]") {
  const float ab[][2] = {{1.0f, 0.0f}, {0.5f, 0.0f}, {1.0f, 1.0f}, {-2.0f, 0.25f}, {0.0f, 0.5f}, {0.0f, 0.0f}};
  unsigned seed = 100;
  for (const GemmKernel* k : kernels_here())
    for (const auto& v : ab)
      for (int t = 0; t < 4; ++t) {
        CHECK(check_case(k, t & 1, t & 2, {33, 65, 70}, v[0], v[1], 3, seed++));
        CHECK(check_case(k, t & 1, t & 2, {7, 9, 600}, v[0], v[1], 0, seed++));  // several kc slices
      }
}

TEST_CASE("fast sgemm: K == 0 scales C by beta, empty M or N leaves C alone", "[sgemm][fast]") {
  for (const GemmKernel* k : kernels_here()) {
    CHECK(check_case(k, false, false, {5, 6, 0}, 1.0f, 0.5f, 1, 7));
    CHECK(check_case(k, true, true, {5, 6, 0}, 1.0f, 0.0f, 1, 8));
    std::vector<float> C(4, 3.0f);
    facet::cpu::gemm_detail::sgemm_with(*k, false, false, 0, 2, 2, 1.0f, nullptr, 2, nullptr, 2, 0.0f, C.data(),
                                        2);
    facet::cpu::gemm_detail::sgemm_with(*k, false, false, 2, 0, 2, 1.0f, nullptr, 2, nullptr, 2, 0.0f, C.data(),
                                        2);
    CHECK(C == std::vector<float>(4, 3.0f));
  }
}

TEST_CASE("fast sgemm: every threading mode and multi-block shapes", "[sgemm][fast]") {
  // (blocks of C over several nc and mc blocks, tall C with few columns, K-split for small C and long K,
  // conv-like shapes at small scale.)
  const std::vector<Shape> shapes = {{130, 2100, 70}, {520, 60, 40}, {600, 20, 64},  {32, 27, 2100},
                                     {16, 40, 4000},  {64, 1024, 27}, {27, 1024, 32}, {32, 27, 1024}};
  unsigned seed = 500;
  for (const GemmKernel* k : kernels_here())
    for (int threads : {1, 2}) {
      ThreadsGuard guard(threads);
      for (const Shape& s : shapes)
        for (int t = 0; t < 4; ++t) CHECK(check_case(k, t & 1, t & 2, s, 1.0f, t == 3 ? 1.0f : 0.0f, 1, seed++));
    }
}

TEST_CASE("fast sgemm called from inside a parallel region runs per thread and stays correct", "[sgemm][fast]") {
  ThreadsGuard guard(2);
  int failures = 0;
#pragma omp parallel for reduction(+ : failures)
  for (int i = 0; i < 4; ++i)
    failures += check_case(nullptr, i & 1, i & 2, {33 + i, 70, 40}, 1.0f, 0.0f, 0, 900 + i) ? 0 : 1;
  CHECK(failures == 0);
}

TEST_CASE("fast sgemm reports the kernel it dispatches to", "[sgemm][fast]") {
  const GemmKernel& k = facet::cpu::gemm_detail::active_kernel();
  INFO("active sgemm kernel: " << k.name);
  CHECK(k.mr > 0);
  CHECK(k.nr > 0);
  if (facet::cpu::gemm_detail::avx512_kernel() && !std::getenv("FACET_SGEMM_KERNEL"))
    CHECK(&k == facet::cpu::gemm_detail::avx512_kernel());
  CHECK(check_case(nullptr, false, true, {31, 47, 129}, 1.0f, 0.0f, 0, 999));
}

// sgemm_nt (conv2d's weight-gradient product, no packing) against the reference with B transposed: tile edges
// (M, N not multiples of 4), depths around the 16-lane steps and the 1024-deep slices, padded leading
// dimensions, beta 0 over NaN, 1 and 0.5.
TEST_CASE("sgemm_nt matches the reference on odd shapes and betas", "[sgemm][fast]") {
  using facet::cpu::gemm_detail::sgemm_nt;
  if (!facet::cpu::gemm_detail::avx512_kernel()) {
    WARN("no AVX-512 here: sgemm_nt computes nothing and says so");
    std::vector<float> c(4, 0.0f);
    CHECK_FALSE(sgemm_nt(1, 1, 1, c.data(), 1, c.data(), 1, 0.0f, c.data(), 1));
    return;
  }
  std::mt19937 rng(77);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  const std::vector<Shape> shapes = {{1, 1, 1},   {4, 4, 16},   {5, 3, 17},    {7, 9, 15},     {32, 27, 4096},
                                     {3, 13, 1023}, {8, 6, 1025}, {13, 11, 2049}, {64, 576, 200}, {2, 1, 33}};
  for (const Shape& s : shapes)
    for (float beta : {0.0f, 1.0f, 0.5f}) {
      INFO("M=" << s.M << " N=" << s.N << " K=" << s.K << " beta=" << beta);
      const int lda = s.K + 3, ldb = s.K + 5, ldc = s.N + 2;
      std::vector<float> A(size_t(s.M) * lda), B(size_t(s.N) * ldb), C(size_t(s.M) * ldc);
      for (float& v : A) v = u(rng);
      for (float& v : B) v = u(rng);
      for (float& v : C) v = beta == 0.0f ? std::numeric_limits<float>::quiet_NaN() : u(rng);
      std::vector<float> ref = C;
      if (beta == 0.0f)
        for (int i = 0; i < s.M; ++i)
          for (int j = 0; j < s.N; ++j) ref[size_t(i) * ldc + j] = 0.0f;  // the reference reads C even at beta 0
      REQUIRE(sgemm_nt(s.M, s.N, s.K, A.data(), lda, B.data(), ldb, beta, C.data(), ldc));
      facet::naive::sgemm(false, true, s.M, s.N, s.K, 1.0f, A.data(), lda, B.data(), ldb, beta, ref.data(),
                                  ldc);
      CHECK(close_to(C, ref, s.M, s.N, ldc, 1e-5f * float(s.K), 1e-5f, "sgemm_nt"));
    }
}
