// Tour, chapter 4 (docs/tour/04-layers.md): batchnorm, max-pooling, dropout and softmax-cross-entropy, each
// with its gradient checked live by finite differences.
//
// The check. For an op y = f(x), take a fixed random r of y's shape and the scalar L(x) = sum_i r_i y_i(x).
// Autograd gives dL/dx in one backward pass (f's backward applied to r). Finite differences give each
// component from two forward passes:
//   dL/dx_j ~ (L(x + h e_j) - L(x - h e_j)) / (2h)          (central difference: error O(h^2))
// In float32, L carries rounding of ~1e-7 relative, divided by 2h; with h = 1e-3 that is ~1e-4, so the two
// agree to about 1e-3 when the backward is right, and differ by O(1) when it is wrong.
//
// The ops (tensor/ops.h; formulas above each kernel in kernels/*.h):
//   batchnorm2d  y = gamma (x - mean_c) / sqrt(var_c + eps) + beta, batch statistics per channel c
//   maxpool2d    y = max over each k x k window; the gradient goes to the winner only
//   dropout      y = x * mask / (1 - p), mask ~ Bernoulli(1 - p) from a seeded Philox stream
//   cross_entropy  L = mean_b -log softmax(logits_b)[target_b]; dL/dlogits = (softmax - onehot) / B
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <numeric>
#include <vector>

#include "tensor/ops.h"
#include "tensor/rng.h"
#include "tensor/tensor.h"

using facet::Shape;
using facet::Tensor;
using Op = std::function<Tensor(const Tensor&)>;

Tensor random_tensor(const Shape& shape, facet::Rng& rng) {
  std::vector<float> v(facet::shape_numel(shape));
  for (float& x : v) x = rng.uniform(-1.0f, 1.0f);
  return Tensor::from_vector(v, shape);
}

// L(x) = sum_i r_i f(x)_i
Tensor weighted_sum(const Op& f, const Tensor& x, const Tensor& r) {
  return facet::sum(f(x) * r);
}

// Autograd's dL/dx against central differences; prints and returns whether the largest gap is within tol.
bool gradcheck(const char* name, const Op& f, std::vector<float> x0, const Shape& shape, facet::Rng& rng) {
  const double h = 1e-3, tol = 1e-3;
  Tensor x = Tensor::from_vector(x0, shape);
  x.set_requires_grad();
  const Tensor probe = f(x);
  const Tensor r = random_tensor(probe.shape(), rng);  // the fixed weights r
  weighted_sum(f, x, r).backward();
  const std::vector<float> analytic = x.grad().to_vector();

  facet::NoGradGuard no_graph;  // the finite differences only need forward passes
  double worst = 0;
  for (size_t j = 0; j < x0.size(); ++j) {
    const float keep = x0[j];
    x0[j] = keep + float(h);
    const double up = weighted_sum(f, Tensor::from_vector(x0, shape), r).item();
    x0[j] = keep - float(h);
    const double down = weighted_sum(f, Tensor::from_vector(x0, shape), r).item();
    x0[j] = keep;
    const double numeric = (up - down) / (2 * h);
    worst = std::max(worst, std::fabs(numeric - analytic[j]));
  }
  std::printf("%-14s input %-14s %3zu gradients: max difference %.3g (tolerance %.0e)\n", name,
              facet::shape_str(shape).c_str(), x0.size(), worst, tol);
  return worst <= tol;
}

std::vector<float> uniform_values(size_t n, facet::Rng& rng) {
  std::vector<float> v(n);
  for (float& x : v) x = rng.uniform(-1.0f, 1.0f);
  return v;
}

int main() {
  facet::Rng rng(4);
  bool ok = true;

  // batchnorm2d in training mode: each channel normalised by the statistics of its batch (N=4, 3x3 planes).
  const Shape bn_shape = {4, 3, 3, 3};
  Tensor gamma = random_tensor({3}, rng), beta = random_tensor({3}, rng);
  Tensor running_mean = Tensor::zeros({3}), running_var = Tensor::full({3}, 1.0f);
  const Op bn = [&](const Tensor& x) {
    return facet::batchnorm2d(x, gamma, beta, running_mean, running_var, /*training=*/true);
  };
  ok = gradcheck("batchnorm2d", bn, uniform_values(facet::shape_numel(bn_shape), rng), bn_shape, rng) && ok;

  // maxpool2d 2x2 stride 2. max has a kink where two entries tie, and a finite difference across it is
  // meaningless; so the inputs are distinct values at least 0.05 apart (a shuffled ladder), never within h.
  const Shape pool_shape = {2, 2, 4, 4};
  std::vector<float> ladder(facet::shape_numel(pool_shape));
  for (size_t i = 0; i < ladder.size(); ++i) ladder[i] = -1.0f + 0.05f * float(i);
  std::shuffle(ladder.begin(), ladder.end(), rng.engine());
  const Op pool = [](const Tensor& x) { return facet::maxpool2d(x, 2, 2); };
  ok = gradcheck("maxpool2d", pool, ladder, pool_shape, rng) && ok;

  // dropout p = 0.5 in training: the same (seed, offset) gives the same mask on every call, so L is linear in
  // x.
  const Shape drop_shape = {4, 8};
  const Op drop = [](const Tensor& x) {
    return facet::dropout(x, 0.5f, /*training=*/true, /*seed=*/7, /*offset=*/0);
  };
  ok = gradcheck("dropout", drop, uniform_values(facet::shape_numel(drop_shape), rng), drop_shape, rng) && ok;

  // softmax cross-entropy on 4 rows of 5 logits; the last row's target is -1 (no label): it gets no gradient.
  const Shape ce_shape = {4, 5};
  const std::vector<int32_t> targets = {0, 3, 1, -1};
  const Op ce = [&](const Tensor& logits) { return facet::cross_entropy(logits, targets); };
  ok = gradcheck("cross_entropy", ce, uniform_values(facet::shape_numel(ce_shape), rng), ce_shape, rng) && ok;

  std::printf("%s\n", ok ? "every gradient matches its finite differences" : "FAILED: a gradient is off");
  return ok ? 0 : 1;
}
