// Parity of every facet::cuda kernel with its facet::cpu twin, on the shapes that exercise the CUDA code
// paths the ops table (tests/kernels/test_ops_table.cpp, which also has a CUDA column) does not reach:
// several 64x64 GEMM tiles with ragged edges, K not a multiple of the 16-deep step, split-K weight gradients,
// several batch-norm splits per channel, multi-block reductions, softmax rows wider than a warp, Philox
// counter blocks cut by odd offsets, the naive conv kernels, and the optimizer updates (here against the
// formula of kernels/optim_update.h in double; tests/optim/test_update_kernels.cpp also compares them with
// their CPU twins, kernels/cpu/optim_update.cpp). Gradients start non-zero, so every backward
// is checked to accumulate (+=). Built twice: test_cuda runs it on the CPU emulator (facet_cuda_emu, every
// machine), test_cuda_gpu on the nvcc-built kernels (facet_cuda, when nvcc is found), where it needs a GPU
// and otherwise says it skipped.
//
// Tolerances (|cuda - cpu| <= atol + rtol*|cpu|), and why:
//   bit-exact (0, 0)  pointwise ops that are one rounding per element (relu, leakyrelu forward, add, mul,
//                     scale, fill, accumulate, slice_columns, sum_backward), maxpool2d (forward, argmax,
//                     backward gathered in the CPU's order), dropout (mask and output), softmax-CE
//                     backward's unlabelled rows.
//   1e-6 + 1e-6       pointwise ops with a multiply-add that nvcc may fuse (axpy, leakyrelu/mul/mse/dropout/
//                     CE backward).
//   1e-5 + 1e-5       softmax probabilities and CE losses (float vs the CPU's double sum of exp), sum,
//                     sum_squares, mse.
//   1e-4 + 1e-4       GEMM-based ops (sgemm, linear, conv2d forward and backward, implicit GEMM and naive):
//                     float sums in another order over up to a few hundred products of O(1) values;
//                     batchnorm2d (float Welford vs the CPU's double two-pass statistics).
//   1e-6..1e-8 + 1e-5 SGD/Adam/max-norm against the header's formula evaluated in double.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "kernels/activation.h"
#include "kernels/batchnorm2d.h"
#include "kernels/bn_act_pool.h"
#include "kernels/conv2d.h"
#include "kernels/cuda/conv2d_algorithms.h"
#include "kernels/dropout.h"
#include "kernels/elementwise.h"
#include "kernels/gemm.h"
#include "kernels/linear.h"
#include "kernels/maxpool2d.h"
#include "kernels/mse.h"
#include "kernels/optim_update.h"
#include "kernels/softmax_ce.h"
#include "tests/cuda/cuda_test_util.h"

using facet::test::Dev;
using facet::test::random_ints;
using facet::test::random_uniform;
using Vec = std::vector<float>;

namespace {

constexpr double kGemmTol = 1e-4;

// ---- GEMM-based
// ------------------------------------------------------------------------------------------------

void check_sgemm(bool ta, bool tb, int M, int N, int K, float alpha, float beta, int pad, uint64_t seed) {
  INFO("sgemm transA=" << ta << " transB=" << tb << " M=" << M << " N=" << N << " K=" << K
                       << " alpha=" << alpha << " beta=" << beta << " ld padding=" << pad);
  const int lda = (ta ? M : K) + pad, ldb = (tb ? K : N) + pad, ldc = N + pad;
  const Vec A = random_uniform(size_t(ta ? K : M) * lda, seed),
            B = random_uniform(size_t(tb ? N : K) * ldb, seed + 1);
  Vec C = random_uniform(size_t(M) * ldc, seed + 2);
  if (beta == 0.0f) C.assign(C.size(), std::numeric_limits<float>::quiet_NaN());  // must not be read
  Vec ref = C;
  facet::naive::sgemm(ta, tb, M, N, K, alpha, A.data(), lda, B.data(), ldb, beta, ref.data(), ldc);
  Dev<float> a(A), b(B), c(C);
  facet::cuda::sgemm(ta, tb, M, N, K, alpha, a.get(), lda, b.get(), ldb, beta, c.get(), ldc);
  Vec got = c.to_host();
  for (int i = 0; i < M; ++i)  // the padding columns are not part of C: copy them over from the reference
    for (int j = N; j < ldc; ++j) got[size_t(i) * ldc + j] = ref[size_t(i) * ldc + j];
  if (beta == 0.0f && pad > 0)
    for (int i = 0; i < M; ++i)
      for (int j = N; j < ldc; ++j) got[size_t(i) * ldc + j] = ref[size_t(i) * ldc + j] = 0.0f;
  CHECK_ALL_CLOSE(got, ref, kGemmTol, kGemmTol);
}

void check_conv2d(const facet::Conv2dDims& d, bool bias, uint64_t seed) {
  INFO("conv2d N=" << d.N << " C=" << d.C << " H=" << d.H << " W=" << d.W << " K=" << d.K << " R=" << d.R
                   << " S=" << d.S << " stride=" << d.stride << " pad=" << d.pad << " bias=" << bias);
  const size_t n_in = size_t(d.N) * d.C * d.H * d.W, n_w = size_t(d.K) * d.C * d.R * d.S;
  const size_t n_out = size_t(d.N) * d.K * d.P() * d.Q();
  const Vec x = random_uniform(n_in, seed), w = random_uniform(n_w, seed + 1),
            b = random_uniform(size_t(d.K), seed + 2);
  const Vec dy = random_uniform(n_out, seed + 3);
  const Vec gx0 = random_uniform(n_in, seed + 4), gw0 = random_uniform(n_w, seed + 5);
  const Vec gb0 = random_uniform(size_t(d.K), seed + 6);

  Vec y_ref(n_out), gx_ref = gx0, gw_ref = gw0, gb_ref = gb0;
  facet::cpu::conv2d_forward(y_ref.data(), x.data(), w.data(), bias ? b.data() : nullptr, d);
  facet::cpu::conv2d_backward(gx_ref.data(), gw_ref.data(), bias ? gb_ref.data() : nullptr, dy.data(),
                              x.data(), w.data(), d);

  for (auto algorithm : {facet::cuda::Conv2dAlgorithm::implicit_gemm, facet::cuda::Conv2dAlgorithm::naive}) {
    INFO((algorithm == facet::cuda::Conv2dAlgorithm::naive ? "naive direct kernels" : "implicit GEMM"));
    facet::cuda::set_conv2d_algorithm(algorithm);
    Dev<float> dx(x), dw(w), db(b), ddy(dy), out(n_out), gx(gx0), gw(gw0), gb(gb0);
    facet::cuda::conv2d_forward(out.get(), dx.get(), dw.get(), bias ? db.get() : nullptr, d);
    facet::cuda::conv2d_backward(gx.get(), gw.get(), bias ? gb.get() : nullptr, ddy.get(), dx.get(), dw.get(),
                                 d);
    CHECK_ALL_CLOSE(out.to_host(), y_ref, kGemmTol, kGemmTol);
    CHECK_ALL_CLOSE(gx.to_host(), gx_ref, kGemmTol, kGemmTol);
    CHECK_ALL_CLOSE(gw.to_host(), gw_ref, kGemmTol, kGemmTol);
    if (bias)
      CHECK_ALL_CLOSE(gb.to_host(), gb_ref, kGemmTol, kGemmTol);
    else
      CHECK_ALL_CLOSE(gb.to_host(), gb0, 0.0, 0.0);  // null dbias: untouched buffer stays as it was
    // Only the weight gradient wanted: the others are null and nothing else changes.
    Dev<float> gw_alone(gw0);
    facet::cuda::conv2d_backward(nullptr, gw_alone.get(), nullptr, ddy.get(), dx.get(), dw.get(), d);
    CHECK_ALL_CLOSE(gw_alone.to_host(), gw_ref, kGemmTol, kGemmTol);
  }
  facet::cuda::set_conv2d_algorithm(facet::cuda::Conv2dAlgorithm::implicit_gemm);
}

}  // namespace

TEST_CASE("cuda parity: sgemm over ragged 64x64 tiles, every transpose, alpha/beta, padded strides",
          "[cuda][parity]") {
  if (!facet::test::cuda_device_or_skip()) return;
  uint64_t seed = 10;
  for (bool ta : {false, true})
    for (bool tb : {false, true}) check_sgemm(ta, tb, 67, 70, 35, 1.5f, 0.0f, 0, seed += 3);
  check_sgemm(false, false, 65, 3, 17, 1.0f, 0.5f, 3, seed += 3);
  check_sgemm(true, true, 5, 129, 16, -0.5f, 1.0f, 1, seed += 3);
  check_sgemm(false, true, 7, 9, 0, 1.0f, 2.0f, 0, seed += 3);  // K = 0: C = beta * C
}

TEST_CASE("cuda parity: linear forward and backward across GEMM tiles", "[cuda][parity]") {
  if (!facet::test::cuda_device_or_skip()) return;
  for (const bool bias : {true, false}) {
    const int B = 65, IN = 37, OUT = 70;
    INFO("B=" << B << " IN=" << IN << " OUT=" << OUT << " bias=" << bias);
    const Vec x = random_uniform(size_t(B) * IN, 1), w = random_uniform(size_t(OUT) * IN, 2);
    const Vec b = random_uniform(size_t(OUT), 3), dy = random_uniform(size_t(B) * OUT, 4);
    const Vec gx0 = random_uniform(x.size(), 5), gw0 = random_uniform(w.size(), 6),
              gb0 = random_uniform(b.size(), 7);
    Vec y_ref(size_t(B) * OUT), gx_ref = gx0, gw_ref = gw0, gb_ref = gb0;
    facet::cpu::linear_forward(y_ref.data(), x.data(), w.data(), bias ? b.data() : nullptr, B, IN, OUT);
    facet::cpu::linear_backward(gx_ref.data(), gw_ref.data(), gb_ref.data(), dy.data(), x.data(), w.data(), B,
                                IN, OUT);
    Dev<float> dx(x), dw(w), db(b), ddy(dy), out(y_ref.size()), gx(gx0), gw(gw0), gb(gb0);
    facet::cuda::linear_forward(out.get(), dx.get(), dw.get(), bias ? db.get() : nullptr, B, IN, OUT);
    facet::cuda::linear_backward(gx.get(), gw.get(), gb.get(), ddy.get(), dx.get(), dw.get(), B, IN, OUT);
    CHECK_ALL_CLOSE(out.to_host(), y_ref, kGemmTol, kGemmTol);
    CHECK_ALL_CLOSE(gx.to_host(), gx_ref, kGemmTol, kGemmTol);
    CHECK_ALL_CLOSE(gw.to_host(), gw_ref, kGemmTol, kGemmTol);
    CHECK_ALL_CLOSE(gb.to_host(), gb_ref, kGemmTol, kGemmTol);
  }
}

TEST_CASE("cuda parity: conv2d implicit GEMM (split-K, tile edges, strides) and naive kernels",
          "[cuda][parity]") {
  if (!facet::test::cuda_device_or_skip()) return;
  check_conv2d({.N = 2, .C = 3, .H = 13, .W = 13, .K = 5, .R = 3, .S = 3, .stride = 1, .pad = 1}, true,
               100);  // 3 K-slices
  check_conv2d({.N = 1, .C = 2, .H = 9, .W = 7, .K = 70, .R = 3, .S = 3, .stride = 1, .pad = 1}, true,
               200);  // 2 M-tiles
  check_conv2d({.N = 2, .C = 3, .H = 11, .W = 10, .K = 4, .R = 5, .S = 5, .stride = 3, .pad = 2}, false, 300);
  check_conv2d({.N = 3, .C = 5, .H = 8, .W = 9, .K = 3, .R = 2, .S = 3, .stride = 2, .pad = 0}, true, 400);
  check_conv2d({.N = 2, .C = 30, .H = 4, .W = 5, .K = 6, .R = 3, .S = 3, .stride = 1, .pad = 1}, true,
               500);  // CRS 270
}

TEST_CASE("cuda parity: fused bn_act_pool with several splits per channel, overlapping windows",
          "[cuda][parity]") {
  if (!facet::test::cuda_device_or_skip()) return;
  const double tol = 1e-4;  // as batchnorm2d: float Welford and float window sums vs the CPU's double
  struct Shape {
    int N, C, H, W, k, stride, pad;
    float alpha;
    bool affine;
  };
  // 2 x 131 x 131 at 2x2/2: 8,450 windows per channel (3 splits of the backward sums); 3x3/2 pad 1 windows
  // overlap, so one cell can win two; 7x5 leaves a row and a column unpooled.
  for (const Shape s : {Shape{2, 2, 131, 131, 2, 2, 0, 0.01f, true}, Shape{3, 3, 9, 8, 3, 2, 1, 0.0f, true},
                        Shape{2, 2, 7, 5, 2, 2, 0, 0.2f, false}}) {
    const facet::Pool2dDims d{s.N, s.C, s.H, s.W, s.k, s.stride, s.pad};
    INFO("N=" << s.N << " C=" << s.C << " H=" << s.H << " W=" << s.W << " window " << s.k << "/" << s.stride
              << " pad " << s.pad << " alpha=" << s.alpha << " affine=" << s.affine);
    const size_t n = size_t(d.N) * d.C * d.H * d.W, n_out = size_t(d.N) * d.C * d.P() * d.Q(), C = size_t(d.C);
    const Vec x = random_uniform(n, 41, -1.0f, 3.0f);
    const Vec gamma = random_uniform(C, 42, 0.5f, 1.5f), beta = random_uniform(C, 43);
    const Vec rm0 = random_uniform(C, 44), rv0 = random_uniform(C, 45, 0.5f, 1.5f);
    const Vec dy = random_uniform(n_out, 46), gx0 = random_uniform(n, 47), gg0 = random_uniform(C, 48);
    const Vec gb0 = random_uniform(C, 49);
    const float* g = s.affine ? gamma.data() : nullptr;
    const float* b = s.affine ? beta.data() : nullptr;
    for (bool training : {true, false}) {
      INFO((training ? "batch statistics" : "running statistics"));
      Vec y_ref(n_out), mean_ref(C), rstd_ref(C), rm_ref = rm0, rv_ref = rv0;
      std::vector<int32_t> am_ref(n_out);
      facet::cpu::bn_act_pool_forward(y_ref.data(), am_ref.data(), mean_ref.data(), rstd_ref.data(), rm_ref.data(),
                                      rv_ref.data(), x.data(), g, b, training, 0.1f, 1e-5f, s.alpha, d);
      Dev<float> dx(x), dgam(gamma), dbet(beta), out(n_out), mean(C), rstd(C), rm(rm0), rv(rv0);
      Dev<int32_t> am(n_out);
      facet::cuda::bn_act_pool_forward(out.get(), am.get(), mean.get(), rstd.get(), rm.get(), rv.get(), dx.get(),
                                       s.affine ? dgam.get() : nullptr, s.affine ? dbet.get() : nullptr, training,
                                       0.1f, 1e-5f, s.alpha, d);
      CHECK_ALL_CLOSE(out.to_host(), y_ref, tol, tol);
      CHECK_ALL_CLOSE(mean.to_host(), mean_ref, tol, tol);
      CHECK_ALL_CLOSE(rstd.to_host(), rstd_ref, tol, tol);
      CHECK_ALL_CLOSE(rm.to_host(), rm_ref, tol, tol);
      CHECK_ALL_CLOSE(rv.to_host(), rv_ref, tol, tol);
      if (!training) continue;
      // Random inputs: the winners may differ only where two cells' activations are within rounding, which
      // O(1) uniform values make (measured) never happen on these shapes; backward then starts from the CPU's
      // saved state so only the backward kernels are compared.
      CHECK_ALL_CLOSE(am.to_host(), am_ref, 0.0, 0.0);
      Vec gx_ref = gx0, gg_ref = gg0, gb_ref = gb0;
      facet::cpu::bn_act_pool_backward(gx_ref.data(), gg_ref.data(), gb_ref.data(), dy.data(), am_ref.data(),
                                       x.data(), g, b, mean_ref.data(), rstd_ref.data(), s.alpha, d);
      Dev<float> ddy(dy), dmean(mean_ref), drstd(rstd_ref), gx(gx0), gg(gg0), gb(gb0);
      Dev<int32_t> dam(am_ref);
      facet::cuda::bn_act_pool_backward(gx.get(), gg.get(), gb.get(), ddy.get(), dam.get(), dx.get(),
                                        s.affine ? dgam.get() : nullptr, s.affine ? dbet.get() : nullptr,
                                        dmean.get(), drstd.get(), s.alpha, d);
      CHECK_ALL_CLOSE(gx.to_host(), gx_ref, tol, tol);
      CHECK_ALL_CLOSE(gg.to_host(), gg_ref, tol, tol);
      CHECK_ALL_CLOSE(gb.to_host(), gb_ref, tol, tol);
    }
  }
}

TEST_CASE("cuda parity: conv2d with batch statistics, batchnorm folding, bn_act_pool_apply", "[cuda][parity]") {
  if (!facet::test::cuda_device_or_skip()) return;
  const double tol = 1e-4;  // GEMM-based outputs and float Welford statistics, as conv2d and batchnorm2d
  // 3 x 8 x 40 x 40 -> 6 channels: 4,800 values per channel (several Welford splits on the device; on the CPU
  // one chunk per image in row blocks), and a 1-image batch (the CPU's reference path).
  for (const facet::Conv2dDims d : {facet::Conv2dDims{3, 8, 40, 40, 6, 3, 3, 1, 1}, facet::Conv2dDims{1, 4, 9, 9, 5, 3, 3, 2, 1}}) {
    INFO("N=" << d.N << " C=" << d.C << " H=" << d.H << " W=" << d.W << " K=" << d.K);
    const int CRS = d.C * d.R * d.S, PQ = d.P() * d.Q();
    const size_t nx = size_t(d.N) * d.C * d.H * d.W, ny = size_t(d.N) * d.K * PQ, K = size_t(d.K);
    const Vec x = random_uniform(nx, 61), w = random_uniform(K * CRS, 62), bias = random_uniform(K, 63);
    const Vec gamma = random_uniform(K, 64, 0.5f, 1.5f), beta = random_uniform(K, 65);
    const Vec rm0 = random_uniform(K, 66), rv0 = random_uniform(K, 67, 0.5f, 1.5f);
    Vec y_ref(ny), mean_ref(K), rstd_ref(K), rm_ref = rm0, rv_ref = rv0;
    facet::cpu::conv2d_forward_bn_stats(y_ref.data(), mean_ref.data(), rstd_ref.data(), rm_ref.data(), rv_ref.data(),
                                        x.data(), w.data(), bias.data(), 0.1f, 1e-5f, d);
    Dev<float> dx(x), dw(w), db(bias), dg(gamma), dbe(beta), y(ny), mean(K), rstd(K), rm(rm0), rv(rv0);
    facet::cuda::conv2d_forward_bn_stats(y.get(), mean.get(), rstd.get(), rm.get(), rv.get(), dx.get(), dw.get(),
                                         db.get(), 0.1f, 1e-5f, d);
    CHECK_ALL_CLOSE(y.to_host(), y_ref, tol, tol);
    CHECK_ALL_CLOSE(mean.to_host(), mean_ref, tol, tol);
    CHECK_ALL_CLOSE(rstd.to_host(), rstd_ref, tol, tol);
    CHECK_ALL_CLOSE(rm.to_host(), rm_ref, tol, tol);
    CHECK_ALL_CLOSE(rv.to_host(), rv_ref, tol, tol);
    // Folding: one rounding per weight from the same double a_k.
    Vec fw_ref(K * CRS), fb_ref(K);
    facet::cpu::conv2d_fold_batchnorm(fw_ref.data(), fb_ref.data(), w.data(), bias.data(), gamma.data(), beta.data(),
                                      rm0.data(), rv0.data(), 1e-5f, d.K, CRS);
    Dev<float> fw(K * CRS), fb(K), drm(rm0), drv(rv0);
    facet::cuda::conv2d_fold_batchnorm(fw.get(), fb.get(), dw.get(), db.get(), dg.get(), dbe.get(), drm.get(),
                                       drv.get(), 1e-5f, d.K, CRS);
    CHECK_ALL_CLOSE(fw.to_host(), fw_ref, 1e-7, 1e-6);
    CHECK_ALL_CLOSE(fb.to_host(), fb_ref, 1e-7, 1e-6);
    // Apply with the CPU's statistics on the CPU's output: the pooled values and winners.
    const facet::Pool2dDims pd{d.N, d.K, d.P(), d.Q(), 2, 2, 0};
    const size_t n_out = size_t(pd.N) * pd.C * pd.P() * pd.Q();
    Vec out_ref(n_out);
    std::vector<int32_t> am_ref(n_out);
    facet::cpu::bn_act_pool_apply(out_ref.data(), am_ref.data(), y_ref.data(), mean_ref.data(), rstd_ref.data(),
                                  gamma.data(), beta.data(), 0.01f, pd);
    Dev<float> dy(y_ref), dmean(mean_ref), drstd(rstd_ref), out(n_out);
    Dev<int32_t> am(n_out);
    facet::cuda::bn_act_pool_apply(out.get(), am.get(), dy.get(), dmean.get(), drstd.get(), dg.get(), dbe.get(), 0.01f,
                                   pd);
    CHECK_ALL_CLOSE(out.to_host(), out_ref, 1e-6, 1e-6);
    CHECK_ALL_CLOSE(am.to_host(), am_ref, 0.0, 0.0);
  }
}

TEST_CASE("cuda parity: batchnorm2d with several Welford splits per channel", "[cuda][parity]") {
  if (!facet::test::cuda_device_or_skip()) return;
  const double tol = 1e-4;
  struct Shape {
    int N, C, HW;
    bool affine;
  };
  for (const Shape s : {Shape{3, 2, 41 * 37, true}, Shape{2, 3, 5, false}, Shape{1, 2, 1, true}}) {
    const int N = s.N, C = s.C, HW = s.HW;
    INFO("N=" << N << " C=" << C << " HW=" << HW << " affine=" << s.affine);
    const size_t n = size_t(N) * C * HW;
    Vec x = random_uniform(n, 21, -1.0f, 3.0f);
    const Vec gamma = random_uniform(size_t(C), 22, 0.5f, 1.5f), beta = random_uniform(size_t(C), 23);
    const Vec rm0 = random_uniform(size_t(C), 24), rv0 = random_uniform(size_t(C), 25, 0.5f, 1.5f);
    const Vec dy = random_uniform(n, 26), gx0 = random_uniform(n, 27), gg0 = random_uniform(size_t(C), 28);
    const Vec gb0 = random_uniform(size_t(C), 29);
    const float* g = s.affine ? gamma.data() : nullptr;
    const float* b = s.affine ? beta.data() : nullptr;

    Vec y_ref(n), mean_ref(static_cast<size_t>(C)), rstd_ref(static_cast<size_t>(C)), rm_ref = rm0,
                                                                                      rv_ref = rv0, ye_ref(n);
    facet::cpu::batchnorm2d_forward_train(y_ref.data(), mean_ref.data(), rstd_ref.data(), rm_ref.data(),
                                          rv_ref.data(), x.data(), g, b, N, C, HW, 0.1f, 1e-5f);
    facet::cpu::batchnorm2d_forward_eval(ye_ref.data(), x.data(), g, b, rm0.data(), rv0.data(), N, C, HW,
                                         1e-5f);
    Vec gx_ref = gx0, gg_ref = gg0, gb_ref = gb0;
    facet::cpu::batchnorm2d_backward(gx_ref.data(), gg_ref.data(), gb_ref.data(), dy.data(), x.data(), g,
                                     mean_ref.data(), rstd_ref.data(), N, C, HW);

    Dev<float> dx(x), dgam(gamma), dbet(beta), out(n), mean(static_cast<size_t>(C)),
        rstd(static_cast<size_t>(C)), rm(rm0), rv(rv0), eval(n);
    facet::cuda::batchnorm2d_forward_train(out.get(), mean.get(), rstd.get(), rm.get(), rv.get(), dx.get(),
                                           s.affine ? dgam.get() : nullptr, s.affine ? dbet.get() : nullptr,
                                           N, C, HW, 0.1f, 1e-5f);
    facet::cuda::batchnorm2d_forward_eval(eval.get(), dx.get(), s.affine ? dgam.get() : nullptr,
                                          s.affine ? dbet.get() : nullptr, Dev<float>(rm0).get(),
                                          Dev<float>(rv0).get(), N, C, HW, 1e-5f);
    CHECK_ALL_CLOSE(out.to_host(), y_ref, tol, tol);
    CHECK_ALL_CLOSE(mean.to_host(), mean_ref, tol, tol);
    CHECK_ALL_CLOSE(rstd.to_host(), rstd_ref, tol, tol);
    CHECK_ALL_CLOSE(rm.to_host(), rm_ref, tol, tol);
    CHECK_ALL_CLOSE(rv.to_host(), rv_ref, tol, tol);
    CHECK_ALL_CLOSE(eval.to_host(), ye_ref, tol, tol);

    // Backward from the CPU's saved statistics, so only the backward kernels are compared.
    Dev<float> ddy(dy), dmean(mean_ref), drstd(rstd_ref), gx(gx0), gg(gg0), gb(gb0);
    facet::cuda::batchnorm2d_backward(gx.get(), gg.get(), gb.get(), ddy.get(), dx.get(),
                                      s.affine ? dgam.get() : nullptr, dmean.get(), drstd.get(), N, C, HW);
    CHECK_ALL_CLOSE(gx.to_host(), gx_ref, tol, tol);
    CHECK_ALL_CLOSE(gg.to_host(), gg_ref, tol, tol);
    CHECK_ALL_CLOSE(gb.to_host(), gb_ref, tol, tol);
  }
}

TEST_CASE("cuda parity: maxpool2d bit-exact, overlapping windows, padding, ties and NaN", "[cuda][parity]") {
  if (!facet::test::cuda_device_or_skip()) return;
  struct Case {
    facet::Pool2dDims d;
    bool ties;
  };
  for (const Case c : {Case{{3, 2, 9, 11, 3, 2, 1}, false}, Case{{2, 3, 8, 8, 2, 2, 0}, true},
                       Case{{1, 2, 7, 6, 3, 1, 1}, true}, Case{{2, 1, 10, 9, 4, 3, 2}, false}}) {
    const facet::Pool2dDims& d = c.d;
    INFO("N=" << d.N << " C=" << d.C << " H=" << d.H << " W=" << d.W << " k=" << d.k << " stride=" << d.stride
              << " pad=" << d.pad << " ties=" << c.ties);
    const size_t n = size_t(d.N) * d.C * d.H * d.W, n_out = size_t(d.N) * d.C * d.P() * d.Q();
    Vec x = c.ties ? random_ints(n, 31, 0, 2) : random_uniform(n, 31);
    x[5] = std::numeric_limits<float>::quiet_NaN();  // a NaN wins its windows, as on the CPU
    const Vec dy = random_uniform(n_out, 32), gx0 = random_uniform(n, 33);
    Vec y_ref(n_out), gx_ref = gx0;
    std::vector<int32_t> am_ref(n_out);
    facet::cpu::maxpool2d_forward(y_ref.data(), am_ref.data(), x.data(), d);
    facet::cpu::maxpool2d_backward(gx_ref.data(), dy.data(), am_ref.data(), d);
    Dev<float> dx(x), out(n_out), ddy(dy), gx(gx0);
    Dev<int32_t> am(n_out);
    facet::cuda::maxpool2d_forward(out.get(), am.get(), dx.get(), d);
    facet::cuda::maxpool2d_backward(gx.get(), ddy.get(), am.get(), d);
    const Vec y = out.to_host();
    REQUIRE(am.to_host() == am_ref);
    for (size_t i = 0; i < n_out; ++i) {  // bit-exact, NaN where the CPU has NaN
      INFO("output " << i);
      REQUIRE((std::isnan(y[i]) ? std::isnan(y_ref[i]) : y[i] == y_ref[i]));
    }
    CHECK_ALL_CLOSE(gx.to_host(), gx_ref, 0.0, 0.0);
  }
}

TEST_CASE("cuda parity: dropout masks and outputs bit-exact for odd offsets and lengths", "[cuda][parity]") {
  if (!facet::test::cuda_device_or_skip()) return;
  for (const uint64_t offset : {0ull, 1ull, 2ull, 3ull, 5ull, 4000000007ull, (1ull << 34) - 2})
    for (const int64_t n : {1, 2, 3, 7, 1001}) {
      const float p = 0.37f;
      const uint64_t seed = 0xC0FFEEull + offset;
      INFO("offset=" << offset << " n=" << n);
      const Vec x = random_uniform(size_t(n), 41), dy = random_uniform(size_t(n), 42),
                gx0 = random_uniform(size_t(n), 43);
      Vec y_ref(static_cast<size_t>(n)), gx_ref = gx0;
      std::vector<uint8_t> mask_ref(static_cast<size_t>(n));
      facet::cpu::dropout_forward(y_ref.data(), mask_ref.data(), x.data(), n, p, seed, offset);
      facet::cpu::dropout_backward(gx_ref.data(), dy.data(), mask_ref.data(), n, p);
      Dev<float> dx(x), out(static_cast<size_t>(n)), ddy(dy), gx(gx0);
      Dev<uint8_t> mask(static_cast<size_t>(n), uint8_t(7));
      facet::cuda::dropout_forward(out.get(), mask.get(), dx.get(), n, p, seed, offset);
      facet::cuda::dropout_backward(gx.get(), ddy.get(), mask.get(), n, p);
      REQUIRE(mask.to_host() == mask_ref);
      CHECK_ALL_CLOSE(out.to_host(), y_ref, 0.0, 0.0);
      CHECK_ALL_CLOSE(gx.to_host(), gx_ref, 1e-6, 1e-6);
    }
}

TEST_CASE("cuda parity: softmax and cross-entropy, rows wider than a warp, -1 and out-of-range targets",
          "[cuda][parity]") {
  if (!facet::test::cuda_device_or_skip()) return;
  struct Case {
    int B, C;
    float eps;
    bool weighted;
  };
  for (const Case c :
       {Case{9, 40, 0.1f, true}, Case{6, 1, 0.0f, false}, Case{5, 33, 0.0f, false}, Case{4, 7, 0.2f, true}}) {
    INFO("B=" << c.B << " C=" << c.C << " label_smoothing=" << c.eps << " weighted=" << c.weighted);
    const size_t n = size_t(c.B) * c.C;
    const Vec z = random_uniform(n, 51, -8.0f, 8.0f), dl = random_uniform(size_t(c.B), 52),
              gz0 = random_uniform(n, 53);
    const Vec wts = random_uniform(size_t(c.C), 54, 0.5f, 2.0f);
    std::vector<int32_t> y(size_t(c.B));
    for (int b = 0; b < c.B; ++b) y[size_t(b)] = (b * 7 + 3) % c.C;
    y[0] = -1;
    if (c.B > 2) y[2] = c.C;  // out of range: treated as unlabelled, as on the CPU
    const float* w = c.weighted ? wts.data() : nullptr;
    Vec loss_ref(size_t(c.B)), p_ref(n), sm_ref(n), gz_ref = gz0;
    facet::cpu::softmax_cross_entropy_forward(loss_ref.data(), p_ref.data(), z.data(), y.data(), w, c.B, c.C,
                                              c.eps);
    facet::cpu::softmax_forward(sm_ref.data(), z.data(), c.B, c.C);
    facet::cpu::softmax_cross_entropy_backward(gz_ref.data(), dl.data(), p_ref.data(), y.data(), w, c.B, c.C,
                                               c.eps);
    Dev<float> dz(z), loss(size_t(c.B), 99.0f), probs(n), sm(n), ddl(dl), gz(gz0), dw(wts);
    Dev<int32_t> dy(y);
    const float* dwp = c.weighted ? dw.get() : nullptr;
    facet::cuda::softmax_cross_entropy_forward(loss.get(), probs.get(), dz.get(), dy.get(), dwp, c.B, c.C,
                                               c.eps);
    facet::cuda::softmax_forward(sm.get(), dz.get(), c.B, c.C);
    facet::cuda::softmax_cross_entropy_backward(gz.get(), ddl.get(), probs.get(), dy.get(), dwp, c.B, c.C,
                                                c.eps);
    CHECK_ALL_CLOSE(loss.to_host(), loss_ref, 1e-5, 1e-5);
    CHECK_ALL_CLOSE(probs.to_host(), p_ref, 1e-5, 1e-5);
    CHECK_ALL_CLOSE(sm.to_host(), sm_ref, 1e-5, 1e-5);
    const Vec gz_got = gz.to_host();
    CHECK_ALL_CLOSE(gz_got, gz_ref, 1e-6, 1e-6);
    for (int col = 0; col < c.C; ++col) REQUIRE(gz_got[size_t(col)] == gz0[size_t(col)]);  // row 0 unlabelled
  }
}

TEST_CASE("cuda parity: multi-block reductions (sum, sum_squares, mse)", "[cuda][parity]") {
  if (!facet::test::cuda_device_or_skip()) return;
  for (const int64_t n : {int64_t(0), int64_t(1), int64_t(100003)}) {
    INFO("n=" << n);
    const Vec x = random_uniform(size_t(n), 61), t = random_uniform(size_t(n), 62),
              g0 = random_uniform(size_t(n), 63);
    float s_ref = 0, ss_ref = 0, mse_ref = 0;
    facet::cpu::sum_forward(&s_ref, x.data(), n);
    facet::cpu::sum_squares(&ss_ref, x.data(), n);
    facet::cpu::mse_forward(&mse_ref, x.data(), t.data(), n);
    const float dloss = 0.75f;
    Vec g_ref = g0;
    facet::cpu::mse_backward(g_ref.data(), &dloss, x.data(), t.data(), n);
    Dev<float> dx(x), dt(t), s(1, 5.0f), ss(1, 5.0f), mse(1, 5.0f), dl(1, dloss), g(g0);
    facet::cuda::sum_forward(s.get(), dx.get(), n);
    facet::cuda::sum_squares(ss.get(), dx.get(), n);
    facet::cuda::mse_forward(mse.get(), dx.get(), dt.get(), n);
    facet::cuda::mse_backward(g.get(), dl.get(), dx.get(), dt.get(), n);
    CHECK_ALL_CLOSE(s.to_host(), Vec{s_ref}, 1e-5, 1e-5);
    CHECK_ALL_CLOSE(ss.to_host(), Vec{ss_ref}, 1e-5, 1e-5);
    CHECK_ALL_CLOSE(mse.to_host(), Vec{mse_ref}, 1e-5, 1e-5);
    CHECK_ALL_CLOSE(g.to_host(), g_ref, 1e-6, 1e-6);
  }
}

TEST_CASE("cuda parity: pointwise ops and activations bit-exact", "[cuda][parity]") {
  if (!facet::test::cuda_device_or_skip()) return;
  const int64_t n = 1537;  // 6 blocks of 256 and a ragged end
  const Vec a = random_uniform(size_t(n), 71), b = random_uniform(size_t(n), 72),
            d = random_uniform(size_t(n), 73);
  auto cpu = [&](auto fn) {
    Vec out = random_uniform(size_t(n), 74);
    fn(out.data());
    return out;
  };
  auto gpu = [&](auto fn) {
    Dev<float> da(a), db(b), dd(d), out(random_uniform(size_t(n), 74));
    fn(out.get(), da.get(), db.get(), dd.get());
    return out.to_host();
  };
  using namespace facet;
  CHECK_ALL_CLOSE(gpu([&](float* o, float* x, float*, float*) { cuda::relu_forward(o, x, n); }),
                  cpu([&](float* o) { cpu::relu_forward(o, a.data(), n); }), 0.0, 0.0);
  CHECK_ALL_CLOSE(gpu([&](float* o, float* x, float*, float* g) { cuda::relu_backward(o, g, x, n); }),
                  cpu([&](float* o) { cpu::relu_backward(o, d.data(), a.data(), n); }), 0.0, 0.0);
  CHECK_ALL_CLOSE(gpu([&](float* o, float* x, float*, float*) { cuda::leakyrelu_forward(o, x, n, 0.1f); }),
                  cpu([&](float* o) { cpu::leakyrelu_forward(o, a.data(), n, 0.1f); }), 0.0, 0.0);
  CHECK_ALL_CLOSE(
      gpu([&](float* o, float* x, float*, float* g) { cuda::leakyrelu_backward(o, g, x, n, 0.1f); }),
      cpu([&](float* o) { cpu::leakyrelu_backward(o, d.data(), a.data(), n, 0.1f); }), 1e-6, 1e-6);
  CHECK_ALL_CLOSE(gpu([&](float* o, float* x, float* y, float*) { cuda::add_forward(o, x, y, n); }),
                  cpu([&](float* o) { cpu::add_forward(o, a.data(), b.data(), n); }), 0.0, 0.0);
  CHECK_ALL_CLOSE(gpu([&](float* o, float* x, float* y, float*) { cuda::mul_forward(o, x, y, n); }),
                  cpu([&](float* o) { cpu::mul_forward(o, a.data(), b.data(), n); }), 0.0, 0.0);
  CHECK_ALL_CLOSE(gpu([&](float* o, float* x, float*, float*) { cuda::scale_forward(o, x, -1.25f, n); }),
                  cpu([&](float* o) { cpu::scale_forward(o, a.data(), -1.25f, n); }), 0.0, 0.0);
  CHECK_ALL_CLOSE(gpu([&](float* o, float*, float*, float*) { cuda::fill(o, 0.3f, n); }),
                  cpu([&](float* o) { cpu::fill(o, 0.3f, n); }), 0.0, 0.0);
  CHECK_ALL_CLOSE(gpu([&](float* o, float* x, float*, float*) { cuda::accumulate(o, x, n); }),
                  cpu([&](float* o) { cpu::accumulate(o, a.data(), n); }), 0.0, 0.0);
  CHECK_ALL_CLOSE(gpu([&](float* o, float* x, float*, float*) { cuda::axpy(o, 0.7f, x, n); }),
                  cpu([&](float* o) { cpu::axpy(o, 0.7f, a.data(), n); }), 1e-6, 1e-6);
  CHECK_ALL_CLOSE(gpu([&](float* o, float*, float*, float* g) { cuda::sum_backward(o, g, n); }),
                  cpu([&](float* o) { cpu::sum_backward(o, d.data(), n); }), 0.0, 0.0);
  // mul backward into two buffers, and with one of them null
  for (int which = 0; which < 3; ++which) {
    INFO("mul_backward gradients wanted: " << (which == 0 ? "both" : which == 1 ? "da only" : "db only"));
    Vec da_ref = random_uniform(size_t(n), 75), db_ref = random_uniform(size_t(n), 76);
    Dev<float> dda(da_ref), ddb(db_ref), dd(d), da(a), db(b);
    facet::cpu::mul_backward(which != 2 ? da_ref.data() : nullptr, which != 1 ? db_ref.data() : nullptr,
                             d.data(), a.data(), b.data(), n);
    facet::cuda::mul_backward(which != 2 ? dda.get() : nullptr, which != 1 ? ddb.get() : nullptr, dd.get(),
                              da.get(), db.get(), n);
    CHECK_ALL_CLOSE(dda.to_host(), da_ref, 1e-6, 1e-6);
    CHECK_ALL_CLOSE(ddb.to_host(), db_ref, 1e-6, 1e-6);
  }
  // slice_columns on a (B, D) matrix
  const int B = 13, D = 118, start = 37, width = 45;
  const Vec m = random_uniform(size_t(B) * D, 77), dm = random_uniform(size_t(B) * width, 78);
  Vec s_ref(size_t(B) * width), gs_ref = random_uniform(m.size(), 79);
  Dev<float> dmat(m), s(s_ref.size()), ddm(dm), gs(gs_ref);
  facet::cpu::slice_columns_forward(s_ref.data(), m.data(), B, D, start, width);
  facet::cpu::slice_columns_backward(gs_ref.data(), dm.data(), B, D, start, width);
  facet::cuda::slice_columns_forward(s.get(), dmat.get(), B, D, start, width);
  facet::cuda::slice_columns_backward(gs.get(), ddm.get(), B, D, start, width);
  CHECK_ALL_CLOSE(s.to_host(), s_ref, 0.0, 0.0);
  CHECK_ALL_CLOSE(gs.to_host(), gs_ref, 0.0, 0.0);
}

// ---- optimizer updates: the formula of kernels/optim_update.h in double (CPU twins: tests/optim) ----------

TEST_CASE("cuda parity: SGD and Adam updates and max-norm rows against the header's formulas",
          "[cuda][parity]") {
  if (!facet::test::cuda_device_or_skip()) return;
  const int64_t n = 777;
  const Vec p0 = random_uniform(size_t(n), 81), g = random_uniform(size_t(n), 82);
  const Vec m0 = random_uniform(size_t(n), 83, -0.1f, 0.1f), v0 = random_uniform(size_t(n), 84, 0.0f, 0.05f);
  const float lr = 0.05f, wd = 0.01f;

  for (const float momentum : {0.0f, 0.9f})
    for (const bool nesterov : {false, true}) {
      INFO("SGD momentum=" << momentum << " nesterov=" << nesterov);
      std::vector<double> p(p0.begin(), p0.end()), v(m0.begin(), m0.end());
      for (size_t i = 0; i < size_t(n); ++i) {
        double gi = double(g[i]) + wd * p[i];
        if (momentum != 0.0f) {
          v[i] = momentum * v[i] + gi;
          gi = nesterov ? gi + momentum * v[i] : v[i];
        }
        p[i] -= lr * gi;
      }
      Dev<float> dp(p0), dv(m0), dg(g);
      facet::cuda::sgd_update(dp.get(), momentum != 0.0f ? dv.get() : nullptr, dg.get(), n, lr, momentum, wd,
                              nesterov);
      CHECK_ALL_CLOSE(dp.to_host(), p, 1e-6, 1e-5);
      if (momentum != 0.0f) CHECK_ALL_CLOSE(dv.to_host(), v, 1e-6, 1e-5);
    }

  for (const bool decoupled : {false, true})
    for (const int64_t step : {int64_t(1), int64_t(7)}) {
      INFO("Adam decoupled=" << decoupled << " step=" << step);
      const double b1 = 0.9, b2 = 0.999, eps = 1e-8;
      std::vector<double> p(p0.begin(), p0.end()), m(m0.begin(), m0.end()), v(v0.begin(), v0.end());
      for (size_t i = 0; i < size_t(n); ++i) {
        double gi = g[i];
        if (decoupled)
          p[i] *= 1.0 - double(lr) * wd;
        else
          gi += wd * p[i];
        m[i] = b1 * m[i] + (1 - b1) * gi;
        v[i] = b2 * v[i] + (1 - b2) * gi * gi;
        const double mhat = m[i] / (1 - std::pow(b1, double(step))),
                     vhat = v[i] / (1 - std::pow(b2, double(step)));
        p[i] -= lr * mhat / (std::sqrt(vhat) + eps);
      }
      Dev<float> dp(p0), dm(m0), dv(v0), dg(g);
      facet::cuda::adam_update(dp.get(), dm.get(), dv.get(), dg.get(), n, lr, 0.9f, 0.999f, 1e-8f, wd,
                               decoupled, step);
      CHECK_ALL_CLOSE(dp.to_host(), p, 1e-6, 1e-5);
      CHECK_ALL_CLOSE(dm.to_host(), m, 1e-7, 1e-5);
      CHECK_ALL_CLOSE(dv.to_host(), v, 1e-8, 1e-5);
    }

  {  // max_norm_rows: 11 rows (two blocks of 8 warps), 45 columns (> one warp), rows on both sides of the
     // limit
    const int rows = 11, cols = 45;
    const float max_norm = 2.5f;
    Vec w = random_uniform(size_t(rows) * cols, 85);
    for (int c = 0; c < cols; ++c) w[size_t(3) * cols + c] *= 0.05f;  // row 3 well under the limit
    std::vector<double> ref(w.begin(), w.end());
    for (int r = 0; r < rows; ++r) {
      double ss = 0;
      for (int c = 0; c < cols; ++c) ss += ref[size_t(r) * cols + c] * ref[size_t(r) * cols + c];
      const double norm = std::sqrt(ss);
      if (norm > max_norm)
        for (int c = 0; c < cols; ++c) ref[size_t(r) * cols + c] *= max_norm / norm;
    }
    Dev<float> dw(w);
    facet::cuda::max_norm_rows(dw.get(), rows, cols, max_norm);
    CHECK_ALL_CLOSE(dw.to_host(), ref, 1e-6, 1e-5);
  }
}
