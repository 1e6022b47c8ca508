// Fitting a label into a width: word wrap for the contact sheet's tiles (and any Canvas text with a width).
#pragma once
#include <string>
#include <vector>

namespace facet {

// Splits `s` into lines whose Canvas::text_width(line, scale) <= max_width: breaks at spaces, and inside a
// word only when the word alone is wider than the box. Never drops a character other than the spaces it
// breaks at; an empty string gives one empty line.
std::vector<std::string> wrap_text(const std::string& s, int max_width, int scale = 1);

}  // namespace facet
