// What `facet data stats` / `facet data split` compute, on a generated UTKFace folder; and the balancing.
#include <catch2/catch.hpp>

#include "data/balance.h"
#include "data/stats.h"
#include "tests/data/helpers.h"

using namespace facet::data;
using facet::test::TempDir;

namespace {
// 60 faces: ages 1..60, gender alternating, race i % 5 (race 0 = White is every 5th); one duplicate pair.
void make_utkface(const TempDir& dir) {
  for (int i = 0; i < 60; ++i) {
    const std::string name = std::to_string(i + 1) + "_" + std::to_string(i % 2) + "_" + std::to_string(i % 5) + "_2017010100000" +
                             std::to_string(1000 + i) + ".jpg.chip.jpg";
    facet::test::write_jpeg_file(dir.file(name), 8, 8, 3, unsigned(i));
  }
  facet::test::write_jpeg_file(dir.file("39_1_20170116174525125.jpg.chip.jpg"), 8, 8, 3, 999);
}
}  // namespace

TEST_CASE("stats: counts per class and split, every flaw listed, JSON and text agree", "[data][stats]") {
  TempDir dir;
  make_utkface(dir);
  const Prepared p = read_and_label(dir.str(), "groups10");
  CHECK(p.read.report.entries == 61);
  CHECK(p.labelled.size() == 61);
  SplitRequest req;
  req.stratified.val = 0.2;
  req.stratified.test = 0.2;
  const Split split = make_split(p.labelled, req);
  const auto j = describe(p, split);
  CHECK(j["files"] == 61);
  CHECK(j["usable_faces"] == 61);
  CHECK(j["report"]["malformed"].size() == 1);
  int64_t total = 0;
  for (const auto& c : j["classes"]["age"]) total += c["count"].get<int64_t>();
  CHECK(total == 61);
  CHECK(j["classes"]["age"][0]["count"] == 1);  // age 1 is the only baby
  CHECK(j["split"]["train"]["count"].get<int64_t>() + j["split"]["val"]["count"].get<int64_t>() +
            j["split"]["test"]["count"].get<int64_t>() == 61);
  CHECK(j["split"]["integrity"].get<std::string>().find("ok") == 0);
  const std::string text = describe_text(j);
  CHECK(text.find("39_1_20170116174525125.jpg.chip.jpg: missing field: race  [kept: labels usable]") != std::string::npos);
  CHECK(text.find("Senior 59+") != std::string::npos);

  // seed000 needs race: the face without one is dropped and counted, as are the under-7s
  const Prepared s = read_and_label(dir.str(), "seed000");
  CHECK(s.label_drops.at("no race label") == 1);
  CHECK(s.label_drops.at("age under the first edge 7") == 6);
  CHECK(s.labelled.size() == 54);

  // a split written and read back gives the same table
  write_split(dir.file("split.txt"), split);
  req.split_file = dir.file("split.txt");
  CHECK(describe(p, make_split(p.labelled, req))["split"]["test"] == j["split"]["test"]);
}

TEST_CASE("balancing: halve one class, undersample to the smallest, inverse-frequency weights", "[data][balance]") {
  TempDir dir;
  make_utkface(dir);
  const Prepared p = read_and_label(dir.str(), "race");  // 12 faces per race
  CHECK(class_counts(p.labelled, p.scheme, 0) == std::vector<int64_t>{12, 12, 12, 12, 12});
  const Balanced half = balance(p.labelled, p.scheme, "undersample:race:0:0.5", 3);
  CHECK(class_counts(half.data, p.scheme, 0) == std::vector<int64_t>{6, 12, 12, 12, 12});
  CHECK(balance(p.labelled, p.scheme, "undersample:race:0:0.5", 3).data.samples[0].name == half.data.samples[0].name);
  const Balanced smallest = balance(half.data, p.scheme, "smallest:race", 3);
  CHECK(class_counts(smallest.data, p.scheme, 0) == std::vector<int64_t>{6, 6, 6, 6, 6});
  const Balanced w = balance(half.data, p.scheme, "weighted:race", 3);
  CHECK(w.data.size() == half.data.size());
  REQUIRE(w.weights.size() == half.data.size());
  for (size_t i = 0; i < w.weights.size(); ++i)
    CHECK(w.weights[i] == Approx(w.data.samples[i].labels[0] == 0 ? 1.0 / 6 : 1.0 / 12));
  CHECK(balance(p.labelled, p.scheme, "none", 1).data.size() == 60);
  CHECK_THROWS_WITH(balance(p.labelled, p.scheme, "undersample:age:0:0.5", 1), Catch::Contains("no task 'age'"));
  CHECK_THROWS_WITH(balance(p.labelled, p.scheme, "halve", 1), Catch::Contains("use none, undersample"));
}
