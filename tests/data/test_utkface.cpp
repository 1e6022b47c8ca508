// UTKFace names (every real flaw, plus out-of-range values), and the reader on a generated folder with broken
// names, bad files and byte-identical copies.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>

#include "data/readers.h"
#include "tests/data/helpers.h"

using namespace facet::data;
using facet::test::TempDir;

namespace {
bool has_flaw(const UtkName& n, const std::string& text) {
  return std::any_of(n.flaws.begin(), n.flaws.end(), [&](const std::string& f) { return f.find(text) != std::string::npos; });
}
}  // namespace

TEST_CASE("a clean UTKFace name parses to its three labels", "[data][utkface]") {
  const UtkName n = parse_utkface_name("26_1_2_20170116174525125.jpg.chip.jpg");
  CHECK(n.flaws.empty());
  CHECK(n.age == 26);
  CHECK(n.gender == 1);
  CHECK(n.race == 2);
  CHECK(n.usable());
  const UtkName edge = parse_utkface_name("116_0_4_20170120134921760.jpg.chip.jpg");
  CHECK(edge.flaws.empty());
  CHECK(edge.age == 116);
  CHECK(edge.race == 4);
}

TEST_CASE("the real broken UTKFace names keep their usable labels and say what is wrong", "[data][utkface]") {
  SECTION("missing race") {
    const UtkName n = parse_utkface_name("39_1_20170116174525125.jpg.chip.jpg");
    CHECK(n.age == 39);
    CHECK(n.gender == 1);
    CHECK(n.race == -1);
    CHECK(has_flaw(n, "missing field: race"));
    CHECK(n.usable());
  }
  SECTION("16- and 18-digit timestamps") {
    const UtkName a = parse_utkface_name("14_0_0_2017011022340900.jpg.chip.jpg");
    CHECK(has_flaw(a, "bad timestamp 2017011022340900 (16 digits"));
    CHECK((a.age == 14 && a.gender == 0 && a.race == 0));
    const UtkName b = parse_utkface_name("28_1_2_201701161846515488.jpg.chip.jpg");
    CHECK(has_flaw(b, "18 digits"));
    CHECK((b.age == 28 && b.gender == 1 && b.race == 2));
  }
  SECTION("a space before .jpg") {
    const UtkName n = parse_utkface_name("24_0_1_20170116220224657 .jpg.chip.jpg");
    CHECK(n.flaws == std::vector<std::string>{"space in the name"});
    CHECK((n.age == 24 && n.gender == 0 && n.race == 1));
  }
  SECTION("a missing dot") {
    const UtkName n = parse_utkface_name("55_0_0_20170116232725357jpg.chip.jpg");
    CHECK(n.flaws == std::vector<std::string>{"missing dot before jpg.chip.jpg"});
    CHECK((n.age == 55 && n.gender == 0 && n.race == 0));
  }
}

TEST_CASE("out-of-range and non-numeric fields become unknown, not wrong", "[data][utkface]") {
  const UtkName a = parse_utkface_name("130_0_0_20170116174525125.jpg.chip.jpg");
  CHECK(a.age == -1);
  CHECK(has_flaw(a, "age 130 out of range 0-116"));
  CHECK(a.usable());  // gender and race survive
  const UtkName g = parse_utkface_name("30_2_0_20170116174525125.jpg.chip.jpg");
  CHECK(g.gender == -1);
  CHECK(has_flaw(g, "gender 2 out of range 0-1"));
  const UtkName r = parse_utkface_name("30_1_7_20170116174525125.jpg.chip.jpg");
  CHECK(r.race == -1);
  CHECK(has_flaw(r, "race 7 out of range 0-4"));
  const UtkName x = parse_utkface_name("3a_1_0_20170116174525125.jpg.chip.jpg");
  CHECK(x.age == -1);
  CHECK(has_flaw(x, "age '3a' is not a number"));
  const UtkName neg = parse_utkface_name("-5_1_0_20170116174525125.jpg.chip.jpg");  // a number, below the range
  CHECK(neg.age == -1);
  CHECK(has_flaw(neg, "age -5 out of range 0-116"));
  CHECK(neg.usable());
  const UtkName none = parse_utkface_name("holiday.jpg");
  CHECK_FALSE(none.usable());
  const UtkName text = parse_utkface_name("notes.txt");
  CHECK_FALSE(text.image);
  CHECK_FALSE(text.usable());
  const UtkName many = parse_utkface_name("1_2_3_4_20170116174525125.jpg.chip.jpg");
  CHECK_FALSE(many.usable());
  CHECK(has_flaw(many, "4 label fields"));
  const UtkName nostamp = parse_utkface_name("30_1_2.jpg.chip.jpg");
  CHECK((nostamp.age == 30 && nostamp.gender == 1 && nostamp.race == 2));
  CHECK(has_flaw(nostamp, "no timestamp"));
}

TEST_CASE("the UTKFace reader reports every broken name and bad file and never crashes", "[data][utkface]") {
  TempDir dir;
  using facet::test::write_jpeg_file;
  write_jpeg_file(dir.file("20_0_0_20170101000000001.jpg.chip.jpg"), 16, 16, 3, 1);
  write_jpeg_file(dir.file("30_1_1_20170101000000002.jpg.chip.jpg"), 16, 16, 3, 2);
  write_jpeg_file(dir.file("39_1_20170116174525125.jpg.chip.jpg"), 16, 16, 3, 3);       // missing race
  write_jpeg_file(dir.file("14_0_0_2017011022340900.jpg.chip.jpg"), 16, 16, 3, 4);      // bad timestamp
  write_jpeg_file(dir.file("24_0_1_20170116220224657 .jpg.chip.jpg"), 16, 16, 3, 5);    // space
  write_jpeg_file(dir.file("55_0_0_20170116232725357jpg.chip.jpg"), 16, 16, 3, 6);      // missing dot
  write_jpeg_file(dir.file("999_0_0_20170101000000003.jpg.chip.jpg"), 16, 16, 3, 7);    // age out of range
  write_jpeg_file(dir.file("x_y_z_20170101000000004.jpg.chip.jpg"), 16, 16, 3, 8);      // nothing usable
  write_jpeg_file(dir.file("40_0_3_20170101000000005.jpg.chip.jpg"), 16, 16, 1, 9);     // grayscale is fine
  facet::test::write_text(dir.file("41_0_3_20170101000000006.jpg.chip.jpg"), "");       // zero bytes
  auto jpg = facet::test::file_bytes(dir.file("20_0_0_20170101000000001.jpg.chip.jpg"));
  jpg.resize(jpg.size() / 2);
  facet::test::write_bytes(dir.file("42_0_3_20170101000000007.jpg.chip.jpg"), jpg);      // truncated
  facet::test::write_text(dir.file("README.txt"), "not a face");
  facet::test::write_text(dir.file(".DS_Store"), "hidden");
  std::filesystem::create_directory(dir.file("sub"));

  const ReadResult r = read_utkface(dir.str());
  const Report& rep = r.report;
  CHECK(rep.entries == 12);  // everything but the hidden file and the folder
  std::vector<std::string> names;
  for (const auto& s : r.data.samples) names.push_back(s.name);
  CHECK(names == std::vector<std::string>{"14_0_0_2017011022340900.jpg.chip.jpg", "20_0_0_20170101000000001.jpg.chip.jpg",
                                          "24_0_1_20170116220224657 .jpg.chip.jpg", "30_1_1_20170101000000002.jpg.chip.jpg",
                                          "39_1_20170116174525125.jpg.chip.jpg", "40_0_3_20170101000000005.jpg.chip.jpg",
                                          "55_0_0_20170116232725357jpg.chip.jpg", "999_0_0_20170101000000003.jpg.chip.jpg"});
  CHECK(rep.usable == 8);
  // malformed: missing race, timestamp, space, dot, age 999 (kept) + x_y_z and README (skipped)
  REQUIRE(rep.malformed.size() == 7);
  int kept = 0;
  for (const auto& m : rep.malformed) kept += m.kept;
  CHECK(kept == 5);
  REQUIRE(rep.skipped.size() == 2);
  CHECK(rep.skipped[0].name == "41_0_3_20170101000000006.jpg.chip.jpg");
  CHECK(rep.skipped[0].reason == "empty file (0 bytes)");
  CHECK(rep.skipped[1].name == "42_0_3_20170101000000007.jpg.chip.jpg");
  CHECK(rep.skipped[1].reason.find("truncated JPEG") == 0);
  CHECK(rep.notes.size() == 2);  // the folder and the hidden file are mentioned
  const auto j = rep.to_json();
  CHECK(j["malformed"].size() == 7);
  CHECK(rep.to_text().find("39_1_20170116174525125.jpg.chip.jpg: missing field: race (kept") != std::string::npos);
  // a missing folder is said to be missing; an existing file, not to be a folder
  CHECK_THROWS_WITH(read_utkface(dir.file("nope")), Catch::Contains("does not exist") && Catch::Contains("nope"));
  facet::test::write_text(dir.file("plain.txt"), "x");
  CHECK_THROWS_WITH(read_utkface(dir.file("plain.txt")), Catch::Contains("is not a directory"));
}

TEST_CASE("byte-identical copies are grouped, conflicting groups are dropped, agreeing ones keep one copy", "[data][utkface]") {
  TempDir dir;
  using facet::test::write_jpeg_file;
  write_jpeg_file(dir.file("10_0_0_20170101000000001.jpg.chip.jpg"), 16, 16, 3, 1);
  std::filesystem::copy_file(dir.file("10_0_0_20170101000000001.jpg.chip.jpg"), dir.file("13_0_0_20170101000000002.jpg.chip.jpg"));
  write_jpeg_file(dir.file("20_1_2_20170101000000003.jpg.chip.jpg"), 16, 16, 3, 2);
  std::filesystem::copy_file(dir.file("20_1_2_20170101000000003.jpg.chip.jpg"), dir.file("20_1_2_20170101000000004.jpg.chip.jpg"));
  std::filesystem::copy_file(dir.file("20_1_2_20170101000000003.jpg.chip.jpg"), dir.file("20_1_2_20170101000000005.jpg.chip.jpg"));
  write_jpeg_file(dir.file("30_0_1_20170101000000006.jpg.chip.jpg"), 16, 16, 3, 3);

  SECTION("drop-conflicts (default)") {
    const ReadResult r = read_utkface(dir.str());
    REQUIRE(r.report.duplicates.size() == 2);
    const auto& conflict = r.report.duplicates[0];
    CHECK(conflict.names == std::vector<std::string>{"10_0_0_20170101000000001.jpg.chip.jpg", "13_0_0_20170101000000002.jpg.chip.jpg"});
    CHECK(conflict.labels == std::vector<std::string>{"10/0/0", "13/0/0"});
    CHECK(conflict.conflict);
    CHECK(conflict.kept.empty());
    const auto& agree = r.report.duplicates[1];
    CHECK(agree.names.size() == 3);
    CHECK_FALSE(agree.conflict);
    CHECK(agree.kept == std::vector<std::string>{"20_1_2_20170101000000003.jpg.chip.jpg"});
    CHECK(r.report.conflicting_groups() == 1);
    CHECK(r.report.duplicates_dropped == 4);
    CHECK(r.data.size() == 2);
  }
  SECTION("keep-first") {
    const ReadResult r = read_utkface(dir.str(), {DuplicatePolicy::keep_first});
    CHECK(r.data.size() == 3);
    CHECK(r.data.samples[0].name == "10_0_0_20170101000000001.jpg.chip.jpg");
  }
  SECTION("keep-all marks the groups so splits keep them together") {
    const ReadResult r = read_utkface(dir.str(), {DuplicatePolicy::keep_all});
    CHECK(r.data.size() == 6);
    CHECK(r.data.samples[0].dup_group == 0);
    CHECK(r.data.samples[1].dup_group == 0);
    CHECK(r.data.samples[2].dup_group == 1);
    CHECK(r.data.samples[5].dup_group == -1);
  }
  SECTION("no scan: nothing is read, a note says so") {
    const ReadResult r = read_utkface(dir.str(), {DuplicatePolicy::drop_conflicts, false});
    CHECK(r.data.size() == 6);
    CHECK(r.report.duplicates.empty());
    CHECK(r.report.notes.size() == 1);
  }
}
