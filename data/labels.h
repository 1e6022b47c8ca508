// Label schemes: how a face's raw attributes (age in years or an Adience group, gender, race) become the
// per-task classes a model is trained on. Every edge is documented in docs/data.md.
//
// A scheme is one or more parts joined by '+', each adding one task (head):
//   age parts:  bin10 | balanced[:K] | intuition | groups10 | adience8 | custom lower edges "0,7,13,20,30,45,60"
//   others:     gender | race
// and the presets
//   seed000 = 7,13,20,30,45,60+gender+race   (study A: ages under 7 dropped -- the first edge is the youngest age kept)
//   2hot    = adience8+gender, plus a 10-float target: one-hot age group (8) then one-hot gender (2)   (study E)
//   tuple   = adience8+gender, plus a 2-float target: (age class, gender)                             (study E)
// Age classes from edges e0 < e1 < ... < ek: class i holds ages e_i .. e_{i+1}-1, the last class e_k and up;
// ages under e0 have no class (dropped). `balanced` computes its edges from the ages it is given (the training
// split's, so test data never shapes the labels) and then behaves like custom edges: save `age_edges`.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "data/dataset.h"

namespace facet::data {

struct Task {
  std::string name;                  // "age", "gender", "race"
  std::vector<std::string> classes;  // class names; the class index is the position
  std::vector<double> edges;         // attribute schemes: a numeric column binned at these lower edges (else empty)
};

struct LabelScheme {
  std::string name;               // the spec it was made from, e.g. "seed000" or "0,7,13+gender"
  std::string kind;               // "" (faces: age/gender/race) or "attributes" (folder/manifest columns, one task
                                  // per column named by it: see data/attributes.h)
  std::string age_kind;           // "edges" or "adience8" ("" when no age task)
  std::vector<Task> tasks;        // one classification head each, in this order
  std::vector<int> age_edges;     // lower edges in years (age_kind "edges"); adience8 lists its integer-age edges
  int age_task = -1, gender_task = -1, race_task = -1;  // index of each task in `tasks`, -1 when absent
  std::string target_kind;        // "", "2hot" or "tuple"
  int target_dim = 0;             // floats per sample in Sample::targets

  // Age class of an exact age (-1: under the first edge).
  int age_class(int years) const;
  int task_index(const std::string& task_name) const;  // index in `tasks` of the task of that name, -1 if none
  // Fills the classes (one per task) and targets of one sample. False, with why, when a task has no label.
  bool label(const Sample& s, std::vector<int32_t>& classes, std::vector<float>& targets, std::string& why) const;
  nlohmann::json to_json() const;
  static LabelScheme from_json(const nlohmann::json& j);  // rebuilds a saved scheme (edges included)
};

// Builds a scheme from its spec (see the top of this file). `ages` feeds `balanced` (required there).
// Throws std::invalid_argument naming the bad part and listing what is accepted.
LabelScheme make_scheme(const std::string& spec, const std::vector<int>& ages = {});
std::vector<std::string> scheme_presets();  // the named presets, for help texts

// k lower edges (the first is 0) that split `ages` into k bins of counts as equal as integer ages allow: edge i
// is the cut before or after the run of equal ages that holds the i*N/k-th age, whichever leaves #(ages < edge)
// closer to i*N/k. A cut that would leave a bin empty is left out, so fewer than k bins can come back.
std::vector<int> quantile_edges(std::vector<int> ages, int k);

// Class names for age edges: "7-12", ..., "60+".
std::vector<std::string> age_class_names(const std::vector<int>& edges);

// Labels every sample in place and drops those a task has no label for; returns the drop counts by reason.
std::map<std::string, int64_t> apply_scheme(Dataset& ds, const LabelScheme& scheme);

// Count of each class of `task` in a labelled dataset.
std::vector<int64_t> class_counts(const Dataset& ds, const LabelScheme& scheme, int task);

}  // namespace facet::data
