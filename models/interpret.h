// Reading the 2-hot and tuple models' outputs (study E). Pure functions, so they are tested on hand-made vectors.
#pragma once
#include <cstdint>
#include <utility>

namespace facet {

struct AgeGender {
  int32_t age = -1;     // -1: undefined
  int32_t gender = -1;  // -1: undefined
  float confidence = 0;  // the smaller of the two slices' winning probabilities
};

// 2-hot: `v` holds age_classes + 2 values in [0,1] (per-slice softmax or sigmoid outputs). Each slice is
// binarised at 0.5; the pattern is valid when each slice has exactly one 1. Invalid patterns, and valid ones
// whose confidence is under `threshold`, are undefined (both fields -1) rather than forced.
AgeGender interpret_2hot(const float* v, int age_classes, float threshold = 0.5f);

// Tuple: (age class, gender) regressed as two numbers. Each is rounded to the nearest class; a value that
// rounds outside the valid range, or lies farther than `margin` from the class it rounds to, is undefined.
AgeGender interpret_tuple(float age, float gender, int age_classes, float margin = 0.5f);

}  // namespace facet
