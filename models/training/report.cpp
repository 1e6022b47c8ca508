#include "models/training/report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>

#include <stb_easy_font.h>

#include "models/chart_range.h"
#include "models/text_wrap.h"

namespace facet {

uint32_t palette(size_t i) {
  static const uint32_t colors[] = {0x1F77B4, 0xD62728, 0x2CA02C, 0xFF7F0E, 0x9467BD, 0x8C564B, 0xE377C2, 0x17BECF};
  return colors[i % (sizeof colors / sizeof colors[0])];
}

static uint32_t blend(uint32_t a, uint32_t b, double t) {  // (1 - t) a + t b, per channel
  uint32_t out = 0;
  for (int s = 0; s <= 16; s += 8) {
    const double ca = (a >> s) & 255, cb = (b >> s) & 255;
    out |= uint32_t(std::lround((1 - t) * ca + t * cb)) << s;
  }
  return out;
}

Canvas::Canvas(int w, int h, uint32_t background) : w_(w), h_(h), px_(size_t(w) * size_t(h) * 3) {
  fill(0, 0, w, h, background);
}

void Canvas::pixel(int x, int y, uint32_t c) {
  if (x < 0 || y < 0 || x >= w_ || y >= h_) return;
  uint8_t* p = &px_[(size_t(y) * size_t(w_) + size_t(x)) * 3];
  p[0] = uint8_t(c >> 16), p[1] = uint8_t(c >> 8), p[2] = uint8_t(c);
}

void Canvas::fill(int x0, int y0, int x1, int y1, uint32_t c) {
  x0 = std::max(x0, 0), y0 = std::max(y0, 0), x1 = std::min(x1, w_), y1 = std::min(y1, h_);
  for (int y = y0; y < y1; ++y)
    for (int x = x0; x < x1; ++x) pixel(x, y, c);
}

void Canvas::line(double x0, double y0, double x1, double y1, uint32_t c, int thickness, bool dashed) {
  const double len = std::hypot(x1 - x0, y1 - y0);
  const int steps = std::max(1, int(std::ceil(len * 2)));  // half-pixel steps: no gaps on steep lines
  const int r0 = (thickness - 1) / 2, r1 = thickness / 2;
  for (int i = 0; i <= steps; ++i) {
    const double t = double(i) / steps;
    if (dashed && std::fmod(t * len, 10.0) >= 6.0) continue;
    const int x = int(std::lround(x0 + t * (x1 - x0))), y = int(std::lround(y0 + t * (y1 - y0)));
    fill(x - r0, y - r0, x + r1 + 1, y + r1 + 1, c);
  }
}

void Canvas::text(int x, int y, const std::string& s, uint32_t c, int scale) {
  if (s.empty()) return;
  std::vector<char> str(s.begin(), s.end());
  str.push_back('\0');
  std::vector<char> buf(s.size() * 300 + 1024);  // ~270 bytes per character, as stb_easy_font asks
  const int quads = stb_easy_font_print(0, 0, str.data(), nullptr, buf.data(), int(buf.size()));
  for (int q = 0; q < quads; ++q) {
    float v[4][4];  // x, y, z, colour bytes per vertex (16 bytes each)
    std::memcpy(v, buf.data() + size_t(q) * 64, 64);
    float lx = v[0][0], ly = v[0][1], hx = v[0][0], hy = v[0][1];
    for (int k = 1; k < 4; ++k) {
      lx = std::min(lx, v[k][0]), hx = std::max(hx, v[k][0]);
      ly = std::min(ly, v[k][1]), hy = std::max(hy, v[k][1]);
    }
    fill(x + int(std::lround(lx * scale)), y + int(std::lround(ly * scale)), x + int(std::lround(hx * scale)),
         y + int(std::lround(hy * scale)), c);
  }
}

int Canvas::text_width(const std::string& s, int scale) {
  std::vector<char> str(s.begin(), s.end());
  str.push_back('\0');
  return stb_easy_font_width(str.data()) * scale;
}

void Canvas::blit(const data::Image& img, int x, int y) {
  for (int r = 0; r < img.h; ++r)
    for (int q = 0; q < img.w; ++q) {
      uint32_t c;
      if (img.c >= 3) c = uint32_t(img.at(r, q, 0)) << 16 | uint32_t(img.at(r, q, 1)) << 8 | img.at(r, q, 2);
      else c = uint32_t(img.at(r, q, 0)) * 0x010101u;
      pixel(x + q, y + r, c);
    }
}

void Canvas::save_png(const std::string& path) const { data::write_png(path, px_.data(), w_, h_, 3); }

// ---- curves ------------------------------------------------------------------------------------------------------

// A "nice" tick step (1, 2 or 5 times a power of ten) giving about `n` ticks over `range`.
static double nice_step(double range, int n) {
  const double raw = range / std::max(1, n), p = std::pow(10.0, std::floor(std::log10(raw)));
  const double f = raw / p;
  return (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * p;
}

static std::string number(double v, double step) {
  char b[32];
  std::snprintf(b, sizeof b, step >= 1 ? "%.0f" : step >= 0.1 ? "%.1f" : step >= 0.01 ? "%.2f" : "%.3g", v);
  return b;
}

void plot_curves(const std::string& path, const std::string& title, const std::string& y_label,
                 const std::vector<Series>& series) {
  const int W = 900, H = 520, left = 70, right = 210, top = 44, bottom = 56;
  Canvas cv(W, H);
  const int pw = W - left - right, ph = H - top - bottom;
  const ChartRange range = chart_range(series);
  const size_t n = range.n;
  double lo = range.lo, hi = range.hi;  // widened to whole tick steps below
  const double ystep = nice_step(hi - lo, 6);
  lo = std::floor(lo / ystep) * ystep, hi = std::ceil(hi / ystep) * ystep;
  const double xmax = std::max<double>(2, double(n));  // epochs 1..n
  auto X = [&](double epoch) { return left + (epoch - 1) / (xmax - 1) * pw; };
  auto Y = [&](double v) { return top + (hi - v) / (hi - lo) * ph; };

  cv.text(left, 14, title, kBlack, 2);
  for (double v = lo; v <= hi + ystep * 0.01; v += ystep) {  // horizontal grid and y ticks
    const int y = int(std::lround(Y(v)));
    cv.fill(left, y, left + pw, y + 1, 0xE6E6E6);
    const std::string t = number(v, ystep);
    cv.text(left - 8 - Canvas::text_width(t, 1), y - 3, t, kBlack, 1);
  }
  const double xstep = std::max(1.0, nice_step(xmax - 1, 10));
  for (double e = 1; e <= xmax + 1e-9; e += xstep) {  // x ticks at epochs
    const int x = int(std::lround(X(e)));
    cv.fill(x, top, x + 1, top + ph, 0xF0F0F0);
    const std::string t = number(e, 1);
    cv.text(x - Canvas::text_width(t, 1) / 2, top + ph + 8, t, kBlack, 1);
  }
  cv.fill(left, top, left + 1, top + ph + 1, kBlack);
  cv.fill(left, top + ph, left + pw + 1, top + ph + 1, kBlack);
  cv.text(left + pw / 2 - 20, H - 22, "epoch", kBlack, 2);
  cv.text(8, top - 20, y_label, kBlack, 2);

  int ly = top + 4;
  for (const auto& s : series) {
    const uint32_t c = s.light ? blend(s.color, 0xFFFFFF, 0.45) : s.color;
    for (size_t i = 0; i + 1 < s.y.size(); ++i)
      if (std::isfinite(s.y[i]) && std::isfinite(s.y[i + 1]))
        cv.line(X(double(i + 1)), Y(s.y[i]), X(double(i + 2)), Y(s.y[i + 1]), c, 2, s.light);
    for (size_t i = 0; i < s.y.size(); ++i)
      if (std::isfinite(s.y[i])) {
        const int x = int(std::lround(X(double(i + 1)))), y = int(std::lround(Y(s.y[i])));
        cv.fill(x - 2, y - 2, x + 3, y + 3, c);
      }
    if (s.y.empty()) continue;
    cv.line(W - right + 14, ly + 4, W - right + 40, ly + 4, c, 2, s.light);  // legend entry
    char last[32];
    std::snprintf(last, sizeof last, " %.4g", s.y.back());
    cv.text(W - right + 46, ly, s.name + last, kBlack, 1);
    ly += 16;
  }
  cv.save_png(path);
}

// ---- confusion heat map ------------------------------------------------------------------------------------------

void plot_confusion(const std::string& path, const AttributeResult& r, const std::string& title) {
  const int c = int(r.spec.classes.size());
  int name_w = 0;
  for (int t = 0; t < c; ++t) name_w = std::max(name_w, Canvas::text_width(std::to_string(t) + " " + r.spec.classes[size_t(t)], 1));
  int64_t max_count = 1;
  for (const auto& row : r.confusion)
    for (int64_t v : row) max_count = std::max(max_count, v);
  const int cell = std::max(30, Canvas::text_width(std::to_string(max_count), 1) + 8);
  const int left = name_w + 24, top = 78, cols = c + 1;  // + the undefined column
  const std::string legend = "columns: predicted class, then undefined; rows: true class; colour: share of the row";
  const int W = std::max({left + cols * cell + 20, Canvas::text_width(title, 2) + 30, Canvas::text_width(legend) + 20});
  const int H = top + c * cell + 40;
  Canvas cv(W, H);
  cv.text(10, 10, title, kBlack, 2);
  cv.text(10, 40, legend, kGray, 1);
  for (int p = 0; p < cols; ++p) {
    const std::string t = p < c ? std::to_string(p) : "undef";
    cv.text(left + p * cell + (cell - Canvas::text_width(t, 1)) / 2, top - 14, t, kBlack, 1);
  }
  for (int t = 0; t < c; ++t) {
    int64_t row_total = 0;
    for (int64_t v : r.confusion[size_t(t)]) row_total += v;
    cv.text(8, top + t * cell + cell / 2 - 4, std::to_string(t) + " " + r.spec.classes[size_t(t)], kBlack, 1);
    for (int p = 0; p < cols; ++p) {
      const int64_t v = r.confusion[size_t(t)][size_t(p)];
      const double share = row_total ? double(v) / double(row_total) : 0.0;
      const uint32_t base = p == t ? 0x1A7F37 : p == c ? 0x7F7F7F : 0x08306B;  // diagonal green, errors blue
      const uint32_t col = blend(0xFFFFFF, base, std::sqrt(share));
      const int x = left + p * cell, y = top + t * cell;
      cv.fill(x, y, x + cell, y + cell, col);
      cv.fill(x, y, x + cell, y + 1, 0xD0D0D0);
      cv.fill(x, y, x + 1, y + cell, 0xD0D0D0);
      const std::string s = std::to_string(v);
      cv.text(x + (cell - Canvas::text_width(s, 1)) / 2, y + cell / 2 - 4, s, share > 0.35 ? 0xFFFFFF : kBlack, 1);
    }
  }
  char acc[96];
  std::snprintf(acc, sizeof acc, "accuracy %.2f%% of %lld", 100.0 * r.accuracy(), (long long)r.n);
  cv.text(left, top + c * cell + 14, acc, kBlack, 1);
  cv.save_png(path);
}

// ---- contact sheet -----------------------------------------------------------------------------------------------

// Nearest-neighbour scaling to fit a side x side box, keeping the aspect ratio.
static data::Image fit(const data::Image& in, int side) {
  if (in.empty()) return data::Image(side, side, 3, 200);
  const double s = double(side) / std::max(in.w, in.h);
  const int w = std::max(1, int(in.w * s)), h = std::max(1, int(in.h * s));
  data::Image out(w, h, in.c);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int ch = 0; ch < in.c; ++ch)
        out.at(y, x, ch) = in.at(std::min(in.h - 1, int(y / s)), std::min(in.w - 1, int(x / s)), ch);
  return out;
}

void contact_sheet(const std::string& path, const std::vector<Tile>& tiles, int columns, int side,
                   const std::string& title) {
  // Each label is wrapped to the tile's width (text_wrap.h), so it never runs into the next tile.
  const int pad = 8, text_w = side + pad - 2;
  std::vector<std::vector<std::pair<std::string, uint32_t>>> wrapped(tiles.size());
  size_t lines = 0;
  for (size_t i = 0; i < tiles.size(); ++i) {
    for (const auto& [text, color] : tiles[i].lines)
      for (auto& l : wrap_text(text, text_w)) wrapped[i].push_back({l, color});
    lines = std::max(lines, wrapped[i].size());
  }
  const int tw = side + 2 * pad, th = side + pad + int(lines) * 12 + pad, top = 40;
  const int cols = std::max(1, std::min(columns, int(std::max<size_t>(1, tiles.size()))));
  const int rows = int((tiles.size() + size_t(cols) - 1) / size_t(cols));
  Canvas cv(std::max(cols * tw, Canvas::text_width(title, 2) + 20), top + std::max(1, rows) * th, 0xFFFFFF);
  cv.text(10, 10, title, kBlack, 2);
  for (size_t i = 0; i < tiles.size(); ++i) {
    const int x = int(i % size_t(cols)) * tw + pad, y = top + int(i / size_t(cols)) * th;
    const data::Image img = fit(tiles[i].image, side);
    cv.fill(x - 1, y - 1, x + side + 1, y + side + 1, 0xD0D0D0);
    cv.blit(img, x + (side - img.w) / 2, y + (side - img.h) / 2);
    for (size_t l = 0; l < wrapped[i].size(); ++l)
      cv.text(x, y + side + 4 + int(l) * 12, wrapped[i][l].first, wrapped[i][l].second, 1);
  }
  cv.save_png(path);
}

}  // namespace facet
