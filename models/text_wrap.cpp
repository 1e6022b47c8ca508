#include "models/text_wrap.h"

#include "models/training/report.h"

namespace facet {

namespace {

bool fits(const std::string& s, int max_width, int scale) {
  return Canvas::text_width(s, scale) <= max_width;
}

// Appends `word` to `lines`, cut into pieces that fit when it is wider than the box on its own.
void add_long_word(const std::string& word, int max_width, int scale, std::vector<std::string>& lines) {
  std::string piece;
  for (char ch : word) {
    if (!piece.empty() && !fits(piece + ch, max_width, scale)) {
      lines.push_back(piece);
      piece.clear();
    }
    piece += ch;  // a single glyph wider than the box stays on its own line
  }
  lines.push_back(piece);
}

}  // namespace

std::vector<std::string> wrap_text(const std::string& s, int max_width, int scale) {
  std::vector<std::string> words;
  std::string w;
  for (char ch : s) {
    if (ch == ' ') {
      if (!w.empty()) words.push_back(w);
      w.clear();
    } else {
      w += ch;
    }
  }
  if (!w.empty()) words.push_back(w);
  std::vector<std::string> lines;
  std::string line;
  for (const auto& word : words) {
    if (line.empty() && fits(word, max_width, scale)) {
      line = word;
    } else if (!line.empty() && fits(line + " " + word, max_width, scale)) {
      line += " " + word;
    } else {
      if (!line.empty()) lines.push_back(line);
      line.clear();
      if (fits(word, max_width, scale)) {
        line = word;
      } else {
        add_long_word(word, max_width, scale, lines);
      }
    }
  }
  if (!line.empty() || lines.empty()) lines.push_back(line);
  return lines;
}

}  // namespace facet
