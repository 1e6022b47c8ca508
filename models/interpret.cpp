#include "models/interpret.h"

#include <algorithm>
#include <cmath>

namespace facet {

// One slice of a 2-hot output: argmax, and defined when exactly one entry is >= 0.5 (a valid one-hot pattern)
// and the winner reaches `threshold`.
static Reading read_slice(const float* v, int n, float threshold) {
  Reading r;
  int hot = 0, above = 0;
  for (int i = 0; i < n; ++i) {
    if (v[i] > v[hot]) hot = i;
    above += v[i] >= 0.5f;
  }
  if (!std::isfinite(v[hot])) return r;
  r.cls = hot;
  r.confidence = v[hot];
  r.defined = above == 1 && v[hot] >= 0.5f && v[hot] >= threshold;
  return r;
}

AgeGender interpret_2hot(const float* v, int age_classes, float threshold) {
  return {read_slice(v, age_classes, threshold), read_slice(v + age_classes, 2, threshold)};
}

static Reading read_rounded(float x, int classes, float margin) {
  Reading r;
  if (!std::isfinite(x)) return r;
  const float k = std::round(x);
  r.cls = int32_t(std::clamp(k, 0.0f, float(classes - 1)));
  const float d = std::abs(x - float(r.cls));
  r.defined = k == float(r.cls) && d <= margin;
  r.confidence = std::max(0.0f, 1.0f - 2.0f * d);  // 1 on an integer, 0 halfway between two classes
  return r;
}

AgeGender interpret_tuple(float age, float gender, int age_classes, float margin) {
  return {read_rounded(age, age_classes, margin), read_rounded(gender, 2, margin)};
}

// Linear interpolation between sorted values at position q * (n - 1).
static float quantile(const std::vector<float>& sorted, double q) {
  const double pos = q * double(sorted.size() - 1);
  const size_t i = size_t(pos);
  if (i + 1 >= sorted.size()) return sorted.back();
  const double f = pos - double(i);
  return float(double(sorted[i]) * (1 - f) + double(sorted[i + 1]) * f);
}

std::vector<ClassRange> calibrate_ranges(const std::vector<float>& outputs, const std::vector<int32_t>& labels,
                                         int classes, float share) {
  std::vector<std::vector<float>> by_class(size_t(std::max(classes, 0)));
  for (size_t i = 0; i < outputs.size() && i < labels.size(); ++i)
    if (labels[i] >= 0 && labels[i] < classes && std::isfinite(outputs[i])) by_class[size_t(labels[i])].push_back(outputs[i]);
  std::vector<ClassRange> ranges(by_class.size());
  for (size_t c = 0; c < by_class.size(); ++c) {
    auto& v = by_class[c];
    if (v.empty()) continue;
    std::sort(v.begin(), v.end());
    ranges[c] = {true, quantile(v, (1.0 - share) / 2), quantile(v, (1.0 + share) / 2), quantile(v, 0.5)};
  }
  return ranges;
}

Reading read_calibrated(float x, const std::vector<ClassRange>& ranges) {
  Reading r;
  if (!std::isfinite(x)) return r;
  int inside = -1, nearest = -1;
  auto closer = [&](int c, int than) {
    return than < 0 || std::abs(x - ranges[size_t(c)].centre) < std::abs(x - ranges[size_t(than)].centre);
  };
  for (int c = 0; c < int(ranges.size()); ++c) {
    const ClassRange& g = ranges[size_t(c)];
    if (!g.present) continue;
    if (closer(c, nearest)) nearest = c;
    if (x >= g.lo && x <= g.hi && closer(c, inside)) inside = c;
  }
  r.defined = inside >= 0;
  r.cls = r.defined ? inside : nearest;
  if (r.cls < 0) return r;
  const ClassRange& g = ranges[size_t(r.cls)];
  const float half = x < g.centre ? g.centre - g.lo : g.hi - g.centre;  // 1 at the centre, 0 at the range's edge
  r.confidence = r.defined ? (half > 0 ? std::max(0.0f, 1.0f - std::abs(x - g.centre) / half) : 1.0f) : 0.0f;
  return r;
}

}  // namespace facet
