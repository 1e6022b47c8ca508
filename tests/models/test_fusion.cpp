// The fused ops inside a model: a BaseCNN training step with Sequential's fusion (conv_bn_act_pool: statistics
// in the conv's epilogue, batchnorm folded into the conv in eval; or bn_act_pool alone) must match the same step
// layer by layer (Fusion::none), on the CPU and on the emulated CUDA kernels. Same seed, input and labels, so
// every difference is floating-point order:
//   loss                        1e-6, 1e-5   the forward values agree to rounding (measured: equal)
//   gradients                   1e-6, 1e-3   the BN backward sums run over the windows instead of the cells, and
//                                            dx is split into two adds; tiny gradients (the conv biases before
//                                            BN are exactly 0 in theory) differ relatively most
//   running mean / var          bn_act_pool: 0, 0 (the same statistics code); conv_bn_act_pool: 1e-7, 1e-6
//                                            (per-chunk shifted sums merged in order, vs one shifted pass)
//   eval outputs (no grad)      1e-6, 1e-5   running statistics: rstd in float vs the kernel's double; folded
//                                            weights a_k w in float
#include <catch2/catch.hpp>

#include <cmath>
#include <string>
#include <vector>

#include "kernels/cuda/runtime.h"
#include "models/model.h"
#include "tensor/ops.h"
#include "tensor/tensor.h"
#include "tests/common/check.h"

using namespace facet;

namespace {

struct StepResult {
  float loss = 0;
  std::vector<std::vector<float>> grads, buffers, eval_out;
};

using Fusion = Sequential::Fusion;

StepResult step(Device device, Fusion fusion, const std::string& activation) {
  const nlohmann::json config = {{"kind", "basecnn"},          {"channels", 3},   {"size", 16},
                                 {"conv_channels", {8, 16}}, {"dense", {32, 16}}, {"dropout", 0.0},
                                 {"activation", activation}};
  auto model = make_model(config, 5);
  model->set_fusion(fusion);
  model->to(device);
  const int B = 3;
  const Tensor x = Tensor::from_vector(test::random_uniform(size_t(B) * 3 * 16 * 16, 21), {B, 3, 16, 16},
                                       device);  // (B, 3, 16, 16)
  std::vector<std::vector<int32_t>> labels;
  for (const Head& h : model->heads()) labels.push_back({0, 1 % h.outputs, (h.outputs - 1) % h.outputs});
  StepResult r;
  model->set_training(true);
  Tensor loss = model_loss(*model, model->forward(x), labels, {});
  r.loss = loss.item();
  loss.backward();
  for (const auto& p : model->parameters()) r.grads.push_back(p.tensor.grad().to_vector());
  for (const auto& b : model->buffers()) r.buffers.push_back(b.tensor.to_vector());
  model->set_training(false);
  NoGradGuard no_grad;
  for (const Tensor& out : model->forward(x)) r.eval_out.push_back(out.to_vector());
  return r;
}

void check_same(const StepResult& fused, const StepResult& plain, Fusion fusion) {
  CHECK_ALL_CLOSE(std::vector<float>{fused.loss}, std::vector<float>{plain.loss}, 1e-6, 1e-5);
  CHECK(plain.loss > 0.5f);  // untrained heads: a real loss
  REQUIRE(fused.grads.size() == plain.grads.size());
  for (size_t i = 0; i < plain.grads.size(); ++i) {
    INFO("parameter " << i);
    CHECK_ALL_CLOSE(fused.grads[i], plain.grads[i], 1e-6, 1e-3);
  }
  REQUIRE(fused.buffers.size() == plain.buffers.size());
  const bool same_stats_code = fusion == Fusion::bn_act_pool;
  for (size_t i = 0; i < plain.buffers.size(); ++i)
    CHECK_ALL_CLOSE(fused.buffers[i], plain.buffers[i], same_stats_code ? 0.0 : 1e-7, same_stats_code ? 0.0 : 1e-6);
  REQUIRE(fused.eval_out.size() == plain.eval_out.size());
  for (size_t i = 0; i < plain.eval_out.size(); ++i)
    CHECK_ALL_CLOSE(fused.eval_out[i], plain.eval_out[i], 1e-6, 1e-5);
}

}  // namespace

TEST_CASE("BaseCNN step: fused conv+batchnorm+activation+maxpool equals the layer-by-layer step", "[models][fusion]") {
  for (Fusion fusion : {Fusion::conv_bn_act_pool, Fusion::bn_act_pool})
    for (const char* act : {"leakyrelu", "relu"}) {
      const std::string name = std::string(fusion == Fusion::bn_act_pool ? "bn_act_pool " : "conv_bn_act_pool ") + act;
      SECTION("cpu " + name) {
        check_same(step(Device::CPU, fusion, act), step(Device::CPU, Fusion::none, act), fusion);
      }
      SECTION("emulated cuda " + name) {
        cuda::set_emulation_enabled(true);
        const StepResult fused = step(Device::CUDA, fusion, act), plain = step(Device::CUDA, Fusion::none, act);
        cuda::set_emulation_enabled(false);
        check_same(fused, plain, fusion);
      }
    }
}

TEST_CASE("conv_bn_act_pool: shape checks, and in eval a graph only when one is wanted", "[models][fusion]") {
  Tensor x = Tensor::from_vector(test::random_uniform(2 * 3 * 6 * 6, 4), {2, 3, 6, 6}).set_requires_grad(true);
  Tensor w = Tensor::from_vector(test::random_uniform(4 * 3 * 3 * 3, 5), {4, 3, 3, 3}).set_requires_grad(true);
  Tensor cb = Tensor::zeros({4}).set_requires_grad(true);
  Tensor g = Tensor::full({4}, 1.0f).set_requires_grad(true), b = Tensor::zeros({4}).set_requires_grad(true);
  Tensor rm = Tensor::zeros({4}), rv = Tensor::full({4}, 1.0f);
  CHECK_THROWS_WITH(conv_bn_act_pool(x, w, cb, 1, 1, g, b, rm, rv, true, 0.1f, 1e-5f, 0.01f, 7, 2),
                    Catch::Contains("conv_bn_act_pool") && Catch::Contains("does not fit input (2, 4, 6, 6)"));
  CHECK_THROWS_WITH(conv_bn_act_pool(x, w, cb, 1, 1, Tensor::zeros({3}), b, rm, rv, true, 0.1f, 1e-5f, 0.01f, 2, 2),
                    Catch::Contains("C=4"));
  CHECK_THROWS_WITH(conv_bn_act_pool(x, Tensor::zeros({4, 2, 3, 3}), cb, 1, 1, g, b, rm, rv, true, 0.1f, 1e-5f,
                                     0.01f, 2, 2),
                    Catch::Contains("same C"));
  Tensor one = Tensor::from_vector(test::random_uniform(3 * 3 * 3, 6), {1, 3, 3, 3});  // a (1, 4, 1, 1) output
  CHECK_THROWS_WITH(conv_bn_act_pool(one, w, cb, 1, 0, g, b, rm, rv, true, 0.1f, 1e-5f, 0.01f, 1, 1),
                    Catch::Contains("more than one value per channel"));
  const Tensor y = conv_bn_act_pool(x, w, cb, 1, 1, g, b, rm, rv, true, 0.1f, 1e-5f, 0.01f, 2, 2);
  CHECK(y.shape() == Shape{2, 4, 3, 3});
  CHECK(y.requires_grad());
  // Eval with inputs that require grad: differentiable (routed through the unfused ops), as PyTorch's eval mode.
  CHECK(conv_bn_act_pool(x, w, cb, 1, 1, g, b, rm, rv, false, 0.1f, 1e-5f, 0.01f, 2, 2).requires_grad());
  NoGradGuard no_grad;  // inference: the folded path, no graph
  CHECK_FALSE(conv_bn_act_pool(x, w, cb, 1, 1, g, b, rm, rv, false, 0.1f, 1e-5f, 0.01f, 2, 2).requires_grad());
}

TEST_CASE("batchnorm_act_pool: window checks, and in eval a graph only when one is wanted (as batchnorm2d)",
          "[models][fusion]") {
  Tensor x = Tensor::from_vector(test::random_uniform(2 * 2 * 4 * 4, 3), {2, 2, 4, 4}).set_requires_grad(true);
  Tensor g = Tensor::full({2}, 1.0f).set_requires_grad(true), b = Tensor::zeros({2}).set_requires_grad(true);
  Tensor rm = Tensor::zeros({2}), rv = Tensor::full({2}, 1.0f);
  CHECK_THROWS_WITH(batchnorm_act_pool(x, g, b, rm, rv, true, 0.1f, 1e-5f, 0.01f, 5, 2),
                    Catch::Contains("batchnorm_act_pool") && Catch::Contains("does not fit input"));
  CHECK_THROWS_WITH(maxpool2d(x, 5, 2), Catch::Contains("does not fit input"));  // a window wider than the input
  CHECK_THROWS_WITH(batchnorm_act_pool(x, Tensor::zeros({3}), b, rm, rv, true, 0.1f, 1e-5f, 0.01f, 2, 2),
                    Catch::Contains("C=2"));
  CHECK(batchnorm_act_pool(x, g, b, rm, rv, true, 0.1f, 1e-5f, 0.01f, 2, 2).requires_grad());
  CHECK(batchnorm_act_pool(x, g, b, rm, rv, false, 0.1f, 1e-5f, 0.01f, 2, 2).requires_grad());
  CHECK(batchnorm2d(x, g, b, rm, rv, false).requires_grad());  // the unfused eval op alike
  const Tensor xc = Tensor::from_vector(x.to_vector(), x.shape()), gc = Tensor::full({2}, 1.0f);  // constants
  CHECK_FALSE(batchnorm_act_pool(xc, gc, Tensor(), rm, rv, false, 0.1f, 1e-5f, 0.01f, 2, 2).requires_grad());
  NoGradGuard no_grad;
  CHECK_FALSE(batchnorm_act_pool(x, g, b, rm, rv, false, 0.1f, 1e-5f, 0.01f, 2, 2).requires_grad());
  CHECK_FALSE(batchnorm2d(x, g, b, rm, rv, false).requires_grad());
}

TEST_CASE("eval-mode BaseCNN: the gradient w.r.t. the input is non-zero and matches finite differences",
          "[models][fusion]") {
  // Input saliency through frozen statistics: before eval batchnorm recorded a graph, the input got no
  // gradient at all (every conv cycle is conv -> batchnorm). Every fusion mode must give the same gradient.
  const nlohmann::json config = {{"kind", "basecnn"},          {"channels", 1},    {"size", 8},
                                 {"conv_channels", {3, 4}}, {"dense", {6}}, {"dropout", 0.0}};
  const int n = 8 * 8;
  const std::vector<float> x0 = test::random_uniform(size_t(n), 31);
  const std::vector<float> r = test::random_uniform(6, 32);  // L = sum_h sum_j r_j out_h[j]
  for (Fusion fusion : {Fusion::conv_bn_act_pool, Fusion::bn_act_pool, Fusion::none}) {
    INFO("fusion " << int(fusion));
    auto model = make_model(config, 3);
    model->set_fusion(fusion);
    // Non-trivial running statistics: one training step's worth (momentum 0.1 of a random batch).
    model->set_training(true);
    {
      NoGradGuard no_grad;
      model->forward(Tensor::from_vector(test::random_uniform(size_t(4 * n), 33), {4, 1, 8, 8}));
    }
    model->set_training(false);
    auto loss_at = [&](const Tensor& x) {
      Tensor total;
      for (const Tensor& out : model->forward(x)) {
        std::vector<float> w(size_t(out.numel()));
        for (size_t j = 0; j < w.size(); ++j) w[j] = r[j % r.size()];
        Tensor l = sum(out * Tensor::from_vector(w, out.shape()));
        total = total.defined() ? total + l : l;
      }
      return total;
    };
    Tensor x = Tensor::from_vector(x0, {1, 1, 8, 8}).set_requires_grad(true);
    loss_at(x).backward();
    REQUIRE(x.grad().defined());
    const std::vector<float> g = x.grad().to_vector();
    double norm = 0;
    for (float v : g) norm += double(v) * v;
    CHECK(norm > 1e-8);
    NoGradGuard no_grad;
    const float h = 1e-3f;
    int checked = 0, close = 0;
    for (int i = 0; i < n; i += 5) {  // 13 of the 64 pixels: central differences in float
      std::vector<float> up = x0, down = x0;
      up[size_t(i)] += h, down[size_t(i)] -= h;
      const double numeric = (double(loss_at(Tensor::from_vector(up, {1, 1, 8, 8})).item()) -
                              double(loss_at(Tensor::from_vector(down, {1, 1, 8, 8})).item())) / (2.0 * h);
      ++checked;
      if (std::abs(numeric - g[size_t(i)]) <= 2e-3 + 5e-2 * std::abs(numeric)) ++close;
      else UNSCOPED_INFO("pixel " << i << ": analytic " << g[size_t(i)] << ", numeric " << numeric);
    }
    CHECK(close == checked);
  }
}
