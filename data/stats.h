// What `facet data stats` and `facet data split` do, as library calls (so tests run them without the CLI):
// read a data set, label it with a scheme, split it, and describe all of it as JSON and text.
#pragma once
#include <cstdint>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "data/labels.h"
#include "data/readers.h"
#include "data/split.h"

namespace facet::data {

struct Prepared {
  ReadResult read;                             // the dataset as read (all usable faces) and the reader's report
  LabelScheme scheme;
  Dataset labelled;                            // faces the scheme could label, with Sample::labels filled
  std::map<std::string, int64_t> label_drops;  // faces the scheme dropped, by reason
};
// Reads `path` (see read_dataset) and applies the scheme. `balanced` computes its edges on all usable faces.
Prepared read_and_label(const std::string& path, const std::string& scheme_spec, const ReadOptions& options = {});

struct SplitRequest {
  SplitOptions stratified;  // used when fold < 0 and split_file is empty
  int fold = -1;            // Adience: test fold 0..4 (val fraction = stratified.val)
  std::string split_file;   // read this split instead of making one
};
Split make_split(const Dataset& labelled, const SplitRequest& request);

// Everything `facet data stats` reports: the reader's report, the scheme, class counts overall and per split
// (and per fold on Adience), and the split's integrity check (duplicates / subjects on one side).
nlohmann::json describe(const Prepared& p, const Split& split);
// The same as readable text: every malformed or skipped file on its own line, then the tables.
std::string describe_text(const nlohmann::json& stats);

}  // namespace facet::data
