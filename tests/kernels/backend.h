// The kernel tests are written once and run on every backend: a backend is the library's KernelTable
// (kernels/kernel_table.h: naive, cpu or cuda) plus the four memory hooks the test needs to put inputs where
// those kernels read them. The naive backend (kernels/naive/, plain loops) is also the reference the others are
// compared with; it is itself checked by hand cases and finite differences.
//
// Adding a backend: its kernel_table() in kernels/<backend>/, then in tests/kernels/backend.cpp a case of
// kernel_table(Backend) with its memory hooks and an entry in backends_under_test().
#pragma once

#include <cstddef>
#include <cstring>
#include <utility>
#include <vector>

#include "kernels/kernel_table.h"

namespace facet::test {

enum class Backend { Naive, CPU, CUDA };

struct KernelTable : ::facet::KernelTable {
  // Memory the kernels' pointers refer to: host memory for naive and cpu, device memory for CUDA.
  void* (*alloc)(std::size_t bytes) = nullptr;
  void (*release)(void* ptr) = nullptr;
  void (*to_device)(void* dst, const void* src_host, std::size_t bytes) = nullptr;
  void (*to_host)(void* dst_host, const void* src, std::size_t bytes) = nullptr;
};

const char* backend_name(Backend b);
const KernelTable& kernel_table(Backend b);
// The reference every backend is compared with: the naive one.
inline const KernelTable& reference_kernels() { return kernel_table(Backend::Naive); }
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
