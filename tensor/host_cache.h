// Host memory for tensors (Storage on Device::CPU), with freed blocks kept for reuse.
//
// A training step allocates the same activation and gradient sizes every time and frees them all when its graph
// is dropped. From malloc, each large block is a fresh mmap: the first touch of every 4 KiB page faults and is
// zeroed by the kernel, and free gives it back (munmap). On BaseCNN at batch 64 that was about a third of the
// step. Here a freed block of 64 KiB or more is kept on a free list for its exact size and handed out again
// (the PyTorch-CUDA-allocator idea, on the host), so after the first step the memory is already mapped.
// Smaller blocks go to malloc, which serves them well. The cache holds at most host_cache_limit() bytes of
// free blocks (default 2 GiB, or FACET_HOST_CACHE_MB); beyond that a freed block is returned at once.
#pragma once
#include <cstddef>

namespace facet {

void* host_alloc(std::size_t bytes);            // 64-byte aligned; throws std::bad_alloc
void host_free(void* ptr, std::size_t bytes);   // bytes as given to host_alloc

struct HostCacheStats {
  std::size_t cached_bytes = 0;  // free blocks held for reuse
  std::size_t hits = 0, misses = 0;  // large allocations served from / not from the cache
};
HostCacheStats host_cache_stats();
std::size_t host_cache_limit();
void host_cache_set_limit(std::size_t bytes);  // 0 turns caching off (and releases what is held)
void host_cache_release();                     // frees every cached block

}  // namespace facet
