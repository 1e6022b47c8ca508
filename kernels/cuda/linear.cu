// Dense layer on the device (see kernels/linear.h), W stored (OUT,IN) as PyTorch. All three products are our
// tiled SGEMM (kernels/cuda/gemm_tiled.h); the bias is added in the GEMM's store, and dbias is a column sum.
//   forward   out (B,OUT)   = in (B,IN) * W^T (IN,OUT) + bias
//   backward  din (B,IN)   += dout (B,OUT) * W (OUT,IN)
//             dW (OUT,IN)  += dout^T (OUT,B) * in (B,IN)
//             dbias (OUT)  += sum_b dout[b,:]
#include "kernels/cuda/gemm_tiled.h"
#include "kernels/cuda/kernel_utils.h"
#include "kernels/linear.h"

namespace facet::cuda {

namespace {
// dbias[o] += sum_b dout[b,o]: one thread per column, summing rows in order (deterministic; reads of a warp's
// 32 neighbouring columns are coalesced).
__global__ void column_sum_accumulate_kernel(float* dbias, const float* dout, int B, int OUT) {
  const int64_t o = global_index();
  if (o >= OUT) return;
  float s = 0.0f;
  for (int b = 0; b < B; ++b) s += dout[int64_t(b) * OUT + o];
  dbias[o] += s;
}
}  // namespace

void linear_forward(float* out, const float* in, const float* weight, const float* bias, int B, int IN,
                    int OUT) {
  sgemm_bias(false, true, B, OUT, IN, 1.0f, in, IN, weight, IN, 0.0f, out, OUT, bias);
}

void linear_backward(float* din, float* dweight, float* dbias, const float* dout, const float* in,
                     const float* weight, int B, int IN, int OUT) {
  if (din) sgemm_bias(false, false, B, IN, OUT, 1.0f, dout, OUT, weight, IN, 1.0f, din, IN, nullptr);
  if (dweight) sgemm_bias(true, false, OUT, IN, B, 1.0f, dout, OUT, in, IN, 1.0f, dweight, IN, nullptr);
  if (dbias)
    FACET_LAUNCH(column_sum_accumulate_kernel, dim3(unsigned((OUT + kBlock - 1) / kBlock)), dim3(kBlock), 0,
                 stream(), dbias, dout, B, OUT);
}

}  // namespace facet::cuda
