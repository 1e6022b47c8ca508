// im2col fused into the SGEMM's B packing (used by kernels/cpu/conv2d.cpp). The unrolled matrix
//   col[(c*R + r)*S + s, j*L + (p-p0)*Q + q] = in[n0+j, c, p-pad+r, q-pad+s]   (0 where that is padding)
// of images [n0, n0+G) and output rows [p0, p1) (L = (p1-p0)*Q columns per image) is never stored: the packers
// below write its B panels (kernels/cpu/gemm_microkernel.h) straight from the input, so the GEMM reads each
// input value from L1/L2 once per panel instead of im2col writing col and the packing reading it back.
//   forward          Y  (K, G*L) = W  (K, CRS) * col   -> op(B) = col    (rows crs, columns pixels)
//   weight gradient  dW (K, CRS) = dY (K, G*L) * col^T -> op(B) = col^T  (rows pixels, columns crs)
// Stride 1 only (every convolution of the BaseCNN); AVX-512 only (masked loads make the padding edges free).
// Elsewhere available() is false and conv2d.cpp unrolls col into memory as before.
#pragma once

#include "kernels/cpu/gemm_microkernel.h"

namespace facet::cpu::conv_pack {

struct Im2colView {
  const float* in;  // (N, C, H, W)
  int C, H, W, R, S, pad, Q;
  int n0, p0, L;    // first image, first output row, columns per image
};

// True when this CPU has AVX-512 (the packers' only implementation).
bool available();
// gemm_detail::BPacker::pack for op(B) = col and for op(B) = col^T; ctx is a const Im2colView*.
void pack_col(const void* ctx, float* dst, int k0, int kc, int j0, int cols, int nr);
void pack_col_transposed(const void* ctx, float* dst, int k0, int kc, int j0, int cols, int nr);

}  // namespace facet::cpu::conv_pack

namespace facet::cpu {
// Where conv2d unrolls im2col, and so which products its weight gradient uses:
//   memory     im2col into a col buffer, the blocked sgemm packs it (the plain kernel);
//   packed     im2col straight into the sgemm's packing, forward and weight gradient;
//   automatic  (the default) packed for the forward; for the weight gradient packed on planes at most 8 wide,
//              else col in memory and the unpacked dot-product sgemm_nt (kernels/cpu/conv2d.cpp says why).
// FACET_CONV_IM2COL=memory|packed|automatic at start-up, or the setter (tests, bench), overrides it. memory and
// packed add the same products in the same order (bitwise equal results); automatic's forward and input
// gradient are bitwise equal to theirs, its sgemm_nt weight gradients equal to rounding.
enum class ConvIm2col { memory, automatic, packed };
void set_conv_im2col(ConvIm2col mode);
ConvIm2col conv_im2col();
}  // namespace facet::cpu
