// A small seeded generator with the same output on every platform and standard library (std::shuffle and the
// std distributions are implementation-defined, so facet does its own): splitmix64, and Fisher-Yates on it.
#pragma once
#include <cstdint>
#include <utility>
#include <vector>

#include "data/hash.h"

namespace facet::data {

class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t next() { return mix64(state_++ * 0x9E3779B97F4A7C15ull); }
  // Uniform in [0, n) (n > 0; the modulo bias is below 2^-40 for the n facet uses).
  uint64_t below(uint64_t n) { return next() % n; }
  // Uniform in [0, 1) with 53 random bits.
  double uniform() { return double(next() >> 11) * (1.0 / 9007199254740992.0); }

 private:
  uint64_t state_;
};

template <class T>
void shuffle(std::vector<T>& v, Rng& rng) {
  for (size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[size_t(rng.below(i))]);
}

// A seed derived from several numbers (seed, epoch, index): different inputs give unrelated streams.
inline uint64_t derive_seed(uint64_t a, uint64_t b, uint64_t c = 0) { return mix64(mix64(mix64(a) ^ b) ^ c); }

}  // namespace facet::data
