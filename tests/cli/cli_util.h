// Helpers of the CLI tests: run the built `facet` binary (path from the FACET_CLI compile definition) and
// capture its exit code and output; a scratch directory; generated face-like images laid out like UTKFace and
// like the Adience benchmark; a tiny animated GIF writer (stb has no GIF encoder).
#pragma once
#include <catch2/catch.hpp>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "data/image_io.h"
#include "data/rng.h"

namespace facet::test {

class Scratch {
 public:
  explicit Scratch(const std::string& tag) {
    static std::atomic<int> counter{0};
    path_ = std::filesystem::temp_directory_path() /
            ("facet_cli_" + tag + "_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~Scratch() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  std::string str() const { return path_.string(); }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

struct RunResult {
  int code = -1;
  std::string output;  // stdout and stderr together
};

// Runs a shell command line; stdout and stderr are captured together.
inline RunResult run_shell(const std::string& command) {
  const std::string cmd = command + " 2>&1";
  RunResult r;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return r;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) r.output.append(buf.data(), n);
  const int status = ::pclose(p);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

// Runs `facet <args>` through the shell (args are shell words; quote paths with spaces yourself).
// `env` is prepended as is, e.g. "env -u FACET_DATA".
inline RunResult run_facet(const std::string& args, const std::string& env = "") {
  return run_shell(env + (env.empty() ? "" : " ") + "'" FACET_CLI "' " + args);
}

inline std::string read_text(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

// A face-like w x h RGB image whose colours carry the labels, so that a tiny network can learn them:
// gender sets the dominant hue (male blue, female red), age the brightness of a centred disc, plus seeded noise.
inline data::Image synthetic_face(int w, int h, int age, int gender, uint64_t seed) {
  data::Image img(w, h, 3);
  data::Rng rng(seed);
  const double r2 = 0.3 * 0.3 * w * h;
  const int disc = 40 + std::min(age, 90) * 2;
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      const double dx = x - w / 2.0, dy = y - h / 2.0;
      const bool in = dx * dx + dy * dy < r2;
      const int noise = int(rng.below(41)) - 20;
      int base[3] = {gender ? 190 : 60, 90, gender ? 60 : 190};
      for (int c = 0; c < 3; ++c) {
        const int v = (in ? disc : base[c]) + noise;
        img.at(y, x, c) = uint8_t(std::clamp(v, 0, 255));
      }
    }
  return img;
}

// `count` UTKFace-named JPEGs (age_gender_race_timestamp.jpg.chip.jpg) in `dir`, labels cycling over a few ages,
// both genders and all five races.
inline void write_utkface_like(const std::string& dir, int count, int side = 24) {
  std::filesystem::create_directories(dir);
  const int ages[] = {1, 5, 15, 26, 40, 70};
  for (int i = 0; i < count; ++i) {
    const int age = ages[i % 6], gender = (i / 6) % 2, race = (i / 12) % 5;
    char name[128];
    std::snprintf(name, sizeof name, "%d_%d_%d_2017011000%07d.jpg.chip.jpg", age, gender, race, i);
    const data::Image img = synthetic_face(side, side, age, gender, uint64_t(i) + 1);
    data::write_jpeg(dir + "/" + name, img.pixels.data(), side, side, 3, 95);
  }
}

// The Adience benchmark's layout: fold_0..4_data.txt (tab-separated, its header) and
// aligned/<user_id>/landmark_aligned_face.<face_id>.<original_image>; `per_fold` faces per fold, two users
// (albums, the subjects of splits) per fold so a subject-exclusive validation share can exist, the 8 standard
// age groups and both genders.
inline void write_adience_like(const std::string& dir, int per_fold, int side = 24) {
  static const char* groups[8] = {"(0, 2)", "(4, 6)", "(8, 12)", "(15, 20)", "(25, 32)", "(38, 43)", "(48, 53)",
                                  "(60, 100)"};
  static const int mid_age[8] = {1, 5, 10, 17, 28, 40, 50, 70};
  for (int fold = 0; fold < 5; ++fold) {
    std::ofstream f(dir + "/fold_" + std::to_string(fold) + "_data.txt");
    f << "user_id\toriginal_image\tface_id\tage\tgender\tx\ty\tdx\tdy\ttilt_ang\tfiducial_yaw_angle\tfiducial_score\n";
    for (int i = 0; i < per_fold; ++i) {
      const int g = i % 8, gender = (i / 8) % 2, face_id = fold * 1000 + i;
      const std::string user = "1000" + std::to_string(fold) + std::to_string(i * 2 / per_fold) + "@N0" +
                               std::to_string(fold);  // first half of the fold's faces, second half
      std::filesystem::create_directories(dir + "/aligned/" + user);
      const std::string image = std::to_string(900000 + face_id) + "_abc_o.jpg";
      f << user << "\t" << image << "\t" << face_id << "\t" << groups[g] << "\t" << (gender ? "f" : "m")
        << "\t0\t0\t100\t100\t0\t0\t50\n";
      const data::Image img = synthetic_face(side, side, mid_age[g], gender, uint64_t(face_id) + 7);
      const std::string path =
          dir + "/aligned/" + user + "/landmark_aligned_face." + std::to_string(face_id) + "." + image;
      data::write_jpeg(path, img.pixels.data(), side, side, 3, 95);
    }
  }
}

// An animated GIF89a of `frames` (each w x h RGB, same size), without compression: 128-colour palette
// (RGB 2-3-2 bits), 8-bit LZW codes with a clear code every 100 pixels so the code width never grows.
inline bool write_gif(const std::string& path, const std::vector<data::Image>& frames) {
  if (frames.empty()) return false;
  const int w = frames[0].w, h = frames[0].h;
  std::vector<uint8_t> out = {'G', 'I', 'F', '8', '9', 'a'};
  auto u16 = [&](int v) {
    out.push_back(uint8_t(v & 255));
    out.push_back(uint8_t(v >> 8));
  };
  u16(w);
  u16(h);
  out.insert(out.end(), {0xF6, 0, 0});  // global colour table of 2^(6+1) = 128 entries
  for (int i = 0; i < 128; ++i) {
    out.push_back(uint8_t(((i >> 5) & 3) * 85));
    out.push_back(uint8_t(((i >> 2) & 7) * 255 / 7));
    out.push_back(uint8_t((i & 3) * 85));
  }
  for (const auto& f : frames) {
    out.insert(out.end(), {0x21, 0xF9, 4, 0x04, 10, 0, 0, 0});  // graphic control: 0.1 s delay
    out.push_back(0x2C);
    u16(0), u16(0), u16(w), u16(h);
    out.push_back(0);
    out.push_back(7);  // LZW minimum code size: clear = 128, end = 129, codes are 8 bits wide
    std::vector<uint8_t> codes;
    for (int p = 0; p < w * h; ++p) {
      if (p % 100 == 0) codes.push_back(128);
      const uint8_t* px = &f.pixels[size_t(p) * 3];
      codes.push_back(uint8_t((px[0] / 64) << 5 | (px[1] / 32) << 2 | (px[2] / 64)));
    }
    codes.push_back(129);
    for (size_t i = 0; i < codes.size(); i += 255) {
      const size_t n = std::min<size_t>(255, codes.size() - i);
      out.push_back(uint8_t(n));
      out.insert(out.end(), codes.begin() + long(i), codes.begin() + long(i + n));
    }
    out.push_back(0);
  }
  out.push_back(0x3B);
  std::ofstream file(path, std::ios::binary);
  file.write(reinterpret_cast<const char*>(out.data()), std::streamsize(out.size()));
  return bool(file);
}

// The smallest training run the CLI tests need: 16x16 faces, two convs, one epoch, one thread.
inline const char* const kTiny =
    " --labels intuition+gender --size 16 --conv-channels 4,8 --dense 16 --epochs 1 --batch 16 --workers 0"
    " --threads 1";

// Trains a tiny model on 60 generated faces into <dir>/run and returns the path of its best checkpoint.
template <class Dir>
std::string tiny_checkpoint(const Dir& dir) {
  write_utkface_like(dir.file("utk"), 60);
  const RunResult r = run_facet("train --data " + dir.file("utk") + " --out " + dir.file("run") + kTiny);
  INFO(r.output);
  REQUIRE(r.code == 0);
  return dir.file("run") + "/best.ckpt";
}

}  // namespace facet::test
