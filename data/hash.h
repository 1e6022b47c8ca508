// A fast 64-bit content hash for finding byte-identical files (not cryptographic): xxHash64, written here
// from its published algorithm (so its published test vectors check it). Four lanes each absorb 8 bytes per step with
//   lane = rotl(lane + word * P2, 31) * P1,
// the lanes are merged, the tail is mixed in 8/4/1 bytes at a time, and a final avalanche
//   h ^= h >> 33; h *= P2; h ^= h >> 29; h *= P3; h ^= h >> 32
// spreads every input bit over the output. Four independent lanes keep the multiplier pipeline full
// (~several GB/s), so hashing all of UTKFace (160 MB) costs far less than reading it from disk.
// Equal files always hash equal; the readers also compare sizes, and a 64-bit collision between two different
// files of 21k is ~1e-11 likely.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace facet::data {

uint64_t hash64(const void* data, size_t size, uint64_t seed = 0);

// 64-bit mixing of one integer (splitmix64's finalizer): used to derive per-sample seeds.
inline uint64_t mix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

// Lower-case hex with 16 digits, for reports.
std::string hex64(uint64_t h);

}  // namespace facet::data
