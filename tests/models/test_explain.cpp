// facet explain's table (models/explain.h): parameter totals match the model, FLOPs follow the stated
// formula, the JSON parses, and timing fills every row.
#include <catch2/catch.hpp>

#include "models/explain.h"

using namespace facet;

namespace {

const LayerCost& row(const std::vector<LayerCost>& rows, const std::string& name) {
  for (const auto& r : rows)
    if (r.name == name) return r;
  FAIL("no row named " << name);
  return rows.front();
}

int64_t total_parameters(const std::vector<LayerCost>& rows) {
  int64_t n = 0;
  for (const auto& r : rows) n += r.parameters;
  return n;
}

}  // namespace

TEST_CASE("explain: the parameters of the rows add up to the model's parameter count", "[explain]") {
  for (const nlohmann::json& config :
       {nlohmann::json{{"kind", "basecnn"}, {"size", 64}},
        nlohmann::json{{"kind", "levihassner"}, {"size", 227}}, nlohmann::json{{"kind", "fcn2hot"}},
        nlohmann::json{{"kind", "tuple"}}}) {
    auto model = make_model(config, 1);
    ExplainOptions o;
    o.batch = 2;
    const auto rows = explain_model(*model, o);
    INFO(config.dump());
    CHECK(total_parameters(rows) == model->parameter_count());
    CHECK(rows.size() == model->trunk().size() + model->head_layers().size());
  }
}

TEST_CASE("explain: a conv layer's FLOPs are 2 N Cout Ho Wo Cin k^2 plus one add per output for the bias",
          "[explain]") {
  auto model =
      make_model({{"kind", "basecnn"}, {"size", 64}, {"conv_channels", {8, 16}}, {"dense", {16}}}, 1);
  ExplainOptions o;
  o.batch = 4;
  const auto rows = explain_model(*model, o);
  // conv2: 8 -> 16 channels, 3x3, pad 1, on the 32x32 output of pool1: N=4, Cout=16, Ho=Wo=32, Cin=8, k=3.
  const double outputs = 4.0 * 16 * 32 * 32;
  CHECK(row(rows, "conv2").flops == 2.0 * outputs * 8 * 9 + outputs);
  CHECK(row(rows, "conv2").output == Shape{4, 16, 32, 32});
  CHECK(row(rows, "conv2").activation_bytes == 4.0 * outputs);
  // conv1 on the 3-channel 64x64 input; fc1 on the 16 x 16 x 16 features; pooling compares 3 per output.
  CHECK(row(rows, "conv1").flops == 2.0 * (4.0 * 8 * 64 * 64) * 3 * 9 + 4.0 * 8 * 64 * 64);
  CHECK(row(rows, "fc1").flops == 2.0 * 4 * 16 * (16 * 16 * 16) + 4 * 16);
  CHECK(row(rows, "pool1").flops == 3.0 * 4 * 8 * 32 * 32);
  // Dropout costs a multiply per element in training and nothing in eval.
  CHECK(row(rows, "drop1").flops == 4 * 16);
  o.training = false;
  CHECK(row(explain_model(*model, o), "drop1").flops == 0);
}

TEST_CASE("explain: the JSON parses and holds the same table, timing fills every row", "[explain]") {
  auto model = make_model({{"kind", "basecnn"}, {"size", 16}, {"conv_channels", {4, 8}}, {"dense", {8}}}, 1);
  ExplainOptions o;
  o.batch = 2;
  o.time = true;
  o.repeats = 1;
  const auto rows = explain_model(*model, o);
  const auto j = nlohmann::json::parse(explain_json(rows, o, "tiny").dump());
  REQUIRE(j.at("layers").size() == rows.size());
  CHECK(j.at("total").at("parameters").get<int64_t>() == model->parameter_count());
  double share = 0;
  for (const auto& l : j.at("layers")) share += l.at("flops_share").get<double>();
  CHECK(share == Approx(1.0));
  for (const auto& r : rows) {
    CHECK(r.forward_ms >= 0);
    CHECK(r.backward_ms >= 0);
  }
  const std::string text = explain_text(rows, o, "tiny");
  CHECK(text.find("conv1") != std::string::npos);
  CHECK(text.find("total") != std::string::npos);
  CHECK(text.find("bwd ms") != std::string::npos);
}
