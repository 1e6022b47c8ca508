// From a DataSpec to the three labelled sets a run trains, validates and tests on: read the data (with its
// report), label it, cap classes, split (or read a split file), re-derive data-dependent label edges from the
// training faces, balance the training split, and fix the network-input transform (with the normalization
// measured on the training split).
#pragma once
#include <string>
#include <vector>

#include "data/labels.h"
#include "data/loader.h"
#include "data/readers.h"
#include "data/split.h"
#include "models/training/metrics.h"
#include "models/training/trainer_spec.h"

namespace facet {

struct RunData {
  data::Report report;             // what the reader skipped, flagged or merged
  data::LabelScheme scheme;
  data::Split split;
  data::Dataset train, val, test;  // labelled; train after balancing
  std::vector<double> train_weights;  // weighted sampling (balance weighted:<task>), else empty
  data::TransformConfig transform;    // without augmentation flags' effect on evaluation (the loader decides)
  std::vector<std::string> notes;     // one line per step (counts, what was dropped), printed and saved
};

// Throws std::invalid_argument (bad spec) or std::runtime_error (no data), with messages that say what to do.
// `transform_override`: a saved transform (resume, eval) used instead of measuring a new normalization.
RunData prepare_data(const DataSpec& spec, uint64_t seed, const data::TransformConfig* transform_override = nullptr);

// The transform a DataSpec asks for, without normalization.
data::TransformConfig transform_of(const DataSpec& spec);
// A saved TransformConfig::to_json back into the struct (data/ writes it; facet reads it back for eval/predict).
data::TransformConfig transform_from_json(const nlohmann::json& j);

// The default data folder: $FACET_DATA/utkface, then $FACET_DATA. Throws std::runtime_error saying where to put
// UTKFace when neither holds data.
std::string default_data_dir();
// Checks that `path` exists; throws std::runtime_error naming it and saying what a data folder holds otherwise.
void require_data_path(const std::string& path);

// What evaluation scores, from a model's attributes and the label scheme's tasks: class names, and ordinal for
// the age task. Throws when an attribute has no task of the same name (a model trained on another scheme).
std::vector<AttributeSpec> attribute_specs(const std::vector<std::string>& names, const std::vector<int>& classes,
                                           const data::LabelScheme& scheme);
// Per-group accuracy slices: race and gender, from each face's raw attributes.
std::vector<GroupingSpec> default_groupings();

}  // namespace facet
