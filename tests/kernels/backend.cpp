// The backends the kernel tests run on: the CPU and CUDA (tests/kernels/backend_cuda.cpp, on the emulator).
#include "tests/kernels/backend.h"

#include <cstdlib>
#include <stdexcept>
#include <string>

namespace facet::test {

const KernelTable& cuda_kernel_table();  // tests/kernels/backend_cuda.cpp

namespace {

void* host_alloc(std::size_t bytes) { return std::malloc(bytes ? bytes : 1); }
void host_release(void* p) { std::free(p); }
void host_copy(void* dst, const void* src, std::size_t bytes) { std::memcpy(dst, src, bytes); }

const KernelTable& cpu_kernel_table() {
  static const KernelTable table = [] {
    KernelTable t;
    t.name = "cpu";
    t.alloc = host_alloc;
    t.release = host_release;
    t.to_device = host_copy;
    t.to_host = host_copy;
#define FACET_TEST_NS facet::cpu
    FACET_TEST_KERNELS(FACET_TEST_BIND_KERNEL)
#undef FACET_TEST_NS
    return t;
  }();
  return table;
}

}  // namespace

const char* backend_name(Backend b) { return b == Backend::CPU ? "cpu" : "cuda"; }

const KernelTable& kernel_table(Backend b) {
  switch (b) {
    case Backend::CPU:
      return cpu_kernel_table();
    case Backend::CUDA:
      return cuda_kernel_table();
  }
  throw std::runtime_error(std::string("tests/kernels/backend.cpp: no kernel table for backend ") + backend_name(b) +
                           " (add tests/kernels/backend_cuda.cpp, see backend.h)");
}

std::vector<Backend> backends_under_test() { return {Backend::CPU, Backend::CUDA}; }

}  // namespace facet::test
