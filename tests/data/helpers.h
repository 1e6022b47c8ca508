// Shared helpers of the data tests: a temporary directory removed at scope exit, and small generated images.
#pragma once
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>
#include <vector>

#include "data/image_io.h"

namespace facet::test {

class TempDir {
 public:
  TempDir() {
    static std::atomic<int> counter{0};
    path_ = std::filesystem::temp_directory_path() /
            ("facet_data_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string str() const { return path_.string(); }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

// A w x h image with smooth gradients and a per-image pattern from `seed` (distinct seeds, distinct bytes).
inline data::Image pattern_image(int w, int h, int c, unsigned seed) {
  data::Image img(w, h, c);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int ch = 0; ch < c; ++ch)
        img.at(y, x, ch) = uint8_t((x * 255 / std::max(1, w - 1) + y * 7 * (ch + 1) + seed * 37 + ch * 50) % 256);
  return img;
}

inline void write_jpeg_file(const std::string& path, int w, int h, int c, unsigned seed) {
  const auto img = pattern_image(w, h, c, seed);
  data::write_jpeg(path, img.pixels.data(), w, h, c, 95);
}

inline std::vector<uint8_t> file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

inline void write_bytes(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
}

inline void write_text(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

// The real data root (FACET_DATA, else <source>/../shared/data), or "" when it is absent.
inline std::string real_data_root() {
  const char* env = std::getenv("FACET_DATA");
  const std::string root = (env && *env) ? std::string(env) : std::string(FACET_SOURCE_DIR) + "/../shared/data";
  std::error_code ec;
  return std::filesystem::is_directory(root, ec) ? root : "";
}

}  // namespace facet::test
