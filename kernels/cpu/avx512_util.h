// Small AVX-512 helpers shared by the AVX-512 translation units, included by avx512_region_begin.h (after its
// target pragma and <immintrin.h>): the functions are compiled for AVX-512, and their internal linkage keeps
// the linker from handing an AVX-512 copy to any other file.
#pragma once

namespace facet::cpu::avx512 {
namespace {

// Lanes valid in the 16-float chunk starting at `start` of a length-`len` vector, as a mask.
inline __mmask16 tail_mask(int start, int len) {
  const int left = len - start;
  if (left >= 16) return 0xFFFF;
  if (left <= 0) return 0;
  return static_cast<__mmask16>((1u << left) - 1u);
}

// Lanes [a, b) of 64 (0 <= a, b <= 64) as a bit mask; empty when b <= a.
inline unsigned long long lane_range(int a, int b) {
  if (b <= a) return 0;
  const unsigned long long hi = b >= 64 ? ~0ull : (1ull << b) - 1ull;
  return hi & ~((1ull << a) - 1ull);
}

// In-register transpose of a 16x16 block (r[i] = row i in, column i out).
inline void transpose16x16(__m512 (&r)[16]) {
  __m512 t[16];
#pragma GCC unroll 8
  for (int i = 0; i < 16; i += 2) {
    t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
    t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
  }
#pragma GCC unroll 4
  for (int i = 0; i < 16; i += 4) {
    r[i] = _mm512_shuffle_ps(t[i], t[i + 2], 0x44);
    r[i + 1] = _mm512_shuffle_ps(t[i], t[i + 2], 0xEE);
    r[i + 2] = _mm512_shuffle_ps(t[i + 1], t[i + 3], 0x44);
    r[i + 3] = _mm512_shuffle_ps(t[i + 1], t[i + 3], 0xEE);
  }
#pragma GCC unroll 4
  for (int i = 0; i < 4; ++i) {
    t[i] = _mm512_shuffle_f32x4(r[i], r[i + 4], 0x88);
    t[i + 4] = _mm512_shuffle_f32x4(r[i], r[i + 4], 0xDD);
    t[i + 8] = _mm512_shuffle_f32x4(r[i + 8], r[i + 12], 0x88);
    t[i + 12] = _mm512_shuffle_f32x4(r[i + 8], r[i + 12], 0xDD);
  }
#pragma GCC unroll 8
  for (int i = 0; i < 8; ++i) {
    r[i] = _mm512_shuffle_f32x4(t[i], t[i + 8], 0x88);
    r[i + 8] = _mm512_shuffle_f32x4(t[i], t[i + 8], 0xDD);
  }
}

}  // namespace
}  // namespace facet::cpu::avx512
