// Tensor: an N-d float32 array on the CPU or a CUDA device, with define-by-run reverse-mode autograd.
//
// Every op (tensor/ops.h) makes a new Tensor whose node remembers its parents (in a vector: a fixed order,
// so gradients are summed in the same order every run) and a backward function. Tensor::backward() sorts the
// graph topologically (iteratively, no recursion) and calls the backward functions from the output back to
// the leaves; each one adds (+=) into its parents' .grad, as micrograd's engine does.
//
// Storage is contiguous and row-major (strides are the usual products of the trailing sizes); reshape and
// flatten are views that share the storage. Buffers are 64-byte aligned on the CPU.
#pragma once
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

namespace facet {

enum class Device { CPU, CUDA };
const char* device_name(Device d);
// "cpu" or "cuda" (what --device takes); anything else throws std::invalid_argument naming both choices.
Device parse_device(const std::string& name);
// Whether tensors can live on `device` now: always for the CPU; for CUDA, a GPU with a driver (nvcc build) or
// the emulator switched on (FACET_CUDA_EMULATE=1 or cuda::set_emulation_enabled, emulated builds and tests).
bool device_available(Device device);
// Throws std::runtime_error unless device_available(device), in one line: what was asked (`asked`, e.g.
// "--device cuda"), why there is no device (CUDA's own words), and to use --device cpu.
void require_device(Device device, const std::string& asked);
// "cpu", or the GPU ("NVIDIA H100 ... (sm_90, 132 SMs, 79.1 GiB)"), or the emulator.
std::string device_description(Device device);
// Waits until the work queued on `device` by this thread is done (CUDA kernels run asynchronously; timing
// needs this). A no-op on the CPU.
void synchronize(Device device);

using Shape = std::vector<int64_t>;
std::string shape_str(const Shape& s);  // "(64, 3, 32, 32)"
int64_t shape_numel(const Shape& s);

// One owned buffer of floats on one device; freed when the last Tensor using it goes away (RAII).
class Storage {
 public:
  Storage(int64_t n, Device device);  // uninitialised
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;
  float* data() { return data_; }
  int64_t size() const { return n_; }
  Device device() const { return device_; }

 private:
  float* data_ = nullptr;
  int64_t n_ = 0;
  Device device_;
};

struct TensorImpl;

class Tensor {
 public:
  Tensor() = default;  // an undefined tensor (an optional argument left out, a grad not computed yet)

  // ---- construction ----
  static Tensor empty(const Shape& shape, Device device = Device::CPU);
  static Tensor zeros(const Shape& shape, Device device = Device::CPU);
  static Tensor full(const Shape& shape, float value, Device device = Device::CPU);
  static Tensor from_vector(const std::vector<float>& values, const Shape& shape, Device device = Device::CPU);

  // ---- what it is ----
  bool defined() const { return impl_ != nullptr; }
  const Shape& shape() const;
  int dim() const { return int(shape().size()); }
  int64_t size(int d) const;  // d may be negative (from the end)
  int64_t numel() const;
  Shape strides() const;
  Device device() const;
  float* data();  // raw pointer, in the tensor's device memory
  const float* data() const;
  std::vector<float> to_vector() const;  // a host copy
  float item() const;                    // the value of a one-element tensor
  Tensor to(Device device) const;        // a copy on that device (or *this if already there)
  Tensor clone() const;                  // a copy that does not share storage, no graph
  void copy_from(const Tensor& src);     // same numel; copies values (any devices), no graph
  void move_to(Device device);           // moves a leaf's storage in place: every handle sees the new device

  // ---- views ----
  Tensor reshape(const Shape& shape) const;  // shares storage; one size may be -1
  Tensor flatten(int start_dim = 1) const;   // (N, C, H, W) -> (N, C*H*W)
  Tensor detach() const;                     // shares storage, cut from the graph

  // ---- autograd ----
  bool requires_grad() const;
  Tensor& set_requires_grad(bool on = true);
  Tensor grad() const;   // undefined until a backward pass reached this tensor
  void zero_grad();      // drops the gradient (the next backward starts from zero)
  void backward();       // this must hold one element; seeds d(this)/d(this) = 1
  const char* op() const;  // the op that made it ("leaf" for inputs and parameters)

  TensorImpl* impl() const { return impl_.get(); }
  const std::shared_ptr<TensorImpl>& shared_impl() const { return impl_; }
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

 private:
  std::shared_ptr<TensorImpl> impl_;
};

// A tensor with the name it is trained, saved and loaded under ("conv1.weight", "optim/conv1.weight/velocity").
// Defined here (not in layers/) so that tensor/checkpoint.h can take lists of them.
struct NamedTensor {
  std::string name;
  Tensor tensor;
};

// The node behind a Tensor. Ops fill parents and backward_fn; nothing else touches them.
struct TensorImpl {
  std::shared_ptr<Storage> storage;
  int64_t offset = 0;  // in floats, into storage
  Shape shape;
  bool requires_grad = false;
  std::shared_ptr<TensorImpl> grad;  // same shape and device; allocated (zeroed) on first use
  const char* op = "leaf";
  std::vector<std::shared_ptr<TensorImpl>> parents;
  std::function<void(TensorImpl& self)> backward_fn;  // reads self.grad, adds into parents' grads

  float* data() { return storage->data() + offset; }
  int64_t numel() const { return shape_numel(shape); }
  Device device() const { return storage->device(); }
  float* grad_data();  // the gradient buffer, allocated and zeroed on first call
};

// Inference: while one of these lives on this thread, ops record no graph.
class NoGradGuard {
 public:
  NoGradGuard();
  ~NoGradGuard();
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool previous_;
};
bool grad_enabled();

}  // namespace facet
