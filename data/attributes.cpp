#include "data/attributes.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <set>
#include <stdexcept>

#include "data/readers.h"
#include "data/text_split.h"

namespace facet::data {
namespace {

// A finite number spelled in full by `text` (no trailing characters); false otherwise.
bool parse_number(const std::string& text, double& v) {
  if (text.empty() || text.size() > 64) return false;
  char* end = nullptr;
  v = std::strtod(text.c_str(), &end);
  return end == text.c_str() + text.size() && std::isfinite(v);
}

std::string joined(const std::vector<std::string>& v, size_t max_items = 12) {
  std::string s;
  for (size_t i = 0; i < v.size() && i < max_items; ++i) s += (i ? ", " : "") + v[i];
  if (v.size() > max_items) s += ", ... (" + std::to_string(v.size()) + " in all)";
  return s;
}

std::string number_text(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

// "0-6", ..., "60+" for whole-number edges (as the age schemes name them), else "[0.5, 1.5)", ..., ">= 2.5".
std::vector<std::string> bin_names(const std::vector<double>& edges) {
  const bool whole = std::all_of(edges.begin(), edges.end(), [](double e) { return e == std::floor(e) && std::fabs(e) < 1e9; });
  std::vector<std::string> names;
  for (size_t i = 0; i < edges.size(); ++i) {
    const bool last = i + 1 == edges.size();
    if (whole) {
      const long lo = long(edges[i]);
      const long hi = last ? 0 : long(edges[i + 1]) - 1;
      names.push_back(last ? std::to_string(lo) + "+" : lo == hi ? std::to_string(lo) : std::to_string(lo) + "-" + std::to_string(hi));
    } else {
      names.push_back(last ? ">= " + number_text(edges[i]) : "[" + number_text(edges[i]) + ", " + number_text(edges[i + 1]) + ")");
    }
  }
  return names;
}

std::vector<double> parse_bin_edges(const std::string& part, const std::string& text) {
  std::vector<double> edges;
  for (const auto& item : split_on(text, ',')) {
    double v = 0;
    if (!parse_number(item, v))
      throw std::invalid_argument("--labels part '" + part + "': edge '" + item +
                                  "' is not a number (write e.g. age:edges=0,7,13,20)");
    if (!edges.empty() && v <= edges.back())
      throw std::invalid_argument("--labels part '" + part + "': edges must increase strictly (" +
                                  number_text(edges.back()) + " then " + number_text(v) + ")");
    edges.push_back(v);
  }
  if (edges.size() > 1000) throw std::invalid_argument("--labels part '" + part + "': more than 1000 edges");
  return edges;
}

// Sorted distinct values of one column: numerically when every value is a number, else by bytes.
std::vector<std::string> distinct_values(const Dataset& ds, const std::string& column) {
  std::set<std::string> seen;
  for (const auto& s : ds.samples)
    if (auto it = s.attributes.find(column); it != s.attributes.end()) seen.insert(it->second);
  std::vector<std::string> v(seen.begin(), seen.end());
  double a = 0, b = 0;
  if (std::all_of(v.begin(), v.end(), [&](const std::string& x) { return parse_number(x, a); }))
    std::stable_sort(v.begin(), v.end(), [&](const std::string& x, const std::string& y) {
      parse_number(x, a), parse_number(y, b);
      return a < b;
    });
  return v;
}

std::string where_of(const Dataset& ds) { return ds.source + " '" + ds.root + "'"; }

}  // namespace

bool has_attribute_columns(const Dataset& ds) { return ds.source == "folder" || ds.source == "manifest"; }

bool attribute_format(const std::string& path, const std::string& format) {
  Format f = parse_format(format);
  std::error_code ec;
  if (f == Format::detect && std::filesystem::exists(path, ec)) f = detect_format(path);
  return f == Format::folder || f == Format::manifest;
}

LabelScheme make_attribute_scheme(const Dataset& ds, const std::string& spec) {
  LabelScheme scheme;
  scheme.name = spec.empty() ? "all" : spec;
  scheme.kind = "attributes";
  std::map<std::string, std::vector<double>> edges;
  std::set<std::string> skip;
  for (const auto& part : split_on(spec, '+')) {
    if (part.empty() || part == "all") continue;
    const size_t colon = part.find(':');
    const std::string column = part.substr(0, colon);
    if (std::find(ds.columns.begin(), ds.columns.end(), column) == ds.columns.end())
      throw std::invalid_argument("--labels part '" + part + "': " + where_of(ds) + " has no column '" + column +
                                  "'; its columns: " + joined(ds.columns) +
                                  " (write COLUMN, COLUMN:edges=0,7,13 or COLUMN:skip, joined by '+', or all)");
    if (colon == std::string::npos) continue;
    const std::string how = part.substr(colon + 1);
    if (how == "skip") skip.insert(column);
    else if (how.rfind("edges=", 0) == 0) edges[column] = parse_bin_edges(part, how.substr(6));
    else
      throw std::invalid_argument("--labels part '" + part + "': '" + how +
                                  "' is not a way to read a column (write " + column + ":edges=0,7,13 or " + column +
                                  ":skip)");
  }
  for (const auto& column : ds.columns) {
    if (skip.count(column)) continue;
    Task t;
    t.name = column;
    if (auto it = edges.find(column); it != edges.end()) {
      t.edges = it->second;
      t.classes = bin_names(t.edges);
    } else {
      t.classes = distinct_values(ds, column);
      if (t.classes.empty())
        throw std::invalid_argument("column '" + column + "' of " + where_of(ds) +
                                    " has no value in any usable row: fill it in, or leave it out with --labels " +
                                    column + ":skip");
    }
    scheme.tasks.push_back(std::move(t));
  }
  if (scheme.tasks.empty())
    throw std::invalid_argument("--labels '" + spec + "' leaves no column of " + where_of(ds) + " to learn");
  return scheme;
}

LabelScheme scheme_for(const Dataset& ds, const std::string& spec) {
  if (has_attribute_columns(ds)) return make_attribute_scheme(ds, spec);
  std::vector<int> ages;
  for (const auto& s : ds.samples)
    if (s.age >= 0) ages.push_back(s.age);
  return make_scheme(spec, ages);
}

bool label_attributes(const LabelScheme& scheme, const Sample& s, std::vector<int32_t>& classes,
                      std::vector<float>& targets, std::string& why) {
  classes.assign(scheme.tasks.size(), -1);
  targets.clear();
  bool any = false;
  for (size_t t = 0; t < scheme.tasks.size(); ++t) {
    const Task& task = scheme.tasks[t];
    const auto it = s.attributes.find(task.name);
    if (it == s.attributes.end()) continue;  // blank cell: no label for this head
    const std::string& value = it->second;
    const std::string where = (s.origin.empty() ? s.name : s.origin) + ", column '" + task.name + "'";
    if (!task.edges.empty()) {
      double v = 0;
      if (!parse_number(value, v))
        throw std::invalid_argument(where + ": '" + value + "' is not a number, and --labels bins this column (" +
                                    task.name + ":edges=...); fix the cell or leave it blank");
      classes[t] = int32_t(std::upper_bound(task.edges.begin(), task.edges.end(), v) - task.edges.begin()) - 1;
    } else {
      const auto c = std::find(task.classes.begin(), task.classes.end(), value);
      if (c == task.classes.end())
        throw std::invalid_argument(where + ": class '" + value + "' is not one of the " +
                                    std::to_string(task.classes.size()) + " classes of the label scheme (" +
                                    joined(task.classes) + "); a trained model cannot predict a class it never saw: "
                                    "leave the cell blank, drop the row, or train again on data that has it");
      classes[t] = int32_t(c - task.classes.begin());
    }
    any = any || classes[t] >= 0;
  }
  if (!any) why = "no label for any head (blank cells or values under the first edge)";
  return any;
}

void check_columns(const Dataset& ds, const LabelScheme& scheme) {
  const bool columns = has_attribute_columns(ds);
  if (scheme.kind != "attributes") {
    if (columns)
      throw std::invalid_argument("label scheme '" + scheme.name + "' reads face labels (age, gender, race), and " +
                                  where_of(ds) + " has columns (" + joined(ds.columns) +
                                  "): label it by its columns (--labels all, or COLUMN:edges=...)");
    return;
  }
  if (!columns)
    throw std::invalid_argument("label scheme '" + scheme.name + "' reads the columns of an image folder or manifest, "
                                "and " + where_of(ds) + " is neither (pass --format folder or --format manifest)");
  for (const auto& task : scheme.tasks)
    if (std::find(ds.columns.begin(), ds.columns.end(), task.name) == ds.columns.end())
      throw std::invalid_argument(where_of(ds) + (ds.source == "manifest" ? ", line 1 (the header)" : "") +
                                  ": no column '" + task.name + "', which the label scheme (the model's head '" +
                                  task.name + "') needs; its columns: " + joined(ds.columns));
}

std::vector<std::string> column_notes(const Dataset& ds, const LabelScheme& scheme) {
  std::vector<std::string> notes;
  if (scheme.kind != "attributes") return notes;
  for (const auto& column : ds.columns)
    if (std::none_of(scheme.tasks.begin(), scheme.tasks.end(), [&](const Task& t) { return t.name == column; }))
      notes.push_back("column '" + column + "' of " + where_of(ds) + ": not a head of the label scheme, ignored");
  return notes;
}

nlohmann::json class_map(const LabelScheme& scheme) {
  nlohmann::json tasks = nlohmann::json::array();
  for (const auto& t : scheme.tasks) {
    nlohmann::json index = nlohmann::json::object();
    for (size_t c = 0; c < t.classes.size(); ++c) index[t.classes[c]] = c;
    nlohmann::json j = {{"name", t.name}, {"classes", t.classes}, {"index", index}};
    if (!t.edges.empty()) j["edges"] = t.edges;
    tasks.push_back(std::move(j));
  }
  return {{"scheme", scheme.name}, {"tasks", tasks}};
}

}  // namespace facet::data
