// `facet data stats` and `facet data split` run as the binary, on a generated UTKFace-style folder holding
// the flaws of the real one: a malformed name (kept: its labels are usable), a truncated JPEG (skipped) and a
// byte-identical copy with conflicting labels (both dropped). Exit codes, the printed report, the JSON and
// the split file.
#include <catch2/catch.hpp>

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "tests/cli/cli_util.h"

using namespace facet::test;
namespace fs = std::filesystem;

namespace {

const char* kMalformed = "39_1_20170116174525125.jpg.chip.jpg";  // race field missing, as in a real name
const char* kTruncated = "33_0_1_20170110000000777.jpg.chip.jpg";
const char* kFirst = "1_0_0_20170110000000000.jpg.chip.jpg";      // face 0 of write_utkface_like
const char* kConflict = "50_1_0_20170110009999999.jpg.chip.jpg";  // face 0's bytes under other labels

// 36 generated faces + the three flawed files; returns the names that must survive (35 + the malformed one).
std::set<std::string> make_folder(const std::string& dir) {
  write_utkface_like(dir, 36);
  std::set<std::string> kept;
  for (const auto& e : fs::directory_iterator(dir)) kept.insert(e.path().filename().string());
  REQUIRE(kept.size() == 36);
  REQUIRE(kept.count(kFirst) == 1);
  const auto img = synthetic_face(24, 24, 39, 1, 1000);
  facet::data::write_jpeg(dir + "/" + kMalformed, img.pixels.data(), 24, 24, 3, 95);
  facet::data::write_jpeg(dir + "/" + kTruncated, img.pixels.data(), 24, 24, 3, 90);
  fs::resize_file(dir + "/" + kTruncated, fs::file_size(dir + "/" + kTruncated) / 2);
  fs::copy_file(dir + "/" + kFirst, dir + "/" + kConflict);
  kept.erase(kFirst);
  kept.insert(kMalformed);
  return kept;
}

}  // namespace

TEST_CASE("facet data stats: report names every flawed file with its reason, JSON has the counts",
          "[cli][data]") {
  Scratch dir("data_stats");
  const std::string utk = dir.file("utk");
  const std::set<std::string> kept = make_folder(utk);

  const RunResult r =
      run_facet("data stats --data " + utk + " --labels groups10 --val 0.2 --test 0.2 --seed 3 --json " +
                dir.file("stats.json"));
  INFO(r.output);
  REQUIRE(r.code == 0);
  CHECK_THAT(r.output, Catch::Contains("files (or rows): 39") && Catch::Contains("usable faces: 36"));
  CHECK_THAT(r.output,
             Catch::Contains(std::string(kMalformed) + ": missing field: race  [kept: labels usable]"));
  CHECK_THAT(r.output, Catch::Contains(std::string(kTruncated) + ": truncated JPEG: no end-of-image marker"));
  CHECK_THAT(r.output,
             Catch::Contains("CONFLICT") && Catch::Contains(kConflict) && Catch::Contains("-> kept none"));
  CHECK_THAT(r.output,
             Catch::Contains("Mature Adult 35-44") && Catch::Contains("wrote " + dir.file("stats.json")));

  const nlohmann::json j = nlohmann::json::parse(read_text(dir.file("stats.json")));  // throws if not JSON
  CHECK(j["files"] == 39);
  CHECK(j["usable_faces"] == 36);
  CHECK(j["labelled_faces"] == 36);
  const auto& rep = j["report"];
  REQUIRE(rep["malformed"].size() == 1);
  CHECK(rep["malformed"][0]["name"] == kMalformed);
  CHECK(rep["malformed"][0]["reason"] == "missing field: race");
  CHECK(rep["malformed"][0]["kept"] == true);
  REQUIRE(rep["skipped"].size() == 1);
  CHECK(rep["skipped"][0]["name"] == kTruncated);
  CHECK_THAT(rep["skipped"][0]["reason"].get<std::string>(), Catch::StartsWith("truncated JPEG"));
  CHECK(rep["duplicates"]["groups"] == 1);
  CHECK(rep["duplicates"]["conflicting_groups"] == 1);
  CHECK(rep["duplicates"]["samples_dropped"] == 2);
  // groups10 on ages 1, 5, 15, 26, 40, 70 (six faces each): face 0 (age 1) went with its conflicting copy and
  // the malformed name (age 39) joined Mature Adult.
  const auto& age = j["classes"]["age"];
  REQUIRE(age.size() == 10);
  int64_t total = 0;
  for (const auto& c : age) total += c["count"].get<int64_t>();
  CHECK(total == 36);
  CHECK(age[0]["count"] == 5);  // Baby 0-1
  CHECK(age[7]["count"] == 7);  // Mature Adult 35-44
  const auto& sp = j["split"];
  CHECK(sp["train"]["count"].get<int64_t>() + sp["val"]["count"].get<int64_t>() +
            sp["test"]["count"].get<int64_t>() ==
        36);
  CHECK(sp["val"]["count"].get<int64_t>() > 0);
  CHECK(sp["test"]["count"].get<int64_t>() > 0);
  CHECK_THAT(sp["integrity"].get<std::string>(), Catch::StartsWith("ok"));

  // Errors: a missing folder fails with exit code 1 and says so; a missing required option is a usage error.
  RunResult bad = run_facet("data stats --data " + dir.file("nope") + " --labels groups10");
  CHECK(bad.code == 1);
  CHECK_THAT(bad.output, Catch::Contains("facet: error:") && Catch::Contains(dir.file("nope")));
  bad = run_facet("data stats --data " + utk);
  CHECK(bad.code != 0);
  CHECK_THAT(bad.output, Catch::Contains("--labels"));
  bad = run_facet("data stats --data " + utk + " --labels no_such_scheme");
  CHECK(bad.code == 1);
  CHECK_THAT(bad.output, Catch::Contains("no_such_scheme"));
}

TEST_CASE("facet data split: the file holds every kept face exactly once, the same split as stats",
          "[cli][data]") {
  Scratch dir("data_split");
  const std::string utk = dir.file("utk");
  const std::set<std::string> kept = make_folder(utk);
  const std::string opts = " --labels groups10 --val 0.2 --test 0.2 --seed 3";

  const RunResult r = run_facet("data split --data " + utk + opts + " --out " + dir.file("split.txt"));
  INFO(r.output);
  REQUIRE(r.code == 0);
  CHECK_THAT(r.output, Catch::Contains("no duplicate group on two sides") &&
                           Catch::Contains("wrote " + dir.file("split.txt")));
  REQUIRE(fs::exists(dir.file("split.txt")));

  std::map<std::string, int> seen;
  std::map<std::string, int64_t> per_set;
  std::istringstream lines(read_text(dir.file("split.txt")));
  std::string line;
  while (std::getline(lines, line)) {
    if (line.empty() || line[0] == '#') continue;
    const size_t tab = line.find('\t');
    REQUIRE(tab != std::string::npos);
    const std::string set = line.substr(0, tab);
    CHECK((set == "train" || set == "val" || set == "test"));
    ++per_set[set];
    ++seen[line.substr(tab + 1)];
  }
  CHECK(seen.size() == kept.size());
  for (const auto& name : kept) {
    INFO(name);
    CHECK(seen[name] == 1);
  }
  for (const char* gone : {kTruncated, kFirst, kConflict}) CHECK(seen.count(gone) == 0);

  // `stats` with the same options counts the same split; `stats --split FILE` reads this one back.
  for (const std::string& extra : {std::string(), " --split " + dir.file("split.txt")}) {
    INFO("stats" << extra);
    const RunResult s =
        run_facet("data stats --data " + utk + opts + extra + " --json " + dir.file("s.json"));
    REQUIRE(s.code == 0);
    const auto j = nlohmann::json::parse(read_text(dir.file("s.json")));
    for (const char* set : {"train", "val", "test"}) CHECK(j["split"][set]["count"] == per_set[set]);
    CHECK(j["split"]["names_not_in_data"] == 0);
    CHECK(j["split"]["unassigned"] == 0);
  }

  const RunResult no_out = run_facet("data split --data " + utk + opts);
  CHECK(no_out.code != 0);
  CHECK_THAT(no_out.output, Catch::Contains("--out"));
  const RunResult bad_dir =
      run_facet("data split --data " + utk + opts + " --out " + dir.file("no/dir/split.txt"));
  CHECK(bad_dir.code == 1);
  CHECK_THAT(bad_dir.output, Catch::Contains("cannot write") && Catch::Contains("split.txt"));
}
