// The CUDA emulator's semantics: thread/block indices, __syncthreads, warp shuffles, atomics, static and
// dynamic shared memory, and the errors a GPU would punish (partial barriers, bad masks, out-of-bounds shared
// memory, bad launch configurations). The kernels here are tiny CUDA kernels compiled by g++ on the emulator.
#include <catch2/catch.hpp>
#include <cmath>
#include <numeric>
#include <vector>

#include "kernels/cuda/cuda_compat.h"
#include "kernels/cuda/runtime.h"

using Catch::Contains;
using facet::cuda::emu::KernelError;

namespace {

__global__ void write_indices(int* out, int* dims_ok) {
  const unsigned bx = blockIdx.x + gridDim.x * (blockIdx.y + gridDim.y * blockIdx.z);
  const unsigned tx = threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z);
  const unsigned per_block = blockDim.x * blockDim.y * blockDim.z;
  out[bx * per_block + tx] = int(bx * per_block + tx);
  if (blockDim.x != 4 || blockDim.y != 3 || blockDim.z != 2 || gridDim.x != 3 || gridDim.y != 2 ||
      gridDim.z != 2)
    *dims_ok = 0;
}

// Each thread writes its slot, then (after the barrier) reads its mirror's: needs every write to be visible.
__global__ void reverse_in_block(float* out, const float* in) {
  FACET_SHARED_ARRAY(float, tile, [64]);
  const int t = threadIdx.x, base = blockIdx.x * 64;
  tile[t] = in[base + t];
  __syncthreads();
  out[base + t] = tile[63 - t];
}

__global__ void reverse_dynamic(float* out, const float* in, int n) {
  FACET_DYNAMIC_SHARED(float, buffer);
  const int t = threadIdx.x;
  buffer[t] = in[t];
  __syncthreads();
  out[t] = buffer[n - 1 - t];
}

__global__ void shuffles(int* down, int* up, int* xr, int* idx, int* down16, unsigned* ballot) {
  const int t = threadIdx.x;
  const int v = 100 + t;
  down[t] = __shfl_down_sync(0xffffffffu, v, 3);
  up[t] = __shfl_up_sync(0xffffffffu, v, 2);
  xr[t] = __shfl_xor_sync(0xffffffffu, v, 5);
  idx[t] = __shfl_sync(0xffffffffu, v, 7);
  down16[t] = __shfl_down_sync(0xffffffffu, v, 4, 16);
  ballot[t] = __ballot_sync(0xffffffffu, t % 3 == 0);
}

__global__ void warp_total(float* out, const float* in) {
  float v = in[blockIdx.x * 32 + threadIdx.x];
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  out[blockIdx.x * 32 + threadIdx.x] = v;
}

__global__ void atomics(int* counter, int* maximum, float* fsum, unsigned* cas_winners) {
  const int g = blockIdx.x * blockDim.x + threadIdx.x;
  atomicAdd(counter, 1);
  atomicMax(maximum, (g * 37) % 1001);
  atomicAdd(fsum, 0.5f);  // sums of halves are exact in float up to 2^23
  if (atomicCAS(cas_winners, 0u, unsigned(g + 1)) == 0u) atomicAdd(cas_winners + 1, 1u);
}

__global__ void early_return_then_sync(float* out) {
  if (threadIdx.x >= 10) return;
  __syncthreads();
  out[threadIdx.x] = 1.0f;
}

__global__ void divergent_syncs(float* out) {
  if (threadIdx.x % 2) {
    __syncthreads();
  } else {
    __syncthreads();
  }
  out[threadIdx.x] = 1.0f;
}

__global__ void shared_off_by_one(float* out) {
  FACET_SHARED_ARRAY(float, tile, [32]);
  tile[threadIdx.x + 1] = 1.0f;
  __syncthreads();
  out[threadIdx.x] = tile[threadIdx.x];
}

__global__ void shared_2d_oob(float* out) {
  FACET_SHARED_ARRAY(float, grid2d, [4][8]);
  grid2d[threadIdx.x / 8][threadIdx.x % 8 + (threadIdx.x == 5 ? 8 : 0)] = 1.0f;
  out[threadIdx.x] = 0.0f;
}

__global__ void dynamic_oob(float* out) {
  FACET_DYNAMIC_SHARED(float, buffer);
  buffer[threadIdx.x] = 2.0f;
  out[threadIdx.x] = buffer[threadIdx.x];
}

__global__ void read_unwritten_shared(float* out) {
  FACET_SHARED_ARRAY(float, never_written, [32]);
  out[threadIdx.x] = never_written[threadIdx.x];
}

__global__ void shuffle_partial_warp(float* out) {
  out[threadIdx.x] = __shfl_down_sync(0xffffffffu, 1.0f, 1);  // the block has 48 threads: warp 1 has 16 lanes
}

__global__ void shuffle_after_exit(float* out) {
  if (threadIdx.x == 31) return;
  out[threadIdx.x] = __shfl_xor_sync(0xffffffffu, 1.0f, 1);
}

__global__ void throws_midway(float* out) {
  __syncthreads();
  if (threadIdx.x == 7) ::facet::cuda::emu::fail("deliberate failure");
  __syncthreads();
  out[threadIdx.x] = 1.0f;
}

__global__ void fails_first(int* started_after) {
  if (threadIdx.x == 0) ::facet::cuda::emu::fail("deliberate failure in thread 0");
  atomicAdd(started_after, 1);
}

__global__ void nothing(float*) {}

}  // namespace

TEST_CASE("emulator: threadIdx, blockIdx, blockDim and gridDim in 3-D", "[cuda][emulator]") {
  const dim3 grid(3, 2, 2), block(4, 3, 2);
  std::vector<int> out(12 * 24, -1);
  int dims_ok = 1;
  FACET_LAUNCH(write_indices, grid, block, 0, nullptr, out.data(), &dims_ok);
  std::vector<int> expected(out.size());
  std::iota(expected.begin(), expected.end(), 0);
  REQUIRE(out == expected);
  REQUIRE(dims_ok == 1);
}

TEST_CASE("emulator: __syncthreads makes a block's shared-memory writes visible", "[cuda][emulator]") {
  std::vector<float> in(5 * 64), out(in.size(), 0.0f);
  std::iota(in.begin(), in.end(), 0.0f);
  FACET_LAUNCH(reverse_in_block, dim3(5), dim3(64), 0, nullptr, out.data(), in.data());
  for (int b = 0; b < 5; ++b)
    for (int t = 0; t < 64; ++t) REQUIRE(out[b * 64 + t] == in[b * 64 + 63 - t]);
}

TEST_CASE("emulator: dynamic shared memory has the launch's size", "[cuda][emulator]") {
  const int n = 40;
  std::vector<float> in(n), out(n, 0.0f);
  std::iota(in.begin(), in.end(), 1.0f);
  FACET_LAUNCH(reverse_dynamic, dim3(1), dim3(n), n * sizeof(float), nullptr, out.data(), in.data(), n);
  for (int t = 0; t < n; ++t) REQUIRE(out[t] == in[n - 1 - t]);
  // One float short: thread n-1 writes past the end.
  REQUIRE_THROWS_WITH(
      FACET_LAUNCH(dynamic_oob, dim3(1), dim3(n), (n - 1) * sizeof(float), nullptr, out.data()),
      Contains("out-of-bounds shared memory access: buffer index 39 not in [0, 39)") &&
          Contains("dynamic_oob") && Contains("thread (39,0,0)"));
}

TEST_CASE("emulator: warp shuffles and ballot follow CUDA's lane rules", "[cuda][emulator]") {
  std::vector<int> down(32), up(32), xr(32), idx(32), down16(32);
  std::vector<unsigned> ballot(32);
  FACET_LAUNCH(shuffles, dim3(1), dim3(32), 0, nullptr, down.data(), up.data(), xr.data(), idx.data(),
               down16.data(), ballot.data());
  unsigned expected_ballot = 0;
  for (int t = 0; t < 32; t += 3) expected_ballot |= 1u << t;
  for (int t = 0; t < 32; ++t) {
    INFO("lane " << t);
    CHECK(down[t] == 100 + (t + 3 < 32 ? t + 3 : t));  // out of range: own value
    CHECK(up[t] == 100 + (t >= 2 ? t - 2 : t));
    CHECK(xr[t] == 100 + (t ^ 5));
    CHECK(idx[t] == 107);
    CHECK(down16[t] == 100 + (t % 16 + 4 < 16 ? t + 4 : t));  // width 16: two independent halves
    CHECK(ballot[t] == expected_ballot);
  }
}

TEST_CASE("emulator: a butterfly warp sum gives every lane the total", "[cuda][emulator]") {
  std::vector<float> in(3 * 32), out(in.size());
  for (size_t i = 0; i < in.size(); ++i) in[i] = float(i % 7) - 2.0f;
  FACET_LAUNCH(warp_total, dim3(3), dim3(32), 0, nullptr, out.data(), in.data());
  for (int w = 0; w < 3; ++w) {
    float total = 0.0f;
    for (int l = 0; l < 32; ++l) total += in[w * 32 + l];
    for (int l = 0; l < 32; ++l) REQUIRE(out[w * 32 + l] == total);
  }
}

TEST_CASE("emulator: atomics are atomic across blocks on several OS threads", "[cuda][emulator]") {
  int counter = 0, maximum = -1;
  float fsum = 0.0f;
  unsigned cas[2] = {0, 0};
  const int blocks = 37, threads = 96;
  facet::cuda::emu::set_os_threads(4);  // blocks run concurrently on 4 OS threads
  FACET_LAUNCH(atomics, dim3(blocks), dim3(threads), 0, nullptr, &counter, &maximum, &fsum, cas);
  facet::cuda::emu::set_os_threads(0);
  int expected_max = 0;
  for (int g = 0; g < blocks * threads; ++g) expected_max = std::max(expected_max, (g * 37) % 1001);
  REQUIRE(counter == blocks * threads);
  REQUIRE(maximum == expected_max);
  REQUIRE(fsum == 0.5f * blocks * threads);
  REQUIRE(cas[1] == 1u);  // exactly one thread swapped 0 out
  REQUIRE(cas[0] >= 1u);
}

TEST_CASE("emulator: a __syncthreads reached by part of the block is an error", "[cuda][emulator]") {
  std::vector<float> out(32);
  REQUIRE_THROWS_AS(FACET_LAUNCH(early_return_then_sync, dim3(2), dim3(32), 0, nullptr, out.data()),
                    KernelError);
  REQUIRE_THROWS_WITH(FACET_LAUNCH(early_return_then_sync, dim3(2), dim3(32), 0, nullptr, out.data()),
                      Contains("kernel 'early_return_then_sync'") && Contains("block (0,0,0)") &&
                          Contains("reached by 10 of 32 threads") && Contains("thread (10,0,0)"));
  REQUIRE_THROWS_WITH(FACET_LAUNCH(divergent_syncs, dim3(1), dim3(8), 0, nullptr, out.data()),
                      Contains("different __syncthreads() calls"));
}

TEST_CASE("emulator: out-of-bounds shared memory is caught in checked mode", "[cuda][emulator]") {
  REQUIRE(FACET_CUDA_EMU_CHECKED == 1);
  std::vector<float> out(32);
  REQUIRE_THROWS_WITH(FACET_LAUNCH(shared_off_by_one, dim3(1), dim3(32), 0, nullptr, out.data()),
                      Contains("kernel 'shared_off_by_one'") && Contains("thread (31,0,0)") &&
                          Contains("tile index 32 not in [0, 32)"));
  REQUIRE_THROWS_WITH(FACET_LAUNCH(shared_2d_oob, dim3(1), dim3(32), 0, nullptr, out.data()),
                      Contains("grid2d dimension 1 index 13 not in [0, 8)"));
}

TEST_CASE("emulator: shared memory starts as NaN, so reading unwritten values shows", "[cuda][emulator]") {
  std::vector<float> out(32, 0.0f);
  FACET_LAUNCH(read_unwritten_shared, dim3(2), dim3(32), 0, nullptr, out.data());
  for (float v : out) REQUIRE(std::isnan(v));
}

TEST_CASE("emulator: warp ops with lanes that are missing or exited are errors", "[cuda][emulator]") {
  std::vector<float> out(48);
  REQUIRE_THROWS_WITH(FACET_LAUNCH(shuffle_partial_warp, dim3(1), dim3(48), 0, nullptr, out.data()),
                      Contains("mask 0xffffffff names lanes 0xffff0000 that do not exist"));
  REQUIRE_THROWS_WITH(FACET_LAUNCH(shuffle_after_exit, dim3(1), dim3(32), 0, nullptr, out.data()),
                      Contains("__shfl_xor_sync") && Contains("lane 31") && Contains("has exited"));
}

TEST_CASE("emulator: an error inside a kernel unwinds the block and the next launch works",
          "[cuda][emulator]") {
  std::vector<float> out(64, 0.0f);
  REQUIRE_THROWS_WITH(FACET_LAUNCH(throws_midway, dim3(3), dim3(64), 0, nullptr, out.data()),
                      Contains("thread (7,0,0): deliberate failure"));
  std::vector<float> in(64, 1.0f);
  FACET_LAUNCH(reverse_in_block, dim3(1), dim3(64), 0, nullptr, out.data(), in.data());
  REQUIRE(out == in);
  // The block stops at the first error: threads not started yet never run the kernel.
  int started_after = 0;
  REQUIRE_THROWS_WITH(FACET_LAUNCH(fails_first, dim3(1), dim3(64), 0, nullptr, &started_after),
                      Contains("deliberate failure in thread 0"));
  REQUIRE(started_after == 0);
}

TEST_CASE("emulator: invalid launch configurations are reported", "[cuda][emulator]") {
  std::vector<float> out(1);
  REQUIRE_THROWS_WITH(FACET_LAUNCH(nothing, dim3(1), dim3(1025), 0, nullptr, out.data()),
                      Contains("invalid launch of kernel 'nothing'"));
  REQUIRE_THROWS_WITH(FACET_LAUNCH(nothing, dim3(1), dim3(32), 64 * 1024, nullptr, out.data()),
                      Contains("48 KiB"));
  FACET_LAUNCH(nothing, dim3(0), dim3(32), 0, nullptr, out.data());  // an empty grid launches nothing
  REQUIRE_THROWS_WITH(threadIdx.x, Contains("threadIdx used outside a kernel"));
}
