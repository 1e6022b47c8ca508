#include "data/balance.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <stdexcept>

#include "data/rng.h"

namespace facet::data {
namespace {

std::vector<std::vector<size_t>> by_class(const Dataset& ds, int task, size_t classes) {
  std::vector<std::vector<size_t>> out(classes);
  for (size_t i = 0; i < ds.samples.size(); ++i) {
    const auto& l = ds.samples[i].labels;
    if (size_t(task) >= l.size() || l[size_t(task)] < 0 || size_t(l[size_t(task)]) >= classes)
      throw std::invalid_argument("balance: sample '" + ds.samples[i].name + "' has no label for task " +
                                  std::to_string(task) + " (apply the label scheme first)");
    out[size_t(l[size_t(task)])].push_back(i);
  }
  return out;
}

// Keeps `keep_count[c]` samples of each class c, chosen by a seeded shuffle; the kept samples stay in order.
Dataset keep_counts(const Dataset& ds, const std::vector<std::vector<size_t>>& classes,
                    const std::vector<size_t>& keep_count, uint64_t seed) {
  std::vector<bool> keep(ds.samples.size(), false);
  for (size_t c = 0; c < classes.size(); ++c) {
    std::vector<size_t> members = classes[c];
    Rng rng(derive_seed(seed, c));
    shuffle(members, rng);
    for (size_t k = 0; k < std::min(keep_count[c], members.size()); ++k) keep[members[k]] = true;
  }
  Dataset out;
  out.source = ds.source, out.root = ds.root;
  for (size_t i = 0; i < ds.samples.size(); ++i)
    if (keep[i]) out.samples.push_back(ds.samples[i]);
  return out;
}

size_t max_label(const Dataset& ds, int task) {
  int32_t m = -1;
  for (const auto& s : ds.samples)
    if (size_t(task) < s.labels.size()) m = std::max(m, s.labels[size_t(task)]);
  return size_t(m + 1);
}

}  // namespace

Dataset undersample(const Dataset& ds, int task, int cls, double keep, uint64_t seed) {
  if (keep < 0 || keep > 1) throw std::invalid_argument("undersample: keep fraction " + std::to_string(keep) + " not in [0, 1]");
  const auto classes = by_class(ds, task, std::max(max_label(ds, task), size_t(cls) + 1));
  std::vector<size_t> counts;
  for (const auto& c : classes) counts.push_back(c.size());
  counts[size_t(cls)] = size_t(std::lround(keep * double(classes[size_t(cls)].size())));
  return keep_counts(ds, classes, counts, seed);
}

Dataset undersample_to_smallest(const Dataset& ds, int task, uint64_t seed) {
  const auto classes = by_class(ds, task, max_label(ds, task));
  size_t smallest = SIZE_MAX;
  for (const auto& c : classes)
    if (!c.empty()) smallest = std::min(smallest, c.size());
  return keep_counts(ds, classes, std::vector<size_t>(classes.size(), smallest), seed);
}

std::vector<double> inverse_frequency_weights(const Dataset& ds, int task) {
  const auto classes = by_class(ds, task, max_label(ds, task));
  std::vector<double> w(ds.samples.size(), 0.0);
  for (const auto& c : classes)
    for (size_t i : c) w[i] = 1.0 / double(c.size());
  return w;
}

Balanced balance(const Dataset& ds, const LabelScheme& scheme, const std::string& spec, uint64_t seed) {
  const char* accepted = "use none, undersample:<task>:<class>:<keep>, smallest:<task> or weighted:<task> "
                         "(e.g. undersample:race:0:0.5)";
  std::vector<std::string> parts;
  for (size_t start = 0;;) {
    const size_t end = spec.find(':', start);
    parts.push_back(spec.substr(start, end == std::string::npos ? std::string::npos : end - start));
    if (end == std::string::npos) break;
    start = end + 1;
  }
  Balanced out;
  if (spec.empty() || spec == "none") {
    out.data = ds;
    out.how = "no balancing";
    return out;
  }
  if (parts.size() < 2) throw std::invalid_argument("balance '" + spec + "': " + accepted);
  const int task = scheme.task_index(parts[1]);
  if (task < 0)
    throw std::invalid_argument("balance '" + spec + "': the label scheme '" + scheme.name + "' has no task '" +
                                parts[1] + "'");
  const size_t before = ds.size();
  if (parts[0] == "undersample" && parts.size() == 4) {
    char* end = nullptr;
    const long cls = std::strtol(parts[2].c_str(), &end, 10);
    if (parts[2].empty() || *end || cls < 0 || size_t(cls) >= scheme.tasks[size_t(task)].classes.size())
      throw std::invalid_argument("balance '" + spec + "': class '" + parts[2] + "' is not a class index of " + parts[1]);
    const double keep = std::strtod(parts[3].c_str(), &end);
    if (parts[3].empty() || *end) throw std::invalid_argument("balance '" + spec + "': keep '" + parts[3] + "' is not a number");
    out.data = undersample(ds, task, int(cls), keep, seed);
    out.how = "kept " + parts[3] + " of " + parts[1] + " class " + scheme.tasks[size_t(task)].classes[size_t(cls)];
  } else if (parts[0] == "smallest" && parts.size() == 2) {
    out.data = undersample_to_smallest(ds, task, seed);
    out.how = "every " + parts[1] + " class undersampled to the smallest";
  } else if (parts[0] == "weighted" && parts.size() == 2) {
    out.data = ds;
    out.weights = inverse_frequency_weights(ds, task);
    out.how = "weighted sampling by inverse " + parts[1] + " class frequency";
  } else {
    throw std::invalid_argument("balance '" + spec + "': " + accepted);
  }
  out.how += " (" + std::to_string(before) + " -> " + std::to_string(out.data.size()) + " samples, seed " +
             std::to_string(seed) + ")";
  return out;
}

}  // namespace facet::data
