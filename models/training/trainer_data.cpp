#include "models/training/trainer_data.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>

#include "data/attributes.h"
#include "data/balance.h"
#include "data/rng.h"
#include "data/stats.h"

namespace facet {

namespace fs = std::filesystem;
using namespace facet::data;

static const char* kWhereToPutData =
    "Get UTKFace's \"Aligned&Cropped Faces\" (UTKFace.tar.gz, https://susanqq.github.io/UTKFace/), unpack it so "
    "its *.jpg.chip.jpg files lie directly in one folder, e.g. $FACET_DATA/utkface, then set FACET_DATA to the "
    "folder above it or pass --data DIR";

static bool holds_data(const std::string& path) {
  std::error_code ec;
  if (fs::is_regular_file(path, ec))
    return (path.size() > 4 && path.substr(path.size() - 4) == ".csv") || detect_format(path) == Format::manifest;
  if (!fs::is_directory(path, ec)) return false;
  for (const auto& e : fs::directory_iterator(path, ec)) {
    const std::string n = e.path().filename().string();
    if (n.find(".jpg") != std::string::npos || n.find(".png") != std::string::npos || n.rfind("fold_", 0) == 0)
      return true;
  }
  return detect_format(path) == Format::folder;  // root/<class>/<image>: no image at the top
}

std::string default_data_dir() {
  const char* env = std::getenv("FACET_DATA");
  if (env && *env) {
    for (const std::string& c : {std::string(env) + "/utkface", std::string(env)})
      if (holds_data(c)) return c;
    throw std::runtime_error("no face data found in $FACET_DATA/utkface or $FACET_DATA (FACET_DATA=" + std::string(env) +
                             "). " + kWhereToPutData + ".");
  }
  throw std::runtime_error(std::string("no face data: FACET_DATA is not set and no --data was given. ") +
                           kWhereToPutData + ".");
}

void require_data_path(const std::string& path) {
  std::error_code ec;
  if (!fs::exists(path, ec))
    throw std::runtime_error("data path '" + path + "' does not exist. Pass --data with a UTKFace folder (its " +
                             "*.jpg.chip.jpg files), an Adience folder (fold_*_data.txt), a UTKFace CSV file, a folder of class " +
                             "folders (--format folder) or a manifest CSV (--format manifest). " +
                             kWhereToPutData + ".");
  if (!holds_data(path))
    throw std::runtime_error("data path '" + path + "' holds no face images, fold files or CSV. " + kWhereToPutData +
                             ".");
}

TransformConfig transform_of(const DataSpec& spec) {
  TransformConfig t;
  if (spec.size < 8) throw std::invalid_argument("--size " + std::to_string(spec.size) + ": use at least 8");
  if (spec.channels != 1 && spec.channels != 3)
    throw std::invalid_argument("channels " + std::to_string(spec.channels) + ": use 1 (gray) or 3 (colour)");
  t.width = t.height = spec.size;
  t.channels = spec.channels;
  t.resize_w = t.resize_h = spec.resize > 0 ? spec.resize : spec.size;
  t.random_crop = spec.random_crop;
  t.random_flip = spec.flip;
  t.equalize = spec.equalize;
  t.ycbcr = spec.ycbcr;
  t.scale = parse_scale(spec.scale);
  t.validate();
  return t;
}

TransformConfig transform_from_json(const nlohmann::json& j) {
  try {
    TransformConfig t;
    t.width = j.at("width").get<int>();
    t.height = j.at("height").get<int>();
    t.channels = j.at("channels").get<int>();
    t.resize_w = j.value("resize_w", 0);
    t.resize_h = j.value("resize_h", 0);
    t.resize = parse_resize(j.value("resize", std::string("area")));
    t.random_crop = j.value("random_crop", false);
    t.random_flip = j.value("random_flip", false);
    t.equalize = j.value("equalize", false);
    t.ycbcr = j.value("ycbcr", false);
    t.scale = parse_scale(j.value("scale", std::string("unit")));
    if (j.contains("normalization")) t.norm = Normalization::from_json(j.at("normalization"));
    t.validate();
    return t;
  } catch (const nlohmann::json::exception& e) {
    throw std::invalid_argument("saved transform " + j.dump() + " is not readable: " + e.what());
  }
}

// Keeps at most `cap` samples of each class of task 0, chosen by a seeded shuffle; order is kept.
static Dataset cap_per_class(const Dataset& ds, int cap, uint64_t seed) {
  std::vector<std::vector<size_t>> members;
  for (size_t i = 0; i < ds.samples.size(); ++i) {
    const int c = ds.samples[i].labels.empty() ? -1 : ds.samples[i].labels[0];
    if (c < 0) continue;
    if (size_t(c) >= members.size()) members.resize(size_t(c) + 1);
    members[size_t(c)].push_back(i);
  }
  std::vector<bool> keep(ds.samples.size(), false);
  for (size_t c = 0; c < members.size(); ++c) {
    Rng rng(derive_seed(seed, 4242, c));
    shuffle(members[c], rng);
    for (size_t k = 0; k < std::min(members[c].size(), size_t(cap)); ++k) keep[members[c][k]] = true;
  }
  Dataset out;
  out.source = ds.source, out.root = ds.root;
  for (size_t i = 0; i < ds.samples.size(); ++i)
    if (keep[i]) out.samples.push_back(ds.samples[i]);
  return out;
}

static Dataset first_n_shuffled(const Dataset& ds, size_t n, uint64_t seed) {
  std::vector<size_t> idx(ds.samples.size());
  for (size_t i = 0; i < idx.size(); ++i) idx[i] = i;
  Rng rng(derive_seed(seed, 9191));
  shuffle(idx, rng);
  idx.resize(std::min(n, idx.size()));
  std::sort(idx.begin(), idx.end());
  Dataset out;
  out.source = ds.source, out.root = ds.root;
  for (size_t i : idx) out.samples.push_back(ds.samples[i]);
  return out;
}

static std::string counts_text(const std::map<std::string, int64_t>& m) {
  std::string s;
  for (const auto& [k, v] : m) {
    if (!s.empty()) s += ", ";
    s += k + " " + std::to_string(v);
  }
  return s.empty() ? "none" : s;
}

namespace {

// Reads the data set, labels it by the scheme (edges from every face's age; balanced bins are redone from the
// training faces in prepare_data) and caps each class at --max-per-class: r's report, scheme and notes.
Dataset read_and_label(const DataSpec& spec, uint64_t seed, RunData& r) {
  ReadOptions ro;
  ro.format = parse_format(spec.format);
  ro.duplicates = parse_duplicate_policy(spec.duplicates);
  ro.adience.image_root = spec.adience_images;
  ReadResult read = read_dataset(spec.path, ro);
  r.report = read.report;
  if (read.data.empty())
    throw std::runtime_error("no usable faces in '" + spec.path + "' (" + std::to_string(read.report.entries) +
                             " entries looked at; run `facet data stats --data " + spec.path +
                             " --labels gender` for the reasons). " + kWhereToPutData + ".");
  r.notes.push_back("read " + spec.path + " (" + read.data.source + "): " + std::to_string(read.report.entries) +
                    " entries, " + std::to_string(read.data.size()) + " usable faces, " +
                    std::to_string(read.report.skipped.size()) + " skipped, " +
                    std::to_string(read.report.duplicates_dropped) + " dropped as duplicates (" +
                    to_string(ro.duplicates) + ")");

  r.scheme = scheme_for(read.data, spec.labels);  // face labels, or the columns of a folder or manifest
  for (const auto& n : column_notes(read.data, r.scheme)) r.notes.push_back(n);
  Dataset labelled = read.data;
  const auto drops = apply_scheme(labelled, r.scheme);
  if (labelled.empty())
    throw std::runtime_error("label scheme '" + spec.labels + "' labels none of the " +
                             std::to_string(read.data.size()) + " faces in '" + spec.path +
                             "' (dropped: " + counts_text(drops) + ")");
  r.notes.push_back("labels " + spec.labels + ": " + std::to_string(labelled.size()) +
                    " faces labelled (dropped: " + counts_text(drops) + ")");
  if (spec.max_per_class > 0) {
    labelled = cap_per_class(labelled, spec.max_per_class, seed);
    r.notes.push_back("at most " + std::to_string(spec.max_per_class) + " faces per " + r.scheme.tasks[0].name +
                      " class: " + std::to_string(labelled.size()) + " faces");
  }
  return labelled;
}

}  // namespace

RunData prepare_data(const DataSpec& spec, uint64_t seed, const TransformConfig* transform_override) {
  require_data_path(spec.path);
  RunData r;
  Dataset labelled = read_and_label(spec, seed, r);

  SplitRequest req;
  req.stratified.val = spec.val;
  req.stratified.test = spec.test;
  req.stratified.seed = seed;
  req.stratified.subject_exclusive = spec.subject_exclusive;
  req.fold = spec.fold;
  req.split_file = spec.split_file;
  r.split = make_split(labelled, req);

  // Data-dependent edges (balanced bins) come from the training faces only: test faces never shape the labels.
  if (r.scheme.kind.empty() && spec.labels.find("balanced") != std::string::npos) {
    std::vector<int> train_ages;
    const SplitSets first = apply_split(labelled, r.split);
    for (const auto& s : first.train.samples)
      if (s.age >= 0) train_ages.push_back(s.age);
    r.scheme = make_scheme(spec.labels, train_ages);
    apply_scheme(labelled, r.scheme);
    std::string edges;
    for (int e : r.scheme.age_edges) {
      if (!edges.empty()) edges += ",";
      edges += std::to_string(e);
    }
    r.notes.push_back("balanced age edges from the " + std::to_string(train_ages.size()) + " training faces: " + edges);
  }

  SplitSets sets = apply_split(labelled, r.split);
  if (!sets.missing.empty() && !spec.split_file.empty())
    r.notes.push_back("split file " + spec.split_file + ": " + std::to_string(sets.missing.size()) +
                      " names not in the data (first: " + sets.missing.front() + ")");
  if (sets.train.empty()) throw std::runtime_error("the split leaves no training faces (" + r.split.how + ")");
  r.notes.push_back("split: " + r.split.how + "; train " + std::to_string(sets.train.size()) + ", val " +
                    std::to_string(sets.val.size()) + ", test " + std::to_string(sets.test.size()));
  if (spec.limit > 0 && size_t(spec.limit) < sets.train.size()) {
    sets.train = first_n_shuffled(sets.train, size_t(spec.limit), seed);
    r.notes.push_back("--limit: training on " + std::to_string(sets.train.size()) + " faces");
  }
  Balanced b = balance(sets.train, r.scheme, spec.balance, seed);
  if (spec.balance != "none" && !spec.balance.empty()) r.notes.push_back("balance: " + b.how);
  r.train = std::move(b.data);
  r.train_weights = std::move(b.weights);
  r.val = std::move(sets.val);
  r.test = std::move(sets.test);

  if (transform_override) {
    r.transform = *transform_override;
  } else {
    r.transform = transform_of(spec);
    if (spec.normalize) {
      r.transform.norm = compute_normalization(r.train, r.transform, 2000, seed, std::max(0, spec.workers));
      std::string m, s;
      for (size_t c = 0; c < r.transform.norm.mean.size(); ++c) {
        if (c) m += ", ", s += ", ";
        m += std::to_string(r.transform.norm.mean[c]);
        s += std::to_string(r.transform.norm.std[c]);
      }
      r.notes.push_back("normalization from up to 2000 training faces: mean (" + m + "), std (" + s + ")");
    }
  }
  return r;
}

std::vector<AttributeSpec> attribute_specs(const std::vector<std::string>& names, const std::vector<int>& classes,
                                           const LabelScheme& scheme) {
  std::vector<AttributeSpec> out;
  for (size_t a = 0; a < names.size(); ++a) {
    const int task = scheme.task_index(names[a]);
    if (task < 0)
      throw std::invalid_argument("the model predicts '" + names[a] + "', which label scheme '" + scheme.name +
                                  "' does not label");
    const auto& cls = scheme.tasks[size_t(task)].classes;
    if (int(cls.size()) != classes[a])
      throw std::invalid_argument("the model predicts " + std::to_string(classes[a]) + " classes of '" + names[a] +
                                  "', label scheme '" + scheme.name + "' has " + std::to_string(cls.size()));
    out.push_back({names[a], cls, task == scheme.age_task});
  }
  return out;
}

std::vector<GroupingSpec> default_groupings() {
  return {{"race", {kRaceNames, kRaceNames + 5}}, {"gender", {kGenderNames, kGenderNames + 2}}};
}

}  // namespace facet
