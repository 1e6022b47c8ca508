// UTKFace file names: age_gender_race_datetime.jpg.chip.jpg, e.g. 26_1_2_20170116174525125.jpg.chip.jpg.
// Real names break this in a few ways (see docs/data.md): a missing race field, a 16- or 18-digit timestamp, a
// space before ".jpg", "jpg" without its dot. The parser reads every field it can and lists each flaw.
#include <algorithm>
#include <cctype>
#include <filesystem>
#include <stdexcept>

#include "data/readers.h"

namespace facet::data {
namespace fs = std::filesystem;

namespace {

bool all_digits(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); });
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string lower(std::string s) {
  for (auto& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Parses one label field into `out` (left -1 on any flaw, which is appended to `flaws`).
void parse_field(const std::string& text, const char* what, int max_value, int& out, std::vector<std::string>& flaws) {
  if (text.size() > 1 && text[0] == '-' && all_digits(text.substr(1))) {  // a number, but below 0
    flaws.push_back(std::string(what) + " " + text + " out of range 0-" + std::to_string(max_value));
    return;
  }
  if (!all_digits(text)) {
    flaws.push_back(std::string(what) + " '" + text + "' is not a number");
    return;
  }
  if (text.size() > 4 || std::stoi(text) > max_value) {
    flaws.push_back(std::string(what) + " " + text + " out of range 0-" + std::to_string(max_value));
    return;
  }
  out = std::stoi(text);
}

}  // namespace

UtkName parse_utkface_name(const std::string& raw) {
  UtkName r;
  const std::string low = lower(raw);
  if (!ends_with(low, ".jpg") && !ends_with(low, ".jpeg") && !ends_with(low, ".png")) {
    r.image = false;
    r.flaws.push_back("not an image file name (expected a .jpg, .jpeg or .png ending)");
    return r;
  }
  std::string name = raw;
  if (name.find_first_of(" \t") != std::string::npos) {
    r.flaws.push_back("space in the name");
    name.erase(std::remove_if(name.begin(), name.end(), [](char c) { return c == ' ' || c == '\t'; }), name.end());
  }
  std::vector<std::string> tokens;
  for (size_t start = 0;;) {
    const size_t end = name.find('_', start);
    tokens.push_back(name.substr(start, end == std::string::npos ? std::string::npos : end - start));
    if (end == std::string::npos) break;
    start = end + 1;
  }
  // The last token is the timestamp plus the extension: split it at the first non-digit.
  const std::string last = tokens.back();
  tokens.pop_back();
  const size_t digits = size_t(std::find_if(last.begin(), last.end(), [](unsigned char c) { return !std::isdigit(c); }) -
                               last.begin());
  std::string stamp = last.substr(0, digits), rest = last.substr(digits);
  if (!stamp.empty() && stamp.size() <= 3) {  // a short number is a label field: the timestamp is missing
    tokens.push_back(stamp);
    stamp.clear();
  }
  if (stamp.empty()) r.flaws.push_back("no timestamp");
  else if (stamp.size() != 17)
    r.flaws.push_back("bad timestamp " + stamp + " (" + std::to_string(stamp.size()) +
                      " digits, expected 17: yyyymmddHHMMSSmmm)");
  if (lower(rest) == "jpg.chip.jpg") r.flaws.push_back("missing dot before jpg.chip.jpg");
  else if (lower(rest) != ".jpg.chip.jpg") r.flaws.push_back("unexpected ending '" + rest + "' (expected .jpg.chip.jpg)");

  if (tokens.size() > 3) {
    r.flaws.push_back(std::to_string(tokens.size()) + " label fields (expected 3: age_gender_race): cannot tell which is which");
    return r;
  }
  static const char* const missing[3] = {"age", "gender", "race"};
  for (size_t i = tokens.size(); i < 3; ++i)
    r.flaws.push_back(std::string("missing field: ") + missing[i]);
  if (tokens.size() > 0) parse_field(tokens[0], "age", kMaxAge, r.age, r.flaws);
  if (tokens.size() > 1) parse_field(tokens[1], "gender", 1, r.gender, r.flaws);
  if (tokens.size() > 2) parse_field(tokens[2], "race", 4, r.race, r.flaws);
  return r;
}

ReadResult read_utkface(const std::string& dir, const UtkfaceOptions& options) {
  std::error_code ec;
  if (!fs::exists(dir, ec))
    throw std::runtime_error("UTKFace: '" + dir + "' does not exist (pass the folder of *.jpg.chip.jpg files, "
                             "e.g. --data ../shared/data/utkface, or set FACET_DATA)");
  if (!fs::is_directory(dir, ec))
    throw std::runtime_error("UTKFace: '" + dir + "' is not a directory (pass the folder of *.jpg.chip.jpg files, "
                             "e.g. --data ../shared/data/utkface, or set FACET_DATA)");
  ReadResult out;
  out.data.source = out.report.source = "utkface";
  out.data.root = out.report.root = dir;
  std::vector<std::string> names;
  int64_t dirs = 0, hidden = 0;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (entry.is_directory(ec)) { ++dirs; continue; }
    if (!name.empty() && name[0] == '.') { ++hidden; continue; }
    names.push_back(name);
  }
  if (ec) throw std::runtime_error("UTKFace: cannot list '" + dir + "': " + ec.message());
  std::sort(names.begin(), names.end());
  if (dirs) out.report.notes.push_back(std::to_string(dirs) + " subdirectories ignored (UTKFace is one flat folder)");
  if (hidden) out.report.notes.push_back(std::to_string(hidden) + " hidden files ignored");

  out.report.entries = int64_t(names.size());
  for (const auto& name : names) {
    const UtkName parsed = parse_utkface_name(name);
    if (!parsed.flaws.empty()) {
      std::string reason;
      for (const auto& f : parsed.flaws) reason += (reason.empty() ? "" : "; ") + f;
      out.report.malformed.push_back({name, reason, parsed.usable()});
      out.report.count(parsed.usable() ? "malformed name, labels kept" : "malformed name, skipped");
    }
    if (!parsed.usable()) continue;
    Sample s;
    s.name = name;
    s.path = (fs::path(dir) / name).string();
    s.age = parsed.age, s.gender = parsed.gender, s.race = parsed.race;
    out.data.samples.push_back(std::move(s));
  }
  if (options.scan) scan_contents(out.data, out.report, options.duplicates, options.decode);
  else out.report.notes.push_back("files not read: no check for empty/truncated images or duplicates");
  out.report.usable = int64_t(out.data.samples.size());
  return out;
}

}  // namespace facet::data
