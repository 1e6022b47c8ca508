#include "models/report_html.h"

#include <stb_image_write.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "models/chart_range.h"

namespace facet::html {

std::string escape(const std::string& s) {
  std::string o;
  for (char c : s) {
    switch (c) {
      case '&':
        o += "&amp;";
        break;
      case '<':
        o += "&lt;";
        break;
      case '>':
        o += "&gt;";
        break;
      case '"':
        o += "&quot;";
        break;
      case '\'':
        o += "&#39;";
        break;
      default:
        o += c;
    }
  }
  return o;
}

static void append_bytes(void* context, void* data, int size) {
  static_cast<std::string*>(context)->append(static_cast<const char*>(data), size_t(size));
}

std::string png_data_uri(const data::Image& image) {
  std::string png;
  if (image.empty() || stbi_write_png_to_func(append_bytes, &png, image.w, image.h, image.c,
                                              image.pixels.data(), image.w * image.c) == 0)
    throw std::runtime_error("report: PNG encoding of a " + std::to_string(image.w) + "x" +
                             std::to_string(image.h) + " picture failed");
  static const char* b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out = "data:image/png;base64,";
  for (size_t i = 0; i < png.size(); i += 3) {  // 3 bytes -> 4 characters, '=' pads the last group
    const uint32_t b0 = uint8_t(png[i]), b1 = i + 1 < png.size() ? uint8_t(png[i + 1]) : 0,
                   b2 = i + 2 < png.size() ? uint8_t(png[i + 2]) : 0;
    const uint32_t v = b0 << 16 | b1 << 8 | b2;
    out += b64[v >> 18 & 63];
    out += b64[v >> 12 & 63];
    out += i + 1 < png.size() ? b64[v >> 6 & 63] : '=';
    out += i + 2 < png.size() ? b64[v & 63] : '=';
  }
  return out;
}

int Table::column(const std::string& name) const {
  for (size_t i = 0; i < columns.size(); ++i)
    if (columns[i] == name) return int(i);
  return -1;
}

std::vector<double> Table::values(const std::string& name) const {
  const int c = column(name);
  std::vector<double> v;
  if (c < 0) return v;
  for (const auto& r : rows) v.push_back(size_t(c) < r.size() ? r[size_t(c)] : NAN);
  return v;
}

static std::vector<std::string> split_line(const std::string& line) {
  std::vector<std::string> cells;
  std::string cell;
  std::stringstream ss(line);
  while (std::getline(ss, cell, ',')) cells.push_back(cell);
  if (!line.empty() && line.back() == ',') cells.push_back("");
  return cells;
}

Table parse_csv(const std::string& text) {
  Table t;
  std::stringstream ss(text);
  std::string line;
  if (!std::getline(ss, line)) return t;
  t.columns = split_line(line);
  while (std::getline(ss, line)) {
    if (line.empty()) continue;
    std::vector<double> row;
    for (const auto& c : split_line(line)) {
      char* end = nullptr;
      const double v = std::strtod(c.c_str(), &end);
      row.push_back(c.empty() || *end ? NAN : v);
    }
    t.rows.push_back(row);
  }
  return t;
}

static std::string num(double v, int decimals = 1) {
  char b[32];
  std::snprintf(b, sizeof b, "%.*f", decimals, v);
  return b;
}

std::string svg_chart(const std::string& title, const std::string& y_label,
                      const std::vector<Curve>& curves) {
  const double W = 640, H = 340, left = 60, right = 170, top = 34, bottom = 42;
  const double pw = W - left - right, ph = H - top - bottom;
  const ChartRange range = chart_range(curves);
  const size_t n = range.n;
  const double lo = range.lo, hi = range.hi;
  const double xmax = std::max<double>(2, double(n));
  auto X = [&](double e) { return left + (e - 1) / (xmax - 1) * pw; };
  auto Y = [&](double v) { return top + (hi - v) / (hi - lo) * ph; };
  std::string s = "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 " + num(W, 0) + " " + num(H, 0) +
                  "\" width=\"" + num(W, 0) + "\" height=\"" + num(H, 0) + "\" role=\"img\">";
  s += "<title>" + escape(title) + "</title>";
  s += "<text x=\"" + num(left) + "\" y=\"20\" font-size=\"15\" font-weight=\"bold\">" + escape(title) +
       "</text>";
  for (int k = 0; k <= 5; ++k) {  // y grid and ticks
    const double v = lo + (hi - lo) * k / 5, y = Y(v);
    s += "<line x1=\"" + num(left) + "\" y1=\"" + num(y) + "\" x2=\"" + num(left + pw) + "\" y2=\"" + num(y) +
         "\" stroke=\"#e4e4e4\"/>";
    s += "<text x=\"" + num(left - 6) + "\" y=\"" + num(y + 4) + "\" font-size=\"11\" text-anchor=\"end\">" +
         num(v, hi - lo < 0.05 ? 4
                : hi - lo < 5  ? 3
                               : 1) +
         "</text>";
  }
  const int xstep = std::max(1, int(std::ceil((xmax - 1) / 10)));
  for (int e = 1; e <= int(xmax); e += xstep)
    s += "<text x=\"" + num(X(e)) + "\" y=\"" + num(top + ph + 16) +
         "\" font-size=\"11\" text-anchor=\"middle\">" + std::to_string(e) + "</text>";
  s += "<rect x=\"" + num(left) + "\" y=\"" + num(top) + "\" width=\"" + num(pw) + "\" height=\"" + num(ph) +
       "\" fill=\"none\" stroke=\"#000\"/>";
  s += "<text x=\"" + num(left + pw / 2) + "\" y=\"" + num(H - 6) +
       "\" font-size=\"12\" text-anchor=\"middle\">epoch</text>";
  s += "<text x=\"14\" y=\"" + num(top + ph / 2) +
       "\" font-size=\"12\" text-anchor=\"middle\" transform=\"rotate(-90 14 " + num(top + ph / 2) + ")\">" +
       escape(y_label) + "</text>";
  double ly = top + 8;
  for (const auto& c : curves) {
    std::string pts;
    for (size_t i = 0; i < c.y.size(); ++i)
      if (std::isfinite(c.y[i])) pts += num(X(double(i + 1))) + "," + num(Y(c.y[i])) + " ";
    if (pts.empty()) continue;
    const std::string dash = c.dashed ? " stroke-dasharray=\"5,3\"" : "";
    s += "<polyline points=\"" + pts + "\" fill=\"none\" stroke=\"" + c.color + "\" stroke-width=\"2\"" +
         dash + "/>";
    s += "<line x1=\"" + num(W - right + 10) + "\" y1=\"" + num(ly) + "\" x2=\"" + num(W - right + 34) +
         "\" y2=\"" + num(ly) + "\" stroke=\"" + c.color + "\" stroke-width=\"2\"" + dash + "/>";
    s += "<text x=\"" + num(W - right + 40) + "\" y=\"" + num(ly + 4) + "\" font-size=\"11\">" +
         escape(c.name) + "</text>";
    ly += 16;
  }
  return s + "</svg>";
}

static std::string pct(double f) {
  return num(100.0 * f, 1) + "%";
}

std::string confusion_section(const nlohmann::json& m) {
  std::string s;
  for (const auto& a : m.value("attributes", nlohmann::json::array())) {
    const auto classes = a.at("classes").get<std::vector<std::string>>();
    const auto conf = a.at("confusion").get<std::vector<std::vector<int64_t>>>();
    s += "<h3>" + escape(a.at("name").get<std::string>()) + ": accuracy " +
         pct(a.at("accuracy").get<double>()) + " of " + std::to_string(a.at("n").get<int64_t>()) + "</h3>";
    s += "<table class=\"confusion\"><tr><th>true \\ predicted</th>";
    for (size_t p = 0; p < classes.size(); ++p)
      s += "<th title=\"" + escape(classes[p]) + "\">" + std::to_string(p) + "</th>";
    s += "<th>undef.</th><th>n</th><th>class accuracy</th></tr>";
    for (size_t t = 0; t < conf.size() && t < classes.size(); ++t) {
      int64_t total = 0;
      for (int64_t v : conf[t]) total += v;
      s += "<tr><th>" + std::to_string(t) + " " + escape(classes[t]) + "</th>";
      for (size_t p = 0; p < conf[t].size(); ++p) {
        const double share = total ? double(conf[t][p]) / double(total) : 0.0;
        const std::string rgb = p == t ? "26,127,55" : "8,48,107";
        s += "<td style=\"background:rgba(" + rgb + "," + num(std::sqrt(share), 2) + ")" +
             (share > 0.35 ? ";color:#fff" : "") + "\">" + std::to_string(conf[t][p]) + "</td>";
      }
      s += "<td>" + std::to_string(total) + "</td><td>" +
           (total ? pct(double(conf[t][t]) / double(total)) : "-") + "</td></tr>";
    }
    s += "</table>";
  }
  return s.empty() ? "<p>No attributes in the scores.</p>" : s;
}

std::string groups_section(const nlohmann::json& m) {
  std::string s;
  std::vector<std::string> attrs;
  for (const auto& a : m.value("attributes", nlohmann::json::array()))
    attrs.push_back(a.at("name").get<std::string>());
  for (const char* grouping : {"race", "gender"}) {
    if (!m.contains("groups") || !m.at("groups").contains(grouping)) continue;
    s += "<h3>by " + std::string(grouping) + "</h3><table><tr><th>" + grouping + "</th><th>faces</th>";
    for (const auto& a : attrs) s += "<th>" + escape(a) + "</th>";
    s += "</tr>";
    for (const auto& row : m.at("groups").at(grouping)) {
      s += "<tr><th>" + escape(row.at("value").get<std::string>()) + "</th><td>" +
           std::to_string(row.at("n").get<int64_t>()) + "</td>";
      for (const auto& a : attrs) {
        const auto& c = row.contains(a) ? row.at(a) : nlohmann::json::object();
        const int64_t n = c.value("n", int64_t(0));
        s += "<td>" +
             (n ? pct(c.value("accuracy", 0.0)) + " <small>(" + std::to_string(n) + ")</small>" : "-") +
             "</td>";
      }
      s += "</tr>";
    }
    s += "</table>";
  }
  return s.empty() ? "<p>No race or gender groups in the scores.</p>" : s;
}

std::string face_grid(const std::vector<FaceCard>& cards) {
  std::string s = "<div class=\"grid\">";
  for (const auto& c : cards) {
    s += "<figure><img src=\"" + png_data_uri(c.image) + "\" alt=\"" + escape(c.title) + "\" width=\"" +
         std::to_string(c.image.w) + "\" height=\"" + std::to_string(c.image.h) + "\"><figcaption><b>" +
         escape(c.title) + "</b>";
    for (const auto& [text, right] : c.lines)
      s += "<br><span class=\"" + std::string(right ? "ok" : "bad") + "\">" + escape(text) + "</span>";
    s += "</figcaption></figure>";
  }
  return s + "</div>";
}

std::string section(const std::string& id, const std::string& heading, const std::string& content) {
  return "<section id=\"" + escape(id) + "\"><h2>" + escape(heading) + "</h2>" + content + "</section>\n";
}

std::string page(const std::string& title, const std::string& body) {
  return "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>" + escape(title) +
         "</title><style>"
         "body{font-family:sans-serif;margin:2em;max-width:1200px;color:#222}"
         "table{border-collapse:collapse;margin:0.5em 0 1.5em}td,th{border:1px solid #ccc;padding:3px 7px;"
         "text-align:right}th{background:#f4f4f4}pre{background:#f6f6f6;padding:0.7em;white-space:pre-wrap}"
         ".grid{display:flex;flex-wrap:wrap;gap:10px}figure{margin:0;width:min-content}figcaption{font-size:"
         "12px}"
         ".ok{color:#1a7f37}.bad{color:#c62828}img{image-rendering:pixelated}"
         "</style></head><body>\n<h1>" +
         escape(title) + "</h1>\n" + body + "</body></html>\n";
}

}  // namespace facet::html
