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

// loss_b = (1-eps) w_y (lse - z_y) + (eps/C) sum_c w_c (lse - z_c)   (-log p_c = lse - z_c, lse = logsumexp(z))
//        = a lse - (1-eps) w_y z_y - (eps/C) sum_c w_c z_c,   a = (1-eps) w_y + (eps/C) sum_c w_c,
// computed from logsumexp (never log of an underflowed p). Rows whose target is -1 (or outside [0, C), which
// the caller rejects first) have loss 0; their probs are still written.
void softmax_cross_entropy_forward(float* losses, float* probs, const float* logits, const int32_t* targets,
                                   const float* class_weights, int B, int C, float label_smoothing) {
  const double eps = label_smoothing;
  double wsum = C;  // sum_c w_c
  if (class_weights) {
    wsum = 0.0;
    for (int c = 0; c < C; ++c) wsum += double(class_weights[c]);
  }
#pragma omp parallel for schedule(static) if (B >= kRowsPerThreadMin)
  for (int b = 0; b < B; ++b) {
    const float* z = logits + int64_t(b) * C;
    const double lse = softmax_row(probs + int64_t(b) * C, z, C);
    const int32_t y = targets[b];
    if (y < 0 || y >= C) {
      losses[b] = 0.0f;
      continue;
    }
    double wzsum = 0.0;  // sum_c w_c z_c
    for (int c = 0; c < C; ++c) wzsum += (class_weights ? double(class_weights[c]) : 1.0) * double(z[c]);
    const double wy = class_weights ? double(class_weights[y]) : 1.0;
    const double a = (1.0 - eps) * wy + eps / C * wsum;
    losses[b] = float(a * lse - (1.0 - eps) * wy * double(z[y]) - eps / C * wzsum);
  }
}

// dlogits[b,c] += dlosses[b] * (a p_c - (1-eps) w_y [c == y] - (eps/C) w_c);  rows with y = -1 skipped
void softmax_cross_entropy_backward(float* dlogits, const float* dlosses, const float* probs,
                                    const int32_t* targets, const float* class_weights, int B, int C,
                                    float label_smoothing) {
  if (!dlogits) return;
  const float off = label_smoothing / float(C);  // eps/C
  float wsum = float(C);
  if (class_weights) {
    wsum = 0.0f;
    for (int c = 0; c < C; ++c) wsum += class_weights[c];
  }
#pragma omp parallel for schedule(static) if (int64_t(B) * C >= (1 << 15))
  for (int b = 0; b < B; ++b) {
    const int32_t y = targets[b];
    if (y < 0 || y >= C) continue;
    const float wy = class_weights ? class_weights[y] : 1.0f;
    const float on = (1.0f - label_smoothing) * wy;  // the target's share
    const float a = on + off * wsum;
    const float g = dlosses[b];
    const float* p = probs + int64_t(b) * C;
    float* dz = dlogits + int64_t(b) * C;
    for (int c = 0; c < C; ++c) {
      const float wc = class_weights ? class_weights[c] : 1.0f;
      dz[c] += g * (a * p[c] - (c == y ? on : 0.0f) - off * wc);
    }
  }
}

}  // namespace facet::cpu
