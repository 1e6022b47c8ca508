// The CPU kernels' reductions run in a fixed order, so their results are bit-identical for any number of
// OpenMP threads. Checked here for the kernels whose reductions are our own (sums, mse, batchnorm statistics
// and gradients, cross-entropy, conv2d's bias gradient). Not claimed for results that go through sgemm
// (conv2d/linear weight gradients): the fast sgemm splits long reductions (K) across threads, so there the
// last bits can depend on the thread count.
#include <omp.h>

#include <catch2/catch.hpp>

#include <cstdint>
#include <functional>
#include <vector>

#include "kernels/batchnorm2d.h"
#include "kernels/conv2d.h"
#include "kernels/elementwise.h"
#include "kernels/mse.h"
#include "kernels/softmax_ce.h"
#include "tests/common/check.h"

namespace facet::test {
namespace {

using Vec = std::vector<float>;

// Runs f with 1 and with 3 threads (sizes are above every parallel threshold) and returns both results.
std::pair<Vec, Vec> with_1_and_3_threads(const std::function<Vec()>& f) {
  const int saved = omp_get_max_threads();
  omp_set_num_threads(1);
  Vec one = f();
  omp_set_num_threads(3);
  Vec three = f();
  omp_set_num_threads(saved);
  return {one, three};
}

TEST_CASE("determinism: CPU reductions do not depend on the thread count") {
  const Vec x = random_uniform(100003, 1), t = random_uniform(100003, 2);
  auto check = [](const char* what, const std::function<Vec()>& f) {
    const auto [one, three] = with_1_and_3_threads(f);
    INFO(what << ": 1 thread vs 3 threads");
    CHECK_ALL_CLOSE(three, one, 0.0, 0.0);
  };
  check("sum_forward", [&] {
    Vec s(1);
    cpu::sum_forward(s.data(), x.data(), int64_t(x.size()));
    return s;
  });
  check("sum_squares", [&] {
    Vec s(1);
    cpu::sum_squares(s.data(), x.data(), int64_t(x.size()));
    return s;
  });
  check("mse_forward", [&] {
    Vec s(1);
    cpu::mse_forward(s.data(), x.data(), t.data(), int64_t(x.size()));
    return s;
  });
  check("batchnorm2d train forward + backward", [&] {
    const int N = 4, C = 8, HW = 1024;  // N*C*HW = 32768
    Vec out(x.begin(), x.begin() + N * C * HW), mean(C), rstd(C), rm(C, 0.0f), rv(C, 1.0f);
    const Vec gamma = random_uniform(C, 3), beta = random_uniform(C, 4);
    cpu::batchnorm2d_forward_train(out.data(), mean.data(), rstd.data(), rm.data(), rv.data(), x.data(), gamma.data(),
                                   beta.data(), N, C, HW, 0.1f, 1e-5f);
    Vec din(size_t(N) * C * HW, 0.0f), dg(C, 0.0f), db(C, 0.0f);
    cpu::batchnorm2d_backward(din.data(), dg.data(), db.data(), t.data(), x.data(), gamma.data(), mean.data(),
                              rstd.data(), N, C, HW);
    for (const Vec* v : {&mean, &rstd, &rm, &rv, &din, &dg, &db}) out.insert(out.end(), v->begin(), v->end());
    return out;
  });
  check("softmax_cross_entropy forward + backward", [&] {
    const int B = 300, C = 10;
    std::vector<int32_t> y(B);
    for (int b = 0; b < B; ++b) y[size_t(b)] = b % 7 == 3 ? -1 : b % C;
    const Vec w = random_uniform(C, 5, 0.5f, 2.0f), dl = random_uniform(B, 6);
    Vec losses(B), probs(size_t(B) * C), dz(size_t(B) * C, 0.0f);
    cpu::softmax_cross_entropy_forward(losses.data(), probs.data(), x.data(), y.data(), w.data(), B, C, 0.1f);
    cpu::softmax_cross_entropy_backward(dz.data(), dl.data(), probs.data(), y.data(), w.data(), B, C, 0.1f);
    losses.insert(losses.end(), dz.begin(), dz.end());
    return losses;
  });
  check("conv2d bias gradient", [&] {
    const Conv2dDims d{4, 2, 32, 32, 8, 3, 3, 1, 1};  // dout (4,8,32,32) = 32768 values
    Vec db(8, 0.0f);
    cpu::conv2d_backward(nullptr, nullptr, db.data(), t.data(), x.data(), x.data(), d);
    return db;
  });
}

}  // namespace
}  // namespace facet::test
