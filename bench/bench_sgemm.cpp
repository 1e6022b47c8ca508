// sgemm: facet's blocked AVX-512 sgemm against OpenBLAS (same inputs, same run, alternating per shape) on
// square products and on BaseCNN's conv-shaped GEMMs with the whole batch as one product:
//   forward      Y  (Cout, B*HW)   = W (Cout, Cin*9) * col (Cin*9, B*HW)          M=Cout  N=B*HW  K=Cin*9
//   data grad    dcol (Cin*9, B*HW) = W^T * dY (Cout, B*HW)                        M=Cin*9 N=B*HW  K=Cout (transA)
//   weight grad  dW (Cout, Cin*9)  = dY (Cout, B*HW) * col^T                      M=Cout  N=Cin*9 K=B*HW (transB)
#include <chrono>
#include <cstdio>
#include <thread>
#include <string>

#include "bench/bench_util.h"
#include "kernels/gemm.h"

namespace facet::bench {
namespace {

struct GemmCase {
  std::string name;
  bool tA, tB;
  int M, N, K;
};

void time_case(Recorder& rec, const GemmCase& c, int threads) {
  if (!rec.wanted(c.name)) return;
  const int lda = c.tA ? c.M : c.K, ldb = c.tB ? c.K : c.N, ldc = c.N;
  Buffer A(int64_t(c.M) * c.K, 11), B(int64_t(c.K) * c.N, 12), C(int64_t(c.M) * c.N, 13);
  char shape[64];
  std::snprintf(shape, sizeof shape, "%s%s M=%d N=%d K=%d", c.tA ? "T" : "N", c.tB ? "T" : "N", c.M, c.N, c.K);
  Row row;
  row.section = "sgemm";
  row.name = c.name;
  row.shape = shape;
  row.threads = threads;
  row.flops = 2.0 * c.M * c.N * c.K;
  row.bytes = 4.0 * (double(c.M) * c.K + double(c.K) * c.N + 2.0 * c.M * c.N);
  // OpenBLAS's idle workers spin (then sleep) after each call, and ours do too: a pause before each block of
  // samples lets the other library's threads go to sleep so neither is timed against the other's spinning.
  auto settle = [] { std::this_thread::sleep_for(std::chrono::milliseconds(150)); };
  settle();
  const Row& ours = rec.time(row, [&] {
    cpu::sgemm(c.tA, c.tB, c.M, c.N, c.K, 1.0f, A.data(), lda, B.data(), ldb, 0.0f, C.data(), ldc);
  });
  const double ours_s = ours.median_s;
  const OpenBlas& ob = openblas();
  if (!rec.options().compare_openblas || !ob.ok) return;
  row.impl = "openblas";
  settle();
  const Row& theirs = rec.time(row, [&] {
    ob.sgemm(c.tA, c.tB, c.M, c.N, c.K, 1.0f, A.data(), lda, B.data(), ldb, 0.0f, C.data(), ldc);
  });
  std::printf("%-8s %-34s facet/openblas speed ratio %.2f\n", "", c.name.c_str(), theirs.median_s / ours_s);
}

}  // namespace

void run_sgemm(Recorder& rec, int threads) {
  std::vector<GemmCase> cases;
  for (int n : {512, 1024, 2048}) cases.push_back({"square " + std::to_string(n), false, false, n, n, n});
  const int B = rec.options().batch;
  for (int size : rec.options().sizes)
    for (const ConvLayer& l : basecnn_layers(size)) {
      const int hw = l.side * l.side, crs = l.cin * 9;
      const std::string tag = "conv" + std::to_string(l.index) + "@" + std::to_string(size) + " ";
      cases.push_back({tag + "fwd", false, false, l.cout, B * hw, crs});
      if (l.index > 1) cases.push_back({tag + "dgrad", true, false, crs, B * hw, l.cout});
      cases.push_back({tag + "wgrad", false, true, l.cout, crs, B * hw});
    }
  // The issue's anchor shapes: one image's forward GEMM (in cache) and the same layer over a whole batch.
  cases.push_back({"anchor 1 image", false, false, 64, 1024, 576});
  cases.push_back({"anchor whole batch", false, false, 64, 65536, 576});
  for (const GemmCase& c : cases) time_case(rec, c, threads);
}

}  // namespace facet::bench
