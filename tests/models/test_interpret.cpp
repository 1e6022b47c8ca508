// The 2-hot and tuple interpretation rules on hand-made output vectors, and the models' shapes.
#include <catch2/catch.hpp>

#include <cmath>

#include "models/interpret.h"
#include "models/model.h"
#include "tensor/ops.h"

using namespace facet;

TEST_CASE("interpret_2hot reads each slice by its argmax and judges each slice's reject rule alone", "[models]") {
  // age group 3, gender 1, both sure
  float good[10] = {0.01f, 0.02f, 0.05f, 0.8f, 0.02f, 0.03f, 0.04f, 0.03f, 0.1f, 0.9f};
  AgeGender r = interpret_2hot(good, 8);
  CHECK(r.age.cls == 3);
  CHECK(r.gender.cls == 1);
  CHECK(r.age.defined);
  CHECK(r.gender.defined);
  CHECK(r.age.confidence == Approx(0.8f));
  CHECK(r.gender.confidence == Approx(0.9f));
  // no age entry reaches 0.5: the age slice is no one-hot pattern (undefined, but its argmax is still read), and
  // the gender slice, sure on its own, stays defined (the old rule made both undefined)
  float flat[10] = {0.1f, 0.1f, 0.1f, 0.1f, 0.3f, 0.1f, 0.1f, 0.1f, 0.3f, 0.7f};
  r = interpret_2hot(flat, 8);
  CHECK(r.age.cls == 4);
  CHECK_FALSE(r.age.defined);
  CHECK(r.gender.cls == 1);
  CHECK(r.gender.defined);
  // two hot age entries (sigmoid-like outputs): argmax 0, not a valid pattern
  float two[10] = {0.9f, 0.6f, 0, 0, 0, 0, 0, 0, 0.0f, 1.0f};
  CHECK(interpret_2hot(two, 8).age.cls == 0);
  CHECK_FALSE(interpret_2hot(two, 8).age.defined);
  // the threshold: age 0.8 and gender 0.9 against 0.85 keeps the gender only
  r = interpret_2hot(good, 8, 0.85f);
  CHECK_FALSE(r.age.defined);
  CHECK(r.gender.defined);
  CHECK(r.age.cls == 3);
  CHECK(interpret_2hot(good, 8, 0.75f).age.defined);
}

TEST_CASE("interpret_tuple rounds and clamps, and its margin rule marks what it refuses", "[models]") {
  AgeGender r = interpret_tuple(4.2f, 0.9f, 8);
  CHECK(r.age.cls == 4);
  CHECK(r.gender.cls == 1);
  CHECK(r.age.defined);
  CHECK(r.age.confidence == Approx(1.0f - 2 * 0.2f));
  r = interpret_tuple(7.6f, 0.0f, 8);  // rounds to 8, outside 0..7: class 7 (nearest), undefined
  CHECK(r.age.cls == 7);
  CHECK_FALSE(r.age.defined);
  CHECK(r.gender.defined);  // the gender value stands on its own
  CHECK(interpret_tuple(-0.7f, 0.0f, 8).age.cls == 0);
  CHECK_FALSE(interpret_tuple(-0.7f, 0.0f, 8).age.defined);
  CHECK_FALSE(interpret_tuple(3.0f, 1.6f, 8).gender.defined);
  CHECK(interpret_tuple(3.0f, 1.6f, 8).age.defined);
  CHECK_FALSE(interpret_tuple(3.45f, 0.0f, 8, 0.3f).age.defined);  // 0.45 from the class: unsure under margin 0.3
  CHECK(interpret_tuple(3.45f, 0.0f, 8, 0.3f).age.cls == 3);
  CHECK(interpret_tuple(std::nanf(""), 0.0f, 8).age.cls == -1);
}

TEST_CASE("calibrate_ranges takes each class's central share, read_calibrated reads through the ranges",
          "[models]") {
  // class 0: outputs 0.0 .. 1.0 in steps of 0.1 (11 values); class 1: 0.8 .. 2.8 (11 values); class 2 none.
  std::vector<float> out;
  std::vector<int32_t> lab;
  for (int i = 0; i <= 10; ++i) {
    out.push_back(0.1f * float(i));
    lab.push_back(0);
    out.push_back(0.8f + 0.2f * float(i));
    lab.push_back(1);
  }
  out.push_back(100.0f);  // an unlabelled face is left out
  lab.push_back(-1);
  auto g = calibrate_ranges(out, lab, 3, 0.8f);  // 10th..90th percentile: positions 1 and 9 of 0..10
  REQUIRE(g.size() == 3);
  CHECK(g[0].present);
  CHECK(g[0].lo == Approx(0.1f));
  CHECK(g[0].hi == Approx(0.9f));
  CHECK(g[0].centre == Approx(0.5f));
  CHECK(g[1].lo == Approx(1.0f));
  CHECK(g[1].hi == Approx(2.6f));
  CHECK(g[1].centre == Approx(1.8f));
  CHECK_FALSE(g[2].present);
  // interpolation between two sorted values: the 50th percentile of {0, 1} is 0.5
  CHECK(calibrate_ranges({1.0f, 0.0f}, {0, 0}, 1, 0.5f)[0].centre == Approx(0.5f));

  Reading r = read_calibrated(0.3f, g);  // inside class 0 only
  CHECK(r.cls == 0);
  CHECK(r.defined);
  r = read_calibrated(2.0f, g);  // inside class 1 only (rounding would say 2)
  CHECK(r.cls == 1);
  CHECK(r.defined);
  r = read_calibrated(0.85f, g);  // 0.1 .. 0.9 holds it, 1.0 .. 2.6 does not -> class 0 (rounding: 1)
  CHECK(r.cls == 0);
  CHECK(r.defined);
  // overlap: widen class 0 to 0.1 .. 1.5; 1.2 lies in both ranges and |1.2 - 0.5| = 0.7 > |1.2 - 1.8| = 0.6:
  // the nearer centre, class 1
  auto wide = g;
  wide[0].hi = 1.5f;
  CHECK(read_calibrated(1.2f, wide).cls == 1);
  CHECK(read_calibrated(1.2f, wide).defined);
  CHECK(read_calibrated(1.1f, wide).cls == 0);  // |1.1 - 0.5| = 0.6 < 0.7
  // outside every range: undefined, class of the nearest centre
  r = read_calibrated(3.5f, g);
  CHECK_FALSE(r.defined);
  CHECK(r.cls == 1);
  r = read_calibrated(0.95f, g);  // in the gap between 0.9 and 1.0
  CHECK_FALSE(r.defined);
  CHECK(r.cls == 0);
  CHECK(read_calibrated(std::nanf(""), g).cls == -1);
}

// Logits whose softmax is close to `probs` (log of the probabilities), as a (1, n) tensor.
static Tensor logits_of(std::vector<float> probs) {
  for (float& p : probs) p = std::log(p);
  return Tensor::from_vector(probs, Shape{1, int64_t(probs.size())});
}

TEST_CASE("fcn2hot predict: an unsure age slice leaves the gender read and defined", "[models]") {
  auto m = make_model({{"kind", "fcn2hot"}, {"size", 8}, {"channels", 1}}, 1);
  // age: no group reaches 0.5 (argmax 4); gender: female at 0.9
  auto p = m->predict({logits_of({0.1f, 0.1f, 0.1f, 0.1f, 0.3f, 0.1f, 0.1f, 0.1f}), logits_of({0.1f, 0.9f})});
  CHECK(p.classes[0][0] == 4);  // the study's argmax, not -1
  CHECK(p.classes[1][0] == 1);  // the old rule gave -1: the age slice's doubt spilled over
  REQUIRE(p.defined.size() == 2);
  CHECK(p.defined[0][0] == 0);
  CHECK(p.defined[1][0] == 1);
  // a raised threshold only changes what is defined, never the classes
  m->set_reading({{"threshold", 0.95f}});
  p = m->predict({logits_of({0.1f, 0.1f, 0.1f, 0.1f, 0.3f, 0.1f, 0.1f, 0.1f}), logits_of({0.1f, 0.9f})});
  CHECK(p.classes[1][0] == 1);
  CHECK(p.defined[1][0] == 0);
  CHECK_THROWS_WITH(m->set_reading({{"read", "calibrated"}}), Catch::Contains("--tuple-read"));
}

TEST_CASE("tuple predict: the calibrated reading uses the stored ranges, the round reading the integers",
          "[models]") {
  nlohmann::json cal = {{"age", {{-0.2, 0.6, 0.2}, {0.5, 1.4, 1.0}, {1.3, 2.2, 1.7}, nullptr, nullptr, nullptr,
                                 nullptr, nullptr}},
                        {"gender", {{-0.1, 0.45, 0.2}, {0.55, 1.1, 0.8}}}};
  nlohmann::json cfg = {{"kind", "tuple"}, {"size", 8}, {"channels", 1}, {"read", "calibrated"},
                        {"calibration", cal}};
  auto m = make_model(cfg, 1);
  // age 2.4 rounds to 2, but lies beyond class 2's range (1.3 .. 2.2): undefined, nearest centre 1.7 -> class 2;
  // age 1.45 rounds to 1 but lies only in class 2's range -> 2; gender 0.48 lies in neither range -> undefined
  auto out = Tensor::from_vector({2.4f, 0.9f, 1.45f, 0.48f}, Shape{2, 2});
  auto p = m->predict({out});
  CHECK(p.classes[0][1] == 2);  // rounding (the old and only reading) says 1
  REQUIRE(p.defined.size() == 2);
  CHECK(p.defined[0][1] == 1);
  CHECK(p.defined[0][0] == 0);
  CHECK(p.classes[0][0] == 2);
  CHECK(p.defined[1][0] == 1);
  CHECK(p.defined[1][1] == 0);
  CHECK(p.classes[1][1] == 0);  // nearest centre: |0.48 - 0.2| = 0.28 < |0.48 - 0.8| = 0.32
  // the same weights read by rounding
  m->set_reading({{"read", "round"}});
  p = m->predict({out});
  CHECK(p.classes[0][1] == 1);
  CHECK(p.defined[0][1] == 1);
  CHECK_THROWS_WITH(m->set_reading({{"read", "nearest"}}), Catch::Contains("--tuple-read 'nearest'"));
  CHECK_THROWS_WITH(m->set_reading({{"threshold", 0.5}}), Catch::Contains("--threshold applies to fcn2hot"));
  // a calibrated model whose ranges do not fit its classes is refused, naming the key
  cfg["calibration"]["gender"] = {{0, 1, 0.5}};
  CHECK_THROWS_WITH(make_model(cfg, 1), Catch::Contains("calibration"));
}

TEST_CASE("every model kind builds, prints its layers and gives one output per head", "[models]") {
  for (auto cfg : {nlohmann::json{{"kind", "basecnn"}, {"size", 64}},
                   nlohmann::json{{"kind", "basecnn"}, {"size", 32}, {"channels", 1}, {"activation", "relu"},
                                  {"conv_channels", {8, 8, 16}}, {"heads", {{{"name", "age"}, {"classes", 7}}}}},
                   nlohmann::json{{"kind", "fcn2hot"}, {"size", 16}},
                   nlohmann::json{{"kind", "tuple"}, {"size", 16}, {"channels", 1}},
                   nlohmann::json{{"kind", "levihassner"}, {"size", 64}}}) {
    INFO(cfg.dump());
    auto m = make_model(cfg, 1);
    CHECK(m->summary().find("parameters in all") != std::string::npos);
    Shape in = m->input_shape(2);
    m->set_training(false);
    NoGradGuard ng;
    auto out = m->forward(Tensor::zeros(in));
    REQUIRE(out.size() == m->heads().size());
    for (size_t h = 0; h < out.size(); ++h) CHECK(out[h].shape() == Shape{2, m->heads()[h].outputs});
    auto p = m->predict(out);
    CHECK(p.classes.size() == m->attributes().size());
  }
}

TEST_CASE("model configs with errors name the key", "[models]") {
  CHECK_THROWS_WITH(make_model({{"kind", "resnet"}}, 1), Catch::Contains("resnet"));
  CHECK_THROWS_WITH(make_model({{"kind", "basecnn"}, {"size", 16}}, 1), Catch::Contains("16x16"));
  CHECK_THROWS_WITH(make_model({{"kind", "basecnn"}, {"activation", "tanh"}}, 1), Catch::Contains("tanh"));
  CHECK_THROWS_WITH(make_model({{"kind", "basecnn"}, {"size", "big"}}, 1), Catch::Contains("size"));
}
