// The CUDA runtime as the Tensor sees it: device memory, copies, streams. Plain C++ (no CUDA headers), so
// tensor/ includes it with any compiler. Implemented once in kernels/cuda/runtime.cu, which nvcc builds
// against the real CUDA runtime (facet_cuda) and g++ against the CPU emulator (facet_cuda_emu, where device
// memory is host memory). Every CUDA call is checked; a failure throws std::runtime_error naming the file,
// the line, the call and CUDA's error, e.g. "kernels/cuda/runtime.cu:88: cudaMalloc(&p, bytes) failed: ...".
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace facet::cuda {

// True when a CUDA device can be used: a GPU in the nvcc build; in the emulated build only while emulation is
// enabled (env FACET_CUDA_EMULATE=1 or set_emulation_enabled(true)), so that a user without a GPU gets a
// clear "no CUDA device" error from device_alloc instead of a silent run on the CPU.
bool available();
// One line: "NVIDIA H100 80GB HBM3 (sm_90, 132 SMs, 79.1 GiB)", the emulator, or why no device is usable.
std::string device_description();
// Throws the "no CUDA device" error (with the reason and what to do) unless available().
void require_device();
// Why no device can be used, as CUDA says it ("cudaErrorNoDevice: no CUDA-capable device is detected"), or ""
// when one can.
std::string unavailable_reason();

// The emulated build only: turns emulation on or off for this process (tests). Returns whether this build is
// the emulated one (the nvcc build ignores the call and returns false).
bool set_emulation_enabled(bool on);
bool emulated_build();

// ---- device memory: a caching allocator -------------------------------------------------------------------
// Sizes are rounded up to a bin (4 bins per power of two from 512 B; waste <= 25%), and a freed block goes to
// its bin's free list for reuse, so a training step after the first calls cudaMalloc zero times. If
// cudaMalloc fails, the cache is returned to the device and the allocation retried once. Thread-safe. Blocks
// are reused without stream synchronisation: correct while all work runs on one stream per process (facet's
// trainer).
void* device_alloc(std::size_t bytes);  // bytes == 0 gives a valid, unique, minimum-size block
void device_free(void* ptr);            // null is ignored; a pointer not from device_alloc throws
void empty_cache();                     // returns every cached (free) block to the device

struct AllocatorStats {
  std::size_t bytes_in_use = 0;    // in blocks handed out (bin sizes)
  std::size_t bytes_cached = 0;    // in free blocks kept for reuse
  std::size_t device_mallocs = 0;  // cudaMalloc calls so far
  std::size_t cache_hits = 0;      // device_alloc calls served from a free list
};
AllocatorStats allocator_stats();

// ---- copies (on the current stream) -----------------------------------------------------------------------
void copy_to_device(void* dst_device, const void* src_host, std::size_t bytes);
void copy_to_host(void* dst_host, const void* src_device, std::size_t bytes);  // waits for the copy
void copy_device_to_device(void* dst_device, const void* src_device, std::size_t bytes);
void synchronize();  // waits for the current stream; reports an asynchronous kernel error if one happened

// ---- streams ----------------------------------------------------------------------------------------------
// A non-blocking CUDA stream (RAII). Kernels and copies issued by this OS thread go to the current stream:
// the one of the innermost live StreamScope, else the legacy default stream.
class Stream {
 public:
  Stream();
  ~Stream();
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;
  void synchronize();
  void* handle() const { return handle_; }  // a cudaStream_t

 private:
  void* handle_ = nullptr;
};

// The current stream of this OS thread as an opaque cudaStream_t (null: the legacy default stream).
void* current_stream();

class StreamScope {
 public:
  explicit StreamScope(Stream& stream);
  ~StreamScope();
  StreamScope(const StreamScope&) = delete;
  StreamScope& operator=(const StreamScope&) = delete;

 private:
  void* previous_;
};

}  // namespace facet::cuda
