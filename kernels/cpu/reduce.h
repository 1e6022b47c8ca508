// Deterministic parallel sums for the CPU kernels (internal to kernels/cpu).
// The range is cut into fixed blocks of kSumBlock elements; each block is summed in double in index order and
// the block sums are added in block order. The blocking depends only on n, never on the thread count, so the
// result is bit-identical for 1 or 64 threads.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace facet::cpu::detail {

inline constexpr int64_t kSumBlock = 4096;

// sum_{i < n} term(i), term returning double.
template <class Term>
double blocked_sum(int64_t n, Term term) {
  const int64_t blocks = (n + kSumBlock - 1) / kSumBlock;
  if (blocks <= 1) {
    double s = 0.0;
    for (int64_t i = 0; i < n; ++i) s += term(i);
    return s;
  }
  std::vector<double> partial(size_t(blocks), 0.0);  // (blocks)
#pragma omp parallel for schedule(static) if (blocks >= 4)
  for (int64_t b = 0; b < blocks; ++b) {
    const int64_t lo = b * kSumBlock, hi = lo + kSumBlock < n ? lo + kSumBlock : n;
    double s = 0.0;
    for (int64_t i = lo; i < hi; ++i) s += term(i);
    partial[size_t(b)] = s;
  }
  double s = 0.0;
  for (double p : partial) s += p;
  return s;
}

// Loops over n independent elements are worth threads only when long enough to amortise the fork/join.
inline constexpr int64_t kParallelMin = 1 << 15;

}  // namespace facet::cpu::detail
