#include "data/dataset.h"

#include <algorithm>
#include <sstream>
#include <stdexcept>
#include <unordered_map>

#include "data/hash.h"

namespace facet::data {

DuplicatePolicy parse_duplicate_policy(const std::string& text) {
  if (text == "drop-conflicts") return DuplicatePolicy::drop_conflicts;
  if (text == "keep-first") return DuplicatePolicy::keep_first;
  if (text == "keep-all") return DuplicatePolicy::keep_all;
  throw std::invalid_argument("duplicate policy '" + text + "': use drop-conflicts, keep-first or keep-all");
}

const char* to_string(DuplicatePolicy p) {
  switch (p) {
    case DuplicatePolicy::drop_conflicts: return "drop-conflicts";
    case DuplicatePolicy::keep_first: return "keep-first";
    case DuplicatePolicy::keep_all: return "keep-all";
  }
  return "?";
}

std::string label_string(const Sample& s) {
  if (!s.attributes.empty()) {
    std::string out;
    for (const auto& [column, value] : s.attributes) out.append(out.empty() ? "" : ";").append(column + "=" + value);
    return out;
  }
  auto field = [](int v) { return v < 0 ? std::string("?") : std::to_string(v); };
  std::string out = field(s.age);
  if (s.age < 0 && s.age_group >= 0) out.assign("g").append(std::to_string(s.age_group));
  out.append("/").append(field(s.gender)).append("/").append(field(s.race));
  return out;
}

int64_t Report::conflicting_groups() const {
  return std::count_if(duplicates.begin(), duplicates.end(), [](const DuplicateGroup& g) { return g.conflict; });
}

nlohmann::json Report::to_json() const {
  using nlohmann::json;
  json j;
  j["source"] = source;
  j["root"] = root;
  j["entries"] = entries;
  j["usable"] = usable;
  auto problems = [](const std::vector<Problem>& v) {
    json a = json::array();
    for (const auto& p : v) a.push_back({{"name", p.name}, {"reason", p.reason}, {"kept", p.kept}});
    return a;
  };
  j["malformed"] = problems(malformed);
  j["skipped"] = problems(skipped);
  json groups = json::array();
  for (const auto& g : duplicates)
    groups.push_back({{"hash", hex64(g.hash)}, {"bytes", g.size}, {"names", g.names}, {"labels", g.labels},
                      {"conflict", g.conflict}, {"kept", g.kept}});
  j["duplicates"] = {{"groups", duplicates.size()},
                     {"conflicting_groups", conflicting_groups()},
                     {"files_in_groups", [&] {
                        int64_t n = 0;
                        for (const auto& g : duplicates) n += int64_t(g.names.size());
                        return n;
                      }()},
                     {"samples_dropped", duplicates_dropped},
                     {"list", groups}};
  j["counts"] = counts;
  j["notes"] = notes;
  return j;
}

std::string Report::to_text() const {
  std::ostringstream os;
  os << source << " at " << root << ": " << entries << " entries, " << usable << " usable samples\n";
  os << "malformed: " << malformed.size() << "\n";
  for (const auto& p : malformed)
    os << "  " << p.name << ": " << p.reason << (p.kept ? " (kept: labels usable)" : " (skipped)") << "\n";
  os << "skipped: " << skipped.size() << "\n";
  for (const auto& p : skipped) os << "  " << p.name << ": " << p.reason << "\n";
  int64_t files = 0;
  for (const auto& g : duplicates) files += int64_t(g.names.size());
  os << "duplicate groups (byte-identical files): " << duplicates.size() << " holding " << files << " files, "
     << conflicting_groups() << " with conflicting labels; " << duplicates_dropped << " samples dropped\n";
  for (const auto& g : duplicates) {
    os << "  " << hex64(g.hash) << (g.conflict ? " CONFLICT" : " agree   ");
    for (size_t i = 0; i < g.names.size(); ++i) os << "  " << g.names[i] << " [" << g.labels[i] << "]";
    os << "  -> kept: " << (g.kept.empty() ? std::string("none") : g.kept.front()) << "\n";
  }
  if (!counts.empty()) {
    os << "counts:\n";
    for (const auto& [k, v] : counts) os << "  " << k << ": " << v << "\n";
  }
  for (const auto& n : notes) os << "note: " << n << "\n";
  return os.str();
}

void scan_contents(Dataset& ds, Report& report, DuplicatePolicy policy, bool decode) {
  // 1. Read, check and hash every sample.
  std::vector<Sample> ok;
  ok.reserve(ds.samples.size());
  std::vector<uint8_t> bytes;
  for (auto& s : ds.samples) {
    if (s.pixels) {
      s.file_size = int64_t(s.pixels->pixels.size());
      s.content_hash = hash64(s.pixels->pixels.data(), s.pixels->pixels.size(),
                              uint64_t(s.pixels->w) << 32 | uint64_t(s.pixels->h) << 8 | uint64_t(s.pixels->c));
      ok.push_back(std::move(s));
      continue;
    }
    std::string error;
    if (!read_file_bytes(s.path, bytes, error)) {
      report.skip(s.name, error);
      report.count("skipped: unreadable file");
      continue;
    }
    const std::string flaw = check_image_bytes(bytes.data(), bytes.size());
    if (!flaw.empty()) {
      report.skip(s.name, flaw);
      report.count("skipped: bad image file");
      continue;
    }
    if (decode) {
      Image img;
      if (!decode_image(bytes.data(), bytes.size(), 3, img, error, s.name)) {
        report.skip(s.name, error);
        report.count("skipped: bad image file");
        continue;
      }
    }
    s.file_size = int64_t(bytes.size());
    s.content_hash = hash64(bytes.data(), bytes.size());
    ok.push_back(std::move(s));
  }
  ds.samples = std::move(ok);

  // 2. Group by (size, hash); confirm equal bytes within each candidate group (a hash collision splits it).
  std::unordered_map<uint64_t, std::vector<size_t>> by_key;
  for (size_t i = 0; i < ds.samples.size(); ++i)
    by_key[ds.samples[i].content_hash ^ mix64(uint64_t(ds.samples[i].file_size))].push_back(i);
  std::vector<std::vector<size_t>> groups;
  for (auto& [key, members] : by_key) {
    if (members.size() < 2) continue;
    std::vector<std::vector<size_t>> exact;  // sub-groups of identical content
    std::vector<std::vector<uint8_t>> heads;
    for (size_t i : members) {
      const Sample& s = ds.samples[i];
      std::vector<uint8_t> b;
      std::string error;
      if (s.pixels) b = s.pixels->pixels;
      else if (!read_file_bytes(s.path, b, error)) b.clear();
      size_t g = 0;
      while (g < heads.size() && heads[g] != b) ++g;
      if (g == heads.size()) heads.push_back(std::move(b)), exact.emplace_back();
      exact[g].push_back(i);
    }
    for (auto& e : exact)
      if (e.size() >= 2) groups.push_back(std::move(e));
  }
  for (auto& g : groups)
    std::sort(g.begin(), g.end(), [&](size_t a, size_t b) { return ds.samples[a].name < ds.samples[b].name; });
  std::sort(groups.begin(), groups.end(),
            [&](const auto& a, const auto& b) { return ds.samples[a[0]].name < ds.samples[b[0]].name; });

  // 3. Record and apply the policy.
  std::vector<bool> drop(ds.samples.size(), false);
  for (const auto& members : groups) {
    DuplicateGroup g;
    g.hash = ds.samples[members[0]].content_hash;
    g.size = ds.samples[members[0]].file_size;
    for (size_t i : members) {
      g.names.push_back(ds.samples[i].name);
      g.labels.push_back(label_string(ds.samples[i]));
      ds.samples[i].dup_group = int(report.duplicates.size());
    }
    g.conflict = std::any_of(g.labels.begin(), g.labels.end(), [&](const std::string& l) { return l != g.labels[0]; });
    for (size_t k = 0; k < members.size(); ++k) {
      bool keep = policy == DuplicatePolicy::keep_all || k == 0;
      if (policy == DuplicatePolicy::drop_conflicts && g.conflict) keep = false;
      if (keep) g.kept.push_back(g.names[k]);
      else drop[members[k]] = true;
    }
    report.duplicates.push_back(std::move(g));
  }
  std::vector<Sample> kept;
  kept.reserve(ds.samples.size());
  for (size_t i = 0; i < ds.samples.size(); ++i) {
    if (drop[i]) ++report.duplicates_dropped;
    else kept.push_back(std::move(ds.samples[i]));
  }
  ds.samples = std::move(kept);
  report.usable = int64_t(ds.samples.size());
}

}  // namespace facet::data
