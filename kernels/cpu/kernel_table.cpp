// The cpu backend as a KernelTable (kernels/kernel_table.h): the threaded, blocked kernels of kernels/cpu/.
#include "kernels/kernel_table.h"

namespace facet::cpu {

const KernelTable& kernel_table() {
  static const KernelTable table = [] {
    KernelTable t;
    t.name = "cpu";
    t.sgemm = sgemm;
    t.conv2d_forward = conv2d_forward;
    t.conv2d_backward = conv2d_backward;
    t.conv2d_forward_bn_stats = conv2d_forward_bn_stats;
    t.conv2d_fold_batchnorm = conv2d_fold_batchnorm;
    t.batchnorm2d_forward_train = batchnorm2d_forward_train;
    t.batchnorm2d_forward_eval = batchnorm2d_forward_eval;
    t.batchnorm2d_backward = batchnorm2d_backward;
    t.batchnorm2d_backward_eval = batchnorm2d_backward_eval;
    t.bn_act_pool_forward = bn_act_pool_forward;
    t.bn_act_pool_backward = bn_act_pool_backward;
    t.bn_act_pool_apply = bn_act_pool_apply;
    t.maxpool2d_forward = maxpool2d_forward;
    t.maxpool2d_backward = maxpool2d_backward;
    t.dropout_forward = dropout_forward;
    t.dropout_backward = dropout_backward;
    t.linear_forward = linear_forward;
    t.linear_backward = linear_backward;
    t.relu_forward = relu_forward;
    t.relu_backward = relu_backward;
    t.leakyrelu_forward = leakyrelu_forward;
    t.leakyrelu_backward = leakyrelu_backward;
    t.softmax_forward = softmax_forward;
    t.softmax_cross_entropy_forward = softmax_cross_entropy_forward;
    t.softmax_cross_entropy_backward = softmax_cross_entropy_backward;
    t.mse_forward = mse_forward;
    t.mse_backward = mse_backward;
    t.fill = fill;
    t.add_forward = add_forward;
    t.accumulate = accumulate;
    t.axpy = axpy;
    t.scale_forward = scale_forward;
    t.mul_forward = mul_forward;
    t.mul_backward = mul_backward;
    t.sum_forward = sum_forward;
    t.sum_backward = sum_backward;
    t.sum_squares = sum_squares;
    t.slice_columns_forward = slice_columns_forward;
    t.slice_columns_backward = slice_columns_backward;
    t.sgd_update = sgd_update;
    t.adam_update = adam_update;
    t.max_norm_rows = max_norm_rows;
    return t;
  }();
  return table;
}

}  // namespace facet::cpu
