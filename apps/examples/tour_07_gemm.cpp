// Tour, chapter 7 (docs/tour/07-fast-kernels.md): why the fast kernels are fast, measured on this machine.
//
// Every convolution and linear layer in facet ends in one operation, SGEMM:  C (M,N) = A (M,K) x B (K,N),
//   C[i,j] = sum_k A[i,k] B[k,j]        2 M N K floating-point operations (a multiply and an add per term).
// Three ways to compute it, same numbers, very different speeds:
//   naive     the formula as three loops. Each C[i,j] walks a column of B, K floats each a row apart: nearly
//             every load misses the cache, and the compiler cannot vectorize the dot product well.
//   blocked   Goto's algorithm (kernels/cpu/gemm.cpp): cut A and B into blocks that stay in the L1/L2
//             caches, copy ("pack") each block once into the order the inner loop reads, and compute C in
//             small mr x nr tiles held in registers, so each loaded float is used mr or nr times.
//   AVX-512   the same blocking with a hand-written micro-kernel (kernels/cpu/gemm_avx512.cpp): 16 floats per
//             instruction and one fused multiply-add (FMA) per 16 products.
// Threads (OpenMP) then split C into blocks, one per core.
// The times below are this machine's, now: rerun it and they change a little; run it elsewhere and they
// change a lot. `facet bench --sections sgemm` measures the same kernels on the real layer shapes.
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <functional>
#include <vector>

#include "kernels/cpu/gemm_microkernel.h"
#include "kernels/gemm.h"

using Vec = std::vector<float>;
namespace gd = facet::cpu::gemm_detail;

// C = A x B, the formula as written: row i of A dotted with column j of B. (Rows of C in parallel.)
void naive_sgemm(int M, int N, int K, const float* A, const float* B, float* C) {
#pragma omp parallel for
  for (int i = 0; i < M; ++i)
    for (int j = 0; j < N; ++j) {
      float acc = 0.0f;
      for (int k = 0; k < K; ++k) acc += A[i * K + k] * B[k * N + j];  // B[k*N + j]: a stride of N floats
      C[i * N + j] = acc;
    }
}

// The fastest of `repeats` runs of f, in seconds.
double best_time(const std::function<void()>& f, int repeats) {
  double best = 1e30;
  for (int r = 0; r < repeats; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  return best;
}

double max_difference(const Vec& x, const Vec& y) {
  double worst = 0;
  for (size_t i = 0; i < x.size(); ++i) worst = std::max(worst, std::fabs(double(x[i]) - double(y[i])));
  return worst;
}

int main() {
  const int n = 384;  // M = N = K: big enough to leave the caches, small enough for the naive loop
  Vec A(size_t(n) * n), B(size_t(n) * n);
  for (size_t i = 0; i < A.size(); ++i) {  // fixed pseudo-random values in [-1, 1]
    A[i] = float((i * 7919) % 2001) / 1000.0f - 1.0f;
    B[i] = float((i * 6007) % 1999) / 999.0f - 1.0f;
  }
  const double flops = 2.0 * n * n * n;
  const gd::GemmKernel& portable = gd::portable_kernel();
  const gd::GemmKernel* avx512 = gd::avx512_kernel();
  std::printf("SGEMM %d x %d x %d (%.0f MFLOP); blocked kernels: %s (tile %dx%d, blocks kc=%d mc=%d nc=%d)",
              n, n, n, flops / 1e6, portable.name, portable.mr, portable.nr, portable.kc, portable.mc,
              portable.nc);
  if (avx512) std::printf(", %s (tile %dx%d)", avx512->name, avx512->mr, avx512->nr);
  std::printf("\n%-10s %-8s %10s %10s\n", "kernel", "threads", "ms", "GFLOP/s");

  Vec reference(size_t(n) * n);
  naive_sgemm(n, n, n, A.data(), B.data(),
              reference.data());  // 1 thread's answer, all others compare with it
  const double tol = 1e-3;        // float sums of 384 terms ~1 in another order: ~1e-5 apart in practice
  bool ok = true;
  for (int threads : {1, 2}) {
    omp_set_num_threads(threads);
    struct Entry {
      const char* name;
      std::function<void(float*)> run;
    };
    std::vector<Entry> entries = {{"naive", [&](float* C) { naive_sgemm(n, n, n, A.data(), B.data(), C); }},
                                  {"blocked", [&](float* C) {
                                     gd::sgemm_with(portable, false, false, n, n, n, 1.0f, A.data(), n,
                                                    B.data(), n, 0.0f, C, n);
                                   }}};
    if (avx512)
      entries.push_back({"AVX-512", [&](float* C) {
                           gd::sgemm_with(*avx512, false, false, n, n, n, 1.0f, A.data(), n, B.data(), n,
                                          0.0f, C, n);
                         }});
    for (const Entry& e : entries) {
      Vec C(size_t(n) * n);
      const double s = best_time([&] { e.run(C.data()); }, e.name[0] == 'n' ? 1 : 5);
      const double diff = max_difference(C, reference);
      std::printf("%-10s %-8d %10.2f %10.2f   max difference %.3g (tolerance %.0e)\n", e.name, threads,
                  1e3 * s, flops / s / 1e9, diff, tol);
      ok = ok && diff <= tol;
    }
  }
  if (!avx512) std::printf("(this CPU has no AVX-512: facet uses the portable blocked kernel)\n");
  std::printf("%s\n", ok ? "every kernel gives the naive loop's numbers" : "FAILED: a kernel disagrees");
  return ok ? 0 : 1;
}
