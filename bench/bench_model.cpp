// Whole-model rows: BaseCNN (6 x [conv3x3 -> BN -> LeakyReLU -> maxpool2], dense 256/128 with dropout 0.5,
// heads age 10 / gender 2 / race 5), batch B, at each input side:
//   train step  = forward (training mode) + loss + backward + Adam update of every parameter
//   inference   = forward in eval mode without a graph (NoGradGuard)
// reported as images/s. Inputs and labels are synthetic and seeded: speed does not depend on the values.
// The Adam step is the textbook update (kernels/optim_update.h's formula) applied here, because optim/ has no
// optimizer yet; it touches ~1 M parameters, a few percent of the step.
#include <cmath>
#include <string>
#include <vector>

#include "bench/bench_util.h"
#include "models/model.h"
#include "tensor/tensor.h"

namespace facet::bench {
namespace {

struct AdamState {
  std::vector<std::vector<float>> m, v;
  int64_t step = 0;
};

// param -= lr * mhat / (sqrt(vhat) + eps), m/v running moments of the gradient (Adam, lr 1e-3).
void adam_step(std::vector<NamedTensor>& params, AdamState& s) {
  const float lr = 1e-3f, b1 = 0.9f, b2 = 0.999f, eps = 1e-8f;
  if (s.m.empty())
    for (auto& p : params) {
      s.m.emplace_back(size_t(p.tensor.numel()), 0.0f);
      s.v.emplace_back(size_t(p.tensor.numel()), 0.0f);
    }
  ++s.step;
  const float c1 = 1.0f / (1.0f - std::pow(b1, float(s.step))), c2 = 1.0f / (1.0f - std::pow(b2, float(s.step)));
  for (size_t i = 0; i < params.size(); ++i) {
    Tensor g = params[i].tensor.grad();
    if (!g.defined()) continue;
    float* w = params[i].tensor.data();
    const float* gd = g.data();
    float* m = s.m[i].data();
    float* v = s.v[i].data();
    const int64_t n = params[i].tensor.numel();
#pragma omp parallel for schedule(static) if (n > 65536)
    for (int64_t k = 0; k < n; ++k) {
      m[k] = b1 * m[k] + (1 - b1) * gd[k];
      v[k] = b2 * v[k] + (1 - b2) * gd[k] * gd[k];
      w[k] -= lr * (m[k] * c1) / (std::sqrt(v[k] * c2) + eps);
    }
  }
}

}  // namespace

void run_model(Recorder& rec, int threads) {
  const int B = rec.options().batch;
  for (int size : rec.options().sizes) {
    const std::string tag = "basecnn@" + std::to_string(size);
    if (!rec.wanted(tag)) continue;
    nlohmann::json config = {{"kind", "basecnn"}, {"channels", 3}, {"size", size}};
    std::unique_ptr<Model> model = make_model(config, 42);
    std::vector<NamedTensor> params = model->parameters();
    Buffer xin(int64_t(B) * 3 * size * size, 71, 0.0f, 1.0f);
    Tensor x = Tensor::from_vector(std::vector<float>(xin.data(), xin.data() + xin.size()), {B, 3, size, size});
    std::vector<std::vector<int32_t>> labels;
    for (const Head& h : model->heads()) {
      std::vector<int32_t> l(static_cast<size_t>(B));
      for (int i = 0; i < B; ++i) l[size_t(i)] = (i * 7 + 3) % h.outputs;
      labels.push_back(l);
    }
    const std::string shape = "B=" + std::to_string(B) + " 3x" + std::to_string(size) + "x" + std::to_string(size);
    AdamState adam;
    Row train;
    train.section = "model";
    train.name = tag + " train step";
    train.shape = shape;
    train.threads = threads;
    train.items = B;
    train.note = "fwd+loss+bwd+Adam";
    model->set_training(true);
    rec.time(train, [&] {
      for (auto& p : params) p.tensor.zero_grad();
      std::vector<Tensor> out = model->forward(x);
      Tensor loss = model_loss(*model, out, labels, {});
      loss.backward();
      adam_step(params, adam);
    });
    Row infer = train;
    infer.name = tag + " inference";
    infer.note = "eval mode, no graph";
    model->set_training(false);
    rec.time(infer, [&] {
      NoGradGuard guard;
      std::vector<Tensor> out = model->forward(x);
    });
  }
}

}  // namespace facet::bench
