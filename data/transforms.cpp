#include "data/transforms.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace facet::data {
namespace {

uint8_t to_u8(float v) { return uint8_t(std::clamp(std::lround(v), 0L, 255L)); }

// Overlap weights of the input pixels each output pixel covers (area resize along one axis):
// output x covers input [x*s, (x+1)*s), s = n_in / n_out; input i contributes overlap(i) / s.
struct Tap {
  int first;
  std::vector<float> w;
};
std::vector<Tap> area_taps(int n_in, int n_out) {
  std::vector<Tap> taps(static_cast<size_t>(n_out));
  const double s = double(n_in) / n_out;
  for (int x = 0; x < n_out; ++x) {
    const double lo = x * s, hi = (x + 1) * s;
    const int first = int(std::floor(lo)), last = std::min(n_in - 1, int(std::ceil(hi)) - 1);
    taps[size_t(x)].first = first;
    for (int i = first; i <= last; ++i) {
      const double overlap = std::min<double>(i + 1, hi) - std::max<double>(i, lo);
      taps[size_t(x)].w.push_back(float(std::max(0.0, overlap) / s));
    }
  }
  return taps;
}

// Bilinear along one axis: output x samples input at (x + 0.5) * s - 0.5 (half-pixel centres), clamped.
std::vector<Tap> bilinear_taps(int n_in, int n_out) {
  std::vector<Tap> taps(static_cast<size_t>(n_out));
  const double s = double(n_in) / n_out;
  for (int x = 0; x < n_out; ++x) {
    const double src = std::clamp((x + 0.5) * s - 0.5, 0.0, double(n_in - 1));
    const int i0 = int(std::floor(src));
    const int i1 = std::min(i0 + 1, n_in - 1);
    const float f = float(src - i0);
    taps[size_t(x)] = i1 == i0 ? Tap{i0, {1.0f}} : Tap{i0, {1.0f - f, f}};
  }
  return taps;
}

}  // namespace

ResizeMethod parse_resize(const std::string& text) {
  if (text == "bilinear") return ResizeMethod::bilinear;
  if (text == "area") return ResizeMethod::area;
  throw std::invalid_argument("resize method '" + text + "': use bilinear or area");
}

Scale parse_scale(const std::string& text) {
  if (text == "unit") return Scale::unit;
  if (text == "minmax") return Scale::minmax;
  if (text == "raw") return Scale::raw;
  throw std::invalid_argument("pixel scaling '" + text + "': use unit, minmax or raw");
}

Image resize(const Image& in, int w, int h, ResizeMethod method) {
  if (in.empty() || w <= 0 || h <= 0)
    throw std::invalid_argument("resize: " + std::to_string(in.w) + "x" + std::to_string(in.h) + " to " +
                                std::to_string(w) + "x" + std::to_string(h) + ": sizes must be positive");
  if (in.w == w && in.h == h) return in;
  const auto tx = method == ResizeMethod::area ? area_taps(in.w, w) : bilinear_taps(in.w, w);
  const auto ty = method == ResizeMethod::area ? area_taps(in.h, h) : bilinear_taps(in.h, h);
  const int c = in.c;
  std::vector<float> rows(size_t(in.h) * w * c);  // (H_in, W_out, C): horizontal pass
  for (int y = 0; y < in.h; ++y)
    for (int x = 0; x < w; ++x) {
      const Tap& t = tx[size_t(x)];
      for (int ch = 0; ch < c; ++ch) {
        float acc = 0;
        for (size_t k = 0; k < t.w.size(); ++k) acc += t.w[k] * in.at(y, t.first + int(k), ch);
        rows[(size_t(y) * w + x) * c + ch] = acc;
      }
    }
  Image out(w, h, c);
  for (int y = 0; y < h; ++y) {
    const Tap& t = ty[size_t(y)];
    for (int x = 0; x < w; ++x)
      for (int ch = 0; ch < c; ++ch) {
        float acc = 0;
        for (size_t k = 0; k < t.w.size(); ++k) acc += t.w[k] * rows[(size_t(t.first + int(k)) * w + x) * c + ch];
        out.at(y, x, ch) = to_u8(acc);
      }
  }
  return out;
}

Image crop(const Image& in, int x, int y, int w, int h) {
  if (x < 0 || y < 0 || w <= 0 || h <= 0 || x + w > in.w || y + h > in.h)
    throw std::invalid_argument("crop: window " + std::to_string(w) + "x" + std::to_string(h) + " at (" +
                                std::to_string(x) + ", " + std::to_string(y) + ") does not fit in a " +
                                std::to_string(in.w) + "x" + std::to_string(in.h) + " image");
  Image out(w, h, in.c);
  for (int r = 0; r < h; ++r)
    std::copy_n(&in.pixels[(size_t(y + r) * in.w + x) * in.c], size_t(w) * in.c, &out.pixels[size_t(r) * w * in.c]);
  return out;
}

Image center_crop(const Image& in, int w, int h) { return crop(in, (in.w - w) / 2, (in.h - h) / 2, w, h); }

Image random_crop(const Image& in, int w, int h, Rng& rng) {
  if (w > in.w || h > in.h) return crop(in, 0, 0, w, h);  // throws with the sizes
  const int x = int(rng.below(uint64_t(in.w - w + 1)));
  const int y = int(rng.below(uint64_t(in.h - h + 1)));
  return crop(in, x, y, w, h);
}

void flip_horizontal(Image& img) {
  for (int y = 0; y < img.h; ++y)
    for (int x = 0; x < img.w / 2; ++x)
      for (int ch = 0; ch < img.c; ++ch) std::swap(img.at(y, x, ch), img.at(y, img.w - 1 - x, ch));
}

Image convert_channels(const Image& in, int channels) {
  if (in.c == channels) return in;
  Image out(in.w, in.h, channels);
  const size_t n = size_t(in.w) * in.h;
  if (in.c == 1 && channels == 3) {
    for (size_t i = 0; i < n; ++i) out.pixels[3 * i] = out.pixels[3 * i + 1] = out.pixels[3 * i + 2] = in.pixels[i];
  } else if (in.c == 3 && channels == 1) {
    for (size_t i = 0; i < n; ++i)
      out.pixels[i] = uint8_t((299 * in.pixels[3 * i] + 587 * in.pixels[3 * i + 1] + 114 * in.pixels[3 * i + 2] + 500) / 1000);
  } else {
    throw std::invalid_argument("convert_channels: " + std::to_string(in.c) + " to " + std::to_string(channels) +
                                " channels is not supported (1 or 3)");
  }
  return out;
}

void equalize_histogram(Image& img) {
  const size_t n = size_t(img.w) * img.h;
  if (n == 0) return;
  for (int ch = 0; ch < img.c; ++ch) {
    size_t hist[256] = {};
    for (size_t i = 0; i < n; ++i) ++hist[img.pixels[i * img.c + ch]];
    size_t cdf[256], run = 0, cdf_min = 0;
    for (int v = 0; v < 256; ++v) {
      run += hist[v];
      cdf[v] = run;
      if (cdf_min == 0 && run > 0) cdf_min = run;
    }
    if (cdf_min == n) continue;  // constant channel
    uint8_t map[256];
    for (int v = 0; v < 256; ++v)
      map[v] = cdf[v] < cdf_min ? 0 : uint8_t(std::lround(255.0 * double(cdf[v] - cdf_min) / double(n - cdf_min)));
    for (size_t i = 0; i < n; ++i) img.pixels[i * img.c + ch] = map[img.pixels[i * img.c + ch]];
  }
}

void rgb_to_ycbcr(Image& img) {
  if (img.c != 3) return;
  const size_t n = size_t(img.w) * img.h;
  for (size_t i = 0; i < n; ++i) {
    uint8_t* p = &img.pixels[3 * i];
    const float r = p[0], g = p[1], b = p[2];
    p[0] = to_u8(0.299f * r + 0.587f * g + 0.114f * b);
    p[1] = to_u8(128.0f - 0.168736f * r - 0.331264f * g + 0.5f * b);
    p[2] = to_u8(128.0f + 0.5f * r - 0.418688f * g - 0.081312f * b);
  }
}

void to_chw(const Image& img, Scale scale, float* out) {
  const size_t hw = size_t(img.w) * img.h;
  float offset = 0.0f, mul = 1.0f;
  if (scale == Scale::unit) mul = 1.0f / 255.0f;
  if (scale == Scale::minmax) {
    const auto [lo, hi] = std::minmax_element(img.pixels.begin(), img.pixels.end());
    offset = float(*lo);
    mul = *hi > *lo ? 1.0f / float(*hi - *lo) : 0.0f;
  }
  for (int ch = 0; ch < img.c; ++ch)
    for (size_t i = 0; i < hw; ++i) out[size_t(ch) * hw + i] = (float(img.pixels[i * img.c + ch]) - offset) * mul;
}

void normalize(float* chw, int c, int hw, const std::vector<float>& mean, const std::vector<float>& std) {
  if (mean.empty() && std.empty()) return;
  const auto pick = [](const std::vector<float>& v, int ch) { return v.size() == 1 ? v[0] : v[size_t(ch)]; };
  if ((mean.size() != 1 && mean.size() != size_t(c)) || (std.size() != 1 && std.size() != size_t(c)))
    throw std::invalid_argument("normalize: " + std::to_string(mean.size()) + " means and " + std::to_string(std.size()) +
                                " stds for " + std::to_string(c) + " channels (give one per channel)");
  for (int ch = 0; ch < c; ++ch) {
    const float m = pick(mean, ch), inv = 1.0f / std::max(pick(std, ch), 1e-8f);
    for (int i = 0; i < hw; ++i) chw[size_t(ch) * hw + i] = (chw[size_t(ch) * hw + i] - m) * inv;
  }
}

namespace {

// A saved normalization divides by std: 0 makes every input 0/0 or +-1e8 (normalize floors at 1e-8), a
// negative std mirrors the inputs and NaN poisons every score, so such a checkpoint is refused, not scored.
template <class Fail>
void check_normalization(const Normalization& norm, int channels, Fail fail) {
  if (norm.std.size() != (norm.mean.empty() ? 0 : norm.std.size() == 1 ? 1 : size_t(channels)))
    fail(std::to_string(norm.std.size()) + " normalization stds for " + std::to_string(norm.mean.size()) +
         " means and " + std::to_string(channels) + " channels (give one per channel, or one for all)");
  for (size_t c = 0; c < norm.mean.size(); ++c)
    if (!std::isfinite(norm.mean[c]))
      fail("normalization.mean[" + std::to_string(c) + "] is " + std::to_string(norm.mean[c]) + " (must be finite)");
  for (size_t c = 0; c < norm.std.size(); ++c)
    if (!std::isfinite(norm.std[c]) || !(norm.std[c] > 0))
      fail("normalization.std[" + std::to_string(c) + "] is " + std::to_string(norm.std[c]) +
           " (must be finite and > 0: the inputs are divided by it)");
}

}  // namespace

void TransformConfig::validate() const {
  auto fail = [](const std::string& m) { throw std::invalid_argument("transform: " + m); };
  if (width > kMaxSide || height > kMaxSide || prepared_w() > kMaxSide || prepared_h() > kMaxSide)
    fail("input size " + std::to_string(width) + "x" + std::to_string(height) + " (resize " +
         std::to_string(prepared_w()) + "x" + std::to_string(prepared_h()) + ") is over facet's limit of " +
         std::to_string(kMaxSide) + " pixels a side");
  if (width <= 0 || height <= 0) fail("input size " + std::to_string(width) + "x" + std::to_string(height) + " must be positive");
  if (channels != 1 && channels != 3) fail("channels " + std::to_string(channels) + ": use 1 (gray) or 3 (colour)");
  if (prepared_w() < width || prepared_h() < height)
    fail("resize " + std::to_string(prepared_w()) + "x" + std::to_string(prepared_h()) + " is smaller than the input " +
         std::to_string(width) + "x" + std::to_string(height) + " it is cropped to");
  if (ycbcr && channels != 3) fail("YCbCr needs 3 channels");
  if (!norm.mean.empty() && norm.mean.size() != 1 && norm.mean.size() != size_t(channels))
    fail(std::to_string(norm.mean.size()) + " normalization means for " + std::to_string(channels) + " channels");
  check_normalization(norm, channels, fail);
}

nlohmann::json TransformConfig::to_json() const {
  return {{"width", width},   {"height", height},           {"channels", channels},
          {"resize_w", prepared_w()}, {"resize_h", prepared_h()},
          {"resize", resize == ResizeMethod::area ? "area" : "bilinear"},
          {"random_crop", random_crop}, {"random_flip", random_flip}, {"equalize", equalize}, {"ycbcr", ycbcr},
          {"scale", scale == Scale::unit ? "unit" : scale == Scale::minmax ? "minmax" : "raw"},
          {"normalization", norm.to_json()}};
}

Image prepare(const Image& decoded, const TransformConfig& config) {
  return resize(convert_channels(decoded, config.channels), config.prepared_w(), config.prepared_h(), config.resize);
}

void finish(const Image& prepared, const TransformConfig& config, bool augment, uint64_t seed, float* out) {
  Rng rng(seed);
  Image img = (augment && config.random_crop) ? random_crop(prepared, config.width, config.height, rng)
              : (prepared.w == config.width && prepared.h == config.height)
                  ? prepared
                  : center_crop(prepared, config.width, config.height);
  if (augment && config.random_flip && (rng.next() & 1)) flip_horizontal(img);
  if (config.equalize) equalize_histogram(img);
  if (config.ycbcr) rgb_to_ycbcr(img);
  to_chw(img, config.scale, out);
  normalize(out, img.c, img.w * img.h, config.norm.mean, config.norm.std);
}

}  // namespace facet::data
