// Adience fold files: tab-separated, header row, columns user_id, original_image, face_id, age, gender, x, y,
// dx, dy, tilt_ang, fiducial_yaw_angle, fiducial_score. Only the first five are used.
#include <cctype>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "data/readers.h"

namespace facet::data {
namespace fs = std::filesystem;

namespace {

std::string trim(const std::string& s) {
  size_t a = 0, b = s.size();
  while (a < b && std::isspace(static_cast<unsigned char>(s[a]))) ++a;
  while (b > a && std::isspace(static_cast<unsigned char>(s[b - 1]))) --b;
  return s.substr(a, b - a);
}

// Parses a non-negative integer that fills the whole string (after trimming); -1 otherwise.
int parse_int(const std::string& text) {
  const std::string t = trim(text);
  if (t.empty() || t.size() > 6) return -1;
  for (char c : t)
    if (!std::isdigit(static_cast<unsigned char>(c))) return -1;
  return std::stoi(t);
}

std::vector<std::string> split_tabs(const std::string& line) {
  std::vector<std::string> out;
  size_t start = 0;
  for (;;) {
    const size_t end = line.find('\t', start);
    out.push_back(line.substr(start, end == std::string::npos ? std::string::npos : end - start));
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return out;
}

}  // namespace

const std::string& adience_group_name(int group) {
  static const std::string names[9] = {"(0, 2)",   "(4, 6)",   "(8, 12)",   "(15, 20)", "(25, 32)",
                                       "(38, 43)", "(48, 53)", "(60, 100)", "(none)"};
  return names[(group >= 0 && group < kAdienceGroups) ? group : 8];
}

int adience_group_of_age(double years) {
  for (int g = 0; g + 1 < kAdienceGroups; ++g)
    if (years <= 0.5 * (kAdienceHi[g] + kAdienceLo[g + 1])) return g;
  return kAdienceGroups - 1;
}

AdienceAge parse_adience_age(const std::string& text, AdienceAgePolicy policy) {
  AdienceAge r;
  const std::string t = trim(text);
  if (t.empty() || t == "None") {
    r.kind = AdienceAge::none;
    return r;
  }
  if (const int years = parse_int(t); years >= 0) {  // a bare age
    if (years > kMaxAge) return r;                     // bad
    r.age = years;
    if (policy == AdienceAgePolicy::nearest) r.group = adience_group_of_age(years), r.kind = AdienceAge::mapped;
    else r.kind = AdienceAge::dropped;
    return r;
  }
  if (t.size() < 5 || t.front() != '(' || t.back() != ')') return r;  // bad
  const std::string inner = t.substr(1, t.size() - 2);
  const size_t comma = inner.find(',');
  if (comma == std::string::npos) return r;
  const int lo = parse_int(inner.substr(0, comma)), hi = parse_int(inner.substr(comma + 1));
  if (lo < 0 || hi < 0 || lo > kMaxAge || hi > kMaxAge) return r;
  for (int g = 0; g < kAdienceGroups; ++g)
    if (lo == kAdienceLo[g] && hi == kAdienceHi[g]) {
      r.group = g, r.kind = AdienceAge::standard;
      return r;
    }
  if (policy == AdienceAgePolicy::nearest) r.group = adience_group_of_age(0.5 * (lo + hi)), r.kind = AdienceAge::mapped;
  else r.kind = AdienceAge::dropped;
  return r;
}

ReadResult read_adience(const std::string& dir, const AdienceOptions& options) {
  std::error_code ec;
  if (!fs::exists(dir, ec))
    throw std::runtime_error("Adience: '" + dir + "' does not exist (pass the folder holding fold_0_data.txt ... "
                             "fold_4_data.txt, e.g. --data ../shared/data/adience)");
  if (!fs::is_directory(dir, ec))
    throw std::runtime_error("Adience: '" + dir + "' is not a directory (pass the folder holding fold_0_data.txt ... "
                             "fold_4_data.txt, e.g. --data ../shared/data/adience)");
  ReadResult out;
  out.data.source = out.report.source = "adience";
  out.data.root = out.report.root = dir;
  const std::string root = options.image_root.empty() ? dir : options.image_root;
  const std::string image_dir = options.aligned ? "aligned" : "faces";
  const bool check_images = fs::is_directory(fs::path(root) / image_dir, ec);

  int files_found = 0;
  for (int fold : options.folds) {
    const std::string file = "fold_" + std::to_string(fold) + "_data.txt";
    std::ifstream in(fs::path(dir) / file);
    if (!in) {
      out.report.notes.push_back(file + " not found under " + dir + ": fold " + std::to_string(fold) + " left out");
      continue;
    }
    ++files_found;
    std::string line;
    int line_no = 0;
    while (std::getline(in, line)) {
      ++line_no;
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line_no == 1 && line.rfind("user_id", 0) == 0) continue;  // header
      if (trim(line).empty()) continue;
      ++out.report.entries;
      const std::string where = file + ":" + std::to_string(line_no);
      const auto f = split_tabs(line);
      if (f.size() < 5) {
        out.report.malformed.push_back({where, std::to_string(f.size()) + " tab-separated fields, need at least 5 "
                                               "(user_id, original_image, face_id, age, gender)", false});
        continue;
      }
      const std::string user = trim(f[0]), image = trim(f[1]);
      const int face_id = parse_int(f[2]);
      if (user.empty() || image.empty() || face_id < 0) {
        out.report.malformed.push_back({where, "bad user_id '" + f[0] + "', original_image '" + f[1] +
                                               "' or face_id '" + f[2] + "'", false});
        continue;
      }
      const AdienceAge age = parse_adience_age(f[3], options.ages);
      const std::string age_text = trim(f[3]);
      switch (age.kind) {
        case AdienceAge::standard: out.report.count("age " + age_text); break;
        case AdienceAge::mapped:
          out.report.count("age mapped: " + age_text + " -> " + adience_group_name(age.group));
          break;
        case AdienceAge::none: out.report.count("age " + std::string(age_text.empty() ? "empty" : age_text)); break;
        case AdienceAge::dropped: out.report.count("age dropped (strict policy): " + age_text); break;
        case AdienceAge::bad:
          out.report.count("age unreadable: " + age_text);
          out.report.malformed.push_back({where, "age '" + f[3] + "' is not a range '(a, b)', a number or None", true});
          break;
      }
      const std::string g = trim(f[4]);
      int gender = -1;
      if (g == "m") gender = 0;
      else if (g == "f") gender = 1;
      out.report.count("gender " + (g.empty() ? std::string("empty") : g));
      if (gender < 0 && g != "u" && !g.empty())
        out.report.malformed.push_back({where, "gender '" + f[4] + "' is not f, m, u or empty", true});

      const std::string rel = options.aligned
                                  ? image_dir + "/" + user + "/landmark_aligned_face." + std::to_string(face_id) + "." + image
                                  : image_dir + "/" + user + "/coarse_tilt_aligned_face." + std::to_string(face_id) + "." + image;
      if (age.group < 0 && gender < 0) {
        out.report.skip(where, "no usable label (age '" + age_text + "', gender '" + g + "')");
        out.report.count("skipped: no usable label");
        continue;
      }
      Sample s;
      s.name = rel;
      s.path = (fs::path(root) / rel).string();
      s.age = age.age;
      s.age_group = age.group;
      s.gender = gender;
      // The subject key is the album (user_id), not user_id/face_id: an album's photos tend to show the same
      // people again, and the benchmark's own folds are album-disjoint (docs/data.md).
      s.subject = user;
      s.fold = fold;
      if (check_images && !fs::exists(s.path, ec)) {
        out.report.skip(rel, "image missing (" + where + ")");
        out.report.count("skipped: image missing");
        continue;
      }
      out.data.samples.push_back(std::move(s));
    }
  }
  if (files_found == 0)
    throw std::runtime_error("Adience: no fold_<k>_data.txt under '" + dir + "' (pass the folder holding the fold files)");
  if (check_images) {
    if (options.scan) scan_contents(out.data, out.report, options.duplicates);
  } else {
    out.report.notes.push_back("no " + image_dir + "/ folder under " + root + ": labels read, images not checked (" +
                               std::to_string(out.data.samples.size()) + " samples have a path but no pixels here)");
  }
  out.report.usable = int64_t(out.data.samples.size());
  return out;
}

}  // namespace facet::data
