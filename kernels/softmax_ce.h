// Softmax + cross-entropy, fused and numerically stable (subtract the row max before exp).
//   p_c   = exp(z_c - max z) / sum_j exp(z_j - max z)
//   loss  = (1-eps) * w_y * (-log p_y) + (eps/C) * sum_c w_c * (-log p_c)
//           (label smoothing eps, w = class weights, 1 when null; PyTorch's cross_entropy(weight, label_smoothing):
//           each class's smoothing term carries its own weight w_c, not the target's w_y. Unweighted, this is
//           sum_c q_c * (-log p_c) with q_c = (1-eps)*[c == y] + eps/C.)
//   dz_c += dloss * (a * p_c - (1-eps) * w_y * [c == y] - (eps/C) * w_c),   a = (1-eps) * w_y + (eps/C) * sum_j w_j
//           (d(-log p_j)/dz_c = p_c - [c == j]; unweighted, a = 1 and this is p_c - q_c)
// A target of -1 means "no label for this row": loss 0 and no gradient (multi-task batches use it).
// Forward writes one loss per row; the caller reduces (mean over labelled rows: the sum divided by
// sum_rows w_y, as PyTorch's reduction='mean' with weights, smoothing term included).
#pragma once
#include <cstdint>

namespace facet {
// The definition in plain loops (kernels/naive/softmax_ce.cpp): read these first.
namespace naive {
void softmax_forward(float* probs /* (B,C) */, const float* logits /* (B,C) */, int B, int C);
void softmax_cross_entropy_forward(float* losses /* (B) */, float* probs /* (B,C) saved */,
                                   const float* logits /* (B,C) */, const int32_t* targets /* (B) */,
                                   const float* class_weights /* (C) or null */, int B, int C,
                                   float label_smoothing);
void softmax_cross_entropy_backward(float* dlogits /* (B,C) */, const float* dlosses /* (B) */,
                                    const float* probs, const int32_t* targets,
                                    const float* class_weights, int B, int C, float label_smoothing);
}  // namespace naive

// The same functions, fast: kernels/cpu/ (threads, blocking) and kernels/cuda/softmax_ce.cu (the GPU).
namespace cpu {
decltype(naive::softmax_forward) softmax_forward;
decltype(naive::softmax_cross_entropy_forward) softmax_cross_entropy_forward;
decltype(naive::softmax_cross_entropy_backward) softmax_cross_entropy_backward;
}  // namespace cpu
namespace cuda {
decltype(naive::softmax_forward) softmax_forward;
decltype(naive::softmax_cross_entropy_forward) softmax_cross_entropy_forward;
decltype(naive::softmax_cross_entropy_backward) softmax_cross_entropy_backward;
}  // namespace cuda
}  // namespace facet
