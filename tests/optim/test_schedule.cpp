// Learning-rate schedules at chosen steps (values worked out in the comments), warmup combined with each
// kind, purity (any order, JSON round trip) and validation.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>

#include "optim/schedule.h"

using namespace facet;

namespace {
// lr at each t in ts, to compare with a list of expected values.
std::vector<float> rates(const LrSchedule& s, const std::vector<int64_t>& ts) {
  std::vector<float> out;
  for (int64_t t : ts) out.push_back(s.at(t));
  return out;
}
void check_rates(const LrSchedule& s, const std::vector<int64_t>& ts, const std::vector<double>& expected) {
  INFO(s.describe());
  const auto got = rates(s, ts);
  REQUIRE(got.size() == expected.size());
  for (size_t i = 0; i < got.size(); ++i) {
    INFO("t = " << ts[i]);
    CHECK(double(got[i]) == Approx(expected[i]).epsilon(1e-6).margin(1e-9));
  }
}
}  // namespace

TEST_CASE("schedules: constant, step, multistep, cosine", "[optim][schedule]") {
  check_rates(LrSchedule::constant(0.1f), {0, 5, 1000}, {0.1, 0.1, 0.1});
  // step: 0.1 * 0.5^floor(t / 3)
  check_rates(LrSchedule::step(0.1f, 3, 0.5f), {0, 2, 3, 5, 6, 10}, {0.1, 0.1, 0.05, 0.05, 0.025, 0.0125});
  // multistep: 1 * 0.1^(number of milestones {2, 5} <= t)
  check_rates(LrSchedule::multistep(1.0f, {2, 5}, 0.1f), {0, 1, 2, 4, 5, 100}, {1, 1, 0.1, 0.1, 0.01, 0.01});
  // cosine over 4: (1 + cos(pi t / 4)) / 2 = 1, 0.8535534, 0.5, 0.1464466, 0; then held at eta_min
  check_rates(LrSchedule::cosine(1.0f, 4), {0, 1, 2, 3, 4, 9}, {1, 0.8535534, 0.5, 0.1464466, 0, 0});
  // eta_min 0.1: 0.1 + 0.9 * (1 + cos(pi t / 4)) / 2
  check_rates(LrSchedule::cosine(1.0f, 4, 0.1f), {0, 2, 3, 4, 7}, {1, 0.55, 0.2318019, 0.1, 0.1});
}

TEST_CASE("schedules: linear warmup, then the main schedule counted from the end of warmup",
          "[optim][schedule]") {
  // warmup 2 from 0.1: 1 * (0.1 + 0.9 t / 2) = 0.1, 0.55; then cosine at u = t - 2.
  check_rates(LrSchedule::cosine(1.0f, 4).with_warmup(2, 0.1f), {0, 1, 2, 3, 4, 6, 50},
              {0.1, 0.55, 1, 0.8535534, 0.5, 0, 0});
  // warmup 4 from 0: 0, 0.25, 0.5, 0.75; then 1 * 0.5^floor(u / 2)
  check_rates(LrSchedule::step(1.0f, 2, 0.5f).with_warmup(4, 0.0f), {0, 1, 2, 3, 4, 5, 6, 8},
              {0, 0.25, 0.5, 0.75, 1, 1, 0.5, 0.25});
  // multistep milestones count after warmup too: warmup 3 from 0.1, milestone {1} -> t = 4 decays
  check_rates(LrSchedule::multistep(0.2f, {1}, 0.1f).with_warmup(3, 0.1f), {0, 1, 3, 4},
              {0.02, 0.08, 0.2, 0.02});
  check_rates(LrSchedule::constant(0.3f).with_warmup(3, 0.0f), {0, 1, 3, 99}, {0, 0.1, 0.3, 0.3});
}

TEST_CASE("schedules are pure functions of t and survive a JSON round trip", "[optim][schedule]") {
  const LrSchedule s = LrSchedule::cosine(0.05f, 30, 1e-4f).with_warmup(5, 0.2f);
  const std::vector<int64_t> forward = {0, 1, 2, 3, 4, 5, 6, 17, 29, 34, 35, 60};
  std::vector<int64_t> backward(forward.rbegin(), forward.rend());
  auto a = rates(s, forward), b = rates(s, backward);
  std::reverse(b.begin(), b.end());
  CHECK(a == b);  // bit-identical whatever the call order: resuming at any t gives the same rates
  const LrSchedule back = LrSchedule::from_json(nlohmann::json::parse(s.to_json().dump()));
  CHECK(rates(back, forward) == a);
  CHECK(back.describe() == s.describe());
  const LrSchedule ms = LrSchedule::multistep(0.1f, {3, 7}, 0.5f);
  CHECK(rates(LrSchedule::from_json(ms.to_json()), forward) == rates(ms, forward));
}

TEST_CASE("schedules refuse bad settings, naming the field", "[optim][schedule]") {
  CHECK_THROWS_WITH(LrSchedule::step(0.1f, 0, 0.5f), Catch::Contains("step_size"));
  CHECK_THROWS_WITH(LrSchedule::multistep(0.1f, {5, 3}, 0.5f), Catch::Contains("ascending"));
  CHECK_THROWS_WITH(LrSchedule::cosine(0.1f, 0), Catch::Contains("total"));
  CHECK_THROWS_WITH(LrSchedule::cosine(0.1f, 10, 0.5f), Catch::Contains("eta_min"));
  CHECK_THROWS_WITH(LrSchedule::constant(0.1f).with_warmup(2, 1.5f), Catch::Contains("warmup_start"));
  CHECK_THROWS_WITH(LrSchedule::constant(-1.0f), Catch::Contains("base_lr"));
  CHECK_THROWS_WITH(LrSchedule::from_json({{"kind", "exp"}}), Catch::Contains("unknown kind \"exp\""));
  CHECK_THROWS_WITH(LrSchedule::from_json({{"kind", "step"}, {"gama", 0.5}}),
                    Catch::Contains("unknown key \"gama\""));
  CHECK_THROWS_WITH(LrSchedule::from_json({{"kind", "cosine"}, {"total", 2.5}}),
                    Catch::Contains("\"total\" must be an integer"));
  CHECK_THROWS_WITH(LrSchedule::constant(0.1f).at(-1), Catch::Contains("t must be >= 0"));
}
