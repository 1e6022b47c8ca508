// Labelled manifests: a UTF-8 CSV `path,<attr1>,<attr2>,...` beside (or above) the images. See data/readers.h.
// The manifest is the user's own file, so structural faults (a ragged row, a path leaving the folder, bytes that
// are not UTF-8) stop the read with the file, line and column rather than silently losing rows; faults of the
// images it names (missing, truncated, not an image) are skipped and counted as for every data set.
#include <algorithm>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>

#include "data/readers.h"
#include "data/text_split.h"

namespace facet::data {

namespace fs = std::filesystem;

size_t utf8_error_offset(const std::string& text) {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const size_t n = text.size();
  for (size_t i = 0; i < n;) {
    const unsigned c = p[i];
    size_t len = 0;
    unsigned min = 0, cp = 0;
    if (c < 0x80) len = 1, cp = c;
    else if ((c & 0xE0) == 0xC0) len = 2, cp = c & 0x1F, min = 0x80;
    else if ((c & 0xF0) == 0xE0) len = 3, cp = c & 0x0F, min = 0x800;
    else if ((c & 0xF8) == 0xF0) len = 4, cp = c & 0x07, min = 0x10000;
    else return i;
    if (i + len > n) return i;
    for (size_t k = 1; k < len; ++k) {
      if ((p[i + k] & 0xC0) != 0x80) return i;
      cp = (cp << 6) | (p[i + k] & 0x3F);
    }
    if (len > 1 && (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))) return i;
    i += len;
  }
  return std::string::npos;
}

namespace {

std::string trim(const std::string& s) {
  size_t a = 0, b = s.size();
  while (a < b && std::isspace(static_cast<unsigned char>(s[a]))) ++a;
  while (b > a && std::isspace(static_cast<unsigned char>(s[b - 1]))) --b;
  return s.substr(a, b - a);
}

[[noreturn]] void fail(const std::string& where, const std::string& what) {
  throw std::runtime_error("manifest " + where + ": " + what);
}

// The CSV fields of one line (RFC 4180 quoting, no line breaks inside quotes), trimmed. `where` is "file:line".
std::vector<std::string> split_fields(const std::string& line, const std::string& where) {
  bool quoted = false;
  std::vector<std::string> out = split_csv_line(line, &quoted);
  if (quoted)
    fail(where + ", column " + std::to_string(out.size()), "a quote opened here is never closed (a field may not "
         "span lines; write a quote inside a quoted field as \"\")");
  for (auto& f : out) f = trim(f);
  return out;
}

// Bytes that are not UTF-8 (or a NUL) stop the read: the message gives the line, the column (field) and the byte.
void check_text(const std::string& text, const std::string& name) {
  size_t bad = utf8_error_offset(text);
  const size_t nul = text.find('\0');
  const bool is_nul = nul != std::string::npos && nul < bad;
  if (is_nul) bad = nul;
  if (bad == std::string::npos) return;
  const size_t line_start = text.rfind('\n', bad) == std::string::npos ? 0 : text.rfind('\n', bad) + 1;
  const size_t line = size_t(std::count(text.begin(), text.begin() + std::ptrdiff_t(bad), '\n')) + 1;
  const size_t field = size_t(std::count(text.begin() + std::ptrdiff_t(line_start), text.begin() + std::ptrdiff_t(bad), ',')) + 1;
  char byte[8];
  std::snprintf(byte, sizeof byte, "0x%02x", unsigned(static_cast<unsigned char>(text[bad])));
  fail(name + ":" + std::to_string(line) + ", column " + std::to_string(field) + " (byte " +
           std::to_string(bad - line_start + 1) + " of the line)",
       is_nul ? std::string("a NUL byte: this is not a text file")
              : "byte " + std::string(byte) + " is not UTF-8: save the manifest as UTF-8 (e.g. iconv -f latin1 -t utf-8)");
}

struct Header {
  size_t line = 0, path_col = 0, width = 0;
  std::vector<std::string> columns;      // attribute column names, in order
  std::vector<size_t> column_index;      // their field positions
};

Header parse_header(const std::vector<std::string>& fields, size_t line, const std::string& name) {
  Header h;
  h.line = line, h.width = fields.size();
  bool have_path = false;
  for (size_t i = 0; i < fields.size(); ++i) {
    const std::string where = name + ":" + std::to_string(line) + ", column " + std::to_string(i + 1);
    const std::string& f = fields[i];
    if (f.empty()) fail(where, "the header names no column here (every column needs a name: path,<attr1>,...)");
    if (f == "path") {
      if (have_path) fail(where, "a second 'path' column");
      have_path = true, h.path_col = i;
      continue;
    }
    if (f.find_first_of("+:=") != std::string::npos)
      fail(where, "column name '" + f + "' holds '+', ':' or '=', which --labels uses: rename it");
    if (std::find(h.columns.begin(), h.columns.end(), f) != h.columns.end())
      fail(where, "column '" + f + "' is named twice");
    h.columns.push_back(f);
    h.column_index.push_back(i);
  }
  if (!have_path)
    fail(name + ":" + std::to_string(line), "the header has no 'path' column (write path,<attr1>,<attr2>,... with the "
         "image path relative to the manifest first)");
  if (h.columns.empty())
    fail(name + ":" + std::to_string(line), "the header has no attribute column besides 'path' (write "
         "path,<attr1>,... : each attribute becomes a head)");
  return h;
}

// The cell's path, normalized and relative to the manifest's folder; throws when it leaves the folder.
std::string checked_path(const std::string& cell, const fs::path& root, const fs::path& real_root,
                         const std::string& where) {
  if (cell.empty()) fail(where, "empty path");
  const fs::path p(cell);
  if (p.is_absolute() || p.has_root_name() || p.has_root_directory())
    fail(where, "path '" + cell + "' is absolute: write it relative to the manifest's folder");
  for (const auto& part : p)
    if (part == "..")
      fail(where, "path '" + cell + "' uses '..': paths may not leave the manifest's folder (move the manifest up)");
  const std::string rel = p.lexically_normal().generic_string();
  if (rel.empty() || rel == ".") fail(where, "path '" + cell + "' names the folder itself, not an image");
  std::error_code ec;
  const fs::path real = fs::weakly_canonical(root / rel, ec);
  if (!ec) {
    const auto r = real.lexically_relative(real_root);
    if (r.empty() || *r.begin() == "..")
      fail(where, "path '" + cell + "' leads out of the manifest's folder through a symbolic link (to " +
                      real.string() + ")");
  }
  return rel;
}

struct Row {
  Sample sample;
  size_t line = 0;
  bool drop = false;
};

// Rows naming one file: the later ones go; all go when their labels disagree (under drop-conflicts).
void resolve_same_paths(std::vector<Row>& rows, Report& report, DuplicatePolicy policy) {
  std::map<std::string, size_t> first;
  for (size_t i = 0; i < rows.size(); ++i) {
    const auto [it, fresh] = first.emplace(rows[i].sample.name, i);
    if (fresh) continue;
    Row& a = rows[it->second];
    const bool conflict = a.sample.attributes != rows[i].sample.attributes;
    const bool drop_both = conflict && policy == DuplicatePolicy::drop_conflicts;
    rows[i].drop = true;
    if (drop_both && !a.drop) {
      a.drop = true;
      report.skip(a.sample.origin, "'" + a.sample.name + "' is named again on line " + std::to_string(rows[i].line) +
                                       " with other labels (conflict: both dropped)");
    }
    report.skip(rows[i].sample.origin, "'" + rows[i].sample.name + "' is already named on line " +
                                           std::to_string(a.line) +
                                           (conflict ? " with other labels" : "") +
                                           (drop_both ? " (conflict: both dropped)" : " (kept the first)"));
    report.count(conflict ? "skipped: same path, conflicting labels" : "skipped: same path again");
  }
}

std::string read_whole(const std::string& file) {
  std::error_code ec;
  if (fs::is_directory(file, ec))
    throw std::runtime_error("manifest '" + file + "' is a directory: pass the CSV file (path,<attr1>,...), or "
                             "--format folder for a folder of class folders");
  std::ifstream in(file, std::ios::binary);
  if (!in) throw std::runtime_error("manifest '" + file + "': cannot open it (pass a CSV file path,<attr1>,...)");
  std::ostringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  if (text.rfind("\xEF\xBB\xBF", 0) == 0) text.erase(0, 3);  // a UTF-8 byte-order mark, as spreadsheets write
  return text;
}

}  // namespace

ReadResult read_manifest(const std::string& file, const OwnDataOptions& options) {
  const std::string text = read_whole(file);
  const std::string name = fs::path(file).filename().string();
  check_text(text, name);
  ReadResult out;
  out.data.source = out.report.source = "manifest";
  out.data.root = out.report.root = file;
  const fs::path root = fs::path(file).parent_path().empty() ? fs::path(".") : fs::path(file).parent_path();
  std::error_code ec;
  const fs::path real_root = fs::weakly_canonical(fs::absolute(root, ec), ec);
  Header h;
  std::vector<Row> rows;
  std::istringstream lines(text);
  std::string line;
  for (size_t line_no = 1; std::getline(lines, line); ++line_no) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (trim(line).empty()) continue;
    const std::string where = name + ":" + std::to_string(line_no);
    const auto fields = split_fields(line, where);
    if (h.line == 0) {
      h = parse_header(fields, line_no, name);
      out.data.columns = h.columns;
      continue;
    }
    if (fields.size() != h.width)
      fail(where, std::to_string(fields.size()) + " fields, and the header (line " + std::to_string(h.line) + ") has " +
                      std::to_string(h.width) + ": every row needs one cell per column (leave a cell empty for no "
                      "label; quote a value that holds a comma)");
    Row r;
    r.line = line_no;
    r.sample.name = checked_path(fields[h.path_col], root, real_root, where + ", column " + std::to_string(h.path_col + 1));
    r.sample.path = (root / r.sample.name).string();
    r.sample.origin = where;
    for (size_t c = 0; c < h.columns.size(); ++c)
      if (!fields[h.column_index[c]].empty()) r.sample.attributes[h.columns[c]] = fields[h.column_index[c]];
    rows.push_back(std::move(r));
  }
  if (h.line == 0) fail(name, "the file is empty: write a header path,<attr1>,... and one row per image");
  out.report.entries = int64_t(rows.size());
  resolve_same_paths(rows, out.report, options.duplicates);
  for (auto& r : rows)
    if (!r.drop) out.data.samples.push_back(std::move(r.sample));
  if (options.scan) scan_contents(out.data, out.report, options.duplicates, options.decode);
  out.report.usable = int64_t(out.data.samples.size());
  return out;
}

}  // namespace facet::data
