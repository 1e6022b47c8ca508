// Ensembles: infer_ensemble is the mean of its members' outputs, out_h = (1/M) sum_k out_h^(k), each member
// reading the batch in its own input size; a model averaged with itself is that model, bit for bit
// ((x + x) * 0.5 = x in floating point); members whose heads differ are refused before anything is averaged.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "data/batch.h"
#include "models/training/trainer.h"
#include "tests/common/check.h"

using namespace facet;

namespace {

nlohmann::json tiny_config(int size) {
  return {{"kind", "basecnn"},        {"channels", 3}, {"size", size},
          {"conv_channels", {4, 8}},  {"dense", {16}}, {"dropout", 0.0},
          {"activation", "leakyrelu"}};
}

data::Batch random_batch(int n, int size, uint64_t seed) {
  data::Batch b;
  b.n = n, b.c = 3, b.h = size, b.w = size;
  b.images = test::random_uniform(size_t(n) * 3 * size * size, seed);  // (N, 3, size, size)
  return b;
}

}  // namespace

TEST_CASE("infer_ensemble: the mean of the members' outputs", "[models][ensemble]") {
  auto m1 = make_model(tiny_config(16), 1), m2 = make_model(tiny_config(16), 2),
       m3 = make_model(tiny_config(24), 3);
  const data::Batch b16 = random_batch(3, 16, 7), b24 = random_batch(3, 24, 8);
  for (bool tta : {false, true}) {
    INFO("tta " << tta);
    const auto o1 = infer(*m1, b16, tta), o2 = infer(*m2, b16, tta), o3 = infer(*m3, b24, tta);
    const auto two = infer_ensemble({m1.get(), m2.get()}, {&b16, &b16}, tta);
    const auto three = infer_ensemble({m1.get(), m2.get(), m3.get()}, {&b16, &b16, &b24}, tta);
    const auto self = infer_ensemble({m1.get(), m1.get()}, {&b16, &b16}, tta);
    REQUIRE(two.size() == m1->heads().size());
    for (size_t h = 0; h < two.size(); ++h) {
      INFO("head " << m1->heads()[h].name);
      const auto v1 = o1[h].to_vector(), v2 = o2[h].to_vector(), v3 = o3[h].to_vector();
      std::vector<float> mean2(v1.size()), mean3(v1.size());
      for (size_t i = 0; i < v1.size(); ++i) {
        mean2[i] = (v1[i] + v2[i]) * 0.5f;
        mean3[i] = (v1[i] + v2[i] + v3[i]) / 3.0f;
      }
      CHECK_ALL_CLOSE(two[h].to_vector(), mean2, 0.0, 0.0);      // the same two float operations
      CHECK_ALL_CLOSE(three[h].to_vector(), mean3, 1e-7, 1e-6);  // * (1/3) rather than / 3
      CHECK_ALL_CLOSE(self[h].to_vector(), v1, 0.0, 0.0);
    }
  }
}

TEST_CASE("infer_ensemble and require_same_heads refuse what cannot be averaged", "[models][ensemble]") {
  auto m = make_model(tiny_config(16), 1);
  nlohmann::json other_heads = tiny_config(16);
  other_heads["heads"] = {{{"name", "age"}, {"classes", 10}}, {{"name", "gender"}, {"classes", 2}}};
  auto n = make_model(other_heads, 1);
  CHECK_NOTHROW(require_same_heads(*m, *make_model(tiny_config(24), 2), "the 24 px model"));
  CHECK_THROWS_WITH(require_same_heads(*m, *n, "checkpoint 'b.ckpt'"),
                    Catch::Contains("checkpoint 'b.ckpt'") && Catch::Contains("same heads"));
  const data::Batch b = random_batch(2, 16, 9);
  CHECK_THROWS_WITH(infer_ensemble({m.get(), m.get()}, {&b}, false), Catch::Contains("one batch per model"));
}
