// png_check FILE MIN_SIDE: the tour's tests use it to check a picture an example drew (chapter 3's im2col):
// it must decode, be at least MIN_SIDE pixels on each side, and not be one flat colour. Exit 0 when it is
// fine, 1 (with the reason) when not.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "data/image_io.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: png_check FILE MIN_SIDE\n");
    return 2;
  }
  facet::data::Image image;
  std::string error;
  if (!facet::data::load_image(argv[1], 3, image, error)) {
    std::fprintf(stderr, "png_check: %s\n", error.c_str());
    return 1;
  }
  const int min_side = std::atoi(argv[2]);
  const auto [lo, hi] = std::minmax_element(image.pixels.begin(), image.pixels.end());
  std::printf("png_check: %s is %d x %d, values %d..%d\n", argv[1], image.w, image.h, *lo, *hi);
  if (image.w < min_side || image.h < min_side) {
    std::fprintf(stderr, "png_check: %s is smaller than %d x %d\n", argv[1], min_side, min_side);
    return 1;
  }
  if (*lo == *hi) {
    std::fprintf(stderr, "png_check: %s is one flat colour (every value is %d)\n", argv[1], *lo);
    return 1;
  }
  return 0;
}
