// Inverted dropout on the device (see kernels/dropout.h), with the CPU's mask bit for bit:
//   u_i = uniform from Philox4x32-10 counter (offset + i) under key seed,   keep_i = [u_i >= p]
//   forward   out_i = keep_i ? in_i / (1-p) : 0          backward  din_i += keep_i ? dout_i / (1-p) : 0
// One Philox call yields 4 words, for the counters 4b .. 4b+3 (word (offset+i) % 4 of block (offset+i) / 4,
// as philox_uniform), so each thread takes one counter block and serves the up-to-4 elements that fall in it:
// a quarter of the Philox work of calling philox_uniform per element, same numbers.
#include "kernels/cuda/kernel_utils.h"
#include "kernels/dropout.h"
#include "kernels/philox.h"

namespace facet::cuda {

namespace {
// out_i = keep_i ? in_i * scale : 0, keep_i = [u(seed, offset + i) >= p]; one Philox block per thread.
__global__ void dropout_forward_kernel(float* out, uint8_t* mask, const float* in, int64_t n, float p,
                                       float scale, uint64_t seed, uint64_t offset) {
  const uint64_t first_block = offset >> 2, blocks = ((offset + uint64_t(n) - 1) >> 2) - first_block + 1;
  for (uint64_t b = uint64_t(global_index()); b < blocks; b += uint64_t(grid_stride())) {
    const uint64_t block = first_block + b;
    uint32_t ctr[4] = {uint32_t(block), uint32_t(block >> 32), 0u, 0u};
    philox4x32_10(ctr, uint32_t(seed), uint32_t(seed >> 32));
    for (int word = 0; word < 4; ++word) {
      const uint64_t counter = block * 4 + uint64_t(word);
      if (counter < offset || counter - offset >= uint64_t(n)) continue;
      const int64_t i = int64_t(counter - offset);
      const float u = float(ctr[word] >> 8) * (1.0f / 16777216.0f);  // exactly philox_uniform's value
      const bool keep = u >= p;
      mask[i] = keep ? 1 : 0;
      out[i] = keep ? in[i] * scale : 0.0f;
    }
  }
}

// din_i += mask_i ? dout_i * scale : 0   (scale = 1/(1-p))
__global__ void dropout_backward_kernel(float* din, const float* dout, const uint8_t* mask, int64_t n,
                                        float scale) {
  for (int64_t i = global_index(); i < n; i += grid_stride()) din[i] += mask[i] ? dout[i] * scale : 0.0f;
}
}  // namespace

void dropout_forward(float* out, uint8_t* mask, const float* in, int64_t n, float p, uint64_t seed,
                     uint64_t offset) {
  if (n <= 0) return;
  const float scale = 1.0f / (1.0f - p);  // the CPU's expression, so out matches bit for bit
  const int64_t counter_blocks = int64_t(((offset + uint64_t(n) - 1) >> 2) - (offset >> 2) + 1);
  FACET_LAUNCH(dropout_forward_kernel, grid_for(counter_blocks), kBlock, 0, stream(), out, mask, in, n, p,
               scale, seed, offset);
}

void dropout_backward(float* din, const float* dout, const uint8_t* mask, int64_t n, float p) {
  if (!din) return;
  const float scale = 1.0f / (1.0f - p);
  FACET_LAUNCH(dropout_backward_kernel, grid_for(n), kBlock, 0, stream(), din, dout, mask, n, scale);
}

}  // namespace facet::cuda
