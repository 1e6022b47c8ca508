// Reading the 2-hot and tuple models' outputs (study E). Pure functions, so they are tested on hand-made vectors.
//
// Every attribute gets two things, kept apart:
//  - a class, the study's reading: the argmax of its 2-hot slice, or the class a tuple value is nearest to.
//    Evaluation's accuracy scores this (every face gets a class, as in the study's accuracy);
//  - whether a reject rule keeps it ("defined"): the user-facing reading, where outputs that do not form a
//    confident label are "undefined" rather than forced. Evaluation reports it per attribute as coverage (the
//    share defined) and accuracy when defined. Each attribute is judged on its own outputs: an unsure age slice
//    does not make the gender undefined.
#pragma once
#include <cstdint>
#include <vector>

namespace facet {

struct Reading {
  int32_t cls = -1;      // the study's reading; -1 only for outputs that are not numbers
  bool defined = false;  // kept by the reject rule
  float confidence = 0;  // 2-hot: the winning probability; tuple: 1 at a class (centre), 0 at the rule's edge
};

struct AgeGender {
  Reading age, gender;
};

// 2-hot: `v` holds age_classes + 2 values in [0,1] (per-slice softmax outputs). Per slice: the class is the
// argmax (first on ties); the slice is defined when it is a valid one-hot pattern (exactly one entry >= 0.5)
// whose winning probability is also >= `threshold`.
AgeGender interpret_2hot(const float* v, int age_classes, float threshold = 0.5f);

// Tuple, facet's "round" reading: each value's class is round(x) clamped to 0..classes-1; it is defined when
// round(x) lies in that range and |x - round(x)| <= `margin` (so margin 0.5 only rejects values outside
// -0.5 .. classes-0.5).
AgeGender interpret_tuple(float age, float gender, int age_classes, float margin = 0.5f);

// Tuple, the study's "calibrated" reading: each class owns a range of output values measured on the training
// faces of that class (calibrate_ranges). An output inside one range reads as that class; inside several
// (overlapping ranges), as the one of them whose centre is nearest; outside every range it is undefined, and its
// class is then the class with the nearest centre.
struct ClassRange {
  bool present = false;  // the class had training faces; an absent class is never read
  float lo = 0, hi = 0;  // the central `share` of its outputs (quantiles (1-share)/2 and (1+share)/2)
  float centre = 0;      // their median
};
// outputs[i] for training faces of class labels[i] (-1: no label, left out). Quantiles interpolate linearly
// between the sorted values (q at position q * (n - 1)), as numpy's default.
std::vector<ClassRange> calibrate_ranges(const std::vector<float>& outputs, const std::vector<int32_t>& labels,
                                         int classes, float share = 0.9f);
Reading read_calibrated(float x, const std::vector<ClassRange>& ranges);

}  // namespace facet
