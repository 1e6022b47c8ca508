// BaseCNN (study A's "base CNN", VGG-like): `cycles` x [Conv 3x3 pad 1 -> BatchNorm -> ReLU|LeakyReLU ->
// MaxPool 2x2], flatten, dense 256 and 128 each with activation and dropout 0.5, one softmax head per task.
// Defaults: 6 cycles of 32, 32, 64, 64, 128, 128 channels; 64x64 input (128 and 200 also fit).
#pragma once
#include "models/model.h"

namespace facet {

class BaseCNN : public Model {
 public:
  BaseCNN(const nlohmann::json& config, uint64_t seed);
  std::string kind() const override { return "basecnn"; }
  std::vector<Tensor> forward(const Tensor& x) override;
};

// The studies' Keras defaults as BaseCNN config keys (`facet train --keras-defaults`): Keras's
// BatchNormalization(momentum=0.99, epsilon=1e-3) keeps 0.99 of the running statistics per step, which is
// PyTorch's (and facet's) bn_momentum 0.01; Keras's LeakyReLU slope (alpha) is 0.3. facet's own defaults are
// PyTorch's: 0.1, 1e-5 and 0.01.
nlohmann::json keras_model_defaults();

}  // namespace facet
