// linear (kernels/linear.h): one dot product per output, sums in double; no GEMM, no threads.
#include "kernels/linear.h"

#include <cstdint>

namespace facet::naive {

// out[b,o] = bias[o] + sum_i in[b,i] * w[o,i]
void linear_forward(float* out, const float* in, const float* weight, const float* bias, int B, int IN, int OUT) {
  for (int b = 0; b < B; ++b)
    for (int o = 0; o < OUT; ++o) {
      double acc = bias ? bias[o] : 0.0;
      for (int i = 0; i < IN; ++i) acc += double(in[int64_t(b) * IN + i]) * weight[int64_t(o) * IN + i];
      out[int64_t(b) * OUT + o] = float(acc);
    }
}

// din[b,i] += sum_o dout[b,o] w[o,i];   dw[o,i] += sum_b dout[b,o] in[b,i];   dbias[o] += sum_b dout[b,o]
void linear_backward(float* din, float* dweight, float* dbias, const float* dout, const float* in,
                     const float* weight, int B, int IN, int OUT) {
  if (din)
    for (int b = 0; b < B; ++b)
      for (int i = 0; i < IN; ++i) {
        double acc = 0.0;
        for (int o = 0; o < OUT; ++o) acc += double(dout[int64_t(b) * OUT + o]) * weight[int64_t(o) * IN + i];
        din[int64_t(b) * IN + i] += float(acc);
      }
  if (dweight)
    for (int o = 0; o < OUT; ++o)
      for (int i = 0; i < IN; ++i) {
        double acc = 0.0;
        for (int b = 0; b < B; ++b) acc += double(dout[int64_t(b) * OUT + o]) * in[int64_t(b) * IN + i];
        dweight[int64_t(o) * IN + i] += float(acc);
      }
  if (dbias)
    for (int o = 0; o < OUT; ++o) {
      double acc = 0.0;
      for (int b = 0; b < B; ++b) acc += dout[int64_t(b) * OUT + o];
      dbias[o] += float(acc);
    }
}

}  // namespace facet::naive
