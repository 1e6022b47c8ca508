// Shared test helpers: the one tolerance rule of the project and small seeded random fills.
//
//   close(x, ref)  <=>  |x - ref| <= atol + rtol * |ref|,   and x, ref both finite (NaN/Inf always fail)
//
// CHECK_ALL_CLOSE(got, ref, atol, rtol) checks two equally long arrays (anything with size() and [], float or
// double) with that rule and, on failure, prints how many entries failed and the first few (index, got, ref,
// |diff|, allowed). atol = rtol = 0 asks for bit-exact equality.
// Random data: facet::test::Rng (splitmix64: identical on every platform and standard library), and
// random_uniform / random_ints returning std::vector<float>.
#pragma once

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

namespace facet::test {

// ---- tolerance -----------------------------------------------------------------------------------------------

struct CloseReport {
  bool ok = true;
  std::size_t failures = 0;
  std::string text;  // empty when ok
};

// indices (optional): the original position of each entry, printed instead of the entry's position (used when
// got/ref hold a sample of a larger array).
template <class Got, class Ref>
CloseReport all_close(const Got& got, const Ref& ref, double atol, double rtol,
                      const std::vector<std::size_t>* indices = nullptr, std::size_t max_print = 6) {
  CloseReport r;
  std::ostringstream os;
  os.precision(9);
  if (got.size() != ref.size()) {
    r.ok = false;
    os << "size mismatch: got " << got.size() << " values, reference " << ref.size();
    r.text = os.str();
    return r;
  }
  double worst = 0.0;
  for (std::size_t i = 0; i < got.size(); ++i) {
    const double g = double(got[i]), e = double(ref[i]);
    const double diff = std::fabs(g - e), allowed = atol + rtol * std::fabs(e);
    const bool pass = std::isfinite(g) && std::isfinite(e) && diff <= allowed;
    if (std::isfinite(diff)) worst = std::max(worst, diff);
    if (pass) continue;
    if (r.failures < max_print)
      os << "  [" << (indices ? (*indices)[i] : i) << "] got " << g << "  ref " << e << "  |diff| " << diff
         << "  allowed " << allowed << "\n";
    ++r.failures;
  }
  if (r.failures) {
    r.ok = false;
    std::ostringstream head;
    head << r.failures << " of " << got.size() << " values not within atol " << atol << " + rtol " << rtol
         << " * |ref| (largest finite |diff| " << worst << "); first ones:\n";
    r.text = head.str() + os.str();
  }
  return r;
}

// ---- random data ---------------------------------------------------------------------------------------------

class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t next() {  // splitmix64
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  // Uniform in [lo, hi) with 24 random bits.
  float uniform(float lo, float hi) { return lo + (hi - lo) * float(next() >> 40) * (1.0f / 16777216.0f); }
  // Uniform integer in [lo, hi] (inclusive).
  int64_t integer(int64_t lo, int64_t hi) { return lo + int64_t(next() % uint64_t(hi - lo + 1)); }

 private:
  uint64_t state_;
};

inline std::vector<float> random_uniform(std::size_t n, uint64_t seed, float lo = -1.0f, float hi = 1.0f) {
  Rng rng(seed);
  std::vector<float> v(n);
  for (auto& x : v) x = rng.uniform(lo, hi);
  return v;
}

// Small integers stored as floats: sums of their products are exact in float, so results can be bit-exact.
inline std::vector<float> random_ints(std::size_t n, uint64_t seed, int lo, int hi) {
  Rng rng(seed);
  std::vector<float> v(n);
  for (auto& x : v) x = float(rng.integer(lo, hi));
  return v;
}

}  // namespace facet::test

#define FACET_CHECK_CLOSE_IMPL(MACRO, got, ref, atol, rtol)                          \
  do {                                                                                \
    const auto facet_report_ = ::facet::test::all_close((got), (ref), (atol), (rtol)); \
    INFO(#got " vs " #ref ":\n" << facet_report_.text);                               \
    MACRO(facet_report_.ok);                                                          \
  } while (0)
#define CHECK_ALL_CLOSE(got, ref, atol, rtol) FACET_CHECK_CLOSE_IMPL(CHECK, got, ref, atol, rtol)
#define REQUIRE_ALL_CLOSE(got, ref, atol, rtol) FACET_CHECK_CLOSE_IMPL(REQUIRE, got, ref, atol, rtol)
