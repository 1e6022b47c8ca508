#include "tensor/host_cache.h"

#include <cstdlib>
#include <deque>
#include <list>
#include <map>
#include <mutex>
#include <new>

namespace facet {
namespace {

constexpr std::size_t kAlign = 64;
constexpr std::size_t kMinCached = 64 * 1024;  // smaller blocks: plain malloc

std::size_t default_limit() {
  if (const char* mb = std::getenv("FACET_HOST_CACHE_MB")) return std::size_t(std::strtoull(mb, nullptr, 10)) << 20;
  return std::size_t(2) << 30;
}

struct Block {
  void* ptr;
  std::size_t bytes;
  std::size_t freed_at;  // the allocation count (Cache::tick) when it was freed
};
using Lru = std::list<Block>;

struct Cache {
  std::mutex mutex;
  Lru lru;  // every free block, least recently freed at the front
  // exact size -> that size's free blocks (their nodes in lru), in the order they were freed. lru's front is
  // always the front of its size's deque, so both ends are O(1) to take.
  std::map<std::size_t, std::deque<Lru::iterator>> free;
  HostCacheStats stats;
  std::size_t limit = default_limit();
  std::size_t tick = 0;         // large allocations so far
  std::size_t live_blocks = 0;  // large blocks handed out and not yet freed

  void push(void* p, std::size_t bytes) {  // may throw std::bad_alloc (a list node); then nothing changed
    Lru::iterator node = lru.insert(lru.end(), Block{p, bytes, tick});
    try {
      free[bytes].push_back(node);
    } catch (...) {
      lru.erase(node);
      throw;
    }
    stats.cached_bytes += bytes;
  }

  void* take(std::size_t bytes) {  // the most recently freed block of exactly this size, or null
    auto it = free.find(bytes);
    if (it == free.end()) return nullptr;
    Lru::iterator node = it->second.back();
    it->second.pop_back();
    if (it->second.empty()) free.erase(it);
    void* p = node->ptr;
    lru.erase(node);
    stats.cached_bytes -= bytes;
    return p;
  }

  std::size_t release_oldest() {  // gives the least recently freed block back to the system; returns its size
    const Block b = lru.front();
    auto it = free.find(b.bytes);
    it->second.pop_front();
    if (it->second.empty()) free.erase(it);
    lru.pop_front();
    std::free(b.ptr);
    stats.cached_bytes -= b.bytes;
    stats.released += b.bytes;
    return b.bytes;
  }

  void release_locked() {
    while (!lru.empty()) release_oldest();
  }

  // Gives back the free blocks that no allocation wanted during the last idle_window() large allocations,
  // oldest first (the LRU's front is the oldest). A loop that uses a block once per cycle reuses it within a
  // cycle, which is shorter than the window, so a steady loop gives nothing back.
  std::size_t idle_window() const { return 2 * (live_blocks + lru.size()) + 16; }
  void release_idle() {
    const std::size_t window = idle_window();
    while (!lru.empty() && tick - lru.front().freed_at > window) release_oldest();
  }
};

// Never destroyed: a Storage freed during static destruction (a global tensor) must still find it. What it holds
// at exit stays reachable through this pointer and goes back with the process.
Cache& cache() {
  static Cache* c = new Cache;
  return *c;
}

}  // namespace

void* host_alloc(std::size_t bytes) {
  bytes = (bytes + kAlign - 1) / kAlign * kAlign;  // aligned_alloc wants a multiple of the alignment
  if (bytes < kMinCached) {
    void* p = std::aligned_alloc(kAlign, bytes);
    if (!p) throw std::bad_alloc();
    return p;
  }
  Cache& c = cache();
  std::lock_guard<std::mutex> lock(c.mutex);
  ++c.tick;
  c.release_idle();
  void* p = c.take(bytes);
  if (p) {
    ++c.stats.hits;
  } else {
    ++c.stats.misses;
    p = std::aligned_alloc(kAlign, bytes);
    if (!p) throw std::bad_alloc();
  }
  ++c.live_blocks;
  return p;
}

void host_free(void* ptr, std::size_t bytes) {
  if (!ptr) return;
  bytes = (bytes + kAlign - 1) / kAlign * kAlign;
  if (bytes >= kMinCached) {
    Cache& c = cache();
    std::lock_guard<std::mutex> lock(c.mutex);
    --c.live_blocks;
    if (c.stats.cached_bytes + bytes <= c.limit) {
      try {
        c.push(ptr, bytes);
        return;
      } catch (const std::bad_alloc&) {
        // no room for the bookkeeping: free the block instead
      }
    }
  }
  std::free(ptr);
}

HostCacheStats host_cache_stats() {
  Cache& c = cache();
  std::lock_guard<std::mutex> lock(c.mutex);
  return c.stats;
}

std::size_t host_cache_limit() {
  Cache& c = cache();
  std::lock_guard<std::mutex> lock(c.mutex);
  return c.limit;
}

void host_cache_set_limit(std::size_t bytes) {
  Cache& c = cache();
  std::lock_guard<std::mutex> lock(c.mutex);
  c.limit = bytes;
  while (c.stats.cached_bytes > bytes) c.release_oldest();
}

void host_cache_release() {
  Cache& c = cache();
  std::lock_guard<std::mutex> lock(c.mutex);
  c.release_locked();
}

}  // namespace facet
