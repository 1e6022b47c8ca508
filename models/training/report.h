// Pictures a person wants to look at, drawn by a small rasteriser of our own (rectangles, lines, text from
// stb_easy_font's vector glyphs) and written with data/image_io.h's PNG writer:
//   plot_curves     loss / accuracy per epoch, one polyline per series, axes with ticks, a legend
//   plot_confusion  a confusion matrix as a heat map (colour = share of the true class's row, counts printed)
//   contact_sheet   a grid of faces, each with a few coloured text lines under it (prediction vs truth)
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "data/image_io.h"
#include "models/training/metrics.h"

namespace facet {

// 0xRRGGBB colours.
uint32_t palette(size_t i);  // distinct colours for series / attributes
inline constexpr uint32_t kGreen = 0x1A7F37, kRed = 0xC62828, kBlack = 0x000000, kGray = 0x808080;

class Canvas {
 public:
  Canvas(int w, int h, uint32_t background = 0xFFFFFF);
  int width() const { return w_; }
  int height() const { return h_; }
  void pixel(int x, int y, uint32_t c);
  void fill(int x0, int y0, int x1, int y1, uint32_t c);  // the rectangle [x0, x1) x [y0, y1), clipped
  // A line `thickness` pixels wide (a square brush stepped along it); dashed: 6 on, 4 off.
  void line(double x0, double y0, double x1, double y1, uint32_t c, int thickness = 1, bool dashed = false);
  // Text with its top-left corner at (x, y), `scale` pixels per glyph unit (glyphs are about 6 x 7 units).
  void text(int x, int y, const std::string& s, uint32_t c, int scale = 1);
  static int text_width(const std::string& s, int scale = 1);
  static int text_height(int scale = 1) { return 8 * scale; }
  // Copies an image (1 or 3 channels) with its top-left corner at (x, y), clipped.
  void blit(const data::Image& img, int x, int y);
  void save_png(const std::string& path) const;  // throws, naming the file, when it cannot be written
  const std::vector<uint8_t>& pixels() const { return px_; }  // (H, W, 3)

 private:
  int w_, h_;
  std::vector<uint8_t> px_;
};

struct Series {
  std::string name;
  std::vector<double> y;  // y[i] is the value at epoch i + 1
  uint32_t color;
  bool light = false;     // drawn dashed and paler (training curves beside validation ones)
};
// Each throws std::runtime_error naming the file when it cannot be written. Series may be empty or of
// different lengths.
void plot_curves(const std::string& path, const std::string& title, const std::string& y_label,
                 const std::vector<Series>& series);

void plot_confusion(const std::string& path, const AttributeResult& r, const std::string& title);

struct Tile {
  data::Image image;  // any size; scaled to fit the tile
  std::vector<std::pair<std::string, uint32_t>> lines;  // text and colour, under the image
};
// `columns` tiles per row, each `side` pixels wide (plus its text lines).
void contact_sheet(const std::string& path, const std::vector<Tile>& tiles, int columns, int side,
                   const std::string& title);

}  // namespace facet
