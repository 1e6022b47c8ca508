// libFuzzer target: the Adience fold-file reader (data/adience.cpp) on arbitrary fold-file contents.
// The input is written as fold_0_data.txt in a directory of its own and read with read_adience (no aligned/
// folder, so labels only); each line's age field also goes through parse_adience_age under both policies.
// Contract under test: a fold file that exists never makes the reader throw; bad rows are listed in the
// report; every sample it keeps has a group in 0..7 or -1 and a gender in {-1, 0, 1}.
#include <cstdlib>
#include <filesystem>
#include <string>

#include "data/readers.h"
#include "tests/fuzz/fuzz_util.h"

using namespace facet::data;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  for (AdienceAgePolicy policy : {AdienceAgePolicy::nearest, AdienceAgePolicy::strict}) {
    const AdienceAge a = parse_adience_age(text, policy);
    if (a.group < -1 || a.group >= kAdienceGroups || a.age < -1 || a.age > kMaxAge) std::abort();
  }
  static const std::string dir = [] {
    const auto d = facet::fuzz::scratch_dir() / "adience";
    std::filesystem::create_directories(d);
    return d.string();
  }();
  facet::fuzz::write_scratch("adience/fold_0_data.txt", data, size);
  AdienceOptions options;
  options.folds = {0};
  const ReadResult r = read_adience(dir, options);
  for (const Sample& s : r.data.samples)
    if (s.age_group < -1 || s.age_group >= kAdienceGroups || s.gender < -1 || s.gender > 1 ||
        (s.age_group < 0 && s.gender < 0))
      std::abort();
  return 0;
}
