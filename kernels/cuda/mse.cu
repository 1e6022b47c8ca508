// Mean squared error on the device (see kernels/mse.h). loss and dloss are one float each in device memory.
//   forward   loss = (1/n) sum_i (p_i - t_i)^2     (the deterministic two-pass reduction of reduce.h)
//   backward  dp_i += dloss * 2 (p_i - t_i) / n
#include "kernels/cuda/reduce.h"
#include "kernels/mse.h"

namespace facet::cuda {

namespace {
// dp_i += dloss * 2 (p_i - t_i) / n
__global__ void mse_backward_kernel(float* dpred, const float* dloss, const float* pred, const float* target,
                                    int64_t n) {
  const float g = dloss[0] * 2.0f / float(n);
  for (int64_t i = global_index(); i < n; i += grid_stride()) dpred[i] += g * (pred[i] - target[i]);
}
}  // namespace

void mse_forward(float* loss, const float* pred, const float* target, int64_t n) {
  if (n <= 0) {  // an empty mean is 0, as on the CPU
    FACET_CUDA_CHECK(cudaMemsetAsync(loss, 0, sizeof(float), stream()));
    return;
  }
  reduce_to_scalar(loss, n, 1.0f / float(n), SquaredErrorTerm{pred, target});
}

void mse_backward(float* dpred, const float* dloss, const float* pred, const float* target, int64_t n) {
  if (!dpred || n <= 0) return;
  FACET_LAUNCH(mse_backward_kernel, grid_for(n), kBlock, 0, stream(), dpred, dloss, pred, target, n);
}

}  // namespace facet::cuda
