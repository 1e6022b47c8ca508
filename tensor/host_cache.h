// Host memory for tensors (Storage on Device::CPU), with freed blocks kept for reuse.
//
// A training step allocates the same activation and gradient sizes every time and frees them all when its graph
// is dropped. From malloc, each large block is a fresh mmap: the first touch of every 4 KiB page faults and is
// zeroed by the kernel, and free gives it back (munmap). On BaseCNN at batch 64 that was about a third of the
// step. Here a freed block of 64 KiB or more is kept on a free list for its exact size and handed out again
// (the PyTorch-CUDA-allocator idea, on the host), so after the first step the memory is already mapped.
// Smaller blocks go to malloc, which serves them well.
//
// Idle memory goes back: a free block that no allocation took during the last 2 x (blocks in use + blocks
// cached) + 16 large allocations is returned to the system, oldest first (checked on every large allocation).
// A steady loop reuses each of its blocks once per cycle, well inside that window, so it gives nothing back and
// never misses after its first step; when the input size changes (a second model, a new batch size), the old
// size's blocks go back within about two cycles instead of being held for good. (Trading cached blocks for the
// new ones on each miss, tried first, thrashed in inference: its activations are freed during the forward, so
// a miss later in the same forward gave back blocks the next forward needed.) The cache also holds at most
// host_cache_limit() bytes of free blocks (default 2 GiB, or FACET_HOST_CACHE_MB); beyond that a freed block
// is returned at once.
#pragma once
#include <cstddef>

namespace facet {

void* host_alloc(std::size_t bytes);            // 64-byte aligned; throws std::bad_alloc
void host_free(void* ptr, std::size_t bytes);   // bytes as given to host_alloc

struct HostCacheStats {
  std::size_t cached_bytes = 0;  // free blocks held for reuse
  std::size_t hits = 0, misses = 0;  // large allocations served from / not from the cache
  std::size_t released = 0;          // bytes of cached blocks given back to the system (idle, by
                                     // host_cache_release, or by lowering the limit)
};
HostCacheStats host_cache_stats();
std::size_t host_cache_limit();
void host_cache_set_limit(std::size_t bytes);  // gives back the oldest blocks above it; 0 turns caching off
void host_cache_release();                     // frees every cached block

}  // namespace facet
