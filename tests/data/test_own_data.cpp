// Your own data: image folders and manifests (data/folder.cpp, data/manifest.cpp), their label schemes
// (data/attributes.h), and every bad manifest failing with the file, line and column.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "data/attributes.h"
#include "data/readers.h"
#include "data/stats.h"
#include "tests/data/helpers.h"

using namespace facet::data;
using facet::test::TempDir;
namespace fs = std::filesystem;

namespace {

void write_png_file(const std::string& path, unsigned seed, int side = 12) {
  fs::create_directories(fs::path(path).parent_path());
  write_png(path, facet::test::pattern_image(side, side, 3, seed));
}

void write_text(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

// Runs `f`, which must throw an exception whose message holds every one of `parts`.
template <class F>
void require_error(F f, std::initializer_list<std::string> parts) {
  try {
    f();
  } catch (const std::exception& e) {
    INFO(e.what());
    for (const auto& p : parts) CHECK_THAT(e.what(), Catch::Contains(p));
    return;
  }
  FAIL("no exception; expected one naming: " << *parts.begin());
}

}  // namespace

TEST_CASE("image folder: classes sorted, bad files skipped and counted, copies found", "[data][folder]") {
  TempDir d;
  const std::string root = d.file("photos");
  for (unsigned i = 0; i < 4; ++i) write_png_file(root + "/dog/d" + std::to_string(i) + ".png", 10 + i);
  for (unsigned i = 0; i < 3; ++i) write_png_file(root + "/cat/c" + std::to_string(i) + ".PNG", 20 + i);
  write_png_file(root + "/cat/sub/deep.png", 30);             // nested: still class "cat"
  fs::copy_file(root + "/cat/c0.PNG", root + "/dog/copy.png");  // byte-identical, other class: a conflict
  write_text(root + "/cat/notes.txt", "not an image");
  CHECK(detect_format(root) == Format::folder);  // class folders holding images, none at the top
  write_text(root + "/loose.png", "outside any class folder");
  CHECK(detect_format(root) == Format::utkface);  // an image at the top: read as UTKFace unless told
  write_text(root + "/dog/broken.jpg", "\xFF\xD8\xFF truncated");
  fs::create_directories(root + "/empty");

  ReadOptions folder;
  folder.format = Format::folder;
  const ReadResult r = read_dataset(root, folder);
  CHECK(r.data.source == "folder");
  CHECK(r.data.columns == std::vector<std::string>{"class"});
  CHECK(r.report.counts.at("skipped: not an image file") == 1);
  CHECK(r.report.counts.at("skipped: outside a class folder") == 1);
  CHECK(r.report.counts.at("skipped: bad image file") == 1);
  REQUIRE(r.report.duplicates.size() == 1);
  CHECK(r.report.duplicates[0].conflict);
  CHECK(r.report.duplicates_dropped == 2);  // drop-conflicts: c0.PNG and copy.png both go
  CHECK(r.data.size() == 4 + 3);            // dogs d0..d3; cats c1, c2, sub/deep
  bool empty_noted = false;
  for (const auto& n : r.report.notes) empty_noted |= n.find("'empty'") != std::string::npos;
  CHECK(empty_noted);

  const LabelScheme s = scheme_for(r.data, "");
  REQUIRE(s.tasks.size() == 1);
  CHECK(s.tasks[0].name == "class");
  CHECK(s.tasks[0].classes == std::vector<std::string>{"cat", "dog"});
  CHECK(class_map(s)["tasks"][0]["index"]["dog"] == 1);
  Dataset labelled = r.data;
  apply_scheme(labelled, s);
  CHECK(class_counts(labelled, s, 0) == std::vector<int64_t>{3, 4});
  // The scheme survives its saved form (checkpoints, config.json) unchanged.
  CHECK(LabelScheme::from_json(s.to_json()).to_json() == s.to_json());
  CHECK_THROWS_WITH(read_image_folder(d.file("nope")), Catch::Contains("is not a directory"));
}

TEST_CASE("manifest: blank cells label nothing for that head, numeric columns binned", "[data][manifest]") {
  TempDir d;
  for (unsigned i = 0; i < 6; ++i) write_png_file(d.file("img/" + std::to_string(i) + ".png"), 40 + i);
  write_text(d.file("labels.csv"),
             "\xEF\xBB\xBFpath,mood,age,note\r\n"
             "img/0.png,happy,3,x\r\n"
             "img/1.png,,30,\r\n"     // no mood
             "img/2.png,sad,,\r\n"    // no age
             "\r\n"                   // blank lines are skipped
             "./img/3.png,\"happy\",12.5,\r\n"
             "img/4.png,,,\r\n"       // no label at all: dropped
             "img/5.png,sad,-2,\r\n"  // age under the first edge, mood kept
             "img/missing.png,sad,4,\r\n");
  CHECK(detect_format(d.file("labels.csv")) == Format::manifest);
  const ReadResult r = read_dataset(d.file("labels.csv"));
  CHECK(r.data.columns == std::vector<std::string>{"mood", "age", "note"});
  CHECK(r.report.counts.at("skipped: unreadable file") == 1);  // the missing image: skipped, counted
  REQUIRE(r.data.size() == 6);
  CHECK(r.data.samples[3].name == "img/3.png");  // normalized: the split files' key
  CHECK(r.data.samples[3].origin == "labels.csv:6");

  const LabelScheme s = scheme_for(r.data, "age:edges=0,7,13+note:skip");
  REQUIRE(s.tasks.size() == 2);
  CHECK(s.tasks[0].classes == std::vector<std::string>{"happy", "sad"});
  CHECK(s.tasks[1].classes == std::vector<std::string>{"0-6", "7-12", "13+"});
  CHECK(column_notes(r.data, s).size() == 1);  // note: not a head
  Dataset labelled = r.data;
  const auto drops = apply_scheme(labelled, s);
  CHECK(drops.begin()->second == 1);  // img/4.png
  REQUIRE(labelled.size() == 5);
  auto labels_of = [&](const std::string& name) {
    for (const auto& x : labelled.samples)
      if (x.name == name) return x.labels;
    return std::vector<int32_t>{};
  };
  CHECK(labels_of("img/0.png") == std::vector<int32_t>{0, 0});
  CHECK(labels_of("img/1.png") == std::vector<int32_t>{-1, 2});
  CHECK(labels_of("img/2.png") == std::vector<int32_t>{1, -1});
  CHECK(labels_of("img/3.png") == std::vector<int32_t>{0, 1});
  CHECK(labels_of("img/5.png") == std::vector<int32_t>{1, -1});
  const LabelScheme back = LabelScheme::from_json(s.to_json());
  CHECK(back.tasks[1].edges == std::vector<double>{0, 7, 13});
  CHECK(back.kind == "attributes");
  CHECK(back.age_task == -1);  // a column named like a face task stays a column

  // A numeric column read as categories sorts numerically; whole edges name their bins like ages.
  const LabelScheme cats = scheme_for(r.data, "mood:skip+note:skip");
  CHECK(cats.tasks[0].classes == std::vector<std::string>{"-2", "3", "12.5", "30"});
  const LabelScheme frac = scheme_for(r.data, "age:edges=0.5,2.5+mood:skip+note:skip");
  CHECK(frac.tasks[0].classes == std::vector<std::string>{"[0.5, 2.5)", ">= 2.5"});
}

TEST_CASE("manifest: the same file twice and byte-identical copies", "[data][manifest]") {
  TempDir d;
  write_png_file(d.file("a.png"), 1);
  write_png_file(d.file("b.png"), 2);
  write_png_file(d.file("c.png"), 3);
  fs::copy_file(d.file("c.png"), d.file("c_copy.png"));
  write_text(d.file("m.csv"), "path,k\na.png,x\na.png,x\nb.png,x\nb.png,y\nc.png,z\nc_copy.png,z\n");
  const ReadResult r = read_manifest(d.file("m.csv"));
  CHECK(r.report.counts.at("skipped: same path again") == 1);               // a.png, agreeing: first kept
  CHECK(r.report.counts.at("skipped: same path, conflicting labels") == 1);  // b.png: both dropped
  REQUIRE(r.report.duplicates.size() == 1);                                  // c.png = c_copy.png
  CHECK(!r.report.duplicates[0].conflict);
  std::vector<std::string> names;
  for (const auto& s : r.data.samples) names.push_back(s.name);
  CHECK(names == std::vector<std::string>{"a.png", "c.png"});
  const ReadResult keep = read_manifest(d.file("m.csv"), {DuplicatePolicy::keep_first});
  CHECK(keep.data.size() == 3);  // a, b (first row), c
}

TEST_CASE("manifest and folder: splits are stratified by every head and written", "[data][manifest]") {
  TempDir d;
  std::string csv = "path,shape,size\n";
  for (unsigned i = 0; i < 40; ++i) {
    // (appended, not "i" + std::to_string(i): gcc 12 gives a false -Wrestrict warning on that form here)
    const std::string name = std::string("i").append(std::to_string(i)).append(".png");
    write_png_file(d.file(name), 100 + i);
    csv += name + "," + (i % 4 == 0 ? "round" : "square") + "," + (i % 3 ? "" : "big") + "\n";
  }
  write_text(d.file("m.csv"), csv);
  const Prepared p = read_and_label(d.file("m.csv"), "", {});
  SplitRequest req;
  req.stratified.val = 0.25, req.stratified.test = 0.25;
  const Split split = make_split(p.labelled, req);
  write_split(d.file("split.txt"), split);
  const SplitSets sets = apply_split(p.labelled, read_split(d.file("split.txt")));
  CHECK(sets.train.size() + sets.val.size() + sets.test.size() == 40);
  for (const Dataset* set : {&sets.train, &sets.val, &sets.test})
    CHECK(class_counts(*set, p.scheme, 0)[0] >= 2);  // 10 round faces: 5 / 2-3 / 2-3
  const nlohmann::json j = describe(p, split);
  CHECK(j["unlabelled"]["size"] == 26);
  CHECK(j["columns"] == nlohmann::json({"shape", "size"}));
  CHECK_THAT(describe_text(j), Catch::Contains("(no label)"));
}

TEST_CASE("manifest bad input: every fault names the file, line and column", "[data][manifest][bad]") {
  TempDir d;
  write_png_file(d.file("in/a.png"), 1);
  const std::string m = d.file("in/labels.csv");
  auto with = [&](const std::string& text) {
    write_text(m, text);
    return [&] { read_manifest(m); };
  };
  require_error(with("file,mood\na.png,x\n"), {"labels.csv:1", "no 'path' column"});
  require_error(with("path\na.png\n"), {"labels.csv:1", "no attribute column"});
  require_error(with("path,mood,,x\n"), {"labels.csv:1, column 3", "names no column"});
  require_error(with("path,mood,mood\n"), {"labels.csv:1, column 3", "'mood' is named twice"});
  require_error(with("path,a:b\n"), {"labels.csv:1, column 2", "--labels uses"});
  require_error(with("path,mood\na.png,x\na.png,x,extra\n"), {"labels.csv:3", "3 fields", "header (line 1) has 2"});
  require_error(with("path,mood\na.png\n"), {"labels.csv:2", "1 fields"});
  require_error(with("path,mood\n../a.png,x\n"), {"labels.csv:2, column 1", "'..'"});
  require_error(with("path,mood\nsub/../../x.png,x\n"), {"labels.csv:2, column 1", "'..'"});
  require_error(with("path,mood\n/etc/passwd,x\n"), {"labels.csv:2, column 1", "absolute"});
  require_error(with("path,mood\n,x\n"), {"labels.csv:2, column 1", "empty path"});
  require_error(with("path,mood\na.png,\"x\n"), {"labels.csv:2, column 2", "never closed"});
  require_error(with("path,mood\na.png,x\nb.png,caf\xE9\n"), {"labels.csv:3, column 2", "0xe9", "not UTF-8"});
  require_error(with("path,mood\na.png,\xC0\x80\n"), {"labels.csv:2, column 2", "not UTF-8"});  // overlong NUL
  require_error(with(std::string("path,mood\na.png,x\0y\n", 21)), {"labels.csv:2", "NUL"});
  require_error(with(""), {"labels.csv", "empty"});
  require_error([&] { read_manifest(d.file("in/nope.csv")); }, {"nope.csv", "cannot open"});

  // A symbolic link inside the folder that leads out of it.
  write_png_file(d.file("outside/secret.png"), 2);
  fs::create_directory_symlink(d.file("outside"), d.file("in/link"));
  require_error(with("path,mood\nlink/secret.png,x\n"), {"labels.csv:2, column 1", "symbolic link"});

  // Labels: an unknown --labels column, a non-number in a binned column.
  write_text(m, "path,mood,age\na.png,x,old\n");
  const ReadResult r = read_manifest(m);
  require_error([&] { scheme_for(r.data, "nope:edges=1,2"); }, {"no column 'nope'", "its columns: mood, age"});
  require_error([&] { scheme_for(r.data, "mood:bins"); }, {"'bins' is not a way"});
  require_error([&] { scheme_for(r.data, "age:edges=5,3"); }, {"increase strictly"});
  require_error(
      [&] {
        Dataset ds = r.data;
        apply_scheme(ds, scheme_for(r.data, "age:edges=0,10"));
      },
      {"labels.csv:2, column 'age'", "'old' is not a number"});
}

TEST_CASE("manifest against a fixed class list (eval of a trained model)", "[data][manifest][bad]") {
  TempDir d;
  for (unsigned i = 0; i < 3; ++i) write_png_file(d.file(std::to_string(i) + ".png"), 60 + i);
  write_text(d.file("train.csv"), "path,mood,age\n0.png,happy,3\n1.png,sad,40\n");
  const LabelScheme trained = scheme_for(read_manifest(d.file("train.csv")).data, "");

  write_text(d.file("eval.csv"), "path,mood,age,extra\n0.png,happy,3,1\n2.png,angry,3,2\n");
  Dataset ds = read_manifest(d.file("eval.csv")).data;
  require_error([&] { apply_scheme(ds, trained); }, {"eval.csv:3, column 'mood'", "class 'angry' is not one of the 2"});
  CHECK(column_notes(ds, trained).size() == 1);  // 'extra' is named, and ignored

  write_text(d.file("eval2.csv"), "path,age\n0.png,3\n");
  Dataset no_mood = read_manifest(d.file("eval2.csv")).data;
  require_error([&] { apply_scheme(no_mood, trained); }, {"eval2.csv", "line 1", "no column 'mood'", "its columns: age"});
  // Face labels on a manifest, and columns on face data: refused, saying what to pass.
  require_error([&] { apply_scheme(no_mood, make_scheme("gender")); }, {"reads face labels", "--labels all"});
  Dataset faces;
  faces.source = "utkface";
  require_error([&] { apply_scheme(faces, trained); }, {"--format folder"});
}

TEST_CASE("utf8_error_offset", "[data][manifest]") {
  CHECK(utf8_error_offset("plain, caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80") == std::string::npos);
  CHECK(utf8_error_offset("ab\xFF") == 2);
  CHECK(utf8_error_offset("a\xC0\x80") == 1);          // overlong
  CHECK(utf8_error_offset("a\xED\xA0\x80") == 1);      // surrogate
  CHECK(utf8_error_offset("a\xF4\x90\x80\x80") == 1);  // above U+10FFFF
  CHECK(utf8_error_offset("a\xE2\x82") == 1);          // cut short
}
