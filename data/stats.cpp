#include "data/stats.h"

#include <algorithm>
#include <cstdio>
#include <iomanip>
#include <sstream>

#include "data/attributes.h"

namespace facet::data {

Prepared read_and_label(const std::string& path, const std::string& scheme_spec, const ReadOptions& options) {
  Prepared p;
  p.read = read_dataset(path, options);
  p.scheme = scheme_for(p.read.data, scheme_spec);  // `balanced` edges from all usable faces
  p.labelled = p.read.data;
  p.label_drops = apply_scheme(p.labelled, p.scheme);
  return p;
}

Split make_split(const Dataset& labelled, const SplitRequest& request) {
  if (!request.split_file.empty()) return read_split(request.split_file);
  if (request.fold >= 0) return fold_split(labelled, request.fold, request.stratified.val, request.stratified.seed);
  return stratified_split(labelled, request.stratified);
}

namespace {

nlohmann::json class_table(const Dataset& ds, const LabelScheme& scheme) {
  nlohmann::json j = nlohmann::json::object();
  for (size_t t = 0; t < scheme.tasks.size(); ++t) {
    const auto counts = class_counts(ds, scheme, int(t));
    nlohmann::json task = nlohmann::json::array();
    for (size_t c = 0; c < counts.size(); ++c) task.push_back({{"class", c}, {"name", scheme.tasks[t].classes[c]}, {"count", counts[c]}});
    j[scheme.tasks[t].name] = task;
  }
  return j;
}

}  // namespace

nlohmann::json describe(const Prepared& p, const Split& split) {
  using nlohmann::json;
  json j;
  j["source"] = p.read.data.source;
  j["path"] = p.read.data.root;
  j["files"] = p.read.report.entries;
  j["usable_faces"] = p.read.data.size();
  j["labelled_faces"] = p.labelled.size();
  j["report"] = p.read.report.to_json();
  j["scheme"] = p.scheme.to_json();
  j["dropped_by_scheme"] = p.label_drops;
  j["classes"] = class_table(p.labelled, p.scheme);
  if (has_attribute_columns(p.read.data)) {  // folders and manifests: the columns, and the blank cells per head
    j["columns"] = p.read.data.columns;
    j["column_notes"] = column_notes(p.read.data, p.scheme);
    json unlabelled = json::object();
    for (size_t t = 0; t < p.scheme.tasks.size(); ++t) {
      int64_t n = 0;
      for (const auto& s : p.labelled.samples) n += s.labels[t] < 0;
      unlabelled[p.scheme.tasks[t].name] = n;
    }
    j["unlabelled"] = unlabelled;
  }
  const SplitSets sets = apply_split(p.labelled, split);
  const bool subjects = std::any_of(p.labelled.samples.begin(), p.labelled.samples.end(),
                                    [](const Sample& s) { return !s.subject.empty(); });
  const std::string check = check_split(p.labelled, split, false);
  j["split"] = {{"how", split.how},
                {"train", {{"count", sets.train.size()}, {"classes", class_table(sets.train, p.scheme)}}},
                {"val", {{"count", sets.val.size()}, {"classes", class_table(sets.val, p.scheme)}}},
                {"test", {{"count", sets.test.size()}, {"classes", class_table(sets.test, p.scheme)}}},
                {"names_not_in_data", sets.missing.size()},
                {"unassigned", sets.unassigned},
                {"integrity", check.empty() ? std::string("ok: no duplicate group on two sides") : check}};
  if (subjects) j["split"]["subjects_on_two_sides"] = straddling_subjects(p.labelled, split);
  if (p.labelled.source == "adience") {
    json folds = json::object();
    for (int f = 0; f < 5; ++f) {
      Dataset d;
      for (const auto& s : p.labelled.samples)
        if (s.fold == f) d.samples.push_back(s);
      folds[std::to_string(f)] = {{"count", d.size()}, {"classes", class_table(d, p.scheme)}};
    }
    j["folds"] = folds;
  }
  return j;
}

std::string describe_text(const nlohmann::json& j) {
  std::ostringstream os;
  const auto& r = j["report"];
  os << j["source"].get<std::string>() << " at " << j["path"].get<std::string>() << "\n";
  os << "files (or rows): " << j["files"] << "\nusable faces: " << j["usable_faces"]
     << "\nlabelled by the scheme: " << j["labelled_faces"] << "\n";
  os << "\nmalformed names/rows: " << r["malformed"].size() << "\n";
  for (const auto& m : r["malformed"])
    os << "  " << m["name"].get<std::string>() << ": " << m["reason"].get<std::string>()
       << (m["kept"].get<bool>() ? "  [kept: labels usable]" : "  [skipped]") << "\n";
  os << "skipped: " << r["skipped"].size() << "\n";
  for (const auto& s : r["skipped"]) os << "  " << s["name"].get<std::string>() << ": " << s["reason"].get<std::string>() << "\n";
  const auto& d = r["duplicates"];
  os << "duplicate groups (byte-identical images): " << d["groups"] << " holding " << d["files_in_groups"] << " files, "
     << d["conflicting_groups"] << " with conflicting labels; " << d["samples_dropped"] << " samples dropped\n";
  for (const auto& g : d["list"]) {
    os << "  " << (g["conflict"].get<bool>() ? "CONFLICT" : "agree   ");
    for (size_t i = 0; i < g["names"].size(); ++i)
      os << "  " << g["names"][i].get<std::string>() << " [" << g["labels"][i].get<std::string>() << "]";
    os << "  -> kept " << (g["kept"].empty() ? std::string("none") : g["kept"][0].get<std::string>()) << "\n";
  }
  if (!r["counts"].empty()) {
    os << "counts:\n";
    for (const auto& [k, v] : r["counts"].items()) os << "  " << k << ": " << v << "\n";
  }
  for (const auto& n : r["notes"]) os << "note: " << n.get<std::string>() << "\n";
  os << "\nlabel scheme " << j["scheme"]["name"].get<std::string>() << "\n";
  for (const auto& [k, v] : j["dropped_by_scheme"].items()) os << "  dropped: " << k << ": " << v << "\n";
  const auto& sp = j["split"];
  os << "split: " << sp["how"].get<std::string>() << "\n  " << sp["integrity"].get<std::string>() << "\n";
  if (sp.contains("subjects_on_two_sides"))
    os << "  subjects with faces on more than one side: " << sp["subjects_on_two_sides"]
       << " (0 needs --subject-exclusive or --fold)\n";
  if (sp["names_not_in_data"].get<int64_t>() > 0 || sp["unassigned"].get<int64_t>() > 0)
    os << "  names in the split but not in the data: " << sp["names_not_in_data"] << ", faces in no set: " << sp["unassigned"] << "\n";
  for (const auto& [task, classes] : j["classes"].items()) {
    char head[160];
    std::snprintf(head, sizeof head, "\n%-22s %7s  %7s  %7s  %7s\n", task.c_str(), "all", "train", "val", "test");
    os << head;
    for (size_t c = 0; c < classes.size(); ++c) {
      char line[160];
      std::snprintf(line, sizeof line, "  %-20s %7lld  %7lld  %7lld  %7lld\n", classes[c]["name"].get<std::string>().c_str(),
                    (long long)classes[c]["count"].get<int64_t>(),
                    (long long)sp["train"]["classes"][task][c]["count"].get<int64_t>(),
                    (long long)sp["val"]["classes"][task][c]["count"].get<int64_t>(),
                    (long long)sp["test"]["classes"][task][c]["count"].get<int64_t>());
      os << line;
    }
    char total[160];
    std::snprintf(total, sizeof total, "  %-20s %7lld  %7lld  %7lld  %7lld\n", "total", (long long)j["labelled_faces"].get<int64_t>(),
                  (long long)sp["train"]["count"].get<int64_t>(), (long long)sp["val"]["count"].get<int64_t>(),
                  (long long)sp["test"]["count"].get<int64_t>());
    if (j.contains("unlabelled"))
      os << "  " << std::left << std::setw(20) << "(no label)" << std::right << " " << std::setw(7)
         << j["unlabelled"][task].get<int64_t>() << "\n";
    os << total;
  }
  if (j.contains("column_notes"))
    for (const auto& n : j["column_notes"]) os << "note: " << n.get<std::string>() << "\n";
  if (j.contains("folds")) {
    os << "\nAdience folds:";
    for (const auto& [f, v] : j["folds"].items()) os << "  fold " << f << ": " << v["count"];
    os << "\n";
  }
  return os.str();
}

}  // namespace facet::data
