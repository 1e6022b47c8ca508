// L2 penalty (three equivalent forms), max-norm constraint, gradient clipping by norm and by value.
#include <catch2/catch.hpp>
#include <cmath>
#include <limits>

#include "optim/regularize.h"
#include "optim/sgd.h"
#include "tests/optim/optim_test_util.h"

using namespace facet;
using facet::test::param;
using facet::test::set_grads;

TEST_CASE("L2: penalty value, its gradient, add_l2_gradient and SGD weight_decay agree", "[optim][l2]") {
  // w = (1, -2, 0.5) and W = [[0.1, 0.2], [0.3, 0.4]]: sum of squares 5.25 + 0.3 = 5.55;
  // with lambda = 0.2 the penalty is 0.2 / 2 * 5.55 = 0.555 and its gradient 0.2 w.
  auto make = [] {
    return std::vector<NamedTensor>{{"w", param({1.0f, -2.0f, 0.5f})},
                                    {"W", param({0.1f, 0.2f, 0.3f, 0.4f}, {2, 2})}};
  };
  const std::vector<double> grad_w = {0.2, -0.4, 0.1}, grad_W = {0.02, 0.04, 0.06, 0.08};

  auto by_loss = make();
  Tensor p = l2_penalty(by_loss, 0.2f);
  CHECK(p.item() == Approx(0.555).epsilon(1e-6));
  p.backward();
  CHECK_ALL_CLOSE(by_loss[0].tensor.grad().to_vector(), grad_w, 1e-7, 1e-6);
  CHECK_ALL_CLOSE(by_loss[1].tensor.grad().to_vector(), grad_W, 1e-7, 1e-6);

  auto by_grad = make();
  set_grads(by_grad, {{0.0f, 0.0f, 0.0f}, {0.0f, 0.0f, 0.0f, 0.0f}});
  add_l2_gradient(by_grad, 0.2f);
  CHECK_ALL_CLOSE(by_grad[0].tensor.grad().to_vector(), grad_w, 1e-7, 1e-6);
  CHECK_ALL_CLOSE(by_grad[1].tensor.grad().to_vector(), grad_W, 1e-7, 1e-6);

  // One SGD step on (loss + penalty) equals one step on the loss with weight_decay = lambda.
  const std::vector<std::vector<float>> g = {{0.5f, 0.25f, -1.0f}, {1.0f, -1.0f, 0.5f, 0.0f}};
  auto a = make(), b = make();
  set_grads(a, g);
  add_l2_gradient(a, 0.2f);
  Sgd(a, {.lr = 0.1f}).step();
  set_grads(b, g);
  Sgd(b, {.lr = 0.1f, .weight_decay = 0.2f}).step();
  for (size_t i = 0; i < 2; ++i)
    CHECK_ALL_CLOSE(a[i].tensor.to_vector(), b[i].tensor.to_vector(), 1e-7, 1e-6);

  CHECK(l2_penalty({}, 0.2f).item() == 0.0f);
  CHECK(weights_only(make()).size() == 1);  // rank >= 2 only: W
}

TEST_CASE("max-norm rescales each output unit's fan-in above the limit, weights only", "[optim][maxnorm]") {
  // Linear (3, 4): row 0 = (3, 4, 0, 0) has norm 5 -> (1.2, 1.6, 0, 0) at max_norm 2; row 1 = (0.5, 0.5, 0.5,
  // 0.5) has norm 1 and stays bit-identical; row 2 = (0, 0, 0, -6) -> (0, 0, 0, -2).
  Tensor fc = param({3, 4, 0, 0, 0.5f, 0.5f, 0.5f, 0.5f, 0, 0, 0, -6}, {3, 4});
  // Conv (2, 1, 2, 2): filter 0 = all 2 (norm 4) -> all 1; filter 1 = (1, 0, 0, 0) stays.
  Tensor conv = param({2, 2, 2, 2, 1, 0, 0, 0}, {2, 1, 2, 2});
  Tensor bias = param({10.0f, -10.0f});  // rank 1: never constrained
  apply_max_norm({{"fc.weight", fc}, {"conv.weight", conv}, {"fc.bias", bias}}, 2.0f);
  CHECK_ALL_CLOSE(fc.to_vector(), std::vector<double>({1.2, 1.6, 0, 0, 0.5, 0.5, 0.5, 0.5, 0, 0, 0, -2}),
                  1e-7, 1e-6);
  CHECK(fc.to_vector()[4] == 0.5f);
  CHECK_ALL_CLOSE(conv.to_vector(), std::vector<double>({1, 1, 1, 1, 1, 0, 0, 0}), 1e-7, 1e-6);
  CHECK(bias.to_vector() == std::vector<float>({10.0f, -10.0f}));

  SECTION("through the optimizer, after its step") {
    // w = (3, 4) as a (1, 2) weight, gradient (-2, -4), lr 0.5: the step gives (4, 6), norm 7.2111;
    // max_norm 1 rescales to (4, 6) / 7.2111 = (0.5547002, 0.8320503).
    Tensor w = param({3.0f, 4.0f}, {1, 2});
    Sgd opt({{"w", w}}, {.lr = 0.5f});
    opt.set_max_norm(1.0f);
    set_grads(opt.parameters(), {{-2.0f, -4.0f}});
    opt.step();
    CHECK_ALL_CLOSE(w.to_vector(), std::vector<double>({0.5547002, 0.8320503}), 1e-7, 1e-6);
  }
  CHECK_THROWS_WITH(apply_max_norm({{"fc.weight", fc}}, 0.0f), Catch::Contains("max_norm"));
}

TEST_CASE("clip_grad_norm: global norm over all gradients, returned, scaled only above the limit",
          "[optim][clip]") {
  // Gradients (3, 4) and (12): global norm sqrt(9 + 16 + 144) = 13.
  Tensor a = param({0.0f, 0.0f}), b = param({0.0f}), untouched = param({1.0f});
  const std::vector<NamedTensor> params = {{"a", a}, {"b", b}, {"no_grad", untouched}};
  set_grads({{"a", a}, {"b", b}}, {{3.0f, 4.0f}, {12.0f}});

  CHECK(clip_grad_norm(params, 20.0f) == Approx(13.0).epsilon(1e-7));  // under the limit: unchanged
  CHECK(a.grad().to_vector() == std::vector<float>({3.0f, 4.0f}));

  // max_norm 6.5: every gradient times 6.5 / (13 + 1e-6) = 0.49999996: (1.5, 2) and (6), new norm 6.5.
  CHECK(clip_grad_norm(params, 6.5f) == Approx(13.0).epsilon(1e-7));
  CHECK_ALL_CLOSE(a.grad().to_vector(), std::vector<double>({1.5, 2.0}), 1e-6, 1e-6);
  CHECK_ALL_CLOSE(b.grad().to_vector(), std::vector<double>({6.0}), 1e-6, 1e-6);
  CHECK(clip_grad_norm(params, 100.0f) == Approx(6.5).epsilon(1e-6));
  CHECK_FALSE(untouched.grad().defined());

  SECTION("a non-finite norm is returned and the gradients are left alone") {
    set_grads({{"a", a}, {"b", b}}, {{3.0f, std::numeric_limits<float>::infinity()}, {1.0f}});
    CHECK(std::isinf(clip_grad_norm(params, 1.0f)));
    CHECK(b.grad().to_vector() == std::vector<float>({1.0f}));
  }
}

TEST_CASE("clip_grad_value clamps every gradient element to [-clip, clip]", "[optim][clip]") {
  Tensor a = param({0.0f, 0.0f, 0.0f, 0.0f});
  set_grads({{"a", a}}, {{-3.0f, 0.5f, 2.0f, -1.0f}});
  clip_grad_value({{"a", a}}, 1.0f);
  CHECK(a.grad().to_vector() == std::vector<float>({-1.0f, 0.5f, 1.0f, -1.0f}));
  CHECK_THROWS_WITH(clip_grad_value({{"a", a}}, -1.0f), Catch::Contains("clip"));
}
