// Tour, chapter 5 (docs/tour/05-training.md): a training loop that teaches a small CNN circles from squares.
//
// The data are drawn here, from a seed: 16 x 16 grey images, each a filled circle (class 0) or a filled
// square (class 1) of random size and place, on a noisy background. Same seed, same images, same run. The
// loop is the one every framework runs:
//   for each epoch, for each batch:  logits = model(x);  loss = cross_entropy(logits, y);
//                                    opt.zero_grad();  loss.backward();  opt.step();
// Adam (optim/adam.h) then moves every weight against its gradient. Chance is 50%; the network should do far
// better after a few seconds.
#include <cmath>
#include <cstdio>
#include <vector>

#include "layers/activation.h"
#include "layers/conv2d.h"
#include "layers/linear.h"
#include "layers/maxpool2d.h"
#include "layers/sequential.h"
#include "optim/adam.h"
#include "tensor/ops.h"
#include "tensor/rng.h"

using namespace facet;
constexpr int kSide = 16;

struct Shapes {
  std::vector<float> pixels;    // (N, 1, 16, 16)
  std::vector<int32_t> labels;  // (N): 0 circle, 1 square
};

// n images, half circles, half squares, in random order.
Shapes draw_shapes(int n, Rng& rng) {
  Shapes s;
  for (int i = 0; i < n; ++i) {
    const int label = int(rng.below(2));
    const float radius = rng.uniform(3.0f, 6.0f);  // circle radius, or half the square's side
    const float cx = rng.uniform(radius, kSide - radius), cy = rng.uniform(radius, kSide - radius);
    for (int y = 0; y < kSide; ++y)
      for (int x = 0; x < kSide; ++x) {
        const float dx = x + 0.5f - cx, dy = y + 0.5f - cy;
        const bool inside = label == 0 ? dx * dx + dy * dy <= radius * radius
                                       : std::abs(dx) <= radius && std::abs(dy) <= radius;
        s.pixels.push_back((inside ? 1.0f : 0.0f) + rng.normal(0.0f, 0.2f));
      }
    s.labels.push_back(label);
  }
  return s;
}

// Images [first, first + count) as a (count, 1, 16, 16) tensor and their labels.
Tensor batch_of(const Shapes& s, int first, int count, std::vector<int32_t>& labels) {
  const auto begin = s.pixels.begin() + size_t(first) * kSide * kSide;
  labels.assign(s.labels.begin() + first, s.labels.begin() + first + count);
  return Tensor::from_vector({begin, begin + size_t(count) * kSide * kSide}, {count, 1, kSide, kSide});
}

// Share of the images whose largest logit is their label (eval mode, no graph).
double accuracy(Sequential& model, const Shapes& s) {
  NoGradGuard no_graph;
  model.set_training(false);
  std::vector<int32_t> labels;
  const int n = int(s.labels.size());
  const std::vector<float> logits = model.forward(batch_of(s, 0, n, labels)).to_vector();  // (n, 2)
  int right = 0;
  for (int i = 0; i < n; ++i) right += (logits[2 * i + 1] > logits[2 * i]) == (labels[i] == 1);
  model.set_training(true);
  return double(right) / n;
}

int main() {
  Rng rng(5);
  const Shapes train = draw_shapes(1024, rng), test = draw_shapes(256, rng);

  // conv 3x3 (1 -> 8) -> relu -> pool 2x2 -> conv 3x3 (8 -> 16) -> relu -> pool 2x2 -> linear (16*4*4 -> 2)
  Sequential model;
  model.emplace<Conv2d>("conv1", 1, 8, 3, 1, 1, true, rng);  // (B, 8, 16, 16)
  model.emplace<ReLU>("relu1");
  model.emplace<MaxPool2d>("pool1", 2, 2);                    // (B, 8, 8, 8)
  model.emplace<Conv2d>("conv2", 8, 16, 3, 1, 1, true, rng);  // (B, 16, 8, 8)
  model.emplace<ReLU>("relu2");
  model.emplace<MaxPool2d>("pool2", 2, 2);          // (B, 16, 4, 4)
  model.emplace<Flatten>("flatten");                // (B, 256)
  model.emplace<Linear>("fc", 16 * 4 * 4, 2, rng);  // (B, 2): one logit per class
  std::printf("%s", model.summary({32, 1, kSide, kSide}).c_str());

  Adam opt(model.parameters(), AdamOptions{.lr = 3e-3f});
  const int batch = 32, epochs = 6;
  std::printf("before training: test accuracy %.3f (chance 0.5)\n", accuracy(model, test));
  for (int epoch = 1; epoch <= epochs; ++epoch) {
    double loss_sum = 0;
    std::vector<int32_t> labels;
    for (int first = 0; first + batch <= int(train.labels.size()); first += batch) {
      Tensor x = batch_of(train, first, batch, labels);
      Tensor loss = cross_entropy(model.forward(x), labels);
      opt.zero_grad();
      loss.backward();
      opt.step();
      loss_sum += loss.item();
    }
    std::printf("epoch %d: mean training loss %.4f, test accuracy %.3f\n", epoch,
                loss_sum / (train.labels.size() / batch), accuracy(model, test));
  }
  const double final_accuracy = accuracy(model, test);
  const double bound = 0.8;  // clearly better than chance (0.5)
  std::printf("after %d epochs: test accuracy %.3f (at least %.2f)\n", epochs, final_accuracy, bound);
  return final_accuracy >= bound ? 0 : 1;
}
