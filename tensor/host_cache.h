// Host memory for tensors (Storage on Device::CPU), with freed blocks kept for reuse.
//
// A training step allocates the same activation and gradient sizes every time and frees them all when its graph
// is dropped. From malloc, each large block is a fresh mmap: the first touch of every 4 KiB page faults and is
// zeroed by the kernel, and free gives it back (munmap). On BaseCNN at batch 64 that was about a third of the
// step. Here a freed block of 64 KiB or more is kept on a free list for its exact size and handed out again
// (the PyTorch-CUDA-allocator idea, on the host), so after the first step the memory is already mapped.
// Smaller blocks go to malloc, which serves them well.
//
// Idle memory is traded for new memory instead of adding to it: on a miss (no free block of the size asked
// for) the cache first gives back free blocks of other sizes, least recently freed first, until at least the
// bytes asked for are gone or nothing is cached. When the input size changes, the old size's blocks go back to
// the system as the new ones are mapped, so the footprint is about the larger of the two, not their sum. A size
// that a trade gave back and that misses again later shows the loop needs more sizes at once than the trade
// assumed: that miss maps a new block and gives nothing back, so a steady loop (the same sizes every step) stops
// missing after its first step or two and from then on gives nothing back (sizes learnt this way are forgotten
// after as many hits in a row as there are large blocks, so a later change of size trades again). The cache
// also holds at most host_cache_limit() bytes of free blocks (default 2 GiB, or FACET_HOST_CACHE_MB); beyond
// that a freed block is returned at once.
#pragma once
#include <cstddef>

namespace facet {

void* host_alloc(std::size_t bytes);            // 64-byte aligned; throws std::bad_alloc
void host_free(void* ptr, std::size_t bytes);   // bytes as given to host_alloc

struct HostCacheStats {
  std::size_t cached_bytes = 0;  // free blocks held for reuse
  std::size_t hits = 0, misses = 0;  // large allocations served from / not from the cache
  std::size_t released = 0;          // bytes of cached blocks given back to the system (on misses, by
                                     // host_cache_release, or by lowering the limit)
};
HostCacheStats host_cache_stats();
std::size_t host_cache_limit();
void host_cache_set_limit(std::size_t bytes);  // gives back the oldest blocks above it; 0 turns caching off
void host_cache_release();                     // frees every cached block, forgets the sizes trades learnt

}  // namespace facet
