// Levi & Hassner (2015) style CNN for Adience: conv 96 7x7/4 -> ReLU -> maxpool 3/2, conv 256 5x5 pad 2 ->
// ReLU -> maxpool 3/2, conv 384 3x3 pad 1 -> ReLU -> maxpool 3/2, FC 512 -> ReLU -> dropout 0.5, FC 512 ->
// ReLU -> dropout 0.5, one softmax head per task. Their local response normalisation is left out (facet has no
// LRN op; BatchNorm-free, as published otherwise). Their input was 227x227 crops; any size >= 64 fits.
#pragma once
#include "models/model.h"

namespace facet {

class LeviHassner : public Model {
 public:
  LeviHassner(const nlohmann::json& config, uint64_t seed);
  std::string kind() const override { return "levihassner"; }
  std::vector<Tensor> forward(const Tensor& x) override;
};

}  // namespace facet
