// stb_image / stb_image_write live here: this is the one translation unit that defines their implementations.
#include "data/image_io.h"

#include "data/io/atomic_file.h"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <new>
#include <stdexcept>

#define STB_IMAGE_IMPLEMENTATION
#define STBI_FAILURE_USERMSG
#include <stb_image.h>
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb_image_write.h>

namespace facet::data {

bool read_file_bytes(const std::string& path, std::vector<uint8_t>& bytes, std::string& error) {
  bytes.clear();
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) {
    error = "cannot open " + path;
    return false;
  }
  const std::streamsize size = in.tellg();
  if (size < 0) {
    error = "cannot read the size of " + path;
    return false;
  }
  bytes.resize(size_t(size));
  in.seekg(0);
  if (size > 0 && !in.read(reinterpret_cast<char*>(bytes.data()), size)) {
    error = "read failed after " + std::to_string(in.gcount()) + " of " + std::to_string(size) + " bytes of " + path;
    return false;
  }
  return true;
}

namespace {

// A DHT segment (b[0..len) after its length field) holds tables of: class/id byte, 16 code counts, then as many
// symbols as the counts add up to. JPEG allows at most 256 codes per table; Debian's stb_image does not check
// it and writes past its 257-entry size table (found by tests/fuzz/fuzz_image under UBSan).
std::string check_jpeg_huffman(const uint8_t* b, size_t len, size_t at) {
  size_t pos = 0;
  while (pos < len) {
    if (pos + 17 > len) return "corrupt JPEG: truncated Huffman table at byte " + std::to_string(at + pos);
    size_t codes = 0;
    for (int i = 1; i <= 16; ++i) codes += b[pos + i];
    if (codes > 256)
      return "corrupt JPEG: Huffman table at byte " + std::to_string(at + pos) + " declares " +
             std::to_string(codes) + " codes (at most 256)";
    pos += 17 + codes;
  }
  return pos == len ? "" : "corrupt JPEG: Huffman table overruns its segment at byte " + std::to_string(at);
}

// Binary PNM (P5, P6): width, height and maxval as decimal text, with whitespace and '#' comments between.
// Debian's stb_image accumulates each number in an int without a bound (signed overflow, found by
// tests/fuzz/fuzz_image under UBSan), so a number of more than 8 digits is refused before stb reads it.
std::string check_pnm(const uint8_t* b, size_t n) {
  size_t pos = 2;
  for (int field = 0; field < 3; ++field) {
    while (pos < n && (std::isspace(b[pos]) || b[pos] == '#')) {
      if (b[pos] == '#')
        while (pos < n && b[pos] != '\n' && b[pos] != '\r') ++pos;
      else
        ++pos;
    }
    size_t digits = 0;
    for (; pos < n && std::isdigit(b[pos]); ++pos) ++digits;
    if (digits > 8)
      return "corrupt PNM: header number " + std::to_string(field + 1) + " has " + std::to_string(digits) +
             " digits (at most 8)";
    if (digits == 0) return "";  // not a number: stb_image refuses the header itself
  }
  return "";
}

// Walks the JPEG marker segments from SOI to EOI. Entropy-coded data after SOS cannot contain 0xFF followed by
// anything but 0x00 (stuffing), 0xFF (fill) or RST0-7, so the first other marker ends the scan.
std::string check_jpeg(const uint8_t* b, size_t n) {
  size_t pos = 2;
  while (pos + 1 < n) {
    if (b[pos] != 0xFF) return "corrupt JPEG: expected a marker at byte " + std::to_string(pos);
    const uint8_t m = b[pos + 1];
    if (m == 0xFF) { ++pos; continue; }        // fill byte
    if (m == 0xD9) return "";                   // EOI: complete
    if (m == 0x01 || (m >= 0xD0 && m <= 0xD8)) { pos += 2; continue; }  // markers without a length
    if (pos + 3 >= n) break;
    const size_t len = (size_t(b[pos + 2]) << 8) | b[pos + 3];
    if (len < 2) return "corrupt JPEG: segment length " + std::to_string(len) + " at byte " + std::to_string(pos);
    if (m == 0xC4) {  // DHT: checked here, since stb_image would trust its counts
      if (pos + 2 + len > n) break;
      const std::string flaw = check_jpeg_huffman(b + pos + 4, len - 2, pos + 4);
      if (!flaw.empty()) return flaw;
    }
    pos += 2 + len;
    if (m == 0xDA) {  // start of scan: skip the entropy-coded data
      while (pos + 1 < n) {
        if (b[pos] == 0xFF) {
          const uint8_t next = b[pos + 1];
          if (next != 0x00 && next != 0xFF && !(next >= 0xD0 && next <= 0xD7)) break;
        }
        ++pos;
      }
    }
  }
  return "truncated JPEG: no end-of-image marker in its " + std::to_string(n) + " bytes";
}

std::string check_png(const uint8_t* b, size_t n) {
  size_t pos = 8;
  while (pos + 8 <= n) {
    const size_t len = (size_t(b[pos]) << 24) | (size_t(b[pos + 1]) << 16) | (size_t(b[pos + 2]) << 8) | b[pos + 3];
    const bool iend = b[pos + 4] == 'I' && b[pos + 5] == 'E' && b[pos + 6] == 'N' && b[pos + 7] == 'D';
    pos += 12 + len;  // length, type, data, CRC
    if (pos > n) break;
    if (iend) return "";
  }
  return "truncated PNG: no IEND chunk in its " + std::to_string(n) + " bytes";
}

// FACET_MAX_PIXELS, else the default; a malformed value is an error rather than a silent default.
int64_t initial_max_pixels() {
  const char* env = std::getenv("FACET_MAX_PIXELS");
  if (!env || !*env) return kDefaultMaxPixels;
  char* end = nullptr;
  const long long v = std::strtoll(env, &end, 10);
  if (*end || v <= 0)
    throw std::invalid_argument(std::string("FACET_MAX_PIXELS='") + env +
                                "': expected a positive whole number of pixels (default " +
                                std::to_string(kDefaultMaxPixels) + ")");
  return v;
}

std::atomic<int64_t>& max_pixels_setting() {  // read by loader threads, so atomic
  static std::atomic<int64_t> value{initial_max_pixels()};
  return value;
}

// The header's dimensions against max_pixels(); "" when within it.
std::string check_dimensions(const uint8_t* bytes, size_t n) {
  int w = 0, h = 0, comp = 0;
  if (!stbi_info_from_memory(bytes, int(n), &w, &h, &comp))
    return std::string("not a decodable image (") + stbi_failure_reason() + ")";
  const int64_t pixels = int64_t(w) * int64_t(h), limit = max_pixels();
  if (pixels <= limit) return "";
  return "header claims " + std::to_string(w) + "x" + std::to_string(h) + " = " + std::to_string(pixels) +
         " pixels, over the limit of " + std::to_string(limit) +
         " (a decompression bomb or a huge photo: refused before decoding; raise it with --max-pixels or "
         "FACET_MAX_PIXELS)";
}

uint8_t luma(int r, int g, int b) {  // BT.601, rounded
  return uint8_t((299 * r + 587 * g + 114 * b + 500) / 1000);
}

}  // namespace

int64_t max_pixels() { return max_pixels_setting().load(std::memory_order_relaxed); }

void set_max_pixels(int64_t pixels) {
  if (pixels <= 0) throw std::invalid_argument("max pixels " + std::to_string(pixels) + ": must be positive");
  max_pixels_setting().store(pixels, std::memory_order_relaxed);
}

std::string check_image_bytes(const uint8_t* bytes, size_t n) {
  if (n == 0) return "empty file (0 bytes)";
  if (n > size_t(INT32_MAX)) return "file of " + std::to_string(n) + " bytes: over stb_image's 2 GiB input limit";
  static const uint8_t png_sig[8] = {0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A};
  std::string flaw;
  size_t soi = 0;  // stb_image, as JPEG allows, skips 0xFF fill bytes before SOI: so must the check
  while (soi + 1 < n && bytes[soi] == 0xFF && bytes[soi + 1] == 0xFF) ++soi;
  if (soi + 1 < n && bytes[soi] == 0xFF && bytes[soi + 1] == 0xD8) flaw = check_jpeg(bytes + soi, n - soi);
  else if (n >= 8 && std::equal(png_sig, png_sig + 8, bytes)) flaw = check_png(bytes, n);
  else if (n >= 2 && bytes[0] == 'P' && (bytes[1] == '5' || bytes[1] == '6')) flaw = check_pnm(bytes, n);
  return flaw.empty() ? check_dimensions(bytes, n) : flaw;
}

bool decode_image(const uint8_t* bytes, size_t n, int channels, Image& out, std::string& error,
                  const std::string& name) {
  if (channels != 1 && channels != 3) {
    error = name + ": asked for " + std::to_string(channels) + " channels; facet decodes to 1 (gray) or 3 (RGB)";
    return false;
  }
  const std::string flaw = check_image_bytes(bytes, n);
  if (!flaw.empty()) {
    error = name + ": " + flaw;
    return false;
  }
  int w = 0, h = 0, comp = 0;  // check_image_bytes read the header: within max_pixels()
  if (!stbi_info_from_memory(bytes, int(n), &w, &h, &comp)) {
    error = name + ": " + stbi_failure_reason();
    return false;
  }
  // stb_image's PNM reader accepts a header whose height is not a number ("P6\n1$1\n255\n...", found by
  // tests/fuzz/fuzz_image) as a 1x0 image and "decodes" it: an image with no pixels is not an image.
  if (w <= 0 || h <= 0) {
    error = name + ": the header gives a size of " + std::to_string(w) + "x" + std::to_string(h) +
            " pixels (an image needs at least 1x1)";
    return false;
  }
  const bool alpha = comp == 2 || comp == 4;
  const int req = alpha ? 4 : (comp == 1 ? 1 : 3);
  stbi_uc* px = stbi_load_from_memory(bytes, int(n), &w, &h, &comp, req);
  if (!px) {
    error = name + ": cannot decode (" + std::string(stbi_failure_reason()) + ")";
    return false;
  }
  try {
    out = Image(w, h, channels);
  } catch (const std::bad_alloc&) {  // under a memory limit: name the file rather than end in a bare bad_alloc
    stbi_image_free(px);
    error = name + ": out of memory for its " + std::to_string(w) + "x" + std::to_string(h) + " pixels";
    return false;
  }
  const size_t count = size_t(w) * h;
  for (size_t i = 0; i < count; ++i) {
    const stbi_uc* p = px + i * req;
    int r, g, b;
    if (req == 1) {
      r = g = b = p[0];
    } else {
      r = p[0], g = p[1], b = p[2];
      if (req == 4) {  // composite over black: c * a / 255, rounded
        r = (r * p[3] + 127) / 255, g = (g * p[3] + 127) / 255, b = (b * p[3] + 127) / 255;
      }
    }
    if (channels == 1) {
      out.pixels[i] = req == 1 ? uint8_t(r) : luma(r, g, b);
    } else {
      out.pixels[3 * i] = uint8_t(r), out.pixels[3 * i + 1] = uint8_t(g), out.pixels[3 * i + 2] = uint8_t(b);
    }
  }
  stbi_image_free(px);
  return true;
}

bool load_image(const std::string& path, int channels, Image& out, std::string& error) {
  std::vector<uint8_t> bytes;
  if (!read_file_bytes(path, bytes, error)) return false;
  return decode_image(bytes.data(), bytes.size(), channels, out, error, path);
}

namespace {
// stb encodes into memory through this callback; the bytes then go to the file in one checked, atomic write.
void append_bytes(void* context, void* data, int size) {
  static_cast<std::string*>(context)->append(static_cast<const char*>(data), size_t(size));
}
}  // namespace

void write_png(const std::string& path, const uint8_t* pixels, int w, int h, int channels) {
  std::string bytes;
  if (stbi_write_png_to_func(append_bytes, &bytes, w, h, channels, pixels, w * channels) == 0)
    throw std::runtime_error("cannot write '" + path + "': PNG encoding of a " + std::to_string(w) + "x" +
                             std::to_string(h) + "x" + std::to_string(channels) + " image failed");
  io::write_file_atomic(path, bytes);
}

void write_png(const std::string& path, const Image& image) {
  write_png(path, image.pixels.data(), image.w, image.h, image.c);
}

void write_jpeg(const std::string& path, const uint8_t* pixels, int w, int h, int channels, int quality) {
  std::string bytes;
  if (stbi_write_jpg_to_func(append_bytes, &bytes, w, h, channels, pixels, quality) == 0)
    throw std::runtime_error("cannot write '" + path + "': JPEG encoding of a " + std::to_string(w) + "x" +
                             std::to_string(h) + "x" + std::to_string(channels) + " image failed");
  io::write_file_atomic(path, bytes);
}

}  // namespace facet::data
