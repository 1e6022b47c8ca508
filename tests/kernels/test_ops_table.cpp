// Table-driven kernel test, in the style of ggml's test-backend-ops: one row per op case (op name + shapes and
// parameters). For every backend in backends_under_test() and every row:
//   (a) forward vs the naive backend (kernels/naive/, plain loops in double) at the op's stated tolerance;
//       rows with small_int inputs must match bit for bit (their sums are exact in float);
//   (b) backward vs central finite differences (tests/kernels/gradcheck.h) for every input with a gradient.
// Each op case is a small struct with its own parameters, describe() (printed on failure with the backend)
// and tolerances, as ggml's test-backend-ops.cpp.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <sstream>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "kernels/philox.h"
#include "tests/common/check.h"
#include "tests/kernels/backend.h"
#include "tests/kernels/gradcheck.h"

namespace facet::test {
namespace {

using Vec = std::vector<float>;

// Forward tolerances (against the naive backend) and finite-difference settings of an op. An empty fd ({})
// marks a forward-only op (softmax, sum_squares, fill, accumulate, axpy, conv_bn_stats, conv_fold_bn,
// bn_act_pool_apply): why each has no gradient row is stated above its rows in kCases. Finite differences:
// h = 1e-2 (inputs are O(1); linear ops have no truncation error, so h only trades float rounding of L,
// ~1e-6 / 2h), atol 1e-3 + rtol 1e-2 for all ops; the smooth non-linear ones use h = 5e-3.
struct Tolerance {
  double fwd_atol, fwd_rtol;
  FdTolerance fd;
};

// "op name=value ...": what a failing row prints.
std::string describe_fields(const char* op, std::initializer_list<std::pair<const char*, double>> fields) {
  std::ostringstream os;
  os << op;
  for (const auto& [name, value] : fields) os << " " << name << "=" << value;
  return os.str();
}

// One struct per op case: its own parameters, its describe() and tolerances; run(table, case) below tests it.
struct Conv2dCase {
  int N = 1, C = 1, H = 1, W = 1;  // input (N,C,H,W)
  int K = 1, R = 1, S = 1;         // weight (K,C,R,S)
  int stride = 1, pad = 0;
  bool bias = false;
  bool small_int = false;  // small-integer data: forward and backward exact
  uint64_t seed = 1;
  std::string describe() const {
    return describe_fields("conv2d", {{"N", double(N)},
                                      {"C", double(C)},
                                      {"H", double(H)},
                                      {"W", double(W)},
                                      {"K", double(K)},
                                      {"R", double(R)},
                                      {"S", double(S)},
                                      {"stride", double(stride)},
                                      {"pad", double(pad)},
                                      {"bias", double(bias)},
                                      {"small_int", double(small_int)},
                                      {"seed", double(seed)}});
  }
  Tolerance tol() const { return {1e-5, 1e-5, {1e-2f, 1e-3, 1e-2}}; }
};

struct LinearCase {
  int B = 1, IN = 1, OUT = 1;  // input (B,IN), weight (OUT,IN)
  bool bias = false;
  bool small_int = false;
  uint64_t seed = 1;
  std::string describe() const {
    return describe_fields("linear", {{"B", double(B)},
                                      {"IN", double(IN)},
                                      {"OUT", double(OUT)},
                                      {"bias", double(bias)},
                                      {"small_int", double(small_int)},
                                      {"seed", double(seed)}});
  }
  Tolerance tol() const { return {1e-5, 1e-5, {1e-2f, 1e-3, 1e-2}}; }
};

struct BatchNorm2dCase {
  int N = 1, C = 1, H = 1, W = 1;
  bool bias = false;     // affine: gamma and beta
  bool training = true;  // batch statistics, else running statistics
  uint64_t seed = 1;
  std::string describe() const {
    return describe_fields("batchnorm2d", {{"N", double(N)},
                                           {"C", double(C)},
                                           {"H", double(H)},
                                           {"W", double(W)},
                                           {"bias", double(bias)},
                                           {"training", double(training)},
                                           {"seed", double(seed)}});
  }
  Tolerance tol() const { return {1e-5, 1e-5, {5e-3f, 1e-3, 1e-2}}; }
};

struct MaxPool2dCase {
  int N = 1, C = 1, H = 1, W = 1;
  int window = 1;
  int stride = 1, pad = 0;
  bool small_int = false;  // many ties: the first maximum must win
  uint64_t seed = 1;
  std::string describe() const {
    return describe_fields("maxpool2d", {{"N", double(N)},
                                         {"C", double(C)},
                                         {"H", double(H)},
                                         {"W", double(W)},
                                         {"window", double(window)},
                                         {"stride", double(stride)},
                                         {"pad", double(pad)},
                                         {"small_int", double(small_int)},
                                         {"seed", double(seed)}});
  }
  Tolerance tol() const { return {0.0, 0.0, {1e-2f, 1e-3, 1e-2}}; }
};

struct BnActPoolCase {
  int N = 1, C = 1, H = 1, W = 1;
  int window = 1;
  int stride = 1, pad = 0;
  float slope = 0.0f;  // leaky ReLU slope (0: ReLU)
  bool bias = false;   // affine: gamma and beta
  bool training = true;
  uint64_t seed = 1;
  std::string describe() const {
    return describe_fields("bn_act_pool", {{"N", double(N)},
                                           {"C", double(C)},
                                           {"H", double(H)},
                                           {"W", double(W)},
                                           {"window", double(window)},
                                           {"stride", double(stride)},
                                           {"pad", double(pad)},
                                           {"slope", double(slope)},
                                           {"bias", double(bias)},
                                           {"training", double(training)},
                                           {"seed", double(seed)}});
  }
  Tolerance tol() const { return {1e-5, 1e-5, {5e-3f, 1e-3, 1e-2}}; }
};

struct ConvBnStatsCase {
  int N = 1, C = 1, H = 1, W = 1;
  int K = 1, R = 1, S = 1;
  int stride = 1, pad = 0;
  float bias_offset = 0.0f;  // added to the bias: |mean| >> std
  bool bias = false;
  uint64_t seed = 1;
  std::string describe() const {
    return describe_fields("conv_bn_stats", {{"N", double(N)},
                                             {"C", double(C)},
                                             {"H", double(H)},
                                             {"W", double(W)},
                                             {"K", double(K)},
                                             {"R", double(R)},
                                             {"S", double(S)},
                                             {"stride", double(stride)},
                                             {"pad", double(pad)},
                                             {"bias_offset", double(bias_offset)},
                                             {"bias", double(bias)},
                                             {"seed", double(seed)}});
  }
  Tolerance tol() const { return {1e-6, 1e-5, {}}; }
};

struct ConvFoldBnCase {
  int N = 1, C = 1, H = 1, W = 1;
  int K = 1, R = 1, S = 1;
  int stride = 1, pad = 0;
  bool bias = false;
  uint64_t seed = 1;
  std::string describe() const {
    return describe_fields("conv_fold_bn", {{"N", double(N)},
                                            {"C", double(C)},
                                            {"H", double(H)},
                                            {"W", double(W)},
                                            {"K", double(K)},
                                            {"R", double(R)},
                                            {"S", double(S)},
                                            {"stride", double(stride)},
                                            {"pad", double(pad)},
                                            {"bias", double(bias)},
                                            {"seed", double(seed)}});
  }
  Tolerance tol() const { return {1e-5, 1e-5, {}}; }
};

struct BnActPoolApplyCase {
  int N = 1, C = 1, H = 1, W = 1;
  int window = 1;
  int stride = 1, pad = 0;
  float slope = 0.0f;  // leaky ReLU slope (0: ReLU)
  bool bias = false;   // affine: gamma and beta (with statistics given)
  uint64_t seed = 1;
  std::string describe() const {
    return describe_fields("bn_act_pool_apply", {{"N", double(N)},
                                                 {"C", double(C)},
                                                 {"H", double(H)},
                                                 {"W", double(W)},
                                                 {"window", double(window)},
                                                 {"stride", double(stride)},
                                                 {"pad", double(pad)},
                                                 {"slope", double(slope)},
                                                 {"bias", double(bias)},
                                                 {"seed", double(seed)}});
  }
  Tolerance tol() const { return {1e-5, 1e-5, {}}; }
};

struct DropoutCase {
  int N = 1;  // elements
  float p = 0.0f;
  uint64_t seed = 1;
  std::string describe() const {
    return describe_fields("dropout", {{"N", double(N)}, {"p", double(p)}, {"seed", double(seed)}});
  }
  Tolerance tol() const { return {0.0, 1e-6, {1e-2f, 1e-3, 1e-2}}; }
};

struct ActivationCase {
  bool leaky = false;  // leaky ReLU, else ReLU
  int N = 1;
  float slope = 0.0f;  // leaky ReLU slope
  uint64_t seed = 1;
  std::string describe() const {
    return describe_fields(
        leaky ? "leakyrelu" : "relu",
        {{"leaky", double(leaky)}, {"N", double(N)}, {"slope", double(slope)}, {"seed", double(seed)}});
  }
  Tolerance tol() const { return {0.0, leaky ? 1e-6 : 0.0, {1e-2f, 1e-3, 1e-2}}; }
};

struct SoftmaxCase {
  int N = 1, C = 1;          // logits (B=N, C)
  float logit_range = 1.0f;  // logits uniform in [-range, range]
  uint64_t seed = 1;
  std::string describe() const {
    return describe_fields(
        "softmax",
        {{"N", double(N)}, {"C", double(C)}, {"logit_range", double(logit_range)}, {"seed", double(seed)}});
  }
  Tolerance tol() const { return {1e-6, 1e-5, {}}; }
};

struct SoftmaxCeCase {
  int N = 1, C = 1;  // logits (B=N, C)
  float logit_range = 1.0f;
  float label_smoothing = 0.0f;
  bool weighted = false;  // class weights
  uint64_t seed = 1;
  std::string describe() const {
    return describe_fields("softmax_ce", {{"N", double(N)},
                                          {"C", double(C)},
                                          {"logit_range", double(logit_range)},
                                          {"label_smoothing", double(label_smoothing)},
                                          {"weighted", double(weighted)},
                                          {"seed", double(seed)}});
  }
  Tolerance tol() const { return {1e-6, 1e-5, {5e-3f, 1e-3, 1e-2}}; }
};

struct MseCase {
  int N = 1;
  uint64_t seed = 1;
  std::string describe() const { return describe_fields("mse", {{"N", double(N)}, {"seed", double(seed)}}); }
  Tolerance tol() const { return {1e-7, 1e-5, {1e-2f, 1e-3, 1e-2}}; }
};

struct AddCase {
  int N = 1;
  uint64_t seed = 1;
  std::string describe() const { return describe_fields("add", {{"N", double(N)}, {"seed", double(seed)}}); }
  Tolerance tol() const { return {0.0, 1e-6, {1e-2f, 1e-3, 1e-2}}; }
};

struct MulCase {
  int N = 1;
  uint64_t seed = 1;
  std::string describe() const { return describe_fields("mul", {{"N", double(N)}, {"seed", double(seed)}}); }
  Tolerance tol() const { return {0.0, 1e-6, {1e-2f, 1e-3, 1e-2}}; }
};

struct ScaleCase {
  int N = 1;
  float factor = 1.0f;
  uint64_t seed = 1;
  std::string describe() const {
    return describe_fields("scale", {{"N", double(N)}, {"factor", double(factor)}, {"seed", double(seed)}});
  }
  Tolerance tol() const { return {0.0, 1e-6, {1e-2f, 1e-3, 1e-2}}; }
};

struct SumCase {
  int N = 1;
  uint64_t seed = 1;
  std::string describe() const { return describe_fields("sum", {{"N", double(N)}, {"seed", double(seed)}}); }
  Tolerance tol() const { return {1e-5, 1e-6, {1e-2f, 1e-3, 1e-2}}; }
};

struct SumSquaresCase {
  int N = 1;
  uint64_t seed = 1;
  std::string describe() const {
    return describe_fields("sum_squares", {{"N", double(N)}, {"seed", double(seed)}});
  }
  Tolerance tol() const { return {1e-5, 1e-6, {}}; }
};

struct SliceColumnsCase {
  int N = 1, C = 1;  // input (B=N, D=C)
  int start = 0, width = 1;
  uint64_t seed = 1;
  std::string describe() const {
    return describe_fields("slice_columns", {{"N", double(N)},
                                             {"C", double(C)},
                                             {"start", double(start)},
                                             {"width", double(width)},
                                             {"seed", double(seed)}});
  }
  Tolerance tol() const { return {0.0, 0.0, {1e-2f, 1e-3, 1e-2}}; }
};

struct FillCase {
  int N = 1;
  float value = 0.0f;
  uint64_t seed = 1;
  std::string describe() const {
    return describe_fields("fill", {{"N", double(N)}, {"value", double(value)}, {"seed", double(seed)}});
  }
  Tolerance tol() const { return {0.0, 0.0, {}}; }
};

struct AccumulateCase {
  bool axpy = false;  // y += factor * x, else y += x
  int N = 1;
  float factor = 1.0f;
  uint64_t seed = 1;
  std::string describe() const {
    return describe_fields(
        axpy ? "axpy" : "accumulate",
        {{"axpy", double(axpy)}, {"N", double(N)}, {"factor", double(factor)}, {"seed", double(seed)}});
  }
  Tolerance tol() const { return {axpy ? 1e-7 : 0.0, 1e-6, {}}; }
};

using OpCase = std::variant<Conv2dCase, LinearCase, BatchNorm2dCase, MaxPool2dCase, BnActPoolCase,
                            ConvBnStatsCase, ConvFoldBnCase, BnActPoolApplyCase, DropoutCase, ActivationCase,
                            SoftmaxCase, SoftmaxCeCase, MseCase, AddCase, MulCase, ScaleCase, SumCase,
                            SumSquaresCase, SliceColumnsCase, FillCase, AccumulateCase>;

// clang-format off
const OpCase kCases[] = {
    // conv2d: odd sizes, strides, paddings, non-square kernels; chunked batches (G > 1) and G = 1 paths
    Conv2dCase{.N = 2, .C = 3, .H = 7, .W = 6, .K = 4, .R = 3, .S = 3, .stride = 1, .pad = 1, .bias = true},
    Conv2dCase{.N = 3, .C = 2, .H = 8, .W = 9, .K = 5, .R = 3, .S = 2, .stride = 2, .pad = 0, .seed = 2},
    Conv2dCase{.N = 2, .C = 1, .H = 9, .W = 7, .K = 2, .R = 5, .S = 5, .stride = 3, .pad = 2, .bias = true, .seed = 3},
    Conv2dCase{.N = 1, .C = 4, .H = 5, .W = 5, .K = 3, .R = 1, .S = 1, .bias = true, .seed = 4},
    Conv2dCase{.N = 4, .C = 2, .H = 30, .W = 30, .K = 3, .R = 3, .S = 3, .stride = 1, .pad = 1, .bias = true, .seed = 5},
    Conv2dCase{.N = 2, .C = 3, .H = 46, .W = 46, .K = 2, .R = 1, .S = 1, .bias = true, .seed = 6},
    Conv2dCase{.N = 3, .C = 3, .H = 6, .W = 5, .K = 4, .R = 3, .S = 3, .stride = 2, .pad = 1, .bias = true, .small_int = true, .seed = 7},
    Conv2dCase{.N = 2, .C = 2, .H = 50, .W = 45, .K = 3, .R = 2, .S = 3, .stride = 1, .pad = 1, .bias = true, .small_int = true, .seed = 8},
    // linear
    LinearCase{.B = 5, .IN = 7, .OUT = 3, .bias = true},
    LinearCase{.B = 1, .IN = 1, .OUT = 1, .bias = true, .seed = 2},
    LinearCase{.B = 4, .IN = 33, .OUT = 17, .seed = 3},
    LinearCase{.B = 6, .IN = 13, .OUT = 9, .bias = true, .small_int = true, .seed = 4},
    // batchnorm2d
    BatchNorm2dCase{.N = 3, .C = 4, .H = 2, .W = 3, .bias = true},
    BatchNorm2dCase{.N = 2, .C = 3, .H = 1, .W = 1, .bias = true, .seed = 2},   // (N,C) input, M = 2
    BatchNorm2dCase{.N = 4, .C = 2, .H = 3, .W = 3, .bias = false, .seed = 3},  // non-affine
    BatchNorm2dCase{.N = 2, .C = 3, .H = 3, .W = 2, .bias = true, .training = false, .seed = 4},
    BatchNorm2dCase{.N = 2, .C = 2, .H = 2, .W = 2, .bias = false, .training = false, .seed = 5},
    BatchNorm2dCase{.N = 3, .C = 2, .H = 1, .W = 1, .bias = true, .training = false, .seed = 6},   // (N,C) eval
    // maxpool2d
    MaxPool2dCase{.N = 2, .C = 3, .H = 7, .W = 7, .window = 2, .stride = 2},
    MaxPool2dCase{.N = 1, .C = 2, .H = 6, .W = 5, .window = 3, .stride = 2, .pad = 1, .seed = 2},
    MaxPool2dCase{.N = 2, .C = 1, .H = 5, .W = 8, .window = 3, .stride = 1, .pad = 1, .seed = 3},
    MaxPool2dCase{.N = 2, .C = 2, .H = 6, .W = 6, .window = 2, .stride = 2, .small_int = true, .seed = 4},
    MaxPool2dCase{.N = 1, .C = 3, .H = 7, .W = 5, .window = 3, .stride = 2, .pad = 1, .small_int = true, .seed = 5},
    // bn_act_pool: fused batchnorm2d -> leaky ReLU (alpha; 0 = ReLU) -> maxpool2d; odd planes (an unpooled last
    // row/column), overlapping padded windows (a cell may win two windows), non-affine, eval statistics
    BnActPoolCase{.N = 2, .C = 3, .H = 7, .W = 7, .window = 2, .stride = 2, .slope = 0.1f, .bias = true},
    BnActPoolCase{.N = 2, .C = 2, .H = 6, .W = 5, .window = 3, .stride = 2, .pad = 1, .slope = 0.0f, .bias = true, .seed = 2},
    BnActPoolCase{.N = 3, .C = 2, .H = 4, .W = 6, .window = 2, .stride = 2, .slope = 0.2f, .seed = 3},
    BnActPoolCase{.N = 2, .C = 3, .H = 6, .W = 6, .window = 2, .stride = 2, .slope = 0.1f, .bias = true, .training = false, .seed = 4},
    // conv_bn_stats: conv2d_forward_bn_stats, the convolution with batchnorm's batch statistics gathered in its
    // epilogue; chunked batches (G > 1: 8x8 planes), one image per chunk in row blocks (G = 1), a batch of one
    // (the reference path, statistics read back), and a mean 50x its std (the chunk shifts keep it exact).
    // Forward-only by design: the values are conv2d_forward's (FD-checked in the conv2d rows) and the
    // statistics carry no gradient of their own; their gradient is bn_act_pool_backward's (bn_act_pool rows).
    ConvBnStatsCase{.N = 5, .C = 3, .H = 8, .W = 8, .K = 4, .R = 3, .S = 3, .stride = 1, .pad = 1, .bias = true},
    ConvBnStatsCase{.N = 3, .C = 2, .H = 40, .W = 37, .K = 3, .R = 3, .S = 3, .stride = 1, .pad = 1, .bias = true, .seed = 2},
    ConvBnStatsCase{.N = 1, .C = 2, .H = 9, .W = 7, .K = 3, .R = 3, .S = 2, .stride = 2, .pad = 0, .seed = 3},
    ConvBnStatsCase{.N = 4, .C = 3, .H = 12, .W = 12, .K = 2, .R = 3, .S = 3, .stride = 1, .pad = 1, .bias_offset = 50.0f, .bias = true, .seed = 4},
    // conv_fold_bn: conv2d_fold_batchnorm; the folded convolution equals batchnorm2d_eval of the convolution
    // (affine and not, with and without a conv bias). Forward-only by design: inference only (an eval that
    // needs a graph runs unfused).
    ConvFoldBnCase{.N = 2, .C = 3, .H = 7, .W = 6, .K = 4, .R = 3, .S = 3, .stride = 1, .pad = 1, .bias = true},
    ConvFoldBnCase{.N = 1, .C = 2, .H = 5, .W = 5, .K = 3, .R = 1, .S = 1, .seed = 2},
    // bn_act_pool_apply: the fused forward with given statistics (random mean/rstd), and with none (pool of
    // act(x), the folded inference path). Forward-only by design: its backward is bn_act_pool_backward with the
    // same statistics, FD-checked in the bn_act_pool rows.
    BnActPoolApplyCase{.N = 2, .C = 3, .H = 7, .W = 7, .window = 2, .stride = 2, .slope = 0.1f, .bias = true},
    BnActPoolApplyCase{.N = 2, .C = 2, .H = 6, .W = 5, .window = 3, .stride = 2, .pad = 1, .slope = 0.0f, .seed = 2},
    // dropout
    DropoutCase{.N = 1001, .p = 0.3f},
    DropoutCase{.N = 77, .p = 0.0f, .seed = 2},
    DropoutCase{.N = 500, .p = 0.9f, .seed = 3},
    // activations
    ActivationCase{.N = 301},
    ActivationCase{.leaky = true, .N = 257, .slope = 0.1f},
    ActivationCase{.leaky = true, .N = 64, .slope = 0.01f, .seed = 2},
    // softmax, cross-entropy. softmax rows are forward-only by design: the kernel serves inference
    // (tensor/ops.h softmax() records no graph); training's gradient goes through softmax_ce, checked below.
    SoftmaxCase{.N = 4, .C = 5, .logit_range = 2.0f},
    SoftmaxCase{.N = 3, .C = 7, .logit_range = 60.0f, .seed = 2},
    SoftmaxCeCase{.N = 6, .C = 4, .logit_range = 2.0f},
    SoftmaxCeCase{.N = 5, .C = 3, .logit_range = 2.0f, .label_smoothing = 0.1f, .weighted = true, .seed = 2},
    SoftmaxCeCase{.N = 7, .C = 10, .logit_range = 30.0f, .label_smoothing = 0.2f, .weighted = true, .seed = 3},
    SoftmaxCeCase{.N = 3, .C = 1, .logit_range = 1.0f, .seed = 4},
    // mse
    MseCase{.N = 37},
    MseCase{.N = 1, .seed = 2},
    MseCase{.N = 5000, .seed = 3},
    // elementwise
    AddCase{.N = 103},
    MulCase{.N = 99},
    ScaleCase{.N = 50, .factor = -1.5f},
    SumCase{.N = 9000},
    SumCase{.N = 7, .seed = 2},
    // sum_squares is forward-only by design: its one caller, clip_grad_norm (optim/regularize.cpp), reads the
    // norm of gradients outside the graph, so no op differentiates through it. Forward vs a double sum of
    // squares, at odd sizes (vector body and scalar tail) and a single element.
    SumSquaresCase{.N = 9001},
    SumSquaresCase{.N = 7, .seed = 2},
    SumSquaresCase{.N = 1, .seed = 3},
    SliceColumnsCase{.N = 3, .C = 7, .start = 2, .width = 4},
    SliceColumnsCase{.N = 5, .C = 4, .start = 0, .width = 4, .seed = 2},
    // fill, accumulate and axpy are forward-only by design: they are not ops of the graph but the in-place
    // steps of its machinery (fill: zeros and the seed gradient 1; accumulate: gradient sums, add's backward;
    // axpy: scale's backward, L2 decay), so they have no gradient of their own. As backward kernels they are
    // already under finite differences in the add and scale rows. Here: forward vs a double reference.
    FillCase{.N = 33, .value = 0.25f},
    FillCase{.N = 1, .value = -3.0f, .seed = 2},
    AccumulateCase{.N = 65},
    AccumulateCase{.N = 7, .seed = 2},
    AccumulateCase{.axpy = true, .N = 65, .factor = 0.75f},
    AccumulateCase{.axpy = true, .N = 9, .factor = -2.5f, .seed = 2},
};
// clang-format on

// A gradient buffer in backend memory mirroring a host vector; absent (null pointer) when the host one is.
class GradBuffer {
 public:
  GradBuffer(const KernelTable& k, std::vector<float>* host) : host_(host), dev_(k, host ? *host : Vec{}) {}
  float* get() const { return host_ ? dev_.get() : nullptr; }
  void download() const {
    if (host_) *host_ = dev_.to_host();
  }

 private:
  std::vector<float>* host_;
  DeviceArray<float> dev_;
};

std::vector<float>* grad_at(const Grads& g, std::size_t i) { return i < g.size() ? g[i] : nullptr; }

// Small-integer inputs make every product and sum exact: backward (input, weight, bias gradients, accumulated
// onto small-integer starting values) must equal the naive backend's bit for bit.
template <class BackwardOn>
void check_exact_backward(const BackwardOn& backward_on, const KernelTable& k, std::size_t n_out,
                          const std::vector<std::size_t>& sizes, uint64_t seed) {
  const Vec dout = random_ints(n_out, seed + 3, -3, 3);
  std::vector<Vec> got, want;
  for (std::size_t i = 0; i < sizes.size(); ++i) got.push_back(random_ints(sizes[i], seed + 4 + i, -2, 2));
  want = got;
  backward_on(k, dout, {&got[0], &got[1], &got[2]});
  backward_on(reference_kernels(), dout, {&want[0], &want[1], &want[2]});
  for (std::size_t i = 0; i < sizes.size(); ++i) CHECK_ALL_CLOSE(got[i], want[i], 0.0, 0.0);
}

// ---- conv2d ----------------------------------------------------------------------------------------------------

void run(const KernelTable& k, const Conv2dCase& c) {
  const Conv2dDims d{c.N, c.C, c.H, c.W, c.K, c.R, c.S, c.stride, c.pad};
  auto gen = [&](std::size_t n, uint64_t s) { return c.small_int ? random_ints(n, s, -4, 4) : random_uniform(n, s); };
  Vec x = gen(std::size_t(d.N) * d.C * d.H * d.W, c.seed), w = gen(std::size_t(d.K) * d.C * d.R * d.S, c.seed + 1);
  Vec b = c.bias ? gen(std::size_t(d.K), c.seed + 2) : Vec{};
  const std::size_t n_out = std::size_t(d.N) * d.K * d.P() * d.Q();
  auto forward_on = [&](const KernelTable& kt) {
    DeviceArray<float> dx(kt, x), dw(kt, w), db(kt, b), dy(kt, Vec(n_out));
    kt.conv2d_forward(dy.get(), dx.get(), dw.get(), c.bias ? db.get() : nullptr, d);
    return dy.to_host();
  };
  auto backward_on = [&](const KernelTable& kt, const Vec& dout, const Grads& g) {
    DeviceArray<float> ddy(kt, dout), dx(kt, x), dw(kt, w);
    GradBuffer gx(kt, grad_at(g, 0)), gw(kt, grad_at(g, 1)), gb(kt, grad_at(g, 2));
    kt.conv2d_backward(gx.get(), gw.get(), gb.get(), ddy.get(), dx.get(), dw.get(), d);
    gx.download(), gw.download(), gb.download();
  };
  auto forward = [&] { return forward_on(k); };
  auto backward = [&](const Vec& dout, const Grads& g) { backward_on(k, dout, g); };
  const double atol = c.small_int ? 0.0 : c.tol().fwd_atol, rtol = c.small_int ? 0.0 : c.tol().fwd_rtol;
  CHECK_ALL_CLOSE(forward(), forward_on(reference_kernels()), atol, rtol);
  if (c.small_int) check_exact_backward(backward_on, k, n_out, {x.size(), w.size(), std::size_t(d.K)}, c.seed);
  std::vector<FdParam> params{{"input", &x}, {"weight", &w}};
  if (c.bias) params.push_back({"bias", &b});
  check_gradients(params, forward, backward, c.tol().fd, c.seed + 7, true);
}

// ---- linear ----------------------------------------------------------------------------------------------------

void run(const KernelTable& k, const LinearCase& c) {
  const int B = c.B, IN = c.IN, OUT = c.OUT;
  auto gen = [&](std::size_t n, uint64_t s) { return c.small_int ? random_ints(n, s, -5, 5) : random_uniform(n, s); };
  Vec x = gen(std::size_t(B) * IN, c.seed), w = gen(std::size_t(OUT) * IN, c.seed + 1);
  Vec b = c.bias ? gen(std::size_t(OUT), c.seed + 2) : Vec{};
  auto forward_on = [&](const KernelTable& kt) {
    DeviceArray<float> dx(kt, x), dw(kt, w), db(kt, b), dy(kt, Vec(std::size_t(B) * OUT));
    kt.linear_forward(dy.get(), dx.get(), dw.get(), c.bias ? db.get() : nullptr, B, IN, OUT);
    return dy.to_host();
  };
  auto backward_on = [&](const KernelTable& kt, const Vec& dout, const Grads& g) {
    DeviceArray<float> ddy(kt, dout), dx(kt, x), dw(kt, w);
    GradBuffer gx(kt, grad_at(g, 0)), gw(kt, grad_at(g, 1)), gb(kt, grad_at(g, 2));
    kt.linear_backward(gx.get(), gw.get(), gb.get(), ddy.get(), dx.get(), dw.get(), B, IN, OUT);
    gx.download(), gw.download(), gb.download();
  };
  auto forward = [&] { return forward_on(k); };
  auto backward = [&](const Vec& dout, const Grads& g) { backward_on(k, dout, g); };
  const double atol = c.small_int ? 0.0 : c.tol().fwd_atol, rtol = c.small_int ? 0.0 : c.tol().fwd_rtol;
  CHECK_ALL_CLOSE(forward(), forward_on(reference_kernels()), atol, rtol);
  if (c.small_int)
    check_exact_backward(backward_on, k, std::size_t(B) * OUT, {x.size(), w.size(), std::size_t(OUT)}, c.seed);
  std::vector<FdParam> params{{"input", &x}, {"weight", &w}};
  if (c.bias) params.push_back({"bias", &b});
  check_gradients(params, forward, backward, c.tol().fd, c.seed + 7, true);
}

// ---- batchnorm2d -----------------------------------------------------------------------------------------------

void run(const KernelTable& k, const BatchNorm2dCase& c) {
  const int N = c.N, C = c.C, HW = c.H * c.W;
  const float momentum = 0.1f, eps = 1e-5f;
  Vec x = random_uniform(std::size_t(N) * C * HW, c.seed, -1.5f, 2.5f);
  Vec gamma = random_uniform(std::size_t(C), c.seed + 1, 0.5f, 1.5f);
  Vec beta = random_uniform(std::size_t(C), c.seed + 2, -0.5f, 0.5f);
  const Vec rmean0 = random_uniform(std::size_t(C), c.seed + 3, -0.2f, 0.2f);
  const Vec rvar0 = random_uniform(std::size_t(C), c.seed + 4, 0.5f, 1.5f);
  const Vec* g = c.bias ? &gamma : nullptr;
  const Vec* b = c.bias ? &beta : nullptr;
  if (!c.training) {
    auto forward_on = [&](const KernelTable& kt) {
      DeviceArray<float> fx(kt, x), fg(kt, gamma), fb(kt, beta), fm(kt, rmean0), fv(kt, rvar0), fy(kt, Vec(x.size()));
      kt.batchnorm2d_forward_eval(fy.get(), fx.get(), g ? fg.get() : nullptr, b ? fb.get() : nullptr, fm.get(),
                                  fv.get(), N, C, HW, eps);
      return fy.to_host();
    };
    CHECK_ALL_CLOSE(forward_on(k), forward_on(reference_kernels()), c.tol().fwd_atol, c.tol().fwd_rtol);
    // Eval backward (batchnorm2d_backward_eval): the running statistics are constants, so the finite
    // differences of the eval forward in x, gamma and beta are the whole gradient.
    auto forward = [&] { return forward_on(k); };
    auto backward = [&](const Vec& dout, const Grads& gr) {
      DeviceArray<float> ddy(k, dout), bx(k, x), bg(k, gamma), bm(k, rmean0), bv(k, rvar0);
      GradBuffer gx(k, grad_at(gr, 0)), gg(k, grad_at(gr, 1)), gb(k, grad_at(gr, 2));
      k.batchnorm2d_backward_eval(gx.get(), gg.get(), gb.get(), ddy.get(), bx.get(), g ? bg.get() : nullptr,
                                  bm.get(), bv.get(), N, C, HW, eps);
      gx.download(), gg.download(), gb.download();
    };
    std::vector<FdParam> params{{"input", &x}};
    if (c.bias) params.push_back({"gamma", &gamma}), params.push_back({"beta", &beta});
    check_gradients(params, forward, backward, c.tol().fd, c.seed + 7, true);
    return;
  }
  struct Train {
    Vec out, mean, rstd, rmean, rvar;
  };
  auto train_on = [&](const KernelTable& kt) {
    DeviceArray<float> dx(kt, x), dg(kt, gamma), db(kt, beta), rm(kt, rmean0), rv(kt, rvar0), dy(kt, Vec(x.size()));
    DeviceArray<float> mean(kt, Vec(std::size_t(C))), rstd(kt, Vec(std::size_t(C)));
    kt.batchnorm2d_forward_train(dy.get(), mean.get(), rstd.get(), rm.get(), rv.get(), dx.get(),
                                 g ? dg.get() : nullptr, b ? db.get() : nullptr, N, C, HW, momentum, eps);
    return Train{dy.to_host(), mean.to_host(), rstd.to_host(), rm.to_host(), rv.to_host()};
  };
  auto train = [&] { return train_on(k); };
  const Train t = train(), r = train_on(reference_kernels());
  CHECK_ALL_CLOSE(t.out, r.out, c.tol().fwd_atol, c.tol().fwd_rtol);
  CHECK_ALL_CLOSE(t.mean, r.mean, c.tol().fwd_atol, c.tol().fwd_rtol);
  CHECK_ALL_CLOSE(t.rstd, r.rstd, c.tol().fwd_atol, c.tol().fwd_rtol);
  CHECK_ALL_CLOSE(t.rmean, r.rmean, c.tol().fwd_atol, c.tol().fwd_rtol);
  CHECK_ALL_CLOSE(t.rvar, r.rvar, c.tol().fwd_atol, c.tol().fwd_rtol);

  auto forward = [&] { return train().out; };
  auto backward = [&](const Vec& dout, const Grads& gr) {  // at the unperturbed point: saved mean/rstd of t
    DeviceArray<float> ddy(k, dout), dx(k, x), dg(k, gamma), mean(k, t.mean), rs(k, t.rstd);
    GradBuffer gx(k, grad_at(gr, 0)), gg(k, grad_at(gr, 1)), gb(k, grad_at(gr, 2));
    k.batchnorm2d_backward(gx.get(), gg.get(), gb.get(), ddy.get(), dx.get(), g ? dg.get() : nullptr, mean.get(),
                           rs.get(), N, C, HW);
    gx.download(), gg.download(), gb.download();
  };
  std::vector<FdParam> params{{"input", &x}};
  if (c.bias) params.push_back({"gamma", &gamma}), params.push_back({"beta", &beta});
  check_gradients(params, forward, backward, c.tol().fd, c.seed + 7, true);
}

// ---- maxpool2d -------------------------------------------------------------------------------------------------

void run(const KernelTable& k, const MaxPool2dCase& c) {
  const Pool2dDims d{c.N, c.C, c.H, c.W, c.window, c.stride, c.pad};
  const std::size_t n = std::size_t(d.N) * d.C * d.H * d.W, n_out = std::size_t(d.N) * d.C * d.P() * d.Q();
  Vec x;
  if (c.small_int) {
    x = random_ints(n, c.seed, 0, 2);  // many ties: the first maximum must win
  } else {  // distinct values 0.05 apart, so a finite-difference step of 0.01 never changes the winner
    std::vector<int> perm(n);
    for (std::size_t i = 0; i < n; ++i) perm[i] = int(i);
    Rng rng(c.seed);
    for (std::size_t i = n - 1; i > 0; --i) std::swap(perm[i], perm[std::size_t(rng.integer(0, int64_t(i)))]);
    for (std::size_t i = 0; i < n; ++i) x.push_back(0.05f * float(perm[i] - int(n / 2)));
  }
  std::vector<int32_t> argmax;
  auto forward_on = [&](const KernelTable& kt) {
    DeviceArray<float> dx(kt, x), dy(kt, Vec(n_out));
    DeviceArray<int32_t> am(kt, std::vector<int32_t>(n_out));
    kt.maxpool2d_forward(dy.get(), am.get(), dx.get(), d);
    argmax = am.to_host();
    return dy.to_host();
  };
  auto forward = [&] { return forward_on(k); };
  const Vec want = forward_on(reference_kernels());
  const std::vector<int32_t> want_argmax = argmax;
  const Vec out = forward();
  const std::vector<int32_t> saved = argmax;
  CHECK_ALL_CLOSE(out, want, 0.0, 0.0);  // a max is exact
  CHECK_ALL_CLOSE(saved, want_argmax, 0.0, 0.0);
  if (c.small_int) return;  // ties are kinks: no finite differences
  auto backward = [&](const Vec& dout, const Grads& g) {
    DeviceArray<float> ddy(k, dout);
    DeviceArray<int32_t> am(k, saved);
    GradBuffer gx(k, grad_at(g, 0));
    k.maxpool2d_backward(gx.get(), ddy.get(), am.get(), d);
    gx.download();
  };
  check_gradients({{"input", &x}}, forward, backward, c.tol().fd, c.seed + 7, false);
}

// ---- bn_act_pool (fused batchnorm2d -> leaky ReLU -> maxpool2d) ------------------------------------------------

// Channel c holds the values 0.05 * (k - (M-1)/2), k = 0..M-1, in a seeded order: the channel mean is 0, no two
// values are closer than 0.05 and none is within 0.025 of the mean. So after normalisation every z with beta = 0
// is at least gamma * 0.025 * rstd away from the activation's kink, and a finite-difference step (5e-3 in x,
// gamma or beta) never changes a window's winner nor the side of the kink it is on.
Vec kink_free_input(int N, int C, int HW, uint64_t seed) {
  const int M = N * HW;
  Vec x(std::size_t(N) * C * HW);
  Rng rng(seed);
  for (int c = 0; c < C; ++c) {
    std::vector<int> perm(static_cast<std::size_t>(M));
    for (int i = 0; i < M; ++i) perm[std::size_t(i)] = i;
    for (int i = M - 1; i > 0; --i) std::swap(perm[std::size_t(i)], perm[std::size_t(rng.integer(0, i))]);
    for (int j = 0; j < M; ++j)
      x[(std::size_t(j / HW) * C + c) * HW + std::size_t(j % HW)] = 0.05f * (float(perm[std::size_t(j)]) - 0.5f * float(M - 1));
  }
  return x;
}

// First-maximum pooling of a host array by the naive backend (host memory): the reference's last step.
struct Pooled {
  Vec out;
  std::vector<int32_t> argmax;
};
Pooled naive_maxpool(const Vec& y, const Pool2dDims& d) {
  Pooled r{Vec(std::size_t(d.N) * d.C * d.P() * d.Q()), std::vector<int32_t>(std::size_t(d.N) * d.C * d.P() * d.Q())};
  reference_kernels().maxpool2d_forward(r.out.data(), r.argmax.data(), y.data(), d);
  return r;
}

void run(const KernelTable& k, const BnActPoolCase& c) {
  const Pool2dDims d{c.N, c.C, c.H, c.W, c.window, c.stride, c.pad};
  const int HW = d.H * d.W, C = d.C;
  const std::size_t n_out = std::size_t(d.N) * C * d.P() * d.Q();
  const float momentum = 0.1f, eps = 1e-5f, alpha = c.slope;
  Vec x = kink_free_input(d.N, C, HW, c.seed);
  Vec gamma = random_uniform(std::size_t(C), c.seed + 1, 0.8f, 1.2f);
  Vec beta = random_uniform(std::size_t(C), c.seed + 2, -0.3f, 0.3f);
  const Vec rmean0 = random_uniform(std::size_t(C), c.seed + 3, -0.2f, 0.2f);
  const Vec rvar0 = random_uniform(std::size_t(C), c.seed + 4, 0.5f, 1.5f);
  struct Fwd {
    Vec out, mean, rstd, rmean, rvar;
    std::vector<int32_t> argmax;
  };
  auto run_forward = [&](bool training) {
    DeviceArray<float> dx(k, x), dg(k, gamma), db(k, beta), rm(k, rmean0), rv(k, rvar0), dy(k, Vec(n_out));
    DeviceArray<float> mean(k, Vec(std::size_t(C))), rstd(k, Vec(std::size_t(C)));
    DeviceArray<int32_t> am(k, std::vector<int32_t>(n_out));
    k.bn_act_pool_forward(dy.get(), am.get(), mean.get(), rstd.get(), rm.get(), rv.get(), dx.get(),
                          c.bias ? dg.get() : nullptr, c.bias ? db.get() : nullptr, training, momentum, eps, alpha, d);
    return Fwd{dy.to_host(), mean.to_host(), rstd.to_host(), rm.to_host(), rv.to_host(), am.to_host()};
  };
  // Reference: the three unfused ops of the naive backend (batchnorm2d train/eval, leaky ReLU, max-pool).
  const KernelTable& ref = reference_kernels();  // host memory: plain vectors' data() are its pointers
  const float* g = c.bias ? gamma.data() : nullptr;
  const float* b = c.bias ? beta.data() : nullptr;
  Vec z(x.size()), y(x.size()), stat(std::size_t(C) * 2), rm = rmean0, rv = rvar0;
  if (c.training)
    ref.batchnorm2d_forward_train(z.data(), stat.data(), stat.data() + C, rm.data(), rv.data(), x.data(), g, b, d.N,
                                  C, HW, momentum, eps);
  else
    ref.batchnorm2d_forward_eval(z.data(), x.data(), g, b, rmean0.data(), rvar0.data(), d.N, C, HW, eps);
  ref.leakyrelu_forward(y.data(), z.data(), int64_t(z.size()), alpha);
  const Pooled r = naive_maxpool(y, d);
  const Fwd f = run_forward(c.training);
  CHECK_ALL_CLOSE(f.out, r.out, c.tol().fwd_atol, c.tol().fwd_rtol);
  CHECK_ALL_CLOSE(f.argmax, r.argmax, 0.0, 0.0);  // values 0.05 apart: the winners are unambiguous
  if (!c.training) return;  // eval with a graph wanted runs unfused (tensor/ops.cpp): no fused eval backward
  // Batch statistics and running statistics agree bit for bit with the unfused kernel's.
  {
    DeviceArray<float> dx(k, x), dg(k, gamma), db(k, beta), rm(k, rmean0), rv(k, rvar0), dy(k, Vec(x.size()));
    DeviceArray<float> mean(k, Vec(std::size_t(C))), rstd(k, Vec(std::size_t(C)));
    k.batchnorm2d_forward_train(dy.get(), mean.get(), rstd.get(), rm.get(), rv.get(), dx.get(),
                                c.bias ? dg.get() : nullptr, c.bias ? db.get() : nullptr, d.N, C, HW, momentum, eps);
    CHECK_ALL_CLOSE(f.mean, mean.to_host(), 0.0, 0.0);
    CHECK_ALL_CLOSE(f.rstd, rstd.to_host(), 0.0, 0.0);
    CHECK_ALL_CLOSE(f.rmean, rm.to_host(), 0.0, 0.0);
    CHECK_ALL_CLOSE(f.rvar, rv.to_host(), 0.0, 0.0);
  }
  // Finite differences at beta = 0, where the input construction keeps every z off the kink.
  std::fill(beta.begin(), beta.end(), 0.0f);
  const Fwd f0 = run_forward(true);
  auto forward = [&] { return run_forward(true).out; };
  auto backward = [&](const Vec& dout, const Grads& gr) {  // at the unperturbed point: its saved state
    DeviceArray<float> ddy(k, dout), dx(k, x), dg(k, gamma), db(k, beta), mean(k, f0.mean), rs(k, f0.rstd);
    DeviceArray<int32_t> am(k, f0.argmax);
    GradBuffer gx(k, grad_at(gr, 0)), gg(k, grad_at(gr, 1)), gb(k, grad_at(gr, 2));
    k.bn_act_pool_backward(gx.get(), gg.get(), gb.get(), ddy.get(), am.get(), dx.get(), c.bias ? dg.get() : nullptr,
                           c.bias ? db.get() : nullptr, mean.get(), rs.get(), alpha, d);
    gx.download(), gg.download(), gb.download();
  };
  std::vector<FdParam> params{{"input", &x}};
  if (c.bias) params.push_back({"gamma", &gamma}), params.push_back({"beta", &beta});
  check_gradients(params, forward, backward, c.tol().fd, c.seed + 7, true);
}

// ---- conv2d with batchnorm: statistics in the epilogue, folding for inference -------------------------------

void run(const KernelTable& k, const ConvBnStatsCase& c) {
  const Conv2dDims d{c.N, c.C, c.H, c.W, c.K, c.R, c.S, c.stride, c.pad};
  const float momentum = 0.1f, eps = 1e-5f;
  const int PQ = d.P() * d.Q();
  const Vec x = random_uniform(std::size_t(d.N) * d.C * d.H * d.W, c.seed);
  const Vec w = random_uniform(std::size_t(d.K) * d.C * d.R * d.S, c.seed + 1);
  Vec b = c.bias ? random_uniform(std::size_t(d.K), c.seed + 2) : Vec{};
  for (float& v : b) v += c.bias_offset;
  const Vec rmean0 = random_uniform(std::size_t(d.K), c.seed + 3, -0.2f, 0.2f);
  const Vec rvar0 = random_uniform(std::size_t(d.K), c.seed + 4, 0.5f, 1.5f);
  DeviceArray<float> dx(k, x), dw(k, w), db(k, b), dy(k, Vec(std::size_t(d.N) * d.K * PQ));
  DeviceArray<float> mean(k, Vec(std::size_t(d.K))), rstd(k, Vec(std::size_t(d.K))), rm(k, rmean0), rv(k, rvar0);
  k.conv2d_forward_bn_stats(dy.get(), mean.get(), rstd.get(), rm.get(), rv.get(), dx.get(), dw.get(),
                            c.bias ? db.get() : nullptr, momentum, eps, d);
  const Vec y = dy.to_host();
  // The output is conv2d_forward's, bit for bit (same kernel, the statistics only read it).
  {
    DeviceArray<float> plain(k, Vec(y.size()));
    k.conv2d_forward(plain.get(), dx.get(), dw.get(), c.bias ? db.get() : nullptr, d);
    CHECK_ALL_CLOSE(y, plain.to_host(), 0.0, 0.0);
  }
  // Statistics against the naive batchnorm2d's (a two-pass double reference) on the output itself.
  Vec normalized(y.size()), want_mean(std::size_t(d.K)), want_rstd(std::size_t(d.K)), want_rm = rmean0, want_rv = rvar0;
  reference_kernels().batchnorm2d_forward_train(normalized.data(), want_mean.data(), want_rstd.data(), want_rm.data(),
                                                want_rv.data(), y.data(), nullptr, nullptr, d.N, d.K, PQ, momentum,
                                                eps);
  CHECK_ALL_CLOSE(mean.to_host(), want_mean, c.tol().fwd_atol, c.tol().fwd_rtol);
  CHECK_ALL_CLOSE(rstd.to_host(), want_rstd, c.tol().fwd_atol, c.tol().fwd_rtol);
  CHECK_ALL_CLOSE(rm.to_host(), want_rm, c.tol().fwd_atol, c.tol().fwd_rtol);
  CHECK_ALL_CLOSE(rv.to_host(), want_rv, c.tol().fwd_atol, c.tol().fwd_rtol);
}

void run(const KernelTable& k, const ConvFoldBnCase& c) {
  const Conv2dDims d{c.N, c.C, c.H, c.W, c.K, c.R, c.S, c.stride, c.pad};
  const float eps = 1e-5f;
  const int CRS = d.C * d.R * d.S, PQ = d.P() * d.Q();
  const Vec x = random_uniform(std::size_t(d.N) * d.C * d.H * d.W, c.seed);
  const Vec w = random_uniform(std::size_t(d.K) * CRS, c.seed + 1);
  const Vec b = c.bias ? random_uniform(std::size_t(d.K), c.seed + 2) : Vec{};
  const Vec gamma = random_uniform(std::size_t(d.K), c.seed + 3, 0.5f, 1.5f);
  const Vec beta = random_uniform(std::size_t(d.K), c.seed + 4, -0.5f, 0.5f);
  const Vec rmean = random_uniform(std::size_t(d.K), c.seed + 5, -0.3f, 0.3f);
  const Vec rvar = random_uniform(std::size_t(d.K), c.seed + 6, 0.2f, 2.0f);
  for (bool affine : {true, false}) {
    INFO("affine " << affine);
    DeviceArray<float> dx(k, x), dw(k, w), db(k, b), dg(k, gamma), dbe(k, beta), rm(k, rmean), rv(k, rvar);
    DeviceArray<float> fw(k, Vec(w.size())), fb(k, Vec(std::size_t(d.K))), dy(k, Vec(std::size_t(d.N) * d.K * PQ));
    k.conv2d_fold_batchnorm(fw.get(), fb.get(), dw.get(), c.bias ? db.get() : nullptr, affine ? dg.get() : nullptr,
                            affine ? dbe.get() : nullptr, rm.get(), rv.get(), eps, d.K, CRS);
    k.conv2d_forward(dy.get(), dx.get(), fw.get(), fb.get(), d);
    // The reference: the naive convolution with the unfolded weights, then the naive batchnorm2d_eval.
    const KernelTable& ref = reference_kernels();  // host memory
    Vec conv(std::size_t(d.N) * d.K * PQ), want(conv.size());
    ref.conv2d_forward(conv.data(), x.data(), w.data(), c.bias ? b.data() : nullptr, d);
    ref.batchnorm2d_forward_eval(want.data(), conv.data(), affine ? gamma.data() : nullptr,
                                 affine ? beta.data() : nullptr, rmean.data(), rvar.data(), d.N, d.K, PQ, eps);
    CHECK_ALL_CLOSE(dy.to_host(), want, c.tol().fwd_atol, c.tol().fwd_rtol);
  }
}

void run(const KernelTable& k, const BnActPoolApplyCase& c) {
  const Pool2dDims d{c.N, c.C, c.H, c.W, c.window, c.stride, c.pad};
  const int HW = d.H * d.W, C = d.C;
  const std::size_t n_out = std::size_t(d.N) * C * d.P() * d.Q();
  const Vec x = kink_free_input(d.N, C, HW, c.seed);
  const Vec mean = random_uniform(std::size_t(C), c.seed + 1, -0.01f, 0.01f);
  const Vec rstd = random_uniform(std::size_t(C), c.seed + 2, 0.5f, 2.0f);
  const Vec gamma = random_uniform(std::size_t(C), c.seed + 3, 0.8f, 1.2f);
  const Vec beta = random_uniform(std::size_t(C), c.seed + 4, -0.3f, 0.3f);
  for (bool given : {true, false}) {
    INFO("statistics given " << given);
    const bool affine = given && c.bias;
    DeviceArray<float> dx(k, x), dm(k, mean), dr(k, rstd), dg(k, gamma), db(k, beta), dy(k, Vec(n_out));
    DeviceArray<int32_t> am(k, std::vector<int32_t>(n_out));
    k.bn_act_pool_apply(dy.get(), am.get(), dx.get(), given ? dm.get() : nullptr, given ? dr.get() : nullptr,
                        affine ? dg.get() : nullptr, affine ? db.get() : nullptr, c.slope, d);
    Vec y(x.size());  // the reference: (x - mean) rstd gamma + beta, the activation, then first-maximum pooling
    for (std::size_t i = 0; i < x.size(); ++i) {
      const std::size_t ch = (i / std::size_t(HW)) % std::size_t(C);
      double z = double(x[i]);
      if (given) z = (z - mean[ch]) * rstd[ch] * (affine ? gamma[ch] : 1.0) + (affine ? beta[ch] : 0.0);
      y[i] = float(z > 0.0 ? z : double(c.slope) * z);
    }
    const Pooled r = naive_maxpool(y, d);
    CHECK_ALL_CLOSE(dy.to_host(), r.out, given ? c.tol().fwd_atol : 0.0, given ? c.tol().fwd_rtol : 0.0);
    CHECK_ALL_CLOSE(am.to_host(), r.argmax, 0.0, 0.0);
  }
}

// ---- dropout ---------------------------------------------------------------------------------------------------

void run(const KernelTable& k, const DropoutCase& c) {
  const int64_t n = c.N;
  const uint64_t seed = 0x5EED0000ull + c.seed, offset = 1000003;  // offset not a multiple of 4 on purpose
  Vec x = random_uniform(std::size_t(n), c.seed);
  std::vector<uint8_t> mask;
  auto forward = [&] {
    DeviceArray<float> dx(k, x), dy(k, Vec(std::size_t(n)));
    DeviceArray<uint8_t> dm(k, std::vector<uint8_t>(std::size_t(n)));
    k.dropout_forward(dy.get(), dm.get(), dx.get(), n, c.p, seed, offset);
    mask = dm.to_host();
    return dy.to_host();
  };
  const Vec out = forward();
  const std::vector<uint8_t> saved = mask;
  std::vector<uint8_t> keep(static_cast<std::size_t>(n));
  std::vector<double> expect(static_cast<std::size_t>(n));
  for (int64_t i = 0; i < n; ++i) {  // the contract of kernels/dropout.h: keep_i = [philox_uniform(seed, offset+i) >= p]
    keep[std::size_t(i)] = philox_uniform(seed, offset + uint64_t(i)) >= c.p;
    expect[std::size_t(i)] = keep[std::size_t(i)] ? double(x[std::size_t(i)]) / (1.0 - c.p) : 0.0;
  }
  CHECK_ALL_CLOSE(saved, keep, 0.0, 0.0);
  CHECK_ALL_CLOSE(out, expect, c.tol().fwd_atol, c.tol().fwd_rtol);
  auto backward = [&](const Vec& dout, const Grads& g) {
    DeviceArray<float> ddy(k, dout);
    DeviceArray<uint8_t> dm(k, saved);
    GradBuffer gx(k, grad_at(g, 0));
    k.dropout_backward(gx.get(), ddy.get(), dm.get(), n, c.p);
    gx.download();
  };
  check_gradients({{"input", &x}}, forward, backward, c.tol().fd, c.seed + 7, false);
}

// ---- relu, leakyrelu -------------------------------------------------------------------------------------------

void run(const KernelTable& k, const ActivationCase& c) {
  const bool leaky = c.leaky;
  const int64_t n = c.N;
  Vec x(static_cast<std::size_t>(n));  // |x| >= 0.05: no kink within a finite-difference step
  Rng rng(c.seed);
  for (auto& v : x) v = (rng.integer(0, 1) ? 1.0f : -1.0f) * rng.uniform(0.05f, 1.0f);
  auto forward = [&] {
    DeviceArray<float> dx(k, x), dy(k, Vec(x.size()));
    if (leaky) k.leakyrelu_forward(dy.get(), dx.get(), n, c.slope);
    else k.relu_forward(dy.get(), dx.get(), n);
    return dy.to_host();
  };
  Vec expect(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) expect[i] = x[i] > 0 ? x[i] : (leaky ? c.slope * x[i] : 0.0f);
  CHECK_ALL_CLOSE(forward(), expect, c.tol().fwd_atol, c.tol().fwd_rtol);
  auto backward = [&](const Vec& dout, const Grads& g) {
    DeviceArray<float> ddy(k, dout), dx(k, x);
    GradBuffer gx(k, grad_at(g, 0));
    if (leaky) k.leakyrelu_backward(gx.get(), ddy.get(), dx.get(), n, c.slope);
    else k.relu_backward(gx.get(), ddy.get(), dx.get(), n);
    gx.download();
  };
  check_gradients({{"input", &x}}, forward, backward, c.tol().fd, c.seed + 7, false);
}

// ---- softmax, softmax + cross-entropy --------------------------------------------------------------------------

void run(const KernelTable& k, const SoftmaxCase& c) {
  const int B = c.N, C = c.C;
  const Vec z = random_uniform(std::size_t(B) * C, c.seed, -c.logit_range, c.logit_range);
  auto forward_on = [&](const KernelTable& kt) {
    DeviceArray<float> dz(kt, z), dp(kt, Vec(z.size()));
    kt.softmax_forward(dp.get(), dz.get(), B, C);
    return dp.to_host();
  };
  CHECK_ALL_CLOSE(forward_on(k), forward_on(reference_kernels()), c.tol().fwd_atol, c.tol().fwd_rtol);
}

void run(const KernelTable& k, const SoftmaxCeCase& c) {
  const int B = c.N, C = c.C;
  Vec z = random_uniform(std::size_t(B) * C, c.seed, -c.logit_range, c.logit_range);
  std::vector<int32_t> y(static_cast<std::size_t>(B));
  Rng rng(c.seed + 1);
  for (auto& t : y) t = int32_t(rng.integer(0, C - 1));
  if (B > 2) y[1] = -1;  // an unlabelled row: loss 0, no gradient
  const Vec weights = c.weighted ? random_uniform(std::size_t(C), c.seed + 2, 0.5f, 2.0f) : Vec{};
  const float* no_weights = nullptr;
  Vec probs;
  auto forward_on = [&](const KernelTable& kt) {
    DeviceArray<float> dz(kt, z), dl(kt, Vec(std::size_t(B))), dp(kt, Vec(z.size())), dw(kt, weights);
    DeviceArray<int32_t> dy(kt, y);
    kt.softmax_cross_entropy_forward(dl.get(), dp.get(), dz.get(), dy.get(), c.weighted ? dw.get() : no_weights, B,
                                     C, c.label_smoothing);
    probs = dp.to_host();
    return dl.to_host();
  };
  auto forward = [&] { return forward_on(k); };
  const Vec want = forward_on(reference_kernels());
  const Vec want_probs = probs;
  const Vec losses = forward();
  const Vec saved = probs;
  CHECK_ALL_CLOSE(losses, want, c.tol().fwd_atol, c.tol().fwd_rtol);
  CHECK_ALL_CLOSE(saved, want_probs, c.tol().fwd_atol, c.tol().fwd_rtol);
  auto backward = [&](const Vec& dlosses, const Grads& g) {
    DeviceArray<float> dl(k, dlosses), dp(k, saved), dw(k, weights);
    DeviceArray<int32_t> dy(k, y);
    GradBuffer gz(k, grad_at(g, 0));
    k.softmax_cross_entropy_backward(gz.get(), dl.get(), dp.get(), dy.get(), c.weighted ? dw.get() : no_weights, B, C,
                                     c.label_smoothing);
    gz.download();
  };
  if (B > 2) {  // the unlabelled row's gradient is left exactly as it was
    Vec before = random_uniform(z.size(), c.seed + 3), after = before;
    backward(Vec(std::size_t(B), 1.0f), {&after});
    const Vec row_before(before.begin() + C, before.begin() + 2 * C), row_after(after.begin() + C, after.begin() + 2 * C);
    CHECK_ALL_CLOSE(row_after, row_before, 0.0, 0.0);
  }
  check_gradients({{"logits", &z}}, forward, backward, c.tol().fd, c.seed + 7, false);
}

// ---- mse -------------------------------------------------------------------------------------------------------

void run(const KernelTable& k, const MseCase& c) {
  const int64_t n = c.N;
  Vec pred = random_uniform(std::size_t(n), c.seed);
  const Vec target = random_uniform(std::size_t(n), c.seed + 1);
  auto forward_on = [&](const KernelTable& kt) {
    DeviceArray<float> dp(kt, pred), dt(kt, target), dl(kt, Vec(1));
    kt.mse_forward(dl.get(), dp.get(), dt.get(), n);
    return dl.to_host();
  };
  auto forward = [&] { return forward_on(k); };
  CHECK_ALL_CLOSE(forward(), forward_on(reference_kernels()), c.tol().fwd_atol, c.tol().fwd_rtol);
  auto backward = [&](const Vec& dloss, const Grads& g) {
    DeviceArray<float> dl(k, dloss), dp(k, pred), dt(k, target);
    GradBuffer gp(k, grad_at(g, 0));
    k.mse_backward(gp.get(), dl.get(), dp.get(), dt.get(), n);
    gp.download();
  };
  check_gradients({{"pred", &pred}}, forward, backward, c.tol().fd, c.seed + 7, false);
}

// ---- elementwise -----------------------------------------------------------------------------------------------

void run(const KernelTable& k, const AddCase& c) {
  const int64_t n = c.N;
  Vec a = random_uniform(std::size_t(n), c.seed), b = random_uniform(std::size_t(n), c.seed + 1);
  auto forward = [&] {
    DeviceArray<float> da(k, a), db(k, b), dy(k, Vec(a.size()));
    k.add_forward(dy.get(), da.get(), db.get(), n);
    return dy.to_host();
  };
  Vec expect(a.size());
  for (std::size_t i = 0; i < a.size(); ++i) expect[i] = a[i] + b[i];
  CHECK_ALL_CLOSE(forward(), expect, c.tol().fwd_atol, c.tol().fwd_rtol);
  auto backward = [&](const Vec& dout, const Grads& g) {  // autograd's add backward: accumulate into each
    DeviceArray<float> ddy(k, dout);
    GradBuffer ga(k, grad_at(g, 0)), gb(k, grad_at(g, 1));
    if (ga.get()) k.accumulate(ga.get(), ddy.get(), n);
    if (gb.get()) k.accumulate(gb.get(), ddy.get(), n);
    ga.download(), gb.download();
  };
  check_gradients({{"a", &a}, {"b", &b}}, forward, backward, c.tol().fd, c.seed + 7, false);
}

void run(const KernelTable& k, const MulCase& c) {
  const int64_t n = c.N;
  Vec a = random_uniform(std::size_t(n), c.seed), b = random_uniform(std::size_t(n), c.seed + 1);
  auto forward = [&] {
    DeviceArray<float> da(k, a), db(k, b), dy(k, Vec(a.size()));
    k.mul_forward(dy.get(), da.get(), db.get(), n);
    return dy.to_host();
  };
  Vec expect(a.size());
  for (std::size_t i = 0; i < a.size(); ++i) expect[i] = a[i] * b[i];
  CHECK_ALL_CLOSE(forward(), expect, c.tol().fwd_atol, c.tol().fwd_rtol);
  auto backward = [&](const Vec& dout, const Grads& g) {
    DeviceArray<float> ddy(k, dout), da(k, a), db(k, b);
    GradBuffer ga(k, grad_at(g, 0)), gb(k, grad_at(g, 1));
    k.mul_backward(ga.get(), gb.get(), ddy.get(), da.get(), db.get(), n);
    ga.download(), gb.download();
  };
  check_gradients({{"a", &a}, {"b", &b}}, forward, backward, c.tol().fd, c.seed + 7, true);
}

void run(const KernelTable& k, const ScaleCase& c) {
  const int64_t n = c.N;
  Vec x = random_uniform(std::size_t(n), c.seed);
  auto forward = [&] {
    DeviceArray<float> dx(k, x), dy(k, Vec(x.size()));
    k.scale_forward(dy.get(), dx.get(), c.factor, n);
    return dy.to_host();
  };
  Vec expect(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) expect[i] = c.factor * x[i];
  CHECK_ALL_CLOSE(forward(), expect, c.tol().fwd_atol, c.tol().fwd_rtol);
  {  // in place (out == in), as the cross-entropy op uses it
    DeviceArray<float> dx(k, x);
    k.scale_forward(dx.get(), dx.get(), c.factor, n);
    CHECK_ALL_CLOSE(dx.to_host(), expect, c.tol().fwd_atol, c.tol().fwd_rtol);
  }
  auto backward = [&](const Vec& dout, const Grads& g) {  // autograd's scale backward: din += s * dout
    DeviceArray<float> ddy(k, dout);
    GradBuffer gx(k, grad_at(g, 0));
    k.axpy(gx.get(), c.factor, ddy.get(), n);
    gx.download();
  };
  check_gradients({{"input", &x}}, forward, backward, c.tol().fd, c.seed + 7, false);
}

void run(const KernelTable& k, const SumCase& c) {
  const int64_t n = c.N;
  Vec x = random_uniform(std::size_t(n), c.seed);
  auto forward = [&] {
    DeviceArray<float> dx(k, x), dy(k, Vec{123.0f});  // overwritten, not accumulated
    k.sum_forward(dy.get(), dx.get(), n);
    return dy.to_host();
  };
  double s = 0;
  for (float v : x) s += v;
  CHECK_ALL_CLOSE(forward(), std::vector<double>{s}, c.tol().fwd_atol, c.tol().fwd_rtol);
  auto backward = [&](const Vec& dout, const Grads& g) {
    DeviceArray<float> ddy(k, dout);
    GradBuffer gx(k, grad_at(g, 0));
    k.sum_backward(gx.get(), ddy.get(), n);
    gx.download();
  };
  check_gradients({{"input", &x}}, forward, backward, c.tol().fd, c.seed + 7, false);
}

void run(const KernelTable& k, const SumSquaresCase& c) {
  const int64_t n = c.N;
  const Vec x = random_uniform(std::size_t(n), c.seed);
  DeviceArray<float> dx(k, x), dy(k, Vec{123.0f});
  k.sum_squares(dy.get(), dx.get(), n);
  double s = 0;
  for (float v : x) s += double(v) * v;
  CHECK_ALL_CLOSE(dy.to_host(), std::vector<double>{s}, c.tol().fwd_atol, c.tol().fwd_rtol);
}

void run(const KernelTable& k, const SliceColumnsCase& c) {
  const int B = c.N, D = c.C;
  Vec x = random_uniform(std::size_t(B) * D, c.seed);
  auto forward = [&] {
    DeviceArray<float> dx(k, x), dy(k, Vec(std::size_t(B) * c.width));
    k.slice_columns_forward(dy.get(), dx.get(), B, D, c.start, c.width);
    return dy.to_host();
  };
  Vec expect;
  for (int b = 0; b < B; ++b)
    for (int j = 0; j < c.width; ++j) expect.push_back(x[std::size_t(b) * D + c.start + j]);
  CHECK_ALL_CLOSE(forward(), expect, c.tol().fwd_atol, c.tol().fwd_rtol);
  auto backward = [&](const Vec& dout, const Grads& g) {
    DeviceArray<float> ddy(k, dout);
    GradBuffer gx(k, grad_at(g, 0));
    k.slice_columns_backward(gx.get(), ddy.get(), B, D, c.start, c.width);
    gx.download();
  };
  check_gradients({{"input", &x}}, forward, backward, c.tol().fd, c.seed + 7, false);
}

void run(const KernelTable& k, const FillCase& c) {
  DeviceArray<float> dx(k, random_uniform(std::size_t(c.N), c.seed));
  k.fill(dx.get(), c.value, c.N);
  CHECK_ALL_CLOSE(dx.to_host(), Vec(std::size_t(c.N), c.value), c.tol().fwd_atol, c.tol().fwd_rtol);
}

void run(const KernelTable& k, const AccumulateCase& c) {
  const bool axpy = c.axpy;
  const Vec y = random_uniform(std::size_t(c.N), c.seed), x = random_uniform(std::size_t(c.N), c.seed + 1);
  DeviceArray<float> dy(k, y), dx(k, x);
  if (axpy) k.axpy(dy.get(), c.factor, dx.get(), c.N);
  else k.accumulate(dy.get(), dx.get(), c.N);
  std::vector<double> expect(y.size());
  for (std::size_t i = 0; i < y.size(); ++i) expect[i] = double(y[i]) + (axpy ? double(c.factor) : 1.0) * x[i];
  CHECK_ALL_CLOSE(dy.to_host(), expect, c.tol().fwd_atol, c.tol().fwd_rtol);
}

}  // namespace

TEST_CASE(
    "ops table: forward vs the naive backend and backward vs finite differences, every op and backend") {
  for (Backend be : backends_under_test()) {
    const KernelTable& k = kernel_table(be);
    for (const OpCase& op_case : kCases)
      std::visit(
          [&](const auto& c) {
            INFO("backend " << backend_name(be) << ", case " << c.describe());
            run(k, c);
          },
          op_case);
  }
}

TEST_CASE("ops table: every op struct has a row") {
  std::vector<bool> used(std::variant_size_v<OpCase>, false);
  for (const OpCase& c : kCases) used[c.index()] = true;
  for (std::size_t i = 0; i < used.size(); ++i) {
    INFO("alternative " << i << " of OpCase has no row in kCases");
    CHECK(used[i]);
  }
}

}  // namespace facet::test
