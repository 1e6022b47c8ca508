// Transforms on small hand-made images with known answers.
#include <catch2/catch.hpp>

#include <algorithm>
#include <set>

#include "data/transforms.h"
#include "tests/common/check.h"
#include "tests/data/helpers.h"

using namespace facet::data;

namespace {
Image gray(int w, int h, std::vector<int> v) {
  Image img(w, h, 1);
  for (size_t i = 0; i < v.size(); ++i) img.pixels[i] = uint8_t(v[i]);
  return img;
}
std::vector<int> ints(const Image& img) { return std::vector<int>(img.pixels.begin(), img.pixels.end()); }
}  // namespace

TEST_CASE("horizontal flip reverses each row, twice is the identity", "[data][transforms]") {
  Image img = facet::test::pattern_image(7, 5, 3, 1);
  const Image orig = img;
  flip_horizontal(img);
  CHECK(img.at(2, 0, 1) == orig.at(2, 6, 1));
  CHECK(img.at(4, 3, 2) == orig.at(4, 3, 2));  // the middle column stays
  CHECK(img.pixels != orig.pixels);
  flip_horizontal(img);
  CHECK(img.pixels == orig.pixels);
}

TEST_CASE("histogram equalization on a known image", "[data][transforms]") {
  // cdf: 0 -> 2, 100 -> 3, 200 -> 4; cdf_min 2, N 4: v' = round(255 (cdf - 2) / 2) -> 0, 127.5 -> 128, 255
  Image img = gray(2, 2, {0, 0, 100, 200});
  equalize_histogram(img);
  CHECK(ints(img) == std::vector<int>{0, 0, 128, 255});
  Image flat = gray(2, 2, {7, 7, 7, 7});
  equalize_histogram(flat);
  CHECK(ints(flat) == std::vector<int>{7, 7, 7, 7});
  // each channel on its own
  Image rgb(2, 1, 3);
  rgb.pixels = {10, 0, 5, 20, 0, 6};
  equalize_histogram(rgb);
  CHECK(ints(rgb) == std::vector<int>{0, 0, 0, 255, 0, 255});
}

TEST_CASE("RGB to YCbCr: JFIF full-range values", "[data][transforms]") {
  Image img(5, 1, 3);
  img.pixels = {255, 255, 255, 0, 0, 0, 255, 0, 0, 0, 255, 0, 0, 0, 255};
  rgb_to_ycbcr(img);
  // white, black, red (Cr 255.5 clamps), green, blue (Cb 255.5 clamps)
  CHECK(ints(img) == std::vector<int>{255, 128, 128, 0, 128, 128, 76, 85, 255, 150, 44, 21, 29, 255, 107});
  Image g = gray(1, 1, {90});
  rgb_to_ycbcr(g);  // already Y
  CHECK(ints(g) == std::vector<int>{90});
}

TEST_CASE("scaling to float (C, H, W): unit, min-max, raw, normalization", "[data][transforms]") {
  Image img(3, 1, 2);
  img.pixels = {10, 0, 20, 51, 30, 255};  // (H, W, C): channel 0 = 10 20 30, channel 1 = 0 51 255
  std::vector<float> out(6);
  to_chw(img, Scale::raw, out.data());
  CHECK(out == std::vector<float>{10, 20, 30, 0, 51, 255});
  to_chw(img, Scale::unit, out.data());
  CHECK_ALL_CLOSE(out, (std::vector<float>{10 / 255.f, 20 / 255.f, 30 / 255.f, 0, 0.2f, 1}), 1e-7, 0);
  to_chw(img, Scale::minmax, out.data());  // min 0, max 255 over the whole image
  CHECK_ALL_CLOSE(out, (std::vector<float>{10 / 255.f, 20 / 255.f, 30 / 255.f, 0, 0.2f, 1}), 1e-7, 0);
  Image g = gray(3, 1, {10, 20, 30});
  std::vector<float> o3(3);
  to_chw(g, Scale::minmax, o3.data());
  CHECK_ALL_CLOSE(o3, (std::vector<float>{0, 0.5f, 1}), 1e-7, 0);
  Image flat = gray(2, 1, {9, 9});
  to_chw(flat, Scale::minmax, o3.data());
  CHECK((o3[0] == 0 && o3[1] == 0));
  to_chw(img, Scale::raw, out.data());
  normalize(out.data(), 2, 3, {20, 100}, {10, 50});
  CHECK_ALL_CLOSE(out, (std::vector<float>{-1, 0, 1, -2, -0.98f, 3.1f}), 1e-6, 0);
  CHECK_THROWS_WITH(normalize(out.data(), 2, 3, {1, 2, 3}, {1}), Catch::Contains("3 means"));
}

TEST_CASE("resize: area averages covered pixels, bilinear interpolates at half-pixel centres", "[data][transforms]") {
  Image img = gray(4, 4, {0, 2, 10, 20, 4, 6, 30, 40, 1, 1, 1, 1, 1, 1, 1, 5});
  CHECK(ints(resize(img, 2, 2, ResizeMethod::area)) == std::vector<int>{3, 25, 1, 2});
  Image row = gray(3, 1, {0, 90, 180});
  CHECK(ints(resize(row, 2, 1, ResizeMethod::area)) == std::vector<int>{30, 150});
  Image row4 = gray(4, 1, {0, 100, 200, 255});
  CHECK(ints(resize(row4, 2, 1, ResizeMethod::bilinear)) == std::vector<int>{50, 228});
  // a constant image stays constant, shrinking or growing, either method
  Image flat(5, 3, 3, 77);
  for (auto m : {ResizeMethod::area, ResizeMethod::bilinear})
    for (auto [w, h] : {std::pair{2, 2}, std::pair{9, 7}}) {
      const Image r = resize(flat, w, h, m);
      CHECK((r.w == w && r.h == h && r.c == 3));
      CHECK(std::all_of(r.pixels.begin(), r.pixels.end(), [](uint8_t v) { return v == 77; }));
    }
}

TEST_CASE("crops: centred, random under a seed, and errors that give the sizes", "[data][transforms]") {
  Image img(5, 5, 1);
  for (int i = 0; i < 25; ++i) img.pixels[size_t(i)] = uint8_t(i);
  CHECK(ints(center_crop(img, 3, 3)) == std::vector<int>{6, 7, 8, 11, 12, 13, 16, 17, 18});
  std::set<int> corners;
  for (uint64_t seed = 0; seed < 200; ++seed) {
    Rng a(seed), b(seed);
    const Image c1 = random_crop(img, 3, 3, a), c2 = random_crop(img, 3, 3, b);
    REQUIRE(c1.pixels == c2.pixels);
    corners.insert(c1.pixels[0]);
  }
  CHECK(corners == std::set<int>{0, 1, 2, 5, 6, 7, 10, 11, 12});  // all 9 positions occur
  CHECK_THROWS_WITH(crop(img, 3, 3, 3, 3), Catch::Contains("does not fit in a 5x5 image"));
}

TEST_CASE("channels and the two-stage pipeline", "[data][transforms]") {
  Image rgb(1, 1, 3);
  rgb.pixels = {255, 0, 0};
  CHECK(ints(convert_channels(rgb, 1)) == std::vector<int>{76});
  CHECK(ints(convert_channels(gray(1, 1, {9}), 3)) == std::vector<int>{9, 9, 9});

  TransformConfig tc;
  tc.width = tc.height = 8;
  tc.resize_w = tc.resize_h = 10;
  tc.random_crop = tc.random_flip = true;
  const Image prepared = prepare(facet::test::pattern_image(30, 20, 3, 4), tc);
  CHECK((prepared.w == 10 && prepared.h == 10 && prepared.c == 3));
  std::vector<float> a(3 * 64), b(3 * 64), c(3 * 64);
  finish(prepared, tc, true, 11, a.data());
  finish(prepared, tc, true, 11, b.data());
  CHECK(a == b);
  bool any_differs = false;
  for (uint64_t seed = 0; seed < 8 && !any_differs; ++seed) {
    finish(prepared, tc, true, seed, c.data());
    any_differs = c != a;
  }
  CHECK(any_differs);
  finish(prepared, tc, false, 1, b.data());
  finish(prepared, tc, false, 2, c.data());
  CHECK(b == c);  // no augmentation: the seed does not matter
  tc.resize_w = 6;
  CHECK_THROWS_WITH(tc.validate(), Catch::Contains("smaller than the input"));
  tc.resize_w = 0, tc.channels = 1, tc.ycbcr = true;
  CHECK_THROWS_WITH(tc.validate(), Catch::Contains("YCbCr needs 3 channels"));
}
