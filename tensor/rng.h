// A seeded random source for initialisation and data order: every run with the same seed is the same run.
#pragma once
#include <cstdint>
#include <random>

namespace facet {

class Rng {
 public:
  explicit Rng(uint64_t seed) : gen_(seed) {}
  float uniform(float lo = 0.0f, float hi = 1.0f) { return std::uniform_real_distribution<float>(lo, hi)(gen_); }
  float normal(float mean = 0.0f, float stddev = 1.0f) { return std::normal_distribution<float>(mean, stddev)(gen_); }
  uint64_t next() { return gen_(); }
  int64_t below(int64_t n) { return int64_t(gen_() % uint64_t(n)); }  // [0, n)
  std::mt19937_64& engine() { return gen_; }

 private:
  std::mt19937_64 gen_;
};

}  // namespace facet
