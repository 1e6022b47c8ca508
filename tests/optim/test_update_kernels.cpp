// The CPU optimizer kernels (kernels/cpu/optim_update.cpp) against the formulas of kernels/optim_update.h in
// double, and against their CUDA twins run on the emulated device (same float arithmetic, so bit-identical
// there; on a real GPU fused multiply-adds may differ in the last bits).
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>

#include "kernels/optim_update.h"
#include "tests/cuda/cuda_test_util.h"

using facet::test::Dev;
using facet::test::random_uniform;
using Vec = std::vector<float>;

namespace {
// A length above the CPU kernels' threading threshold (1 << 15), so the OpenMP path runs too.
constexpr int64_t kN = 40000;
}  // namespace

TEST_CASE("cpu sgd_update / adam_update match the header's formulas in double", "[optim][kernels]") {
  const Vec p0 = random_uniform(size_t(kN), 11), g = random_uniform(size_t(kN), 12);
  const Vec m0 = random_uniform(size_t(kN), 13, -0.1f, 0.1f),
            v0 = random_uniform(size_t(kN), 14, 0.0f, 0.05f);
  const float lr = 0.05f, wd = 0.01f;
  for (const float momentum : {0.0f, 0.9f})
    for (const bool nesterov : {false, true}) {
      if (nesterov && momentum == 0.0f) continue;
      INFO("SGD momentum " << momentum << " nesterov " << nesterov);
      std::vector<double> p(p0.begin(), p0.end()), v(m0.begin(), m0.end());
      for (size_t i = 0; i < p.size(); ++i) {
        double gi = double(g[i]) + wd * p[i];
        if (momentum != 0.0f) {
          v[i] = momentum * v[i] + gi;
          gi = nesterov ? gi + momentum * v[i] : v[i];
        }
        p[i] -= lr * gi;
      }
      Vec cp = p0, cv = m0;
      facet::cpu::sgd_update(cp.data(), cv.data(), g.data(), kN, lr, momentum, wd, nesterov);
      CHECK_ALL_CLOSE(cp, p, 1e-6, 1e-5);
      if (momentum != 0.0f) CHECK_ALL_CLOSE(cv, v, 1e-6, 1e-5);
      if (momentum == 0.0f) CHECK(cv == m0);  // velocity untouched without momentum
    }
  for (const bool decoupled : {false, true})
    for (const int64_t step : {int64_t(1), int64_t(9)}) {
      INFO("Adam decoupled " << decoupled << " step " << step);
      const double b1 = 0.9, b2 = 0.999, eps = 1e-8;
      std::vector<double> p(p0.begin(), p0.end()), m(m0.begin(), m0.end()), v(v0.begin(), v0.end());
      for (size_t i = 0; i < p.size(); ++i) {
        double gi = g[i];
        if (decoupled)
          p[i] *= 1.0 - double(lr) * wd;
        else
          gi += wd * p[i];
        m[i] = b1 * m[i] + (1 - b1) * gi;
        v[i] = b2 * v[i] + (1 - b2) * gi * gi;
        p[i] -= lr * (m[i] / (1 - std::pow(b1, double(step)))) /
                (std::sqrt(v[i] / (1 - std::pow(b2, double(step)))) + eps);
      }
      Vec cp = p0, cm = m0, cv = v0;
      facet::cpu::adam_update(cp.data(), cm.data(), cv.data(), g.data(), kN, lr, 0.9f, 0.999f, 1e-8f, wd,
                              decoupled, step);
      CHECK_ALL_CLOSE(cp, p, 1e-6, 1e-5);
      CHECK_ALL_CLOSE(cm, m, 1e-7, 1e-5);
      CHECK_ALL_CLOSE(cv, v, 1e-8, 1e-5);
    }
}

TEST_CASE("cpu max_norm_rows: rows above the limit rescaled to it, rows below untouched",
          "[optim][kernels]") {
  const int rows = 300, cols = 120;  // 36000 values: the threaded path
  Vec w = random_uniform(size_t(rows) * cols, 15);
  for (int c = 0; c < cols; ++c) w[size_t(7) * cols + c] *= 0.01f;  // row 7 far under the limit
  const Vec w0 = w;
  facet::cpu::max_norm_rows(w.data(), rows, cols, 3.0f);
  for (int r = 0; r < rows; ++r) {
    double before = 0, after = 0;
    for (int c = 0; c < cols; ++c) {
      before += double(w0[size_t(r) * cols + c]) * w0[size_t(r) * cols + c];
      after += double(w[size_t(r) * cols + c]) * w[size_t(r) * cols + c];
    }
    INFO("row " << r << " norm before " << std::sqrt(before));
    if (std::sqrt(before) <= 3.0)
      CHECK(std::equal(w.begin() + r * cols, w.begin() + (r + 1) * cols, w0.begin() + r * cols));
    else
      CHECK(std::sqrt(after) == Approx(3.0).epsilon(1e-6));
  }
}

TEST_CASE("cpu and emulated-CUDA optimizer kernels agree bit for bit", "[optim][kernels][cuda]") {
  if (!facet::test::cuda_device_or_skip()) return;
  const int64_t n = 5000;
  const Vec p0 = random_uniform(size_t(n), 21), g = random_uniform(size_t(n), 22);
  const Vec m0 = random_uniform(size_t(n), 23, -0.1f, 0.1f), v0 = random_uniform(size_t(n), 24, 0.0f, 0.05f);
  for (const bool nesterov : {false, true}) {
    Vec cp = p0, cv = m0;
    facet::cpu::sgd_update(cp.data(), cv.data(), g.data(), n, 0.05f, 0.9f, 0.01f, nesterov);
    Dev<float> dp(p0), dv(m0), dg(g);
    facet::cuda::sgd_update(dp.get(), dv.get(), dg.get(), n, 0.05f, 0.9f, 0.01f, nesterov);
    CHECK_ALL_CLOSE(dp.to_host(), cp, 0.0, 0.0);
    CHECK_ALL_CLOSE(dv.to_host(), cv, 0.0, 0.0);
  }
  for (const bool decoupled : {false, true}) {
    Vec cp = p0, cm = m0, cv = v0;
    facet::cpu::adam_update(cp.data(), cm.data(), cv.data(), g.data(), n, 1e-3f, 0.9f, 0.999f, 1e-8f, 0.01f,
                            decoupled, 3);
    Dev<float> dp(p0), dm(m0), dv(v0), dg(g);
    facet::cuda::adam_update(dp.get(), dm.get(), dv.get(), dg.get(), n, 1e-3f, 0.9f, 0.999f, 1e-8f, 0.01f,
                             decoupled, 3);
    CHECK_ALL_CLOSE(dp.to_host(), cp, 0.0, 0.0);
    CHECK_ALL_CLOSE(dm.to_host(), cm, 0.0, 0.0);
    CHECK_ALL_CLOSE(dv.to_host(), cv, 0.0, 0.0);
  }
  {  // max-norm: the device sums in float by warp shuffles, the CPU in double: equal to a few ulps
    const int rows = 37, cols = 50;
    const Vec w = random_uniform(size_t(rows) * cols, 25);
    Vec cw = w;
    facet::cpu::max_norm_rows(cw.data(), rows, cols, 2.0f);
    Dev<float> dw(w);
    facet::cuda::max_norm_rows(dw.get(), rows, cols, 2.0f);
    CHECK_ALL_CLOSE(dw.to_host(), cw, 1e-6, 1e-6);
  }
}
