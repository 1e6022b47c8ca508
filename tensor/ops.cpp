// Differentiable ops, each in micrograd's order on the page: check the shapes, allocate the output, run the
// forward kernel, then record(out, parents, backward) attaches the closure that runs the backward kernel.
// Each backward adds (+=) into the parents' gradient buffers, so a tensor used twice gets both contributions.
// Kernels are called through kernels_for(device) (tensor/dispatch.h): fast CPU, naive CPU or CUDA.
#include "tensor/ops.h"

#include <cstring>
#include <stdexcept>

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

// Whether a node over these inputs records a graph: grad mode is on and some input wants a gradient.
bool needs_graph(std::initializer_list<const Tensor*> inputs) {
  if (!grad_enabled()) return false;
  for (const Tensor* t : inputs)
    if (wants_grad(*t)) return true;
  return false;
}

// Makes `out` a node of the graph when it needs one: it remembers its parents and the closure that, given
// out's gradient (self.grad), adds the parents' gradients. Otherwise nothing is kept (inference).
void record(Tensor& out, const char* op, const std::vector<Tensor>& parents,
            std::function<void(TensorImpl&)> backward) {
  bool any = false;
  for (const Tensor& p : parents) any = any || wants_grad(p);
  if (!grad_enabled() || !any) return;
  TensorImpl& o = *out.impl();
  o.requires_grad = true;
  o.op = op;
  for (const Tensor& p : parents)
    if (p.defined()) o.parents.push_back(p.shared_impl());
  o.backward_fn = std::move(backward);
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

// conv2d's backward into x, weight and bias (the node of conv2d, and of conv_bn_act_pool's convolution).
void record_conv2d(Tensor& out, const Tensor& x, const Tensor& weight, const Tensor& bias, const Conv2dDims& d) {
  record(out, "conv2d", {x, weight, bias}, [x, weight, bias, d](TensorImpl& self) {
    kernels_for(x.device()).conv2d_backward(grad_of(x), grad_of(weight), grad_of(bias), self.grad->data(), x.data(),
                                            weight.data(), d);
  });
}

}  // namespace

Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias, int stride, int pad) {
  const Conv2dDims d = conv_dims("conv2d", x, weight, bias, stride, pad);
  Tensor out = Tensor::empty({d.N, d.K, d.P(), d.Q()}, x.device());
  kernels_for(x.device()).conv2d_forward(out.data(), x.data(), weight.data(), data_or_null(bias), d);
  record_conv2d(out, x, weight, bias, d);
  return out;
}

// ---- batchnorm2d -----------------------------------------------------------------------------------------

Tensor batchnorm2d(const Tensor& x, const Tensor& gamma, const Tensor& beta, Tensor& running_mean,
                   Tensor& running_var, bool training, float momentum, float eps) {
  if (x.dim() != 4 && x.dim() != 2) shape_error("batchnorm2d", "input " + shape_str(x.shape()) + " must be (N,C,H,W) or (N,C)");
  int N = int(x.size(0)), C = int(x.size(1)), HW = int(x.numel() / (int64_t(N) * C));
  check_per_channel("batchnorm2d", x.shape(), C, {&gamma, &beta, &running_mean, &running_var});
  const KernelTable& k = kernels_for(x.device());
  Tensor out = Tensor::empty(x.shape(), x.device());
  if (!training) {
    // Eval: the running statistics are constants (PyTorch's eval mode), so y is affine in x, gamma and beta and
    // the node records their gradients (fine-tuning with frozen statistics, input saliency).
    k.batchnorm2d_forward_eval(out.data(), x.data(), data_or_null(gamma), data_or_null(beta), running_mean.data(),
                               running_var.data(), N, C, HW, eps);
    const Tensor rm = running_mean, rv = running_var;  // the buffers (shared, not copied: eval never updates them)
    record(out, "batchnorm2d_eval", {x, gamma, beta}, [x, gamma, beta, rm, rv, N, C, HW, eps](TensorImpl& self) {
      kernels_for(x.device()).batchnorm2d_backward_eval(grad_of(x), grad_of(gamma), grad_of(beta), self.grad->data(),
                                                        x.data(), data_or_null(gamma), rm.data(), rv.data(), N, C,
                                                        HW, eps);
    });
    return out;
  }
  check_batch_statistics("batchnorm2d", x.shape(), int64_t(N) * HW);
  Tensor mean = Tensor::empty({C}, x.device()), rstd = Tensor::empty({C}, x.device());  // (C) saved for backward
  k.batchnorm2d_forward_train(out.data(), mean.data(), rstd.data(), running_mean.data(), running_var.data(), x.data(),
                              data_or_null(gamma), data_or_null(beta), N, C, HW, momentum, eps);
  record(out, "batchnorm2d", {x, gamma, beta}, [x, gamma, beta, mean, rstd, N, C, HW](TensorImpl& self) {
    kernels_for(x.device()).batchnorm2d_backward(grad_of(x), grad_of(gamma), grad_of(beta), self.grad->data(),
                                                 x.data(), data_or_null(gamma), mean.data(), rstd.data(), N, C, HW);
  });
  return out;
}

// ---- maxpool2d -------------------------------------------------------------------------------------------

Tensor maxpool2d(const Tensor& x, int kernel, int stride, int pad) {
  const Pool2dDims d = pool_dims("maxpool2d", x.shape(), kernel, stride, pad);
  Tensor out = Tensor::empty({d.N, d.C, d.P(), d.Q()}, x.device());
  auto argmax = raw_buffer(size_t(out.numel()) * sizeof(int32_t), x.device());  // (N,C,P,Q) saved
  kernels_for(x.device()).maxpool2d_forward(out.data(), reinterpret_cast<int32_t*>(argmax->data()), x.data(), d);
  record(out, "maxpool2d", {x}, [x, argmax, d](TensorImpl& self) {
    kernels_for(x.device()).maxpool2d_backward(grad_of(x), self.grad->data(),
                                               reinterpret_cast<const int32_t*>(argmax->data()), d);
  });
  return out;
}

// ---- batchnorm -> activation -> maxpool, fused ---------------------------------------------------------------

namespace {

// The fused node's backward, bn_act_pool_backward into x, gamma and beta with the saved statistics and winners
// (batchnorm_act_pool, and conv_bn_act_pool after its conv node).
void record_bn_act_pool(Tensor& out, const Tensor& x, const Tensor& gamma, const Tensor& beta, const Tensor& mean,
                        const Tensor& rstd, const std::shared_ptr<Storage>& argmax, float alpha, const Pool2dDims& d) {
  record(out, "batchnorm_act_pool", {x, gamma, beta}, [x, gamma, beta, mean, rstd, argmax, alpha, d](TensorImpl& self) {
    kernels_for(x.device()).bn_act_pool_backward(grad_of(x), grad_of(gamma), grad_of(beta), self.grad->data(),
                                                 reinterpret_cast<const int32_t*>(argmax->data()), x.data(),
                                                 data_or_null(gamma), data_or_null(beta), mean.data(), rstd.data(),
                                                 alpha, d);
  });
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
  Tensor out = Tensor::empty({d.N, d.C, d.P(), d.Q()}, x.device());
  Tensor mean = Tensor::empty({d.C}, x.device()), rstd = Tensor::empty({d.C}, x.device());  // (C) saved
  auto argmax = raw_buffer(size_t(out.numel()) * sizeof(int32_t), x.device());             // (N,C,P,Q) saved
  kernels_for(x.device()).bn_act_pool_forward(out.data(), reinterpret_cast<int32_t*>(argmax->data()), mean.data(),
                                              rstd.data(), running_mean.data(), running_var.data(), x.data(),
                                              data_or_null(gamma), data_or_null(beta), training, momentum, eps,
                                              alpha, d);
  // Eval without a graph wanted (inference): the fused kernel with the running statistics, recording nothing.
  if (training) record_bn_act_pool(out, x, gamma, beta, mean, rstd, argmax, alpha, d);
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
  const KernelTable& k = kernels_for(dev);
  if (!training && needs_graph({&x, &weight, &bias, &gamma, &beta}))
    return unfused_bn_act_pool(conv2d(x, weight, bias, conv_stride, conv_pad), gamma, beta, running_mean, running_var,
                               eps, alpha, kernel, stride, pad);
  if (training) check_batch_statistics(op, conv_shape, int64_t(d.N) * d.H * d.W);
  Tensor h = Tensor::empty(conv_shape, dev);  // (N,K,P,Q) of the convolution
  Tensor out = Tensor::empty({d.N, d.C, d.P(), d.Q()}, dev);
  auto argmax = raw_buffer(size_t(out.numel()) * sizeof(int32_t), dev);  // (N,C,P,Q) saved
  int32_t* am = reinterpret_cast<int32_t*>(argmax->data());
  if (!training) {
    Tensor w = Tensor::empty(weight.shape(), dev), b = Tensor::empty({d.C}, dev);  // folded (K,C,R,S), (K)
    k.conv2d_fold_batchnorm(w.data(), b.data(), weight.data(), data_or_null(bias), data_or_null(gamma),
                            data_or_null(beta), running_mean.data(), running_var.data(), eps, cd.K, cd.C * cd.R * cd.S);
    k.conv2d_forward(h.data(), x.data(), w.data(), b.data(), cd);
    k.bn_act_pool_apply(out.data(), am, h.data(), nullptr, nullptr, nullptr, nullptr, alpha, d);
    return out;
  }
  Tensor mean = Tensor::empty({d.C}, dev), rstd = Tensor::empty({d.C}, dev);  // (C) saved
  k.conv2d_forward_bn_stats(h.data(), mean.data(), rstd.data(), running_mean.data(), running_var.data(), x.data(),
                            weight.data(), data_or_null(bias), momentum, eps, cd);
  record_conv2d(h, x, weight, bias, cd);
  k.bn_act_pool_apply(out.data(), am, h.data(), mean.data(), rstd.data(), data_or_null(gamma), data_or_null(beta),
                      alpha, d);
  record_bn_act_pool(out, h, gamma, beta, mean, rstd, argmax, alpha, d);
  return out;
}

// ---- dropout ---------------------------------------------------------------------------------------------

Tensor dropout(const Tensor& x, float p, bool training, uint64_t seed, uint64_t offset) {
  if (p < 0.0f || p >= 1.0f) shape_error("dropout", "p = " + std::to_string(p) + " must be in [0, 1)");
  if (!training || p == 0.0f) return x;
  int64_t n = x.numel();
  Tensor out = Tensor::empty(x.shape(), x.device());
  auto mask = raw_buffer(size_t(n), x.device());  // (n) uint8, saved
  kernels_for(x.device()).dropout_forward(out.data(), reinterpret_cast<uint8_t*>(mask->data()), x.data(), n, p, seed,
                                          offset);
  record(out, "dropout", {x}, [x, mask, n, p](TensorImpl& self) {
    kernels_for(x.device()).dropout_backward(grad_of(x), self.grad->data(),
                                             reinterpret_cast<const uint8_t*>(mask->data()), n, p);
  });
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
  Tensor out = Tensor::empty({B, OUT}, x.device());
  kernels_for(x.device()).linear_forward(out.data(), x.data(), weight.data(), data_or_null(bias), B, IN, OUT);
  record(out, "linear", {x, weight, bias}, [x, weight, bias, B, IN, OUT](TensorImpl& self) {
    kernels_for(x.device()).linear_backward(grad_of(x), grad_of(weight), grad_of(bias), self.grad->data(), x.data(),
                                            weight.data(), B, IN, OUT);
  });
  return out;
}

// ---- activations -----------------------------------------------------------------------------------------

Tensor relu(const Tensor& x) {
  Tensor out = Tensor::empty(x.shape(), x.device());
  kernels_for(x.device()).relu_forward(out.data(), x.data(), x.numel());
  record(out, "relu", {x}, [x](TensorImpl& self) {
    kernels_for(x.device()).relu_backward(grad_of(x), self.grad->data(), x.data(), x.numel());
  });
  return out;
}

Tensor leaky_relu(const Tensor& x, float alpha) {
  Tensor out = Tensor::empty(x.shape(), x.device());
  kernels_for(x.device()).leakyrelu_forward(out.data(), x.data(), x.numel(), alpha);
  record(out, "leaky_relu", {x}, [x, alpha](TensorImpl& self) {
    kernels_for(x.device()).leakyrelu_backward(grad_of(x), self.grad->data(), x.data(), x.numel(), alpha);
  });
  return out;
}

// ---- losses ----------------------------------------------------------------------------------------------

Tensor softmax(const Tensor& logits) {
  if (logits.dim() != 2) shape_error("softmax", "logits " + shape_str(logits.shape()) + " must be (B,C)");
  Tensor out = Tensor::empty(logits.shape(), logits.device());
  kernels_for(logits.device()).softmax_forward(out.data(), logits.data(), int(logits.size(0)), int(logits.size(1)));
  return out;  // inference only: no graph (training's gradient goes through cross_entropy)
}

namespace {

// 1 / (sum of the class weights of the labelled rows): PyTorch's weighted mean. Checks every target.
float cross_entropy_scale(const std::vector<int32_t>& targets, const std::vector<float>& class_weights, int C) {
  double denom = 0;
  for (size_t b = 0; b < targets.size(); ++b) {
    int32_t y = targets[b];
    if (y == -1) continue;
    if (y < 0 || y >= C)
      shape_error("cross_entropy", "target " + std::to_string(y) + " of row " + std::to_string(b) + " is outside [0, " +
                                       std::to_string(C) + ") (use -1 for 'no label')");
    denom += class_weights.empty() ? 1.0 : class_weights[y];
  }
  return denom > 0 ? float(1.0 / denom) : 0.0f;
}

}  // namespace

Tensor cross_entropy(const Tensor& logits, const std::vector<int32_t>& targets, const CrossEntropyOptions& opt) {
  if (logits.dim() != 2) shape_error("cross_entropy", "logits " + shape_str(logits.shape()) + " must be (B,C)");
  int B = int(logits.size(0)), C = int(logits.size(1));
  if (int(targets.size()) != B)
    shape_error("cross_entropy", std::to_string(targets.size()) + " targets for logits " + shape_str(logits.shape()));
  if (!opt.class_weights.empty() && int(opt.class_weights.size()) != C)
    shape_error("cross_entropy", std::to_string(opt.class_weights.size()) + " class weights for " + std::to_string(C) + " classes");
  const float inv = cross_entropy_scale(targets, opt.class_weights, C);
  const Device dev = logits.device();
  const KernelTable& k = kernels_for(dev);
  auto tgt = ints_on(targets, dev);
  Tensor weights = opt.class_weights.empty() ? Tensor() : Tensor::from_vector(opt.class_weights, {C}, dev);
  Tensor out = Tensor::empty({1}, dev);
  Tensor probs = Tensor::empty({B, C}, dev);  // (B,C) saved
  Tensor losses = Tensor::empty({B}, dev);    // (B)
  const float smooth = opt.label_smoothing;
  k.softmax_cross_entropy_forward(losses.data(), probs.data(), logits.data(),
                                  reinterpret_cast<const int32_t*>(tgt->data()), data_or_null(weights), B, C, smooth);
  k.sum_forward(out.data(), losses.data(), B);  // loss = inv * sum of the rows' losses
  k.scale_forward(out.data(), out.data(), inv, 1);
  record(out, "cross_entropy", {logits}, [=](TensorImpl& self) {
    const KernelTable& kb = kernels_for(dev);
    Tensor dlosses = Tensor::zeros({B}, dev);  // every row gets dout * inv
    kb.sum_backward(dlosses.data(), self.grad->data(), B);
    kb.scale_forward(dlosses.data(), dlosses.data(), inv, B);
    kb.softmax_cross_entropy_backward(grad_of(logits), dlosses.data(), probs.data(),
                                      reinterpret_cast<const int32_t*>(tgt->data()), data_or_null(weights), B, C,
                                      smooth);
  });
  return out;
}

Tensor mse_loss(const Tensor& pred, const Tensor& target) {
  if (pred.shape() != target.shape())
    shape_error("mse_loss", "prediction " + shape_str(pred.shape()) + " and target " + shape_str(target.shape()) + " differ");
  same_device("mse_loss", pred, target);
  Tensor out = Tensor::empty({1}, pred.device());
  kernels_for(pred.device()).mse_forward(out.data(), pred.data(), target.data(), pred.numel());
  record(out, "mse_loss", {pred}, [pred, target](TensorImpl& self) {
    kernels_for(pred.device()).mse_backward(grad_of(pred), self.grad->data(), pred.data(), target.data(),
                                            pred.numel());
  });
  return out;
}

// ---- small ops -------------------------------------------------------------------------------------------

static void same_shape(const char* op, const Tensor& a, const Tensor& b) {
  if (a.shape() != b.shape()) shape_error(op, "shapes " + shape_str(a.shape()) + " and " + shape_str(b.shape()) + " differ");
  same_device(op, a, b);
}

Tensor add(const Tensor& a, const Tensor& b) {
  same_shape("add", a, b);
  Tensor out = Tensor::empty(a.shape(), a.device());
  kernels_for(a.device()).add_forward(out.data(), a.data(), b.data(), a.numel());
  record(out, "add", {a, b}, [a, b](TensorImpl& self) {
    if (float* g = grad_of(a)) kernels_for(a.device()).accumulate(g, self.grad->data(), a.numel());
    if (float* g = grad_of(b)) kernels_for(b.device()).accumulate(g, self.grad->data(), b.numel());
  });
  return out;
}

Tensor mul(const Tensor& a, const Tensor& b) {
  same_shape("mul", a, b);
  Tensor out = Tensor::empty(a.shape(), a.device());
  kernels_for(a.device()).mul_forward(out.data(), a.data(), b.data(), a.numel());
  record(out, "mul", {a, b}, [a, b](TensorImpl& self) {
    kernels_for(a.device()).mul_backward(grad_of(a), grad_of(b), self.grad->data(), a.data(), b.data(), a.numel());
  });
  return out;
}

Tensor scale(const Tensor& a, float s) {
  Tensor out = Tensor::empty(a.shape(), a.device());
  kernels_for(a.device()).scale_forward(out.data(), a.data(), s, a.numel());
  record(out, "scale", {a}, [a, s](TensorImpl& self) {
    kernels_for(a.device()).axpy(grad_of(a), s, self.grad->data(), a.numel());
  });
  return out;
}

Tensor sum(const Tensor& a) {
  Tensor out = Tensor::empty({1}, a.device());
  kernels_for(a.device()).sum_forward(out.data(), a.data(), a.numel());
  record(out, "sum", {a}, [a](TensorImpl& self) {
    kernels_for(a.device()).sum_backward(grad_of(a), self.grad->data(), a.numel());
  });
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
  Tensor out = Tensor::empty({B, width}, x.device());
  kernels_for(x.device()).slice_columns_forward(out.data(), x.data(), B, D, start, width);
  record(out, "slice_columns", {x}, [x, B, D, start, width](TensorImpl& self) {
    kernels_for(x.device()).slice_columns_backward(grad_of(x), self.grad->data(), B, D, start, width);
  });
  return out;
}

}  // namespace facet
