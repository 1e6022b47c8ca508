// Fast SGEMM, row-major:  C = alpha * op(A) * op(B) + beta * C   (cblas semantics, see kernels/gemm.h).
//
// BLIS-style blocking (Goto's algorithm). Loops, outside in:
//   jc: N in blocks of nc     (the kc x nc packed B block stays in L2)
//   pc: K in blocks of kc     (C is updated once per kc slice; beta applies on the first slice only)
//   ic: M in blocks of mc     (the mc x kc packed A block stays in L2)
//   jr/ir: nr/mr panels       (one micro-kernel call per mr x nr tile of C; the B panel is reused from L1)
// Packing copies each operand slice once into the interleaved panel layout the micro-kernel streams
// (gemm_microkernel.h), folding in transposes, alpha (into A) and zero padding of edge panels.
//
// Threads (OpenMP), without a barrier inside the product so a core taken by another process costs its share
// of the time and no more (docs/performance.md, "Moved out of kernel comments"):
//   blocks of C (the usual case): C is cut into >= 2 x threads rectangles of whole register tiles; threads
//            take them dynamically and run the loops above on each with their own packed A and B. A row of
//            blocks re-packs its A slice once per block: ~2-3% extra work at 1024^3, nothing for conv shapes
//            whose A (the weights) is small.
//   K-split  (small C, long reduction, e.g. conv weight gradients M=32, N=288, K=B*P*Q): each thread reduces
//            its own K range into a private C; one barrier, then the partial C's are summed.
// Each element of C is computed by one thread with the same kc slicing whatever the thread count, so results
// are bitwise independent of the thread count except in K-split.
// Called from inside a parallel region (e.g. one GEMM per image), it runs on the calling thread only.
#include <omp.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string_view>
#include <vector>

#include "kernels/cpu/gemm_microkernel.h"
#include "kernels/gemm.h"

namespace facet::cpu {
namespace gemm_detail {
namespace {

struct Problem {
  bool tA, tB;
  int M, N, K;
  float alpha;
  const float* A;
  int lda;
  const float* B;
  int ldb;
  float beta;
  float* C;
  int ldc;
  const BPacker* bpack = nullptr;  // op(B) from a packing function (B, ldb and tB unused)
  int k_base = 0;                  // depth offset of this problem in the packer's op(B) (K-split parts)
};

int ceil_div(int a, int b) { return (a + b - 1) / b; }
int round_up(int a, int b) { return ceil_div(a, b) * b; }

// 64-byte aligned float buffer that only grows; one per thread (thread_local) so repeated GEMMs reuse it.
class Scratch {
 public:
  float* get(size_t n) {
    if (n > size_) {
      release();
      data_ = static_cast<float*>(::operator new(n * sizeof(float), std::align_val_t(64)));
      size_ = n;
    }
    return data_;
  }
  ~Scratch() { release(); }

 private:
  void release() {
    if (data_) ::operator delete(data_, std::align_val_t(64));
    data_ = nullptr;
    size_ = 0;
  }
  float* data_ = nullptr;
  size_t size_ = 0;
};
thread_local Scratch tls_a, tls_b, tls_c;

// Even block sizes: K=576 with kc=256 becomes three blocks of 192, not 256+256+64.
int even_block(int total, int max_block, int multiple) {
  const int blocks = ceil_div(total, max_block);
  return round_up(ceil_div(total, blocks), multiple);
}

// Packs A panels [q0, q1) of the block rows [ic, ic+mc) x depth [pc, pc+kc) into Ap (panel q at q*mr*kc).
void pack_a(const GemmKernel& g, const Problem& p, float* Ap, int ic, int mc, int pc, int kc, int q0, int q1) {
  if (q1 <= q0) return;
  const int i = ic + q0 * g.mr;
  const int rows = std::min(q1 * g.mr, mc) - q0 * g.mr;
  float* dst = Ap + static_cast<long>(q0) * g.mr * kc;
  if (p.tA)  // op(A)(i,k) = A[k*lda + i]: each k gives contiguous values
    g.pack_contiguous(dst, p.A + static_cast<long>(pc) * p.lda + i, p.lda, rows, kc, g.mr, p.alpha);
  else  // op(A)(i,k) = A[i*lda + k]: a transpose into k-major panels
    g.pack_strided(dst, p.A + static_cast<long>(i) * p.lda + pc, p.lda, rows, kc, g.mr, p.alpha);
}

// Packs B panels [q0, q1) of columns [jc, jc+nc) x depth [pc, pc+kc) into Bp (panel q at q*nr*kc).
void pack_b(const GemmKernel& g, const Problem& p, float* Bp, int jc, int nc, int pc, int kc, int q0, int q1) {
  if (q1 <= q0) return;
  const int j = jc + q0 * g.nr;
  const int cols = std::min(q1 * g.nr, nc) - q0 * g.nr;
  float* dst = Bp + static_cast<long>(q0) * g.nr * kc;
  if (p.bpack)
    p.bpack->pack(p.bpack->ctx, dst, p.k_base + pc, kc, j, cols, g.nr);
  else if (p.tB)  // op(B)(k,j) = B[j*ldb + k]
    g.pack_strided(dst, p.B + static_cast<long>(j) * p.ldb + pc, p.ldb, cols, kc, g.nr, 1.0f);
  else  // op(B)(k,j) = B[k*ldb + j]
    g.pack_contiguous(dst, p.B + static_cast<long>(pc) * p.ldb + j, p.ldb, cols, kc, g.nr, 1.0f);
}

// Tiles [ir0, ir1) x [jr0, jr1) of the C block at (ic, jc), from packed Ap (block-relative panels) and Bp.
// Usually a B panel is reused from L1 across the A panels (jr outer). With a short reduction (kc <= 64, e.g.
// conv data gradients with K = 32 output channels) the tile stores dominate instead, so the loops swap and C
// is written along its rows, which the prefetchers and the TLB handle far better than 8-row column strips.
void compute(const GemmKernel& g, const Problem& p, const float* Ap, const float* Bp, int ic, int mc, int jc,
             int nc, int kc, float beta, int ir0, int ir1, int jr0, int jr1) {
  auto tile = [&](int ir, int jr) {
    const int i = ic + ir * g.mr, j = jc + jr * g.nr;
    g.micro(kc, Ap + static_cast<long>(ir) * g.mr * kc, Bp + static_cast<long>(jr) * g.nr * kc,
            p.C + static_cast<long>(i) * p.ldc + j, p.ldc, std::min(g.mr, ic + mc - i), std::min(g.nr, jc + nc - j),
            beta);
  };
  if (kc <= 64) {
    for (int ir = ir0; ir < ir1; ++ir)
      for (int jr = jr0; jr < jr1; ++jr) tile(ir, jr);
  } else {
    for (int jr = jr0; jr < jr1; ++jr)
      for (int ir = ir0; ir < ir1; ++ir) tile(ir, jr);
  }
}

// C rows [i0, i1) x columns [j0, j1) on the calling thread (both ranges start on a tile boundary).
void run_block(const GemmKernel& g, const Problem& p, int i0, int i1, int j0, int j1) {
  const int kc_max = even_block(p.K, g.kc, 1);
  const int mc_max = even_block(i1 - i0, g.mc, g.mr);
  const int nc_max = even_block(j1 - j0, g.nc, g.nr);
  float* Ap = tls_a.get(static_cast<size_t>(mc_max) * kc_max);
  float* Bp = tls_b.get(static_cast<size_t>(nc_max) * kc_max);
  for (int jc = j0; jc < j1; jc += nc_max) {
    const int nc = std::min(nc_max, j1 - jc);
    const int bpanels = ceil_div(nc, g.nr);
    for (int pc = 0; pc < p.K; pc += kc_max) {
      const int kc = std::min(kc_max, p.K - pc);
      const float beta = pc == 0 ? p.beta : 1.0f;
      pack_b(g, p, Bp, jc, nc, pc, kc, 0, bpanels);
      for (int ic = i0; ic < i1; ic += mc_max) {
        const int mc = std::min(mc_max, i1 - ic);
        const int apanels = ceil_div(mc, g.mr);
        pack_a(g, p, Ap, ic, mc, pc, kc, 0, apanels);
        compute(g, p, Ap, Bp, ic, mc, jc, nc, kc, beta, 0, apanels, 0, bpanels);
      }
    }
  }
}

void scale_c(const Problem& p) {
  for (int i = 0; i < p.M; ++i) {
    float* c = p.C + static_cast<long>(i) * p.ldc;
    if (p.beta == 0.0f)
      std::memset(c, 0, sizeof(float) * p.N);
    else if (p.beta != 1.0f)
      for (int j = 0; j < p.N; ++j) c[j] *= p.beta;
  }
}

void run_serial(const GemmKernel& g, const Problem& p) { run_block(g, p, 0, p.M, 0, p.N); }

// Splits C into at least `want` blocks of whole tiles (fewer if C has fewer tiles), as square as the
// cache blocks allow, and lets `nt` threads take them dynamically.
void run_blocks(const GemmKernel& g, const Problem& p, int nt, int want) {
  const int tiles_m = ceil_div(p.M, g.mr), tiles_n = ceil_div(p.N, g.nr);
  int mi = ceil_div(p.M, g.mc), ni = ceil_div(p.N, g.nc);
  while (mi * ni < want) {
    const bool can_n = ni < tiles_n, can_m = mi < tiles_m;
    if (can_n && (!can_m || tiles_n * mi >= tiles_m * ni)) ++ni;
    else if (can_m) ++mi;
    else break;
  }
  const int blocks = mi * ni;
#pragma omp parallel for schedule(dynamic, 1) num_threads(nt)
  for (int b = 0; b < blocks; ++b) {
    const int bi = b / ni, bj = b % ni;
    const int i0 = std::min(p.M, static_cast<int>(static_cast<long>(tiles_m) * bi / mi) * g.mr);
    const int i1 = std::min(p.M, static_cast<int>(static_cast<long>(tiles_m) * (bi + 1) / mi) * g.mr);
    const int j0 = std::min(p.N, static_cast<int>(static_cast<long>(tiles_n) * bj / ni) * g.nr);
    const int j1 = std::min(p.N, static_cast<int>(static_cast<long>(tiles_n) * (bj + 1) / ni) * g.nr);
    if (i1 > i0 && j1 > j0) run_block(g, p, i0, i1, j0, j1);
  }
}

// K-split: thread t reduces depth range t into C (t == 0, with the caller's beta) or a private M x N buffer
// (beta 0); then all threads add the private buffers into C, split by rows.
void run_ksplit(const GemmKernel& g, const Problem& p, int nt) {
  std::vector<float*> partial(nt, nullptr);
#pragma omp parallel num_threads(nt)
  {
    const int t = omp_get_thread_num();
    const int k0 = static_cast<int>(static_cast<long>(p.K) * t / nt);
    const int k1 = static_cast<int>(static_cast<long>(p.K) * (t + 1) / nt);
    Problem q = p;
    q.K = k1 - k0;
    q.A = p.tA ? p.A + static_cast<long>(k0) * p.lda : p.A + k0;
    q.B = p.bpack ? nullptr : p.tB ? p.B + k0 : p.B + static_cast<long>(k0) * p.ldb;
    q.k_base = p.k_base + k0;
    if (t > 0) {
      partial[t] = tls_c.get(static_cast<size_t>(p.M) * p.N);
      q.C = partial[t];
      q.ldc = p.N;
      q.beta = 0.0f;
    }
    if (q.K > 0)
      run_serial(g, q);
    else
      scale_c(q);
#pragma omp barrier
    const int r0 = static_cast<int>(static_cast<long>(p.M) * t / nt);
    const int r1 = static_cast<int>(static_cast<long>(p.M) * (t + 1) / nt);
    for (int s = 1; s < nt; ++s)
      for (int i = r0; i < r1; ++i) {
        float* c = p.C + static_cast<long>(i) * p.ldc;
        const float* src = partial[s] + static_cast<long>(i) * p.N;
        for (int j = 0; j < p.N; ++j) c[j] += src[j];
      }
  }
}

void run(const GemmKernel& g, const Problem& p) {
  if (p.M <= 0 || p.N <= 0) return;
  if (p.K <= 0 || p.alpha == 0.0f) {
    scale_c(p);
    return;
  }
  int nt = omp_in_parallel() ? 1 : omp_get_max_threads();
  const double flops = 2.0 * p.M * p.N * p.K;
  // Below ~2 MFLOP (about 10 us on one core) waking a second thread costs more than it saves.
  if (flops < 2e6) nt = 1;
  if (nt == 1) {
    run_serial(g, p);
    return;
  }
  // Small C, long reduction: K-split (re-packing the long A and B once per block of C would cost more).
  const long cn = static_cast<long>(p.M) * p.N;
  if (cn <= 65536 && p.K >= 4 * std::max(p.M, p.N) && p.K >= 2 * nt * g.kc) {
    run_ksplit(g, p, nt);
    return;
  }
  run_blocks(g, p, nt, 2 * nt);
}

}  // namespace

void sgemm_with(const GemmKernel& g, bool transA, bool transB, int M, int N, int K, float alpha, const float* A,
                int lda, const float* B, int ldb, float beta, float* C, int ldc) {
  run(g, Problem{transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc});
}

void sgemm_packed_b(const GemmKernel& g, bool transA, int M, int N, int K, float alpha, const float* A, int lda,
                    const BPacker& b, float beta, float* C, int ldc) {
  Problem p{transA, false, M, N, K, alpha, A, lda, nullptr, 0, beta, C, ldc};
  p.bpack = &b;
  run(g, p);
}

const GemmKernel& active_kernel() {
  static const GemmKernel& chosen = [] () -> const GemmKernel& {
    const char* force = std::getenv("FACET_SGEMM_KERNEL");
    if (force && std::string_view(force) == "portable") return portable_kernel();
    if (const GemmKernel* k = avx512_kernel()) return *k;
    return portable_kernel();
  }();
  return chosen;
}

}  // namespace gemm_detail

void sgemm(bool transA, bool transB, int M, int N, int K, float alpha, const float* A, int lda, const float* B,
           int ldb, float beta, float* C, int ldc) {
  gemm_detail::sgemm_with(gemm_detail::active_kernel(), transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C,
                          ldc);
}

}  // namespace facet::cpu
