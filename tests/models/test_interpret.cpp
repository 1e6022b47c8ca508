// The 2-hot and tuple interpretation rules on hand-made output vectors, and the models' shapes.
#include <catch2/catch.hpp>

#include "models/interpret.h"
#include "models/model.h"
#include "tensor/ops.h"

using namespace facet;

TEST_CASE("interpret_2hot reads valid patterns and rejects the rest", "[models]") {
  // age group 3, gender 1, both sure
  float good[10] = {0.01f, 0.02f, 0.05f, 0.8f, 0.02f, 0.03f, 0.04f, 0.03f, 0.1f, 0.9f};
  AgeGender r = interpret_2hot(good, 8);
  CHECK(r.age == 3);
  CHECK(r.gender == 1);
  CHECK(r.confidence == Approx(0.8f));
  // no age entry reaches 0.5: not a 2-hot pattern
  float flat[10] = {0.125f, 0.125f, 0.125f, 0.125f, 0.125f, 0.125f, 0.125f, 0.125f, 0.3f, 0.7f};
  CHECK(interpret_2hot(flat, 8).age == -1);
  CHECK(interpret_2hot(flat, 8).gender == -1);
  // two hot age entries (sigmoid outputs)
  float two[10] = {0.9f, 0.6f, 0, 0, 0, 0, 0, 0, 0.0f, 1.0f};
  CHECK(interpret_2hot(two, 8).age == -1);
  // valid but under a 0.85 confidence threshold
  CHECK(interpret_2hot(good, 8, 0.85f).age == -1);
  CHECK(interpret_2hot(good, 8, 0.75f).age == 3);
}

TEST_CASE("interpret_tuple rounds, and refuses out-of-range or unsure values", "[models]") {
  AgeGender r = interpret_tuple(4.2f, 0.9f, 8);
  CHECK(r.age == 4);
  CHECK(r.gender == 1);
  CHECK(r.confidence == Approx(1.0f - 2 * 0.2f));
  CHECK(interpret_tuple(7.6f, 0.0f, 8).age == -1);   // rounds to 8, outside 0..7
  CHECK(interpret_tuple(-0.7f, 0.0f, 8).age == -1);  // rounds to -1
  CHECK(interpret_tuple(3.0f, 1.6f, 8).gender == -1);
  CHECK(interpret_tuple(3.45f, 0.0f, 8, 0.3f).age == -1);  // 0.45 from the class: unsure under margin 0.3
  CHECK(interpret_tuple(std::nanf(""), 0.0f, 8).age == -1);
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
