// Regularisation and gradient hygiene around the optimizer step.
//
// L2 penalty. One convention everywhere: P(w) = (lambda / 2) * sum_p ||w_p||^2, whose gradient is lambda * w.
// Under it, adding P to the loss, calling add_l2_gradient(params, lambda) after backward, and the optimizers'
// weight_decay = lambda (SGD, Adam) all give the same update.
//
// Max-norm (Srivastava et al. 2014): after the step, each output unit's incoming weight vector w_r (a row of
// a linear (OUT, IN) weight, one filter of a conv (K, C, R, S) weight) is rescaled to ||w_r||_2 <= max_norm.
// It applies to parameters of rank >= 2 only; biases and batch-norm parameters (rank 1) are left alone.
//
// Gradient clipping, PyTorch's semantics: by global norm (all gradients seen as one vector) and by value.
#pragma once
#include <vector>

#include "tensor/tensor.h"

namespace facet {

// The parameters of rank >= 2 (conv and linear weights): what max-norm and, usually, L2 are applied to.
std::vector<NamedTensor> weights_only(const std::vector<NamedTensor>& params);

// (lambda / 2) * sum ||w||^2 as a (1,) tensor in the graph: add it to the loss. (Empty list: a zero.)
Tensor l2_penalty(const std::vector<NamedTensor>& params, float lambda);

// grad += lambda * w, for every parameter that has a gradient (the gradient of l2_penalty).
void add_l2_gradient(const std::vector<NamedTensor>& params, float lambda);

// w_r *= max_norm / ||w_r|| for each row r with ||w_r|| > max_norm, over the rank >= 2 parameters in
// `params`.
void apply_max_norm(const std::vector<NamedTensor>& params, float max_norm);

// Scales all gradients by max_norm / (norm + 1e-6) when the global norm sqrt(sum_p ||g_p||^2) exceeds
// max_norm, and returns that norm (before clipping). A non-finite norm leaves the gradients untouched and is
// returned as it is, so the caller can skip the step. Parameters without a gradient are ignored.
float clip_grad_norm(const std::vector<NamedTensor>& params, float max_norm);

// g = clamp(g, -clip, clip) elementwise, for every parameter that has a gradient.
void clip_grad_value(const std::vector<NamedTensor>& params, float clip);

}  // namespace facet
