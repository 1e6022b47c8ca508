// The one header every kernels/cuda/*.cu includes first. It makes one source serve two compilers:
//   nvcc (__CUDACC__):   the real CUDA runtime; FACET_LAUNCH is kernel<<<grid, block, shared, stream>>>(...)
//                        followed by an error check.
//   g++ (emulation):     kernels/cuda/emu/emu.h supplies __global__, threadIdx, __shared__, __syncthreads,
//                        __shfl_*_sync, atomics... and FACET_LAUNCH runs the grid on CPU fibers.
// Shared memory is declared through two macros so the emulator can bounds-check it (checked mode):
//   FACET_SHARED_ARRAY(float, tile, [16][65]);   // __shared__ float tile[16][65];
//   FACET_DYNAMIC_SHARED(float, smem);           // the launch's dynamic shared memory as float smem[]
#pragma once

#include <cstddef>
#include <tuple>
#include <utility>

#if defined(__CUDACC__)
#include <cuda_runtime.h>
#define FACET_SHARED_ARRAY(T, name, dims) __shared__ T name dims
#define FACET_DYNAMIC_SHARED(T, name)                                         \
  extern __shared__ __align__(16) unsigned char facet_dynamic_shared_bytes[]; \
  T* name = reinterpret_cast<T*>(facet_dynamic_shared_bytes)
#else
#include "kernels/cuda/emu/emu.h"
#if FACET_CUDA_EMU_CHECKED
#define FACET_SHARED_ARRAY(T, name, dims) \
  static thread_local ::facet::cuda::emu::SharedArray<#name, T dims> name
#else
#define FACET_SHARED_ARRAY(T, name, dims) static thread_local T name dims
#endif
#define FACET_DYNAMIC_SHARED(T, name) auto name = ::facet::cuda::emu::dynamic_shared<T>(#name)
#endif

namespace facet::cuda {

// Throws std::runtime_error "<file>:<line>: <call> failed: <cudaErrorName>: <description>" unless ok.
[[noreturn]] void throw_cuda_error(int error, const char* name, const char* description, const char* call,
                                   const char* file, int line);
inline void check_cuda(cudaError_t error, const char* call, const char* file, int line) {
  if (error != cudaSuccess)
    throw_cuda_error(int(error), cudaGetErrorName(error), cudaGetErrorString(error), call, file, line);
}
#define FACET_CUDA_CHECK(call) ::facet::cuda::check_cuda((call), #call, __FILE__, __LINE__)

// The stream kernels and copies of this OS thread go to (see runtime.h: Stream, StreamScope).
cudaStream_t current_stream_handle();

struct LaunchSite {
  const char* kernel;
  const char* file;
  int line;
};

// launch(kernel, grid, block, shared_bytes, stream, args...): the one way kernels are started. The argument
// types are converted to the kernel's parameter types first, as a <<<>>> launch does. An empty grid (a size
// of 0) launches nothing, where CUDA would report an invalid configuration.
template <class... Params, class... Args>
void launch(const LaunchSite& site, void (*kernel)(Params...), dim3 grid, dim3 block,
            std::size_t shared_bytes, cudaStream_t stream, Args&&... args) {
  static_assert(sizeof...(Params) == sizeof...(Args), "launch: wrong number of kernel arguments");
  if (grid.x == 0 || grid.y == 0 || grid.z == 0) return;
#if defined(__CUDACC__)
  kernel<<<grid, block, shared_bytes, stream>>>(static_cast<Params>(std::forward<Args>(args))...);
  check_cuda(cudaGetLastError(), site.kernel, site.file, site.line);
#else
  (void)stream;
  std::tuple<Params...> params(static_cast<Params>(std::forward<Args>(args))...);
  auto body = [&] { std::apply(kernel, params); };  // each CUDA thread gets its own copy of the parameters
  emu::run_grid(emu::LaunchSite{site.kernel, site.file, site.line}, grid, block, shared_bytes,
                emu::KernelBody(body));
#endif
}

// FACET_LAUNCH(kernel, grid, block, shared_bytes, stream, args...) adds the kernel's name and the call site
// to launch() for error messages. A template kernel with commas goes in parentheses:
// FACET_LAUNCH((k<1, 2>), ...).
#define FACET_LAUNCH(kernel, grid, block, shared_bytes, stream, ...)                                 \
  ::facet::cuda::launch(::facet::cuda::LaunchSite{#kernel, __FILE__, __LINE__}, kernel, grid, block, \
                        shared_bytes, stream, __VA_ARGS__)

}  // namespace facet::cuda
