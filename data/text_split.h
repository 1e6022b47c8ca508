// Splitting a line of text into fields, shared by the readers (UTKFace CSV, manifests, label specs).
#pragma once
#include <string>
#include <vector>

namespace facet::data {

// s split at every `sep` ("a,,b" gives "a", "", "b"; "" gives one empty field).
std::vector<std::string> split_on(const std::string& s, char sep);

// The fields of one CSV line, RFC 4180 quoting ("" inside quotes is a quote), no line breaks inside quotes.
// `unclosed_quote`, when not null, is set to whether a quote was still open at the end of the line.
std::vector<std::string> split_csv_line(const std::string& line, bool* unclosed_quote = nullptr);

}  // namespace facet::data
