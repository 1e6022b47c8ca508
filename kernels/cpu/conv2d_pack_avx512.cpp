// The im2col packers of kernels/cpu/conv2d_pack.h, AVX-512 only (the region of avx512_region_begin.h; chosen
// at run time through available()).
//
// Both walk the columns (forward) or rows (weight gradient) of col in "runs": pieces of one output row of one
// image, whose input values for a fixed (c, r, s) are consecutive floats of one input row. One masked load per
// run and 16 lanes then fills a row piece of col, with the padding lanes masked off (they read as 0).
#include <cstdint>

#include "kernels/cpu/conv2d_pack.h"

#include "kernels/cpu/avx512_region_begin.h"
#if defined(FACET_AVX512_REGION)

namespace facet::cpu::conv_pack {
namespace {

using avx512::lane_range;
using avx512::transpose16x16;

inline int imin(int a, int b) { return a < b ? a : b; }
inline int imax(int a, int b) { return a > b ? a : b; }

// Columns [off, off+len) of a piece (relative to its first column) lie in output row p of one image, from
// output column q on: h0 = p - pad, w0 = q - pad, plane0 = that image's channel 0.
struct Run {
  int off, len, h0, w0;
  const float* plane0;  // (C, H, W)
};

// The runs of col columns [j, j+width) (block-relative; width <= 64 gives at most 65 runs).
int make_runs(const Im2colView& v, int64_t chw, int j, int width, Run* runs) {
  int n = 0;
  for (int t = 0; t < width;) {
    const int col = j + t, img = col / v.L, rem = col % v.L, q = rem % v.Q;
    const int len = imin(width - t, v.Q - q);
    runs[n++] = Run{t, len, v.p0 + rem / v.Q - v.pad, q - v.pad, v.in + int64_t(v.n0 + img) * chw};
    t += len;
  }
  return n;
}

// Lanes of a run whose input column w = run.w0 + s + (lane - off) lies in [0, W), as a 64-lane mask, and the
// address the lane-0 load starts from (masked-off lanes are never read, so it may lie outside the plane).
inline unsigned long long run_lanes(const Run& run, int s, int W, int64_t row_offset, const float** base) {
  const int w = run.w0 + s;
  *base = run.plane0 + row_offset + (w - run.off);
  return lane_range(run.off + imax(0, -w), run.off + imin(run.len, W - w));
}

inline const float* lane0(const float* p, int z) { return p + 16 * z; }

}  // namespace

// op(B) = col, rows crs = (c*R + r)*S + s in [k0, k0+kc), columns [j0, j0+cols): one kc x nr panel per nr
// columns; panel row kk is col[k0+kk, jb .. jb+nr), built from the panel's runs with one masked load per run
// and 16 lanes.
void pack_col(const void* ctx, float* dst, int k0, int kc, int j0, int cols, int nr) {
  const Im2colView& v = *static_cast<const Im2colView*>(ctx);
  const int64_t hw = int64_t(v.H) * v.W, chw = v.C * hw;
  const int nv = nr / 16;  // nr is a multiple of 16, at most 64
  Run runs[65];
  for (int pi = 0; pi * nr < cols; ++pi) {
    const int jb = j0 + pi * nr, width = imin(nr, j0 + cols - jb);
    const int nruns = make_runs(v, chw, jb, width, runs);
    float* pd = dst + int64_t(pi) * nr * kc;
    int c = k0 / (v.R * v.S), r = (k0 / v.S) % v.R, s = k0 % v.S;
    for (int kk = 0; kk < kc; ++kk) {
      __m512 acc[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps()};
      for (int i = 0; i < nruns; ++i) {
        const int h = runs[i].h0 + r;
        if (h < 0 || h >= v.H) continue;  // a padding row: zeros
        const float* base;
        const unsigned long long m = run_lanes(runs[i], s, v.W, c * hw + int64_t(h) * v.W, &base);
#pragma GCC unroll 4
        for (int z = 0; z < nv; ++z) {
          const __mmask16 mz = static_cast<__mmask16>(m >> (16 * z));
          if (mz) acc[z] = _mm512_mask_loadu_ps(acc[z], mz, lane0(base, z));
        }
      }
#pragma GCC unroll 4
      for (int z = 0; z < nv; ++z) _mm512_storeu_ps(pd + int64_t(kk) * nr + 16 * z, acc[z]);
      if (++s == v.S) {
        s = 0;
        if (++r == v.R) r = 0, ++c;
      }
    }
  }
}

// op(B) = col^T, rows = pixels [k0, k0+kc) of the block, columns crs [j0, j0+cols). For 16 pixels at a time,
// each of the panel's crs values loads its 16 consecutive pixels (one masked load per run), and 16 x 16
// transposes turn those rows into the panel's pixel-major rows.
void pack_col_transposed(const void* ctx, float* dst, int k0, int kc, int j0, int cols, int nr) {
  const Im2colView& v = *static_cast<const Im2colView*>(ctx);
  const int64_t hw = int64_t(v.H) * v.W, chw = v.C * hw;
  const int nv = nr / 16;
  Run runs[17];
  int64_t choff[64];  // per panel column: c*H*W, r, s of its crs
  int rr[64], ss[64];
  for (int pi = 0; pi * nr < cols; ++pi) {
    const int jb = j0 + pi * nr, width = imin(nr, j0 + cols - jb);
    for (int jj = 0; jj < width; ++jj) {
      const int crs = jb + jj;
      choff[jj] = int64_t(crs / (v.R * v.S)) * hw;
      rr[jj] = (crs / v.S) % v.R;
      ss[jj] = crs % v.S;
    }
    float* pd = dst + int64_t(pi) * nr * kc;
    for (int kk0 = 0; kk0 < kc; kk0 += 16) {
      const int kn = imin(16, kc - kk0);
      const int nruns = make_runs(v, chw, k0 + kk0, kn, runs);
      for (int z = 0; z < nv; ++z) {
        __m512 blk[16];
#pragma GCC unroll 16
        for (int i = 0; i < 16; ++i) blk[i] = _mm512_setzero_ps();
        for (int i = 0; i < 16 && 16 * z + i < width; ++i) {
          const int jj = 16 * z + i;
          for (int u = 0; u < nruns; ++u) {
            const int h = runs[u].h0 + rr[jj];
            if (h < 0 || h >= v.H) continue;
            const float* base;
            const __mmask16 m =
                static_cast<__mmask16>(run_lanes(runs[u], ss[jj], v.W, choff[jj] + int64_t(h) * v.W, &base));
            if (m) blk[i] = _mm512_mask_loadu_ps(blk[i], m, base);
          }
        }
        transpose16x16(blk);  // blk[t] = pixel kk0+t, lanes = panel columns 16z .. 16z+15
        for (int t = 0; t < kn; ++t) _mm512_storeu_ps(pd + int64_t(kk0 + t) * nr + 16 * z, blk[t]);
      }
    }
  }
}

}  // namespace facet::cpu::conv_pack
#endif
#include "kernels/cpu/avx512_region_end.h"

namespace facet::cpu::conv_pack {
#if defined(FACET_AVX512_REGION)
// The same CPU features as the AVX-512 sgemm kernel (checked outside the AVX-512 region, as there).
bool available() { return gemm_detail::avx512_kernel() != nullptr; }
#else
bool available() { return false; }
void pack_col(const void*, float*, int, int, int, int, int) {}
void pack_col_transposed(const void*, float*, int, int, int, int, int) {}
#endif
}  // namespace facet::cpu::conv_pack
