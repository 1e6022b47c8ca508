// Adience fold files: the noisy ages exactly as they occur in the real files, unknown genders, the image layout
// of the benchmark (generated images), missing images and broken rows.
#include <catch2/catch.hpp>

#include <filesystem>

#include "data/readers.h"
#include "tests/data/helpers.h"

using namespace facet::data;
using facet::test::TempDir;

namespace {
// Rows copied from the real fold files (tab-separated), covering every kind of age value that occurs there.
const char* const kHeader =
    "user_id\toriginal_image\tface_id\tage\tgender\tx\ty\tdx\tdy\ttilt_ang\tfiducial_yaw_angle\tfiducial_score\n";
const char* const kFold0 =
    "30601258@N03\t10399646885_67c7d20df9_o.jpg\t1\t(25, 32)\tf\t0\t414\t1086\t1383\t-115\t30\t17\n"
    "30601258@N03\t10424815813_e94629b1ec_o.jpg\t2\t(25, 32)\tm\t301\t105\t640\t641\t0\t0\t94\n"
    "9017386@N06\t11793675354_e1761c4c06_o.jpg\t206\t(38, 48)\tm\t1024\t443\t313\t312\t0\t0\t90\n"
    "37303189@N08\t10295123316_9e9f19b7ce_o.jpg\t92\tNone\t\t637\t951\t485\t484\t-80\t0\t20\n"
    "29671106@N00\t10211585463_7258e6f135_o.jpg\t186\t(0, 2)\tu\t894\t301\t1185\t1185\t190\t-30\t79\n"
    "20254529@N04\t9981741125_90b35e93af_o.jpg\t35\t(38, 43)\tf\t1464\t913\t262\t261\t-5\t0\t39";  // no final newline
const char* const kFold1 =
    "35953373@N04\t9494119869_174fb904e7_o.jpg\t905\t(8, 23)\tm\t1351\t164\t893\t892\t-5\t0\t80\n"
    "104937236@N08\t11852401355_e54eba57b6_o.jpg\t908\t(27, 32)\tf\t1310\t725\t573\t573\t-90\t0\t90\n"
    "114987449@N03\t12057569723_2b1c1bcc18_o.jpg\t646\t(38, 42)\tm\t675\t975\t619\t618\t-75\t0\t6\n"
    "114841417@N06\t12076779535_2bf0f4afbb_o.jpg\t489\t35\tf\t187\t267\t708\t693\t-95\t-30\t10\n"
    "114841417@N06\t12059865494_dace7a1325_o.jpg\t485\t13\tf\t1346\t294\t1001\t1001\t10\t0\t102\n"
    "114841417@N06\t12059865495_dace7a1325_o.jpg\t485\t(25, 23)\tf\t1346\t294\t1001\t1001\t10\t0\t102\n"
    "114841417@N06\t12059865496_dace7a1325_o.jpg\t485\tNone\tm\t1346\t294\t1001\t1001\t10\t0\t102\n"
    "broken row without tabs\n"
    "114841417@N06\t12059865497_dace7a1325_o.jpg\t485\t(forty)\tm\t1\t2\t3\t4\t5\t6\t7\n";
}  // namespace

TEST_CASE("Adience ages: the 8 groups, stray ranges by midpoint, bare ages by nearest group", "[data][adience]") {
  for (int g = 0; g < kAdienceGroups; ++g) {
    const AdienceAge a = parse_adience_age(adience_group_name(g));
    CHECK(a.kind == AdienceAge::standard);
    CHECK(a.group == g);
  }
  struct Case { const char* text; int group; };
  const Case mapped[] = {{"(27, 32)", 4}, {"(38, 42)", 5}, {"(38, 48)", 5}, {"(8, 23)", 3}, {"(25, 23)", 4},
                         {"35", 4},       {"13", 2},       {"22", 3},       {"23", 4},      {"2", 0},
                         {"3", 0},        {"34", 4},       {"36", 5},       {"45", 5},      {"46", 6},
                         {"55", 6},       {"56", 6},       {"57", 7},       {"58", 7},      {"29", 4}};
  for (const auto& c : mapped) {
    INFO(c.text);
    const AdienceAge a = parse_adience_age(c.text);
    CHECK(a.kind == AdienceAge::mapped);
    CHECK(a.group == c.group);
  }
  CHECK(parse_adience_age("35").age == 35);
  CHECK(parse_adience_age("None").kind == AdienceAge::none);
  CHECK(parse_adience_age("").kind == AdienceAge::none);
  CHECK(parse_adience_age("(forty)").kind == AdienceAge::bad);
  CHECK(parse_adience_age("(27, 32)", AdienceAgePolicy::strict).kind == AdienceAge::dropped);
  CHECK(parse_adience_age("35", AdienceAgePolicy::strict).group == -1);
  CHECK(parse_adience_age("(25, 32)", AdienceAgePolicy::strict).group == 4);
  // gap boundaries go to the younger group; integer ages -> edges 0, 4, 8, 14, 23, 36, 46, 57
  const int first_age_of_group[8] = {0, 4, 8, 14, 23, 36, 46, 57};
  for (int g = 1; g < 8; ++g) {
    CHECK(adience_group_of_age(first_age_of_group[g]) == g);
    CHECK(adience_group_of_age(first_age_of_group[g] - 1) == g - 1);
  }
  CHECK(adience_group_of_age(116) == 7);
}

TEST_CASE("Adience fold files: noisy rows mapped or dropped and counted, images resolved under a root", "[data][adience]") {
  TempDir dir;
  facet::test::write_text(dir.file("fold_0_data.txt"), std::string(kHeader) + kFold0);
  facet::test::write_text(dir.file("fold_1_data.txt"), std::string(kHeader) + kFold1);

  SECTION("labels only (no aligned/ folder)") {
    const ReadResult r = read_adience(dir.str());
    const Report& rep = r.report;
    CHECK(rep.entries == 15);
    CHECK(r.data.size() == 13);  // 15 rows - the broken one - the one without any label ((forty) keeps gender m)
    CHECK(rep.malformed.size() == 2);  // the row without tabs, the unreadable age
    CHECK(rep.skipped.size() == 1);    // None age + empty gender
    CHECK(rep.skipped[0].name == "fold_0_data.txt:5");
    CHECK(rep.counts.at("age mapped: (27, 32) -> (25, 32)") == 1);
    CHECK(rep.counts.at("age mapped: (8, 23) -> (15, 20)") == 1);
    CHECK(rep.counts.at("age mapped: 35 -> (25, 32)") == 1);
    CHECK(rep.counts.at("age None") == 2);
    CHECK(rep.counts.at("gender u") == 1);
    CHECK(rep.counts.at("gender empty") == 1);
    REQUIRE(rep.notes.size() == 4);  // folds 2, 3, 4 absent; no image folder
    CHECK(rep.notes[0].find("fold_2_data.txt not found") == 0);
    CHECK(rep.notes[3].find("no aligned/ folder") == 0);
    const Sample& first = r.data.samples[0];
    CHECK(first.name == "aligned/30601258@N03/landmark_aligned_face.1.10399646885_67c7d20df9_o.jpg");
    CHECK(first.subject == "30601258@N03");  // the album (user_id) is the subject key of splits
    CHECK(first.fold == 0);
    CHECK(first.age_group == 4);
    CHECK(first.age == -1);
    CHECK(first.gender == 1);
    // the "u" gender row keeps its age group
    const auto it = std::find_if(r.data.samples.begin(), r.data.samples.end(),
                                 [](const Sample& s) { return s.subject == "29671106@N00"; });
    REQUIRE(it != r.data.samples.end());
    CHECK(it->gender == -1);
    CHECK(it->age_group == 0);
    // unified set = both labels
    const auto both = std::count_if(r.data.samples.begin(), r.data.samples.end(),
                                    [](const Sample& s) { return s.age_group >= 0 && s.gender >= 0; });
    CHECK(both == 10);
    // the five kept rows of album 114841417@N06 (faces 489 and 485) are one subject
    CHECK(std::count_if(r.data.samples.begin(), r.data.samples.end(),
                        [](const Sample& s) { return s.subject == "114841417@N06"; }) == 5);
  }
  SECTION("strict ages drop every non-standard value") {
    AdienceOptions o;
    o.ages = AdienceAgePolicy::strict;
    const ReadResult r = read_adience(dir.str(), o);
    const auto grouped = std::count_if(r.data.samples.begin(), r.data.samples.end(), [](const Sample& s) { return s.age_group >= 0; });
    CHECK(grouped == 4);  // (25, 32) x2, (0, 2), (38, 43): none of the stray values
    CHECK(r.report.counts.at("age dropped (strict policy): (27, 32)") == 1);
  }
  SECTION("images under aligned/: present ones decoded-checked, missing ones counted") {
    namespace fs = std::filesystem;
    const std::string user = "30601258@N03";
    fs::create_directories(dir.file("aligned/" + user));
    facet::test::write_jpeg_file(dir.file("aligned/" + user + "/landmark_aligned_face.1.10399646885_67c7d20df9_o.jpg"), 24, 24, 3, 1);
    facet::test::write_jpeg_file(dir.file("aligned/" + user + "/landmark_aligned_face.2.10424815813_e94629b1ec_o.jpg"), 24, 24, 3, 2);
    AdienceOptions o;
    o.folds = {0};
    const ReadResult r = read_adience(dir.str(), o);
    CHECK(r.data.size() == 2);
    CHECK(r.report.counts.at("skipped: image missing") == 3);
    CHECK(r.data.samples[1].content_hash != 0);
    CHECK(r.report.notes.empty());  // only fold 0 asked for, images present
  }
  SECTION("no fold files is an error that says what to pass") {
    TempDir empty;
    CHECK_THROWS_WITH(read_adience(empty.str()), Catch::Contains("no fold_<k>_data.txt"));
    CHECK(detect_format(dir.str()) == Format::adience);
    CHECK(detect_format(empty.str()) == Format::utkface);
  }
}
