// `facet report`: one self-contained HTML page per run (or a comparison of several runs). No network, no
// server: curves are inline SVG (text as SVG <text>), pictures are PNG data: URIs. The pieces are pure
// functions of what a run directory holds (metrics.csv, config.json, summary.json, test.json) and of pictures
// the caller computed (faces with predictions, Grad-CAM), so they are tested without a trained model.
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "data/image_io.h"

namespace facet::html {

std::string escape(const std::string& s);            // & < > " '
std::string png_data_uri(const data::Image& image);  // "data:image/png;base64,..."

// A CSV file with a header row, as columns of numbers (an empty or non-numeric cell is NaN).
struct Table {
  std::vector<std::string> columns;
  std::vector<std::vector<double>> rows;
  int column(const std::string& name) const;  // -1 when absent
  std::vector<double> values(const std::string& name) const;
};
Table parse_csv(const std::string& text);

struct Curve {
  std::string name;
  std::vector<double> y;  // y[i] at epoch i + 1; NaN: no point
  std::string color;      // CSS colour
  bool dashed = false;
};
// A line chart, epochs on x: axes, ticks, grid, legend, all as SVG elements and text.
std::string svg_chart(const std::string& title, const std::string& y_label, const std::vector<Curve>& curves);

// Test-set scores (Metrics::to_json, i.e. test.json): a confusion table per attribute with per-class
// accuracy, and accuracy by race and by gender.
std::string confusion_section(const nlohmann::json& metrics);
std::string groups_section(const nlohmann::json& metrics);

struct FaceCard {
  data::Image image;                                // the face (and, for Grad-CAM, its overlays)
  std::vector<std::pair<std::string, bool>> lines;  // text, right (green) or wrong (red)
  std::string title;                                // file name
};
std::string face_grid(const std::vector<FaceCard>& cards);

// The page frame: <!DOCTYPE html>, a title, a small stylesheet, and `body`.
std::string page(const std::string& title, const std::string& body);
// A <section id="..."><h2>...</h2>...</section>.
std::string section(const std::string& id, const std::string& heading, const std::string& content);

}  // namespace facet::html
