// Helpers for the CUDA tests: device arrays through facet::cuda's runtime (so every test also exercises the
// caching allocator and the copies), and the device check every test starts with.
#pragma once

#include <cstddef>
#include <utility>
#include <vector>

#include "kernels/cuda/runtime.h"
#include "tests/common/check.h"

namespace facet::test {

// Every CUDA test starts here. The emulated build (test_cuda) switches the emulated device on, which must
// then exist. The nvcc build (test_cuda_gpu: the same parity tests on facet_cuda) needs a GPU; without one its
// main (tests/gpu_main.cpp) exits before any test runs, so ctest says Skipped. Run directly with a test name on
// a machine without a GPU, the test says it was skipped and why, and returns false.
inline bool cuda_device_or_skip() {
  facet::cuda::set_emulation_enabled(true);
  if (facet::cuda::emulated_build()) {
    REQUIRE(facet::cuda::available());
    return true;
  }
  if (facet::cuda::available()) return true;
  WARN("skipped: " << facet::cuda::device_description() << " (test_cuda_gpu needs an NVIDIA GPU)");
  return false;
}

// A device copy of a host vector (RAII); to_host() downloads it.
template <class T>
class Dev {
 public:
  explicit Dev(const std::vector<T>& host) : n_(host.size()) {
    ptr_ = static_cast<T*>(facet::cuda::device_alloc(n_ * sizeof(T)));
    facet::cuda::copy_to_device(ptr_, host.data(), n_ * sizeof(T));
  }
  explicit Dev(std::size_t n, T value = T()) : Dev(std::vector<T>(n, value)) {}
  Dev(const Dev&) = delete;
  Dev& operator=(const Dev&) = delete;
  ~Dev() { facet::cuda::device_free(ptr_); }
  T* get() const { return ptr_; }
  std::vector<T> to_host() const {
    std::vector<T> h(n_);
    facet::cuda::copy_to_host(h.data(), ptr_, n_ * sizeof(T));
    return h;
  }

 private:
  T* ptr_ = nullptr;
  std::size_t n_;
};

}  // namespace facet::test
