// The one place a device picks its kernels (see tensor/dispatch.h).
#include "tensor/dispatch.h"

#include <atomic>
#include <cstdlib>
#include <stdexcept>
#include <string>

namespace facet {
namespace {

// -1 until set or first read; then a CpuBackend. The first read takes FACET_CPU_BACKEND (naive runs every CPU op
// on kernels/naive; unset or "fast", the default), so a misspelt value is an error of the first op, not of
// static initialization.
std::atomic<int> g_cpu_backend{-1};

}  // namespace

CpuBackend parse_cpu_backend(const std::string& name) {
  if (name == "fast" || name == "cpu") return CpuBackend::fast;
  if (name == "naive") return CpuBackend::naive;
  throw std::invalid_argument("CPU backend '" + name + "' (FACET_CPU_BACKEND or --backend): use fast or naive");
}

void set_cpu_backend(CpuBackend backend) { g_cpu_backend.store(int(backend), std::memory_order_relaxed); }

CpuBackend cpu_backend() {
  int b = g_cpu_backend.load(std::memory_order_relaxed);
  if (b < 0) {
    const char* e = std::getenv("FACET_CPU_BACKEND");
    b = int(e && *e ? parse_cpu_backend(e) : CpuBackend::fast);
    g_cpu_backend.store(b, std::memory_order_relaxed);
  }
  return CpuBackend(b);
}

const KernelTable& kernels_for(Device device) {
  switch (device) {
    case Device::CPU:
      return cpu_backend() == CpuBackend::naive ? naive::kernel_table() : cpu::kernel_table();
    case Device::CUDA:
#if defined(FACET_TENSOR_CUDA)
      return cuda::kernel_table();
#else
      cuda_not_built("a kernel");
#endif
  }
  throw std::logic_error("tensor/dispatch.cpp: unknown Device value " + std::to_string(int(device)));
}

}  // namespace facet
