// Decoding (stb_image: JPEG, PNG, BMP, TGA, GIF, PNM) and writing (PNG, JPEG) of 8-bit images.
// An Image is interleaved uint8 (H, W, C). Decoding always ends in the channel count asked for:
//   gray -> RGB replicates the gray value; RGB -> gray is ITU-R BT.601 luma (0.299 R + 0.587 G + 0.114 B);
//   an alpha channel is composited over black (out = c * a / 255), so transparent pixels do not leak the colour
//   an editor left under them; CMYK JPEGs (Adobe APP14) are converted to RGB by stb_image.
// Errors never throw: functions return false and fill `error` with a reason that names the file.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace facet::data {

struct Image {
  int w = 0, h = 0, c = 0;
  std::vector<uint8_t> pixels;  // (H, W, C) interleaved
  Image() = default;
  Image(int width, int height, int channels, uint8_t fill = 0)
      : w(width), h(height), c(channels), pixels(size_t(width) * height * channels, fill) {}
  uint8_t& at(int y, int x, int ch) { return pixels[(size_t(y) * w + x) * c + ch]; }
  uint8_t at(int y, int x, int ch) const { return pixels[(size_t(y) * w + x) * c + ch]; }
  bool empty() const { return pixels.empty(); }
};

// Whole file into memory. False (with a reason) when it cannot be opened or read.
bool read_file_bytes(const std::string& path, std::vector<uint8_t>& bytes, std::string& error);

// The largest image (width x height, read from its header before decoding) facet decodes. A 600-byte JPEG can
// claim 26000x26000 pixels; decoding it costs stb_image 4 bytes/pixel (2.7 GB) plus our 3-byte copy, so a
// decompression bomb must be refused from its header. Default 64 Mpx (2^26 = 8192x8192): above every common
// camera (a 61 Mpx full-frame sensor is 9504x6336) and 1,600x a 200x200 UTKFace face, while one decode stays
// under 0.5 GB (256 MiB RGBA + 192 MiB RGB) even with a loader worker per core. Set by FACET_MAX_PIXELS (read
// once, at first use) or set_max_pixels (the --max-pixels flag of train, eval, predict and data).
constexpr int64_t kDefaultMaxPixels = int64_t(1) << 26;
int64_t max_pixels();
void set_max_pixels(int64_t pixels);  // > 0

// Cheap structural check without decoding: empty file, unknown format, a JPEG without its end-of-image marker
// (truncated: stb_image would silently decode the missing part as grey), a PNG without its IEND chunk, and
// a header claiming more than max_pixels() pixels.
// Returns "" when the bytes look like a complete image, else the reason.
std::string check_image_bytes(const uint8_t* bytes, size_t n);

// Decodes `bytes` to `channels` (1 or 3) channels. `name` only labels the error message.
bool decode_image(const uint8_t* bytes, size_t n, int channels, Image& out, std::string& error,
                  const std::string& name = "image");
bool load_image(const std::string& path, int channels, Image& out, std::string& error);

// Writes 8-bit interleaved pixels, channels 1, 3 or 4, atomically (data/io/atomic_file.h: the file is its old content
// or the whole new image). Throws std::runtime_error naming the file on failure (directory missing, disk full).
void write_png(const std::string& path, const uint8_t* pixels, int w, int h, int channels = 3);
void write_png(const std::string& path, const Image& image);
void write_jpeg(const std::string& path, const uint8_t* pixels, int w, int h, int channels = 3, int quality = 90);

}  // namespace facet::data
