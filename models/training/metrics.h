// Evaluation metrics for classification attributes (age class, gender, race), computed from true and predicted
// class indices. A prediction of -1 is "undefined" (the model's interpretation rule refused it): it counts as
// wrong everywhere and is also reported on its own. A truth of -1 (no label) leaves the sample out of that
// attribute.
//
// For an attribute with C classes, over the n labelled samples:
//   accuracy            = #(pred == true) / n
//   one-off accuracy    = #(|pred - true| <= 1) / n                  (ordinal attributes: age classes)
//   mean |class error|  = sum |pred - true| / #(defined predictions)  (undefined ones cannot be placed)
//   confusion[t][p]     = #(true t, predicted p), with an extra last column p = C for "undefined"
//   by_distance[d]      = #(|pred - true| = d), d = 0..C-1 (the studies' misclassification-by-distance table)
// and per group (race, gender: who the model fails), the accuracy of every attribute on that group's samples.
// A model with a reject rule (2-hot, tuple) also says which of its predictions the rule keeps ("defined"); for
// those attributes, over the same n labelled samples:
//   coverage                  = #(defined) / n
//   accuracy when defined     = #(defined and pred == true) / #(defined)
// while the accuracy above scores every prediction, kept or not (the studies' accuracy).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace facet {

struct AttributeSpec {
  std::string name;                  // "age", "gender", "race"
  std::vector<std::string> classes;  // class names; the class index is the position
  bool ordinal = false;              // classes are ordered (age ranges): one-off accuracy and distances apply
};

// A way of slicing the samples (e.g. "race" with values White, Black, ...), for per-group accuracy.
struct GroupingSpec {
  std::string name;
  std::vector<std::string> values;
};

struct AttributeResult {
  AttributeSpec spec;
  int64_t n = 0;          // samples with a true label
  int64_t correct = 0;
  int64_t undefined = 0;  // predictions of -1 (counted as wrong)
  int64_t within_one = 0; // |pred - true| <= 1, defined predictions only
  int64_t distance_sum = 0;
  std::vector<std::vector<int64_t>> confusion;  // [true][pred], C x (C + 1); the last column is "undefined"
  std::vector<int64_t> by_distance;             // [d], d = 0..C-1, defined predictions only
  bool reject_rule = false;   // the model's reject rule was reported for this attribute (the fields below)
  int64_t kept = 0;           // labelled samples whose prediction the rule keeps
  int64_t kept_correct = 0;   // of those, the correct ones

  double accuracy() const { return n ? double(correct) / double(n) : 0.0; }
  double one_off() const { return n ? double(within_one) / double(n) : 0.0; }
  double undefined_rate() const { return n ? double(undefined) / double(n) : 0.0; }
  double coverage() const { return n ? double(kept) / double(n) : 0.0; }
  double accuracy_when_defined() const { return kept ? double(kept_correct) / double(kept) : 0.0; }
  double mean_abs_distance() const { return n > undefined ? double(distance_sum) / double(n - undefined) : 0.0; }
};

struct GroupResult {
  std::string value;                 // e.g. "Black"
  int64_t n = 0;                     // samples in the group
  std::vector<int64_t> labelled;     // [attribute] samples of the group with a true label
  std::vector<int64_t> correct;      // [attribute]
  std::vector<int64_t> undefined;    // [attribute]
  double accuracy(size_t a) const { return labelled[a] ? double(correct[a]) / double(labelled[a]) : 0.0; }
};

class Metrics {
 public:
  explicit Metrics(std::vector<AttributeSpec> attributes, std::vector<GroupingSpec> groupings = {});

  // One batch: truth[a][i], pred[a][i] for every attribute a (same length N), groups[g][i] the value of grouping g
  // for sample i (-1: unknown, left out of that grouping). Throws std::invalid_argument on ragged input or a class
  // index out of range (naming the attribute, the sample and the value). `defined[a][i]` (Prediction::defined;
  // empty: no reject rule) says whether the model's reject rule keeps pred[a][i].
  void add(const std::vector<std::vector<int32_t>>& truth, const std::vector<std::vector<int32_t>>& pred,
           const std::vector<std::vector<int32_t>>& groups = {},
           const std::vector<std::vector<uint8_t>>& defined = {});
  void add_loss(double loss_sum, int64_t samples) {  // optional: the mean loss is reported when given
    loss_sum_ += loss_sum;
    loss_samples_ += samples;
  }

  size_t attribute_count() const { return results_.size(); }
  const AttributeResult& attribute(size_t a) const { return results_[a]; }
  int attribute_index(const std::string& name) const;  // -1 when absent
  const std::vector<GroupingSpec>& groupings() const { return groupings_; }
  const std::vector<GroupResult>& groups(size_t g) const { return groups_[g]; }
  double mean_loss() const { return loss_samples_ ? loss_sum_ / double(loss_samples_) : 0.0; }
  bool has_loss() const { return loss_samples_ > 0; }
  double mean_accuracy() const;  // the plain mean over attributes (a single number to pick the best epoch by)

  // Everything above as JSON (accuracies as fractions, tables as arrays) and as readable text tables.
  nlohmann::json to_json() const;
  std::string to_text() const;

 private:
  // add()'s argument checks: every list sized for the attributes/groupings and the batch, every class and
  // group value in range. Throws std::invalid_argument naming the attribute or grouping and the sample.
  void check_add(const std::vector<std::vector<int32_t>>& truth,
                 const std::vector<std::vector<int32_t>>& pred, const std::vector<std::vector<int32_t>>& groups,
                 const std::vector<std::vector<uint8_t>>& defined) const;
  std::vector<AttributeResult> results_;
  std::vector<GroupingSpec> groupings_;
  std::vector<std::vector<GroupResult>> groups_;  // [grouping][value]
  double loss_sum_ = 0;
  int64_t loss_samples_ = 0;
};

// A confusion matrix as aligned text, rows = truth, columns = prediction (+ "undef."), with row totals.
std::string confusion_text(const AttributeResult& r);

}  // namespace facet
