// The CUDA backend of the kernel tests: facet::cuda's kernels and runtime. The tests link facet_cuda_emu (the
// same kernels/cuda/*.cu compiled by g++ on the CPU emulator), so this column runs on machines without a GPU.
#include "kernels/cuda/runtime.h"
#include "tests/kernels/backend.h"

namespace facet::test {

const KernelTable& cuda_kernel_table() {
  static const KernelTable table = [] {
    facet::cuda::set_emulation_enabled(true);  // the emulator reports a device only when asked to
    KernelTable t;
    t.name = "cuda";
    t.alloc = facet::cuda::device_alloc;
    t.release = facet::cuda::device_free;
    t.to_device = facet::cuda::copy_to_device;
    t.to_host = facet::cuda::copy_to_host;
#define FACET_TEST_NS facet::cuda
    FACET_TEST_KERNELS(FACET_TEST_BIND_KERNEL)
#undef FACET_TEST_NS
    return t;
  }();
  return table;
}

}  // namespace facet::test
