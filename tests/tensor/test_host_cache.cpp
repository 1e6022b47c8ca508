// tensor/host_cache.h: large host blocks are reused by exact size, small ones are not cached, the limit holds,
// tensors built on reused blocks behave like fresh ones (a reused block is not zeroed: Tensor::zeros must
// still give zeros), blocks left idle go back to the system (oldest first), and a steady loop settles into
// hits that give nothing back.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "tensor/host_cache.h"
#include "tensor/tensor.h"

using namespace facet;

TEST_CASE("host cache: a freed large block is handed out again for the same size", "[tensor][host_cache]") {
  host_cache_release();
  const std::size_t big = 1 << 20;
  void* a = host_alloc(big);
  REQUIRE(reinterpret_cast<std::uintptr_t>(a) % 64 == 0);
  host_free(a, big);
  CHECK(host_cache_stats().cached_bytes == big);
  const std::size_t hits = host_cache_stats().hits;
  void* b = host_alloc(big);
  CHECK(b == a);  // the same block, no new mapping
  CHECK(host_cache_stats().hits == hits + 1);
  CHECK(host_cache_stats().cached_bytes == 0);
  void* c = host_alloc(big + 64);  // another size: a new block
  CHECK(c != b);
  host_free(b, big);
  host_free(c, big + 64);

  const std::size_t small = 1024;  // below 64 KiB: malloc's business, never cached
  void* s = host_alloc(small);
  REQUIRE(reinterpret_cast<std::uintptr_t>(s) % 64 == 0);
  host_free(s, small);
  CHECK(host_cache_stats().cached_bytes == 2 * big + 64);
  host_cache_release();
  CHECK(host_cache_stats().cached_bytes == 0);
}

TEST_CASE("host cache: never holds more than its limit, 0 turns it off", "[tensor][host_cache]") {
  const std::size_t old_limit = host_cache_limit(), big = 1 << 20;
  host_cache_release();
  host_cache_set_limit(big + big / 2);
  void* a = host_alloc(big);
  void* b = host_alloc(big);
  host_free(a, big);
  host_free(b, big);  // would exceed the limit: freed at once
  CHECK(host_cache_stats().cached_bytes == big);
  host_cache_set_limit(0);
  CHECK(host_cache_stats().cached_bytes == 0);
  void* c = host_alloc(big);
  host_free(c, big);
  CHECK(host_cache_stats().cached_bytes == 0);
  host_cache_set_limit(old_limit);
}

TEST_CASE("host cache: tensors on reused blocks start as asked (zeros are zeros)", "[tensor][host_cache]") {
  host_cache_release();
  const int64_t n = 1 << 16;  // 256 KiB of floats: cached
  { Tensor t = Tensor::full({n}, 7.0f); }
  const std::size_t hits = host_cache_stats().hits;
  Tensor z = Tensor::zeros({n});
  CHECK(host_cache_stats().hits == hits + 1);  // it got the block the 7s were in
  for (float v : z.to_vector()) REQUIRE(v == 0.0f);
}

namespace {
constexpr std::size_t kMiB = std::size_t(1) << 20;
}

TEST_CASE("host cache: a steady loop of the same sizes hits and gives nothing back", "[tensor][host_cache]") {
  host_cache_release();
  const std::vector<std::size_t> sizes = {kMiB, 2 * kMiB, 3 * kMiB, 3 * kMiB};
  auto step = [&] {
    std::vector<void*> live;
    for (std::size_t b : sizes) live.push_back(host_alloc(b));
    for (std::size_t i = 0; i < sizes.size(); ++i) host_free(live[i], sizes[i]);
  };
  step();  // the first step maps everything; nothing was cached, so nothing is given back
  const HostCacheStats first = host_cache_stats();
  CHECK(first.cached_bytes == 9 * kMiB);
  for (int i = 0; i < 5; ++i) step();
  const HostCacheStats after = host_cache_stats();
  CHECK(after.hits == first.hits + 5 * sizes.size());
  CHECK(after.misses == first.misses);
  CHECK(after.released == first.released);
  CHECK(after.cached_bytes == 9 * kMiB);
  host_cache_release();
}

TEST_CASE("host cache: a loop that frees one size before asking for another settles into hits",
          "[tensor][host_cache]") {
  // The pattern of an inference forward (each activation freed as soon as the next layer has read it): the
  // second allocation of a step misses once, and must not give back the block the next step's first one needs.
  host_cache_release();
  auto step = [] {
    void* a = host_alloc(kMiB);
    host_free(a, kMiB);
    void* b = host_alloc(2 * kMiB);
    host_free(b, 2 * kMiB);
  };
  for (int i = 0; i < 3; ++i) step();
  const HostCacheStats settled = host_cache_stats();
  CHECK(settled.cached_bytes == 3 * kMiB);
  for (int i = 0; i < 100; ++i) step();
  const HostCacheStats after = host_cache_stats();
  CHECK(after.misses == settled.misses);
  CHECK(after.hits == settled.hits + 200);
  CHECK(after.released == settled.released);
  host_cache_release();
}

TEST_CASE("host cache: a block nobody takes for a while goes back to the system, oldest first",
          "[tensor][host_cache]") {
  host_cache_release();
  void* x1 = host_alloc(kMiB);
  void* x2 = host_alloc(2 * kMiB);
  host_free(x2, 2 * kMiB);                         // older
  host_free(host_alloc(3 * kMiB), 3 * kMiB);       // one allocation between the two frees
  host_free(x1, kMiB);
  const HostCacheStats before = host_cache_stats();
  REQUIRE(before.cached_bytes == 6 * kMiB);
  // A loop on a third size: its own block is reused every step and stays; x2, then x1, go once idle long enough.
  std::vector<std::size_t> released_after;  // bytes given back so far, after each step
  for (int i = 0; i < 60; ++i) {
    host_free(host_alloc(3 * kMiB), 3 * kMiB);
    released_after.push_back(host_cache_stats().released - before.released);
  }
  CHECK(released_after.front() == 0);                  // not at once: it might be wanted again soon
  CHECK(released_after.back() == 3 * kMiB);            // both went
  const auto first = std::find_if(released_after.begin(), released_after.end(), [](std::size_t r) { return r > 0; });
  REQUIRE(first != released_after.end());
  CHECK(*first == 2 * kMiB);                           // the older one first
  CHECK(host_cache_stats().cached_bytes == 3 * kMiB);  // the loop's own block
  host_cache_release();
}

TEST_CASE("host cache: after a change of size the old blocks go, and back again", "[tensor][host_cache]") {
  host_cache_release();
  auto loop = [](std::size_t bytes, int steps) {
    for (int i = 0; i < steps; ++i) host_free(host_alloc(bytes), bytes);
  };
  loop(4 * kMiB, 10);  // first shape
  const std::size_t r0 = host_cache_stats().released;
  loop(6 * kMiB, 100);  // second shape: the first shape's block goes once idle
  CHECK(host_cache_stats().released == r0 + 4 * kMiB);
  CHECK(host_cache_stats().cached_bytes == 6 * kMiB);
  loop(4 * kMiB, 100);  // back again: the second shape's block goes, the footprint stays at one block
  CHECK(host_cache_stats().released == r0 + 10 * kMiB);
  CHECK(host_cache_stats().cached_bytes == 4 * kMiB);
  host_cache_release();
}

TEST_CASE("host cache: a mixed sequence never holds more than the limit, lowering it drops the oldest",
          "[tensor][host_cache]") {
  const std::size_t old_limit = host_cache_limit();
  host_cache_release();
  const std::size_t limit = 5 * kMiB;
  host_cache_set_limit(limit);
  std::vector<std::pair<void*, std::size_t>> live;
  std::uint32_t rng = 12345;
  for (int i = 0; i < 2000; ++i) {
    rng = rng * 1664525u + 1013904223u;
    if (live.empty() || (rng >> 16) % 3 != 0) {
      const std::size_t bytes = (1 + (rng >> 8) % 8) * (kMiB / 4);  // 256 KiB .. 2 MiB, 8 sizes
      live.emplace_back(host_alloc(bytes), bytes);
    }
    if (live.size() > 6 || (rng >> 20) % 2 == 0) {
      const std::size_t k = (rng >> 4) % live.size();
      host_free(live[k].first, live[k].second);
      live.erase(live.begin() + std::ptrdiff_t(k));
    }
    REQUIRE(host_cache_stats().cached_bytes <= limit);
  }
  for (auto& [p, bytes] : live) host_free(p, bytes);
  CHECK(host_cache_stats().cached_bytes <= limit);

  host_cache_release();
  void* a = host_alloc(kMiB);
  void* b = host_alloc(2 * kMiB);
  host_free(a, kMiB);  // older
  host_free(b, 2 * kMiB);
  host_cache_set_limit(2 * kMiB);
  CHECK(host_cache_stats().cached_bytes == 2 * kMiB);
  void* c = host_alloc(2 * kMiB);
  CHECK(c == b);
  host_free(c, 2 * kMiB);
  host_cache_set_limit(old_limit);
  host_cache_release();
}
