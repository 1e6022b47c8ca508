#include "models/interpret.h"

#include <algorithm>
#include <cmath>

namespace facet {

// Index of the single entry >= 0.5 in v[0..n), or -1 when there is none or more than one.
static int single_hot(const float* v, int n) {
  int hot = -1;
  for (int i = 0; i < n; ++i) {
    if (v[i] >= 0.5f) {
      if (hot >= 0) return -1;
      hot = i;
    }
  }
  return hot;
}

AgeGender interpret_2hot(const float* v, int age_classes, float threshold) {
  AgeGender r;
  int age = single_hot(v, age_classes), gender = single_hot(v + age_classes, 2);
  if (age < 0 || gender < 0) return r;
  float conf = std::min(v[age], v[age_classes + gender]);
  if (conf < threshold) return r;
  r.age = age;
  r.gender = gender;
  r.confidence = conf;
  return r;
}

AgeGender interpret_tuple(float age, float gender, int age_classes, float margin) {
  AgeGender r;
  float a = std::round(age), g = std::round(gender);
  if (!std::isfinite(age) || !std::isfinite(gender)) return r;
  if (a < 0 || a > float(age_classes - 1) || g < 0 || g > 1) return r;
  float da = std::abs(age - a), dg = std::abs(gender - g);
  if (da > margin || dg > margin) return r;
  r.age = int32_t(a);
  r.gender = int32_t(g);
  r.confidence = 1.0f - 2.0f * std::max(da, dg);  // 1 on an integer, 0 halfway between two classes
  return r;
}

}  // namespace facet
