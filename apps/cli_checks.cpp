#include "apps/cli_checks.h"

#include <cmath>
#include <cstdlib>
#include <sstream>
#include <thread>

#include "data/image_io.h"

namespace facet::cli {

namespace {

std::string show(double v) {
  std::ostringstream s;
  s << v;
  return s.str();
}

}  // namespace

CLI::Validator number_in(double lo, double hi, bool lo_open, bool hi_open, const std::string& why) {
  const std::string range = std::string(lo_open ? "(" : "[") + show(lo) + ", " +
                            (hi == 18446744073709551615.0 ? std::string("2^64-1") : show(hi)) + (hi_open ? ")" : "]");
  return CLI::Validator(
      [=](std::string& text) -> std::string {
        char* end = nullptr;
        const double v = std::strtod(text.c_str(), &end);
        if (end == text.c_str() || *end) return "";  // not a number: the flag's type conversion reports it
        const bool below = lo_open ? !(v > lo) : !(v >= lo), above = hi_open ? !(v < hi) : !(v <= hi);
        if (std::isfinite(v) && !below && !above) return "";
        return "value " + text + " is outside the allowed range " + range + (why.empty() ? "" : " (" + why + ")");
      },
      "in " + range);
}

int max_threads() {
  const unsigned hw = std::thread::hardware_concurrency();
  return 4 * int(hw > 0 ? hw : 1);
}

CLI::Validator threads_range(int lo) {
  return number_in(lo, max_threads(), false, false,
                   "at most 4x the " + std::to_string(max_threads() / 4) +
                       " hardware threads: more only oversubscribe the cores");
}

CLI::Option* add_max_pixels(CLI::App* cmd) {
  return cmd
      ->add_option_function<int64_t>(
          "--max-pixels", [](const int64_t& v) { data::set_max_pixels(v); },
          "refuse images whose header claims more than this many pixels (width x height; default " +
              std::to_string(data::kDefaultMaxPixels) + " or $FACET_MAX_PIXELS; decompression bombs)")
      ->check(number_in(1, 9.0e15));
}

}  // namespace facet::cli
