// Labels that fit their tile: wrap_text and the contact sheet of `facet predict --grid` (issue 19: the grid
// cut "Senior 59+ (Senior 59+)" at the tile edge, where it ran into the next tile).
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>

#include "models/training/report.h"
#include "models/text_wrap.h"

using namespace facet;

TEST_CASE("wrap_text: every line fits, words break at spaces, no character is lost", "[report]") {
  const std::string s = "a: Senior 59+ (Senior 59+)";
  const int width = 104;
  const auto lines = wrap_text(s, width);
  REQUIRE(lines.size() >= 2);
  std::string joined;
  for (const auto& l : lines) {
    CHECK(Canvas::text_width(l) <= width);
    joined += (joined.empty() ? "" : " ") + l;
  }
  CHECK(joined == s);
  CHECK(wrap_text("short", width) == std::vector<std::string>{"short"});
  CHECK(wrap_text("", width) == std::vector<std::string>{""});
  // A word wider than the box is cut into pieces that fit, in order.
  const auto pieces = wrap_text(std::string(60, 'W'), 50);
  std::string all;
  for (const auto& p : pieces) {
    CHECK(Canvas::text_width(p) <= 50);
    all += p;
  }
  CHECK(all == std::string(60, 'W'));
}

TEST_CASE("contact_sheet: a long label stays inside its own tile", "[report]") {
  const std::string path =
      (std::filesystem::temp_directory_path() / ("facet_wrap_" + std::to_string(::getpid()) + ".png"))
          .string();
  const int side = 96, pad = 8, tile_w = side + 2 * pad;
  Tile a, b;
  a.image = data::Image(20, 20, 3, 100);
  b.image = data::Image(20, 20, 3, 100);
  a.lines = {{"a: Senior 59+ (Senior 59+)", kRed}, {"g: Female (Female)", kRed}};
  b.lines = {{"a: 0-2", kGreen}};
  contact_sheet(path, {a, b}, 2, side, "t");
  data::Image img;
  std::string error;
  REQUIRE(data::load_image(path, 3, img, error));
  std::filesystem::remove(path);
  int red_left = 0, red_right = 0;
  for (int y = 40; y < img.h; ++y)  // below the title
    for (int x = 0; x < img.w; ++x) {
      const bool red = img.at(y, x, 0) == 0xC6 && img.at(y, x, 1) == 0x28 && img.at(y, x, 2) == 0x28;
      (x < tile_w ? red_left : red_right) += red;
    }
  CHECK(red_left > 0);
  CHECK(red_right == 0);  // before the fix the first label ran on into the second tile
}
