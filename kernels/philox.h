// Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC'11): a counter-based
// generator. The 128-bit counter (idx/4) under the 64-bit key (seed) gives four 32-bit words; element idx takes
// word idx%4. Any element's random number is computed independently, so CPU and GPU agree for one seed.
#pragma once
#include <cstdint>
#include "kernels/dims.h"

namespace facet {

FACET_HD inline void philox4x32_10(uint32_t ctr[4], uint32_t k0, uint32_t k1) {
  const uint32_t M0 = 0xD2511F53u, M1 = 0xCD9E8D57u, W0 = 0x9E3779B9u, W1 = 0xBB67AE85u;
  for (int round = 0; round < 10; ++round) {
    uint64_t p0 = uint64_t(M0) * ctr[0], p1 = uint64_t(M1) * ctr[2];
    uint32_t hi0 = uint32_t(p0 >> 32), lo0 = uint32_t(p0), hi1 = uint32_t(p1 >> 32), lo1 = uint32_t(p1);
    uint32_t c0 = hi1 ^ ctr[1] ^ k0, c2 = hi0 ^ ctr[3] ^ k1;
    ctr[0] = c0; ctr[1] = lo1; ctr[2] = c2; ctr[3] = lo0;
    k0 += W0; k1 += W1;
  }
}

// Uniform float in [0, 1) for element idx of stream `seed` (24 random bits, exactly representable).
FACET_HD inline float philox_uniform(uint64_t seed, uint64_t idx) {
  uint64_t block = idx >> 2;
  uint32_t ctr[4] = {uint32_t(block), uint32_t(block >> 32), 0u, 0u};
  philox4x32_10(ctr, uint32_t(seed), uint32_t(seed >> 32));
  return float(ctr[idx & 3] >> 8) * (1.0f / 16777216.0f);
}

}  // namespace facet
