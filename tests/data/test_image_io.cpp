// Decoding and writing images, the structural checks that catch truncated files, and the content hash.
#include <catch2/catch.hpp>

#include <array>
#include <chrono>
#include <cmath>
#include <cstring>

#include "data/hash.h"
#include "data/image_io.h"
#include "tests/common/bomb_images.h"
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

TEST_CASE("PNG round trip is exact, JPEG decodes close to what was written", "[data][image]") {
  TempDir dir;
  const Image img = facet::test::pattern_image(20, 12, 3, 1);
  write_png(dir.file("a.png"), img);
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
  write_png(dir.file("alpha.png"), px, 2, 1, 4);
  Image rgb, gray;
  std::string error;
  REQUIRE(load_image(dir.file("alpha.png"), 3, rgb, error));
  CHECK(rgb.c == 3);
  CHECK(std::vector<int>(rgb.pixels.begin(), rgb.pixels.end()) == std::vector<int>{255, 0, 0, 128, 128, 128});
  REQUIRE(load_image(dir.file("alpha.png"), 1, gray, error));
  // luma of (255,0,0) = round(0.299*255) = 76; of (128,128,128) = 128
  CHECK(std::vector<int>(gray.pixels.begin(), gray.pixels.end()) == std::vector<int>{76, 128});
}

namespace {

// A baseline JPEG with 4 components as Adobe writes CMYK: an APP14 "Adobe" segment with transform 0 and the
// values stored inverted (255 = no ink). Each 8x8 block is flat, so its DCT is the DC term alone,
// 8 * (v - 128) at quantiser 1: the encoder is the segments plus, per block and component, a Huffman-coded DC
// difference and an end-of-block. `ink`: per block, left to right in one block row, C, M, Y, K ink 0..255.
std::vector<uint8_t> cmyk_jpeg(const std::vector<std::array<int, 4>>& ink) {
  const int w = 8 * int(ink.size()), h = 8;
  std::vector<uint8_t> out{0xFF, 0xD8};  // SOI
  auto segment = [&](uint8_t marker, const std::vector<uint8_t>& body) {
    const size_t len = body.size() + 2;
    out.insert(out.end(), {0xFF, marker, uint8_t(len >> 8), uint8_t(len & 255)});
    out.insert(out.end(), body.begin(), body.end());
  };
  // APP14 "Adobe": version 100, flags 0 and 0, transform 0 (CMYK)
  segment(0xEE, {'A', 'd', 'o', 'b', 'e', 0, 100, 0, 0, 0, 0, 0});
  std::vector<uint8_t> dqt(65, 1);
  dqt[0] = 0x00;  // 8-bit table 0: every quantiser 1
  segment(0xDB, dqt);
  segment(0xC0, {8, 0, uint8_t(h), uint8_t(w >> 8), uint8_t(w & 255), 4,  // SOF0: 8 bits, h, w, 4 components
                 1, 0x11, 0, 2, 0x11, 0, 3, 0x11, 0, 4, 0x11, 0});        // id, 1x1 sampling, table 0
  // DC: the standard luminance DC table (ITU T.81 K.3); AC: one symbol, end-of-block (0x00), code "0".
  const uint8_t dc_bits[16] = {0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0};
  std::vector<uint8_t> dht{0x00};
  dht.insert(dht.end(), dc_bits, dc_bits + 16);
  for (uint8_t v = 0; v < 12; ++v) dht.push_back(v);
  dht.insert(dht.end(), {0x10, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x00});
  segment(0xC4, dht);
  segment(0xDA, {4, 1, 0x00, 2, 0x00, 3, 0x00, 4, 0x00, 0, 63, 0});  // SOS: all four, tables 0/0, Ss Se Ah/Al
  uint32_t dc_code[12];  // canonical Huffman codes of the DC categories
  int dc_len[12];
  for (int len = 1, code = 0, k = 0; len <= 16; ++len, code <<= 1)
    for (int i = 0; i < dc_bits[len - 1]; ++i, ++k) dc_code[k] = uint32_t(code++), dc_len[k] = len;
  uint32_t acc = 0;
  int nbits = 0;
  auto put = [&](uint32_t bits, int n) {  // MSB first, 0xFF stuffed with 0x00
    for (int i = n - 1; i >= 0; --i) {
      acc = (acc << 1) | ((bits >> i) & 1);
      if (++nbits == 8) {
        out.push_back(uint8_t(acc));
        if (acc == 0xFF) out.push_back(0x00);
        acc = 0, nbits = 0;
      }
    }
  };
  int pred[4] = {0, 0, 0, 0};
  for (const auto& block : ink)  // interleaved scan: one MCU = one block of each component
    for (int c = 0; c < 4; ++c) {
      const int dc = 8 * ((255 - block[size_t(c)]) - 128), diff = dc - pred[c];
      pred[c] = dc;
      int s = 0;  // category: bits of |diff|
      while ((std::abs(diff) >> s) != 0) ++s;
      put(dc_code[s], dc_len[s]);
      if (s > 0) put(uint32_t(diff >= 0 ? diff : diff + (1 << s) - 1), s);
      put(0, 1);  // end of block: every AC coefficient is 0
    }
  if (nbits > 0) {
    const int pad = 8 - nbits;
    put((1u << pad) - 1, pad);  // fill the last byte with 1 bits
  }
  out.insert(out.end(), {0xFF, 0xD9});  // EOI
  return out;
}

}  // namespace

TEST_CASE("CMYK JPEG (Adobe APP14, inverted) decodes to RGB = (255-C)(255-K)/255 and to its luma",
          "[data][image]") {
  // cyan, red (magenta + yellow), 50% black, a brown mix, paper white
  const std::vector<std::array<int, 4>> ink = {
      {255, 0, 0, 0}, {0, 255, 255, 0}, {0, 0, 0, 128}, {64, 128, 192, 32}, {0, 0, 0, 0}};
  const std::vector<uint8_t> bytes = cmyk_jpeg(ink);
  CHECK(check_image_bytes(bytes.data(), bytes.size()).empty());
  Image rgb, gray;
  std::string error;
  REQUIRE(decode_image(bytes.data(), bytes.size(), 3, rgb, error, "cmyk.jpg"));
  REQUIRE(decode_image(bytes.data(), bytes.size(), 1, gray, error, "cmyk.jpg"));
  REQUIRE((rgb.w == 40 && rgb.h == 8 && rgb.c == 3));
  REQUIRE((gray.w == 40 && gray.h == 8 && gray.c == 1));
  for (size_t b = 0; b < ink.size(); ++b) {
    const auto& [c, m, y, k] = ink[b];
    const double expect[3] = {(255 - c) * (255 - k) / 255.0, (255 - m) * (255 - k) / 255.0,
                              (255 - y) * (255 - k) / 255.0};
    const double luma = 0.299 * expect[0] + 0.587 * expect[1] + 0.114 * expect[2];
    for (int py = 0; py < 8; ++py)
      for (int px = int(b) * 8; px < int(b) * 8 + 8; ++px) {
        INFO("block " << b << " pixel (" << px << ", " << py << ")");
        for (int ch = 0; ch < 3; ++ch)  // 2 levels: IDCT rounding, then the product
          REQUIRE(std::abs(rgb.at(py, px, ch) - expect[ch]) <= 2.0);
        REQUIRE(std::abs(gray.at(py, px, 0) - luma) <= 2.0);
      }
  }
  // Spelled out for the first two blocks: cyan ink is (0, 255, 255), magenta + yellow is red.
  CHECK(rgb.at(0, 0, 0) <= 2);
  CHECK(rgb.at(0, 0, 1) >= 253);
  CHECK(rgb.at(0, 8, 0) >= 253);
  CHECK(rgb.at(0, 8, 2) <= 2);
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
  write_png(dir.file("p.png"), p);
  auto png = facet::test::file_bytes(dir.file("p.png"));
  REQUIRE(check_image_bytes(png.data(), png.size()).empty());
  CHECK(check_image_bytes(png.data(), png.size() - 5).find("truncated PNG") == 0);

  // JPEG with bytes after the end-of-image marker (some cameras pad files) is fine.
  bytes.insert(bytes.end(), {0, 0, 0});
  CHECK(check_image_bytes(bytes.data(), bytes.size()).empty());
  CHECK_FALSE(load_image(dir.file("missing.jpg"), 3, img, error));
  CHECK(error.find("missing.jpg") != std::string::npos);
}

// Regression (tests/fuzz/fuzz_image, docs/reliability.md): a PNM header whose height is not a number decoded
// as a 1x0 image and was reported as a success.
TEST_CASE("decode_image refuses a header with a zero dimension (fuzz regression)", "[data][image][fuzz]") {
  const uint8_t bytes[] = {'P', '6', '\n', '1', '$', '1', '\n', '2', '5', '5', '\n', 0xff, 0x80};
  for (int channels : {1, 3}) {
    Image img;
    std::string error;
    CHECK_FALSE(decode_image(bytes, sizeof bytes, channels, img, error, "bomb.ppm"));
    CHECK(error.find("bomb.ppm") != std::string::npos);
    CHECK(error.find("1x0") != std::string::npos);
    CHECK(img.empty());
  }
}

// Regression (tests/fuzz/fuzz_image under UBSan, docs/reliability.md): a JPEG whose Huffman table declares more
// than 256 codes made stb_image write past its 257-entry size table. Now refused before stb sees it.
TEST_CASE("decode_image refuses a JPEG Huffman table of more than 256 codes (fuzz regression)",
          "[data][image][fuzz]") {
  TempDir dir;
  facet::test::write_jpeg_file(dir.file("ok.jpg"), 16, 16, 3, 1);
  std::vector<uint8_t> bytes = facet::test::file_bytes(dir.file("ok.jpg"));
  Image img;
  std::string error;
  REQUIRE(decode_image(bytes.data(), bytes.size(), 3, img, error, "ok.jpg"));
  size_t dht = 0;
  for (size_t i = 2; i + 1 < bytes.size() && !dht; ++i)
    if (bytes[i] == 0xFF && bytes[i + 1] == 0xC4) dht = i;
  REQUIRE(dht > 0);
  bytes[dht + 5 + 15] = 255;  // the 16-bit-code count of the first table: now over 256 codes in all
  CHECK_FALSE(decode_image(bytes.data(), bytes.size(), 3, img, error, "dht.jpg"));
  CHECK(error.find("dht.jpg") == 0);
  CHECK(error.find("Huffman table at byte " + std::to_string(dht + 4)) != std::string::npos);
  CHECK(error.find("(at most 256)") != std::string::npos);
  // stb_image skips 0xFF fill bytes before the start-of-image marker, so the check must too (the fuzzer's
  // second input had 16 of them)
  bytes.insert(bytes.begin(), 16, 0xFF);
  CHECK_FALSE(decode_image(bytes.data(), bytes.size(), 3, img, error, "fill.jpg"));
  CHECK(error.find("Huffman table at byte " + std::to_string(dht + 4)) != std::string::npos);
}

// Regression (tests/fuzz/fuzz_image under UBSan): stb_image read a PNM header's numbers into an int without a
// bound (signed overflow). Numbers of more than 8 digits are refused first.
TEST_CASE("decode_image refuses a PNM header number of more than 8 digits (fuzz regression)", "[data][image][fuzz]") {
  const std::string header = "P6\n# a comment\n2222222222 1\n255\n";
  std::vector<uint8_t> bytes(header.begin(), header.end());
  bytes.resize(bytes.size() + 3, 0x80);
  Image img;
  std::string error;
  CHECK_FALSE(decode_image(bytes.data(), bytes.size(), 3, img, error, "long.ppm"));
  CHECK(error.find("long.ppm") == 0);
  CHECK(error.find("header number 1 has 10 digits (at most 8)") != std::string::npos);
  // 8 digits still reach stb_image, which refuses the size on its own terms (not as a corrupt header)
  const std::string ok = "P6 99999999 1 255\n";
  CHECK_FALSE(decode_image(reinterpret_cast<const uint8_t*>(ok.data()), ok.size(), 3, img, error, "w.ppm"));
  CHECK(error.find("digits") == std::string::npos);
}

TEST_CASE("decompression bombs: a header claiming more than max_pixels() is refused before decoding, file named",
          "[data][image][bomb]") {
  TempDir dir;
  // A 26000x26000 JPEG (the 632-byte bomb): stb_image would allocate 2.7 GB to decode it.
  const auto jpeg = facet::test::jpeg_bomb(dir.file("scratch.jpg"), 26000, 26000);
  const auto png = facet::test::png_bomb(dir.file("scratch.png"), 16000, 16000);
  CHECK(jpeg.size() < 2000);
  REQUIRE(max_pixels() == kDefaultMaxPixels);  // FACET_MAX_PIXELS is not set for the tests
  const std::string why = check_image_bytes(jpeg.data(), jpeg.size());
  REQUIRE(why.find("26000x26000") != std::string::npos);  // the old check passed it, and decoding took GBs
  CHECK(why.find("over the limit of " + std::to_string(kDefaultMaxPixels)) != std::string::npos);
  CHECK(why.find("--max-pixels") != std::string::npos);
  CHECK(check_image_bytes(png.data(), png.size()).find("16000x16000") != std::string::npos);

  Image img;
  std::string error;
  CHECK_FALSE(decode_image(jpeg.data(), jpeg.size(), 3, img, error, "bomb.jpg"));
  CHECK(error.find("bomb.jpg") == 0);
  CHECK(error.find("over the limit") != std::string::npos);
  facet::test::write_bytes(dir.file("bomb.png"), png);
  CHECK_FALSE(load_image(dir.file("bomb.png"), 3, img, error));
  CHECK(error.find(dir.file("bomb.png")) == 0);
  CHECK(img.empty());

  // The limit is a setting: at 64 pixels an 8x8 image passes and a 16x16 one does not; the default comes back.
  facet::test::write_jpeg_file(dir.file("small.jpg"), 16, 16, 3, 1);
  const Image tiny(8, 8, 3, 7);
  write_png(dir.file("tiny.png"), tiny);
  set_max_pixels(64);
  CHECK(load_image(dir.file("tiny.png"), 3, img, error));
  CHECK_FALSE(load_image(dir.file("small.jpg"), 3, img, error));
  CHECK(error.find("16x16 = 256 pixels, over the limit of 64") != std::string::npos);
  set_max_pixels(kDefaultMaxPixels);
  CHECK(load_image(dir.file("small.jpg"), 3, img, error));
  CHECK_THROWS_WITH(set_max_pixels(0), Catch::Contains("must be positive"));
}
