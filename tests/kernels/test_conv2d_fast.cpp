// The batch-parallel conv2d (kernels/cpu/conv2d.cpp) against its small-batch im2col + SGEMM path
// (conv2d_forward_im2col / conv2d_backward_im2col) on odd shapes: 1x1/3x3/5x5 kernels, stride 1 and 2,
// pad 0..2, odd image sides, batches that make one chunk, several chunks, and fewer chunks than threads,
// images split into several row blocks,
// at 1 and 2 threads, with im2col packed (fused into the GEMM's packing), in memory and automatic; gradients accumulate
// (+=) into non-zero buffers and may be null. Seeded inputs.
#include <omp.h>

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "kernels/conv2d.h"
#include "kernels/cpu/conv2d_pack.h"
#include "kernels/cpu/conv2d_im2col.h"
#include "tests/common/check.h"

namespace {

using Vec = std::vector<float>;

Vec seeded(size_t n, uint64_t seed) {
  Vec v(n);
  uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
  for (auto& f : v) {  // splitmix64 -> [-1, 1)
    x += 0x9E3779B97F4A7C15ull;
    uint64_t z = x;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    f = float(z >> 40) / float(1 << 23) - 1.0f;
  }
  return v;
}

struct ThreadsGuard {
  int saved = omp_get_max_threads();
  explicit ThreadsGuard(int n) { omp_set_num_threads(n); }
  ~ThreadsGuard() { omp_set_num_threads(saved); }
};

using facet::cpu::ConvIm2col;
struct Im2colGuard {
  ConvIm2col saved = facet::cpu::conv_im2col();
  explicit Im2colGuard(ConvIm2col mode) { facet::cpu::set_conv_im2col(mode); }
  ~Im2colGuard() { facet::cpu::set_conv_im2col(saved); }
};
const char* name(ConvIm2col m) {
  return m == ConvIm2col::memory ? "memory" : m == ConvIm2col::packed ? "packed" : "automatic";
}

// {N, C, H, W, K, R, S, stride, pad}
const std::vector<facet::Conv2dDims> kShapes = {
    {1, 1, 1, 1, 1, 1, 1, 1, 0},    {3, 3, 7, 9, 5, 3, 3, 1, 1},   {5, 2, 9, 7, 3, 3, 3, 2, 1},
    {4, 3, 8, 8, 8, 1, 1, 1, 0},    {2, 5, 11, 6, 7, 5, 5, 1, 2},  {6, 4, 5, 5, 9, 3, 3, 2, 0},
    {64, 8, 2, 2, 16, 3, 3, 1, 1},  {33, 6, 4, 4, 8, 3, 3, 1, 1},  {2, 3, 33, 31, 4, 3, 3, 1, 1},
    {7, 2, 3, 3, 5, 3, 3, 1, 2},    {9, 4, 1, 1, 3, 1, 1, 1, 0},   {3, 2, 6, 6, 4, 3, 3, 3, 1},
    {3, 3, 4, 3, 6, 5, 5, 1, 2},    // kernel wider than the image: whole runs of padding
    {4, 40, 20, 19, 12, 3, 3, 1, 1},  // C*R*S = 360: the GEMM's depth is cut into slices mid-channel
    // large enough images that one image is split into several blocks of output rows
    {2, 16, 70, 70, 4, 3, 3, 1, 1}, {3, 32, 64, 60, 3, 3, 3, 2, 1}, {2, 64, 45, 45, 5, 1, 1, 1, 0}};

void check_shape(const facet::Conv2dDims& d, bool with_bias, bool with_din, uint64_t seed) {
  const size_t in_n = size_t(d.N) * d.C * d.H * d.W, w_n = size_t(d.K) * d.C * d.R * d.S;
  const size_t out_n = size_t(d.N) * d.K * d.P() * d.Q();
  const Vec x = seeded(in_n, seed), w = seeded(w_n, seed + 1), b = seeded(size_t(d.K), seed + 2);
  const Vec dy = seeded(out_n, seed + 3);
  const std::string what = "N=" + std::to_string(d.N) + " C=" + std::to_string(d.C) + " H=" + std::to_string(d.H) +
                           " W=" + std::to_string(d.W) + " K=" + std::to_string(d.K) + " R=" + std::to_string(d.R) +
                           " S=" + std::to_string(d.S) + " stride=" + std::to_string(d.stride) +
                           " pad=" + std::to_string(d.pad) + " threads=" + std::to_string(omp_get_max_threads());
  INFO(what);
  const double atol = 1e-5 * (d.C * d.R * d.S + 1), rtol = 1e-5;
  Vec y(out_n, 7.0f), y_ref(out_n, -7.0f);  // forward overwrites whatever was there
  facet::cpu::conv2d_forward(y.data(), x.data(), w.data(), with_bias ? b.data() : nullptr, d);
  facet::cpu::conv2d_forward_im2col(y_ref.data(), x.data(), w.data(), with_bias ? b.data() : nullptr, d);
  CHECK_ALL_CLOSE(y, y_ref, atol, rtol);
  // Gradients start non-zero: the kernels must add, not overwrite.
  Vec dx = seeded(in_n, seed + 4), dw = seeded(w_n, seed + 5), db = seeded(size_t(d.K), seed + 6);
  Vec dx_ref = dx, dw_ref = dw, db_ref = db;
  facet::cpu::conv2d_backward(with_din ? dx.data() : nullptr, dw.data(), db.data(), dy.data(), x.data(), w.data(), d);
  facet::cpu::conv2d_backward_im2col(with_din ? dx_ref.data() : nullptr, dw_ref.data(), db_ref.data(), dy.data(),
                                        x.data(), w.data(), d);
  const double g_atol = 1e-5 * (double(d.N) * d.P() * d.Q() + d.K + 1);
  CHECK_ALL_CLOSE(dx, dx_ref, atol * d.K, rtol);
  CHECK_ALL_CLOSE(dw, dw_ref, g_atol, 1e-4);
  CHECK_ALL_CLOSE(db, db_ref, g_atol, 1e-4);
}

}  // namespace

TEST_CASE("fast conv2d matches the im2col reference on odd shapes at 1 and 2 threads", "[conv2d][fast]") {
  uint64_t seed = 10;
  for (ConvIm2col m : {ConvIm2col::packed, ConvIm2col::memory, ConvIm2col::automatic}) {
    Im2colGuard mode(m);
    INFO("im2col " << name(m));
    for (int threads : {1, 2}) {
      ThreadsGuard guard(threads);
      for (const auto& d : kShapes) {
        check_shape(d, true, true, seed += 10);
        check_shape(d, false, false, seed += 10);
      }
    }
  }
}

// The fused packers write the very panels the GEMM would have packed from col, so packed and memory add the
// same products in the same order: outputs and gradients are bitwise equal. automatic shares their forward and
// input gradient, and on planes at most 8 wide the packed weight gradient too.
TEST_CASE("conv2d with im2col packed or in memory gives bitwise equal results, automatic too where it packs", "[conv2d][fast]") {
  if (!facet::cpu::conv_pack::available()) WARN("no AVX-512 here: both modes run the col-buffer path");
  uint64_t seed = 900;
  for (int threads : {1, 2}) {
    ThreadsGuard guard(threads);
    for (const auto& d : kShapes) {
      INFO("N=" << d.N << " C=" << d.C << " H=" << d.H << " W=" << d.W << " K=" << d.K << " R=" << d.R
                << " S=" << d.S << " stride=" << d.stride << " pad=" << d.pad << " threads=" << threads);
      const size_t in_n = size_t(d.N) * d.C * d.H * d.W, w_n = size_t(d.K) * d.C * d.R * d.S;
      const size_t out_n = size_t(d.N) * d.K * d.P() * d.Q();
      const Vec x = seeded(in_n, seed += 10), w = seeded(w_n, seed + 1), b = seeded(size_t(d.K), seed + 2);
      const Vec dy = seeded(out_n, seed + 3);
      const ConvIm2col modes[3] = {ConvIm2col::packed, ConvIm2col::memory, ConvIm2col::automatic};
      Vec y[3], dx[3], dw[3];
      for (int m = 0; m < 3; ++m) {
        Im2colGuard mode(modes[m]);
        y[m].assign(out_n, 0.0f);
        dx[m] = seeded(in_n, seed + 4);
        dw[m] = seeded(w_n, seed + 5);
        facet::cpu::conv2d_forward(y[m].data(), x.data(), w.data(), b.data(), d);
        facet::cpu::conv2d_backward(dx[m].data(), dw[m].data(), nullptr, dy.data(), x.data(), w.data(), d);
      }
      for (int m = 1; m < 3; ++m) {
        INFO("packed vs " << name(modes[m]));
        CHECK_ALL_CLOSE(y[0], y[m], 0.0, 0.0);
        CHECK_ALL_CLOSE(dx[0], dx[m], 0.0, 0.0);
        if (modes[m] == ConvIm2col::memory) CHECK_ALL_CLOSE(dw[0], dw[m], 0.0, 0.0);
      }
      // automatic's weight gradient on planes wider than 8 comes from sgemm_nt: other sums, equal to rounding
      // (the reference check above holds it to the tolerance); so does any strided one (no packers there).
      if (d.Q() <= 8 && d.stride == 1) CHECK_ALL_CLOSE(dw[0], dw[2], 0.0, 0.0);
    }
  }
}
