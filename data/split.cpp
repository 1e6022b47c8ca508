#include "data/split.h"
#include "data/io/atomic_file.h"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>
#include <numeric>
#include <sstream>
#include <stdexcept>
#include <unordered_map>

#include "data/rng.h"

namespace facet::data {
namespace {

struct UnionFind {
  std::vector<size_t> parent;
  explicit UnionFind(size_t n) : parent(n) { std::iota(parent.begin(), parent.end(), size_t(0)); }
  size_t find(size_t x) {
    while (parent[x] != x) x = parent[x] = parent[parent[x]];
    return x;
  }
  void unite(size_t a, size_t b) {
    a = find(a), b = find(b);
    if (a != b) parent[std::max(a, b)] = std::min(a, b);
  }
};

std::string stratum_of(const Sample& s, int task) {
  if (task == -2 || s.labels.empty()) return "";
  if (task >= 0) return size_t(task) < s.labels.size() ? std::to_string(s.labels[size_t(task)]) : "";
  std::string key;
  for (int32_t l : s.labels) key += std::to_string(l) + ",";
  return key;
}

// The units (lists of sample indices) of `idx`: samples sharing a duplicate group, or a subject when asked.
std::vector<std::vector<size_t>> make_units(const Dataset& ds, const std::vector<size_t>& idx, bool subjects) {
  UnionFind uf(idx.size());
  std::unordered_map<int, size_t> by_group;
  std::unordered_map<std::string, size_t> by_subject;
  for (size_t k = 0; k < idx.size(); ++k) {
    const Sample& s = ds.samples[idx[k]];
    if (s.dup_group >= 0) {
      auto [it, fresh] = by_group.emplace(s.dup_group, k);
      if (!fresh) uf.unite(k, it->second);
    }
    if (subjects && !s.subject.empty()) {
      auto [it, fresh] = by_subject.emplace(s.subject, k);
      if (!fresh) uf.unite(k, it->second);
    }
  }
  std::map<size_t, std::vector<size_t>> units;  // keyed by root = smallest member: deterministic order
  for (size_t k = 0; k < idx.size(); ++k) units[uf.find(k)].push_back(idx[k]);
  std::vector<std::vector<size_t>> out;
  out.reserve(units.size());
  for (auto& [root, members] : units) out.push_back(std::move(members));
  return out;
}

// Deals units to sets by largest deficit (see split.h). fractions: train, val, test.
void deal(const Dataset& ds, std::vector<std::vector<size_t>> units, const double fractions[3], int task,
          uint64_t seed, Split& out) {
  std::map<std::string, std::vector<size_t>> strata;  // stratum -> unit indices
  for (size_t u = 0; u < units.size(); ++u) strata[stratum_of(ds.samples[units[u][0]], task)].push_back(u);
  Rng rng(seed);
  double assigned[3] = {0, 0, 0};
  std::vector<std::string>* sets[3] = {&out.train, &out.val, &out.test};
  for (auto& [key, members] : strata) {
    shuffle(members, rng);
    for (size_t u : members) {
      const double total = assigned[0] + assigned[1] + assigned[2] + double(units[u].size());
      int best = 0;
      double best_deficit = -1e300;
      for (int k = 0; k < 3; ++k) {
        if (fractions[k] <= 0) continue;
        const double deficit = fractions[k] * total - assigned[k];
        if (deficit > best_deficit) best_deficit = deficit, best = k;
      }
      assigned[best] += double(units[u].size());
      for (size_t i : units[u]) sets[best]->push_back(ds.samples[i].name);
    }
  }
  for (auto* set : sets) std::sort(set->begin(), set->end());
}

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

void check_fractions(double val, double test) {
  if (val < 0 || test < 0 || val + test >= 1.0)
    throw std::invalid_argument("split fractions val=" + std::to_string(val) + " test=" + std::to_string(test) +
                                ": each must be >= 0 and together below 1 (e.g. --val 0.1 --test 0.1)");
}

}  // namespace

Split stratified_split(const Dataset& ds, const SplitOptions& o) {
  check_fractions(o.val, o.test);
  std::vector<size_t> idx(ds.samples.size());
  std::iota(idx.begin(), idx.end(), size_t(0));
  Split out;
  const double fractions[3] = {1.0 - o.val - o.test, o.val, o.test};
  deal(ds, make_units(ds, idx, o.subject_exclusive), fractions, o.stratify_task, o.seed, out);
  out.how = "stratified split of " + ds.source + " (" + std::to_string(ds.size()) + " samples): val " +
            num(o.val) + ", test " + num(o.test) + ", seed " + std::to_string(o.seed) +
            ", stratify " + (o.stratify_task == -1 ? std::string("all tasks") :
                             o.stratify_task == -2 ? std::string("none") : "task " + std::to_string(o.stratify_task)) +
            (o.subject_exclusive ? ", subject-exclusive" : "") + ", duplicates kept together";
  return out;
}

Split fold_split(const Dataset& ds, int test_fold, double val_fraction, uint64_t seed) {
  check_fractions(val_fraction, 0.0);
  Split out;
  std::vector<size_t> rest;
  for (size_t i = 0; i < ds.samples.size(); ++i) {
    if (ds.samples[i].fold < 0)
      throw std::invalid_argument("fold split: sample '" + ds.samples[i].name + "' has no fold (folds come from the "
                                  "Adience fold files; use a stratified split for other data)");
    if (ds.samples[i].fold == test_fold) out.test.push_back(ds.samples[i].name);
    else rest.push_back(i);
  }
  if (out.test.empty())
    throw std::invalid_argument("fold split: fold " + std::to_string(test_fold) + " holds no samples (folds 0-4)");
  const double fractions[3] = {1.0 - val_fraction, val_fraction, 0.0};
  Split dealt;
  deal(ds, make_units(ds, rest, true), fractions, -1, seed, dealt);
  out.train = std::move(dealt.train);
  out.val = std::move(dealt.val);
  std::sort(out.test.begin(), out.test.end());
  out.how = "Adience fold split: test fold " + std::to_string(test_fold) + ", validation " +
            num(val_fraction) + " of the other folds (subject-exclusive, seed " + std::to_string(seed) + ")";
  return out;
}

void write_split(const std::string& path, const Split& split) {
  std::ostringstream out;
  out << "# facet split: " << split.how << "\n";
  out << "# train " << split.train.size() << ", val " << split.val.size() << ", test " << split.test.size() << "\n";
  const std::pair<const char*, const std::vector<std::string>*> sets[] = {
      {"train", &split.train}, {"val", &split.val}, {"test", &split.test}};
  for (const auto& [tag, names] : sets)
    for (const auto& n : *names) out << tag << '\t' << n << '\n';
  io::write_file_atomic(path, out.str());  // throws naming the file (directory missing, disk full)
}

Split read_split(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open split file '" + path + "' (write one with `facet data split`)");
  Split split;
  std::string line;
  int line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    if (line[0] == '#') {
      if (split.how.empty() && line.rfind("# facet split: ", 0) == 0) split.how = line.substr(15);
      continue;
    }
    const size_t tab = line.find('\t');
    const std::string tag = line.substr(0, tab), name = tab == std::string::npos ? "" : line.substr(tab + 1);
    if (name.empty() || (tag != "train" && tag != "val" && tag != "test"))
      throw std::runtime_error("split file '" + path + "' line " + std::to_string(line_no) +
                               ": expected 'train|val|test<TAB>name', got '" + line + "'");
    (tag == "train" ? split.train : tag == "val" ? split.val : split.test).push_back(name);
  }
  return split;
}

SplitSets apply_split(const Dataset& ds, const Split& split) {
  SplitSets out;
  for (Dataset* d : {&out.train, &out.val, &out.test}) d->source = ds.source, d->root = ds.root;
  std::unordered_map<std::string, size_t> index;
  for (size_t i = 0; i < ds.samples.size(); ++i) index.emplace(ds.samples[i].name, i);
  std::vector<bool> used(ds.samples.size(), false);
  const std::pair<const std::vector<std::string>*, Dataset*> sets[] = {
      {&split.train, &out.train}, {&split.val, &out.val}, {&split.test, &out.test}};
  for (const auto& [names, dst] : sets)
    for (const auto& n : *names) {
      const auto it = index.find(n);
      if (it == index.end()) {
        out.missing.push_back(n);
        continue;
      }
      used[it->second] = true;
      dst->samples.push_back(ds.samples[it->second]);
    }
  out.unassigned = std::count(used.begin(), used.end(), false);
  return out;
}

std::string check_split(const Dataset& ds, const Split& split, bool subjects) {
  std::unordered_map<std::string, int> side;
  const std::vector<std::string>* sets[3] = {&split.train, &split.val, &split.test};
  for (int k = 0; k < 3; ++k)
    for (const auto& n : *sets[k]) side[n] = k;
  std::unordered_map<std::string, std::pair<int, std::string>> seen;  // unit key -> (side, first name)
  for (const auto& s : ds.samples) {
    const auto it = side.find(s.name);
    if (it == side.end()) continue;
    std::vector<std::string> keys;
    if (s.dup_group >= 0) keys.push_back("duplicate group " + std::to_string(s.dup_group));
    if (subjects && !s.subject.empty()) keys.push_back("subject " + s.subject);
    for (const auto& key : keys) {
      auto [pos, fresh] = seen.emplace(key, std::make_pair(it->second, s.name));
      if (!fresh && pos->second.first != it->second)
        return key + " straddles the split: " + pos->second.second + " and " + s.name;
    }
  }
  return "";
}

int64_t straddling_subjects(const Dataset& ds, const Split& split) {
  std::unordered_map<std::string, int> side;
  const std::vector<std::string>* sets[3] = {&split.train, &split.val, &split.test};
  for (int k = 0; k < 3; ++k)
    for (const auto& n : *sets[k]) side[n] = k;
  std::unordered_map<std::string, int> mask;  // subject -> bit set of the sets it appears in
  for (const auto& s : ds.samples) {
    const auto it = side.find(s.name);
    if (it != side.end() && !s.subject.empty()) mask[s.subject] |= 1 << it->second;
  }
  return std::count_if(mask.begin(), mask.end(), [](const auto& kv) { return kv.second != 1 && kv.second != 2 && kv.second != 4; });
}

}  // namespace facet::data
