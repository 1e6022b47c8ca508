// The kernel tests are written once and run on every backend: a backend is a table of function pointers to
// its kernels (facet::cpu:: and facet::cuda:: have identical signatures, declared together in kernels/*.h)
// plus the four memory hooks the test needs to put inputs where those kernels read them.
//
// Adding a backend (e.g. CUDA, built from facet_cuda_emu so it runs on the CPU):
//   1. tests/kernels/backend_cuda.cpp: a `const KernelTable& cuda_kernel_table()` built like cpu_kernel_table() in
//      backend.cpp, with FACET_TEST_NS defined as facet::cuda and the facet::cuda:: memory functions;
//   2. in backend.cpp: `case Backend::CUDA: return cuda_kernel_table();` and Backend::CUDA in backends_under_test();
//   3. add facet_cuda_emu to test_kernels' LIBS in tests/CMakeLists.txt.
#pragma once

#include <cstddef>
#include <cstring>
#include <utility>
#include <vector>

#include "kernels/activation.h"
#include "kernels/batchnorm2d.h"
#include "kernels/bn_act_pool.h"
#include "kernels/conv2d.h"
#include "kernels/dropout.h"
#include "kernels/elementwise.h"
#include "kernels/gemm.h"
#include "kernels/linear.h"
#include "kernels/maxpool2d.h"
#include "kernels/mse.h"
#include "kernels/softmax_ce.h"

namespace facet::test {

enum class Backend { CPU, CUDA };

// Every kernel under test (optim_update.h has its own tests).
#define FACET_TEST_KERNELS(X)                                                                                  \
  X(sgemm) X(conv2d_forward) X(conv2d_backward) X(batchnorm2d_forward_train) X(batchnorm2d_forward_eval)       \
  X(batchnorm2d_backward) X(batchnorm2d_backward_eval) X(bn_act_pool_forward) X(bn_act_pool_backward)         \
  X(bn_act_pool_apply) X(conv2d_forward_bn_stats) X(conv2d_fold_batchnorm) X(maxpool2d_forward)               \
  X(maxpool2d_backward) X(dropout_forward) X(dropout_backward)                                                  \
  X(linear_forward) X(linear_backward) X(relu_forward) X(relu_backward) X(leakyrelu_forward)                   \
  X(leakyrelu_backward) X(softmax_forward) X(softmax_cross_entropy_forward) X(softmax_cross_entropy_backward) \
  X(mse_forward) X(mse_backward) X(fill) X(add_forward) X(accumulate) X(axpy) X(scale_forward) X(mul_forward) \
  X(mul_backward) X(sum_forward) X(sum_backward) X(sum_squares) X(slice_columns_forward)                      \
  X(slice_columns_backward)

struct KernelTable {
  const char* name = "";
  // Memory the kernels' pointers refer to: host memory for the CPU, device memory for CUDA.
  void* (*alloc)(std::size_t bytes) = nullptr;
  void (*release)(void* ptr) = nullptr;
  void (*to_device)(void* dst, const void* src_host, std::size_t bytes) = nullptr;
  void (*to_host)(void* dst_host, const void* src, std::size_t bytes) = nullptr;
#define FACET_TEST_KERNEL_FIELD(fn) decltype(&facet::cpu::fn) fn = nullptr;
  FACET_TEST_KERNELS(FACET_TEST_KERNEL_FIELD)
#undef FACET_TEST_KERNEL_FIELD
};

// Fills table t's kernel pointers from namespace FACET_TEST_NS:
//   #define FACET_TEST_NS facet::cuda
//   FACET_TEST_KERNELS(FACET_TEST_BIND_KERNEL)
#define FACET_TEST_BIND_KERNEL(fn) t.fn = &FACET_TEST_NS::fn;

const char* backend_name(Backend b);
const KernelTable& kernel_table(Backend b);
std::vector<Backend> backends_under_test();

// An array in a backend's memory, uploaded from / downloaded to a std::vector (RAII).
template <class T>
class DeviceArray {
 public:
  DeviceArray(const KernelTable& k, const std::vector<T>& host) : k_(&k), n_(host.size()) {
    ptr_ = static_cast<T*>(k.alloc(bytes()));
    if (n_) k.to_device(ptr_, host.data(), bytes());
  }
  DeviceArray(const DeviceArray&) = delete;
  DeviceArray& operator=(const DeviceArray&) = delete;
  DeviceArray(DeviceArray&& o) noexcept : k_(o.k_), ptr_(std::exchange(o.ptr_, nullptr)), n_(o.n_) {}
  ~DeviceArray() {
    if (ptr_) k_->release(ptr_);
  }
  T* get() const { return ptr_; }
  std::vector<T> to_host() const {
    std::vector<T> h(n_);
    if (n_) k_->to_host(h.data(), ptr_, bytes());
    return h;
  }

 private:
  std::size_t bytes() const { return n_ * sizeof(T); }
  const KernelTable* k_;
  T* ptr_ = nullptr;
  std::size_t n_;
};

}  // namespace facet::test
