// The extent of a line chart's data, shared by the PNG curves (models/training/report.cpp) and the SVG ones
// (models/report_html.cpp): the longest series and the finite y range, widened when it is empty or flat.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstddef>

namespace facet {

struct ChartRange {
  size_t n = 0;           // points in the longest series (epochs)
  double lo = 0, hi = 1;  // finite y values only; [0, 1] when there are none, +-0.5 around a flat line
};

// `lines`: a range of series, each with a `y` vector of doubles (NaN or inf: no point).
template <class Lines>
ChartRange chart_range(const Lines& lines) {
  ChartRange r;
  double lo = INFINITY, hi = -INFINITY;
  for (const auto& line : lines) {
    r.n = std::max(r.n, line.y.size());
    for (double v : line.y)
      if (std::isfinite(v)) lo = std::min(lo, v), hi = std::max(hi, v);
  }
  if (!std::isfinite(lo)) lo = 0, hi = 1;
  if (hi - lo < 1e-9) lo -= 0.5, hi += 0.5;
  r.lo = lo, r.hi = hi;
  return r;
}

}  // namespace facet
