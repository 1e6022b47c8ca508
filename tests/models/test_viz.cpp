// models/viz.h on an untrained model: picture sizes, Grad-CAM's range and its dependence on the input, and a
// clear refusal for models without feature maps.
#include <catch2/catch.hpp>

#include "models/viz.h"
#include "tensor/rng.h"

using namespace facet;

namespace {

Tensor random_input(int n, int side, uint64_t seed) {
  Rng rng(seed);
  std::vector<float> v(size_t(n) * 3 * side * side);
  for (float& x : v) x = rng.normal();
  return Tensor::from_vector(v, {n, 3, side, side});
}

}  // namespace

TEST_CASE("viz: filter grid, feature maps and Grad-CAM of a small basecnn", "[viz]") {
  auto model = make_model({{"kind", "basecnn"}, {"size", 16}, {"conv_channels", {4, 9}}, {"dense", {8}}}, 3);
  const data::Image f = filter_grid(*model, 12);  // 4 filters of 3x3 at 4x: 2 x 2 tiles of 12 px, 3 px gaps
  CHECK(f.w == 2 * 12 + 3 * 3);
  CHECK(f.h == f.w);

  const auto maps = feature_maps(*model, random_input(1, 16, 1), 32);
  REQUIRE(maps.size() == 2);
  CHECK(maps[0].layer == "act1");
  CHECK(maps[1].shape == Shape{1, 9, 8, 8});
  CHECK(maps[1].grid.w == 3 * 32 + 4 * 2);  // 9 maps of 8x8 at 4x, 3 per row, 2 px gaps

  const Tensor x = random_input(2, 16, 2);
  const GradCam g = grad_cam(*model, x, 1, 1);
  CHECK(g.layer == "act2");
  CHECK((g.h == 8 && g.w == 8));
  REQUIRE(g.cam.size() == 2);
  for (const auto& cam : g.cam)
    for (float v : cam) CHECK((v >= 0 && v <= 1));
  CHECK(g.cls == std::vector<int>{1, 1});
  CHECK(g.cam[0] != g.cam[1]);  // two different faces, two different maps

  // overlay: the face's size, and the heat colours at the ends of the scale.
  const data::Image face(40, 40, 3, 100);
  CHECK(overlay_cam(face, g.cam[0], g.h, g.w).w == 40);
  CHECK(heat_color(0) == 0x0000FF);
  CHECK(heat_color(1) == 0xFF0000);
  CHECK_THROWS_WITH(grad_cam(*model, x, 1, 2), Catch::Contains("class 2"));
}

TEST_CASE("viz: a model without conv feature maps is refused by name", "[viz]") {
  auto model = make_model({{"kind", "fcn2hot"}}, 1);
  CHECK_THROWS_WITH(filter_grid(*model), Catch::Contains("no conv layer"));
  CHECK_THROWS_WITH(feature_maps(*model, random_input(1, 32, 1)), Catch::Contains("feature maps"));
}
