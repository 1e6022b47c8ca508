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
// Threads (OpenMP), chosen by the shape so both cores stay busy on conv-shaped products:
//   N-split  (wide C, e.g. conv forward M=32..128, N=H*W): each thread packs and owns a range of B panels;
//            the A block is packed by all threads together and shared (a barrier before and after use).
//   M-split  (tall C with few columns): the mirror image; B shared, A per thread.
//   K-split  (few output tiles but a long reduction, e.g. conv weight gradients M=32, N=27, K=N*P*Q):
//            each thread reduces its own K range into a private C, then the partial C's are summed.
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
  if (p.tB)  // op(B)(k,j) = B[j*ldb + k]
    g.pack_strided(dst, p.B + static_cast<long>(j) * p.ldb + pc, p.ldb, cols, kc, g.nr, 1.0f);
  else  // op(B)(k,j) = B[k*ldb + j]
    g.pack_contiguous(dst, p.B + static_cast<long>(pc) * p.ldb + j, p.ldb, cols, kc, g.nr, 1.0f);
}

// Tiles [ir0, ir1) x [jr0, jr1) of the C block at (ic, jc), from packed Ap (block-relative panels) and Bp.
void compute(const GemmKernel& g, const Problem& p, const float* Ap, const float* Bp, int ic, int mc, int jc,
             int nc, int kc, float beta, int ir0, int ir1, int jr0, int jr1) {
  for (int jr = jr0; jr < jr1; ++jr) {
    const int j = jc + jr * g.nr;
    const int n = std::min(g.nr, jc + nc - j);
    const float* bp = Bp + static_cast<long>(jr) * g.nr * kc;
    for (int ir = ir0; ir < ir1; ++ir) {
      const int i = ic + ir * g.mr;
      g.micro(kc, Ap + static_cast<long>(ir) * g.mr * kc, bp, p.C + static_cast<long>(i) * p.ldc + j, p.ldc,
              std::min(g.mr, ic + mc - i), n, beta);
    }
  }
}

// Thread `tid` of `nt` (all threads call it, in lockstep when nt > 1): B panels split by thread, A shared.
// Ap_shared holds one mc x kc block for all threads.
void run_nsplit(const GemmKernel& g, const Problem& p, float* Ap_shared, int tid, int nt) {
  const int kc_max = even_block(p.K, g.kc, 1);
  const int mc_max = even_block(p.M, g.mc, g.mr);
  const int panels = ceil_div(p.N, g.nr);
  const int my_q0 = static_cast<int>(static_cast<long>(panels) * tid / nt);
  const int my_q1 = static_cast<int>(static_cast<long>(panels) * (tid + 1) / nt);
  const int most = ceil_div(panels, nt);               // the most panels any thread has
  const int chunk = std::max(1, g.nc / g.nr);           // panels per packed B block
  const int rounds = ceil_div(most, chunk);
  float* Bp = tls_b.get(static_cast<size_t>(chunk) * g.nr * kc_max);
  for (int r = 0; r < rounds; ++r) {
    const int q0 = std::min(my_q1, my_q0 + r * chunk), q1 = std::min(my_q1, q0 + chunk);
    const int jc = q0 * g.nr;
    const int nc = std::min(p.N, q1 * g.nr) - jc;  // may be <= 0: this thread only helps pack A this round
    for (int pc = 0; pc < p.K; pc += kc_max) {
      const int kc = std::min(kc_max, p.K - pc);
      const float beta = pc == 0 ? p.beta : 1.0f;
      if (nc > 0) pack_b(g, p, Bp, jc, nc, pc, kc, 0, q1 - q0);
      for (int ic = 0; ic < p.M; ic += mc_max) {
        const int mc = std::min(mc_max, p.M - ic);
        const int apanels = ceil_div(mc, g.mr);
        if (nt > 1) {
          pack_a(g, p, Ap_shared, ic, mc, pc, kc, apanels * tid / nt, apanels * (tid + 1) / nt);
#pragma omp barrier
        } else {
          pack_a(g, p, Ap_shared, ic, mc, pc, kc, 0, apanels);
        }
        if (nc > 0) compute(g, p, Ap_shared, Bp, ic, mc, jc, nc, kc, beta, 0, apanels, 0, q1 - q0);
        if (nt > 1) {
#pragma omp barrier
        }
      }
    }
  }
}

// Thread `tid` of `nt`, all in lockstep: rows (A panels) split by thread, the kc x nc B block shared.
void run_msplit(const GemmKernel& g, const Problem& p, float* Bp_shared, int tid, int nt) {
  const int kc_max = even_block(p.K, g.kc, 1);
  const int nc_max = even_block(p.N, g.nc, g.nr);
  const int panels = ceil_div(p.M, g.mr);
  const int row0 = std::min(p.M, static_cast<int>(static_cast<long>(panels) * tid / nt) * g.mr);
  const int row1 = std::min(p.M, static_cast<int>(static_cast<long>(panels) * (tid + 1) / nt) * g.mr);
  const int mc_max = g.mc;
  float* Ap = tls_a.get(static_cast<size_t>(mc_max) * kc_max);
  for (int jc = 0; jc < p.N; jc += nc_max) {
    const int nc = std::min(nc_max, p.N - jc);
    const int bpanels = ceil_div(nc, g.nr);
    for (int pc = 0; pc < p.K; pc += kc_max) {
      const int kc = std::min(kc_max, p.K - pc);
      const float beta = pc == 0 ? p.beta : 1.0f;
      pack_b(g, p, Bp_shared, jc, nc, pc, kc, bpanels * tid / nt, bpanels * (tid + 1) / nt);
#pragma omp barrier
      for (int ic = row0; ic < row1; ic += mc_max) {
        const int mc = std::min(mc_max, row1 - ic);
        const int apanels = ceil_div(mc, g.mr);
        pack_a(g, p, Ap, ic, mc, pc, kc, 0, apanels);
        compute(g, p, Ap, Bp_shared, ic, mc, jc, nc, kc, beta, 0, apanels, 0, bpanels);
      }
#pragma omp barrier
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

void run_serial(const GemmKernel& g, const Problem& p) {
  const int kc_max = even_block(p.K, g.kc, 1);
  const int mc_max = even_block(p.M, g.mc, g.mr);
  run_nsplit(g, p, tls_a.get(static_cast<size_t>(mc_max) * kc_max), 0, 1);
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
    q.B = p.tB ? p.B + k0 : p.B + static_cast<long>(k0) * p.ldb;
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

// Fraction of the work the busiest thread does not waste when `tiles` equal tiles go to nt threads.
double balance(int tiles, int nt) { return static_cast<double>(tiles) / (nt * ceil_div(tiles, nt)); }

}  // namespace

void sgemm_with(const GemmKernel& g, bool transA, bool transB, int M, int N, int K, float alpha, const float* A,
                int lda, const float* B, int ldb, float beta, float* C, int ldc) {
  const Problem p{transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc};
  if (M <= 0 || N <= 0) return;
  if (K <= 0 || alpha == 0.0f) {
    scale_c(p);
    return;
  }
  int nt = omp_in_parallel() ? 1 : omp_get_max_threads();
  const double flops = 2.0 * M * N * K;
  // Below ~2 MFLOP (about 10 us on one core) waking a second thread costs more than it saves.
  if (flops < 2e6) nt = 1;
  if (nt == 1) {
    run_serial(g, p);
    return;
  }
  const double bal_n = balance(ceil_div(N, g.nr), nt);
  const double bal_m = balance(ceil_div(M, g.mr), nt);
  const int kc_max = even_block(K, g.kc, 1);
  const long tiles = static_cast<long>(ceil_div(M, g.mr)) * ceil_div(N, g.nr);
  // Few output tiles but a long reduction: splitting K avoids a barrier every kc slice for little work.
  if ((tiles < 4L * nt || std::max(bal_n, bal_m) < 0.75) && K >= 2 * nt * g.kc) {
    run_ksplit(g, p, nt);
  } else if (bal_n >= 0.9 || bal_n >= bal_m) {
    const int mc_max = even_block(M, g.mc, g.mr);
    float* Ap = tls_a.get(static_cast<size_t>(mc_max) * kc_max);
#pragma omp parallel num_threads(nt)
    run_nsplit(g, p, Ap, omp_get_thread_num(), nt);
  } else {
    const int nc_max = even_block(N, g.nc, g.nr);
    float* Bp = tls_b.get(static_cast<size_t>(nc_max) * kc_max);
#pragma omp parallel num_threads(nt)
    run_msplit(g, p, Bp, omp_get_thread_num(), nt);
  }
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
