// The report rasteriser: text, lines and rectangles land where they should; the curve, heat-map and
// contact-sheet PNGs are written with the expected sizes and colours.
#include <catch2/catch.hpp>

#include <filesystem>
#include <unistd.h>

#include "data/image_io.h"
#include "models/training/report.h"

using namespace facet;

namespace {

struct TmpFile {
  std::string path;
  explicit TmpFile(const std::string& name)
      : path((std::filesystem::temp_directory_path() / ("facet_report_" + std::to_string(::getpid()) + "_" + name))
                 .string()) {}
  ~TmpFile() { std::filesystem::remove(path); }
};

uint32_t at(const data::Image& img, int x, int y) {
  return uint32_t(img.at(y, x, 0)) << 16 | uint32_t(img.at(y, x, 1)) << 8 | img.at(y, x, 2);
}

int count_color(const data::Image& img, uint32_t c) {
  int n = 0;
  for (int y = 0; y < img.h; ++y)
    for (int x = 0; x < img.w; ++x) n += at(img, x, y) == c;
  return n;
}

data::Image load(const std::string& path) {
  data::Image img;
  std::string error;
  REQUIRE(data::load_image(path, 3, img, error));
  return img;
}

}  // namespace

TEST_CASE("canvas: rectangles clip, lines connect their ends, text draws inside its box", "[report]") {
  Canvas cv(40, 30, 0xFFFFFF);
  cv.fill(-5, -5, 3, 2, 0xFF0000);  // clipped to [0,3) x [0,2)
  const auto& px = cv.pixels();
  CHECK(px[0] == 255);
  CHECK(px[(1 * 40 + 2) * 3 + 1] == 0);    // (2, 1) red
  CHECK(px[(2 * 40 + 2) * 3 + 1] == 255);  // (2, 2) still white
  cv.line(5, 20, 35, 20, 0x0000FF, 1);
  for (int x = 5; x <= 35; ++x) CHECK(px[(20 * 40 + x) * 3 + 2] == 255);
  CHECK(px[(20 * 40 + 5) * 3 + 0] == 0);
  CHECK(Canvas::text_width("ab", 1) > Canvas::text_width("a", 1));
  CHECK(Canvas::text_width("ab", 2) == 2 * Canvas::text_width("ab", 1));
  Canvas t(60, 20, 0xFFFFFF);
  t.text(2, 2, "Hi", 0x000000, 1);
  int dark = 0, outside = 0;
  const int w = Canvas::text_width("Hi", 1);
  for (int y = 0; y < 20; ++y)
    for (int x = 0; x < 60; ++x) {
      const bool ink = t.pixels()[(size_t(y) * 60 + size_t(x)) * 3] == 0;
      dark += ink;
      outside += ink && (x < 2 || x >= 2 + w || y < 2 || y >= 2 + Canvas::text_height(1) + 2);
    }
  CHECK(dark > 10);
  CHECK(outside == 0);
}

TEST_CASE("plot_curves writes a PNG with every series in its colour", "[report]") {
  TmpFile f("curves.png");
  plot_curves(f.path, "loss", "loss",
              {{"train", {2.0, 1.5, 1.2, 1.0}, 0xD62728, false}, {"val", {2.1, 1.7}, 0x1F77B4, false},
               {"empty", {}, 0x2CA02C, false}});
  const data::Image img = load(f.path);
  CHECK(img.w == 900);
  CHECK(img.h == 520);
  CHECK(count_color(img, 0xD62728) > 50);
  CHECK(count_color(img, 0x1F77B4) > 20);
  CHECK(count_color(img, 0x2CA02C) == 0);  // an empty series draws nothing, not even its legend
  // A PNG that cannot be written is an error naming the file, not a silent false.
  CHECK_THROWS_WITH(plot_curves("/nonexistent-dir/x.png", "t", "y", {}), Catch::Contains("/nonexistent-dir/x.png"));
}

TEST_CASE("plot_confusion colours the diagonal green, errors blue, by share of the row", "[report]") {
  AttributeResult r;
  r.spec = {"gender", {"male", "female"}, false};
  r.confusion = {{90, 10, 0}, {0, 0, 5}};  // female: all undefined
  r.n = 105;
  r.correct = 90;
  TmpFile f("confusion.png");
  plot_confusion(f.path, r, "gender");
  const data::Image img = load(f.path);
  // the (male, male) cell is a strong green; the (female, female) cell with 0 of 5 stays white
  int greenish = 0;
  for (int y = 0; y < img.h; ++y)
    for (int x = 0; x < img.w; ++x) {
      const uint32_t c = at(img, x, y);
      const int rr = int(c >> 16), g = int(c >> 8 & 255), b = int(c & 255);
      greenish += g > rr + 40 && g > b + 40;
    }
  CHECK(greenish > 400);
}

TEST_CASE("contact_sheet lays out tiles in rows with their text lines", "[report]") {
  std::vector<Tile> tiles;
  for (int i = 0; i < 10; ++i) {
    data::Image img(20, 10, 3, uint8_t(20 * i));
    tiles.push_back({img, {{"pred", kGreen}, {"truth", kRed}}});
  }
  TmpFile f("sheet.png");
  contact_sheet(f.path, tiles, 4, 32, "faces");
  const data::Image img = load(f.path);
  CHECK(img.w == 4 * (32 + 16));
  const int tile_h = 32 + 8 + 2 * 12 + 8;
  CHECK(img.h == 40 + 3 * tile_h);  // 10 tiles, 4 per row: 3 rows
  CHECK(count_color(img, kGreen) > 10);
  CHECK(count_color(img, kRed) > 10);
}
