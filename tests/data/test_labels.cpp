// Every label scheme's edges, class names, targets and drop rules.
#include <catch2/catch.hpp>

#include "data/labels.h"
#include "data/readers.h"

using namespace facet::data;

namespace {
Sample face(int age, int gender, int race) {
  Sample s;
  s.age = age, s.gender = gender, s.race = race;
  return s;
}
std::vector<int32_t> classes_of(const LabelScheme& sc, const Sample& s) {
  std::vector<int32_t> c;
  std::vector<float> t;
  std::string why;
  return sc.label(s, c, t, why) ? c : std::vector<int32_t>{};
}
}  // namespace

TEST_CASE("groups10: the ten ordinal groups of study C, every age 0..116", "[data][labels]") {
  const LabelScheme s = make_scheme("groups10");
  REQUIRE(s.tasks.size() == 1);
  CHECK(s.tasks[0].classes.front() == "Baby 0-1");
  CHECK(s.tasks[0].classes.back() == "Senior 59+");
  const int hi[10] = {1, 3, 8, 13, 18, 24, 34, 44, 58, 116};  // oldest age of each group
  int g = 0;
  for (int age = 0; age <= 116; ++age) {
    if (age > hi[g]) ++g;
    INFO("age " << age);
    REQUIRE(s.age_class(age) == g);
  }
}

TEST_CASE("bin10, intuition, custom edges: class i holds e_i .. e_{i+1}-1", "[data][labels]") {
  const LabelScheme b = make_scheme("bin10");
  CHECK(b.age_edges == std::vector<int>{0, 10, 20, 30, 40, 50, 60, 70, 80, 90});
  CHECK(b.tasks[0].classes.front() == "0-9");
  CHECK(b.tasks[0].classes.back() == "90+");
  CHECK(b.age_class(9) == 0);
  CHECK(b.age_class(10) == 1);
  CHECK(b.age_class(116) == 9);
  const LabelScheme i = make_scheme("intuition");
  CHECK(i.age_edges == std::vector<int>{0, 3, 13, 20, 35, 50, 65});
  CHECK(i.tasks[0].classes == std::vector<std::string>{"0-2", "3-12", "13-19", "20-34", "35-49", "50-64", "65+"});
  const LabelScheme c = make_scheme("0,7,13,20,30,45,60");
  CHECK(c.tasks.size() == 1);
  CHECK(c.tasks[0].classes == std::vector<std::string>{"0-6", "7-12", "13-19", "20-29", "30-44", "45-59", "60+"});
  CHECK(c.age_class(44) == 4);
  CHECK(c.age_class(45) == 5);
  const LabelScheme one = make_scheme("5,6,10");
  CHECK(one.tasks[0].classes == std::vector<std::string>{"5", "6-9", "10+"});
  CHECK(one.age_class(4) == -1);
}

TEST_CASE("seed000: ages under 7 dropped, six ordinal ranges, gender and race heads", "[data][labels]") {
  const LabelScheme s = make_scheme("seed000");
  REQUIRE(s.tasks.size() == 3);
  CHECK(s.tasks[0].name == "age");
  CHECK(s.tasks[1].name == "gender");
  CHECK(s.tasks[2].name == "race");
  CHECK(s.age_edges == std::vector<int>{7, 13, 20, 30, 45, 60});
  CHECK(s.tasks[0].classes == std::vector<std::string>{"7-12", "13-19", "20-29", "30-44", "45-59", "60+"});
  CHECK(s.tasks[2].classes == std::vector<std::string>{"White", "Black", "Asian", "Indian", "Others"});
  CHECK(classes_of(s, face(7, 1, 3)) == std::vector<int32_t>{0, 1, 3});
  CHECK(classes_of(s, face(60, 0, 4)) == std::vector<int32_t>{5, 0, 4});
  std::vector<int32_t> c;
  std::vector<float> t;
  std::string why;
  CHECK_FALSE(s.label(face(6, 1, 0), c, t, why));
  CHECK(why == "age 6 under the first edge 7");
  CHECK_FALSE(s.label(face(30, 1, -1), c, t, why));
  CHECK(why == "no race label");
}

TEST_CASE("adience8: Adience groups as given, exact ages by the documented nearest rule", "[data][labels]") {
  const LabelScheme s = make_scheme("adience8");
  CHECK(s.tasks[0].classes == std::vector<std::string>{"0-2", "4-6", "8-12", "15-20", "25-32", "38-43", "48-53", "60-100"});
  const int first[8] = {0, 4, 8, 14, 23, 36, 46, 57};
  for (int g = 0; g < 8; ++g) {
    CHECK(s.age_class(first[g]) == g);
    if (g) CHECK(s.age_class(first[g] - 1) == g - 1);
  }
  Sample a;
  a.age_group = 6;
  a.gender = 0;
  CHECK(classes_of(s, a) == std::vector<int32_t>{6});
  // a scheme with exact-age edges cannot label a face that only has a group
  std::vector<int32_t> c;
  std::vector<float> t;
  std::string why;
  CHECK_FALSE(make_scheme("bin10").label(a, c, t, why));
  CHECK(why.find("no exact age") == 0);
}

TEST_CASE("gender, race, 2hot and tuple", "[data][labels]") {
  CHECK(classes_of(make_scheme("gender"), face(-1, 1, -1)) == std::vector<int32_t>{1});
  CHECK(classes_of(make_scheme("race"), face(-1, -1, 2)) == std::vector<int32_t>{2});
  CHECK(make_scheme("gender").tasks[0].classes == std::vector<std::string>{"male", "female"});

  Sample s;
  s.age_group = 3;
  s.gender = 1;
  std::vector<int32_t> c;
  std::vector<float> t;
  std::string why;
  const LabelScheme two = make_scheme("2hot");
  CHECK(two.target_dim == 10);
  REQUIRE(two.label(s, c, t, why));
  CHECK(c == std::vector<int32_t>{3, 1});
  CHECK(t == std::vector<float>{0, 0, 0, 1, 0, 0, 0, 0, 0, 1});
  const LabelScheme tup = make_scheme("tuple");
  REQUIRE(tup.label(s, c, t, why));
  CHECK(t == std::vector<float>{3, 1});
  s.gender = -1;
  CHECK_FALSE(two.label(s, c, t, why));
}

TEST_CASE("balanced: quantile edges give equal counts as far as integer ages allow", "[data][labels]") {
  std::vector<int> ages;
  for (int a = 0; a < 100; ++a) ages.push_back(a);
  CHECK(quantile_edges(ages, 4) == std::vector<int>{0, 25, 50, 75});
  // ties: the cut goes on the side of the run of equal ages that is closer to the target count
  CHECK(quantile_edges({1, 1, 1, 1, 2, 3, 4, 5}, 2) == std::vector<int>{0, 2});
  CHECK(quantile_edges({1, 1, 1, 1, 1, 1, 1, 5}, 2) == std::vector<int>{0, 2});
  CHECK(quantile_edges({3, 3, 3, 3}, 3) == std::vector<int>{0});  // no cut leaves both sides non-empty
  CHECK(quantile_edges({5, 5, 9, 9}, 2) == std::vector<int>{0, 6});
  const LabelScheme b = make_scheme("balanced:4", ages);
  CHECK(b.age_edges == std::vector<int>{0, 25, 50, 75});
  CHECK(make_scheme("balanced", ages).age_edges.size() == 10);
  CHECK_THROWS_WITH(make_scheme("balanced"), Catch::Contains("no ages were given"));
}

TEST_CASE("composition, errors and round trip through JSON", "[data][labels]") {
  const LabelScheme s = make_scheme("groups10+gender");
  CHECK(s.tasks.size() == 2);
  CHECK(s.gender_task == 1);
  CHECK_THROWS_WITH(make_scheme("0,7,5"), Catch::Contains("must increase strictly"));
  CHECK_THROWS_WITH(make_scheme("ages"), Catch::Contains("unknown part 'ages'"));
  CHECK_THROWS_WITH(make_scheme("gender+gender"), Catch::Contains("gender twice"));
  CHECK_THROWS_WITH(make_scheme("bin10+groups10"), Catch::Contains("two age parts"));
  CHECK_THROWS_WITH(make_scheme("0,200"), Catch::Contains("above the oldest age"));
  for (const auto& name : scheme_presets()) {
    std::vector<int> ages{1, 2, 3, 10, 20, 30, 40, 50, 60, 70, 80, 90};
    const LabelScheme a = make_scheme(name, ages);
    const LabelScheme b = LabelScheme::from_json(a.to_json());
    CHECK(b.to_json() == a.to_json());
    for (int age = 0; age <= 116; ++age) REQUIRE(a.age_class(age) == b.age_class(age));
  }
}

TEST_CASE("apply_scheme keeps what it can label and counts the rest by reason", "[data][labels]") {
  Dataset ds;
  ds.samples = {face(5, 0, 0), face(6, 1, 1), face(20, 0, -1), face(30, 1, 2), face(-1, 1, 2)};
  const LabelScheme s = make_scheme("seed000");
  const auto dropped = apply_scheme(ds, s);
  REQUIRE(ds.size() == 1);
  CHECK(ds.samples[0].labels == std::vector<int32_t>{3, 1, 2});  // 30 is in 30-44
  CHECK(dropped.at("age under the first edge 7") == 2);
  CHECK(dropped.at("no race label") == 1);
  CHECK(dropped.at("no age label") == 1);
  CHECK(class_counts(ds, s, 0) == std::vector<int64_t>{0, 0, 0, 1, 0, 0});
}
