// Dense layer via SGEMM (see kernels/linear.h). W is stored (OUT,IN), so the forward is in * W^T.
#include "kernels/linear.h"

#include <cstddef>
#include <cstdint>
#include <vector>

#include "kernels/gemm.h"

namespace facet::cpu {

// out (B,OUT) = in (B,IN) * W^T (IN,OUT) + bias:  the rows of out start as the bias, then GEMM adds (beta = 1).
void linear_forward(float* out, const float* in, const float* weight, const float* bias, int B, int IN, int OUT) {
  if (bias) {
    for (int b = 0; b < B; ++b)
      for (int o = 0; o < OUT; ++o) out[int64_t(b) * OUT + o] = bias[o];
  }
  sgemm(false, true, B, OUT, IN, 1.0f, in, IN, weight, IN, bias ? 1.0f : 0.0f, out, OUT);
}

// din (B,IN)   += dout (B,OUT) * W (OUT,IN)
// dW  (OUT,IN) += dout^T (OUT,B) * in (B,IN)
// dbias (OUT)  += sum_b dout[b,:]          (double accumulation over b in order: deterministic)
void linear_backward(float* din, float* dweight, float* dbias, const float* dout, const float* in,
                     const float* weight, int B, int IN, int OUT) {
  if (din) sgemm(false, false, B, IN, OUT, 1.0f, dout, OUT, weight, IN, 1.0f, din, IN);
  if (dweight) sgemm(true, false, OUT, IN, B, 1.0f, dout, OUT, in, IN, 1.0f, dweight, IN);
  if (dbias) {
    std::vector<double> acc(size_t(OUT), 0.0);  // (OUT)
    for (int b = 0; b < B; ++b)
      for (int o = 0; o < OUT; ++o) acc[size_t(o)] += dout[int64_t(b) * OUT + o];
    for (int o = 0; o < OUT; ++o) dbias[o] += float(acc[size_t(o)]);
  }
}

}  // namespace facet::cpu
