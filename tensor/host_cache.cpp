#include "tensor/host_cache.h"

#include <cstdlib>
#include <map>
#include <mutex>
#include <new>
#include <string>
#include <vector>

namespace facet {
namespace {

constexpr std::size_t kAlign = 64;
constexpr std::size_t kMinCached = 64 * 1024;  // smaller blocks: plain malloc

std::size_t default_limit() {
  if (const char* mb = std::getenv("FACET_HOST_CACHE_MB")) return std::size_t(std::strtoull(mb, nullptr, 10)) << 20;
  return std::size_t(2) << 30;
}

struct Cache {
  std::mutex mutex;
  std::map<std::size_t, std::vector<void*>> free;  // exact size -> free blocks
  HostCacheStats stats;
  std::size_t limit = default_limit();

  void release_locked() {
    for (auto& [bytes, blocks] : free)
      for (void* p : blocks) std::free(p);
    free.clear();
    stats.cached_bytes = 0;
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
  if (bytes >= kMinCached) {
    Cache& c = cache();
    std::lock_guard<std::mutex> lock(c.mutex);
    auto it = c.free.find(bytes);
    if (it != c.free.end() && !it->second.empty()) {
      void* p = it->second.back();
      it->second.pop_back();
      c.stats.cached_bytes -= bytes;
      ++c.stats.hits;
      return p;
    }
    ++c.stats.misses;
  }
  void* p = std::aligned_alloc(kAlign, bytes);
  if (!p) throw std::bad_alloc();
  return p;
}

void host_free(void* ptr, std::size_t bytes) {
  if (!ptr) return;
  bytes = (bytes + kAlign - 1) / kAlign * kAlign;
  if (bytes >= kMinCached) {
    Cache& c = cache();
    std::lock_guard<std::mutex> lock(c.mutex);
    if (c.stats.cached_bytes + bytes <= c.limit) {
      c.free[bytes].push_back(ptr);
      c.stats.cached_bytes += bytes;
      return;
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
  if (c.stats.cached_bytes > bytes) c.release_locked();
}

void host_cache_release() {
  Cache& c = cache();
  std::lock_guard<std::mutex> lock(c.mutex);
  c.release_locked();
}

}  // namespace facet
