// Decoding and writing images, the structural checks that catch truncated files, and the content hash.
#include <catch2/catch.hpp>

#include <cstring>

#include "data/hash.h"
#include "data/image_io.h"
#include "tests/data/helpers.h"

using namespace facet::data;
using facet::test::TempDir;

TEST_CASE("hash64 is xxHash64: published test vectors", "[data][hash]") {
  CHECK(hash64("", 0) == 0xEF46DB3751D8E999ull);
  CHECK(hash64("abc", 3) == 0x44BC2CF5AD770999ull);
  // Every length 0..100 through the 32-byte lanes and the 8/4/1-byte tails: equal input, equal hash; one flipped
  // bit, a different hash.
  std::vector<uint8_t> buf(100);
  for (size_t i = 0; i < buf.size(); ++i) buf[i] = uint8_t(i * 31 + 7);
  for (size_t n = 1; n <= buf.size(); ++n) {
    std::vector<uint8_t> copy(buf.begin(), buf.begin() + long(n));
    REQUIRE(hash64(copy.data(), n) == hash64(buf.data(), n));
    copy[n / 2] ^= 1;
    REQUIRE(hash64(copy.data(), n) != hash64(buf.data(), n));
  }
  CHECK(hash64("abc", 3, 1) != hash64("abc", 3, 0));
  CHECK(hex64(0xEF46DB3751D8E999ull) == "ef46db3751d8e999");
}

TEST_CASE("PNG round trip is exact; JPEG decodes close to what was written", "[data][image]") {
  TempDir dir;
  const Image img = facet::test::pattern_image(20, 12, 3, 1);
  REQUIRE(write_png(dir.file("a.png"), img));
  Image back;
  std::string error;
  REQUIRE(load_image(dir.file("a.png"), 3, back, error));
  CHECK(back.w == 20);
  CHECK(back.h == 12);
  CHECK(back.pixels == img.pixels);

  facet::test::write_jpeg_file(dir.file("a.jpg"), 20, 12, 3, 1);
  REQUIRE(load_image(dir.file("a.jpg"), 3, back, error));
  REQUIRE(back.pixels.size() == img.pixels.size());
  double err = 0;
  for (size_t i = 0; i < img.pixels.size(); ++i) err += std::abs(int(back.pixels[i]) - int(img.pixels[i]));
  CHECK(err / double(img.pixels.size()) < 8.0);  // quality 95 on a smooth image
}

TEST_CASE("grayscale JPEG decodes to 3 equal channels or to 1", "[data][image]") {
  TempDir dir;
  facet::test::write_jpeg_file(dir.file("g.jpg"), 16, 16, 1, 3);
  Image rgb, gray;
  std::string error;
  REQUIRE(load_image(dir.file("g.jpg"), 3, rgb, error));
  REQUIRE(load_image(dir.file("g.jpg"), 1, gray, error));
  REQUIRE(rgb.c == 3);
  REQUIRE(gray.c == 1);
  for (int i = 0; i < 16 * 16; ++i) {
    REQUIRE(rgb.pixels[3 * i] == gray.pixels[i]);
    REQUIRE(rgb.pixels[3 * i + 1] == gray.pixels[i]);
    REQUIRE(rgb.pixels[3 * i + 2] == gray.pixels[i]);
  }
}

TEST_CASE("PNG with alpha is composited over black", "[data][image]") {
  TempDir dir;
  // 2x1 RGBA: opaque red, half-transparent white, written as 4 channels.
  const uint8_t px[8] = {255, 0, 0, 255, 255, 255, 255, 128};
  REQUIRE(write_png(dir.file("alpha.png"), px, 2, 1, 4));
  Image rgb, gray;
  std::string error;
  REQUIRE(load_image(dir.file("alpha.png"), 3, rgb, error));
  CHECK(rgb.c == 3);
  CHECK(std::vector<int>(rgb.pixels.begin(), rgb.pixels.end()) == std::vector<int>{255, 0, 0, 128, 128, 128});
  REQUIRE(load_image(dir.file("alpha.png"), 1, gray, error));
  // luma of (255,0,0) = round(0.299*255) = 76; of (128,128,128) = 128
  CHECK(std::vector<int>(gray.pixels.begin(), gray.pixels.end()) == std::vector<int>{76, 128});
}

TEST_CASE("truncated, empty and non-image files are rejected with a reason, never decoded as grey", "[data][image]") {
  TempDir dir;
  facet::test::write_jpeg_file(dir.file("ok.jpg"), 32, 32, 3, 2);
  auto bytes = facet::test::file_bytes(dir.file("ok.jpg"));
  REQUIRE(check_image_bytes(bytes.data(), bytes.size()).empty());

  std::vector<uint8_t> cut(bytes.begin(), bytes.begin() + long(bytes.size() * 2 / 3));
  const std::string why = check_image_bytes(cut.data(), cut.size());
  CHECK(why.find("truncated JPEG") != std::string::npos);
  Image img;
  std::string error;
  CHECK_FALSE(decode_image(cut.data(), cut.size(), 3, img, error, "cut.jpg"));
  CHECK(error.find("cut.jpg") != std::string::npos);

  CHECK(check_image_bytes(bytes.data(), 0) == "empty file (0 bytes)");
  const std::string text = "hello, not an image";
  CHECK(check_image_bytes(reinterpret_cast<const uint8_t*>(text.data()), text.size()).find("not a decodable image") == 0);

  const Image p = facet::test::pattern_image(8, 8, 3, 1);
  REQUIRE(write_png(dir.file("p.png"), p));
  auto png = facet::test::file_bytes(dir.file("p.png"));
  REQUIRE(check_image_bytes(png.data(), png.size()).empty());
  CHECK(check_image_bytes(png.data(), png.size() - 5).find("truncated PNG") == 0);

  // JPEG with bytes after the end-of-image marker (some cameras pad files) is fine.
  bytes.insert(bytes.end(), {0, 0, 0});
  CHECK(check_image_bytes(bytes.data(), bytes.size()).empty());
  CHECK_FALSE(load_image(dir.file("missing.jpg"), 3, img, error));
  CHECK(error.find("missing.jpg") != std::string::npos);
}
