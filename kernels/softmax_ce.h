// Softmax + cross-entropy, fused and numerically stable (subtract the row max before exp).
//   p_c   = exp(z_c - max z) / sum_j exp(z_j - max z)
//   q_c   = (1-eps)*[c == y] + eps/C                           (label smoothing eps; eps = 0: one-hot)
//   loss  = w_y * sum_c q_c * (-log p_c)                        (w = class weights, 1 when null)
//   dz_c += dloss * w_y * (p_c - q_c)                           (because sum_c q_c = 1)
// A target of -1 means "no label for this row": loss 0 and no gradient (multi-task batches use it).
// Forward writes one loss per row; the caller reduces (mean over labelled rows, weighted as PyTorch).
#pragma once
#include <cstdint>

#define FACET_SOFTMAX_CE_API                                                                           \
  void softmax_forward(float* probs /* (B,C) */, const float* logits /* (B,C) */, int B, int C);        \
  void softmax_cross_entropy_forward(float* losses /* (B) */, float* probs /* (B,C) saved */,          \
                                     const float* logits /* (B,C) */, const int32_t* targets /* (B) */, \
                                     const float* class_weights /* (C) or null */, int B, int C,        \
                                     float label_smoothing);                                             \
  void softmax_cross_entropy_backward(float* dlogits /* (B,C) */, const float* dlosses /* (B) */,      \
                                      const float* probs, const int32_t* targets,                       \
                                      const float* class_weights, int B, int C, float label_smoothing);

namespace facet {
namespace cpu { FACET_SOFTMAX_CE_API }
namespace cuda { FACET_SOFTMAX_CE_API }
}  // namespace facet
#undef FACET_SOFTMAX_CE_API
