// The CUDA runtime facade of kernels/cuda/runtime.h: device checks, the caching allocator, copies, streams.
// One source for both builds: nvcc links it against libcudart, g++ against the emulated runtime API.
#include <cstdio>
#include <mutex>
#include <stdexcept>
#include <unordered_map>
#include <vector>

#include "kernels/cuda/cuda_compat.h"
#include "kernels/cuda/runtime.h"

namespace facet::cuda {

void throw_cuda_error(int error, const char* name, const char* description, const char* call,
                      const char* file, int line) {
  std::string path = file;  // from the repository root on
  for (const char* root : {"/kernels/", "/tests/", "/bench/", "/tensor/"}) {
    const auto at = path.rfind(root);
    if (at != std::string::npos) {
      path = path.substr(at + 1);
      break;
    }
  }
  throw std::runtime_error(path + ":" + std::to_string(line) + ": " + call + " failed: " + name + " (" +
                           std::to_string(error) + "): " + description);
}

namespace {
thread_local cudaStream_t this_thread_stream = nullptr;

#if FACET_CUDA_EMULATION
constexpr bool kEmulated = true;
#else
constexpr bool kEmulated = false;
#endif

// Asks the runtime once (the nvcc build: the device set does not change while we run) or every time (the
// emulated build: a test may switch emulation on). reason gets CUDA's answer when there is no device.
bool probe_device(std::string* reason) {
  auto ask = [](std::string* why) {
    int count = 0;
    const cudaError_t e = cudaGetDeviceCount(&count);
    if (e != cudaSuccess || count == 0) {
      (void)cudaGetLastError();  // clear it: asking is not a failure
      *why = std::string(cudaGetErrorName(e)) + ": " + cudaGetErrorString(e);
      return false;
    }
    return true;
  };
  if (kEmulated) return ask(reason);
  static std::string cached_reason;
  static const bool cached = ask(&cached_reason);
  *reason = cached_reason;
  return cached;
}

// ---- the caching allocator --------------------------------------------------------------------------------
std::size_t bin_size(std::size_t bytes) {
  constexpr std::size_t kMin = 512;
  if (bytes <= kMin) return kMin;
  std::size_t power = kMin;
  while (power * 2 <= bytes) power *= 2;
  const std::size_t step = power / 4;  // four bins between power and 2*power
  return (bytes + step - 1) / step * step;
}

class CachingAllocator {
 public:
  void* allocate(std::size_t bytes) {
    const std::size_t size = bin_size(bytes);
    std::lock_guard lock(mutex_);
    auto& bin = free_[size];
    void* p = nullptr;
    if (!bin.empty()) {
      p = bin.back();
      bin.pop_back();
      stats_.bytes_cached -= size;
      ++stats_.cache_hits;
    } else {
      cudaError_t e = cudaMalloc(&p, size);
      if (e == cudaErrorMemoryAllocation) {  // give the cache back and try once more
        (void)cudaGetLastError();
        release_cached_locked();
        e = cudaMalloc(&p, size);
      }
      if (e != cudaSuccess) {
        const std::string what = "cudaMalloc(" + std::to_string(size) + " bytes) for a " +
                                 std::to_string(bytes) + "-byte tensor (" +
                                 std::to_string(stats_.bytes_in_use) + " bytes in use)";
        check_cuda(e, what.c_str(), __FILE__, __LINE__);
      }
      ++stats_.device_mallocs;
    }
    in_use_[p] = size;
    stats_.bytes_in_use += size;
    return p;
  }

  void free(void* p) {
    if (!p) return;
    std::lock_guard lock(mutex_);
    const auto it = in_use_.find(p);
    if (it == in_use_.end())
      throw std::invalid_argument(
          "facet::cuda::device_free: pointer was not returned by device_alloc "
          "(or was freed twice)");
    free_[it->second].push_back(p);
    stats_.bytes_in_use -= it->second;
    stats_.bytes_cached += it->second;
    in_use_.erase(it);
  }

  void release_cached() {
    std::lock_guard lock(mutex_);
    release_cached_locked();
  }

  AllocatorStats stats() {
    std::lock_guard lock(mutex_);
    return stats_;
  }

 private:
  void release_cached_locked() {
    for (auto& [size, blocks] : free_) {
      for (void* p : blocks) FACET_CUDA_CHECK(cudaFree(p));
      stats_.bytes_cached -= size * blocks.size();
      blocks.clear();
    }
  }

  std::mutex mutex_;
  std::unordered_map<std::size_t, std::vector<void*>> free_;  // bin size -> free blocks
  std::unordered_map<void*, std::size_t> in_use_;             // block -> its bin size
  AllocatorStats stats_;
};

// Never destroyed: blocks may be freed by static Tensors after main returns, and the CUDA runtime may already
// be shut down at exit, so the process returns device memory to the driver by ending.
CachingAllocator& allocator() {
  static CachingAllocator* instance = new CachingAllocator;
  return *instance;
}
}  // namespace

cudaStream_t current_stream_handle() {
  return this_thread_stream;
}
void* current_stream() {
  return this_thread_stream;
}

bool emulated_build() {
  return kEmulated;
}

bool set_emulation_enabled(bool on) {
#if FACET_CUDA_EMULATION
  emu::set_enabled(on);
  return true;
#else
  (void)on;
  return false;
#endif
}

bool available() {
  std::string reason;
  return probe_device(&reason);
}

std::string unavailable_reason() {
  std::string reason;
  return probe_device(&reason) ? std::string() : reason;
}

void require_device() {
  std::string reason;
  if (probe_device(&reason)) return;
  if (kEmulated)
    throw std::runtime_error(
        "facet: no CUDA device: this build has no nvcc-compiled kernels, only the CPU emulator, "
        "which is off (" +
        reason +
        "). Use --device cpu, build with nvcc and run on a GPU, or "
        "set FACET_CUDA_EMULATE=1 to run the CUDA kernels (slowly) in the emulator.");
  throw std::runtime_error("facet: no CUDA device: " + reason +
                           ". Use --device cpu, or run on a machine with an NVIDIA GPU and driver.");
}

std::string device_description() {
  std::string reason;
  if (!probe_device(&reason)) return "no CUDA device (" + reason + ")";
  if (kEmulated) return "CPU emulation of CUDA (Boost.Context fibers; FACET_CUDA_EMULATE=1), not a GPU";
  int device = 0;
  FACET_CUDA_CHECK(cudaGetDevice(&device));
  cudaDeviceProp prop;
  FACET_CUDA_CHECK(cudaGetDeviceProperties(&prop, device));
  char text[512];
  std::snprintf(text, sizeof text, "%s (sm_%d%d, %d SMs, %.1f GiB)", prop.name, prop.major, prop.minor,
                prop.multiProcessorCount, double(prop.totalGlobalMem) / (1024.0 * 1024.0 * 1024.0));
  return text;
}

void* device_alloc(std::size_t bytes) {
  require_device();
  return allocator().allocate(bytes);
}
void device_free(void* ptr) {
  allocator().free(ptr);
}
void empty_cache() {
  allocator().release_cached();
}
AllocatorStats allocator_stats() {
  return allocator().stats();
}

void copy_to_device(void* dst, const void* src, std::size_t bytes) {
  if (bytes == 0) return;
  FACET_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, this_thread_stream));
}
void copy_to_host(void* dst, const void* src, std::size_t bytes) {
  if (bytes == 0) return;
  FACET_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, this_thread_stream));
  FACET_CUDA_CHECK(cudaStreamSynchronize(this_thread_stream));
}
void copy_device_to_device(void* dst, const void* src, std::size_t bytes) {
  if (bytes == 0) return;
  FACET_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, this_thread_stream));
}
void synchronize() {
  FACET_CUDA_CHECK(cudaStreamSynchronize(this_thread_stream));
  FACET_CUDA_CHECK(cudaGetLastError());
}

Stream::Stream() {
  require_device();
  cudaStream_t s = nullptr;
  FACET_CUDA_CHECK(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));
  handle_ = s;
}
Stream::~Stream() {
  if (handle_) (void)cudaStreamDestroy(static_cast<cudaStream_t>(handle_));  // no throw from a destructor
}
void Stream::synchronize() {
  FACET_CUDA_CHECK(cudaStreamSynchronize(static_cast<cudaStream_t>(handle_)));
}

StreamScope::StreamScope(Stream& stream) : previous_(this_thread_stream) {
  this_thread_stream = static_cast<cudaStream_t>(stream.handle());
}
StreamScope::~StreamScope() {
  this_thread_stream = static_cast<cudaStream_t>(previous_);
}

}  // namespace facet::cuda
