// Inverted dropout (kernels/dropout.h): element i is kept when the Philox number of counter offset + i under
// key seed is >= p; kept values are scaled by 1/(1-p) so the expected output equals the input.
#include "kernels/dropout.h"

#include "kernels/philox.h"

namespace facet::naive {

void dropout_forward(float* out, uint8_t* mask, const float* in, int64_t n, float p, uint64_t seed,
                     uint64_t offset) {
  const float scale = 1.0f / (1.0f - p);
  for (int64_t i = 0; i < n; ++i) {
    const bool keep = philox_uniform(seed, offset + uint64_t(i)) >= p;
    mask[i] = keep ? 1 : 0;
    out[i] = keep ? in[i] * scale : 0.0f;
  }
}

// din += dout * keep / (1-p)
void dropout_backward(float* din, const float* dout, const uint8_t* mask, int64_t n, float p) {
  if (!din) return;
  const float scale = 1.0f / (1.0f - p);
  for (int64_t i = 0; i < n; ++i) din[i] += mask[i] ? dout[i] * scale : 0.0f;
}

}  // namespace facet::naive
