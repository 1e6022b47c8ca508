// libFuzzer target: the image decode path (data/image_io.cpp): check_image_bytes, then decode_image to 1 and 3
// channels, exactly as the loader and `facet predict` call them. Goes through whatever header checks
// decode_image makes before allocating (the pixel limit read with stbi_info), so a small input that claims a
// huge image must be refused there, not allocated: libFuzzer's -malloc_limit_mb (scripts/fuzz.sh) turns such an
// allocation into a failure.
// Contract under test: never throws; on success the image has the asked channels and w*h*c pixels.
#include <cstdlib>
#include <string>

#include "data/image_io.h"

using namespace facet::data;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  (void)check_image_bytes(data, size);
  for (int channels : {1, 3}) {
    Image img;
    std::string error;
    if (decode_image(data, size, channels, img, error, "fuzz input")) {
      if (img.c != channels || img.w <= 0 || img.h <= 0 ||
          img.pixels.size() != size_t(img.w) * size_t(img.h) * size_t(channels))
        std::abort();
    } else if (error.empty()) {
      std::abort();  // every refusal says why
    }
  }
  return 0;
}
