// Pointwise activations on the device (see kernels/activation.h): one grid-stride loop per op, each element
// independent, so the results equal the CPU kernel's bit for bit.
#include "kernels/activation.h"
#include "kernels/cuda/kernel_utils.h"

namespace facet::cuda {

namespace {
// relu: y = max(x, 0)
__global__ void relu_forward_kernel(float* out, const float* in, int64_t n) {
  for (int64_t i = global_index(); i < n; i += grid_stride()) out[i] = in[i] > 0.0f ? in[i] : 0.0f;
}
// din += dout * [x > 0]
__global__ void relu_backward_kernel(float* din, const float* dout, const float* in, int64_t n) {
  for (int64_t i = global_index(); i < n; i += grid_stride()) din[i] += in[i] > 0.0f ? dout[i] : 0.0f;
}
// leaky relu: y = x if x > 0 else alpha * x
__global__ void leakyrelu_forward_kernel(float* out, const float* in, int64_t n, float alpha) {
  for (int64_t i = global_index(); i < n; i += grid_stride()) out[i] = in[i] > 0.0f ? in[i] : alpha * in[i];
}
// din += dout * (1 if x > 0 else alpha)
__global__ void leakyrelu_backward_kernel(float* din, const float* dout, const float* in, int64_t n,
                                          float alpha) {
  for (int64_t i = global_index(); i < n; i += grid_stride())
    din[i] += in[i] > 0.0f ? dout[i] : alpha * dout[i];
}
}  // namespace

void relu_forward(float* out, const float* in, int64_t n) {
  FACET_LAUNCH(relu_forward_kernel, grid_for(n), kBlock, 0, stream(), out, in, n);
}
void relu_backward(float* din, const float* dout, const float* in, int64_t n) {
  if (din) FACET_LAUNCH(relu_backward_kernel, grid_for(n), kBlock, 0, stream(), din, dout, in, n);
}
void leakyrelu_forward(float* out, const float* in, int64_t n, float alpha) {
  FACET_LAUNCH(leakyrelu_forward_kernel, grid_for(n), kBlock, 0, stream(), out, in, n, alpha);
}
void leakyrelu_backward(float* din, const float* dout, const float* in, int64_t n, float alpha) {
  if (din) FACET_LAUNCH(leakyrelu_backward_kernel, grid_for(n), kBlock, 0, stream(), din, dout, in, n, alpha);
}

}  // namespace facet::cuda
