// `facet explain`: what each layer of a model costs. One row per layer (trunk, then the heads' linear
// layers): output shape, parameters, forward FLOPs, activation memory for a batch, and optionally measured
// milliseconds.
//
// FLOPs convention (stated in the command's output too): a multiply-add counts 2, every other arithmetic op
// or comparison counts 1, per forward pass of a batch of N in the mode the table was made for:
//   conv2d  k x k, Cin -> Cout, output Ho x Wo:  2 N Cout Ho Wo Cin k^2  (+ N Cout Ho Wo with a bias)
//   linear  in -> out:                           2 N in out              (+ N out with a bias)
//   batchnorm (eval, folded to y = a x + b):     2 per element; in training 8 per element (mean, variance,
//                                                normalise, scale and shift)
//   relu / leakyrelu:                            1 per element (compare; the leaky slope's multiply is not
//   counted) maxpool k x k:                               k^2 - 1 comparisons per output element dropout: 1
//   per element in training (the mask multiply), 0 in eval flatten:                                     0 (a
//   view)
// Activation memory is the layer's output for the batch in float32 (N x output elements x 4 bytes): what
// training keeps for the backward pass when every layer runs on its own (fused cycles keep less).
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "models/model.h"

namespace facet {

struct LayerCost {
  std::string name;   // "conv1", "age" (a head)
  std::string layer;  // Module::describe(), e.g. "conv2d 3->32 3x3/1 pad 1"
  Shape output;       // (N, ...)
  int64_t parameters = 0;
  double flops = 0;                          // forward, for the batch
  double activation_bytes = 0;               // the output for the batch, float32
  double forward_ms = -1, backward_ms = -1;  // measured (explain_model(..., time = true)); -1: not measured
};

// The FLOPs of one layer for input shape `in` (N, ...), by the convention above. `training` picks batchnorm's
// and dropout's cost.
double layer_flops(Module& layer, const Shape& in, bool training);

struct ExplainOptions {
  int batch = 32;
  bool training = true;  // count (and time) the layers as in a training step
  bool time = false;     // measure forward and backward milliseconds per layer
  int repeats = 3;       // timed runs per layer (the median is kept), after one warm-up run
};
// Every layer of `model` (trunk, then head layers). Timing runs each layer on its own, unfused, on random
// inputs of the layer's input shape (seeded), on the model's device.
std::vector<LayerCost> explain_model(Model& model, const ExplainOptions& options);

// The table as text (with totals and each layer's share of FLOPs and time) and as JSON.
std::string explain_text(const std::vector<LayerCost>& rows, const ExplainOptions& options,
                         const std::string& title);
nlohmann::json explain_json(const std::vector<LayerCost>& rows, const ExplainOptions& options,
                            const std::string& title);

}  // namespace facet
