// libFuzzer target: the UTKFace CSV reader (data/csv.cpp) on arbitrary file contents.
// Contract under test: a bad file (empty, no header, missing columns) is refused with std::runtime_error naming
// it; bad rows are listed, not thrown; every kept sample has a square image whose pixels match its size.
#include <cstdlib>
#include <stdexcept>
#include <string>

#include "data/readers.h"
#include "tests/fuzz/fuzz_util.h"

using namespace facet::data;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = facet::fuzz::write_scratch("in.csv", data, size);
  try {
    const ReadResult r = read_utkface_csv(path);
    for (const Sample& s : r.data.samples) {
      const Image& img = *s.pixels;
      if (img.w <= 0 || img.w != img.h || img.c != 1 || img.pixels.size() != size_t(img.w) * size_t(img.h))
        std::abort();
    }
  } catch (const std::runtime_error&) {
    // refused with a message naming the file
  }
  return 0;
}
