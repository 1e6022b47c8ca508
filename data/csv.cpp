// The CSV form of UTKFace used by study C: header age,ethnicity,gender,img_name,pixels with 48x48 grayscale
// pixels as space-separated text. Fields may be double-quoted. Images are kept in memory.
#include <cctype>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <stdexcept>

#include "data/readers.h"
#include "data/text_split.h"

namespace facet::data {
namespace {

std::string trim(const std::string& s) {
  size_t a = 0, b = s.size();
  while (a < b && std::isspace(static_cast<unsigned char>(s[a]))) ++a;
  while (b > a && std::isspace(static_cast<unsigned char>(s[b - 1]))) --b;
  return s.substr(a, b - a);
}

// -1 when not a whole non-negative integer <= max_value.
int parse_label(const std::string& text, int max_value) {
  const std::string t = trim(text);
  if (t.empty() || t.size() > 4) return -1;
  for (char c : t)
    if (!std::isdigit(static_cast<unsigned char>(c))) return -1;
  const int v = std::stoi(t);
  return v <= max_value ? v : -1;
}

// Space-separated 0..255 values into `out`; "" on success, else the reason.
std::string parse_pixels(const std::string& text, std::vector<uint8_t>& out) {
  out.clear();
  const char* p = text.c_str();
  while (*p) {
    while (*p == ' ' || *p == '\t') ++p;
    if (!*p) break;
    if (!std::isdigit(static_cast<unsigned char>(*p)))
      return "pixel " + std::to_string(out.size()) + " is not a number";
    int v = 0, digits = 0;
    // Stop accumulating past 3 digits (the value is refused anyway): a long digit run must not overflow v.
    for (; std::isdigit(static_cast<unsigned char>(*p)); ++p, ++digits)
      if (digits < 4) v = v * 10 + (*p - '0');
    if (digits > 3 || v > 255) return "pixel " + std::to_string(out.size()) + " is above 255";
    out.push_back(uint8_t(v));
  }
  return "";
}

// No image file at the top, and a sub-folder with an image file directly in it: the ImageFolder layout.
bool looks_like_image_folder(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  auto is_image = [](const fs::path& p) {
    std::string e = p.extension().string();
    for (auto& c : e) c = char(std::tolower(static_cast<unsigned char>(c)));
    return e == ".jpg" || e == ".jpeg" || e == ".png" || e == ".bmp";
  };
  bool sub_images = false;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    if (e.is_regular_file(ec) && is_image(e.path())) return false;
    if (!sub_images && e.is_directory(ec) && e.path().filename().string()[0] != '.') {
      std::error_code ec2;
      for (const auto& f : fs::directory_iterator(e.path(), ec2))
        if (f.is_regular_file(ec2) && is_image(f.path())) {
          sub_images = true;
          break;
        }
    }
  }
  return sub_images;
}

}  // namespace

ReadResult read_utkface_csv(const std::string& file, DuplicatePolicy duplicates) {
  std::ifstream in(file);
  if (!in)
    throw std::runtime_error("UTKFace CSV: cannot open '" + file + "' (pass the age_gender.csv file with columns "
                             "age, ethnicity, gender, img_name, pixels)");
  ReadResult out;
  out.data.source = out.report.source = "utkface-csv";
  out.data.root = out.report.root = file;
  std::string line;
  if (!std::getline(in, line)) throw std::runtime_error("UTKFace CSV: '" + file + "' is empty (no header row)");
  if (!line.empty() && line.back() == '\r') line.pop_back();
  std::map<std::string, size_t> col;
  const auto header = split_csv_line(line);
  for (size_t i = 0; i < header.size(); ++i) col[trim(header[i])] = i;
  for (const char* need : {"age", "ethnicity", "gender", "img_name", "pixels"})
    if (!col.count(need))
      throw std::runtime_error("UTKFace CSV: '" + file + "' line 1 has no column '" + need +
                               "' (the header must name age, ethnicity, gender, img_name, pixels)");
  const size_t width = header.size();
  std::map<std::string, int> seen_names;
  int line_no = 1;
  std::vector<uint8_t> px;
  while (std::getline(in, line)) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (trim(line).empty()) continue;
    ++out.report.entries;
    const std::string where = std::filesystem::path(file).filename().string() + ":" + std::to_string(line_no);
    const auto f = split_csv_line(line);
    if (f.size() != width) {
      out.report.malformed.push_back({where, std::to_string(f.size()) + " fields, the header has " + std::to_string(width), false});
      continue;
    }
    const std::string reason = parse_pixels(f[col["pixels"]], px);
    const int side = int(std::lround(std::sqrt(double(px.size()))));
    if (!reason.empty() || px.empty() || size_t(side) * side != px.size()) {
      out.report.malformed.push_back({where, reason.empty() ? std::to_string(px.size()) + " pixels, not a square image"
                                                            : reason, false});
      continue;
    }
    Sample s;
    s.age = parse_label(f[col["age"]], kMaxAge);
    s.race = parse_label(f[col["ethnicity"]], 4);
    s.gender = parse_label(f[col["gender"]], 1);
    std::string flaws;
    if (s.age < 0) flaws += "age '" + f[col["age"]] + "' not 0-116; ";
    if (s.race < 0) flaws += "ethnicity '" + f[col["ethnicity"]] + "' not 0-4; ";
    if (s.gender < 0) flaws += "gender '" + f[col["gender"]] + "' not 0/1; ";
    const bool usable = s.age >= 0 || s.race >= 0 || s.gender >= 0;
    if (!flaws.empty()) out.report.malformed.push_back({where, flaws.substr(0, flaws.size() - 2), usable});
    if (!usable) continue;
    s.name = trim(f[col["img_name"]]);
    if (s.name.empty()) s.name = where;
    if (const int n = seen_names[s.name]++; n > 0) {  // names are keys in split files: make them unique
      out.report.malformed.push_back({where, "img_name '" + s.name + "' repeated: renamed '" + s.name + "#" +
                                             std::to_string(n) + "'", true});
      s.name += "#" + std::to_string(n);
    }
    auto image = std::make_shared<Image>(side, side, 1);
    image->pixels = px;
    s.pixels = std::move(image);
    out.data.samples.push_back(std::move(s));
  }
  scan_contents(out.data, out.report, duplicates);
  out.report.usable = int64_t(out.data.samples.size());
  return out;
}

Format parse_format(const std::string& text) {
  if (text == "auto") return Format::detect;
  if (text == "utkface") return Format::utkface;
  if (text == "adience") return Format::adience;
  if (text == "csv") return Format::csv;
  if (text == "folder") return Format::folder;
  if (text == "manifest") return Format::manifest;
  throw std::invalid_argument("data format '" + text + "': use auto, utkface, adience, csv, folder or manifest");
}

Format detect_format(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (fs::is_regular_file(path, ec)) {
    std::ifstream in(path, std::ios::binary);
    std::string first;
    std::getline(in, first);
    if (first.rfind("\xEF\xBB\xBF", 0) == 0) first.erase(0, 3);
    const auto fields = split_csv_line(first.substr(0, first.find('\r')));
    return trim(fields[0]) == "path" ? Format::manifest : Format::csv;
  }
  for (int k = 0; k < 5; ++k)
    if (fs::exists(fs::path(path) / ("fold_" + std::to_string(k) + "_data.txt"), ec)) return Format::adience;
  return looks_like_image_folder(path) ? Format::folder : Format::utkface;
}

ReadResult read_dataset(const std::string& path, const ReadOptions& options) {
  const Format format = options.format == Format::detect ? detect_format(path) : options.format;
  switch (format) {
    case Format::csv: return read_utkface_csv(path, options.duplicates);
    case Format::folder: return read_image_folder(path, {options.duplicates, options.scan, options.decode});
    case Format::manifest: return read_manifest(path, {options.duplicates, options.scan, options.decode});
    case Format::adience: {
      AdienceOptions a = options.adience;
      a.duplicates = options.duplicates;
      a.scan = options.scan;
      return read_adience(path, a);
    }
    default: return read_utkface(path, {options.duplicates, options.scan, options.decode});
  }
}

}  // namespace facet::data
