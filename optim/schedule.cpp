// Learning-rate schedules (see optim/schedule.h). Computed in double, rounded to float once.
#include "optim/schedule.h"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <sstream>
#include <stdexcept>

#include "optim/options_json.h"

namespace facet {

namespace {
const char* kind_name(LrSchedule::Kind k) {
  switch (k) {
    case LrSchedule::Kind::Constant:
      return "constant";
    case LrSchedule::Kind::Step:
      return "step";
    case LrSchedule::Kind::MultiStep:
      return "multistep";
    case LrSchedule::Kind::Cosine:
      return "cosine";
  }
  return "?";
}
}  // namespace

LrSchedule LrSchedule::constant(float base_lr) {
  LrSchedule s;
  s.base_lr = base_lr;
  s.validate();
  return s;
}

LrSchedule LrSchedule::step(float base_lr, int64_t step_size, float gamma) {
  LrSchedule s;
  s.kind = Kind::Step;
  s.base_lr = base_lr;
  s.step_size = step_size;
  s.gamma = gamma;
  s.validate();
  return s;
}

LrSchedule LrSchedule::multistep(float base_lr, std::vector<int64_t> milestones, float gamma) {
  LrSchedule s;
  s.kind = Kind::MultiStep;
  s.base_lr = base_lr;
  s.milestones = std::move(milestones);
  s.gamma = gamma;
  s.validate();
  return s;
}

LrSchedule LrSchedule::cosine(float base_lr, int64_t total, float eta_min) {
  LrSchedule s;
  s.kind = Kind::Cosine;
  s.base_lr = base_lr;
  s.total = total;
  s.eta_min = eta_min;
  s.validate();
  return s;
}

LrSchedule LrSchedule::with_warmup(int64_t units, float start_factor) const {
  LrSchedule s = *this;
  s.warmup = units;
  s.warmup_start = start_factor;
  s.validate();
  return s;
}

void LrSchedule::validate() const {
  auto bad = [](const std::string& msg) { return std::invalid_argument("learning-rate schedule: " + msg); };
  if (!(base_lr >= 0.0f) || !std::isfinite(base_lr))
    throw bad("base_lr " + std::to_string(base_lr) + " must be finite and >= 0");
  if (warmup < 0) throw bad("warmup " + std::to_string(warmup) + " must be >= 0");
  if (!(warmup_start >= 0.0f && warmup_start <= 1.0f))
    throw bad("warmup_start " + std::to_string(warmup_start) + " must be in [0, 1]");
  if ((kind == Kind::Step || kind == Kind::MultiStep) && !(gamma > 0.0f && std::isfinite(gamma)))
    throw bad("gamma " + std::to_string(gamma) + " must be finite and > 0");
  if (kind == Kind::Step && step_size < 1)
    throw bad("step_size " + std::to_string(step_size) + " must be >= 1");
  if (kind == Kind::MultiStep) {
    if (milestones.empty()) throw bad("multistep needs at least one milestone");
    for (size_t i = 0; i < milestones.size(); ++i)
      if (milestones[i] < 0 || (i && milestones[i] <= milestones[i - 1]))
        throw bad("milestones must be >= 0 and strictly ascending (entry " + std::to_string(i) + " is " +
                  std::to_string(milestones[i]) + ")");
  }
  if (kind == Kind::Cosine) {
    if (total < 1) throw bad("cosine needs total >= 1 (got " + std::to_string(total) + ")");
    if (!(eta_min >= 0.0f && eta_min <= base_lr))
      throw bad("eta_min " + std::to_string(eta_min) + " must be in [0, base_lr]");
  }
}

float LrSchedule::at(int64_t t) const {
  if (t < 0) throw std::invalid_argument("LrSchedule::at(" + std::to_string(t) + "): t must be >= 0");
  const double base = base_lr;
  if (t < warmup) return float(base * (warmup_start + (1.0 - warmup_start) * double(t) / double(warmup)));
  const int64_t u = t - warmup;
  switch (kind) {
    case Kind::Constant:
      return base_lr;
    case Kind::Step:
      return float(base * std::pow(double(gamma), double(u / step_size)));
    case Kind::MultiStep: {
      const auto passed = std::upper_bound(milestones.begin(), milestones.end(), u) - milestones.begin();
      return float(base * std::pow(double(gamma), double(passed)));
    }
    case Kind::Cosine: {
      if (u >= total) return eta_min;
      const double c = std::cos(std::numbers::pi * double(u) / double(total));
      return float(double(eta_min) + (base - double(eta_min)) * (1.0 + c) / 2.0);
    }
  }
  return base_lr;
}

std::string LrSchedule::describe() const {
  std::ostringstream o;
  switch (kind) {
    case Kind::Constant:
      o << "constant " << base_lr;
      break;
    case Kind::Step:
      o << base_lr << " times " << gamma << " every " << step_size;
      break;
    case Kind::MultiStep:
      o << base_lr << " times " << gamma << " at";
      for (int64_t m : milestones) o << " " << m;
      break;
    case Kind::Cosine:
      o << "cosine from " << base_lr << " to " << eta_min << " over " << total;
      break;
  }
  if (warmup > 0) o << ", after " << warmup << " of linear warmup from " << base_lr * warmup_start;
  return o.str();
}

nlohmann::json LrSchedule::to_json() const {
  nlohmann::json j = {{"kind", kind_name(kind)}, {"base_lr", base_lr}};
  if (kind == Kind::Step) j.update({{"step_size", step_size}, {"gamma", gamma}});
  if (kind == Kind::MultiStep) j.update({{"milestones", milestones}, {"gamma", gamma}});
  if (kind == Kind::Cosine) j.update({{"total", total}, {"eta_min", eta_min}});
  if (warmup > 0) j.update({{"warmup", warmup}, {"warmup_start", warmup_start}});
  return j;
}

LrSchedule LrSchedule::from_json(const nlohmann::json& j) {
  if (!j.is_object() || !j.contains("kind") || !j["kind"].is_string())
    throw std::invalid_argument(
        "learning-rate schedule: needs a \"kind\" (constant, step, multistep, cosine), got " + j.dump());
  LrSchedule s;
  const std::string kind = j["kind"].get<std::string>();
  const char* what = "learning-rate schedule";
  if (kind == "constant") {
    detail::check_known_keys(j, what, {"kind", "base_lr", "warmup", "warmup_start"});
  } else if (kind == "step") {
    s.kind = Kind::Step;
    detail::check_known_keys(j, what, {"kind", "base_lr", "step_size", "gamma", "warmup", "warmup_start"});
  } else if (kind == "multistep") {
    s.kind = Kind::MultiStep;
    detail::check_known_keys(j, what, {"kind", "base_lr", "milestones", "gamma", "warmup", "warmup_start"});
    const nlohmann::json& m = j.contains("milestones") ? j["milestones"] : nlohmann::json::array();
    if (!m.is_array())
      throw std::invalid_argument("learning-rate schedule: \"milestones\" must be an array of integers");
    for (const auto& v : m) {
      if (!v.is_number_integer())
        throw std::invalid_argument("learning-rate schedule: milestone " + v.dump() + " is not an integer");
      s.milestones.push_back(v.get<int64_t>());
    }
  } else if (kind == "cosine") {
    s.kind = Kind::Cosine;
    detail::check_known_keys(j, what, {"kind", "base_lr", "total", "eta_min", "warmup", "warmup_start"});
  } else {
    throw std::invalid_argument("learning-rate schedule: unknown kind \"" + kind +
                                "\" (constant, step, multistep, cosine)");
  }
  detail::read_option(j, what, "base_lr", s.base_lr);
  detail::read_option(j, what, "step_size", s.step_size);
  detail::read_option(j, what, "gamma", s.gamma);
  detail::read_option(j, what, "total", s.total);
  detail::read_option(j, what, "eta_min", s.eta_min);
  detail::read_option(j, what, "warmup", s.warmup);
  detail::read_option(j, what, "warmup_start", s.warmup_start);
  s.validate();
  return s;
}

}  // namespace facet
