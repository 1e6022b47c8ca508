#include "tensor/host_cache.h"

#include <cstdlib>
#include <deque>
#include <list>
#include <map>
#include <mutex>
#include <new>
#include <set>

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
  // Against thrashing: sizes a miss gave back, and how long the cache has gone without a miss.
  std::set<std::size_t> traded;
  std::size_t hit_streak = 0, live_blocks = 0;

  void push(void* p, std::size_t bytes) {  // may throw std::bad_alloc (a list node); then nothing changed
    Lru::iterator node = lru.insert(lru.end(), Block{p, bytes});
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
    traded.clear();
    hit_streak = 0;
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
  if (void* p = c.take(bytes)) {
    ++c.stats.hits;
    ++c.live_blocks;
    // A whole cycle's worth of hits in a row (as many as there are large blocks): what earlier trades taught is
    // stale, so later misses trade again (e.g. on going back to an earlier input size).
    if (++c.hit_streak >= c.live_blocks + c.lru.size()) c.traded.clear();
    return p;
  }
  ++c.stats.misses;
  c.hit_streak = 0;
  if (c.traded.erase(bytes)) {
    // A size given back by an earlier trade is wanted again: the loop uses more sizes at once than the trade
    // assumed. Map a new block and keep the rest, so that the next cycle finds all its sizes cached.
  } else {
    // Idle memory is traded for the new block instead of being added to: give back at least as many bytes of
    // other sizes, least recently freed first. A steady loop never gets here after its first step.
    std::size_t given = 0;
    while (given < bytes && !c.lru.empty()) {
      const std::size_t b = c.release_oldest();
      given += b;
      c.traded.insert(b);
    }
  }
  void* p = std::aligned_alloc(kAlign, bytes);
  if (!p) throw std::bad_alloc();
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
