// Deterministic device reductions to one float (sum, sum of squares, squared error).
//   pass 1: G blocks (G depends only on n) each sum a strided share of the terms -> partial[G]
//   pass 2: one block sums partial[0..G) -> out[0] = scale * total
// Within a block: per-thread running sums, then a warp-shuffle tree and a tree over the warps (block_sum).
// The order of every addition is fixed by n alone, so the result is the same on every run and every GPU.
#pragma once
#include <cstdint>

#include "kernels/cuda/kernel_utils.h"

namespace facet::cuda {

inline int reduce_blocks(int64_t n) {
  const int64_t g = (n + 8 * kBlock - 1) / (8 * kBlock);  // >= 8 terms per thread before the tree
  return int(g < 1 ? 1 : (g > 1024 ? 1024 : g));
}

// partial[block] = sum of term(i) over this block's grid-stride share of [0, n).
template <class Term>
__global__ void reduce_partial_kernel(float* partial, int64_t n, Term term) {
  float s = 0.0f;
  for (int64_t i = global_index(); i < n; i += grid_stride()) s += term(i);
  s = block_sum(s);
  if (threadIdx.x == 0) partial[blockIdx.x] = s;
}

// out[0] = scale * sum_b partial[b]   (defined in elementwise.cu)
__global__ void reduce_final_kernel(float* out, const float* partial, int blocks, float scale);

// out[0] = scale * sum_{i < n} term(i), on the current stream. out is a device pointer.
template <class Term>
void reduce_to_scalar(float* out, int64_t n, float scale, const Term& term) {
  const int blocks = reduce_blocks(n);
  Workspace partial{size_t(blocks)};  // (blocks)
  FACET_LAUNCH(reduce_partial_kernel<Term>, dim3(unsigned(blocks)), dim3(kBlock), 0, stream(), partial.get(),
               n, term);
  FACET_LAUNCH(reduce_final_kernel, dim3(1), dim3(kBlock), 0, stream(), out, partial.get(), blocks, scale);
}

struct SumTerm {
  const float* x;
  __device__ __forceinline__ float operator()(int64_t i) const { return x[i]; }
};
struct SquareTerm {
  const float* x;
  __device__ __forceinline__ float operator()(int64_t i) const { return x[i] * x[i]; }
};
struct SquaredErrorTerm {
  const float* p;
  const float* t;
  __device__ __forceinline__ float operator()(int64_t i) const {
    const float e = p[i] - t[i];
    return e * e;
  }
};

}  // namespace facet::cuda
