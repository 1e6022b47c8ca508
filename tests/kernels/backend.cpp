// The backends the kernel tests run on: naive, cpu and cuda (facet_cuda_emu: the CUDA kernels on the CPU emulator).
#include "tests/kernels/backend.h"

#include <cstdlib>
#include <stdexcept>
#include <string>

#include "kernels/cuda/runtime.h"

namespace facet::test {
namespace {

void* host_alloc(std::size_t bytes) { return std::malloc(bytes ? bytes : 1); }
void host_release(void* p) { std::free(p); }
void host_copy(void* dst, const void* src, std::size_t bytes) { std::memcpy(dst, src, bytes); }

KernelTable on_host(const ::facet::KernelTable& kernels) {
  KernelTable t;
  static_cast<::facet::KernelTable&>(t) = kernels;
  t.alloc = host_alloc;
  t.release = host_release;
  t.to_device = host_copy;
  t.to_host = host_copy;
  return t;
}

KernelTable on_cuda() {
  facet::cuda::set_emulation_enabled(true);  // the emulator reports a device only when asked to
  KernelTable t;
  static_cast<::facet::KernelTable&>(t) = facet::cuda::kernel_table();
  t.alloc = facet::cuda::device_alloc;
  t.release = facet::cuda::device_free;
  t.to_device = facet::cuda::copy_to_device;
  t.to_host = facet::cuda::copy_to_host;
  return t;
}

}  // namespace

const char* backend_name(Backend b) { return b == Backend::Naive ? "naive" : b == Backend::CPU ? "cpu" : "cuda"; }

const KernelTable& kernel_table(Backend b) {
  static const KernelTable naive = on_host(facet::naive::kernel_table());
  static const KernelTable cpu = on_host(facet::cpu::kernel_table());
  switch (b) {
    case Backend::Naive:
      return naive;
    case Backend::CPU:
      return cpu;
    case Backend::CUDA: {
      static const KernelTable cuda = on_cuda();
      return cuda;
    }
  }
  throw std::runtime_error(std::string("tests/kernels/backend.cpp: no kernel table for backend ") + backend_name(b));
}

// All three, or those FACET_TEST_BACKENDS names (comma-separated, e.g. "naive,cpu": the TSan stage of
// scripts/sanitize.sh leaves out the CUDA emulator, whose fibers ThreadSanitizer cannot follow). The naive
// backend is always kept: the others are compared against it.
std::vector<Backend> backends_under_test() {
  const char* env = std::getenv("FACET_TEST_BACKENDS");
  if (!env || !*env) return {Backend::Naive, Backend::CPU, Backend::CUDA};
  const std::string list = std::string(",") + env + ",";
  std::vector<Backend> out{Backend::Naive};
  for (Backend b : {Backend::CPU, Backend::CUDA})
    if (list.find(std::string(",") + backend_name(b) + ",") != std::string::npos) out.push_back(b);
  return out;
}

}  // namespace facet::test
