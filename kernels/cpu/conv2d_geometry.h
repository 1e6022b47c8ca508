// The shape arithmetic shared by conv2d's two CPU paths (internal to kernels/cpu): the batch-parallel
// kernels/cpu/conv2d.cpp and the threads-inside-each-GEMM kernels/cpu/conv2d_im2col.cpp.
#pragma once
#include <algorithm>
#include <cstdint>

#include "kernels/dims.h"

namespace facet::cpu::conv_detail {

// Sizes derived from Conv2dDims once: output plane P x Q, its PQ pixels, the input plane HW, and CRS = C*R*S,
// the rows of the im2col matrix (one per weight of an output channel).
struct Geometry {
  int P, Q;
  int64_t PQ, HW, CRS;
  explicit Geometry(const Conv2dDims& d)
      : P(d.P()), Q(d.Q()), PQ(int64_t(d.P()) * d.Q()), HW(int64_t(d.H) * d.W), CRS(int64_t(d.C) * d.R * d.S) {}
};

// Images per chunk G: enough that a chunk's GEMM has >= target_cols columns (G * PQ), no more than fit
// col_budget floats of im2col matrix (CRS x G*PQ), and within [1, N]. G depends on the shapes only, never on
// the thread count, so results do not either.
inline int chunk_images(const Conv2dDims& d, const Geometry& g, int64_t target_cols, int64_t col_budget) {
  int64_t G = (target_cols + g.PQ - 1) / g.PQ;
  G = std::min(G, std::max<int64_t>(1, col_budget / std::max<int64_t>(1, g.CRS * g.PQ)));
  return int(std::clamp<int64_t>(G, 1, d.N));
}

// A 1x1, stride-1, unpadded convolution: each image (C, H*W) is already its own im2col matrix.
inline bool is_pointwise(const Conv2dDims& d) { return d.R == 1 && d.S == 1 && d.stride == 1 && d.pad == 0; }

}  // namespace facet::cpu::conv_detail
