// Which kernels run an op: kernels_for(device) returns a backend's KernelTable (kernels/kernel_table.h), and ops
// call through it, e.g. kernels_for(x.device()).conv2d_forward(...). The one switch is in tensor/dispatch.cpp.
//   Device::CPU   the fast kernels (kernels/cpu/), or the plain loops (kernels/naive/) when the process-wide
//                 CPU backend is naive: set_cpu_backend(CpuBackend::naive), or FACET_CPU_BACKEND=naive in the
//                 environment (read at start-up), so a whole `facet train` can run on the code students read.
//   Device::CUDA  facet::cuda's kernels: nvcc's or the CPU emulator's, whichever the executable links
//                 (facet_device in CMakeLists.txt); a build without CUDA tensors (FACET_TENSOR_CUDA unset, the
//                 fuzz build's tensor core) throws a clear error instead.
#pragma once
#include "kernels/kernel_table.h"
#include "tensor/tensor.h"

namespace facet {

enum class CpuBackend { fast, naive };
void set_cpu_backend(CpuBackend backend);
CpuBackend cpu_backend();
// "fast" or "naive"; anything else throws std::invalid_argument naming both.
CpuBackend parse_cpu_backend(const std::string& name);

const KernelTable& kernels_for(Device device);

[[noreturn]] void cuda_not_built(const char* what);

}  // namespace facet
