// The code of docs/tutorial.md, step by step, so every snippet a student reads compiles and runs.
#include <catch2/catch.hpp>

#include "layers/conv2d.h"
#include "layers/linear.h"
#include "layers/sequential.h"
#include "tensor/ops.h"
#include "tensor/rng.h"

using namespace facet;

TEST_CASE("tutorial 1: a tensor and its gradient", "[tutorial]") {
  // y = sum(x * x)  =>  dy/dx = 2x
  Tensor x = Tensor::from_vector({1.0f, -2.0f, 3.0f}, {3});
  x.set_requires_grad(true);
  Tensor y = sum(x * x);
  y.backward();
  CHECK(y.item() == 14.0f);
  CHECK(x.grad().to_vector() == std::vector<float>{2.0f, -4.0f, 6.0f});
}

TEST_CASE("tutorial 2: one gradient-descent step on a linear model", "[tutorial]") {
  // Fit out = w*in + b to two points; one SGD step must lower the loss.
  Rng rng(0);
  Linear fc(1, 1, rng);
  Tensor in = Tensor::from_vector({1.0f, 2.0f}, {2, 1});
  Tensor target = Tensor::from_vector({3.0f, 5.0f}, {2, 1});
  Tensor loss = mse_loss(fc.forward(in), target);
  loss.backward();
  for (auto& p : fc.parameters()) {  // w -= lr * dL/dw
    auto g = p.tensor.grad().to_vector();
    for (size_t i = 0; i < g.size(); ++i) p.tensor.data()[i] -= 0.1f * g[i];
    p.tensor.zero_grad();
  }
  CHECK(mse_loss(fc.forward(in), target).item() < loss.item());
}

TEST_CASE("tutorial 3: layers know their output shapes", "[tutorial]") {
  Rng rng(0);
  Sequential net;
  net.emplace<Conv2d>("conv1", 3, 8, 3, 1, 1, true, rng);  // 3 -> 8 channels, 3x3, stride 1, pad 1
  net.emplace<Flatten>("flatten");
  CHECK(net.output_shape({4, 3, 10, 10}) == Shape{4, 8 * 10 * 10});
  CHECK(net.summary({4, 3, 10, 10}).find("conv2d 3->8 3x3/1 pad 1") != std::string::npos);
  CHECK(net.forward(Tensor::zeros({4, 3, 10, 10})).shape() == Shape{4, 800});
}
