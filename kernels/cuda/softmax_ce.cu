// Softmax and fused softmax + cross-entropy on the device (see kernels/softmax_ce.h).
// Forward: one warp per row (4 rows per 128-thread block), lanes stride over the C classes; four warp
// reductions by butterfly shuffles (max, sum of exp, sum of w_c z_c, sum of w_c), no shared memory, no atomics:
//   m = max_c z_c,   S = sum_c exp(z_c - m),   p_c = exp(z_c - m) / S,   lse = m + log S
//   loss = (1-eps) w_y (lse - z_y) + (eps/C) sum_c w_c (lse - z_c)          (PyTorch's weighted smoothing)
//        = a lse - (1-eps) w_y z_y - (eps/C) sum_c w_c z_c,   a = (1-eps) w_y + (eps/C) sum_c w_c
// computed from lse, never from log of an underflowed p. Target -1 (or outside [0, C)): loss 0, probs
// written. Backward is pointwise: dz_c += dloss * (a p_c - (1-eps) w_y [c == y] - (eps/C) w_c); each thread
// sums the C weights itself (C is a head's class count: a handful).
// The CPU sums S in double; here it is float (a few ulp apart; see the parity tolerances).
#include <cmath>

#include "kernels/cuda/kernel_utils.h"
#include "kernels/softmax_ce.h"

namespace facet::cuda {

namespace {
constexpr int kRowsPerBlock = 4;

// losses == null: softmax only.
__global__ void softmax_rows_kernel(float* losses, float* probs, const float* logits, const int32_t* targets,
                                    const float* class_weights, int B, int C, float eps) {
  const int row = int(blockIdx.x) * kRowsPerBlock + int(threadIdx.x) / 32, lane = int(threadIdx.x) % 32;
  if (row >= B) return;  // the whole warp leaves together, so the shuffles below see full warps
  const float* z = logits + int64_t(row) * C;
  float* p = probs + int64_t(row) * C;

  float m = -INFINITY;
  for (int c = lane; c < C; c += 32) m = fmaxf(m, z[c]);
  m = warp_max(m);
  float s = 0.0f, wzsum = 0.0f, wsum = 0.0f;
  for (int c = lane; c < C; c += 32) {
    const float w = class_weights ? class_weights[c] : 1.0f;
    s += expf(z[c] - m);
    wzsum += w * z[c];
    wsum += w;
  }
  s = warp_sum(s);
  const float inv_s = 1.0f / s;
  for (int c = lane; c < C; c += 32) p[c] = expf(z[c] - m) * inv_s;
  if (!losses) return;

  wzsum = warp_sum(wzsum);
  wsum = warp_sum(wsum);
  if (lane != 0) return;
  const int y = targets[row];
  if (y < 0 || y >= C) {
    losses[row] = 0.0f;
    return;
  }
  const float lse = m + logf(s);
  const float on = (1.0f - eps) * (class_weights ? class_weights[y] : 1.0f), off = eps / float(C);
  losses[row] = (on + off * wsum) * lse - on * z[y] - off * wzsum;
}

// dz[b,c] += dloss_b * (a p_c - on [c == y] - off w_c), on = (1-eps) w_y, off = eps/C, a = on + off sum_j w_j
// (the CPU's expressions); unlabelled rows untouched.
__global__ void softmax_ce_backward_kernel(float* dlogits, const float* dlosses, const float* probs,
                                           const int32_t* targets, const float* class_weights, int B, int C,
                                           float eps) {
  const int64_t total = int64_t(B) * C;
  const float off = eps / float(C);
  float wsum = float(C);
  if (class_weights) {
    wsum = 0.0f;
    for (int j = 0; j < C; ++j) wsum += class_weights[j];
  }
  for (int64_t i = global_index(); i < total; i += grid_stride()) {
    const int b = int(i / C), c = int(i % C);
    const int y = targets[b];
    if (y < 0 || y >= C) continue;
    const float on = (1.0f - eps) * (class_weights ? class_weights[y] : 1.0f);
    const float a = on + off * wsum;
    const float wc = class_weights ? class_weights[c] : 1.0f;
    dlogits[i] += dlosses[b] * (a * probs[i] - (c == y ? on : 0.0f) - off * wc);
  }
}

unsigned row_blocks(int B) {
  return unsigned((B + kRowsPerBlock - 1) / kRowsPerBlock);
}
}  // namespace

void softmax_forward(float* probs, const float* logits, int B, int C) {
  FACET_LAUNCH(softmax_rows_kernel, row_blocks(B), dim3(32 * kRowsPerBlock), 0, stream(), nullptr, probs,
               logits, nullptr, nullptr, B, C, 0.0f);
}

void softmax_cross_entropy_forward(float* losses, float* probs, const float* logits, const int32_t* targets,
                                   const float* class_weights, int B, int C, float label_smoothing) {
  FACET_LAUNCH(softmax_rows_kernel, row_blocks(B), dim3(32 * kRowsPerBlock), 0, stream(), losses, probs,
               logits, targets, class_weights, B, C, label_smoothing);
}

void softmax_cross_entropy_backward(float* dlogits, const float* dlosses, const float* probs,
                                    const int32_t* targets, const float* class_weights, int B, int C,
                                    float label_smoothing) {
  if (!dlogits) return;
  FACET_LAUNCH(softmax_ce_backward_kernel, grid_for(int64_t(B) * C), kBlock, 0, stream(), dlogits, dlosses,
               probs, targets, class_weights, B, C, label_smoothing);
}

}  // namespace facet::cuda
