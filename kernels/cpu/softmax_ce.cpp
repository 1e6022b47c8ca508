// Softmax and fused softmax + cross-entropy (see kernels/softmax_ce.h). Rows are independent: threads split
// rows, each row is reduced in a fixed order, so results do not depend on the thread count.
#include "kernels/softmax_ce.h"

#include <cmath>

namespace facet::cpu {
namespace {

// p_c = exp(z_c - m) / S with m = max_c z_c and S = sum_j exp(z_j - m); returns log S (for -log p_c).
double softmax_row(float* p, const float* z, int C) {
  float m = z[0];
  for (int c = 1; c < C; ++c) m = z[c] > m ? z[c] : m;
  double S = 0.0;
  for (int c = 0; c < C; ++c) {
    p[c] = std::exp(z[c] - m);  // in (0, 1]: no overflow
    S += double(p[c]);
  }
  const double invS = 1.0 / S;
  for (int c = 0; c < C; ++c) p[c] = float(double(p[c]) * invS);
  return std::log(S) + double(m);  // log sum_j exp(z_j): -log p_c = logsumexp - z_c
}

constexpr int kRowsPerThreadMin = 64;

}  // namespace

// probs[b,c] = exp(z_bc - max_c z_b) / sum_j exp(z_bj - max_c z_b)
void softmax_forward(float* probs, const float* logits, int B, int C) {
#pragma omp parallel for schedule(static) if (B >= kRowsPerThreadMin)
  for (int b = 0; b < B; ++b) softmax_row(probs + int64_t(b) * C, logits + int64_t(b) * C, C);
}

// loss_b = w_y * sum_c q_c * (-log p_c),  q_c = (1-eps)[c == y] + eps/C,  -log p_c = logsumexp(z) - z_c,
// computed from logsumexp (never log of an underflowed p). Rows whose target is -1 (or outside [0, C), which
// the caller rejects first) have loss 0; their probs are still written.
void softmax_cross_entropy_forward(float* losses, float* probs, const float* logits, const int32_t* targets,
                                   const float* class_weights, int B, int C, float label_smoothing) {
  const double eps = label_smoothing;
#pragma omp parallel for schedule(static) if (B >= kRowsPerThreadMin)
  for (int b = 0; b < B; ++b) {
    const float* z = logits + int64_t(b) * C;
    const double lse = softmax_row(probs + int64_t(b) * C, z, C);
    const int32_t y = targets[b];
    if (y < 0 || y >= C) {
      losses[b] = 0.0f;
      continue;
    }
    // sum_c q_c (lse - z_c) = lse - (1-eps) z_y - (eps/C) sum_c z_c      (sum_c q_c = 1)
    double zsum = 0.0;
    for (int c = 0; c < C; ++c) zsum += z[c];
    const double nll = lse - (1.0 - eps) * double(z[y]) - eps / C * zsum;
    const double w = class_weights ? double(class_weights[y]) : 1.0;
    losses[b] = float(w * nll);
  }
}

// dloss_b/dz_bc = w_y (p_c - q_c):   dlogits[b,c] += dlosses[b] * w_y * (p_c - q_c);  rows with y = -1 skipped
void softmax_cross_entropy_backward(float* dlogits, const float* dlosses, const float* probs,
                                    const int32_t* targets, const float* class_weights, int B, int C,
                                    float label_smoothing) {
  if (!dlogits) return;
  const float off = label_smoothing / float(C);  // q_c for c != y
  const float on = 1.0f - label_smoothing + off;  // q_y
#pragma omp parallel for schedule(static) if (int64_t(B) * C >= (1 << 15))
  for (int b = 0; b < B; ++b) {
    const int32_t y = targets[b];
    if (y < 0 || y >= C) continue;
    const float g = dlosses[b] * (class_weights ? class_weights[y] : 1.0f);
    const float* p = probs + int64_t(b) * C;
    float* dz = dlogits + int64_t(b) * C;
    for (int c = 0; c < C; ++c) dz[c] += g * (p[c] - (c == y ? on : off));
  }
}

}  // namespace facet::cpu
