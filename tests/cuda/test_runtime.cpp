// facet::cuda's runtime (kernels/cuda/runtime.h) on the emulated build: the "no CUDA device" error when
// emulation is off, the caching allocator, copies, streams, and CUDA errors naming file and line.
#include <catch2/catch.hpp>
#include <cstdlib>
#include <cstring>
#include <set>
#include <vector>

#include "kernels/cuda/cuda_compat.h"
#include "kernels/cuda/runtime.h"

using Catch::Contains;
namespace cuda = facet::cuda;

TEST_CASE("runtime: without emulation there is no device, and the error says what to do", "[cuda][runtime]") {
  REQUIRE(cuda::emulated_build());
  cuda::set_emulation_enabled(false);
  CHECK_FALSE(cuda::available());
  CHECK_THAT(cuda::device_description(), Contains("no CUDA device"));
  REQUIRE_THROWS_WITH(cuda::device_alloc(16), Contains("no CUDA device") &&
                                                  Contains("FACET_CUDA_EMULATE=1") &&
                                                  Contains("--device cpu"));
  REQUIRE_THROWS_WITH(cuda::Stream(), Contains("no CUDA device"));
  cuda::set_emulation_enabled(true);
  CHECK(cuda::available());
  CHECK_THAT(cuda::device_description(), Contains("emulation"));
}

TEST_CASE("runtime: FACET_CUDA_EMULATE=1 in the environment enables the emulated device", "[cuda][runtime]") {
  setenv("FACET_CUDA_EMULATE", "1", 1);
  cuda::emu::reset_enabled_from_environment();
  CHECK(cuda::available());
  setenv("FACET_CUDA_EMULATE", "0", 1);
  cuda::emu::reset_enabled_from_environment();
  CHECK_FALSE(cuda::available());
  unsetenv("FACET_CUDA_EMULATE");
  cuda::emu::reset_enabled_from_environment();
  CHECK_FALSE(cuda::available());
}

TEST_CASE("runtime: the caching allocator reuses freed blocks of the same bin", "[cuda][runtime]") {
  cuda::set_emulation_enabled(true);
  cuda::empty_cache();
  const cuda::AllocatorStats s0 = cuda::allocator_stats();
  void* a = cuda::device_alloc(1000);  // bin 1024
  void* b = cuda::device_alloc(0);     // a valid, distinct minimum block
  REQUIRE(a != nullptr);
  REQUIRE(b != nullptr);
  REQUIRE(a != b);
  const cuda::AllocatorStats s1 = cuda::allocator_stats();
  CHECK(s1.device_mallocs == s0.device_mallocs + 2);
  CHECK(s1.bytes_in_use == s0.bytes_in_use + 1024 + 512);
  cuda::device_free(a);
  void* c = cuda::device_alloc(900);  // same bin: the freed block comes back, no new cudaMalloc
  CHECK(c == a);
  const cuda::AllocatorStats s2 = cuda::allocator_stats();
  CHECK(s2.device_mallocs == s1.device_mallocs);
  CHECK(s2.cache_hits == s1.cache_hits + 1);

  // A "training loop": the same sizes every step cost cudaMalloc only in the first step.
  for (int step = 0; step < 5; ++step) {
    std::vector<void*> blocks;
    for (std::size_t bytes : {4u << 10, 300u << 10, 12345u, 7u}) blocks.push_back(cuda::device_alloc(bytes));
    for (void* p : blocks) cuda::device_free(p);
  }
  CHECK(cuda::allocator_stats().device_mallocs == s2.device_mallocs + 4);

  cuda::device_free(b);
  cuda::device_free(c);
  cuda::device_free(nullptr);                                                           // ignored
  REQUIRE_THROWS_WITH(cuda::device_free(c), Contains("not returned by device_alloc"));  // freed twice
  int on_stack = 0;
  REQUIRE_THROWS_WITH(cuda::device_free(&on_stack), Contains("not returned by device_alloc"));
  cuda::empty_cache();
  CHECK(cuda::allocator_stats().bytes_cached == 0);
  CHECK(cuda::allocator_stats().bytes_in_use == s0.bytes_in_use);
}

TEST_CASE("runtime: bins waste at most a quarter and keep sizes apart", "[cuda][runtime]") {
  cuda::set_emulation_enabled(true);
  std::set<void*> seen;
  for (std::size_t bytes = 1; bytes < (1u << 20); bytes = bytes * 3 + 1) {
    const std::size_t before = cuda::allocator_stats().bytes_in_use;
    void* p = cuda::device_alloc(bytes);
    const std::size_t bin = cuda::allocator_stats().bytes_in_use - before;
    INFO(bytes << " bytes -> bin of " << bin);
    CHECK(bin >= bytes);
    CHECK((bin <= 512 || bin * 4 <= bytes * 5 + 4));
    CHECK(seen.insert(p).second);
  }
  for (void* p : seen) cuda::device_free(p);
}

TEST_CASE("runtime: copies host -> device -> device -> host on a stream", "[cuda][runtime]") {
  cuda::set_emulation_enabled(true);
  std::vector<float> host(1000), back(1000, -1.0f);
  for (std::size_t i = 0; i < host.size(); ++i) host[i] = float(i) * 0.5f;
  cuda::Stream stream;
  {
    cuda::StreamScope scope(stream);
    CHECK(cuda::current_stream_handle() == stream.handle());
    void* d1 = cuda::device_alloc(host.size() * sizeof(float));
    void* d2 = cuda::device_alloc(host.size() * sizeof(float));
    cuda::copy_to_device(d1, host.data(), host.size() * sizeof(float));
    cuda::copy_device_to_device(d2, d1, host.size() * sizeof(float));
    cuda::copy_to_host(back.data(), d2, host.size() * sizeof(float));
    cuda::copy_to_host(back.data(), d2, 0);  // zero bytes: nothing
    cuda::synchronize();
    stream.synchronize();
    cuda::device_free(d1);
    cuda::device_free(d2);
  }
  CHECK(cuda::current_stream_handle() == nullptr);
  CHECK(back == host);
}

TEST_CASE("runtime: a failing CUDA call throws with file, line, call and CUDA's error", "[cuda][runtime]") {
  cuda::set_emulation_enabled(true);
  REQUIRE_THROWS_WITH(FACET_CUDA_CHECK(cudaSetDevice(5)), Contains("tests/cuda/test_runtime.cpp:") &&
                                                              Contains("cudaSetDevice(5) failed") &&
                                                              Contains("cudaErrorInvalidDevice"));
}
