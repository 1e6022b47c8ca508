// Class balancing on a labelled dataset (apply_scheme first). Applied to the training split only.
//   undersample:<task>:<class>:<keep>   keep that fraction of one class (study A: undersample:race:0:0.5 halves
//                                        the White faces)
//   smallest:<task>                      undersample every class of the task to the smallest class's count
//   weighted:<task>                      keep everything; the loader draws samples with probability ~ 1/count
//                                        of their class, so every class is drawn equally often on average
//   none
// <task> is a task name of the scheme (age, gender, race); classes are indices. Which samples stay is decided
// by a seeded shuffle, so the same seed keeps the same faces.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "data/dataset.h"
#include "data/labels.h"

namespace facet::data {

Dataset undersample(const Dataset& ds, int task, int cls, double keep, uint64_t seed);
Dataset undersample_to_smallest(const Dataset& ds, int task, uint64_t seed);
// One weight per sample, 1 / (count of its class in `task`), for the loader's weighted sampling.
std::vector<double> inverse_frequency_weights(const Dataset& ds, int task);

struct Balanced {
  Dataset data;
  std::vector<double> weights;  // empty unless the spec was weighted:<task>
  std::string how;              // what was done, with counts
};
// Throws std::invalid_argument naming the bad part of `spec` and the accepted forms.
Balanced balance(const Dataset& ds, const LabelScheme& scheme, const std::string& spec, uint64_t seed);

}  // namespace facet::data
