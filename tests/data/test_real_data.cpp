// The real data in ../shared/data (or FACET_DATA): skipped, saying why, when it is absent.
// Reads names and hashes files (no JPEG decoding), so it stays within seconds.
#include <catch2/catch.hpp>

#include <set>

#include <cstdio>
#include <filesystem>

#include "data/loader.h"
#include "data/readers.h"
#include "tests/data/helpers.h"

using namespace facet::data;

TEST_CASE("real UTKFace: 21,337 files, the three without race reported, duplicates found", "[data][real]") {
  const std::string root = facet::test::real_data_root();
  if (root.empty() || !std::filesystem::is_directory(root + "/utkface")) {
    WARN("skipped: no real data (set FACET_DATA or put it at <source>/../shared/data; looked for utkface/ there)");
    return;
  }
  const ReadResult r = read_utkface(root + "/utkface");
  CHECK(r.report.entries == 21337);
  std::vector<std::string> no_race;
  for (const auto& m : r.report.malformed)
    if (m.reason.find("missing field: race") != std::string::npos) {
      no_race.push_back(m.name);
      CHECK(m.kept);
    }
  CHECK(no_race == std::vector<std::string>{"39_1_20170116174525125.jpg.chip.jpg", "61_1_20170109142408075.jpg.chip.jpg",
                                            "61_1_20170109150557335.jpg.chip.jpg"});
  CHECK(r.report.malformed.size() == 8);  // + 3 bad timestamps, a space, a missing dot
  CHECK(r.report.skipped.empty());
  // Byte-identical copies: hundreds of files, many conflicting; none left with a copy in the data.
  CHECK(r.report.duplicates.size() > 100);
  CHECK(r.report.conflicting_groups() > 100);
  for (const auto& g : r.report.duplicates) CHECK(g.kept.size() <= 1);
  CHECK(r.data.size() == size_t(21337 - r.report.duplicates_dropped));
  // A few real images decode (not all 21k: that is the bench's job).
  Image img;
  std::string error;
  for (size_t i = 0; i < r.data.size(); i += r.data.size() / 5) {
    REQUIRE(load_sample_image(r.data.samples[i], 3, img, error));
    CHECK((img.w == 200 && img.h == 200));
  }
}

TEST_CASE("real Adience fold files: every row parses; the documented counts", "[data][real]") {
  const std::string root = facet::test::real_data_root();
  if (root.empty() || !std::filesystem::exists(root + "/adience/fold_0_data.txt")) {
    WARN("skipped: no real Adience fold files (set FACET_DATA or put them at <source>/../shared/data/adience)");
    return;
  }
  const ReadResult r = read_adience(root + "/adience");
  CHECK(r.report.entries == 19370);
  CHECK(r.report.malformed.empty());
  CHECK(r.report.counts.at("gender f") + r.report.counts.at("gender m") == 17492);  // study D's count
  CHECK(r.report.counts.at("gender u") == 1099);
  CHECK(r.report.counts.at("gender empty") == 779);
  CHECK(r.report.counts.at("age None") == 748);
  CHECK(r.report.counts.at("age mapped: (27, 32) -> (25, 32)") == 77);
  CHECK(r.report.counts.at("age mapped: 35 -> (25, 32)") == 293);
  CHECK(r.report.skipped.size() == 708);  // no age and no gender
  std::set<std::string> subjects;
  int64_t both = 0;
  for (const auto& s : r.data.samples) {
    subjects.insert(s.subject);
    both += s.age_group >= 0 && s.gender >= 0;
  }
  CHECK(subjects.size() <= 2284);
  CHECK(both == 17452);  // unified set under the nearest-group rule (16,228 with strict ages)
  AdienceOptions strict;
  strict.ages = AdienceAgePolicy::strict;
  const ReadResult s = read_adience(root + "/adience", strict);
  int64_t both_strict = 0;
  for (const auto& smp : s.data.samples) both_strict += smp.age_group >= 0 && smp.gender >= 0;
  CHECK(both_strict == 16228);
}
