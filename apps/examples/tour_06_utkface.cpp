// Tour, chapter 6 (docs/tour/06-utkface.md): BaseCNN learns gender from a few hundred UTKFace faces.
//
// A bounded run that fits in seconds: 640 training faces and 320 test faces (seeded choice), 64 x 64, two
// epochs, one gender head. `facet train` does the same at full scale (every face, a validation split, three
// heads, checkpoints, learning curves); this program shows the pieces it is made of:
//   read the folder (data/readers.h)  ->  decode and resize each face (data/image_io.h, data/transforms.h)
//   -> BaseCNN from its config (models/basecnn.h)  ->  the training loop of chapter 5  ->  test accuracy.
//
// Usage: tour_06_utkface [UTKFACE_DIR]
//   without an argument it looks in $FACET_DATA/utkface, $FACET_DATA, then ../shared/data/utkface; with no
//   UTKFace there it says so and exits 4 ("skipped").
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "data/image_io.h"
#include "data/readers.h"
#include "data/transforms.h"
#include "models/model.h"
#include "optim/adam.h"
#include "tensor/ops.h"
#include "tensor/rng.h"

using namespace facet;
constexpr int kSize = 64;

// The UTKFace folder: the argument, else the first of $FACET_DATA/utkface, $FACET_DATA,
// ../shared/data/utkface that exists; "" when none does.
std::string find_utkface(int argc, char** argv) {
  std::vector<std::string> candidates;
  if (argc > 1)
    candidates.push_back(argv[1]);
  else {
    if (const char* env = std::getenv("FACET_DATA"); env && *env) {
      candidates.push_back(std::string(env) + "/utkface");
      candidates.push_back(env);
    }
    candidates.push_back("../shared/data/utkface");
  }
  for (const std::string& dir : candidates)
    if (std::filesystem::is_directory(dir)) return dir;
  return "";
}

struct Faces {
  std::vector<float> pixels;    // (N, 3, 64, 64), values in [0, 1]
  std::vector<int32_t> gender;  // (N): 0 male, 1 female
  int size() const { return int(gender.size()); }
};

// Decodes, resizes (area averaging: best for shrinking 200 -> 64) and stores samples [first, first + count).
Faces load_faces(const std::vector<data::Sample>& samples, size_t first, size_t count) {
  Faces f;
  f.pixels.resize(count * 3 * kSize * kSize);
  for (size_t i = 0; i < count; ++i) {
    const data::Sample& s = samples[first + i];
    data::Image image;
    std::string error;
    if (!data::load_image(s.path, 3, image, error)) throw std::runtime_error(error);
    const data::Image small = data::resize(image, kSize, kSize, data::ResizeMethod::area);
    data::to_chw(small, data::Scale::unit, f.pixels.data() + f.gender.size() * 3 * kSize * kSize);
    f.gender.push_back(s.gender);
  }
  return f;
}

Tensor batch_of(const Faces& f, int first, int count) {
  const auto begin = f.pixels.begin() + size_t(first) * 3 * kSize * kSize;
  return Tensor::from_vector({begin, begin + size_t(count) * 3 * kSize * kSize}, {count, 3, kSize, kSize});
}

// Share of faces whose larger gender logit is the truth (eval mode: batchnorm's running statistics, no
// dropout).
double accuracy(Model& model, const Faces& f) {
  NoGradGuard no_graph;
  model.set_training(false);
  int right = 0;
  for (int first = 0; first < f.size(); first += 64) {
    const int n = std::min(64, f.size() - first);
    const std::vector<float> logits = model.forward(batch_of(f, first, n))[0].to_vector();  // (n, 2)
    for (int i = 0; i < n; ++i) right += int(logits[2 * i + 1] > logits[2 * i]) == f.gender[first + i];
  }
  model.set_training(true);
  return double(right) / f.size();
}

int main(int argc, char** argv) {
  const std::string dir = find_utkface(argc, argv);
  if (dir.empty()) {
    std::printf(
        "skipped: no UTKFace folder (pass it as the first argument, e.g. ../shared/data/utkface, or set "
        "FACET_DATA to the folder that holds utkface/)\n");
    return 4;
  }
  data::UtkfaceOptions options;
  options.scan = false;  // names only: reading every file to find duplicates takes longer than this whole run
  data::ReadResult read = data::read_utkface(dir, options);
  std::vector<data::Sample> usable;
  for (const data::Sample& s : read.data.samples)
    if (s.gender >= 0) usable.push_back(s);
  const size_t n_train = 640, n_test = 320;
  if (usable.size() < n_train + n_test) {
    std::printf("skipped: %s holds %zu faces with a gender label; this run needs %zu\n", dir.c_str(),
                usable.size(), n_train + n_test);
    return 4;
  }
  Rng rng(6);
  std::shuffle(usable.begin(), usable.end(), rng.engine());  // a seeded choice of faces
  const Faces train = load_faces(usable, 0, n_train), test = load_faces(usable, n_train, n_test);
  const double female = double(std::count(test.gender.begin(), test.gender.end(), 1)) / test.size();
  std::printf("%s: %zu faces; training on %d, testing on %d (%.1f%% of them female)\n", dir.c_str(),
              usable.size(), train.size(), test.size(), 100 * female);

  // BaseCNN: 6 x [conv 3x3 -> batchnorm -> leaky relu -> maxpool 2x2], dense 256, 128, one 2-way head.
  const nlohmann::json config = {
      {"kind", "basecnn"}, {"size", kSize}, {"heads", {{{"name", "gender"}, {"classes", 2}}}}};
  std::unique_ptr<Model> model = make_model(config, 6);
  std::printf("%s", model->summary().c_str());

  Adam opt(model->parameters(), AdamOptions{.lr = 1e-3f});
  const int batch = 32, epochs = 2;
  for (int epoch = 1; epoch <= epochs; ++epoch) {
    double loss_sum = 0;
    for (int first = 0; first + batch <= train.size(); first += batch) {
      const std::vector<int32_t> labels(train.gender.begin() + first, train.gender.begin() + first + batch);
      Tensor loss = cross_entropy(model->forward(batch_of(train, first, batch))[0], labels);
      opt.zero_grad();
      loss.backward();
      opt.step();
      loss_sum += loss.item();
    }
    std::printf("epoch %d: mean training loss %.4f, test gender accuracy %.3f\n", epoch,
                loss_sum / (train.size() / batch), accuracy(*model, test));
  }
  // Two short epochs on 640 faces: well above chance (about half the faces are female), far below what the
  // full run reaches. The bound only says that learning happened.
  const double final_accuracy = accuracy(*model, test), bound = 0.55;
  std::printf("after %d epochs: test gender accuracy %.3f (at least %.2f)\n", epochs, final_accuracy, bound);
  return final_accuracy >= bound ? 0 : 1;
}
