// Inverted dropout (see kernels/dropout.h). The mask of element i is a pure function of (seed, offset + i):
//   u_i = philox_uniform(seed, offset + i) in [0, 1),   keep_i = [u_i >= p]   (so P(keep) = 1 - p)
// which the CUDA kernel computes the same way, so both backends drop the same elements.
#include "kernels/dropout.h"

#include "kernels/cpu/reduce.h"
#include "kernels/philox.h"

namespace facet::cpu {

// out_i = in_i * keep_i / (1 - p),  mask_i = keep_i
void dropout_forward(float* out, uint8_t* mask, const float* in, int64_t n, float p, uint64_t seed,
                     uint64_t offset) {
  const float scale = 1.0f / (1.0f - p);
#pragma omp parallel for schedule(static) if (n >= detail::kParallelMin / 8)
  for (int64_t i = 0; i < n; ++i) {
    const bool keep = philox_uniform(seed, offset + uint64_t(i)) >= p;
    mask[i] = keep ? 1 : 0;
    out[i] = keep ? in[i] * scale : 0.0f;
  }
}

// d(out_i)/d(in_i) = keep_i / (1 - p):   din_i += dout_i * keep_i / (1 - p)
void dropout_backward(float* din, const float* dout, const uint8_t* mask, int64_t n, float p) {
  if (!din) return;
  const float scale = 1.0f / (1.0f - p);
#pragma omp parallel for simd schedule(static) if (n >= detail::kParallelMin)
  for (int64_t i = 0; i < n; ++i) din[i] += mask[i] ? dout[i] * scale : 0.0f;
}

}  // namespace facet::cpu
