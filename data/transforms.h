// Image transforms. Images are uint8 (H, W, C); the last step writes float (C, H, W) for the network.
// Everything random takes its randomness from a seed, so the same seed gives the same pixels on every run and
// for any number of loader threads.
//
// The loader applies them in two stages:
//   prepare (deterministic, cached):  decoded image -> channel count -> resize to (resize_w, resize_h)
//   finish  (per epoch):              crop to (width, height) (random when augmenting, else centred)
//                                     -> random horizontal flip (augmenting only) -> histogram equalization
//                                     -> RGB to YCbCr -> float scaling (unit / min-max / raw) -> mean/std
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "data/image_io.h"
#include "data/rng.h"

namespace facet::data {

enum class ResizeMethod {
  bilinear,  // each output pixel interpolates the 2x2 input pixels around its centre (half-pixel centres)
  area       // each output pixel averages the input area it covers, weighted by overlap (best for shrinking)
};
enum class Scale {
  unit,    // x / 255 -> [0, 1]
  minmax,  // (x - min) / (max - min) over the whole image -> [0, 1]; a constant image becomes 0
  raw      // x as is, 0..255
};
ResizeMethod parse_resize(const std::string& text);  // "bilinear" | "area"
Scale parse_scale(const std::string& text);          // "unit" | "minmax" | "raw"

Image resize(const Image& in, int w, int h, ResizeMethod method);
Image crop(const Image& in, int x, int y, int w, int h);  // the window must lie inside the image
Image center_crop(const Image& in, int w, int h);
Image random_crop(const Image& in, int w, int h, Rng& rng);
void flip_horizontal(Image& img);
// 1 <-> 3 channels: RGB -> gray is BT.601 luma (0.299 R + 0.587 G + 0.114 B, rounded); gray -> RGB copies.
Image convert_channels(const Image& in, int channels);
// Each channel on its own: v -> round(255 * (cdf(v) - cdf_min) / (N - cdf_min)), cdf_min = count of the darkest
// value present; a constant channel is left as is.
void equalize_histogram(Image& img);
// JPEG (JFIF) full-range BT.601, rounded and clamped to 0..255; a 1-channel image is left as is (it is Y):
//   Y  =       0.299    R + 0.587    G + 0.114    B
//   Cb = 128 - 0.168736 R - 0.331264 G + 0.5      B
//   Cr = 128 + 0.5      R - 0.418688 G - 0.081312 B
void rgb_to_ycbcr(Image& img);
// (H, W, C) uint8 -> (C, H, W) float with the given scaling.
void to_chw(const Image& img, Scale scale, float* out);
// out[c] = (x[c] - mean[c]) / std[c] over the (C, H*W) planes. mean/std hold C values (or one, for all).
void normalize(float* chw, int c, int hw, const std::vector<float>& mean, const std::vector<float>& std);

// Per-channel statistics of the network input, computed on the training split and saved with the model.
struct Normalization {
  std::vector<float> mean, std;  // one per channel; empty = no normalization
  nlohmann::json to_json() const { return {{"mean", mean}, {"std", std}}; }
  static Normalization from_json(const nlohmann::json& j) {
    return {j.at("mean").get<std::vector<float>>(), j.at("std").get<std::vector<float>>()};
  }
};

// The largest input or resize side a transform accepts (the CLI's --size/--resize bound, and a checkpoint's):
// 4096x4096x3 floats are 192 MiB per image before any layer, so larger sides are a corrupt file, not a model.
constexpr int kMaxSide = 4096;

struct TransformConfig {
  int width = 64, height = 64;     // network input
  int channels = 3;                // 1 gray, 3 colour
  int resize_w = 0, resize_h = 0;  // size the decoded image is resized to (and cached at); 0 = width/height
  ResizeMethod resize = ResizeMethod::area;
  bool random_crop = false;        // when augmenting: crop at a random place (else centred)
  bool random_flip = false;        // when augmenting: flip with probability 1/2
  bool equalize = false;
  bool ycbcr = false;              // needs channels = 3
  Scale scale = Scale::unit;
  Normalization norm;              // applied last when not empty

  int prepared_w() const { return resize_w > 0 ? resize_w : width; }
  int prepared_h() const { return resize_h > 0 ? resize_h : height; }
  // Throws std::invalid_argument naming the bad field (crop larger than the resized image, channels 2, ...).
  void validate() const;
  nlohmann::json to_json() const;
};

// Stage 1: any decoded image -> `channels` channels at the prepared size.
Image prepare(const Image& decoded, const TransformConfig& config);
// Stage 2: prepared image -> float (C, H, W) in `out` (channels * height * width floats). The random choices
// (crop position, flip) come from Rng(seed) and are used only when `augment` is true.
void finish(const Image& prepared, const TransformConfig& config, bool augment, uint64_t seed, float* out);

}  // namespace facet::data
