// Tensor storage, views and the backward pass. The ops themselves live in tensor/ops.cpp.
#include "tensor/tensor.h"

#include "tensor/host_cache.h"

#include <cstdlib>
#include <cstring>
#include <sstream>
#include <stdexcept>
#include <unordered_set>

#include "kernels/elementwise.h"
#include "tensor/dispatch.h"
#if defined(FACET_TENSOR_CUDA)
#include "kernels/cuda/runtime.h"
#endif

namespace facet {

const char* device_name(Device d) { return d == Device::CPU ? "cpu" : "cuda"; }

void cuda_not_built(const char* what) {
  throw std::runtime_error(std::string("facet: '") + what +
                           "' was asked to run on a CUDA tensor, but this build has no CUDA kernels "
                           "(configure with nvcc on PATH and -DFACET_CUDA=ON, or use --device cpu)");
}

Device parse_device(const std::string& name) {
  if (name == "cpu") return Device::CPU;
  if (name == "cuda") return Device::CUDA;
  throw std::invalid_argument("--device '" + name + "': use cpu or cuda");
}

bool device_available(Device device) {
  if (device == Device::CPU) return true;
#if defined(FACET_TENSOR_CUDA)
  return cuda::available();
#else
  return false;
#endif
}

void require_device(Device device, const std::string& asked) {
  if (device_available(device)) return;
#if defined(FACET_TENSOR_CUDA)
  // The emulated build (no nvcc) can still run the CUDA kernels, slowly, on the CPU: say how.
  const std::string other =
      cuda::emulated_build() ? "or set FACET_CUDA_EMULATE=1 to run the CUDA kernels in the (slow) CPU emulator"
                             : "or run on a machine with an NVIDIA GPU and its driver";
  throw std::runtime_error(asked + ": no CUDA device or driver was found (" + cuda::unavailable_reason() +
                           "). Use --device cpu, " + other + ".");
#else
  throw std::runtime_error(asked + ": this build has no CUDA kernels. Use --device cpu, or configure with "
                           "nvcc on PATH and -DFACET_CUDA=ON.");
#endif
}

std::string device_description(Device device) {
  if (device == Device::CPU) return "cpu";
#if defined(FACET_TENSOR_CUDA)
  return cuda::device_description();
#else
  return "no CUDA kernels in this build";
#endif
}

void synchronize(Device device) {
  if (device == Device::CPU) return;
#if defined(FACET_TENSOR_CUDA)
  cuda::synchronize();
#else
  cuda_not_built("synchronize");
#endif
}

std::string shape_str(const Shape& s) {
  std::ostringstream o;
  o << "(";
  for (size_t i = 0; i < s.size(); ++i) o << (i ? ", " : "") << s[i];
  o << (s.size() == 1 ? ",)" : ")");
  return o.str();
}

int64_t shape_numel(const Shape& s) {
  int64_t n = 1;
  for (int64_t d : s) n *= d;
  return n;
}

// ---- Storage -------------------------------------------------------------------------------------------

Storage::Storage(int64_t n, Device device) : n_(n), device_(device) {
  if (n < 0) throw std::invalid_argument("Storage: negative size " + std::to_string(n));
  size_t bytes = size_t(std::max<int64_t>(n, 1)) * sizeof(float);
  if (device == Device::CPU) {
    data_ = static_cast<float*>(host_alloc(bytes));  // 64-byte aligned, reused blocks (tensor/host_cache.h)
  } else {
#if defined(FACET_TENSOR_CUDA)
    data_ = static_cast<float*>(cuda::device_alloc(bytes));
#else
    cuda_not_built("Storage(Device::CUDA)");
#endif
  }
}

Storage::~Storage() {
  if (device_ == Device::CPU) host_free(data_, size_t(std::max<int64_t>(n_, 1)) * sizeof(float));
#if defined(FACET_TENSOR_CUDA)
  else cuda::device_free(data_);
#endif
}

// Copies bytes between any two devices.
static void copy_floats(float* dst, Device dst_dev, const float* src, Device src_dev, int64_t n) {
  size_t bytes = size_t(n) * sizeof(float);
  if (dst_dev == Device::CPU && src_dev == Device::CPU) {
    if (n) std::memcpy(dst, src, bytes);
    return;
  }
#if defined(FACET_TENSOR_CUDA)
  if (dst_dev == Device::CUDA && src_dev == Device::CPU) cuda::copy_to_device(dst, src, bytes);
  else if (dst_dev == Device::CPU) cuda::copy_to_host(dst, src, bytes);
  else cuda::copy_device_to_device(dst, src, bytes);
#else
  cuda_not_built("copy between devices");
#endif
}

// ---- TensorImpl ------------------------------------------------------------------------------------------

float* TensorImpl::grad_data() {
  if (!grad) {
    grad = std::make_shared<TensorImpl>();
    grad->storage = std::make_shared<Storage>(numel(), device());
    grad->shape = shape;
    kernels_for(device()).fill(grad->data(), 0.0f, numel());
  }
  return grad->data();
}

// ---- Tensor ----------------------------------------------------------------------------------------------

static void check_shape(const Shape& shape) {
  for (int64_t d : shape)
    if (d < 0) throw std::invalid_argument("Tensor: negative size in shape " + shape_str(shape));
}

Tensor Tensor::empty(const Shape& shape, Device device) {
  check_shape(shape);
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = std::make_shared<Storage>(shape_numel(shape), device);
  impl->shape = shape;
  return Tensor(impl);
}

Tensor Tensor::zeros(const Shape& shape, Device device) { return full(shape, 0.0f, device); }

Tensor Tensor::full(const Shape& shape, float value, Device device) {
  Tensor t = empty(shape, device);
  kernels_for(device).fill(t.data(), value, t.numel());
  return t;
}

Tensor Tensor::from_vector(const std::vector<float>& values, const Shape& shape, Device device) {
  if (int64_t(values.size()) != shape_numel(shape))
    throw std::invalid_argument("Tensor::from_vector: " + std::to_string(values.size()) +
                                " values do not fill shape " + shape_str(shape));
  Tensor t = empty(shape, device);
  copy_floats(t.data(), device, values.data(), Device::CPU, t.numel());
  return t;
}

static TensorImpl& must(const std::shared_ptr<TensorImpl>& p) {
  if (!p) throw std::logic_error("facet: use of an undefined Tensor");
  return *p;
}

const Shape& Tensor::shape() const { return must(impl_).shape; }
int64_t Tensor::numel() const { return must(impl_).numel(); }
Device Tensor::device() const { return must(impl_).device(); }
float* Tensor::data() { return must(impl_).data(); }
const float* Tensor::data() const { return must(impl_).data(); }
const char* Tensor::op() const { return must(impl_).op; }

int64_t Tensor::size(int d) const {
  int n = dim();
  int i = d < 0 ? d + n : d;
  if (i < 0 || i >= n)
    throw std::out_of_range("Tensor::size(" + std::to_string(d) + ") on shape " + shape_str(shape()));
  return shape()[size_t(i)];
}

Shape Tensor::strides() const {
  Shape s(shape().size());
  int64_t acc = 1;
  for (size_t i = s.size(); i-- > 0;) {
    s[i] = acc;
    acc *= shape()[i];
  }
  return s;
}

std::vector<float> Tensor::to_vector() const {
  std::vector<float> out(static_cast<size_t>(numel()));
  copy_floats(out.data(), Device::CPU, data(), device(), numel());
  return out;
}

float Tensor::item() const {
  if (numel() != 1) throw std::invalid_argument("Tensor::item() on shape " + shape_str(shape()) + ": needs one element");
  return to_vector()[0];
}

Tensor Tensor::to(Device device) const {
  if (device == this->device()) return *this;
  Tensor t = empty(shape(), device);
  copy_floats(t.data(), device, data(), this->device(), numel());
  t.impl_->requires_grad = requires_grad();
  return t;
}

Tensor Tensor::clone() const {
  Tensor t = empty(shape(), device());
  copy_floats(t.data(), device(), data(), device(), numel());
  return t;
}

void Tensor::copy_from(const Tensor& src) {
  if (src.numel() != numel())
    throw std::invalid_argument("Tensor::copy_from: source " + shape_str(src.shape()) + " and destination " +
                                shape_str(shape()) + " differ in size");
  copy_floats(data(), device(), src.data(), src.device(), numel());
}

void Tensor::move_to(Device device) {
  TensorImpl& t = must(impl_);
  if (t.device() == device) return;
  if (!t.parents.empty()) throw std::logic_error("move_to: only leaf tensors (parameters, buffers) move in place");
  auto s = std::make_shared<Storage>(t.numel(), device);
  copy_floats(s->data(), device, t.data(), t.device(), t.numel());
  t.storage = s;
  t.offset = 0;
  t.grad.reset();
}

Tensor Tensor::reshape(const Shape& new_shape) const {
  Shape s = new_shape;
  int64_t known = 1;
  int infer = -1;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == -1) {
      if (infer >= 0) throw std::invalid_argument("reshape: more than one -1 in " + shape_str(new_shape));
      infer = int(i);
    } else {
      known *= s[i];
    }
  }
  if (infer >= 0 && known > 0) s[size_t(infer)] = numel() / known;
  if (shape_numel(s) != numel())
    throw std::invalid_argument("reshape: cannot view " + shape_str(shape()) + " as " + shape_str(new_shape));
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = impl_->storage;
  impl->offset = impl_->offset;
  impl->shape = s;
  if (grad_enabled() && requires_grad()) {
    impl->requires_grad = true;
    impl->op = "reshape";
    impl->parents = {impl_};
    impl->backward_fn = [](TensorImpl& self) {
      TensorImpl& x = *self.parents[0];
      kernels_for(x.device()).accumulate(x.grad_data(), self.grad->data(), x.numel());
    };
  }
  return Tensor(impl);
}

Tensor Tensor::flatten(int start_dim) const {
  if (start_dim < 0 || start_dim >= dim())
    throw std::invalid_argument("flatten(" + std::to_string(start_dim) + ") on shape " + shape_str(shape()));
  Shape s(shape().begin(), shape().begin() + start_dim);
  s.push_back(-1);
  return reshape(s);
}

Tensor Tensor::detach() const {
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = impl_->storage;
  impl->offset = impl_->offset;
  impl->shape = impl_->shape;
  return Tensor(impl);
}

bool Tensor::requires_grad() const { return must(impl_).requires_grad; }

Tensor& Tensor::set_requires_grad(bool on) {
  must(impl_).requires_grad = on;
  return *this;
}

Tensor Tensor::grad() const { return must(impl_).grad ? Tensor(impl_->grad) : Tensor(); }

void Tensor::zero_grad() { must(impl_).grad.reset(); }

// Reverse-mode autodiff: order the graph so that every node comes after its parents (iterative DFS with an
// explicit stack, post-order), then walk it backwards, each node pushing its gradient into its parents.
void Tensor::backward() {
  TensorImpl& root = must(impl_);
  if (root.numel() != 1)
    throw std::invalid_argument("backward() needs a one-element tensor (a loss), got shape " + shape_str(root.shape));
  if (!root.requires_grad) throw std::logic_error("backward(): the loss does not depend on any tensor that requires grad");

  std::vector<TensorImpl*> order;
  std::unordered_set<TensorImpl*> seen;
  std::vector<std::pair<TensorImpl*, size_t>> stack{{&root, 0}};
  seen.insert(&root);
  while (!stack.empty()) {
    auto& [node, next] = stack.back();
    if (next < node->parents.size()) {
      TensorImpl* p = node->parents[next++].get();
      if (p->requires_grad && seen.insert(p).second) stack.push_back({p, 0});
    } else {
      order.push_back(node);
      stack.pop_back();
    }
  }

  kernels_for(root.device()).fill(root.grad_data(), 1.0f, 1);
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    TensorImpl* node = *it;
    if (node->backward_fn && node->grad) node->backward_fn(*node);
  }
}

// ---- no-grad scope ---------------------------------------------------------------------------------------

static thread_local bool g_grad_enabled = true;
bool grad_enabled() { return g_grad_enabled; }
NoGradGuard::NoGradGuard() : previous_(g_grad_enabled) { g_grad_enabled = false; }
NoGradGuard::~NoGradGuard() { g_grad_enabled = previous_; }

}  // namespace facet
