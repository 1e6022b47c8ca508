#include "models/training/metrics.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>

namespace facet {

Metrics::Metrics(std::vector<AttributeSpec> attributes, std::vector<GroupingSpec> groupings)
    : groupings_(std::move(groupings)) {
  for (auto& spec : attributes) {
    if (spec.classes.empty()) throw std::invalid_argument("Metrics: attribute '" + spec.name + "' has no classes");
    AttributeResult r;
    const size_t c = spec.classes.size();
    r.confusion.assign(c, std::vector<int64_t>(c + 1, 0));
    r.by_distance.assign(c, 0);
    r.spec = std::move(spec);
    results_.push_back(std::move(r));
  }
  for (const auto& g : groupings_) {
    std::vector<GroupResult> values;
    for (const auto& v : g.values)
      values.push_back({v, 0, std::vector<int64_t>(results_.size(), 0), std::vector<int64_t>(results_.size(), 0),
                        std::vector<int64_t>(results_.size(), 0)});
    groups_.push_back(std::move(values));
  }
}

int Metrics::attribute_index(const std::string& name) const {
  for (size_t a = 0; a < results_.size(); ++a)
    if (results_[a].spec.name == name) return int(a);
  return -1;
}

void Metrics::check_add(const std::vector<std::vector<int32_t>>& truth,
                        const std::vector<std::vector<int32_t>>& pred, const std::vector<std::vector<int32_t>>& groups,
                        const std::vector<std::vector<uint8_t>>& defined) const {
  if (truth.size() != results_.size() || pred.size() != results_.size())
    throw std::invalid_argument("Metrics::add: " + std::to_string(truth.size()) + " truth and " +
                                std::to_string(pred.size()) + " prediction lists for " +
                                std::to_string(results_.size()) + " attributes");
  if (!groups.empty() && groups.size() != groupings_.size())
    throw std::invalid_argument("Metrics::add: " + std::to_string(groups.size()) + " group lists for " +
                                std::to_string(groupings_.size()) + " groupings");
  const size_t n = truth.empty() ? 0 : truth[0].size();
  for (size_t a = 0; a < results_.size(); ++a)
    if (truth[a].size() != n || pred[a].size() != n)
      throw std::invalid_argument("Metrics::add: attribute '" + results_[a].spec.name + "' has " +
                                  std::to_string(truth[a].size()) + " truths and " + std::to_string(pred[a].size()) +
                                  " predictions; the batch has " + std::to_string(n));
  if (!defined.empty() && defined.size() != results_.size())
    throw std::invalid_argument("Metrics::add: " + std::to_string(defined.size()) + " reject-rule lists for " +
                                std::to_string(results_.size()) + " attributes");
  for (size_t a = 0; a < defined.size(); ++a)
    if (defined[a].size() != n)
      throw std::invalid_argument("Metrics::add: attribute '" + results_[a].spec.name + "' has " +
                                  std::to_string(defined[a].size()) + " reject-rule flags; the batch has " +
                                  std::to_string(n));
  for (size_t g = 0; g < groups.size(); ++g)
    if (groups[g].size() != n)
      throw std::invalid_argument("Metrics::add: grouping '" + groupings_[g].name + "' has " +
                                  std::to_string(groups[g].size()) + " values for " + std::to_string(n) + " samples");

  auto check = [&](size_t a, size_t i, int32_t v, const char* what) {
    const int c = int(results_[a].spec.classes.size());
    if (v < -1 || v >= c)
      throw std::invalid_argument("Metrics::add: attribute '" + results_[a].spec.name + "' sample " + std::to_string(i) +
                                  ": " + what + " class " + std::to_string(v) + " is outside -1.." +
                                  std::to_string(c - 1));
  };
  for (size_t i = 0; i < n; ++i) {
    for (size_t a = 0; a < results_.size(); ++a) {
      check(a, i, truth[a][i], "true");
      check(a, i, pred[a][i], "predicted");
    }
    for (size_t g = 0; g < groups.size(); ++g) {
      const int32_t v = groups[g][i];
      if (v < -1 || v >= int32_t(groups_[g].size()))
        throw std::invalid_argument("Metrics::add: grouping '" + groupings_[g].name + "' sample " + std::to_string(i) +
                                    ": value " + std::to_string(v) + " is outside -1.." +
                                    std::to_string(groups_[g].size() - 1));
    }
  }
}

void Metrics::add(const std::vector<std::vector<int32_t>>& truth, const std::vector<std::vector<int32_t>>& pred,
                  const std::vector<std::vector<int32_t>>& groups, const std::vector<std::vector<uint8_t>>& defined) {
  check_add(truth, pred, groups, defined);
  const size_t n = truth.empty() ? 0 : truth[0].size();
  for (size_t a = 0; a < results_.size(); ++a) {
    AttributeResult& r = results_[a];
    const int c = int(r.spec.classes.size());
    r.reject_rule = r.reject_rule || !defined.empty();
    for (size_t i = 0; i < n; ++i) {
      const int32_t t = truth[a][i], p = pred[a][i];
      if (t < 0) continue;
      ++r.n;
      if (!defined.empty() && defined[a][i] && p >= 0) {
        ++r.kept;
        r.kept_correct += p == t;
      }
      if (p < 0) {
        ++r.undefined;
        ++r.confusion[size_t(t)][size_t(c)];
        continue;
      }
      const int d = std::abs(p - t);
      r.correct += d == 0;
      r.within_one += d <= 1;
      r.distance_sum += d;
      ++r.by_distance[size_t(d)];
      ++r.confusion[size_t(t)][size_t(p)];
    }
  }
  for (size_t g = 0; g < groups.size(); ++g) {
    for (size_t i = 0; i < n; ++i) {
      const int32_t v = groups[g][i];
      if (v < 0) continue;
      GroupResult& gr = groups_[g][size_t(v)];
      ++gr.n;
      for (size_t a = 0; a < results_.size(); ++a) {
        if (truth[a][i] < 0) continue;
        ++gr.labelled[a];
        gr.correct[a] += pred[a][i] == truth[a][i];
        gr.undefined[a] += pred[a][i] < 0;
      }
    }
  }
}

double Metrics::mean_accuracy() const {
  if (results_.empty()) return 0.0;
  double s = 0;
  for (const auto& r : results_) s += r.accuracy();
  return s / double(results_.size());
}

nlohmann::json Metrics::to_json() const {
  nlohmann::json j;
  j["attributes"] = nlohmann::json::array();
  for (const auto& r : results_) {
    nlohmann::json a = {{"name", r.spec.name},
                        {"classes", r.spec.classes},
                        {"ordinal", r.spec.ordinal},
                        {"n", r.n},
                        {"correct", r.correct},
                        {"accuracy", r.accuracy()},
                        {"undefined", r.undefined},
                        {"undefined_rate", r.undefined_rate()},
                        {"confusion", r.confusion},
                        {"confusion_columns", "predicted class 0..C-1, then undefined"}};
    if (r.reject_rule) {
      a["coverage"] = r.coverage();
      a["defined"] = r.kept;
      a["accuracy_when_defined"] = r.accuracy_when_defined();
    }
    if (r.spec.ordinal) {
      a["one_off"] = r.one_off();
      a["within_one"] = r.within_one;
      a["mean_abs_class_distance"] = r.mean_abs_distance();
      a["by_distance"] = r.by_distance;
    }
    j["attributes"].push_back(a);
  }
  j["mean_accuracy"] = mean_accuracy();
  if (has_loss()) j["loss"] = mean_loss();
  j["groups"] = nlohmann::json::object();
  for (size_t g = 0; g < groupings_.size(); ++g) {
    nlohmann::json rows = nlohmann::json::array();
    for (const auto& gr : groups_[g]) {
      nlohmann::json row = {{"value", gr.value}, {"n", gr.n}};
      for (size_t a = 0; a < results_.size(); ++a)
        row[results_[a].spec.name] = {{"n", gr.labelled[a]},
                                      {"correct", gr.correct[a]},
                                      {"undefined", gr.undefined[a]},
                                      {"accuracy", gr.accuracy(a)}};
      rows.push_back(row);
    }
    j["groups"][groupings_[g].name] = rows;
  }
  return j;
}

static std::string pct(double f) {
  char b[16];
  std::snprintf(b, sizeof b, "%.2f%%", 100.0 * f);
  return b;
}

static std::string pad(const std::string& s, size_t w, bool right = true) {
  if (s.size() >= w) return s;
  return right ? std::string(w - s.size(), ' ') + s : s + std::string(w - s.size(), ' ');
}

std::string confusion_text(const AttributeResult& r) {
  const size_t c = r.spec.classes.size();
  size_t name_w = 5, cell_w = 6;
  for (const auto& s : r.spec.classes) name_w = std::max(name_w, s.size());
  for (const auto& row : r.confusion)
    for (int64_t v : row) cell_w = std::max(cell_w, std::to_string(v).size() + 1);
  std::string out = pad("true\\pred", name_w + 2, false);
  for (size_t p = 0; p < c; ++p) out += pad(std::to_string(p), cell_w);
  out += pad("undef.", cell_w + 1) + pad("total", cell_w + 1) + "\n";
  for (size_t t = 0; t < c; ++t) {
    int64_t total = 0;
    for (int64_t v : r.confusion[t]) total += v;
    out += pad(std::to_string(t) + " " + r.spec.classes[t], name_w + 2, false);
    for (size_t p = 0; p <= c; ++p) out += pad(std::to_string(r.confusion[t][p]), cell_w + (p == c));
    out += pad(std::to_string(total), cell_w + 1) + "\n";
  }
  return out;
}

std::string Metrics::to_text() const {
  std::string out;
  if (has_loss()) out += "loss " + std::to_string(mean_loss()) + "\n";
  for (const auto& r : results_) {
    out += r.spec.name + ": accuracy " + pct(r.accuracy()) + " (" + std::to_string(r.correct) + " of " +
           std::to_string(r.n) + ")";
    if (r.spec.ordinal)
      out += ", one-off " + pct(r.one_off()) + ", mean |class error| " + std::to_string(r.mean_abs_distance());
    out += ", undefined " + std::to_string(r.undefined) + " (" + pct(r.undefined_rate()) + ")\n";
    if (r.reject_rule)
      out += "  reject rule: coverage " + pct(r.coverage()) + " (" + std::to_string(r.kept) + " of " +
             std::to_string(r.n) + " defined), accuracy when defined " + pct(r.accuracy_when_defined()) + "\n";
    out += confusion_text(r);
    if (r.spec.ordinal) {
      out += "  misclassification by distance (classes off: count, share of labelled)\n";
      for (size_t d = 0; d < r.by_distance.size(); ++d)
        if (r.by_distance[d] || d < 3)
          out += "    " + pad(std::to_string(d), 2) + ": " + pad(std::to_string(r.by_distance[d]), 7) + "  " +
                 pct(r.n ? double(r.by_distance[d]) / double(r.n) : 0.0) + "\n";
      out += "    undefined: " + std::to_string(r.undefined) + "\n";
    }
  }
  for (size_t g = 0; g < groupings_.size(); ++g) {
    // A grouping no sample has a value of (race, gender on a folder of cats and dogs) is no table at all.
    if (std::none_of(groups_[g].begin(), groups_[g].end(), [](const auto& gr) { return gr.n > 0; })) continue;
    out += "accuracy by " + groupings_[g].name + ":\n" + pad("", 12, false) + pad("n", 7);
    for (const auto& r : results_) out += pad(r.spec.name, 10);
    out += "\n";
    for (const auto& gr : groups_[g]) {
      out += "  " + pad(gr.value, 10, false) + pad(std::to_string(gr.n), 7);
      for (size_t a = 0; a < results_.size(); ++a) out += pad(gr.labelled[a] ? pct(gr.accuracy(a)) : "-", 10);
      out += "\n";
    }
  }
  return out;
}

}  // namespace facet
