// The process-wide CPU backend (tensor/dispatch.h): the same ops on the fast kernels (kernels/cpu) and on the
// naive ones (kernels/naive) give the same values and gradients up to rounding, and the choice really changes
// which kernels run.
#include <catch2/catch.hpp>

#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include "tensor/dispatch.h"
#include "tensor/ops.h"
#include "tensor/rng.h"

using namespace facet;

namespace {

// Restores the backend a test found (other tests run in the same process).
struct BackendScope {
  CpuBackend saved = cpu_backend();
  explicit BackendScope(CpuBackend b) { set_cpu_backend(b); }
  ~BackendScope() { set_cpu_backend(saved); }
};

std::vector<float> random_values(size_t n, uint64_t seed) {
  Rng rng(seed);
  std::vector<float> v(n);
  for (float& x : v) x = rng.uniform(-1.0f, 1.0f);
  return v;
}

// One BaseCNN-like training step on a (4,2,8,8) batch: conv_bn_act_pool -> linear -> cross-entropy, backward.
// Returns the loss followed by every gradient, flattened.
std::vector<float> training_step(CpuBackend backend) {
  BackendScope scope(backend);
  Tensor x = Tensor::from_vector(random_values(4 * 2 * 8 * 8, 1), {4, 2, 8, 8});
  Tensor w = Tensor::from_vector(random_values(3 * 2 * 3 * 3, 2), {3, 2, 3, 3});
  Tensor b = Tensor::from_vector(random_values(3, 3), {3});
  Tensor gamma = Tensor::full({3}, 1.0f), beta = Tensor::zeros({3});
  Tensor rm = Tensor::zeros({3}), rv = Tensor::full({3}, 1.0f);
  Tensor fc = Tensor::from_vector(random_values(5 * 48, 4), {5, 48});
  for (Tensor* t : {&x, &w, &b, &gamma, &beta, &fc}) t->set_requires_grad();
  Tensor h = conv_bn_act_pool(x, w, b, 1, 1, gamma, beta, rm, rv, true, 0.1f, 1e-5f, 0.01f, 2, 2);  // (4,3,4,4)
  Tensor logits = linear(h.flatten(), fc, Tensor());                                                 // (4,5)
  Tensor loss = add(cross_entropy(logits, {0, 3, -1, 4}), scale(sum(dropout(h, 0.3f, true, 7, 0)), 0.01f));
  loss.backward();
  std::vector<float> out = loss.to_vector();
  for (Tensor* t : {&x, &w, &b, &gamma, &beta, &fc}) {
    const std::vector<float> g = t->grad().to_vector();
    out.insert(out.end(), g.begin(), g.end());
  }
  return out;
}

}  // namespace

TEST_CASE("cpu backend: naive and fast kernels agree on a training step, and the switch changes the kernels") {
  {
    BackendScope naive(CpuBackend::naive);
    CHECK(std::string(kernels_for(Device::CPU).name) == "naive");
  }
  {
    BackendScope fast(CpuBackend::fast);
    CHECK(std::string(kernels_for(Device::CPU).name) == "cpu");
  }
  const std::vector<float> fast = training_step(CpuBackend::fast), naive = training_step(CpuBackend::naive);
  REQUIRE(fast.size() == naive.size());
  for (size_t i = 0; i < fast.size(); ++i) {
    INFO("value " << i << " (0: the loss, then the gradients of x, w, b, gamma, beta, fc)");
    CHECK(std::abs(fast[i] - naive[i]) <= 1e-4f + 1e-3f * std::abs(naive[i]));
  }
}

TEST_CASE("cpu backend: a misspelt name is refused, naming the choices") {
  CHECK(parse_cpu_backend("naive") == CpuBackend::naive);
  CHECK(parse_cpu_backend("fast") == CpuBackend::fast);
  try {
    parse_cpu_backend("navie");
    FAIL("no exception");
  } catch (const std::invalid_argument& e) {
    CHECK(std::string(e.what()).find("use fast or naive") != std::string::npos);
  }
}
