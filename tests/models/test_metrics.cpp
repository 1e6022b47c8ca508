// Metrics on hand-made cases: every count below is worked out by hand from the listed truths and predictions.
#include <catch2/catch.hpp>

#include "models/training/metrics.h"

using namespace facet;

namespace {

AttributeSpec age4() { return {"age", {"0-9", "10-19", "20-29", "30+"}, true}; }
AttributeSpec gender() { return {"gender", {"male", "female"}, false}; }

}  // namespace

TEST_CASE("accuracy, one-off, mean class distance and the distance table on an ordinal attribute", "[metrics]") {
  Metrics m({age4()});
  // truth: 0 1 2 3 3 2 1 0 | pred: 0 2 2 0 -1 1 1 3
  // distances (defined): 0 1 0 3 . 1 0 3  -> correct 3, within one 5, sum 8 over 7 defined, 1 undefined
  m.add({{0, 1, 2, 3, 3, 2, 1, 0}}, {{0, 2, 2, 0, -1, 1, 1, 3}});
  const AttributeResult& r = m.attribute(0);
  CHECK(r.n == 8);
  CHECK(r.correct == 3);
  CHECK(r.undefined == 1);
  CHECK(r.within_one == 5);
  CHECK(r.accuracy() == Approx(3.0 / 8));
  CHECK(r.one_off() == Approx(5.0 / 8));  // the undefined prediction is not within one: it counts as wrong
  CHECK(r.mean_abs_distance() == Approx(8.0 / 7));
  CHECK(r.by_distance == std::vector<int64_t>{3, 2, 0, 2});
  CHECK(r.undefined_rate() == Approx(1.0 / 8));
}

TEST_CASE("the confusion matrix has rows = truth, columns = prediction and an undefined column", "[metrics]") {
  Metrics m({age4()});
  m.add({{0, 1, 2, 3, 3, 2, 1, 0}}, {{0, 2, 2, 0, -1, 1, 1, 3}});
  m.add({{3}}, {{3}});  // a second batch accumulates
  const auto& c = m.attribute(0).confusion;
  REQUIRE(c.size() == 4);
  CHECK(c[0] == std::vector<int64_t>{1, 0, 0, 1, 0});
  CHECK(c[1] == std::vector<int64_t>{0, 1, 1, 0, 0});
  CHECK(c[2] == std::vector<int64_t>{0, 1, 1, 0, 0});
  CHECK(c[3] == std::vector<int64_t>{1, 0, 0, 1, 1});
  int64_t total = 0;
  for (const auto& row : c)
    for (int64_t v : row) total += v;
  CHECK(total == m.attribute(0).n);
  const std::string text = confusion_text(m.attribute(0));
  CHECK(text.find("undef.") != std::string::npos);
  CHECK(text.find("3 30+") != std::string::npos);
}

TEST_CASE("samples without a true label are left out, a perfect run scores 1", "[metrics]") {
  Metrics m({gender()});
  m.add({{0, -1, 1, 1}}, {{0, 1, 1, 1}});
  CHECK(m.attribute(0).n == 3);
  CHECK(m.attribute(0).accuracy() == 1.0);
  Metrics empty({gender()});
  CHECK(empty.attribute(0).accuracy() == 0.0);  // no samples: 0, never NaN
  CHECK(empty.attribute(0).mean_abs_distance() == 0.0);
}

TEST_CASE("per-group accuracy: who the model fails", "[metrics]") {
  Metrics m({age4(), gender()}, {{"race", {"White", "Black", "Asian"}}, {"gender", {"male", "female"}}});
  //            sample:  0  1  2  3  4  5
  // age truth           0  1  2  3  1  2
  // age pred            0  1  0 -1  1  2     -> right: 0 1 4 5
  // gender truth        0  1  0  1  1  0
  // gender pred         0  0  0  1  1 -1     -> right: 0 2 3 4
  // race                0  0  1  1  2 -1
  m.add({{0, 1, 2, 3, 1, 2}, {0, 1, 0, 1, 1, 0}}, {{0, 1, 0, -1, 1, 2}, {0, 0, 0, 1, 1, -1}},
        {{0, 0, 1, 1, 2, -1}, {0, 1, 0, 1, 1, 0}});
  const auto& race = m.groups(0);
  REQUIRE(race.size() == 3);
  CHECK(race[0].n == 2);
  CHECK(race[0].accuracy(0) == Approx(1.0));  // White age: 0, 1 right
  CHECK(race[0].accuracy(1) == Approx(0.5));  // White gender: sample 1 wrong
  CHECK(race[1].accuracy(0) == Approx(0.0));  // Black age: 2 wrong, 3 undefined
  CHECK(race[1].undefined[0] == 1);
  CHECK(race[1].accuracy(1) == Approx(1.0));
  CHECK(race[2].n == 1);  // sample 5 has no race: in no race group
  const auto& by_gender = m.groups(1);
  CHECK(by_gender[0].n == 3);                         // samples 0, 2, 5
  CHECK(by_gender[0].accuracy(1) == Approx(2.0 / 3));  // sample 5's undefined gender is wrong
  CHECK(by_gender[1].accuracy(0) == Approx(2.0 / 3));  // samples 1, 3, 4: 3 undefined
  CHECK(m.mean_accuracy() == Approx((4.0 / 6 + 4.0 / 6) / 2));
}

TEST_CASE("metrics JSON and text carry every table", "[metrics]") {
  Metrics m({age4(), gender()}, {{"gender", {"male", "female"}}});
  m.add({{0, 1, 3}, {0, 1, 1}}, {{1, 1, -1}, {0, 0, 1}}, {{0, 1, 1}});
  m.add_loss(3.0, 3);
  const nlohmann::json j = m.to_json();
  CHECK(j["attributes"][0]["name"] == "age");
  CHECK(j["attributes"][0]["accuracy"].get<double>() == Approx(1.0 / 3));
  CHECK(j["attributes"][0]["one_off"].get<double>() == Approx(2.0 / 3));
  CHECK(j["attributes"][0]["by_distance"] == nlohmann::json({1, 1, 0, 0}));
  CHECK(j["attributes"][0]["confusion"][3][4] == 1);
  CHECK_FALSE(j["attributes"][1].contains("one_off"));  // gender is not ordinal
  CHECK(j["groups"]["gender"][1]["gender"]["accuracy"].get<double>() == Approx(0.5));
  CHECK(j["loss"].get<double>() == Approx(1.0));
  const std::string t = m.to_text();
  CHECK(t.find("misclassification by distance") != std::string::npos);
  CHECK(t.find("accuracy by gender") != std::string::npos);
}

TEST_CASE("metrics refuse ragged batches and out-of-range classes, naming them", "[metrics]") {
  Metrics m({age4()}, {{"race", {"White"}}});
  CHECK_THROWS_WITH(m.add({{0, 1}}, {{0}}), Catch::Contains("attribute 'age'"));
  CHECK_THROWS_WITH(m.add({{0}}, {{4}}), Catch::Contains("predicted class 4"));
  CHECK_THROWS_WITH(m.add({{-2}}, {{0}}), Catch::Contains("true class -2"));
  CHECK_THROWS_WITH(m.add({{0}}, {{0}}, {{1}}), Catch::Contains("grouping 'race'"));
  CHECK(m.attribute(0).n == 0);  // nothing was counted from the refused batches
}

TEST_CASE("a reject rule gives coverage and accuracy when defined per attribute, apart from the accuracy",
          "[metrics]") {
  Metrics m({age4(), gender()});
  // age   truth 0 1 2 3 -1 | pred 0 1 0 3 2 | kept 1 0 1 0 1 -> labelled 4, correct 3, kept 2 (one right)
  // gender truth 0 1 1 0 1 | pred 0 1 0 0 1 | kept 1 1 1 1 0 -> labelled 5, correct 4, kept 4 (three right)
  m.add({{0, 1, 2, 3, -1}, {0, 1, 1, 0, 1}}, {{0, 1, 0, 3, 2}, {0, 1, 0, 0, 1}}, {},
        {{1, 0, 1, 0, 1}, {1, 1, 1, 1, 0}});
  const AttributeResult& age = m.attribute(0);
  CHECK(age.accuracy() == Approx(3.0 / 4));  // every prediction scored, kept or not
  CHECK(age.reject_rule);
  CHECK(age.coverage() == Approx(2.0 / 4));
  CHECK(age.accuracy_when_defined() == Approx(1.0 / 2));
  const AttributeResult& g = m.attribute(1);
  CHECK(g.accuracy() == Approx(4.0 / 5));
  CHECK(g.coverage() == Approx(4.0 / 5));
  CHECK(g.accuracy_when_defined() == Approx(3.0 / 4));
  const auto j = m.to_json();
  CHECK(j["attributes"][1]["coverage"].get<double>() == Approx(0.8));
  CHECK(j["attributes"][1]["accuracy_when_defined"].get<double>() == Approx(0.75));
  CHECK(m.to_text().find("coverage 50.00%") != std::string::npos);
  // without a rule nothing of it is reported
  Metrics plain({gender()});
  plain.add({{0, 1}}, {{0, 0}});
  CHECK_FALSE(plain.attribute(0).reject_rule);
  CHECK_FALSE(plain.to_json()["attributes"][0].contains("coverage"));
  CHECK_THROWS_WITH(m.add({{0}, {0}}, {{0}, {0}}, {}, {{1}}), Catch::Contains("reject-rule lists"));
}
