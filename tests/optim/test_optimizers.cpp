// SGD, Adam and AdamW against hand-computed steps, the differences that define them (Nesterov vs plain
// momentum, AdamW's decoupled decay vs Adam's L2), bookkeeping (skipped parameters, zero_grad, configs,
// state), and a small quadratic minimised by each.
//
// The hand cases share one setup: w0 = (1, -2, 0.5), gradient g1 = (0.5, 0.25, -1) at step 1 and
// g2 = (-0.3, 0.6, 0.2) at step 2, lr = 0.1. Each expected value is worked out in the comment above it
// (in exact decimals; Adam's second step in double, digits shown to 9 significant places).
#include <catch2/catch.hpp>
#include <cmath>

#include "optim/adam.h"
#include "optim/schedule.h"
#include "optim/sgd.h"
#include "tests/optim/optim_test_util.h"

using namespace facet;
using facet::test::param;
using facet::test::set_grads;

namespace {

const std::vector<float> kW0 = {1.0f, -2.0f, 0.5f};
const std::vector<float> kG1 = {0.5f, 0.25f, -1.0f};
const std::vector<float> kG2 = {-0.3f, 0.6f, 0.2f};
// float32 arithmetic on values of magnitude <= 2.2 over two steps: a few ulps (2.4e-7 each).
constexpr double kAtol = 1e-6, kRtol = 1e-6;

// Runs two steps (g1 then g2) and returns w after each.
std::vector<std::vector<float>> two_steps(Optimizer& opt) {
  std::vector<std::vector<float>> out;
  for (const auto& g : {kG1, kG2}) {
    set_grads(opt.parameters(), {g});
    opt.step();
    out.push_back(opt.parameters()[0].tensor.to_vector());
  }
  return out;
}

}  // namespace

TEST_CASE("SGD: plain, momentum, Nesterov and weight decay, two steps by hand", "[optim][sgd]") {
  SECTION("plain: w -= lr g") {
    Sgd opt({{"w", param(kW0)}}, {.lr = 0.1f});
    const auto w = two_steps(opt);
    // w1 = w0 - 0.1 g1 = (0.95, -2.025, 0.6);  w2 = w1 - 0.1 g2 = (0.98, -2.085, 0.58)
    CHECK_ALL_CLOSE(w[0], std::vector<double>({0.95, -2.025, 0.6}), kAtol, kRtol);
    CHECK_ALL_CLOSE(w[1], std::vector<double>({0.98, -2.085, 0.58}), kAtol, kRtol);
  }
  SECTION("momentum 0.9: v = 0.9 v + g, w -= lr v") {
    Sgd opt({{"w", param(kW0)}}, {.lr = 0.1f, .momentum = 0.9f});
    const auto w = two_steps(opt);
    // v1 = g1 -> w1 = (0.95, -2.025, 0.6)
    // v2 = 0.9 g1 + g2 = (0.15, 0.825, -0.7) -> w2 = w1 - 0.1 v2 = (0.935, -2.1075, 0.67)
    CHECK_ALL_CLOSE(w[0], std::vector<double>({0.95, -2.025, 0.6}), kAtol, kRtol);
    CHECK_ALL_CLOSE(w[1], std::vector<double>({0.935, -2.1075, 0.67}), kAtol, kRtol);
  }
  SECTION("Nesterov 0.9: v = 0.9 v + g, w -= lr (g + 0.9 v)") {
    Sgd opt({{"w", param(kW0)}}, {.lr = 0.1f, .momentum = 0.9f, .nesterov = true});
    const auto w = two_steps(opt);
    // v1 = g1, step g1 + 0.9 g1 = 1.9 g1 -> w1 = w0 - 0.19 g1 = (0.905, -2.0475, 0.69)
    // v2 = (0.15, 0.825, -0.7), step g2 + 0.9 v2 = (-0.165, 1.3425, -0.43) -> w2 = (0.9215, -2.18175, 0.733)
    CHECK_ALL_CLOSE(w[0], std::vector<double>({0.905, -2.0475, 0.69}), kAtol, kRtol);
    CHECK_ALL_CLOSE(w[1], std::vector<double>({0.9215, -2.18175, 0.733}), kAtol, kRtol);
  }
  SECTION("momentum 0.9 with weight decay 0.1: g = grad + 0.1 w") {
    Sgd opt({{"w", param(kW0)}}, {.lr = 0.1f, .momentum = 0.9f, .weight_decay = 0.1f});
    const auto w = two_steps(opt);
    // g = g1 + 0.1 w0 = (0.6, 0.05, -0.95) = v1 -> w1 = (0.94, -2.005, 0.595)
    // g = g2 + 0.1 w1 = (-0.206, 0.3995, 0.2595); v2 = 0.9 v1 + g = (0.334, 0.4445, -0.5955)
    //   -> w2 = w1 - 0.1 v2 = (0.9066, -2.04945, 0.65455)
    CHECK_ALL_CLOSE(w[0], std::vector<double>({0.94, -2.005, 0.595}), kAtol, kRtol);
    CHECK_ALL_CLOSE(w[1], std::vector<double>({0.9066, -2.04945, 0.65455}), kAtol, kRtol);
  }
}

TEST_CASE("SGD: Nesterov differs from plain momentum exactly by lr * momentum * v", "[optim][sgd]") {
  Sgd plain({{"w", param(kW0)}}, {.lr = 0.1f, .momentum = 0.9f});
  Sgd nesterov({{"w", param(kW0)}}, {.lr = 0.1f, .momentum = 0.9f, .nesterov = true});
  set_grads(plain.parameters(), {kG1});
  set_grads(nesterov.parameters(), {kG1});
  plain.step();
  nesterov.step();
  // After one step both velocities are g1; plain moved by lr v, Nesterov by lr (g1 + 0.9 v) = 1.9 lr g1,
  // so w_nesterov - w_plain = -0.1 * 0.9 * g1 = (-0.045, -0.0225, 0.09).
  const auto a = plain.parameters()[0].tensor.to_vector(), b = nesterov.parameters()[0].tensor.to_vector();
  std::vector<double> diff(3);
  for (size_t i = 0; i < 3; ++i) diff[i] = double(b[i]) - double(a[i]);
  CHECK_ALL_CLOSE(diff, std::vector<double>({-0.045, -0.0225, 0.09}), kAtol, kRtol);
  CHECK(plain.state_tensors()[0].tensor.to_vector() == nesterov.state_tensors()[0].tensor.to_vector());
}

TEST_CASE("Adam and AdamW: two steps by hand", "[optim][adam]") {
  SECTION("Adam, no weight decay") {
    Adam opt({{"w", param(kW0)}}, {.lr = 0.1f});
    const auto w = two_steps(opt);
    // Step 1: m = 0.1 g1, v = 0.001 g1^2, mhat = g1, vhat = g1^2: w -= 0.1 g1 / (|g1| + 1e-8), a signed step
    //   of 0.1 (short by 0.1 * 1e-8 / |g1|): w1 = (0.900000002, -2.1, 0.599999999).
    // Step 2, element 0: m = 0.9 * 0.05 + 0.1 * (-0.3) = 0.015, v = 0.999 * 0.00025 + 0.001 * 0.09 =
    // 0.00033975,
    //   mhat = 0.015 / 0.19, vhat = 0.00033975 / 0.001999, w = 0.9 - 0.1 * mhat / sqrt(vhat) = 0.880850199.
    CHECK_ALL_CLOSE(w[0], std::vector<double>({0.900000002, -2.1, 0.599999999}), kAtol, kRtol);
    CHECK_ALL_CLOSE(w[1], std::vector<double>({0.880850199, -2.19445512, 0.651102606}), kAtol, kRtol);
  }
  SECTION("Adam with L2 weight decay 0.1: g = grad + 0.1 w, then adapted") {
    Adam opt({{"w", param(kW0)}}, {.lr = 0.1f, .weight_decay = 0.1f});
    const auto w = two_steps(opt);
    // Step 1 is again a signed step of ~0.1 (g1 + 0.1 w0 keeps g1's signs); step 2 adapts g2 + 0.1 w1.
    CHECK_ALL_CLOSE(w[0], std::vector<double>({0.900000002, -2.09999998, 0.599999999}), kAtol, kRtol);
    CHECK_ALL_CLOSE(w[1], std::vector<double>({0.861352997, -2.1823267, 0.644974216}), kAtol, kRtol);
  }
  SECTION("AdamW with decoupled weight decay 0.1: w *= 1 - 0.1 * 0.1 first") {
    AdamW opt({{"w", param(kW0)}}, {.lr = 0.1f, .weight_decay = 0.1f});
    const auto w = two_steps(opt);
    // Step 1: w0 * 0.99 = (0.99, -1.98, 0.495), then the signed step of 0.1: (0.890000002, -2.08,
    // 0.594999999).
    CHECK_ALL_CLOSE(w[0], std::vector<double>({0.890000002, -2.08, 0.594999999}), kAtol, kRtol);
    CHECK_ALL_CLOSE(w[1], std::vector<double>({0.861950199, -2.15365512, 0.640152606}), kAtol, kRtol);
  }
}

TEST_CASE("AdamW's decay is decoupled: it equals Adam without decay applied to (1 - lr wd) w",
          "[optim][adam]") {
  // AdamW: w <- (1 - lr wd) w - lr mhat / (sqrt(vhat) + eps), with m, v built from the raw gradient only.
  // So with the same gradients, AdamW(wd) == [shrink w by (1 - lr wd), then Adam(wd = 0)] at every step.
  // Adam's L2 form instead feeds wd w through m and v: a different trajectory.
  AdamW adamw({{"w", param(kW0)}}, {.lr = 0.1f, .weight_decay = 0.1f});
  Adam adam_plain({{"w", param(kW0)}}, {.lr = 0.1f});
  Adam adam_l2({{"w", param(kW0)}}, {.lr = 0.1f, .weight_decay = 0.1f});
  for (const auto& g : {kG1, kG2, kG1}) {
    set_grads(adamw.parameters(), {g});
    set_grads(adam_plain.parameters(), {g});
    set_grads(adam_l2.parameters(), {g});
    adamw.step();
    Tensor w = adam_plain.parameters()[0].tensor;
    std::vector<float> shrunk = w.to_vector();
    for (float& x : shrunk) x *= 1.0f - 0.1f * 0.1f;
    w.copy_from(Tensor::from_vector(shrunk, w.shape()));
    adam_plain.step();
    adam_l2.step();
  }
  const auto a = adamw.parameters()[0].tensor.to_vector();
  CHECK_ALL_CLOSE(a, adam_plain.parameters()[0].tensor.to_vector(), kAtol, kRtol);
  const auto l2 = adam_l2.parameters()[0].tensor.to_vector();
  CHECK(std::fabs(a[1] - l2[1]) > 0.02);  // -2.2232 vs -2.2509 (in double): the two decays really differ
}

TEST_CASE("optimizers skip parameters without a gradient, Adam counts steps per parameter", "[optim]") {
  Tensor a = param(kW0), b = param({2.0f, 3.0f});
  Adam opt({{"a", a}, {"b", b}}, {.lr = 0.1f});
  set_grads({{"a", a}}, {kG1});  // b gets no gradient
  opt.step();
  CHECK(b.to_vector() == std::vector<float>({2.0f, 3.0f}));
  CHECK(opt.state()["param_steps"]["a"] == 1);
  CHECK(opt.state()["param_steps"]["b"] == 0);
  // b's first update now uses t = 1 (bias corrections 1 - 0.9, 1 - 0.999): a signed step of ~lr.
  set_grads({{"a", a}, {"b", b}}, {kG2, {1.0f, -4.0f}});
  opt.step();
  CHECK_ALL_CLOSE(b.to_vector(), std::vector<double>({1.9, 3.1}), 1e-6, 0.0);
  CHECK(opt.state()["param_steps"]["b"] == 1);
  CHECK(opt.step_count() == 2);
}

TEST_CASE("zero_grad drops every gradient, learning rate get/set", "[optim]") {
  Tensor w = param(kW0);
  Sgd opt({{"w", w}}, {.lr = 0.1f});
  set_grads(opt.parameters(), {kG1});
  REQUIRE(w.grad().defined());
  opt.zero_grad();
  CHECK_FALSE(w.grad().defined());
  opt.step();  // nothing to do
  CHECK(w.to_vector() == kW0);
  opt.set_learning_rate(0.5f);
  CHECK(opt.learning_rate() == 0.5f);
  CHECK(opt.options().lr == 0.5f);
  set_grads(opt.parameters(), {kG1});
  opt.step();
  CHECK_ALL_CLOSE(w.to_vector(), std::vector<double>({0.75, -2.125, 1.0}), kAtol, kRtol);
  CHECK_THROWS_WITH(opt.set_learning_rate(-1.0f), Catch::Contains("learning rate"));
}

TEST_CASE("optimizer options and configs are validated, naming the field", "[optim]") {
  auto params = [] { return std::vector<NamedTensor>{{"w", param(kW0)}}; };
  CHECK_THROWS_WITH(Sgd(params(), {.lr = 0.1f, .nesterov = true}),
                    Catch::Contains("nesterov needs momentum"));
  CHECK_THROWS_WITH(Sgd(params(), {.lr = 0.1f, .momentum = 1.5f}), Catch::Contains("momentum"));
  CHECK_THROWS_WITH(Adam(params(), {.beta2 = 1.0f}), Catch::Contains("beta2"));
  CHECK_THROWS_WITH(Sgd({{"w", param(kW0)}, {"w", param(kW0)}}),
                    Catch::Contains("two parameters are named 'w'"));
  Tensor shared = param(kW0);
  CHECK_THROWS_WITH(Sgd({{"a", shared}, {"b", shared}}), Catch::Contains("listed twice"));

  auto sgd = make_optimizer({{"type", "sgd"}, {"lr", 0.2}, {"momentum", 0.9}, {"nesterov", true}}, params());
  CHECK(std::string(sgd->name()) == "sgd");
  CHECK(sgd->learning_rate() == 0.2f);
  CHECK(dynamic_cast<Sgd&>(*sgd).options().nesterov);
  auto adamw = make_optimizer({{"type", "adamw"}}, params());
  CHECK(std::string(adamw->name()) == "adamw");
  CHECK(dynamic_cast<Adam&>(*adamw).options().weight_decay == 0.01f);  // PyTorch's AdamW default
  CHECK_THROWS_WITH(make_optimizer({{"type", "adam"}, {"betta1", 0.8}}, params()),
                    Catch::Contains("unknown key \"betta1\""));
  CHECK_THROWS_WITH(make_optimizer({{"type", "rmsprop"}}, params()),
                    Catch::Contains("unknown type \"rmsprop\""));
  CHECK_THROWS_WITH(make_optimizer({{"type", "sgd"}, {"lr", "fast"}}, params()),
                    Catch::Contains("\"lr\" must be a number"));
}

TEST_CASE("optimizer state: names, scalars, and refusal of a different optimizer's state", "[optim]") {
  Tensor w = param(kW0), b = param({0.0f});
  Adam adam({{"fc.weight", w}, {"fc.bias", b}}, {.lr = 0.1f});
  const auto st = adam.state_tensors();
  REQUIRE(st.size() == 4);
  CHECK(st[0].name == "optim/fc.weight/exp_avg");
  CHECK(st[1].name == "optim/fc.weight/exp_avg_sq");
  CHECK(st[3].name == "optim/fc.bias/exp_avg_sq");
  CHECK(st[0].tensor.shape() == w.shape());
  CHECK(Sgd({{"w", param(kW0)}}, {.lr = 0.1f}).state_tensors().empty());  // no momentum: no buffers

  Sgd sgd({{"fc.weight", param(kW0)}, {"fc.bias", param({0.0f})}}, {.lr = 0.1f, .momentum = 0.9f});
  CHECK_THROWS_WITH(sgd.load_state(adam.state()),
                    Catch::Contains("saved by a 'adam' optimizer, this one is 'sgd'"));
  Adam other({{"fc.weight", param(kW0)}}, {.lr = 0.1f});
  CHECK_THROWS_WITH(other.load_state(adam.state()),
                    Catch::Contains("lists 2 parameters, this optimizer has 1"));
  nlohmann::json bad = adam.state();
  bad["hyper"]["beta1"] = 2.0;
  CHECK_THROWS_WITH(Adam({{"fc.weight", param(kW0)}, {"fc.bias", param({0.0f})}}).load_state(bad),
                    Catch::Contains("beta1"));
}

TEST_CASE("each optimizer minimises a small quadratic", "[optim]") {
  // f(w) = 1/2 sum_i a_i (w_i - c_i)^2 with curvatures a = (1, 4, 0.5, 2): the minimum is w = c, f = 0.
  const std::vector<float> a = {1.0f, 4.0f, 0.5f, 2.0f}, c = {3.0f, -1.0f, 0.5f, 2.0f};
  const Tensor A = Tensor::from_vector(a, {4}),
               minus_c = Tensor::from_vector({-3.0f, 1.0f, -0.5f, -2.0f}, {4});
  auto run = [&](Optimizer& opt, int steps, const LrSchedule* schedule) {
    Tensor w = opt.parameters()[0].tensor;
    for (int t = 0; t < steps; ++t) {
      if (schedule) opt.set_learning_rate(schedule->at(t));
      opt.zero_grad();
      Tensor d = add(w, minus_c);
      Tensor f = scale(sum(mul(A, mul(d, d))), 0.5f);
      f.backward();
      opt.step();
    }
    return w.to_vector();
  };
  auto start = [] { return std::vector<NamedTensor>{{"w", param({0.0f, 0.0f, 0.0f, 0.0f})}}; };
  SECTION("SGD, lr 0.2 (stable below 2 / max a = 0.5)") {
    Sgd opt(start(), {.lr = 0.2f});
    CHECK_ALL_CLOSE(run(opt, 200, nullptr), c, 1e-4, 0.0);
  }
  SECTION("SGD with momentum 0.9") {
    Sgd opt(start(), {.lr = 0.05f, .momentum = 0.9f});
    CHECK_ALL_CLOSE(run(opt, 300, nullptr), c, 1e-4, 0.0);
  }
  SECTION("SGD with Nesterov momentum 0.9") {
    Sgd opt(start(), {.lr = 0.05f, .momentum = 0.9f, .nesterov = true});
    CHECK_ALL_CLOSE(run(opt, 300, nullptr), c, 1e-4, 0.0);
  }
  SECTION("Adam, cosine-annealed from 0.1 to 0") {
    Adam opt(start(), {.lr = 0.1f});
    const LrSchedule s = LrSchedule::cosine(0.1f, 600);
    CHECK_ALL_CLOSE(run(opt, 600, &s), c, 1e-3, 0.0);
  }
  SECTION("AdamW with a small decoupled decay (1e-4), cosine-annealed") {
    AdamW opt(start(), {.lr = 0.1f, .weight_decay = 1e-4f});
    const LrSchedule s = LrSchedule::cosine(0.1f, 600);
    CHECK_ALL_CLOSE(run(opt, 600, &s), c, 2e-3, 0.0);
  }
}
