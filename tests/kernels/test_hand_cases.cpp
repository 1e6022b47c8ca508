// Small cases with expected values worked out by hand (in the comments), on every backend. Integer data must
// come out bit-exact; results that go through exp/log/sqrt are checked to ~1e-6 relative.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "kernels/philox.h"
#include "tests/common/check.h"
#include "tests/kernels/backend.h"

namespace facet::test {
namespace {

using Vec = std::vector<float>;
using Ints = std::vector<int32_t>;

// The 3x3 image used by the convolution cases:   1 2 3
//                                                 4 5 6
//                                                 7 8 9
const Vec kImage3x3 = {1, 2, 3, 4, 5, 6, 7, 8, 9};

TEST_CASE("hand: conv2d 1x1x3x3 with a 2x2 kernel, forward and backward") {
  for (Backend be : backends_under_test()) {
    INFO("backend " << backend_name(be));
    const KernelTable& k = kernel_table(be);
    const Conv2dDims d{1, 1, 3, 3, 1, 2, 2, 1, 0};  // out 1x1x2x2
    // kernel [[1,2],[3,4]], bias 0.5:  out[0,0] = 1*1 + 2*2 + 3*4 + 4*5 + 0.5 = 37.5, then 47.5, 67.5, 77.5
    const Vec w = {1, 2, 3, 4}, b = {0.5f};
    DeviceArray<float> x(k, kImage3x3), dw(k, w), db(k, b), y(k, Vec(4));
    k.conv2d_forward(y.get(), x.get(), dw.get(), db.get(), d);
    CHECK_ALL_CLOSE(y.to_host(), (Vec{37.5f, 47.5f, 67.5f, 77.5f}), 0.0, 0.0);

    // dout = ones: dW[r,s] = sum of the inputs under (r,s) over the 4 windows = [12, 16, 24, 28]; dbias = 4;
    // din[h,w] = sum of the kernel taps that touch (h,w):  1 3 2 / 4 10 6 / 3 7 4.  Gradients start at 1 (+=).
    DeviceArray<float> dy(k, Vec(4, 1.0f)), gx(k, Vec(9, 1.0f)), gw(k, Vec(4, 1.0f)), gb(k, Vec(1, 1.0f));
    k.conv2d_backward(gx.get(), gw.get(), gb.get(), dy.get(), x.get(), dw.get(), d);
    CHECK_ALL_CLOSE(gw.to_host(), (Vec{13, 17, 25, 29}), 0.0, 0.0);
    CHECK_ALL_CLOSE(gb.to_host(), (Vec{5}), 0.0, 0.0);
    CHECK_ALL_CLOSE(gx.to_host(), (Vec{2, 4, 3, 5, 11, 7, 4, 8, 5}), 0.0, 0.0);
  }
}

TEST_CASE("hand: conv2d 3x3 box filter with padding 1, stride 1 and 2") {
  for (Backend be : backends_under_test()) {
    INFO("backend " << backend_name(be));
    const KernelTable& k = kernel_table(be);
    // All-ones 3x3 kernel, zero padding 1: each output is the sum of the 3x3 neighbourhood inside the image.
    DeviceArray<float> x(k, kImage3x3), w(k, Vec(9, 1.0f)), y(k, Vec(9));
    k.conv2d_forward(y.get(), x.get(), w.get(), nullptr, Conv2dDims{1, 1, 3, 3, 1, 3, 3, 1, 1});
    CHECK_ALL_CLOSE(y.to_host(), (Vec{12, 21, 16, 27, 45, 33, 24, 39, 28}), 0.0, 0.0);
    // Stride 2 keeps the corners: P = (3 + 2 - 3)/2 + 1 = 2.
    DeviceArray<float> y2(k, Vec(4));
    k.conv2d_forward(y2.get(), x.get(), w.get(), nullptr, Conv2dDims{1, 1, 3, 3, 1, 3, 3, 2, 1});
    CHECK_ALL_CLOSE(y2.to_host(), (Vec{12, 16, 24, 28}), 0.0, 0.0);
  }
}

TEST_CASE("hand: maxpool2d 2x2 stride 2, argmax and gradient routing") {
  for (Backend be : backends_under_test()) {
    INFO("backend " << backend_name(be));
    const KernelTable& k = kernel_table(be);
    // 1 3 | 2 0      windows: {1,3,4,2} -> 4 at (1,0) = 4     {2,0,1,5} -> 5 at (1,3) = 7
    // 4 2 | 1 5               {0,1,2,9} -> 9 at (3,1) = 13    {7,7,3,1} -> 7, first at (2,2) = 10 (tie)
    // ----+----
    // 0 1 | 7 7
    // 2 9 | 3 1
    const Vec in = {1, 3, 2, 0, 4, 2, 1, 5, 0, 1, 7, 7, 2, 9, 3, 1};
    const Pool2dDims d{1, 1, 4, 4, 2, 2, 0};
    DeviceArray<float> x(k, in), y(k, Vec(4));
    DeviceArray<int32_t> am(k, Ints(4));
    k.maxpool2d_forward(y.get(), am.get(), x.get(), d);
    CHECK_ALL_CLOSE(y.to_host(), (Vec{4, 5, 9, 7}), 0.0, 0.0);
    CHECK_ALL_CLOSE(am.to_host(), (Ints{4, 7, 13, 10}), 0.0, 0.0);
    // dout = [1, 2, 3, 4] lands on the winners; everything else keeps its old value (0.5).
    DeviceArray<float> dy(k, Vec{1, 2, 3, 4}), gx(k, Vec(16, 0.5f));
    k.maxpool2d_backward(gx.get(), dy.get(), am.get(), d);
    Vec expect(16, 0.5f);
    expect[4] += 1, expect[7] += 2, expect[13] += 3, expect[10] += 4;
    CHECK_ALL_CLOSE(gx.to_host(), expect, 0.0, 0.0);
  }
}

TEST_CASE("hand: maxpool2d padding never wins, overlapping windows accumulate") {
  for (Backend be : backends_under_test()) {
    INFO("backend " << backend_name(be));
    const KernelTable& k = kernel_table(be);
    // 2x2 input of negatives, 3x3 window, pad 1, stride 1: P = Q = 2 and every window covers the whole image,
    // so every output is -1 (index 3) although the padding (0 in a zero-padded view) is larger.
    const Pool2dDims d{1, 1, 2, 2, 3, 1, 1};
    DeviceArray<float> x(k, Vec{-4, -3, -2, -1}), y(k, Vec(4));
    DeviceArray<int32_t> am(k, Ints(4));
    k.maxpool2d_forward(y.get(), am.get(), x.get(), d);
    CHECK_ALL_CLOSE(y.to_host(), (Vec{-1, -1, -1, -1}), 0.0, 0.0);
    CHECK_ALL_CLOSE(am.to_host(), (Ints{3, 3, 3, 3}), 0.0, 0.0);
    DeviceArray<float> dy(k, Vec{1, 2, 3, 4}), gx(k, Vec(4));
    k.maxpool2d_backward(gx.get(), dy.get(), am.get(), d);
    CHECK_ALL_CLOSE(gx.to_host(), (Vec{0, 0, 0, 10}), 0.0, 0.0);
  }
}

TEST_CASE("hand: softmax cross-entropy on logits [1, 2, 3]") {
  // S = e^1 + e^2 + e^3,  log S = 3.40760596444438,  p = [0.0900305731703805, 0.244728471054798, 0.665240955774822]
  const std::vector<double> p = {0.0900305731703805, 0.244728471054798, 0.665240955774822};
  // loss = (1-eps) w_y (-log p_y) + (eps/C) sum_c w_c (-log p_c) (PyTorch's weighted smoothing), and
  // dloss/dz_c = a p_c - t_c with a = (1-eps) w_y + (eps/C) sum_c w_c, t_c = (1-eps) w_y [c == y] + (eps/C) w_c.
  struct Row {
    int32_t target;
    float smoothing;
    bool weighted;  // class weights [1, 1, 2]
    double loss;
    double a;
    std::vector<double> t;
  };
  const Row rows[] = {
      {2, 0.0f, false, 0.40760596444438, 1, {0, 0, 1}},          // log S - 3
      {0, 0.0f, false, 2.40760596444438, 1, {1, 0, 0}},          // log S - 1
      {2, 0.3f, false, 0.70760596444438, 1, {0.1, 0.1, 0.8}},    // q = 0.7 onehot + 0.1: log S - 2.7
      // Weights [1, 1, 2], eps 0.3, y = 2: 0.7 * 2 * (log S - 3) + 0.1 * (1 (log S - 1) + 1 (log S - 2) +
      // 2 (log S - 3)) = 1.8 log S - 4.2 - 0.9 = 1.03369073599988 (PyTorch's cross_entropy(weight=[1,1,2],
      // label_smoothing=0.3, reduction='sum')); facet used to weight the whole row by w_y: 1.41521192888876.
      // a = 0.7 * 2 + 0.1 * 4 = 1.8, t = [0.1, 0.1, 1.4 + 0.2].
      {2, 0.3f, true, 1.03369073599988, 1.8, {0.1, 0.1, 1.6}},
      {-1, 0.3f, true, 0.0, 0, {0, 0, 0}},                        // no label: loss 0, no gradient
  };
  for (Backend be : backends_under_test()) {
    const KernelTable& k = kernel_table(be);
    for (const Row& r : rows) {
      INFO("backend " << backend_name(be) << ", target " << r.target << ", smoothing " << r.smoothing
                      << ", weighted " << r.weighted);
      DeviceArray<float> z(k, Vec{1, 2, 3}), loss(k, Vec(1)), probs(k, Vec(3)), w(k, Vec{1, 1, 2});
      DeviceArray<int32_t> y(k, Ints{r.target});
      const float* weights = r.weighted ? w.get() : nullptr;
      k.softmax_cross_entropy_forward(loss.get(), probs.get(), z.get(), y.get(), weights, 1, 3, r.smoothing);
      CHECK_ALL_CLOSE(loss.to_host(), std::vector<double>{r.loss}, 1e-7, 1e-6);
      CHECK_ALL_CLOSE(probs.to_host(), p, 1e-7, 1e-6);
      // dz = dloss * (a p - t) with dloss = 0.5
      DeviceArray<float> dloss(k, Vec{0.5f}), dz(k, Vec(3));
      k.softmax_cross_entropy_backward(dz.get(), dloss.get(), probs.get(), y.get(), weights, 1, 3, r.smoothing);
      std::vector<double> expect(3);
      for (int c = 0; c < 3; ++c) expect[size_t(c)] = 0.5 * (r.a * p[size_t(c)] - r.t[size_t(c)]);
      CHECK_ALL_CLOSE(dz.to_host(), expect, 1e-7, 1e-6);
    }
  }
}

TEST_CASE("hand: softmax cross-entropy stays finite for huge logits") {
  for (Backend be : backends_under_test()) {
    INFO("backend " << backend_name(be));
    const KernelTable& k = kernel_table(be);
    // logits [1000, 0, -1000]: log-sum-exp = 1000 (+ e^-1000), so the loss is 0 for target 0 and 2000 for
    // target 2; a naive exp would overflow to inf/NaN.
    DeviceArray<float> z(k, Vec{1000, 0, -1000, 1000, 0, -1000}), loss(k, Vec(2)), probs(k, Vec(6));
    DeviceArray<int32_t> y(k, Ints{0, 2});
    k.softmax_cross_entropy_forward(loss.get(), probs.get(), z.get(), y.get(), nullptr, 2, 3, 0.0f);
    CHECK_ALL_CLOSE(loss.to_host(), (Vec{0, 2000}), 1e-6, 1e-6);
    CHECK_ALL_CLOSE(probs.to_host(), (Vec{1, 0, 0, 1, 0, 0}), 1e-7, 0.0);
  }
}

TEST_CASE("hand: linear with small integers is exact") {
  for (Backend be : backends_under_test()) {
    INFO("backend " << backend_name(be));
    const KernelTable& k = kernel_table(be);
    // in [[1,2,3],[4,5,6]], W [[1,0,-1],[2,1,0]], b [1,-1]:  out = [[1-3+1, 2+2-1], [4-6+1, 8+5-1]]
    DeviceArray<float> x(k, Vec{1, 2, 3, 4, 5, 6}), w(k, Vec{1, 0, -1, 2, 1, 0}), b(k, Vec{1, -1}), y(k, Vec(4));
    k.linear_forward(y.get(), x.get(), w.get(), b.get(), 2, 3, 2);
    CHECK_ALL_CLOSE(y.to_host(), (Vec{-1, 3, -1, 12}), 0.0, 0.0);
    // dout = identity: din = dout W = W, dW = dout^T in = in, dbias = [1, 1]; all start at 1 (+=).
    DeviceArray<float> dy(k, Vec{1, 0, 0, 1}), gx(k, Vec(6, 1.0f)), gw(k, Vec(6, 1.0f)), gb(k, Vec(2, 1.0f));
    k.linear_backward(gx.get(), gw.get(), gb.get(), dy.get(), x.get(), w.get(), 2, 3, 2);
    CHECK_ALL_CLOSE(gx.to_host(), (Vec{2, 1, 0, 3, 2, 1}), 0.0, 0.0);
    CHECK_ALL_CLOSE(gw.to_host(), (Vec{2, 3, 4, 5, 6, 7}), 0.0, 0.0);
    CHECK_ALL_CLOSE(gb.to_host(), (Vec{2, 2}), 0.0, 0.0);
  }
}

TEST_CASE("hand: batchnorm2d of [1, 2, 3, 4] (one channel, eps 0)") {
  for (Backend be : backends_under_test()) {
    INFO("backend " << backend_name(be));
    const KernelTable& k = kernel_table(be);
    // mean 2.5, var 1.25, rstd 1/sqrt(1.25) = 0.894427191, xhat = [-1.5,-0.5,0.5,1.5] * rstd
    // running_mean = 0.9*0 + 0.1*2.5 = 0.25, running_var = 0.9*1 + 0.1*1.25*4/3 = 1.0666667 (unbiased)
    DeviceArray<float> x(k, Vec{1, 2, 3, 4}), y(k, Vec(4)), mean(k, Vec(1)), rstd(k, Vec(1));
    DeviceArray<float> rm(k, Vec{0}), rv(k, Vec{1});
    k.batchnorm2d_forward_train(y.get(), mean.get(), rstd.get(), rm.get(), rv.get(), x.get(), nullptr, nullptr, 4, 1, 1,
                                0.1f, 0.0f);
    const double xh0 = 1.3416407864998738, xh1 = 0.4472135954999579;
    CHECK_ALL_CLOSE(y.to_host(), (std::vector<double>{-xh0, -xh1, xh1, xh0}), 1e-6, 1e-6);
    CHECK_ALL_CLOSE(mean.to_host(), (Vec{2.5f}), 0.0, 0.0);
    CHECK_ALL_CLOSE(rstd.to_host(), (std::vector<double>{0.8944271909999159}), 0.0, 1e-6);
    CHECK_ALL_CLOSE(rm.to_host(), (std::vector<double>{0.25}), 0.0, 1e-6);
    CHECK_ALL_CLOSE(rv.to_host(), (std::vector<double>{1.0666666666666667}), 0.0, 1e-6);
    // dout = [1,0,0,0], gamma = 1: dbeta = 1, dgamma = xhat_0 = -1.3416408,
    // dx_i = rstd (dy_i - 1/4 - xhat_i dgamma / 4) = rstd * [0.3, -0.4, -0.1, 0.2]
    DeviceArray<float> dy(k, Vec{1, 0, 0, 0}), gx(k, Vec(4)), gg(k, Vec(1)), gb(k, Vec(1));
    k.batchnorm2d_backward(gx.get(), gg.get(), gb.get(), dy.get(), x.get(), nullptr, mean.get(), rstd.get(), 4, 1, 1);
    const double r = 0.8944271909999159;
    CHECK_ALL_CLOSE(gx.to_host(), (std::vector<double>{0.3 * r, -0.4 * r, -0.1 * r, 0.2 * r}), 1e-6, 1e-5);
    CHECK_ALL_CLOSE(gg.to_host(), (std::vector<double>{-xh0}), 1e-6, 1e-6);
    CHECK_ALL_CLOSE(gb.to_host(), (Vec{1}), 0.0, 0.0);
  }
}

TEST_CASE("hand: mse, sum, sum_squares") {
  for (Backend be : backends_under_test()) {
    INFO("backend " << backend_name(be));
    const KernelTable& k = kernel_table(be);
    // pred [1,2,3], target [1,0,0]: loss = (0 + 4 + 9)/3; d/dpred = dloss * 2 (p - t)/3 = 0.5 * [0, 4/3, 2]
    DeviceArray<float> p(k, Vec{1, 2, 3}), t(k, Vec{1, 0, 0}), loss(k, Vec(1)), dl(k, Vec{0.5f}), g(k, Vec(3));
    k.mse_forward(loss.get(), p.get(), t.get(), 3);
    CHECK_ALL_CLOSE(loss.to_host(), (std::vector<double>{13.0 / 3.0}), 0.0, 1e-7);
    k.mse_backward(g.get(), dl.get(), p.get(), t.get(), 3);
    CHECK_ALL_CLOSE(g.to_host(), (std::vector<double>{0, 2.0 / 3.0, 1.0}), 0.0, 1e-7);
    DeviceArray<float> x(k, Vec{1, 2, 3, 4}), s(k, Vec(1));
    k.sum_forward(s.get(), x.get(), 4);
    CHECK_ALL_CLOSE(s.to_host(), (Vec{10}), 0.0, 0.0);
    k.sum_squares(s.get(), x.get(), 4);
    CHECK_ALL_CLOSE(s.to_host(), (Vec{30}), 0.0, 0.0);
  }
}

TEST_CASE("hand: relu and leakyrelu at and around 0") {
  for (Backend be : backends_under_test()) {
    INFO("backend " << backend_name(be));
    const KernelTable& k = kernel_table(be);
    // relu'(0) = 0 and leakyrelu'(0) = alpha (the derivative of the x <= 0 branch).
    DeviceArray<float> x(k, Vec{-2, 0, 3}), y(k, Vec(3)), dy(k, Vec{1, 1, 1}), g(k, Vec(3));
    k.relu_forward(y.get(), x.get(), 3);
    CHECK_ALL_CLOSE(y.to_host(), (Vec{0, 0, 3}), 0.0, 0.0);
    k.relu_backward(g.get(), dy.get(), x.get(), 3);
    CHECK_ALL_CLOSE(g.to_host(), (Vec{0, 0, 1}), 0.0, 0.0);
    k.leakyrelu_forward(y.get(), x.get(), 3, 0.25f);
    CHECK_ALL_CLOSE(y.to_host(), (Vec{-0.5f, 0, 3}), 0.0, 0.0);
    k.leakyrelu_backward(g.get(), dy.get(), x.get(), 3, 0.25f);  // += onto the relu gradient
    CHECK_ALL_CLOSE(g.to_host(), (Vec{0.25f, 0.25f, 2}), 0.0, 0.0);
  }
}

TEST_CASE("hand: dropout keeps about 1-p, scales kept values, mask is a function of (seed, offset + i)") {
  for (Backend be : backends_under_test()) {
    INFO("backend " << backend_name(be));
    const KernelTable& k = kernel_table(be);
    const int64_t n = 100000;
    const Vec in = random_uniform(size_t(n), 11, 0.5f, 1.5f);  // never 0, so a 0 output means dropped
    auto run = [&](float p, uint64_t seed, uint64_t offset, Vec* out_host) {
      DeviceArray<float> x(k, in), y(k, Vec(size_t(n)));
      DeviceArray<uint8_t> m(k, std::vector<uint8_t>(size_t(n)));
      k.dropout_forward(y.get(), m.get(), x.get(), n, p, seed, offset);
      if (out_host) *out_host = y.to_host();
      return m.to_host();
    };
    Vec out;
    const std::vector<uint8_t> m = run(0.5f, 42, 0, &out);
    int64_t kept = 0;
    bool scaled = true;
    for (int64_t i = 0; i < n; ++i) {
      kept += m[size_t(i)];
      scaled = scaled && out[size_t(i)] == (m[size_t(i)] ? 2.0f * in[size_t(i)] : 0.0f);  // x / (1 - 0.5) is exact
    }
    // Binomial(1e5, 0.5): standard deviation 158 kept; the band is > 6 sigma (and the seed is fixed).
    CHECK(kept > 49000);
    CHECK(kept < 51000);
    CHECK(scaled);
    // Shifting the offset by 5 shifts the mask by 5 elements; same arguments give the same mask.
    const std::vector<uint8_t> shifted = run(0.5f, 42, 5, nullptr);
    CHECK(std::equal(shifted.begin(), shifted.end() - 5, m.begin() + 5));
    CHECK(run(0.5f, 42, 0, nullptr) == m);
    // Another seed gives an unrelated mask (agreement about 50%).
    const std::vector<uint8_t> other = run(0.5f, 43, 0, nullptr);
    int64_t same = 0;
    for (int64_t i = 0; i < n; ++i) same += other[size_t(i)] == m[size_t(i)];
    CHECK(same > 49000);
    CHECK(same < 51000);
    // p = 0 keeps everything unchanged.
    const std::vector<uint8_t> all = run(0.0f, 42, 0, &out);
    CHECK(std::count(all.begin(), all.end(), uint8_t(1)) == n);
    CHECK(out == in);
  }
}

}  // namespace
}  // namespace facet::test
