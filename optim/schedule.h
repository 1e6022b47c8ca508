// Learning-rate schedules: lr = schedule.at(t), a pure function of the step counter t (epochs or iterations,
// whichever unit the caller advances it in, from 0), so a resumed run gets exactly the same rates.
//
//   warmup (optional, first `warmup` units):  lr = base * (f0 + (1 - f0) * t / warmup),  f0 = warmup_start
//   then the main schedule at u = t - warmup (as PyTorch's SequentialLR(LinearLR, main)):
//     constant:   base
//     step:       base * gamma^floor(u / step_size)                        (StepLR)
//     multistep:  base * gamma^(number of milestones <= u)                 (MultiStepLR)
//     cosine:     eta_min + (base - eta_min) * (1 + cos(pi * u / total)) / 2 for u <= total, then eta_min
//                 (CosineAnnealingLR, held at eta_min after `total` instead of rising again)
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace facet {

struct LrSchedule {
  enum class Kind { Constant, Step, MultiStep, Cosine };
  Kind kind = Kind::Constant;
  float base_lr = 0.01f;
  int64_t step_size = 1;            // step: units between decays
  float gamma = 0.1f;               // step, multistep: decay factor
  std::vector<int64_t> milestones;  // multistep: ascending units (counted after warmup)
  int64_t total = 0;                // cosine: length of the annealing, units after warmup
  float eta_min = 0.0f;             // cosine: final learning rate
  int64_t warmup = 0;               // linear warmup length (0: none)
  float warmup_start = 0.1f;        // warmup's first factor f0, in [0, 1]

  static LrSchedule constant(float base_lr);
  static LrSchedule step(float base_lr, int64_t step_size, float gamma);
  static LrSchedule multistep(float base_lr, std::vector<int64_t> milestones, float gamma);
  static LrSchedule cosine(float base_lr, int64_t total, float eta_min = 0.0f);
  LrSchedule with_warmup(int64_t units, float start_factor = 0.1f) const;

  float at(int64_t t) const;     // t >= 0
  void validate() const;         // throws naming the bad field
  std::string describe() const;  // "cosine from 0.1 to 0 over 30, after 5 of linear warmup from 0.01"

  // {"kind": "constant|step|multistep|cosine", "base_lr", ...}: fields left out keep their defaults,
  // unknown fields are refused by name.
  nlohmann::json to_json() const;
  static LrSchedule from_json(const nlohmann::json& j);
};

}  // namespace facet
