// validate_model_config (through make_model): a description with a zero-width layer, an absurd size or
// channel count, or more parameters than facet allows is refused before anything is allocated, the field named.
#include <catch2/catch.hpp>

#include <chrono>

#include "models/model.h"

using facet::make_model;
using nlohmann::json;

namespace {

void refused(const json& config, const std::string& what) {
  INFO(config.dump());
  const auto t0 = std::chrono::steady_clock::now();
  CHECK_THROWS_WITH(make_model(config, 1), Catch::Contains(what));
  // Refused from the description: no weight was allocated or initialised.
  CHECK(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() < 0.5);
}

}  // namespace

TEST_CASE("model descriptions are validated before anything is built", "[models][config]") {
  refused({{"kind", "basecnn"}, {"conv_channels", {8, 0}}}, "'conv_channels'[1] is 0: layer 2 of --conv-channels");
  refused({{"kind", "basecnn"}, {"dense", {0}}}, "'dense'[0] is 0");
  refused({{"kind", "basecnn"}, {"dense", {-4}}}, "'dense'[0] is -4");
  refused({{"kind", "fcn2hot"}, {"hidden", {16, 0}}}, "'hidden'[1] is 0");
  refused({{"kind", "basecnn"}, {"conv_channels", {100000}}}, "'conv_channels'[0] is 100000");
  refused({{"kind", "basecnn"}, {"channels", 100000}}, "'channels' is 100000");
  refused({{"kind", "levihassner"}, {"size", 1000000}}, "'size' is 1000000");
  refused({{"kind", "basecnn"}, {"conv_channels", {60000, 60000}}}, "over facet's limit of 268435456");
  refused({{"kind", "fcn2hot"}, {"size", 4096}, {"hidden", {65536}}}, "parameters, over facet's limit");
  refused({{"kind", "basecnn"}, {"dropout", 1.0}}, "'dropout' is 1");
  refused({{"kind", "basecnn"}, {"dropout", -0.5}}, "'dropout' is -0.5");
  refused({{"kind", "basecnn"}, {"heads", {{{"name", "age"}, {"classes", 1000000}}}}}, "1000000 classes");
  // the defaults and a small custom model still build
  for (const char* kind : {"basecnn", "levihassner", "fcn2hot", "tuple"}) CHECK(make_model({{"kind", kind}}, 1));
  CHECK(make_model({{"kind", "basecnn"}, {"size", 16}, {"conv_channels", {4, 8}}, {"dense", {16}}}, 1));
}
