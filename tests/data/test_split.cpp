// Splits: stratification, duplicates and subjects kept on one side, determinism, the split file, Adience folds.
#include <catch2/catch.hpp>

#include <cmath>
#include <map>
#include <set>

#include "data/readers.h"
#include "data/rng.h"
#include "data/split.h"
#include "tests/data/helpers.h"

using namespace facet::data;

namespace {
// n labelled samples: task 0 has 6 unbalanced classes, task 1 two; every 10th sample has a byte-identical copy
// (keep-all policy); subjects of 1..5 faces; folds by subject.
Dataset synthetic(int n) {
  Dataset ds;
  ds.source = "synthetic";
  Rng rng(42);
  int group = 0, subject = 0, left_in_subject = 0;
  for (int i = 0; i < n; ++i) {
    if (left_in_subject == 0) ++subject, left_in_subject = 1 + int(rng.below(5));
    --left_in_subject;
    Sample s;
    s.name = "face " + std::to_string(i) + ".jpg";  // a space, as in a real UTKFace name
    const int u = int(rng.below(100));
    s.labels = {u < 40 ? 0 : u < 65 ? 1 : u < 80 ? 2 : u < 90 ? 3 : u < 97 ? 4 : 5, int32_t(rng.below(2))};
    s.subject = "user" + std::to_string(subject);
    s.fold = subject % 5;
    if (i % 10 == 0) {
      s.dup_group = group;
      Sample copy = s;
      copy.name += ".copy";
      copy.labels[1] = 1 - copy.labels[1];  // conflicting labels, kept (keep-all)
      copy.dup_group = group++;
      ds.samples.push_back(copy);
    }
    ds.samples.push_back(s);
  }
  return ds;
}

std::map<std::string, int> side_of(const Split& s) {
  std::map<std::string, int> m;
  for (const auto& n : s.train) m[n] = 0;
  for (const auto& n : s.val) m[n] = 1;
  for (const auto& n : s.test) m[n] = 2;
  return m;
}
}  // namespace

TEST_CASE("stratified split: every class near its share in every set, totals near the fractions", "[data][split]") {
  const Dataset ds = synthetic(2000);
  SplitOptions o;
  o.val = 0.15, o.test = 0.2, o.seed = 7, o.stratify_task = 0;
  const Split s = stratified_split(ds, o);
  const double n = double(ds.size());
  CHECK(double(s.train.size() + s.val.size() + s.test.size()) == n);
  CHECK(std::abs(double(s.test.size()) - 0.2 * n) <= 2);  // units hold up to 2 samples (a copy)
  CHECK(std::abs(double(s.val.size()) - 0.15 * n) <= 2);
  const auto side = side_of(s);
  std::map<int, std::array<double, 3>> per_class;
  std::map<int, double> total;
  for (const auto& smp : ds.samples) {
    per_class[smp.labels[0]][size_t(side.at(smp.name))] += 1;
    total[smp.labels[0]] += 1;
  }
  for (const auto& [cls, counts] : per_class) {
    INFO("class " << cls << " of " << total[cls] << ": train " << counts[0] << " val " << counts[1] << " test " << counts[2]);
    CHECK(std::abs(counts[1] - 0.15 * total[cls]) <= 4);
    CHECK(std::abs(counts[2] - 0.2 * total[cls]) <= 4);
  }
  CHECK(check_split(ds, s, false).empty());
}

TEST_CASE("duplicates never straddle, subject-exclusive keeps each person on one side", "[data][split]") {
  const Dataset ds = synthetic(1500);
  SplitOptions o;
  const Split plain = stratified_split(ds, o);
  CHECK(check_split(ds, plain, false).empty());
  // Without subject exclusivity people do land on both sides (so the check below can fail) ...
  CHECK(straddling_subjects(ds, plain) > 0);
  CHECK_FALSE(check_split(ds, plain, true).empty());
  // ... and with it they never do.
  o.subject_exclusive = true;
  const Split exclusive = stratified_split(ds, o);
  CHECK(check_split(ds, exclusive, true).empty());
  CHECK(straddling_subjects(ds, exclusive) == 0);
  CHECK(std::abs(double(exclusive.test.size()) - 0.1 * double(ds.size())) <= 12);  // units up to 10 faces
}

TEST_CASE("splits are deterministic under a seed and change with it", "[data][split]") {
  const Dataset ds = synthetic(800);
  SplitOptions o;
  o.seed = 3;
  const Split a = stratified_split(ds, o), b = stratified_split(ds, o);
  CHECK(a.train == b.train);
  CHECK(a.val == b.val);
  CHECK(a.test == b.test);
  o.seed = 4;
  CHECK(stratified_split(ds, o).test != a.test);
}

TEST_CASE("split files round-trip, names with spaces included, bad lines name file and line", "[data][split]") {
  facet::test::TempDir dir;
  const Dataset ds = synthetic(300);
  const Split a = stratified_split(ds, {});
  write_split(dir.file("split.txt"), a);
  const Split b = read_split(dir.file("split.txt"));
  CHECK(b.train == a.train);
  CHECK(b.val == a.val);
  CHECK(b.test == a.test);
  CHECK(b.how == a.how);
  const SplitSets sets = apply_split(ds, b);
  CHECK(sets.train.size() == a.train.size());
  CHECK(sets.missing.empty());
  CHECK(sets.unassigned == 0);

  facet::test::write_text(dir.file("bad.txt"), "# facet split: x\ntrain\tface 1.jpg\nholdout\tface 2.jpg\n");
  CHECK_THROWS_WITH(read_split(dir.file("bad.txt")), Catch::Contains("line 3"));
  Split extra = a;
  extra.test.push_back("not in the data.jpg");
  CHECK(apply_split(ds, extra).missing == std::vector<std::string>{"not in the data.jpg"});
  CHECK_THROWS_WITH(write_split(dir.file("no/such/dir/s.txt"), a), Catch::Contains("cannot write"));
}

TEST_CASE("Adience folds: test is the fold, validation comes subject-exclusively from the other four", "[data][split]") {
  const Dataset ds = synthetic(1000);
  const Split s = fold_split(ds, 2, 0.1, 5);
  const auto side = side_of(s);
  for (const auto& smp : ds.samples) {
    if (smp.fold == 2) REQUIRE(side.at(smp.name) == 2);
    else REQUIRE(side.at(smp.name) != 2);
  }
  CHECK(check_split(ds, s, true).empty());
  CHECK_FALSE(s.val.empty());
  CHECK_THROWS_WITH(fold_split(ds, 7), Catch::Contains("holds no samples"));
  CHECK_THROWS_WITH(stratified_split(ds, {0.5, 0.5, 1}), Catch::Contains("together below 1"));
}

TEST_CASE("Adience subject-exclusive splits keep every user_id (album) on one side",
          "[data][split][adience]") {
  // 40 albums over the 5 folds, each with 2..4 people (face_id) of 1..3 photos: a split by user_id/face_id
  // would still put one album's people on both sides.
  facet::test::TempDir dir;
  Rng rng(9);
  std::string folds[5];
  int face_id = 0, photo = 0;
  for (int u = 0; u < 40; ++u) {
    const std::string user = std::to_string(10000 + u) + "@N0" + std::to_string(u % 10);
    for (int person = 0, people = 2 + int(rng.below(3)); person < people; ++person, ++face_id)
      for (int k = 0, photos = 1 + int(rng.below(3)); k < photos; ++k, ++photo) {
        const int group = int(rng.below(8));  // drawn one per statement: the order of draws is then fixed
        const char* gender = rng.below(2) ? "f" : "m";
        folds[u % 5] += user + "\t" + std::to_string(900000 + photo) + "_ab_o.jpg\t" +
                        std::to_string(face_id) + "\t" + adience_group_name(group) + "\t" + gender +
                        "\t0\t0\t10\t10\t0\t0\t50\n";
      }
  }
  for (int f = 0; f < 5; ++f)
    facet::test::write_text(dir.file("fold_" + std::to_string(f) + "_data.txt"),
                            "user_id\toriginal_image\tface_id\tage\tgender\tx\ty\tdx\tdy\ttilt_ang\t"
                            "fiducial_yaw_angle\tfiducial_score\n" + folds[f]);
  const Dataset ds = read_adience(dir.str()).data;
  REQUIRE(ds.size() == size_t(photo));
  // The album as the row gave it: the name is aligned/<user_id>/landmark_aligned_face.<face_id>.<image>.
  auto user_of = [](const Sample& s) { return s.name.substr(8, s.name.find('/', 8) - 8); };
  // Sets (bit k: train, val, test) each album appears in.
  auto albums_on_two_sides = [&](const Split& sp) {
    const auto side = side_of(sp);
    std::map<std::string, int> mask;
    for (const auto& s : ds.samples) mask[user_of(s)] |= 1 << side.at(s.name);
    return std::count_if(mask.begin(), mask.end(),
                         [](const auto& kv) { return (kv.second & (kv.second - 1)) != 0; });  // > 1 bit set
  };
  SplitOptions o;
  o.val = 0.2, o.test = 0.2, o.seed = 3;
  const Split plain = stratified_split(ds, o);
  CHECK(albums_on_two_sides(plain) > 0);  // the check below can fail
  o.subject_exclusive = true;
  const Split exclusive = stratified_split(ds, o);
  CHECK(albums_on_two_sides(exclusive) == 0);
  CHECK(straddling_subjects(ds, exclusive) == 0);
  CHECK(check_split(ds, exclusive, true).empty());
  CHECK_FALSE(exclusive.val.empty());
  CHECK_FALSE(exclusive.test.empty());
  // Fold protocol: test is fold 1; validation albums come whole from the other four folds.
  const Split folds_split = fold_split(ds, 1, 0.2, 4);
  CHECK(albums_on_two_sides(folds_split) == 0);
  CHECK_FALSE(folds_split.val.empty());
}
