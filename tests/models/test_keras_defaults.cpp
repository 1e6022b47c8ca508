// BaseCNN's batchnorm momentum/eps and LeakyReLU slope: facet's defaults (PyTorch's 0.1, 1e-5, 0.01), the
// studies' Keras preset (keras_model_defaults: 0.01, 1e-3, 0.3), and a checkpoint's config rebuilding the same
// layers. Checkpoints written before the keys existed carry none of them and must keep PyTorch's values.
#include <catch2/catch.hpp>

#include <cstdio>
#include <string>
#include <vector>

#include "layers/activation.h"
#include "layers/batchnorm2d.h"
#include "models/basecnn.h"
#include "models/model.h"
#include "tensor/checkpoint.h"
#include "tensor/ops.h"

using namespace facet;

namespace {

struct LayerSettings {
  std::vector<float> momentum, eps, slope;  // one per batchnorm / LeakyReLU layer of the trunk
};

LayerSettings settings_of(Model& model) {
  LayerSettings s;
  Sequential& trunk = model.trunk();
  for (size_t i = 0; i < trunk.size(); ++i) {
    if (auto* bn = dynamic_cast<BatchNorm2d*>(&trunk[i])) {
      s.momentum.push_back(bn->momentum());
      s.eps.push_back(bn->eps());
    }
    if (auto* act = dynamic_cast<LeakyReLU*>(&trunk[i])) s.slope.push_back(act->alpha());
  }
  return s;
}

void check_all(const LayerSettings& s, float momentum, float eps, float slope) {
  REQUIRE(s.momentum.size() == 2);  // two conv cycles
  REQUIRE(s.slope.size() == 4);     // two cycles, two dense layers
  for (float m : s.momentum) CHECK(m == Approx(momentum));
  for (float e : s.eps) CHECK(e == Approx(eps));
  for (float a : s.slope) CHECK(a == Approx(slope));
}

nlohmann::json small_basecnn() {
  return {{"kind", "basecnn"}, {"channels", 3}, {"size", 16}, {"conv_channels", {4, 8}}, {"dense", {8, 8}}};
}

}  // namespace

TEST_CASE("basecnn: without the keys, PyTorch's batchnorm and LeakyReLU defaults (older checkpoints)", "[keras]") {
  auto model = make_model(small_basecnn(), 1);
  check_all(settings_of(*model), 0.1f, 1e-5f, 0.01f);
}

TEST_CASE("basecnn: the Keras preset builds momentum 0.01, eps 1e-3, slope 0.3, explicit keys win", "[keras]") {
  nlohmann::json config = small_basecnn();
  config.update(keras_model_defaults());
  check_all(settings_of(*make_model(config, 1)), 0.01f, 1e-3f, 0.3f);

  config["leaky_alpha"] = 0.2;  // what `--keras-defaults --leaky-slope 0.2` writes
  check_all(settings_of(*make_model(config, 1)), 0.01f, 1e-3f, 0.2f);
}

TEST_CASE("basecnn: the settings survive a checkpoint (config in its metadata) and rebuild the same model", "[keras]") {
  nlohmann::json config = small_basecnn();
  config.update(keras_model_defaults());
  auto model = make_model(config, 1);
  const std::string path = "test_keras_defaults.ckpt";
  save_checkpoint(path, model->parameters(), {{"model", model->config()}});
  const Checkpoint ck = load_checkpoint(path);
  std::remove(path.c_str());
  auto rebuilt = make_model(ck.meta.at("model"), 0);
  ck.load_into(rebuilt->parameters());
  check_all(settings_of(*rebuilt), 0.01f, 1e-3f, 0.3f);
}

TEST_CASE("basecnn: a bad bn_momentum or bn_eps is refused, naming the flag", "[keras]") {
  nlohmann::json config = small_basecnn();
  config["bn_momentum"] = 0.99;  // Keras's spelling, not PyTorch's: allowed (in [0, 1]) but...
  CHECK_NOTHROW(make_model(config, 1));
  config["bn_momentum"] = 1.5;
  CHECK_THROWS_WITH(make_model(config, 1), Catch::Contains("--bn-momentum"));
  config["bn_momentum"] = 0.1;
  config["bn_eps"] = 0.0;
  CHECK_THROWS_WITH(make_model(config, 1), Catch::Contains("--bn-eps"));
}

TEST_CASE("batchnorm2d: momentum m moves the running statistics by m toward the batch's (PyTorch's convention)",
          "[keras]") {
  // One channel, M = 4 values {1, 2, 3, 6}: mean 3, biased var 3.5, unbiased 3.5 * 4/3 = 14/3.
  // running_mean = (1-m)*0 + m*3, running_var = (1-m)*1 + m*14/3.
  for (float m : {0.1f, 0.01f}) {
    BatchNorm2d bn(1, m, 1e-3f);
    bn.set_training(true);
    bn.forward(Tensor::from_vector({1, 2, 3, 6}, {2, 1, 1, 2}));
    CHECK(bn.running_mean.to_vector()[0] == Approx(m * 3.0f).epsilon(1e-5));
    CHECK(bn.running_var.to_vector()[0] == Approx((1 - m) * 1.0f + m * 14.0f / 3.0f).epsilon(1e-5));
  }
}
