// The real data in ../shared/data (or FACET_DATA). Its own executable with its own main: when the data a
// selected test needs is absent, main prints the path it looked for and exits with kSkipped, which ctest
// (SKIP_RETURN_CODE in tests/CMakeLists.txt) reports as "Skipped", not as a pass. Each test is tagged with
// what it needs: [utkface] (utkface/) or [adience] (adience/fold_0_data.txt).
// Reads names and hashes files (no JPEG decoding), so it stays within seconds.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <cstdio>
#include <filesystem>
#include <set>

#include "data/loader.h"
#include "data/readers.h"
#include "tests/data/helpers.h"

using namespace facet::data;

namespace {

constexpr int kSkipped = 4;

// The data root as tests/data/helpers.h resolves it, even when absent (for the message).
std::string looked_for_root() {
  const char* env = std::getenv("FACET_DATA");
  return (env && *env) ? std::string(env) : std::string(FACET_SOURCE_DIR) + "/../shared/data";
}

// What a test needs under the root, from its tags; "" when it needs nothing.
std::string needed_path(const Catch::TestCaseInfo& info) {
  for (const std::string& tag : info.tags) {
    if (tag == "utkface") return "utkface";
    if (tag == "adience") return "adience/fold_0_data.txt";
  }
  return "";
}

bool present(const std::string& relative) {
  std::error_code ec;
  return relative.empty() || std::filesystem::exists(looked_for_root() + "/" + relative, ec);
}

}  // namespace

int main(int argc, char** argv) {
  Catch::Session session;
  if (const int rc = session.applyCommandLine(argc, argv)) return rc;
  const Catch::ConfigData& cd = session.configData();
  if (cd.showHelp || cd.listTests || cd.listTestNamesOnly || cd.listTags || cd.listReporters)
    return session.run();
  const Catch::Config& config = session.config();
  const auto selected = Catch::filterTests(Catch::getAllTestCasesSorted(config), config.testSpec(), config);
  if (selected.empty()) {  // Catch would exit 0 having run nothing: a ctest entry that cannot fail
    std::fprintf(stderr, "no test case matches the arguments (list them with --list-tests)\n");
    return 1;
  }
  size_t runnable = 0;
  for (const Catch::TestCase& tc : selected) {
    const std::string need = needed_path(tc.getTestCaseInfo());
    if (present(need)) {
      ++runnable;
      continue;
    }
    std::printf(
        "SKIPPED \"%s\": no %s/%s (set FACET_DATA to the folder holding utkface/ and adience/, or put "
        "it at <source>/../shared/data)\n",
        tc.getTestCaseInfo().name.c_str(), looked_for_root().c_str(), need.c_str());
  }
  if (runnable == 0) return kSkipped;
  return session.run();  // with some data absent, its tests still run their own guard below and pass empty
}

TEST_CASE("real UTKFace: 21,337 files, the three without race reported, duplicates found",
          "[data][real][utkface]") {
  const std::string root = facet::test::real_data_root();
  if (!present("utkface")) {  // only in a run of several tests with part of the data: main said SKIPPED
    WARN("skipped: no " << looked_for_root() << "/utkface");
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
  CHECK(no_race == std::vector<std::string>{"39_1_20170116174525125.jpg.chip.jpg",
                                            "61_1_20170109142408075.jpg.chip.jpg",
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

TEST_CASE("real Adience fold files: every row parses, the documented counts", "[data][real][adience]") {
  const std::string root = facet::test::real_data_root();
  if (!present("adience/fold_0_data.txt")) {  // as above
    WARN("skipped: no " << looked_for_root() << "/adience/fold_0_data.txt");
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
  // albums (user_id), the subject key: 168 in the files, 4 of them with only skipped rows
  CHECK(subjects.size() == 164);
  CHECK(both == 17452);  // unified set under the nearest-group rule (16,228 with strict ages)
  AdienceOptions strict;
  strict.ages = AdienceAgePolicy::strict;
  const ReadResult s = read_adience(root + "/adience", strict);
  int64_t both_strict = 0;
  for (const auto& smp : s.data.samples) both_strict += smp.age_group >= 0 && smp.gender >= 0;
  CHECK(both_strict == 16228);
}
