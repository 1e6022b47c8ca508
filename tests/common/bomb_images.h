// Decompression bombs for the tests: tiny, well-formed PNG and JPEG files whose headers claim huge dimensions.
// A real bomb is a small file that decodes to gigabytes; only its header matters to the pixel limit, which must
// refuse it before a single pixel is decoded.
#pragma once
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "data/image_io.h"

namespace facet::test {

// CRC-32 (ISO-HDLC, polynomial 0xEDB88320) as PNG chunks use it.
inline uint32_t png_crc32(const uint8_t* p, size_t n) {
  uint32_t c = 0xFFFFFFFFu;
  for (size_t i = 0; i < n; ++i) {
    c ^= p[i];
    for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
  }
  return c ^ 0xFFFFFFFFu;
}

inline void put_be32(std::vector<uint8_t>& b, size_t at, uint32_t v) {
  for (int i = 0; i < 4; ++i) b[at + size_t(i)] = uint8_t(v >> (24 - 8 * i));
}

// An 8x8 PNG whose IHDR (bytes 16..23 after the signature and chunk header) is patched to w x h, its CRC
// recomputed over the chunk type and data (bytes 12..28), so the file stays a valid PNG in every check but size.
inline std::vector<uint8_t> png_bomb(const std::string& scratch_path, uint32_t w, uint32_t h) {
  const data::Image img(8, 8, 3, 128);
  data::write_png(scratch_path, img);  // throws, naming the file
  std::vector<uint8_t> bytes;
  std::string error;
  if (!data::read_file_bytes(scratch_path, bytes, error)) throw std::runtime_error(error);
  put_be32(bytes, 16, w);
  put_be32(bytes, 20, h);
  put_be32(bytes, 29, png_crc32(bytes.data() + 12, 17));
  return bytes;
}

// A 16x16 baseline JPEG whose SOF0 frame header (FF C0, length, precision, height, width) claims w x h (<= 65535).
inline std::vector<uint8_t> jpeg_bomb(const std::string& scratch_path, uint16_t w, uint16_t h) {
  const data::Image img(16, 16, 3, 128);
  data::write_jpeg(scratch_path, img.pixels.data(), 16, 16, 3, 90);  // throws, naming the file
  std::vector<uint8_t> bytes;
  std::string error;
  if (!data::read_file_bytes(scratch_path, bytes, error)) throw std::runtime_error(error);
  for (size_t i = 2; i + 9 < bytes.size(); ++i)
    if (bytes[i] == 0xFF && bytes[i + 1] == 0xC0) {
      bytes[i + 5] = uint8_t(h >> 8), bytes[i + 6] = uint8_t(h);
      bytes[i + 7] = uint8_t(w >> 8), bytes[i + 8] = uint8_t(w);
      return bytes;
    }
  throw std::runtime_error(scratch_path + ": no SOF0 marker in the JPEG stb_image_write wrote");
}

}  // namespace facet::test
