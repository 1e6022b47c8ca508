// The UTKFace CSV form (study C): 48x48 grayscale pixels as text, read into in-memory images.
#include <catch2/catch.hpp>

#include <sstream>

#include "data/loader.h"
#include "data/readers.h"
#include "tests/data/helpers.h"

using namespace facet::data;
using facet::test::TempDir;

namespace {
std::string pixels_text(int n, int seed) {
  std::ostringstream os;
  for (int i = 0; i < n; ++i) os << (i ? " " : "") << (i * 7 + seed * 13) % 256;
  return os.str();
}
}  // namespace

TEST_CASE("UTKFace CSV: rows become in-memory gray images, bad rows are reported", "[data][csv]") {
  TempDir dir;
  std::ostringstream csv;
  csv << "age,ethnicity,gender,img_name,pixels\n";
  csv << "26,2,1,20170116174525125.jpg.chip.jpg," << pixels_text(48 * 48, 1) << "\n";
  csv << "1,0,0,20161219203650636.jpg.chip.jpg,\"" << pixels_text(48 * 48, 2) << "\"\r\n";  // quoted, CRLF
  csv << "40,4,0,20170110225505288.jpg.chip.jpg," << pixels_text(101, 3) << "\n";            // not square
  csv << "40,4,0,bad_pixel.jpg," << pixels_text(3, 3) << " 300\n";                               // 4 values, one > 255
  csv << "200,9,5,all_bad.jpg," << pixels_text(48 * 48, 4) << "\n";                            // no usable label
  csv << "33,7,1,bad_race.jpg," << pixels_text(48 * 48, 5) << "\n";                            // race unusable, kept
  csv << "26,2,1,20170116174525125.jpg.chip.jpg," << pixels_text(48 * 48, 1) << "\n";          // same as row 1
  csv << "27,2,1,20170116174525125.jpg.chip.jpg," << pixels_text(48 * 48, 6) << "\n";          // repeated name
  facet::test::write_text(dir.file("age_gender.csv"), csv.str());

  const ReadResult r = read_utkface_csv(dir.file("age_gender.csv"));
  CHECK(r.data.source == "utkface-csv");
  CHECK(r.report.entries == 8);
  // kept: row 1 (its copy row 7 agrees -> one kept), row 2, bad_race, the renamed row 8
  INFO(r.report.to_text());
  REQUIRE(r.data.size() == 4);
  const Sample& s = r.data.samples[0];
  CHECK(s.name == "20170116174525125.jpg.chip.jpg");
  CHECK((s.age == 26 && s.race == 2 && s.gender == 1));
  REQUIRE(s.pixels);
  CHECK((s.pixels->w == 48 && s.pixels->h == 48 && s.pixels->c == 1));
  CHECK(s.pixels->pixels[1] == (7 + 13) % 256);
  CHECK(r.data.samples[1].age == 1);
  CHECK(r.data.samples[2].race == -1);
  CHECK(r.data.samples[3].name == "20170116174525125.jpg.chip.jpg#2");
  CHECK(r.report.duplicates.size() == 1);
  CHECK_FALSE(r.report.duplicates[0].conflict);
  // malformed: not square, bad pixel, all bad, bad race (kept), the name repeated twice (kept)
  CHECK(r.report.malformed.size() == 6);
  CHECK(r.report.malformed[0].reason == "101 pixels, not a square image");

  // The loader serves in-memory images like files (gray -> 3 channels when asked).
  Image img;
  std::string error;
  REQUIRE(load_sample_image(s, 3, img, error));
  CHECK((img.c == 3 && img.pixels[3] == s.pixels->pixels[1] && img.pixels[4] == s.pixels->pixels[1]));
  CHECK(detect_format(dir.file("age_gender.csv")) == Format::csv);
}

TEST_CASE("UTKFace CSV: a missing column or file is an error naming it", "[data][csv]") {
  TempDir dir;
  facet::test::write_text(dir.file("x.csv"), "age,gender,img_name,pixels\n1,0,a,0 0 0 0\n");
  CHECK_THROWS_WITH(read_utkface_csv(dir.file("x.csv")), Catch::Contains("no column 'ethnicity'"));
  CHECK_THROWS_WITH(read_utkface_csv(dir.file("none.csv")), Catch::Contains("cannot open"));
}

// Regression (tests/fuzz/fuzz_csv under UBSan, docs/reliability.md): a pixel written as a long run of digits
// overflowed the int it was read into (undefined behaviour) before it was refused.
TEST_CASE("UTKFace CSV: a pixel of many digits is refused without overflow (fuzz regression)",
          "[data][csv][fuzz]") {
  TempDir dir;
  facet::test::write_text(dir.file("long.csv"), "age,ethnicity,gender,img_name,pixels\n"
                                                "26,2,1,long.jpg,1 2 2016121914999 4\n");
  const ReadResult r = read_utkface_csv(dir.file("long.csv"));
  CHECK(r.data.size() == 0);
  REQUIRE(r.report.malformed.size() == 1);
  CHECK(r.report.malformed[0].reason.find("pixel 2 is above 255") != std::string::npos);
}
