// The studies `facet repro` reproduces (docs/results.md): their configurations as TrainSpecs.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "models/training/trainer_spec.h"

namespace facet::repro {

struct Config {
  std::string name;    // row label and run directory suffix
  TrainSpec spec;
  std::string theirs;  // what the study reported for this configuration
  int folds = 0;       // > 0: Adience 5-fold protocol, one run per test fold
  uint64_t seed_offset = 0;  // this run's seed is --seed plus this (a second model of the same recipe)
  std::string split_from = {};  // reuse the split of this configuration's run (same test faces, e.g. an ensemble)
  std::vector<std::string> ensemble = {};  // not trained: the ensemble of these configurations' best checkpoints
  bool theirs_from_peer = false;  // the comparison cell is the PyTorch peer's measured run (peer_reported)
};

struct Study {
  std::string id, title, notes;
  std::vector<Config> configs;
};

// A BaseCNN spec on `data` with a square input of `size` and `epochs` epochs; the rest at TrainSpec's defaults.
TrainSpec base_spec(const std::string& data, int size, int epochs);
// Study `id` (A, B, C, D, E, parity or beyond); `adience`: the data is the Adience benchmark; `threshold`: the
// 2-hot reject threshold. Throws std::invalid_argument naming the accepted ids otherwise.
Study make_study(const std::string& id, const std::string& data, bool adience, float threshold);

}  // namespace facet::repro
