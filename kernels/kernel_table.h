// A backend as a value: one pointer per kernel, all with the signatures of kernels/<op>.h, and the three tables,
// naive::kernel_table(), cpu::kernel_table() and cuda::kernel_table(). tensor/dispatch.cpp picks one per tensor
// device with a switch; the kernel tests run every op case on each table. The tables are inline so a binary
// that never asks for the CUDA one (the fuzz build) never needs facet::cuda's symbols.
#pragma once
#include "kernels/gemm.h"
#include "kernels/conv2d.h"
#include "kernels/batchnorm2d.h"
#include "kernels/bn_act_pool.h"
#include "kernels/maxpool2d.h"
#include "kernels/dropout.h"
#include "kernels/linear.h"
#include "kernels/activation.h"
#include "kernels/softmax_ce.h"
#include "kernels/mse.h"
#include "kernels/elementwise.h"
#include "kernels/optim_update.h"

namespace facet {

struct KernelTable {
  const char* name = "";  // "naive", "cpu" or "cuda"
  // kernels/gemm.h
  decltype(&naive::sgemm) sgemm = nullptr;
  // kernels/conv2d.h
  decltype(&naive::conv2d_forward) conv2d_forward = nullptr;
  decltype(&naive::conv2d_backward) conv2d_backward = nullptr;
  decltype(&naive::conv2d_forward_bn_stats) conv2d_forward_bn_stats = nullptr;
  decltype(&naive::conv2d_fold_batchnorm) conv2d_fold_batchnorm = nullptr;
  // kernels/batchnorm2d.h
  decltype(&naive::batchnorm2d_forward_train) batchnorm2d_forward_train = nullptr;
  decltype(&naive::batchnorm2d_forward_eval) batchnorm2d_forward_eval = nullptr;
  decltype(&naive::batchnorm2d_backward) batchnorm2d_backward = nullptr;
  decltype(&naive::batchnorm2d_backward_eval) batchnorm2d_backward_eval = nullptr;
  // kernels/bn_act_pool.h
  decltype(&naive::bn_act_pool_forward) bn_act_pool_forward = nullptr;
  decltype(&naive::bn_act_pool_backward) bn_act_pool_backward = nullptr;
  decltype(&naive::bn_act_pool_apply) bn_act_pool_apply = nullptr;
  // kernels/maxpool2d.h
  decltype(&naive::maxpool2d_forward) maxpool2d_forward = nullptr;
  decltype(&naive::maxpool2d_backward) maxpool2d_backward = nullptr;
  // kernels/dropout.h
  decltype(&naive::dropout_forward) dropout_forward = nullptr;
  decltype(&naive::dropout_backward) dropout_backward = nullptr;
  // kernels/linear.h
  decltype(&naive::linear_forward) linear_forward = nullptr;
  decltype(&naive::linear_backward) linear_backward = nullptr;
  // kernels/activation.h
  decltype(&naive::relu_forward) relu_forward = nullptr;
  decltype(&naive::relu_backward) relu_backward = nullptr;
  decltype(&naive::leakyrelu_forward) leakyrelu_forward = nullptr;
  decltype(&naive::leakyrelu_backward) leakyrelu_backward = nullptr;
  // kernels/softmax_ce.h
  decltype(&naive::softmax_forward) softmax_forward = nullptr;
  decltype(&naive::softmax_cross_entropy_forward) softmax_cross_entropy_forward = nullptr;
  decltype(&naive::softmax_cross_entropy_backward) softmax_cross_entropy_backward = nullptr;
  // kernels/mse.h
  decltype(&naive::mse_forward) mse_forward = nullptr;
  decltype(&naive::mse_backward) mse_backward = nullptr;
  // kernels/elementwise.h
  decltype(&naive::fill) fill = nullptr;
  decltype(&naive::add_forward) add_forward = nullptr;
  decltype(&naive::accumulate) accumulate = nullptr;
  decltype(&naive::axpy) axpy = nullptr;
  decltype(&naive::scale_forward) scale_forward = nullptr;
  decltype(&naive::mul_forward) mul_forward = nullptr;
  decltype(&naive::mul_backward) mul_backward = nullptr;
  decltype(&naive::sum_forward) sum_forward = nullptr;
  decltype(&naive::sum_backward) sum_backward = nullptr;
  decltype(&naive::sum_squares) sum_squares = nullptr;
  decltype(&naive::slice_columns_forward) slice_columns_forward = nullptr;
  decltype(&naive::slice_columns_backward) slice_columns_backward = nullptr;
  // kernels/optim_update.h
  decltype(&naive::sgd_update) sgd_update = nullptr;
  decltype(&naive::adam_update) adam_update = nullptr;
  decltype(&naive::max_norm_rows) max_norm_rows = nullptr;
};

namespace naive {
inline const KernelTable& kernel_table() {
  static const KernelTable table = [] {
    KernelTable t;
    t.name = "naive";
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
}  // namespace naive

namespace cpu {
inline const KernelTable& kernel_table() {
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
}  // namespace cpu

namespace cuda {
inline const KernelTable& kernel_table() {
  static const KernelTable table = [] {
    KernelTable t;
    t.name = "cuda";
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
}  // namespace cuda

}  // namespace facet
