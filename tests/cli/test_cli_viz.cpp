// `facet viz filters|features|cam` and `facet explain` end to end on a tiny trained checkpoint: each picture
// exists, has the expected size, and is neither blank nor constant; the CAM changes with the input.
#include <catch2/catch.hpp>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "tests/cli/cli_util.h"

using namespace facet;
using namespace facet::test;

namespace {

data::Image load_png(const std::string& path) {
  data::Image img;
  std::string error;
  INFO(path << ": " << error);
  REQUIRE(data::load_image(path, 3, img, error));
  return img;
}

// How many distinct 8-bit values the image holds (1: constant, e.g. all white).
size_t distinct_values(const data::Image& img) {
  std::vector<bool> seen(256, false);
  size_t n = 0;
  for (uint8_t v : img.pixels)
    if (!seen[v]) seen[v] = true, ++n;
  return n;
}

}  // namespace

TEST_CASE("facet viz: filters, features and Grad-CAM pictures of a tiny checkpoint", "[cli][viz]") {
  Scratch dir("viz");
  const std::string ckpt = tiny_checkpoint(dir);
  const std::string face = dir.file("utk") + "/26_0_0_20170110000000003.jpg.chip.jpg";
  REQUIRE(std::filesystem::exists(face));

  RunResult r = run_facet("viz filters --checkpoint " + ckpt + " --out " + dir.file("f.png") + " --cell 16");
  INFO(r.output);
  REQUIRE(r.code == 0);
  const data::Image filters = load_png(dir.file("f.png"));
  // conv1 has 4 filters of 3x3 drawn at 5x (16 / 3): a 2 x 2 grid with 3-pixel gaps.
  CHECK(filters.w == 2 * 15 + 3 * 3);
  CHECK(filters.h == 2 * 15 + 3 * 3);
  CHECK(distinct_values(filters) > 4);

  r = run_facet("viz features --checkpoint " + ckpt + " " + face + " --out " + dir.file("feat"));
  INFO(r.output);
  REQUIRE(r.code == 0);
  for (const char* layer : {"act1", "act2"}) {
    const data::Image f = load_png(dir.file("feat") + "/features_" + layer + ".png");
    CHECK(f.w > 48);
    CHECK(distinct_values(f) > 4);
  }
  CHECK(load_png(dir.file("feat") + "/input.png").w == 128);  // 16 px faces enlarged 8x

  const std::string other = dir.file("utk") + "/70_0_1_20170110000000017.jpg.chip.jpg";
  r = run_facet("viz cam --checkpoint " + ckpt + " --head gender --class 1 " + face + " " + other +
                " --out " + dir.file("cam"));
  INFO(r.output);
  REQUIRE(r.code == 0);
  const data::Image a = load_png(dir.file("cam") + "/cam_26_0_0_20170110000000003.png");
  const data::Image b = load_png(dir.file("cam") + "/cam_70_0_1_20170110000000017.png");
  CHECK(a.w == 2 * 128 + 3 * 2);  // the face and its overlay, 128 px each, 2 px gaps
  CHECK(a.h == 128 + 2 * 2);
  CHECK(distinct_values(a) > 8);
  // The heat colour (overlay = (face + heat) / 2, so heat = 2 overlay - face): it differs between the faces.
  auto heat = [](const data::Image& pair) {
    std::vector<int> h;
    for (int y = 2; y < 130; ++y)
      for (int x = 2; x < 130; ++x)
        for (int c = 0; c < 3; ++c) h.push_back(2 * pair.at(y, x + 130, c) - pair.at(y, x, c));
    return h;
  };
  const std::vector<int> ha = heat(a), hb = heat(b);
  long diff = 0;
  for (size_t i = 0; i < ha.size(); ++i) diff += std::abs(ha[i] - hb[i]) > 2;
  CHECK(diff > long(ha.size() / 20));
  CHECK(std::filesystem::exists(dir.file("cam") + "/cam_all.png"));

  r = run_facet("viz cam --checkpoint " + ckpt + " --head gender --class 7 " + face + " --out " +
                dir.file("cam"));
  CHECK(r.code != 0);
  CHECK(r.output.find("--class '7'") != std::string::npos);
}

TEST_CASE("facet explain: text and JSON for a built-in model and a checkpoint", "[cli][explain]") {
  RunResult r = run_facet("explain --model basecnn --size 64 --batch 2 --json -");
  INFO(r.output);
  REQUIRE(r.code == 0);
  const auto j = nlohmann::json::parse(r.output);
  CHECK(j.at("layers").size() > 20);
  CHECK(j.at("total").at("parameters").get<int64_t>() > 0);

  Scratch dir("explain");
  const std::string ckpt = tiny_checkpoint(dir);
  r = run_facet("explain --checkpoint " + ckpt + " --batch 2 --time --repeats 1");
  INFO(r.output);
  REQUIRE(r.code == 0);
  CHECK(r.output.find("conv2") != std::string::npos);
  CHECK(r.output.find("fwd ms") != std::string::npos);
  CHECK(run_facet("explain").code != 0);  // neither --model nor --checkpoint
}
