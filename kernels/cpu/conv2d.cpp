// 2-D convolution (cross-correlation) as im2col + SGEMM, parallel over chunks of images (math in
// kernels/conv2d.h). With CRS = C*R*S and a chunk of G images unrolled into col (CRS, G*PQ):
//   forward   Y (K, G*PQ)       = W (K, CRS) * col (CRS, G*PQ)            -> out, + bias
//   backward  dW (K, CRS)      += dY (K, G*PQ) * col^T (G*PQ, CRS)
//             dcol (CRS, G*PQ)  = W^T (CRS, K) * dY (K, G*PQ)              -> col2im adds it into din
// Why chunks of images and not threads inside each GEMM: a per-image GEMM at batch 64 is small (conv2 at 64x64:
// 32 x 1024 x 288), so splitting it across cores costs two fork/joins and barriers per image and leaves im2col
// and col2im serial in between. Each thread instead takes whole chunks, unrolls them into its own col buffer
// (which stays in its L2), runs the GEMMs on one core and writes its own images' outputs: no barriers, and
// the memory-bound im2col/col2im run on both cores. G is 1 for large images; late layers with few pixels
// (PQ = 4 at conv6) group images so each GEMM has >= kChunkCols columns for the 48-wide micro-kernel.
// Weight gradients are accumulated per slot (chunk c goes to slot c % S, slots in chunk order, S fixed by
// the shape) and the slots are summed in order, so dW does not depend on the thread count (S < 5 threads).
// With fewer chunks than threads (batch-1 inference, or one chunk of tiny images) the small-batch path
// runs instead: one GEMM per chunk with the threads inside it (kernels/cpu/conv2d_im2col.cpp).
#include <omp.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "kernels/conv2d.h"
#include "kernels/cpu/batchnorm_stats.h"
#include "kernels/cpu/conv2d_pack.h"
#include "kernels/cpu/conv2d_geometry.h"
#include "kernels/cpu/conv2d_im2col.h"
#include "kernels/cpu/gemm_microkernel.h"
#include "kernels/gemm.h"

namespace facet::cpu {
namespace {

constexpr int64_t kChunkCols = 512;  // GEMM columns per chunk: >= 10 tiles of the 48-wide micro-kernel
constexpr int kSlots = 4;            // weight-gradient partial sums (a function of the shape only)
constexpr int64_t kBlockFloats = int64_t(128) << 10;  // col block of one thread: 512 KiB

using conv_detail::Geometry;
using conv_detail::is_pointwise;

int chunk_images(const Conv2dDims& d, const Geometry& g) {
  return conv_detail::chunk_images(d, g, kChunkCols, INT64_MAX);  // no budget: chunks are kChunkCols wide
}

std::atomic<ConvIm2col> g_im2col{[] {
  const char* e = std::getenv("FACET_CONV_IM2COL");
  const std::string_view v = e ? e : "";
  return v == "memory" ? ConvIm2col::memory : v == "packed" ? ConvIm2col::packed : ConvIm2col::automatic;
}()};

// The kernel whose packing im2col is fused into, or null for im2col into memory: fused needs the packers
// (AVX-512), stride 1, a kernel whose panels they can write, and a mode other than memory.
const gemm_detail::GemmKernel* fused_kernel(const Conv2dDims& d) {
  if (g_im2col.load(std::memory_order_relaxed) == ConvIm2col::memory) return nullptr;
  if (d.stride != 1 || !conv_pack::available()) return nullptr;
  const gemm_detail::GemmKernel& k = gemm_detail::active_kernel();
  return k.nr % 16 == 0 && k.nr <= 64 ? &k : nullptr;
}

// How `automatic` computes the weight gradient dW = dY col^T, whose reduction (the pixels) is the contiguous
// dimension of both operands. On planes at most kPackedWeightGradMaxQ wide: im2col into the packing (packed
// col^T; its per-run loads are few when a run is a whole short row). On wider ones: col in memory and
// sgemm_nt's dot products, which need no packing at all, where the blocked sgemm would transpose both dY and
// col into panels (and waste 21 of the 48-wide tile on layer 1's C*R*S = 27). Chosen from the bench's
// conv rows: docs/performance.md, "Third round", the `automatic` im2col mode.
constexpr int kPackedWeightGradMaxQ = 8;

conv_pack::Im2colView im2col_view(const float* in, const Conv2dDims& d, int Q, int n0, int p0, int p1) {
  return conv_pack::Im2colView{in, d.C, d.H, d.W, d.R, d.S, d.pad, Q, n0, p0, (p1 - p0) * Q};
}

// Per-thread scratch that only grows: repeated calls (every training step) reuse it without page faults.
float* scratch(std::vector<float>& v, int64_t n) {
  if (int64_t(v.size()) < n) v.resize(size_t(n));
  return v.data();
}
thread_local std::vector<float> tl_col, tl_dcol, tl_y, tl_partial;

// Output columns q whose input column w = q*stride - pad + s lies inside [0, W): q in [lo, hi).
void valid_q(const Conv2dDims& d, int Q, int s, int* lo, int* hi) {
  const int off = s - d.pad;  // w = q*stride + off
  int a = off >= 0 ? 0 : (-off + d.stride - 1) / d.stride;
  int b = d.W - off <= 0 ? 0 : (d.W - off + d.stride - 1) / d.stride;  // first q with w >= W
  *lo = std::min(a, Q);
  *hi = std::clamp(b, *lo, Q);
}

// Output rows [p0, p1) of images [n0, n0+G), L = (p1-p0)*Q columns per image:
// col[(c*R + r)*S + s, j*L + (p-p0)*Q + q] = in[n0+j, c, p*st-pad+r, q*st-pad+s]   (0 where that is padding)
// One thread, one block: each output row segment is a zero edge, a copy (strided for stride > 1), a zero edge.
void im2col_block(float* col /* (CRS, G*L) */, const float* in /* (N,C,H,W) */, const Conv2dDims& d,
                  const Geometry& g, int n0, int G, int p0, int p1) {
  const int64_t L = int64_t(p1 - p0) * g.Q, ld = G * L;
  for (int s = 0; s < d.S; ++s) {
    int lo, hi;
    valid_q(d, g.Q, s, &lo, &hi);
    const int w0 = lo * d.stride - d.pad + s;
    for (int j = 0; j < G; ++j)
      for (int c = 0; c < d.C; ++c) {
        const float* x = in + (int64_t(n0 + j) * d.C + c) * g.HW;  // (H,W)
        for (int r = 0; r < d.R; ++r) {
          float* dst = col + ((int64_t(c) * d.R + r) * d.S + s) * ld + j * L;  // (p1-p0, Q)
          for (int p = p0; p < p1; ++p) {
            const int h = p * d.stride - d.pad + r;
            float* drow = dst + int64_t(p - p0) * g.Q;
            if (h < 0 || h >= d.H) {
              std::fill(drow, drow + g.Q, 0.0f);
              continue;
            }
            std::fill(drow, drow + lo, 0.0f);
            if (hi > lo) {
              const float* xrow = x + int64_t(h) * d.W + w0;
              if (d.stride == 1)
                std::copy(xrow, xrow + (hi - lo), drow + lo);
              else
                for (int q = lo; q < hi; ++q) drow[q] = xrow[int64_t(q - lo) * d.stride];
            }
            std::fill(drow + hi, drow + g.Q, 0.0f);
          }
        }
      }
  }
}

// dst[i] += src[i]; restrict lets the compiler vectorize it (it would not prove the rows disjoint itself).
inline void add_into(float* __restrict dst, const float* __restrict src, int n) {
  for (int i = 0; i < n; ++i) dst[i] += src[i];
}

// sum of dy[0..n) in double, as 8 interleaved partial sums combined in a fixed order: vectorizes, and the
// result depends only on n (never on threads).
inline double sum_double(const float* dy, int64_t n) {
  double acc[8] = {};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int l = 0; l < 8; ++l) acc[l] += double(dy[i + l]);
  for (; i < n; ++i) acc[i % 8] += double(dy[i]);
  return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}

// The adjoint of im2col_block: din[n0+j, c, p*st-pad+r, q*st-pad+s] += dcol[(c*R + r)*S + s, j*L + (p-p0)*Q + q].
// One thread, one block, (r, s, p, q) in a fixed order: deterministic.
void col2im_add_block(float* din /* (N,C,H,W) */, const float* dcol /* (CRS, G*L) */, const Conv2dDims& d,
                      const Geometry& g, int n0, int G, int p0, int p1) {
  const int64_t L = int64_t(p1 - p0) * g.Q, ld = G * L;
  for (int j = 0; j < G; ++j)
    for (int c = 0; c < d.C; ++c) {
      float* x = din + (int64_t(n0 + j) * d.C + c) * g.HW;  // (H,W)
      for (int r = 0; r < d.R; ++r)
        for (int s = 0; s < d.S; ++s) {
          int lo, hi;
          valid_q(d, g.Q, s, &lo, &hi);
          const int w0 = lo * d.stride - d.pad + s;
          const float* src = dcol + ((int64_t(c) * d.R + r) * d.S + s) * ld + j * L;  // (p1-p0, Q)
          for (int p = p0; p < p1; ++p) {
            const int h = p * d.stride - d.pad + r;
            if (h < 0 || h >= d.H || hi <= lo) continue;
            float* xrow = x + int64_t(h) * d.W + w0;
            const float* srow = src + int64_t(p - p0) * g.Q;
            if (d.stride == 1)
              add_into(xrow, srow + lo, hi - lo);
            else
              for (int q = lo; q < hi; ++q) xrow[int64_t(q - lo) * d.stride] += srow[q];
          }
        }
    }
}

int threads_here() { return omp_in_parallel() ? 1 : omp_get_max_threads(); }

// Output rows per block when a chunk is one image: the block's col (CRS x rows*Q) stays within kBlockFloats so
// it and its GEMM panels live in the 2 MiB L2 (conv2 at 128x128: 7 of 64 rows; a whole image would be 4.7 MB).
int block_rows(const Geometry& g, int G) {
  if (G > 1) return g.P;
  return int(std::clamp<int64_t>(kBlockFloats / std::max<int64_t>(1, g.CRS * g.Q), 1, g.P));
}

// Per (chunk, channel) shifted moments of the output, gathered in the epilogue (conv2d_forward_bn_stats):
// shift = the chunk's first output value of the channel, s1 = sum (y - shift), s2 = sum (y - shift)^2.
struct Moments {
  double shift = 0, s1 = 0, s2 = 0;
};

// The forward pass; with `moments` (chunks x K) the epilogue also sums each block of the output while it is
// in cache. Returns false (nothing computed) when the batch-parallel path does not apply (fewer chunks than
// threads): the caller then runs the small-batch path (conv2d_im2col.cpp).
bool forward_chunks(float* out, const float* in, const float* weight, const float* bias, const Conv2dDims& d,
                    const Geometry& g, std::vector<Moments>* moments) {
  const int G = chunk_images(d, g), chunks = (d.N + G - 1) / G, nt = threads_here();
  if (chunks < nt) return false;
  const int K = d.K, CRS = int(g.CRS), rows = block_rows(g, G);
  const bool pointwise = is_pointwise(d);
  const gemm_detail::GemmKernel* fused = fused_kernel(d);
  if (moments) moments->assign(size_t(chunks) * K, Moments{});
#pragma omp parallel for schedule(static) num_threads(nt) if (nt > 1)
  for (int ci = 0; ci < chunks; ++ci) {
    const int n0 = ci * G, cnt = std::min(G, d.N - n0);
    float* o = out + int64_t(n0) * K * g.PQ;  // (cnt, K, PQ)
    Moments* mom = moments ? moments->data() + int64_t(ci) * K : nullptr;  // (K) of this chunk
    if (cnt == 1) {  // one image, in blocks of output rows; the GEMM writes straight into out (ldc = PQ)
      for (int p0 = 0; p0 < g.P; p0 += rows) {
        const int p1 = std::min(g.P, p0 + rows), cols = (p1 - p0) * g.Q;
        float* ob = o + int64_t(p0) * g.Q;
        if (pointwise) {  // the image is its own col
          sgemm(false, false, K, cols, CRS, 1.0f, weight, CRS, in + int64_t(n0) * d.C * g.HW + int64_t(p0) * g.Q,
                int(g.PQ), 0.0f, ob, int(g.PQ));
        } else if (fused) {
          const conv_pack::Im2colView v = im2col_view(in, d, g.Q, n0, p0, p1);
          gemm_detail::sgemm_packed_b(*fused, false, K, cols, CRS, 1.0f, weight, CRS, {conv_pack::pack_col, &v},
                                      0.0f, ob, int(g.PQ));
        } else {
          float* col = scratch(tl_col, g.CRS * cols);  // (CRS, cols)
          im2col_block(col, in, d, g, n0, 1, p0, p1);
          sgemm(false, false, K, cols, CRS, 1.0f, weight, CRS, col, cols, 0.0f, ob, int(g.PQ));
        }
        for (int k = 0; k < K; ++k) {
          float* yk = ob + int64_t(k) * g.PQ;  // (cols), in L2 since the GEMM just wrote it
          if (bias)
            for (int i = 0; i < cols; ++i) yk[i] += bias[k];
          if (mom) {
            if (p0 == 0) mom[k].shift = double(yk[0]);
            detail::add_moments(yk, cols, mom[k].shift, mom[k].s1, mom[k].s2);
          }
        }
      }
      continue;
    }
    const int cols = int(cnt * g.PQ);
    float* y = scratch(tl_y, int64_t(K) * cols);  // (K, cnt*PQ)
    if (fused) {
      const conv_pack::Im2colView v = im2col_view(in, d, g.Q, n0, 0, g.P);
      gemm_detail::sgemm_packed_b(*fused, false, K, cols, CRS, 1.0f, weight, CRS, {conv_pack::pack_col, &v}, 0.0f,
                                  y, cols);
    } else {
      float* col = scratch(tl_col, g.CRS * cols);  // (CRS, cnt*PQ); several images are never their own col
      im2col_block(col, in, d, g, n0, cnt, 0, g.P);
      sgemm(false, false, K, cols, CRS, 1.0f, weight, CRS, col, cols, 0.0f, y, cols);
    }
    for (int k = 0; k < K; ++k) {
      float* yk = y + int64_t(k) * cols;  // (cnt*PQ): channel k of the chunk's images, in order
      const float b = bias ? bias[k] : 0.0f;
      for (int i = 0; i < cols; ++i) yk[i] += b;
      if (mom) {
        mom[k].shift = double(yk[0]);
        detail::add_moments(yk, cols, mom[k].shift, mom[k].s1, mom[k].s2);
      }
      for (int j = 0; j < cnt; ++j) std::copy_n(yk + j * g.PQ, g.PQ, o + (int64_t(j) * K + k) * g.PQ);
    }
  }
  return true;
}

}  // namespace

// out[n,k,p,q] = bias[k] + sum_{c,r,s} in[n,c,p*st-pad+r,q*st-pad+s] * w[k,c,r,s]
void conv2d_forward(float* out, const float* in, const float* weight, const float* bias, const Conv2dDims& d) {
  const Geometry g(d);
  if (d.N <= 0 || d.K <= 0 || g.P <= 0 || g.Q <= 0) return;
  if (!forward_chunks(out, in, weight, bias, d, g, nullptr)) conv2d_forward_im2col(out, in, weight, bias, d);
}

// The chunks' moments merged in chunk order per channel (Chan et al.: n, mean and M2 = sum (y - mean)^2 of two
// parts combine exactly as  delta = mean_b - mean_a,  mean = mean_a + delta n_b/n,  M2 = M2_a + M2_b +
// delta^2 n_a n_b / n), so the statistics depend on the shape only, never on the thread count. Each chunk's
// own shift keeps its sums free of cancellation when |mean| >> std, as batchnorm2d's single shift does.
void conv2d_forward_bn_stats(float* out, float* mean, float* rstd, float* running_mean, float* running_var,
                             const float* in, const float* weight, const float* bias, float momentum, float eps,
                             const Conv2dDims& d) {
  const Geometry g(d);
  if (d.N <= 0 || d.K <= 0 || g.P <= 0 || g.Q <= 0) return;
  std::vector<Moments> moments;
  if (!forward_chunks(out, in, weight, bias, d, g, &moments)) {  // tiny batch: the output is read again
    conv2d_forward_im2col(out, in, weight, bias, d);
    detail::batchnorm2d_batch_stats(mean, rstd, running_mean, running_var, out, d.N, d.K, int(g.PQ), momentum, eps);
    return;
  }
  const int G = chunk_images(d, g), chunks = (d.N + G - 1) / G;
  for (int k = 0; k < d.K; ++k) {
    double n = 0.0, mu = 0.0, m2 = 0.0;
    for (int ci = 0; ci < chunks; ++ci) {
      const Moments& m = moments[size_t(ci) * d.K + k];
      const double nb = double(std::min(G, d.N - ci * G)) * double(g.PQ);
      const double mean_b = m.shift + m.s1 / nb, m2_b = std::max(m.s2 - m.s1 * m.s1 / nb, 0.0);
      const double total = n + nb, delta = mean_b - mu;
      mu += delta * nb / total;
      m2 += m2_b + delta * delta * n * nb / total;
      n = total;
    }
    detail::batchnorm2d_finish_stats(mean, rstd, running_mean, running_var, mu, m2 / n, int64_t(d.N) * g.PQ,
                                     momentum, eps, k);
  }
}

// a_k = gamma_k / sqrt(running_var_k + eps) in double; weight' = a_k weight, bias' = (bias - mean) a_k + beta.
void conv2d_fold_batchnorm(float* weight_out, float* bias_out, const float* weight, const float* bias,
                           const float* gamma, const float* beta, const float* running_mean,
                           const float* running_var, float eps, int K, int CRS) {
  for (int k = 0; k < K; ++k) {
    const double a = double(gamma ? gamma[k] : 1.0f) / std::sqrt(double(running_var[k]) + double(eps));
    for (int i = 0; i < CRS; ++i) weight_out[int64_t(k) * CRS + i] = float(double(weight[int64_t(k) * CRS + i]) * a);
    bias_out[k] = float((double(bias ? bias[k] : 0.0f) - double(running_mean[k])) * a + double(beta ? beta[k] : 0.0f));
  }
}

namespace {

// dbias[k] += sum_{n,p,q} dout[n,k,p,q]   (double, per image 8 interleaved partial sums)
void bias_grad(float* dbias, const float* dout, const Conv2dDims& d, const Geometry& g) {
#pragma omp parallel for schedule(static) if (int64_t(d.N) * d.K * g.PQ >= (1 << 15))
  for (int k = 0; k < d.K; ++k) {
    double s = 0.0;
    for (int n = 0; n < d.N; ++n) s += sum_double(dout + (int64_t(n) * d.K + k) * g.PQ, g.PQ);
    dbias[k] += float(s);
  }
}

// How the weight gradient dW = dY col^T is computed, chosen once per call (see kPackedWeightGradMaxQ):
// `fused` set: im2col into the GEMM's packing; else `dot`: col in memory and sgemm_nt's dot products (falls back
// to sgemm without AVX-512); else col in memory and the blocked sgemm.
struct WeightGradPlan {
  const gemm_detail::GemmKernel* fused = nullptr;
  bool dot = false;
};

WeightGradPlan weight_grad_plan(const Conv2dDims& d, const Geometry& g) {
  const ConvIm2col mode = g_im2col.load(std::memory_order_relaxed);
  const bool packed = mode == ConvIm2col::packed || (mode == ConvIm2col::automatic && g.Q <= kPackedWeightGradMaxQ);
  WeightGradPlan plan;
  plan.fused = packed ? fused_kernel(d) : nullptr;
  plan.dot = mode == ConvIm2col::automatic && !plan.fused;
  return plan;
}

// One block of backward's work: output rows [p0, p1) of the chunk's images [n0, n0+cnt), whose output gradient
// dY is (K, cols) with leading dimension lddy (dout itself for one image, a gathered copy for several).
struct Block {
  int n0, cnt, p0, p1, cols;
  const float* dY;
  int lddy;
  bool direct;  // one pointwise image: the image is its own col matrix
};

Block gather_block(const float* dout, const Conv2dDims& d, const Geometry& g, int n0, int cnt, int p0, int p1) {
  Block b{n0, cnt, p0, p1, cnt * (p1 - p0) * g.Q, dout + int64_t(n0) * d.K * g.PQ + int64_t(p0) * g.Q, int(g.PQ),
          cnt == 1 && is_pointwise(d)};
  if (cnt > 1) {
    float* dyc = scratch(tl_y, int64_t(d.K) * b.cols);  // (K, cnt*PQ), gathered
    for (int j = 0; j < cnt; ++j)
      for (int k = 0; k < d.K; ++k)
        std::copy_n(dout + (int64_t(n0 + j) * d.K + k) * g.PQ, g.PQ, dyc + int64_t(k) * b.cols + j * g.PQ);
    b.dY = dyc;
    b.lddy = b.cols;
  }
  return b;
}

// dW_partial (K, CRS) = dY * col^T, overwriting on the slot's first block (beta 0), else adding.
void weight_grad_block(float* partial, bool first, const Block& b, const float* in, const Conv2dDims& d,
                       const Geometry& g, const WeightGradPlan& plan) {
  const int K = d.K, CRS = int(g.CRS);
  const float beta = first ? 0.0f : 1.0f;
  if (plan.fused && !b.direct) {
    const conv_pack::Im2colView v = im2col_view(in, d, g.Q, b.n0, b.p0, b.p1);
    gemm_detail::sgemm_packed_b(*plan.fused, false, K, CRS, b.cols, 1.0f, b.dY, b.lddy,
                                {conv_pack::pack_col_transposed, &v}, beta, partial, CRS);
    return;
  }
  const float* X = in + int64_t(b.n0) * d.C * g.HW + int64_t(b.p0) * g.Q;  // (CRS, cols)
  int ldx = int(g.PQ);
  if (!b.direct) {
    float* col = scratch(tl_col, g.CRS * b.cols);
    im2col_block(col, in, d, g, b.n0, b.cnt, b.p0, b.p1);
    X = col;
    ldx = b.cols;
  }
  if (!(plan.dot && gemm_detail::sgemm_nt(K, CRS, b.cols, b.dY, b.lddy, X, ldx, beta, partial, CRS)))
    sgemm(false, true, K, CRS, b.cols, 1.0f, b.dY, b.lddy, X, ldx, beta, partial, CRS);
}

// din += col2im(W^T * dY)   (for a pointwise image straight into din: it is its own col)
void data_grad_block(float* din, const Block& b, const float* weight, const Conv2dDims& d, const Geometry& g) {
  const int K = d.K, CRS = int(g.CRS);
  if (b.direct) {
    sgemm(true, false, CRS, b.cols, K, 1.0f, weight, CRS, b.dY, b.lddy, 1.0f,
          din + int64_t(b.n0) * d.C * g.HW + int64_t(b.p0) * g.Q, int(g.PQ));
    return;
  }
  float* dcol = scratch(tl_dcol, g.CRS * b.cols);  // (CRS, cols)
  sgemm(true, false, CRS, b.cols, K, 1.0f, weight, CRS, b.dY, b.lddy, 0.0f, dcol, b.cols);
  col2im_add_block(din, dcol, d, g, b.n0, b.cnt, b.p0, b.p1);
}

}  // namespace

// dbias  += sum of dout                                     (bias_grad)
// dW     += sum over chunks of dY_chunk * col_chunk^T        (per slot, slots summed in order)
// din    += col2im(W^T * dY_chunk)                           (each chunk's own images)
// Chunk c goes to slot c % slots; a thread owns a slot, so its partial dW needs no atomics, and the slots are
// summed in order at the end: dW does not depend on the thread count.
void conv2d_backward(float* din, float* dweight, float* dbias, const float* dout, const float* in,
                     const float* weight, const Conv2dDims& d) {
  const Geometry g(d);
  if (d.N <= 0 || d.K <= 0 || g.P <= 0 || g.Q <= 0) return;
  if (dbias) bias_grad(dbias, dout, d, g);
  if (!din && !dweight) return;
  const int G = chunk_images(d, g), chunks = (d.N + G - 1) / G, nt = threads_here();
  if (chunks < nt) {
    conv2d_backward_im2col(din, dweight, nullptr, dout, in, weight, d);
    return;
  }
  const int slots = std::min(chunks, std::max(kSlots, nt));
  const int64_t wn = int64_t(d.K) * g.CRS;
  float* partial = dweight ? scratch(tl_partial, slots * wn) : nullptr;  // (slots, K, CRS)
  const WeightGradPlan plan = weight_grad_plan(d, g);
  const int rows = block_rows(g, G);
#pragma omp parallel for schedule(static) num_threads(std::min(nt, slots)) if (nt > 1)
  for (int slot = 0; slot < slots; ++slot) {
    bool first = true;  // the slot's first GEMM overwrites its partial dW
    for (int ci = slot; ci < chunks; ci += slots) {
      const int n0 = ci * G, cnt = std::min(G, d.N - n0);
      // Blocks of output rows (one image) or the whole chunk (several small images, dY gathered).
      for (int p0 = 0; p0 < g.P; p0 += rows) {
        const Block b = gather_block(dout, d, g, n0, cnt, p0, std::min(g.P, p0 + rows));
        if (dweight) weight_grad_block(partial + slot * wn, first, b, in, d, g, plan);
        first = first && !dweight;
        if (din) data_grad_block(din, b, weight, d, g);
      }
    }
  }
  if (!dweight) return;
#pragma omp parallel for schedule(static) if (nt > 1 && wn >= (1 << 14))
  for (int64_t i = 0; i < wn; ++i) {
    float s = 0.0f;
    for (int slot = 0; slot < slots; ++slot) s += partial[slot * wn + i];
    dweight[i] += s;
  }
}

void set_conv_im2col(ConvIm2col mode) { g_im2col.store(mode, std::memory_order_relaxed); }
ConvIm2col conv_im2col() { return g_im2col.load(std::memory_order_relaxed); }

}  // namespace facet::cpu
