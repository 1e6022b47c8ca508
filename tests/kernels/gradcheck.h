// Central finite-difference gradient check for one op on one backend.
//
// The op is seen as f(params) -> out (float, computed by the backend). With fixed random weights u (one per
// output, uniform in [-1, 1]) the scalar L = sum_i out_i * u_i is accumulated in double, and its gradient is
// what the backward kernel computes for dout = u. For a sample of entries j of each parameter:
//   numeric_j  = (L(x_j + h) - L(x_j - h)) / ((x_j + h) - (x_j - h))   (denominator: the step actually taken in float)
//   analytic_j = grad_j(after backward) - grad_j(before)                   (gradients start non-zero: checks +=)
// and |analytic - numeric| <= atol + rtol * |numeric| (tests/common/check.h) must hold.
// With several parameters whose gradients may be null, backward is also run with each gradient alone and with
// none: each alone must match the all-wanted result (atol 1e-6, rtol 1e-6) and none must not crash.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "tests/common/check.h"

namespace facet::test {

struct FdParam {
  const char* name;
  std::vector<float>* values;  // perturbed in place, restored after each probe
};

struct FdTolerance {
  float h;      // step
  double atol;  // |analytic - numeric| <= atol + rtol * |numeric|
  double rtol;
  std::size_t max_checks = 40;  // entries probed per parameter (all of them when fewer)
};

using Grads = std::vector<std::vector<float>*>;  // one per parameter; null = gradient not wanted
using ForwardFn = std::function<std::vector<float>()>;
using BackwardFn = std::function<void(const std::vector<float>& dout, const Grads& grads)>;

// Which entries to probe: all when n <= k, else the first, the last and a seeded sample, sorted.
inline std::vector<std::size_t> probe_indices(std::size_t n, std::size_t k, uint64_t seed) {
  std::vector<std::size_t> idx;
  if (n <= k) {
    for (std::size_t i = 0; i < n; ++i) idx.push_back(i);
    return idx;
  }
  Rng rng(seed);
  idx = {0, n - 1};
  while (idx.size() < k) {
    const std::size_t j = std::size_t(rng.integer(1, int64_t(n) - 2));
    if (std::find(idx.begin(), idx.end(), j) == idx.end()) idx.push_back(j);
  }
  std::sort(idx.begin(), idx.end());
  return idx;
}

inline void check_gradients(const std::vector<FdParam>& params, const ForwardFn& forward,
                            const BackwardFn& backward, const FdTolerance& tol, uint64_t seed,
                            bool grads_may_be_null) {
  const std::vector<float> u = random_uniform(forward().size(), seed, -1.0f, 1.0f);
  auto loss = [&] {
    const std::vector<float> out = forward();
    double L = 0.0;
    for (std::size_t i = 0; i < out.size(); ++i) L += double(out[i]) * u[i];
    return L;
  };

  const std::size_t P = params.size();
  std::vector<std::vector<float>> before(P), after(P);
  Grads all;
  for (std::size_t i = 0; i < P; ++i) {
    before[i] = random_uniform(params[i].values->size(), seed + 101 + i, -0.5f, 0.5f);
    after[i] = before[i];
    all.push_back(&after[i]);
  }
  backward(u, all);

  for (std::size_t i = 0; i < P; ++i) {
    std::vector<float>& x = *params[i].values;
    const std::vector<std::size_t> idx = probe_indices(x.size(), tol.max_checks, seed + 202 + i);
    std::vector<double> analytic, numeric;
    for (std::size_t j : idx) {
      analytic.push_back(double(after[i][j]) - double(before[i][j]));
      const float v = x[j], up = v + tol.h, down = v - tol.h;
      x[j] = up;
      const double Lp = loss();
      x[j] = down;
      const double Lm = loss();
      x[j] = v;
      numeric.push_back((Lp - Lm) / (double(up) - double(down)));
    }
    const CloseReport r = all_close(analytic, numeric, tol.atol, tol.rtol, &idx);
    INFO("d L / d " << params[i].name << ": backward kernel vs central differences (h = " << tol.h << ", "
                    << idx.size() << " of " << x.size() << " entries)\n"
                    << r.text);
    CHECK(r.ok);
  }

  if (!grads_may_be_null || P < 2) return;
  for (std::size_t i = 0; i < P; ++i) {
    std::vector<float> alone = before[i];
    Grads one(P, nullptr);
    one[i] = &alone;
    backward(u, one);
    INFO("gradient of " << params[i].name << " computed alone (the others null) vs all together");
    CHECK_ALL_CLOSE(alone, after[i], 1e-6, 1e-6);
  }
  backward(u, Grads(P, nullptr));  // no gradient wanted: must be a harmless no-op
}

}  // namespace facet::test
