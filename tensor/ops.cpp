// Differentiable ops: shape checks, the forward kernel, and a closure that calls the backward kernel.
// Each backward adds (+=) into the parents' gradient buffers, so a tensor used twice gets both contributions.
#include "tensor/ops.h"

#include <cstring>
#include <stdexcept>

#include "kernels/activation.h"
#include "kernels/batchnorm2d.h"
#include "kernels/bn_act_pool.h"
#include "kernels/conv2d.h"
#include "kernels/dropout.h"
#include "kernels/elementwise.h"
#include "kernels/linear.h"
#include "kernels/maxpool2d.h"
#include "kernels/mse.h"
#include "kernels/softmax_ce.h"
#include "tensor/dispatch.h"

namespace facet {
namespace {

[[noreturn]] void shape_error(const char* op, const std::string& what) {
  throw std::invalid_argument(std::string(op) + ": " + what);
}

void same_device(const char* op, const Tensor& a, const Tensor& b) {
  if (a.device() != b.device())
    shape_error(op, std::string("tensors on different devices (") + device_name(a.device()) + " and " +
                        device_name(b.device()) + "): move one with .to()");
}

bool wants_grad(const Tensor& t) { return t.defined() && t.requires_grad(); }

// A fresh output tensor; when grad mode is on and a parent needs a gradient, it joins the graph.
Tensor make_output(const Shape& shape, Device device, const char* op, std::vector<Tensor> parents,
                   std::function<void(TensorImpl&)> backward) {
  Tensor out = Tensor::empty(shape, device);
  bool any = false;
  for (auto& p : parents) any = any || wants_grad(p);
  if (grad_enabled() && any) {
    TensorImpl& o = *out.impl();
    o.requires_grad = true;
    o.op = op;
    for (auto& p : parents)
      if (p.defined()) o.parents.push_back(p.shared_impl());
    o.backward_fn = std::move(backward);
  }
  return out;
}

// The gradient buffer of a parent if it wants one, else null (kernels skip null gradients).
float* grad_of(const Tensor& t) { return wants_grad(t) ? t.impl()->grad_data() : nullptr; }

// An optional tensor's data, or null when it is undefined (kernels read null as "absent").
const float* data_or_null(const Tensor& t) { return t.defined() ? t.data() : nullptr; }

// Checks shared by batchnorm2d, maxpool2d and their fused form (one wording for all three).
void check_per_channel(const char* op, const Shape& x, int C, std::initializer_list<const Tensor*> tensors) {
  for (const Tensor* t : tensors)
    if (t->defined() && t->numel() != C)
      shape_error(op, "per-channel tensor " + shape_str(t->shape()) + " must hold C=" + std::to_string(C) +
                          " values for input " + shape_str(x));
}

void check_batch_statistics(const char* op, const Shape& x, int64_t values_per_channel) {
  if (values_per_channel < 2)
    shape_error(op, "training needs more than one value per channel, got input " + shape_str(x));
}

// The pooling geometry of an (N,C,H,W) input, refused when the window does not fit it.
Pool2dDims pool_dims(const char* op, const Shape& x, int kernel, int stride, int pad) {
  if (x.size() != 4) shape_error(op, "input " + shape_str(x) + " must be (N,C,H,W)");
  Pool2dDims d{int(x[0]), int(x[1]), int(x[2]), int(x[3]), kernel, stride, pad};
  if (kernel < 1 || stride < 1 || pad < 0 || 2 * pad > kernel || d.H + 2 * pad < kernel ||
      d.W + 2 * pad < kernel)
    shape_error(op, "window " + std::to_string(kernel) + ", stride " + std::to_string(stride) + ", pad " +
                        std::to_string(pad) + " does not fit input " + shape_str(x));
  return d;
}

// Saved non-float state (argmax, masks, targets) lives in a Storage sized in floats (4 bytes each).
std::shared_ptr<Storage> raw_buffer(size_t bytes, Device device) {
  return std::make_shared<Storage>(int64_t((bytes + 3) / 4), device);
}

std::shared_ptr<Storage> ints_on(const std::vector<int32_t>& v, Device device) {
  auto s = raw_buffer(v.size() * 4, device);
  Tensor host = Tensor::empty({int64_t(v.size())}, Device::CPU);
  if (!v.empty()) std::memcpy(host.data(), v.data(), v.size() * 4);
  Tensor dev = host.to(device);
  return dev.impl()->storage;
}

}  // namespace

// ---- conv2d ----------------------------------------------------------------------------------------------

namespace {

// The convolution geometry of x (N,C,H,W) * weight (K,C,R,S) [+ bias (K)], refused when the shapes disagree.
Conv2dDims conv_dims(const char* op, const Tensor& x, const Tensor& weight, const Tensor& bias, int stride, int pad) {
  if (x.dim() != 4 || weight.dim() != 4 || x.size(1) != weight.size(1))
    shape_error(op, "input " + shape_str(x.shape()) + " (N,C,H,W) and weight " + shape_str(weight.shape()) +
                        " (K,C,R,S) must be 4-D with the same C");
  if (bias.defined() && (bias.dim() != 1 || bias.size(0) != weight.size(0)))
    shape_error(op, "bias " + shape_str(bias.shape()) + " must be (K,) for weight " + shape_str(weight.shape()));
  same_device(op, x, weight);
  Conv2dDims d{int(x.size(0)), int(x.size(1)), int(x.size(2)), int(x.size(3)),
               int(weight.size(0)), int(weight.size(2)), int(weight.size(3)), stride, pad};
  if (stride < 1 || pad < 0 || d.P() < 1 || d.Q() < 1)
    shape_error(op, "kernel " + shape_str(weight.shape()) + " with stride " + std::to_string(stride) + ", pad " +
                        std::to_string(pad) + " does not fit input " + shape_str(x.shape()));
  return d;
}

// The conv2d node: conv2d's backward into x, weight and bias.
Tensor conv_output(const Tensor& x, const Tensor& weight, const Tensor& bias, const Conv2dDims& d) {
  return make_output({d.N, d.K, d.P(), d.Q()}, x.device(), "conv2d", {x, weight, bias},
                     [x, weight, bias, d](TensorImpl& self) {
                       FACET_CALL(x.device(), conv2d_backward, grad_of(x), grad_of(weight), grad_of(bias),
                                  self.grad->data(), x.data(), weight.data(), d);
                     });
}


}  // namespace

Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias, int stride, int pad) {
  const Conv2dDims d = conv_dims("conv2d", x, weight, bias, stride, pad);
  Tensor out = conv_output(x, weight, bias, d);
  FACET_CALL(x.device(), conv2d_forward, out.data(), x.data(), weight.data(), data_or_null(bias), d);
  return out;
}

// ---- batchnorm2d -----------------------------------------------------------------------------------------

Tensor batchnorm2d(const Tensor& x, const Tensor& gamma, const Tensor& beta, Tensor& running_mean,
                   Tensor& running_var, bool training, float momentum, float eps) {
  if (x.dim() != 4 && x.dim() != 2) shape_error("batchnorm2d", "input " + shape_str(x.shape()) + " must be (N,C,H,W) or (N,C)");
  int N = int(x.size(0)), C = int(x.size(1)), HW = int(x.numel() / (int64_t(N) * C));
  check_per_channel("batchnorm2d", x.shape(), C, {&gamma, &beta, &running_mean, &running_var});
  const float* g = data_or_null(gamma);
  const float* b = data_or_null(beta);
  if (!training) {
    // Eval: the running statistics are constants (PyTorch's eval mode), so y is affine in x, gamma and beta and
    // the node records their gradients (fine-tuning with frozen statistics, input saliency).
    const Tensor rm = running_mean, rv = running_var;  // the buffers (shared, not copied: eval never updates them)
    Tensor out = make_output(x.shape(), x.device(), "batchnorm2d_eval", {x, gamma, beta},
                             [x, gamma, beta, rm, rv, N, C, HW, eps](TensorImpl& self) {
                               FACET_CALL(x.device(), batchnorm2d_backward_eval, grad_of(x), grad_of(gamma),
                                          grad_of(beta), self.grad->data(), x.data(), data_or_null(gamma),
                                          rm.data(), rv.data(), N, C, HW, eps);
                             });
    FACET_CALL(x.device(), batchnorm2d_forward_eval, out.data(), x.data(), g, b, running_mean.data(), running_var.data(),
               N, C, HW, eps);
    return out;
  }
  check_batch_statistics("batchnorm2d", x.shape(), int64_t(N) * HW);
  Tensor mean = Tensor::empty({C}, x.device()), rstd = Tensor::empty({C}, x.device());  // saved for backward
  Tensor out = make_output(x.shape(), x.device(), "batchnorm2d", {x, gamma, beta},
                           [x, gamma, beta, mean, rstd, N, C, HW](TensorImpl& self) {
                             FACET_CALL(x.device(), batchnorm2d_backward, grad_of(x), grad_of(gamma), grad_of(beta),
                                        self.grad->data(), x.data(), data_or_null(gamma),
                                        mean.data(), rstd.data(), N, C, HW);
                           });
  FACET_CALL(x.device(), batchnorm2d_forward_train, out.data(), mean.data(), rstd.data(), running_mean.data(), running_var.data(), x.data(), g, b, N, C, HW,
             momentum, eps);
  return out;
}

// ---- maxpool2d -------------------------------------------------------------------------------------------

Tensor maxpool2d(const Tensor& x, int kernel, int stride, int pad) {
  const Pool2dDims d = pool_dims("maxpool2d", x.shape(), kernel, stride, pad);
  int64_t n_out = int64_t(d.N) * d.C * d.P() * d.Q();
  auto argmax = raw_buffer(size_t(n_out) * sizeof(int32_t), x.device());  // (N,C,P,Q) saved
  Tensor out = make_output({d.N, d.C, d.P(), d.Q()}, x.device(), "maxpool2d", {x}, [x, argmax, d](TensorImpl& self) {
    FACET_CALL(x.device(), maxpool2d_backward, grad_of(x), self.grad->data(),
               reinterpret_cast<const int32_t*>(argmax->data()), d);
  });
  FACET_CALL(x.device(), maxpool2d_forward, out.data(), reinterpret_cast<int32_t*>(argmax->data()), x.data(), d);
  return out;
}

// ---- batchnorm -> activation -> maxpool, fused ---------------------------------------------------------------

namespace {

// The fused node's output (N,C,P,Q); with `record`, its backward is bn_act_pool_backward into x, gamma and beta
// with the saved statistics and winners (batchnorm_act_pool, and conv_bn_act_pool after its conv node).
Tensor bn_act_pool_output(const Tensor& x, const Tensor& gamma, const Tensor& beta, const Tensor& mean,
                          const Tensor& rstd, const std::shared_ptr<Storage>& argmax, float alpha,
                          const Pool2dDims& d, bool record) {
  std::vector<Tensor> parents;
  if (record) parents = {x, gamma, beta};
  return make_output({d.N, d.C, d.P(), d.Q()}, x.device(), "batchnorm_act_pool", parents,
                     [x, gamma, beta, mean, rstd, argmax, alpha, d](TensorImpl& self) {
                       FACET_CALL(x.device(), bn_act_pool_backward, grad_of(x), grad_of(gamma), grad_of(beta),
                                  self.grad->data(), reinterpret_cast<const int32_t*>(argmax->data()), x.data(),
                                  data_or_null(gamma), data_or_null(beta), mean.data(), rstd.data(), alpha, d);
                     });
}

// Whether a node over these inputs would record a graph (make_output's rule).
bool needs_graph(std::initializer_list<const Tensor*> inputs) {
  if (!grad_enabled()) return false;
  for (const Tensor* t : inputs)
    if (wants_grad(*t)) return true;
  return false;
}

// Eval with a graph wanted (gradients through frozen statistics): the fused eval paths record none (batchnorm
// folded into the weights, one pass without saved state), so the cycle runs as its three differentiable ops,
// batchnorm2d (eval) -> leaky ReLU (alpha 0: ReLU) -> maxpool2d. Same values up to rounding, more memory.
Tensor unfused_bn_act_pool(const Tensor& x, const Tensor& gamma, const Tensor& beta, Tensor& running_mean,
                           Tensor& running_var, float eps, float alpha, int kernel, int stride, int pad) {
  const Tensor z = batchnorm2d(x, gamma, beta, running_mean, running_var, false, 0.0f, eps);
  return maxpool2d(alpha == 0.0f ? relu(z) : leaky_relu(z, alpha), kernel, stride, pad);
}

}  // namespace

Tensor batchnorm_act_pool(const Tensor& x, const Tensor& gamma, const Tensor& beta, Tensor& running_mean,
                          Tensor& running_var, bool training, float momentum, float eps, float alpha, int kernel,
                          int stride, int pad) {
  const char* op = "batchnorm_act_pool";
  const Pool2dDims d = pool_dims(op, x.shape(), kernel, stride, pad);
  check_per_channel(op, x.shape(), d.C, {&gamma, &beta, &running_mean, &running_var});
  if (!training && needs_graph({&x, &gamma, &beta}))
    return unfused_bn_act_pool(x, gamma, beta, running_mean, running_var, eps, alpha, kernel, stride, pad);
  if (training) check_batch_statistics(op, x.shape(), int64_t(d.N) * d.H * d.W);
  const float* g = data_or_null(gamma);
  const float* b = data_or_null(beta);
  Tensor mean = Tensor::empty({d.C}, x.device()), rstd = Tensor::empty({d.C}, x.device());  // (C) saved
  auto argmax = raw_buffer(size_t(d.N) * d.C * d.P() * d.Q() * sizeof(int32_t), x.device());  // (N,C,P,Q) saved
  // Eval without a graph wanted (inference): the fused kernel with the running statistics, recording nothing.
  Tensor out = bn_act_pool_output(x, gamma, beta, mean, rstd, argmax, alpha, d, training);
  FACET_CALL(x.device(), bn_act_pool_forward, out.data(), reinterpret_cast<int32_t*>(argmax->data()), mean.data(),
             rstd.data(), running_mean.data(), running_var.data(), x.data(), g, b, training, momentum, eps, alpha, d);
  return out;
}

// Training: two nodes. conv2d's, whose forward also returns the batch statistics (conv2d_forward_bn_stats, in
// its epilogue), and the fused bn_act_pool's with those statistics given (bn_act_pool_apply forward,
// bn_act_pool_backward as batchnorm_act_pool's). Eval: batchnorm folded into the weights (conv2d_fold_batchnorm),
// then act + pool of the folded convolution, recording nothing; when a graph is wanted (an input requires grad),
// conv2d and the three unfused ops instead (unfused_bn_act_pool).
Tensor conv_bn_act_pool(const Tensor& x, const Tensor& weight, const Tensor& bias, int conv_stride, int conv_pad,
                        const Tensor& gamma, const Tensor& beta, Tensor& running_mean, Tensor& running_var,
                        bool training, float momentum, float eps, float alpha, int kernel, int stride, int pad) {
  const char* op = "conv_bn_act_pool";
  const Conv2dDims cd = conv_dims(op, x, weight, bias, conv_stride, conv_pad);
  const Shape conv_shape{cd.N, cd.K, cd.P(), cd.Q()};  // the convolution's output, which the rest normalizes
  const Pool2dDims d = pool_dims(op, conv_shape, kernel, stride, pad);
  check_per_channel(op, conv_shape, d.C, {&gamma, &beta, &running_mean, &running_var});
  const Device dev = x.device();
  if (!training && needs_graph({&x, &weight, &bias, &gamma, &beta}))
    return unfused_bn_act_pool(conv2d(x, weight, bias, conv_stride, conv_pad), gamma, beta, running_mean, running_var,
                               eps, alpha, kernel, stride, pad);
  auto argmax = raw_buffer(size_t(d.N) * d.C * d.P() * d.Q() * sizeof(int32_t), dev);  // (N,C,P,Q) saved
  int32_t* am = reinterpret_cast<int32_t*>(argmax->data());
  if (!training) {
    Tensor w = Tensor::empty(weight.shape(), dev), b = Tensor::empty({d.C}, dev);  // folded (K,C,R,S), (K)
    FACET_CALL(dev, conv2d_fold_batchnorm, w.data(), b.data(), weight.data(), data_or_null(bias), data_or_null(gamma),
               data_or_null(beta), running_mean.data(), running_var.data(), eps, cd.K, cd.C * cd.R * cd.S);
    Tensor h = Tensor::empty({d.N, d.C, d.H, d.W}, dev);  // (N,K,P,Q) of the convolution
    FACET_CALL(dev, conv2d_forward, h.data(), x.data(), w.data(), b.data(), cd);
    Tensor out = make_output({d.N, d.C, d.P(), d.Q()}, dev, op, {}, nullptr);
    FACET_CALL(dev, bn_act_pool_apply, out.data(), am, h.data(), nullptr, nullptr, nullptr, nullptr, alpha, d);
    return out;
  }
  check_batch_statistics(op, conv_shape, int64_t(d.N) * d.H * d.W);
  Tensor mean = Tensor::empty({d.C}, dev), rstd = Tensor::empty({d.C}, dev);  // (C) saved
  Tensor h = conv_output(x, weight, bias, cd);                                // (N,K,P,Q)
  FACET_CALL(dev, conv2d_forward_bn_stats, h.data(), mean.data(), rstd.data(), running_mean.data(), running_var.data(),
             x.data(), weight.data(), data_or_null(bias), momentum, eps, cd);
  Tensor out = bn_act_pool_output(h, gamma, beta, mean, rstd, argmax, alpha, d, true);
  FACET_CALL(dev, bn_act_pool_apply, out.data(), am, h.data(), mean.data(), rstd.data(), data_or_null(gamma),
             data_or_null(beta), alpha, d);
  return out;
}

// ---- dropout ---------------------------------------------------------------------------------------------

Tensor dropout(const Tensor& x, float p, bool training, uint64_t seed, uint64_t offset) {
  if (p < 0.0f || p >= 1.0f) shape_error("dropout", "p = " + std::to_string(p) + " must be in [0, 1)");
  if (!training || p == 0.0f) return x;
  int64_t n = x.numel();
  auto mask = raw_buffer(size_t(n), x.device());  // (n) uint8, saved
  Tensor out = make_output(x.shape(), x.device(), "dropout", {x}, [x, mask, n, p](TensorImpl& self) {
    FACET_CALL(x.device(), dropout_backward, grad_of(x), self.grad->data(),
               reinterpret_cast<const uint8_t*>(mask->data()), n, p);
  });
  FACET_CALL(x.device(), dropout_forward, out.data(), reinterpret_cast<uint8_t*>(mask->data()), x.data(), n, p, seed,
             offset);
  return out;
}

// ---- linear ----------------------------------------------------------------------------------------------

Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias) {
  if (x.dim() != 2 || weight.dim() != 2 || x.size(1) != weight.size(1))
    shape_error("linear", "input " + shape_str(x.shape()) + " (B,IN) and weight " + shape_str(weight.shape()) +
                              " (OUT,IN) disagree on IN");
  if (bias.defined() && (bias.dim() != 1 || bias.size(0) != weight.size(0)))
    shape_error("linear", "bias " + shape_str(bias.shape()) + " must be (OUT,) for weight " + shape_str(weight.shape()));
  same_device("linear", x, weight);
  int B = int(x.size(0)), IN = int(x.size(1)), OUT = int(weight.size(0));
  Tensor out = make_output({B, OUT}, x.device(), "linear", {x, weight, bias}, [x, weight, bias, B, IN, OUT](TensorImpl& self) {
    FACET_CALL(x.device(), linear_backward, grad_of(x), grad_of(weight), grad_of(bias), self.grad->data(), x.data(),
               weight.data(), B, IN, OUT);
  });
  FACET_CALL(x.device(), linear_forward, out.data(), x.data(), weight.data(), data_or_null(bias),
             B, IN, OUT);
  return out;
}

// ---- activations -----------------------------------------------------------------------------------------

Tensor relu(const Tensor& x) {
  Tensor out = make_output(x.shape(), x.device(), "relu", {x}, [x](TensorImpl& self) {
    FACET_CALL(x.device(), relu_backward, grad_of(x), self.grad->data(), x.data(), x.numel());
  });
  FACET_CALL(x.device(), relu_forward, out.data(), x.data(), x.numel());
  return out;
}

Tensor leaky_relu(const Tensor& x, float alpha) {
  Tensor out = make_output(x.shape(), x.device(), "leaky_relu", {x}, [x, alpha](TensorImpl& self) {
    FACET_CALL(x.device(), leakyrelu_backward, grad_of(x), self.grad->data(), x.data(), x.numel(), alpha);
  });
  FACET_CALL(x.device(), leakyrelu_forward, out.data(), x.data(), x.numel(), alpha);
  return out;
}

// ---- losses ----------------------------------------------------------------------------------------------

Tensor softmax(const Tensor& logits) {
  if (logits.dim() != 2) shape_error("softmax", "logits " + shape_str(logits.shape()) + " must be (B,C)");
  Tensor out = Tensor::empty(logits.shape(), logits.device());
  FACET_CALL(logits.device(), softmax_forward, out.data(), logits.data(), int(logits.size(0)), int(logits.size(1)));
  return out;
}

Tensor cross_entropy(const Tensor& logits, const std::vector<int32_t>& targets, const CrossEntropyOptions& opt) {
  if (logits.dim() != 2) shape_error("cross_entropy", "logits " + shape_str(logits.shape()) + " must be (B,C)");
  int B = int(logits.size(0)), C = int(logits.size(1));
  if (int(targets.size()) != B)
    shape_error("cross_entropy", std::to_string(targets.size()) + " targets for logits " + shape_str(logits.shape()));
  if (!opt.class_weights.empty() && int(opt.class_weights.size()) != C)
    shape_error("cross_entropy", std::to_string(opt.class_weights.size()) + " class weights for " + std::to_string(C) + " classes");
  double denom = 0;  // sum of the weights of labelled rows: PyTorch's weighted mean
  for (int b = 0; b < B; ++b) {
    int32_t y = targets[size_t(b)];
    if (y == -1) continue;
    if (y < 0 || y >= C)
      shape_error("cross_entropy", "target " + std::to_string(y) + " of row " + std::to_string(b) + " is outside [0, " +
                                       std::to_string(C) + ") (use -1 for 'no label')");
    denom += opt.class_weights.empty() ? 1.0 : opt.class_weights[size_t(y)];
  }
  float inv = denom > 0 ? float(1.0 / denom) : 0.0f;
  Device dev = logits.device();
  auto tgt = ints_on(targets, dev);
  Tensor weights = opt.class_weights.empty() ? Tensor() : Tensor::from_vector(opt.class_weights, {C}, dev);
  Tensor probs = Tensor::empty({B, C}, dev);   // (B,C) saved
  Tensor losses = Tensor::empty({B}, dev);     // (B)
  float smooth = opt.label_smoothing;
  Tensor out = make_output({1}, dev, "cross_entropy", {logits}, [=](TensorImpl& self) {
    Tensor dlosses = Tensor::zeros({B}, dev);  // every row gets dout / denom
    FACET_CALL(dev, sum_backward, dlosses.data(), self.grad->data(), B);
    FACET_CALL(dev, scale_forward, dlosses.data(), dlosses.data(), inv, B);
    FACET_CALL(dev, softmax_cross_entropy_backward, grad_of(logits), dlosses.data(), probs.data(),
               reinterpret_cast<const int32_t*>(tgt->data()), data_or_null(weights), B, C, smooth);
  });
  FACET_CALL(dev, softmax_cross_entropy_forward, losses.data(), probs.data(),
             logits.data(), reinterpret_cast<const int32_t*>(tgt->data()), data_or_null(weights),
             B, C, smooth);
  FACET_CALL(dev, sum_forward, out.data(), losses.data(), B);
  FACET_CALL(dev, scale_forward, out.data(), out.data(), inv, 1);
  return out;
}

Tensor mse_loss(const Tensor& pred, const Tensor& target) {
  if (pred.shape() != target.shape())
    shape_error("mse_loss", "prediction " + shape_str(pred.shape()) + " and target " + shape_str(target.shape()) + " differ");
  same_device("mse_loss", pred, target);
  Tensor out = make_output({1}, pred.device(), "mse_loss", {pred}, [pred, target](TensorImpl& self) {
    FACET_CALL(pred.device(), mse_backward, grad_of(pred), self.grad->data(), pred.data(), target.data(), pred.numel());
  });
  FACET_CALL(pred.device(), mse_forward, out.data(), pred.data(), target.data(), pred.numel());
  return out;
}

// ---- small ops -------------------------------------------------------------------------------------------

static void same_shape(const char* op, const Tensor& a, const Tensor& b) {
  if (a.shape() != b.shape()) shape_error(op, "shapes " + shape_str(a.shape()) + " and " + shape_str(b.shape()) + " differ");
  same_device(op, a, b);
}

Tensor add(const Tensor& a, const Tensor& b) {
  same_shape("add", a, b);
  Tensor out = make_output(a.shape(), a.device(), "add", {a, b}, [a, b](TensorImpl& self) {
    if (float* g = grad_of(a)) FACET_CALL(a.device(), accumulate, g, self.grad->data(), a.numel());
    if (float* g = grad_of(b)) FACET_CALL(b.device(), accumulate, g, self.grad->data(), b.numel());
  });
  FACET_CALL(a.device(), add_forward, out.data(), a.data(), b.data(), a.numel());
  return out;
}

Tensor mul(const Tensor& a, const Tensor& b) {
  same_shape("mul", a, b);
  Tensor out = make_output(a.shape(), a.device(), "mul", {a, b}, [a, b](TensorImpl& self) {
    FACET_CALL(a.device(), mul_backward, grad_of(a), grad_of(b), self.grad->data(), a.data(), b.data(), a.numel());
  });
  FACET_CALL(a.device(), mul_forward, out.data(), a.data(), b.data(), a.numel());
  return out;
}

Tensor scale(const Tensor& a, float s) {
  Tensor out = make_output(a.shape(), a.device(), "scale", {a}, [a, s](TensorImpl& self) {
    FACET_CALL(a.device(), axpy, grad_of(a), s, self.grad->data(), a.numel());
  });
  FACET_CALL(a.device(), scale_forward, out.data(), a.data(), s, a.numel());
  return out;
}

Tensor sum(const Tensor& a) {
  Tensor out = make_output({1}, a.device(), "sum", {a}, [a](TensorImpl& self) {
    FACET_CALL(a.device(), sum_backward, grad_of(a), self.grad->data(), a.numel());
  });
  FACET_CALL(a.device(), sum_forward, out.data(), a.data(), a.numel());
  return out;
}

Tensor mean(const Tensor& a) {
  if (a.numel() == 0) shape_error("mean", "of an empty tensor");
  return scale(sum(a), 1.0f / float(a.numel()));
}

Tensor slice_columns(const Tensor& x, int start, int width) {
  if (x.dim() != 2 || start < 0 || width < 1 || start + width > x.size(1))
    shape_error("slice_columns", "columns [" + std::to_string(start) + ", " + std::to_string(start + width) +
                                     ") of " + shape_str(x.shape()));
  int B = int(x.size(0)), D = int(x.size(1));
  Tensor out = make_output({B, width}, x.device(), "slice_columns", {x}, [x, B, D, start, width](TensorImpl& self) {
    FACET_CALL(x.device(), slice_columns_backward, grad_of(x), self.grad->data(), B, D, start, width);
  });
  FACET_CALL(x.device(), slice_columns_forward, out.data(), x.data(), B, D, start, width);
  return out;
}

}  // namespace facet
