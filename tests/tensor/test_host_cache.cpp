// tensor/host_cache.h: large host blocks are reused by exact size, small ones are not cached, the limit holds,
// and tensors built on reused blocks behave like fresh ones (a reused block is not zeroed: Tensor::zeros must
// still give zeros).
#include <catch2/catch.hpp>

#include <cstdint>

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
