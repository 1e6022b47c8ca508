// Softmax and softmax + cross-entropy (kernels/softmax_ce.h), row by row, in double.
#include "kernels/softmax_ce.h"

#include <cmath>

namespace facet::naive {

// p_c = exp(z_c - max z) / sum_j exp(z_j - max z)   (subtracting the max keeps exp from overflowing)
void softmax_forward(float* probs, const float* logits, int B, int C) {
  for (int b = 0; b < B; ++b) {
    const float* z = logits + int64_t(b) * C;
    double m = z[0], s = 0.0;
    for (int c = 1; c < C; ++c) m = z[c] > m ? z[c] : m;
    for (int c = 0; c < C; ++c) s += std::exp(z[c] - m);
    for (int c = 0; c < C; ++c) probs[int64_t(b) * C + c] = float(std::exp(z[c] - m) / s);
  }
}

// loss_b = sum_c w_c q_c (-log p_c),  q_c = (1-eps) [c == y] + eps/C   (w = 1 without class weights);
// -log p_c = logsumexp(z) - z_c, so no log of an underflowed p. Target -1: no label, loss 0.
void softmax_cross_entropy_forward(float* losses, float* probs, const float* logits, const int32_t* targets,
                                   const float* class_weights, int B, int C, float label_smoothing) {
  softmax_forward(probs, logits, B, C);
  const double eps = label_smoothing;
  for (int b = 0; b < B; ++b) {
    const float* z = logits + int64_t(b) * C;
    const int32_t y = targets[b];
    if (y < 0 || y >= C) {
      losses[b] = 0.0f;
      continue;
    }
    double m = z[0], s = 0.0;
    for (int c = 1; c < C; ++c) m = z[c] > m ? z[c] : m;
    for (int c = 0; c < C; ++c) s += std::exp(z[c] - m);
    const double lse = m + std::log(s);
    double loss = 0.0;
    for (int c = 0; c < C; ++c) {
      const double w = class_weights ? class_weights[c] : 1.0;
      const double q = (c == y ? 1.0 - eps : 0.0) + eps / C;
      loss += w * q * (lse - z[c]);
    }
    losses[b] = float(loss);
  }
}

// dz_c += dloss_b (a p_c - (1-eps) w_y [c == y] - (eps/C) w_c),   a = (1-eps) w_y + (eps/C) sum_j w_j
void softmax_cross_entropy_backward(float* dlogits, const float* dlosses, const float* probs,
                                    const int32_t* targets, const float* class_weights, int B, int C,
                                    float label_smoothing) {
  if (!dlogits) return;
  const double eps = label_smoothing;
  double wsum = 0.0;
  for (int c = 0; c < C; ++c) wsum += class_weights ? class_weights[c] : 1.0;
  for (int b = 0; b < B; ++b) {
    const int32_t y = targets[b];
    if (y < 0 || y >= C) continue;
    const double wy = class_weights ? class_weights[y] : 1.0;
    const double a = (1.0 - eps) * wy + eps / C * wsum;
    for (int c = 0; c < C; ++c) {
      const double wc = class_weights ? class_weights[c] : 1.0;
      const double g = a * probs[int64_t(b) * C + c] - (c == y ? (1.0 - eps) * wy : 0.0) - eps / C * wc;
      dlogits[int64_t(b) * C + c] += float(dlosses[b] * g);
    }
  }
}

}  // namespace facet::naive
