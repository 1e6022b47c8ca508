// One BaseCNN training step on Device::CUDA, run by the CUDA kernels in the CPU emulator (tests link
// facet_cuda_emu), against the same step on the CPU from the same seed: model init, input, labels and dropout
// masks (Philox) are identical, so every difference is the kernels' floating-point order.
//
// Step: forward (training mode: batch-norm batch statistics, dropout 0.5) -> loss (sum of the three heads'
// cross-entropies) -> backward -> Adam (lr 1e-3, the defaults). Compared, |cuda - cpu| <= atol + rtol*|cpu|:
//   loss                                   1e-5, 1e-5   float vs the CPU's double accumulation in softmax-CE
//                                                       (measured: equal)
//   every parameter's gradient             1e-5, 1e-3   conv/linear GEMMs and BN reductions in another order,
//                                                       through 4 layers (measured: largest |diff| 2-3e-7;
//                                                       relative up to 9e-4 only on gradients of ~1e-6)
//   batch-norm running mean / var          1e-6, 1e-5   Welford in float vs two-pass in double
//   parameters after the step, where the   1e-6, 1e-5   Adam's first step is -lr*g/(|g| + eps): g's sign
//     gradient is resolved (|g| >= 1e-6                 and size agree, so the update does (measured:
//     or exactly 0)                                     largest |diff| 4e-9)
//   the other entries                      2*lr, 0      a gradient under 1e-6 may come out with either sign
//                                                       (the conv biases before batch norm, whose exact
//                                                       gradient is 0 because BN removes their effect, and a
//                                                       few tiny weight gradients); Adam makes that a step of
//                                                       up to lr either way, so each device stays within lr
#include <catch2/catch.hpp>

#include <cmath>
#include <string>
#include <vector>

#include "kernels/cuda/runtime.h"
#include "models/model.h"
#include "optim/optimizer.h"
#include "tensor/tensor.h"
#include "tests/common/check.h"

using namespace facet;

namespace {

// The emulator reports a CUDA device only while emulation is on (a user without a GPU gets an error instead).
struct EmulationOn {
  EmulationOn() { cuda::set_emulation_enabled(true); }
  ~EmulationOn() { cuda::set_emulation_enabled(false); }  // other tests expect "no device" by default
  EmulationOn(const EmulationOn&) = delete;
  EmulationOn& operator=(const EmulationOn&) = delete;
};

constexpr float kLr = 1e-3f;

struct Step {
  float loss = 0;
  std::vector<std::string> names;
  std::vector<std::vector<float>> before, grads, after;  // [parameter][entry], host copies
  std::vector<std::vector<float>> buffers;               // BN running statistics after the step
  Device param_device = Device::CPU, grad_device = Device::CPU;
};

// Two 16x16 RGB images through BaseCNN with two cycles (conv 8, 16: 16 -> 8 -> 4), dense 32 and 16 with
// dropout 0.5, heads age 10 / gender 2 / race 5.
Step train_step(Device device) {
  const nlohmann::json config = {
      {"kind", "basecnn"}, {"channels", 3}, {"size", 16}, {"conv_channels", {8, 16}}, {"dense", {32, 16}}};
  auto model = make_model(config, 7);
  model->to(device);
  std::vector<NamedTensor> params = model->parameters();
  auto adam = make_optimizer({{"type", "adam"}, {"lr", kLr}}, params);
  const int B = 2;
  const Tensor x = Tensor::from_vector(test::random_uniform(size_t(B) * 3 * 16 * 16, 11), {B, 3, 16, 16},
                                       device);  // (B, 3, 16, 16)
  std::vector<std::vector<int32_t>> labels;
  for (const Head& h : model->heads()) labels.push_back({1 % h.outputs, (h.outputs - 1) % h.outputs});

  Step s;
  for (const auto& p : params) {
    s.names.push_back(p.name);
    s.before.push_back(p.tensor.to_vector());
  }
  model->set_training(true);
  const std::vector<Tensor> out = model->forward(x);
  Tensor loss = model_loss(*model, out, labels, {});
  s.loss = loss.item();
  adam->zero_grad();
  loss.backward();
  for (const auto& p : params) {
    REQUIRE(p.tensor.grad().defined());
    s.grads.push_back(p.tensor.grad().to_vector());
  }
  s.param_device = params.front().tensor.device();
  s.grad_device = params.front().tensor.grad().device();
  adam->step();
  for (const auto& p : params) s.after.push_back(p.tensor.to_vector());
  for (const auto& b : model->buffers()) s.buffers.push_back(b.tensor.to_vector());
  return s;
}

}  // namespace

TEST_CASE("a BaseCNN training step on emulated CUDA matches the CPU step", "[cuda][train]") {
  EmulationOn emulation;
  const Step cpu = train_step(Device::CPU);
  const Step gpu = train_step(Device::CUDA);
  CHECK(gpu.param_device == Device::CUDA);  // the step really ran on the CUDA kernels
  CHECK(gpu.grad_device == Device::CUDA);
  REQUIRE(gpu.names == cpu.names);
  REQUIRE(gpu.buffers.size() == cpu.buffers.size());

  CHECK_ALL_CLOSE(std::vector<float>{gpu.loss}, std::vector<float>{cpu.loss}, 1e-5, 1e-5);
  CHECK(cpu.loss > 0.5f);  // three untrained heads: a real loss, not a trivial one

  int unresolved = 0, total = 0;
  for (size_t i = 0; i < cpu.names.size(); ++i) {
    INFO("parameter " << cpu.names[i]);
    CHECK(gpu.before[i] == cpu.before[i]);  // the same initialisation, copied exactly to the device
    CHECK_ALL_CLOSE(gpu.grads[i], cpu.grads[i], 1e-5, 1e-3);
    std::vector<float> got, ref, got_noise, ref_noise;
    for (size_t k = 0; k < cpu.grads[i].size(); ++k) {
      // Exactly zero (a unit dropout dropped for both images) is resolved too: no step on either device.
      const bool resolved = cpu.grads[i][k] == 0.0f || std::fabs(cpu.grads[i][k]) >= 1e-6f;
      (resolved ? got : got_noise).push_back(gpu.after[i][k]);
      (resolved ? ref : ref_noise).push_back(cpu.after[i][k]);
      if (!resolved) CHECK(std::fabs(gpu.after[i][k] - gpu.before[i][k]) <= kLr * 1.001f);
    }
    CHECK_ALL_CLOSE(got, ref, 1e-6, 1e-5);
    CHECK_ALL_CLOSE(got_noise, ref_noise, 2 * kLr, 0.0);
    unresolved += int(got_noise.size());
    total += int(cpu.grads[i].size());
  }
  // Only the 8 + 16 conv biases and a few tiny weight gradients (66 of ~10k entries when this was written)
  // should fall outside the strict check.
  INFO("entries with 0 < |gradient| < 1e-6: " << unresolved << " of " << total);
  CHECK(unresolved * 50 < total);
  for (size_t i = 0; i < cpu.buffers.size(); ++i) CHECK_ALL_CLOSE(gpu.buffers[i], cpu.buffers[i], 1e-6, 1e-5);
}

TEST_CASE("without a CUDA device, a CUDA tensor or trainer device fails with advice", "[cuda][errors]") {
  cuda::set_emulation_enabled(false);
  CHECK_FALSE(device_available(Device::CUDA));
  CHECK(device_available(Device::CPU));
  REQUIRE_THROWS_WITH(require_device(Device::CUDA, "--device cuda"),
                      Catch::Contains("--device cuda: no CUDA device or driver was found") &&
                          Catch::Contains("Use --device cpu"));
  REQUIRE_NOTHROW(require_device(Device::CPU, "--device cpu"));
  REQUIRE_THROWS_WITH(Tensor::zeros({3}, Device::CUDA), Catch::Contains("no CUDA device"));
  REQUIRE_THROWS_WITH(parse_device("gpu"), Catch::Contains("use cpu or cuda"));
  CHECK(parse_device("cuda") == Device::CUDA);
}
