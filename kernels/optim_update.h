// Optimizer updates as kernels (one pass over a parameter tensor of n floats).
// SGD (PyTorch's form):  g = grad + wd*param;  v = momentum*v + g;  g = nesterov ? g + momentum*v : v
//                        param -= lr * g                       (velocity may be null when momentum == 0)
// Adam:   g = grad + wd*param (L2, coupled)   or, AdamW (decoupled): param *= 1 - lr*wd, g = grad
//         m = b1*m + (1-b1)*g;  v = b2*v + (1-b2)*g^2;  mhat = m/(1-b1^t);  vhat = v/(1-b2^t)
//         param -= lr * mhat / (sqrt(vhat) + eps)              (t = step, counted from 1)
// max_norm_rows: each row r of a (rows, cols) matrix (one unit's fan-in) is rescaled so that
//         ||w_r||_2 <= max_norm (Keras' MaxNorm constraint, applied after the step).
#pragma once
#include <cstdint>

namespace facet {
// The definition in plain loops (kernels/naive/optim_update.cpp): read these first.
namespace naive {
void sgd_update(float* param, float* velocity, const float* grad, int64_t n, float lr, float momentum,
                float weight_decay, bool nesterov);
void adam_update(float* param, float* m, float* v, const float* grad, int64_t n, float lr, float beta1,
                 float beta2, float eps, float weight_decay, bool decoupled, int64_t step);
void max_norm_rows(float* w, int rows, int cols, float max_norm);
}  // namespace naive

// The same functions, fast: kernels/cpu/ (threads, blocking) and kernels/cuda/optim_update.cu (the GPU).
namespace cpu {
decltype(naive::sgd_update) sgd_update;
decltype(naive::adam_update) adam_update;
decltype(naive::max_norm_rows) max_norm_rows;
}  // namespace cpu
namespace cuda {
decltype(naive::sgd_update) sgd_update;
decltype(naive::adam_update) adam_update;
decltype(naive::max_norm_rows) max_norm_rows;
}  // namespace cuda
}  // namespace facet
