#include "data/labels.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <stdexcept>

#include "data/attributes.h"
#include "data/readers.h"
#include "data/text_split.h"

namespace facet::data {
namespace {

// Edges of each named age part (lower edges in years; see docs/data.md for why these).
const std::map<std::string, std::vector<int>>& age_presets() {
  static const std::map<std::string, std::vector<int>> presets = {
      {"bin10", {0, 10, 20, 30, 40, 50, 60, 70, 80, 90}},     // 0-9 ... 80-89, 90+
      {"intuition", {0, 3, 13, 20, 35, 50, 65}},              // baby, child, teen, young adult, adult, middle, senior
      {"groups10", {0, 2, 4, 9, 14, 19, 25, 35, 45, 59}},     // study C's ten groups
      {"seed000", {7, 13, 20, 30, 45, 60}},                   // study A: under 7 dropped, ordinal ranges
  };
  return presets;
}

const std::vector<std::string> kGroups10Names = {"Baby 0-1",      "Toddler 2-3",      "Child 4-8",     "Adolescent 9-13",
                                                 "Teenager 14-18", "Young Adult 19-24", "Adult 25-34",  "Mature Adult 35-44",
                                                 "Middle Age 45-58", "Senior 59+"};

bool is_edge_list(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c) || c == ',' || c == ' '; });
}

std::vector<int> parse_edges(const std::string& text) {
  std::vector<int> edges;
  for (const auto& item : split_on(text, ',')) {
    std::string t;
    for (char c : item)
      if (c != ' ') t += c;
    if (t.empty() || t.size() > 3)
      throw std::invalid_argument("age edges '" + text + "': '" + item + "' is not an age (write e.g. 0,7,13,20,30,45,60)");
    edges.push_back(std::stoi(t));
  }
  for (size_t i = 1; i < edges.size(); ++i)
    if (edges[i] <= edges[i - 1])
      throw std::invalid_argument("age edges '" + text + "' must increase strictly (" + std::to_string(edges[i - 1]) +
                                  " then " + std::to_string(edges[i]) + ")");
  if (edges.back() > kMaxAge)
    throw std::invalid_argument("age edges '" + text + "': " + std::to_string(edges.back()) + " is above the oldest age " +
                                std::to_string(kMaxAge));
  return edges;
}

const char* const kAccepted =
    "accepted: seed000, bin10, balanced[:K], intuition, groups10, adience8, gender, race, 2hot, tuple, custom "
    "lower age edges like 0,7,13,20,30,45,60, or parts joined by '+' (e.g. groups10+gender)";

}  // namespace

std::vector<std::string> scheme_presets() {
  return {"seed000", "bin10", "balanced", "intuition", "groups10", "adience8", "gender", "race", "2hot", "tuple"};
}

std::vector<std::string> age_class_names(const std::vector<int>& edges) {
  std::vector<std::string> names;
  for (size_t i = 0; i < edges.size(); ++i)
    names.push_back(i + 1 < edges.size()
                        ? (edges[i] == edges[i + 1] - 1 ? std::to_string(edges[i])
                                                        : std::to_string(edges[i]) + "-" + std::to_string(edges[i + 1] - 1))
                        : std::to_string(edges[i]) + "+");
  return names;
}

std::vector<int> quantile_edges(std::vector<int> ages, int k) {
  if (k < 2) throw std::invalid_argument("balanced: need at least 2 bins (write balanced:K with K >= 2)");
  if (ages.empty()) throw std::invalid_argument("balanced: its edges are computed from the data, and no ages were given");
  std::sort(ages.begin(), ages.end());
  const size_t n = ages.size();
  std::vector<int> edges{0};
  for (int i = 1; i < k; ++i) {
    // The cut lies inside the run of the age at sorted position ceil(i*n/k)-1: put it before or after that run,
    // whichever leaves the count below closer to i*n/k (after, on a tie).
    const double want = double(i) * double(n) / k;
    const size_t pos = std::min(n, size_t(std::ceil(want))) - (want > 0 ? 1 : 0);
    const int age = ages[pos];
    const double before = double(std::lower_bound(ages.begin(), ages.end(), age) - ages.begin());
    const double after = double(std::upper_bound(ages.begin(), ages.end(), age) - ages.begin());
    const int edge = (want - before < after - want) ? age : age + 1;
    // Keep a cut only when it leaves samples on both sides and at least one since the previous cut.
    const auto below = [&](int e) { return std::lower_bound(ages.begin(), ages.end(), e) - ages.begin(); };
    if (edge > edges.back() && below(edge) > below(edges.back()) && size_t(below(edge)) < n) edges.push_back(edge);
  }
  return edges;
}

int LabelScheme::task_index(const std::string& task_name) const {
  for (size_t t = 0; t < tasks.size(); ++t)
    if (tasks[t].name == task_name) return int(t);
  return -1;
}

int LabelScheme::age_class(int years) const {
  if (years < 0) return -1;
  if (age_kind == "adience8") return adience_group_of_age(years);
  if (age_edges.empty() || years < age_edges.front()) return -1;
  return int(std::upper_bound(age_edges.begin(), age_edges.end(), years) - age_edges.begin()) - 1;
}

bool LabelScheme::label(const Sample& s, std::vector<int32_t>& classes, std::vector<float>& targets,
                        std::string& why) const {
  if (kind == "attributes") return label_attributes(*this, s, classes, targets, why);
  classes.assign(tasks.size(), -1);
  targets.clear();
  if (age_task >= 0) {
    int c = -1;
    if (age_kind == "adience8") c = s.age_group >= 0 ? s.age_group : age_class(s.age);
    else if (s.age >= 0) c = age_class(s.age);
    if (c < 0) {
      if (s.age >= 0) why = "age " + std::to_string(s.age) + " under the first edge " + std::to_string(age_edges.front());
      else if (s.age_group >= 0) why = "no exact age (Adience gives an age group; use adience8)";
      else why = "no age label";
      return false;
    }
    classes[age_task] = c;
  }
  if (gender_task >= 0) {
    if (s.gender < 0) return why = "no gender label", false;
    classes[gender_task] = s.gender;
  }
  if (race_task >= 0) {
    if (s.race < 0) return why = "no race label", false;
    classes[race_task] = s.race;
  }
  if (target_kind == "2hot") {
    targets.assign(10, 0.0f);
    targets[classes[age_task]] = 1.0f;
    targets[8 + classes[gender_task]] = 1.0f;
  } else if (target_kind == "tuple") {
    targets = {float(classes[age_task]), float(classes[gender_task])};
  }
  return true;
}

nlohmann::json LabelScheme::to_json() const {
  nlohmann::json t = nlohmann::json::array();
  for (const auto& task : tasks) {
    t.push_back({{"name", task.name}, {"classes", task.classes}});
    if (!task.edges.empty()) t.back()["edges"] = task.edges;
  }
  nlohmann::json j = {{"name", name}, {"age_kind", age_kind}, {"age_edges", age_edges}, {"tasks", t},
                      {"target_kind", target_kind}, {"target_dim", target_dim}};
  if (!kind.empty()) j["kind"] = kind;  // absent for face schemes: their saved form is unchanged
  return j;
}

LabelScheme LabelScheme::from_json(const nlohmann::json& j) {
  LabelScheme s;
  s.name = j.at("name").get<std::string>();
  s.age_kind = j.at("age_kind").get<std::string>();
  s.age_edges = j.at("age_edges").get<std::vector<int>>();
  s.target_kind = j.at("target_kind").get<std::string>();
  s.target_dim = j.at("target_dim").get<int>();
  s.kind = j.value("kind", std::string());
  for (const auto& t : j.at("tasks")) {
    s.tasks.push_back({t.at("name").get<std::string>(), t.at("classes").get<std::vector<std::string>>(),
                       t.value("edges", std::vector<double>{})});
    if (s.kind == "attributes") continue;  // its tasks are columns, whatever their names
    const std::string& n = s.tasks.back().name;
    const int idx = int(s.tasks.size()) - 1;
    if (n == "age") s.age_task = idx;
    else if (n == "gender") s.gender_task = idx;
    else if (n == "race") s.race_task = idx;
  }
  return s;
}

LabelScheme make_scheme(const std::string& spec_in, const std::vector<int>& ages) {
  std::string spec = spec_in;
  LabelScheme s;
  s.name = spec_in;
  if (spec == "seed000") spec = "7,13,20,30,45,60+gender+race";
  if (spec == "2hot" || spec == "tuple") {
    s.target_kind = spec;
    s.target_dim = spec == "2hot" ? 10 : 2;
    spec = "adience8+gender";
  }
  if (spec.empty()) throw std::invalid_argument(std::string("empty label scheme; ") + kAccepted);
  for (const auto& part : split_on(spec, '+')) {
    const int idx = int(s.tasks.size());
    auto age_part = [&](std::vector<int> edges, std::string kind, std::vector<std::string> names) {
      if (s.age_task >= 0) throw std::invalid_argument("label scheme '" + spec_in + "' has two age parts");
      s.age_task = idx;
      s.age_kind = std::move(kind);
      s.age_edges = std::move(edges);
      s.tasks.push_back({"age", names.empty() ? age_class_names(s.age_edges) : std::move(names), {}});
    };
    if (part == "gender") {
      if (s.gender_task >= 0) throw std::invalid_argument("label scheme '" + spec_in + "' names gender twice");
      s.gender_task = idx;
      s.tasks.push_back({"gender", {kGenderNames[0], kGenderNames[1]}, {}});
    } else if (part == "race") {
      if (s.race_task >= 0) throw std::invalid_argument("label scheme '" + spec_in + "' names race twice");
      s.race_task = idx;
      s.tasks.push_back({"race", {kRaceNames[0], kRaceNames[1], kRaceNames[2], kRaceNames[3], kRaceNames[4]}, {}});
    } else if (part == "adience8") {
      std::vector<std::string> names;
      for (int g = 0; g < kAdienceGroups; ++g)
        names.push_back(std::to_string(kAdienceLo[g]) + "-" + std::to_string(kAdienceHi[g]));
      age_part({0, 4, 8, 14, 23, 36, 46, 57}, "adience8", names);
    } else if (part == "groups10") {
      age_part(age_presets().at(part), "edges", kGroups10Names);
    } else if (part == "bin10" || part == "intuition") {
      age_part(age_presets().at(part), "edges", {});
    } else if (part == "balanced" || part.rfind("balanced:", 0) == 0) {
      int k = 10;
      if (part.size() > 9) {
        const std::string kt = part.substr(9);
        if (kt.empty() || kt.size() > 3 || !std::all_of(kt.begin(), kt.end(), ::isdigit))
          throw std::invalid_argument("label scheme part '" + part + "': K must be a number (balanced:8)");
        k = std::stoi(kt);
      }
      age_part(quantile_edges(ages, k), "edges", {});
    } else if (is_edge_list(part)) {
      age_part(parse_edges(part), "edges", {});
    } else {
      throw std::invalid_argument("label scheme '" + spec_in + "': unknown part '" + part + "'; " + kAccepted);
    }
  }
  return s;
}

std::map<std::string, int64_t> apply_scheme(Dataset& ds, const LabelScheme& scheme) {
  check_columns(ds, scheme);
  std::map<std::string, int64_t> dropped;
  std::vector<Sample> kept;
  kept.reserve(ds.samples.size());
  std::string why;
  for (auto& s : ds.samples) {
    if (scheme.label(s, s.labels, s.targets, why)) {
      kept.push_back(std::move(s));
    } else {
      // Count by the kind of reason (ages vary, the reason class does not).
      std::string key = why;
      if (key.rfind("age ", 0) == 0 && key.find("under the first edge") != std::string::npos)
        key = "age under the first edge " + std::to_string(scheme.age_edges.front());
      ++dropped[key];
    }
  }
  ds.samples = std::move(kept);
  return dropped;
}

std::vector<int64_t> class_counts(const Dataset& ds, const LabelScheme& scheme, int task) {
  std::vector<int64_t> counts(scheme.tasks.at(size_t(task)).classes.size(), 0);
  for (const auto& s : ds.samples)
    if (size_t(task) < s.labels.size() && s.labels[size_t(task)] >= 0) ++counts[size_t(s.labels[size_t(task)])];
  return counts;
}

}  // namespace facet::data
