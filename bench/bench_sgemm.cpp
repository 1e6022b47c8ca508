// sgemm: facet's blocked AVX-512 sgemm against OpenBLAS (same inputs, same run, alternating per shape) on
// square products and on BaseCNN's conv-shaped GEMMs with the whole batch as one product:
//   forward      Y  (Cout, B*HW)   = W (Cout, Cin*9) * col (Cin*9, B*HW)          M=Cout  N=B*HW  K=Cin*9
//   data grad    dcol (Cin*9, B*HW) = W^T * dY (Cout, B*HW)                        M=Cin*9 N=B*HW  K=Cout (transA)
//   weight grad  dW (Cout, Cin*9)  = dY (Cout, B*HW) * col^T                      M=Cout  N=Cin*9 K=B*HW (transB)
// Why the two alternate: the cores may be shared, and on the 2-vCPU VM this was built on the second vCPU is
// slowed from outside now and then (an FMA probe at 2 threads gave 100 then 58 GFLOP/s per core in two
// consecutive runs), so timing all of facet's samples and then all of OpenBLAS's let one slow spell land on
// one library and the ratio swung 0.5x-1.9x between runs of the same shape. Each shape is therefore timed in
// kAlternatingRounds (3) rounds of [settle, a block of facet samples, settle, a block of OpenBLAS samples], and
// each library's median/min is over its samples from every round (Recorder::time_alternating; the row's JSON
// says "rounds"). Without OpenBLAS, facet's row is timed alone in one block.
#include <cstdio>
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
  const OpenBlas& ob = openblas();
  auto ours = [&] {
    cpu::sgemm(c.tA, c.tB, c.M, c.N, c.K, 1.0f, A.data(), lda, B.data(), ldb, 0.0f, C.data(), ldc);
  };
  if (!rec.options().compare_openblas || !ob.ok) {
    settle();
    rec.time(row, ours);
    return;
  }
  Row theirs_row = row;
  theirs_row.impl = "openblas";
  auto theirs = [&] {
    ob.sgemm(c.tA, c.tB, c.M, c.N, c.K, 1.0f, A.data(), lda, B.data(), ldb, 0.0f, C.data(), ldc);
  };
  const std::vector<Row> rows = rec.time_alternating({{row, ours}, {theirs_row, theirs}});
  std::printf("%-8s %-34s facet/openblas speed ratio %.2f\n", "", c.name.c_str(),
              rows[1].median_s / rows[0].median_s);
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
