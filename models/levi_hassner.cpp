#include "models/levi_hassner.h"

#include "layers/activation.h"
#include "layers/conv2d.h"
#include "layers/dropout.h"
#include "layers/linear.h"
#include "layers/maxpool2d.h"
#include "models/config_util.h"
#include "tensor/rng.h"

namespace facet {

LeviHassner::LeviHassner(const nlohmann::json& config, uint64_t seed) {
  config_ = config;
  config_["kind"] = "levihassner";
  int channels = config_get(config, "channels", 3), size = config_get(config, "size", 64);
  float p = config_get(config, "dropout", 0.5f);
  config_["channels"] = channels;
  config_["size"] = size;
  heads_ = config_heads(config, {{"age", 8, false}, {"gender", 2, false}});
  Rng rng(seed);
  trunk_.emplace<Conv2d>("conv1", channels, 96, 7, 4, 0, true, rng);
  trunk_.emplace<ReLU>("act1");
  trunk_.emplace<MaxPool2d>("pool1", 3, 2);
  trunk_.emplace<Conv2d>("conv2", 96, 256, 5, 1, 2, true, rng);
  trunk_.emplace<ReLU>("act2");
  trunk_.emplace<MaxPool2d>("pool2", 3, 2);
  trunk_.emplace<Conv2d>("conv3", 256, 384, 3, 1, 1, true, rng);
  trunk_.emplace<ReLU>("act3");
  trunk_.emplace<MaxPool2d>("pool3", 3, 2);
  trunk_.emplace<Flatten>("flatten");
  Shape s = trunk_.output_shape(input_shape(1));  // throws with the layer's name if the input is too small
  trunk_.emplace<Linear>("fc1", int(s[1]), 512, rng);
  trunk_.emplace<ReLU>("fcact1");
  trunk_.emplace<Dropout>("drop1", p, seed * 1000003 + 1);
  trunk_.emplace<Linear>("fc2", 512, 512, rng);
  trunk_.emplace<ReLU>("fcact2");
  trunk_.emplace<Dropout>("drop2", p, seed * 1000003 + 2);
  build_heads(512, rng);
}

std::vector<Tensor> LeviHassner::forward(const Tensor& x) { return apply_heads(trunk_.forward(x)); }

}  // namespace facet
