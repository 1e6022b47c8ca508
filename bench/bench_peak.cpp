// The roofline's two roofs, measured rather than taken from a datasheet:
//  - FMA peak: 12 independent chains of vfmadd on zmm registers (enough to cover 4-cycle latency on two FMA
//    ports: 2 x 4 = 8 in flight needed), per core and on all threads at once;
//  - memory bandwidth: STREAM triad a[i] = b[i] + s*c[i] over 3 x 64 MiB, counted as 12 bytes per element.
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <string>

#include "bench/bench_util.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#pragma GCC push_options
#pragma GCC target("avx512f")
#include <immintrin.h>
namespace {
// 12 chains x 16 lanes x 2 flops per iteration. Returns a value that depends on every chain (not optimized out).
float fma_chains_avx512(long iters) {
  __m512 acc[12];
  for (int i = 0; i < 12; ++i) acc[i] = _mm512_set1_ps(float(i) * 1e-3f);
  const __m512 a = _mm512_set1_ps(0.999999f), b = _mm512_set1_ps(1e-7f);
  for (long it = 0; it < iters; ++it) {
#pragma GCC unroll 12
    for (int i = 0; i < 12; ++i) acc[i] = _mm512_fmadd_ps(acc[i], a, b);
  }
  __m512 s = acc[0];
  for (int i = 1; i < 12; ++i) s = _mm512_add_ps(s, acc[i]);
  float lanes[16];
  _mm512_storeu_ps(lanes, s);
  float total = 0;
  for (float x : lanes) total += x;
  return total;
}
}  // namespace
#pragma GCC pop_options
#define FACET_BENCH_AVX512 1
#endif

namespace facet::bench {
namespace {

// Portable probe: 12 chains of 8-float vectors (the compiler vectorizes for what the build targets).
float fma_chains_portable(long iters) {
  float acc[12][8];
  for (int i = 0; i < 12; ++i)
    for (int l = 0; l < 8; ++l) acc[i][l] = float(i) * 1e-3f;
  for (long it = 0; it < iters; ++it)
    for (int i = 0; i < 12; ++i)
      for (int l = 0; l < 8; ++l) acc[i][l] = acc[i][l] * 0.999999f + 1e-7f;
  float s = 0;
  for (int i = 0; i < 12; ++i)
    for (int l = 0; l < 8; ++l) s += acc[i][l];
  return s;
}

volatile float g_sink;

// GFLOP/s of `threads` threads each running the probe at once (wall time of the slowest).
double probe(int threads, bool avx512) {
  const long iters = 20'000'000;
  const double flops_per_iter = avx512 ? 12 * 16 * 2 : 12 * 8 * 2;
  double best = 0;
  for (int rep = 0; rep < 3; ++rep) {  // best of 3: the probe has no noise of its own, only interference
    const auto t0 = std::chrono::steady_clock::now();
#pragma omp parallel num_threads(threads)
    {
#if defined(FACET_BENCH_AVX512)
      g_sink = avx512 ? fma_chains_avx512(iters) : fma_chains_portable(iters);
#else
      g_sink = fma_chains_portable(iters);
#endif
    }
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    best = std::max(best, threads * iters * flops_per_iter / s * 1e-9);
  }
  return best;
}

double triad(int threads, double* seconds) {
  const int64_t n = int64_t(16) << 20;  // 16 Mi floats = 64 MiB per array
  Buffer a(n, 1), b(n, 2), c(n, 3);
  float* pa = a.data();
  const float* pb = b.data();
  const float* pc = c.data();
  double best = 1e30;
  for (int rep = 0; rep < 5; ++rep) {
    const auto t0 = std::chrono::steady_clock::now();
#pragma omp parallel for num_threads(threads) schedule(static)
    for (int64_t i = 0; i < n; ++i) pa[i] = pb[i] + 0.5f * pc[i];
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  g_sink = pa[n / 2];
  *seconds = best;
  return 12.0 * n / best * 1e-9;
}

}  // namespace

void run_peak(Recorder& rec, int threads) {
  bool avx512 = false;
#if defined(FACET_BENCH_AVX512)
  avx512 = __builtin_cpu_supports("avx512f");
#endif
  Roofs roofs;
  roofs.peak_gflops = probe(threads, avx512);
  double triad_s = 0;
  roofs.bandwidth_gbs = triad(threads, &triad_s);
  rec.set_roofs(threads, roofs);
  Row peak;
  peak.section = "peak";
  peak.name = std::string("fma probe, 12 chains ") + (avx512 ? "zmm" : "portable");
  peak.shape = "20M iters x 12 FMA";
  peak.impl = "probe";
  peak.threads = threads;
  peak.flops = threads * 20e6 * 12 * (avx512 ? 32 : 16);
  peak.median_s = peak.min_s = peak.flops / (roofs.peak_gflops * 1e9);
  peak.samples = 3;
  peak.note = "best of 3; per core " + std::to_string(int(roofs.peak_gflops / threads)) + " GFLOP/s";
  rec.add(peak);
  Row bw;
  bw.section = "peak";
  bw.name = "triad a=b+s*c";
  bw.shape = "3 x 64 MiB";
  bw.impl = "probe";
  bw.threads = threads;
  bw.bytes = 12.0 * (int64_t(16) << 20);
  bw.median_s = bw.min_s = triad_s;
  bw.samples = 5;
  bw.note = "best of 5";
  rec.add(bw);
}

}  // namespace facet::bench
