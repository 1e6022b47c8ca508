// Differentiable ops on Tensors. Each one checks shapes (naming the op and both shapes when they disagree),
// calls the kernel of the tensor's device (kernels/cpu or kernels/cuda, same signature), and records the
// backward function that calls the matching *_backward kernel. Forward saves what backward needs
// (BN mean/rstd, pool argmax, dropout mask, softmax probabilities) inside the closure.
#pragma once
#include <cstdint>
#include <vector>
#include "tensor/tensor.h"

namespace facet {

// (N,C,H,W) * (K,C,R,S) [+ bias (K)] -> (N,K,P,Q)
Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias, int stride = 1, int pad = 0);

// Batch statistics in training (running_mean/var updated in place), running statistics in eval.
Tensor batchnorm2d(const Tensor& x, const Tensor& gamma, const Tensor& beta, Tensor& running_mean,
                   Tensor& running_var, bool training, float momentum = 0.1f, float eps = 1e-5f);

Tensor maxpool2d(const Tensor& x, int kernel, int stride, int pad = 0);

// maxpool2d(leaky_relu(batchnorm2d(x), alpha), kernel, stride, pad) as one kernel (kernels/bn_act_pool.h;
// alpha = 0 is ReLU): the same values and gradients as the three ops, without their two full-size
// intermediates. In eval (running statistics) it records no graph, as batchnorm2d's eval does.
Tensor batchnorm_act_pool(const Tensor& x, const Tensor& gamma, const Tensor& beta, Tensor& running_mean,
                          Tensor& running_var, bool training, float momentum, float eps, float alpha, int kernel,
                          int stride, int pad = 0);

// maxpool2d(leaky_relu(batchnorm2d(conv2d(x, weight, bias, conv_stride, conv_pad)), alpha), kernel, stride, pad):
// the whole BaseCNN cycle. Training: the batch statistics are gathered in the convolution's epilogue
// (kernels/conv2d.h conv2d_forward_bn_stats), so the output is read once by the fused bn_act_pool instead of
// twice; the gradients are conv2d's and batchnorm_act_pool's. Eval: batchnorm's running statistics are folded
// into the weights (conv2d_fold_batchnorm), then act + pool; no graph, as batchnorm2d's eval.
Tensor conv_bn_act_pool(const Tensor& x, const Tensor& weight, const Tensor& bias, int conv_stride, int conv_pad,
                        const Tensor& gamma, const Tensor& beta, Tensor& running_mean, Tensor& running_var,
                        bool training, float momentum, float eps, float alpha, int kernel, int stride, int pad = 0);

// Inverted dropout with a Philox stream (seed, offset): the same mask on every backend. Identity when
// !training or p == 0.
Tensor dropout(const Tensor& x, float p, bool training, uint64_t seed, uint64_t offset);

// (B,IN) x (OUT,IN)^T [+ bias (OUT)] -> (B,OUT)
Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias);

Tensor relu(const Tensor& x);
Tensor leaky_relu(const Tensor& x, float alpha = 0.01f);

struct CrossEntropyOptions {
  std::vector<float> class_weights;  // empty: all 1
  float label_smoothing = 0.0f;
};
// Mean over rows whose target is not -1 (weighted: sum w_y l / sum w_y, as PyTorch). logits (B,C).
Tensor cross_entropy(const Tensor& logits, const std::vector<int32_t>& targets,
                     const CrossEntropyOptions& options = {});
Tensor softmax(const Tensor& logits);  // (B,C) probabilities; no gradient (inference)

Tensor mse_loss(const Tensor& pred, const Tensor& target);  // mean over all elements

Tensor add(const Tensor& a, const Tensor& b);  // same shape
Tensor mul(const Tensor& a, const Tensor& b);  // same shape
Tensor scale(const Tensor& a, float s);
Tensor sum(const Tensor& a);   // -> (1)
Tensor mean(const Tensor& a);  // -> (1)
Tensor slice_columns(const Tensor& x, int start, int width);  // (B,D) -> (B,width)

inline Tensor operator+(const Tensor& a, const Tensor& b) { return add(a, b); }
inline Tensor operator*(const Tensor& a, const Tensor& b) { return mul(a, b); }
inline Tensor operator*(const Tensor& a, float s) { return scale(a, s); }

}  // namespace facet
