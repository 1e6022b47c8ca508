#include "models/basecnn.h"

#include "layers/activation.h"
#include "layers/batchnorm2d.h"
#include "layers/conv2d.h"
#include "layers/dropout.h"
#include "layers/linear.h"
#include "layers/maxpool2d.h"
#include "models/config_util.h"
#include "tensor/rng.h"

namespace facet {

static std::unique_ptr<Module> activation(const std::string& name, float alpha) {
  if (name == "relu") return std::make_unique<ReLU>();
  if (name == "leakyrelu") return std::make_unique<LeakyReLU>(alpha);
  throw std::invalid_argument("model config: activation '" + name + "' is not 'relu' or 'leakyrelu'");
}

BaseCNN::BaseCNN(const nlohmann::json& config, uint64_t seed) {
  config_ = config;
  config_["kind"] = "basecnn";
  int channels = config_get(config, "channels", 3), size = config_get(config, "size", 64);
  auto conv = config_get(config, "conv_channels", std::vector<int>{32, 32, 64, 64, 128, 128});
  auto dense = config_get(config, "dense", std::vector<int>{256, 128});
  float p = config_get(config, "dropout", 0.5f), alpha = config_get(config, "leaky_alpha", 0.01f);
  // Batchnorm in PyTorch's convention: running = (1 - bn_momentum) * running + bn_momentum * batch. Keras's
  // BatchNormalization(momentum=0.99, epsilon=1e-3) is bn_momentum 0.01, bn_eps 1e-3 (`--keras-defaults`).
  // A config without the keys (every checkpoint written before they existed) builds PyTorch's 0.1 and 1e-5.
  float bn_momentum = config_get(config, "bn_momentum", 0.1f), bn_eps = config_get(config, "bn_eps", 1e-5f);
  if (!(bn_momentum >= 0.0f && bn_momentum <= 1.0f) || !(bn_eps > 0.0f) || !(alpha >= 0.0f))
    throw std::invalid_argument("model config: bn_momentum " + std::to_string(bn_momentum) +
                                " must be in [0, 1], bn_eps " + std::to_string(bn_eps) + " > 0 and leaky_alpha " +
                                std::to_string(alpha) + " >= 0 (flags --bn-momentum, --bn-eps, --leaky-slope)");
  std::string act = config_get(config, "activation", std::string("leakyrelu"));
  heads_ = config_heads(config, {{"age", 10, false}, {"gender", 2, false}, {"race", 5, false}});
  config_["channels"] = channels;
  config_["size"] = size;
  config_["conv_channels"] = conv;
  config_["dense"] = dense;
  config_["dropout"] = p;
  config_["activation"] = act;

  Rng rng(seed);
  int in = channels, side = size;
  for (size_t i = 0; i < conv.size(); ++i) {
    std::string k = std::to_string(i + 1);
    trunk_.emplace<Conv2d>("conv" + k, in, conv[i], 3, 1, 1, true, rng);
    trunk_.emplace<BatchNorm2d>("bn" + k, conv[i], bn_momentum, bn_eps);
    trunk_.add("act" + k, activation(act, alpha));
    trunk_.emplace<MaxPool2d>("pool" + k, 2, 2);
    in = conv[i];
    side /= 2;
    if (side < 1)
      throw std::invalid_argument("model config: " + std::to_string(conv.size()) + " pooling cycles do not fit a " +
                                  std::to_string(size) + "x" + std::to_string(size) + " input (use fewer conv_channels or a larger size)");
  }
  trunk_.emplace<Flatten>("flatten");
  int features = in * side * side;
  for (size_t i = 0; i < dense.size(); ++i) {
    std::string k = std::to_string(i + 1);
    trunk_.emplace<Linear>("fc" + k, features, dense[i], rng);
    trunk_.add("fcact" + k, activation(act, alpha));
    trunk_.emplace<Dropout>("drop" + k, p, seed * 1000003 + i);
    features = dense[i];
  }
  build_heads(features, rng);
}

nlohmann::json keras_model_defaults() { return {{"bn_momentum", 0.01}, {"bn_eps", 1e-3}, {"leaky_alpha", 0.3}}; }

std::vector<Tensor> BaseCNN::forward(const Tensor& x) { return apply_heads(trunk_.forward(x)); }

}  // namespace facet
