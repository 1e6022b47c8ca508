// Small pieces every kernels/cuda/*.cu uses: launch geometry, warp and block reductions, a device workspace.
#pragma once
#include <cstdint>

#include "kernels/cuda/cuda_compat.h"
#include "kernels/cuda/runtime.h"

namespace facet::cuda {

constexpr int kBlock = 256;  // threads per block for pointwise and reduction kernels (a multiple of 32)
constexpr int kMaxGridBlocks = 4096;  // grid-stride kernels use at most this many blocks

// Blocks for a grid-stride loop over n items: enough to fill a GPU, never more than the work needs.
inline unsigned grid_for(int64_t n, int block = kBlock) {
  const int64_t blocks = (n + block - 1) / block;
  return unsigned(blocks < kMaxGridBlocks ? blocks : kMaxGridBlocks);
}

inline cudaStream_t stream() {
  return current_stream_handle();
}

// Index of this thread in a 1-D grid and the grid's stride, as 64-bit (n may exceed 2^31).
__device__ __forceinline__ int64_t global_index() {
  return int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
}
__device__ __forceinline__ int64_t grid_stride() {
  return int64_t(gridDim.x) * blockDim.x;
}

// Sum over the 32 lanes by a butterfly (xor) exchange: after 5 steps every lane holds the same total,
// computed in the same order whatever the data, so the result is deterministic.
__device__ __forceinline__ float warp_sum(float v) {
  for (int offset = 16; offset > 0; offset >>= 1) v += __shfl_xor_sync(0xffffffffu, v, offset);
  return v;
}
__device__ __forceinline__ float warp_max(float v) {
  for (int offset = 16; offset > 0; offset >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, offset));
  return v;
}

// Sum over the block (blockDim.x a multiple of 32, <= 1024): each warp reduces by shuffles, warp 0 reduces
// the warps' partial sums. Every thread gets the total. Safe to call repeatedly (it synchronises before
// reuse).
__device__ __forceinline__ float block_sum(float v) {
  FACET_SHARED_ARRAY(float, warp_partials, [32]);
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32, warps = blockDim.x / 32;
  v = warp_sum(v);
  __syncthreads();  // a previous call may still be reading warp_partials
  if (lane == 0) warp_partials[warp] = v;
  __syncthreads();
  v = lane < warps ? warp_partials[lane] : 0.0f;
  return warp_sum(v);
}

// A temporary device buffer from the caching allocator (RAII), for partial results between kernels.
class Workspace {
 public:
  explicit Workspace(std::size_t floats) : data_(static_cast<float*>(device_alloc(floats * sizeof(float)))) {}
  ~Workspace() { device_free(data_); }
  Workspace(const Workspace&) = delete;
  Workspace& operator=(const Workspace&) = delete;
  float* get() const { return data_; }

 private:
  float* data_;
};

}  // namespace facet::cuda
