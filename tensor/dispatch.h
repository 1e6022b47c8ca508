// One call site for both backends: FACET_CALL(device, fn, args...) runs facet::cpu::fn on the CPU and
// facet::cuda::fn on a CUDA device. Both are declared by the same kernels/<op>.h, so the arguments are the same.
// CMake defines FACET_TENSOR_CUDA for facet_tensor and everything built on it; which facet::cuda kernels a
// binary gets (nvcc's or the CPU emulator's) is decided when it links (facet_device in CMakeLists.txt).
// Compiled without it, a CUDA tensor reaching an op is a clear error.
#pragma once
#include "tensor/tensor.h"

namespace facet {
[[noreturn]] void cuda_not_built(const char* what);
}

#if defined(FACET_TENSOR_CUDA)
#define FACET_CALL(device, fn, ...)                                  \
  do {                                                               \
    if ((device) == ::facet::Device::CPU) ::facet::cpu::fn(__VA_ARGS__); \
    else ::facet::cuda::fn(__VA_ARGS__);                             \
  } while (0)
#else
#define FACET_CALL(device, fn, ...)                                  \
  do {                                                               \
    if ((device) == ::facet::Device::CPU) ::facet::cpu::fn(__VA_ARGS__); \
    else ::facet::cuda_not_built(#fn);                               \
  } while (0)
#endif
