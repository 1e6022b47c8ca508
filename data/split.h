// Train / validation / test splits, written to and read from a text file of names so every experiment can be
// rerun on exactly the same faces and compared with others.
//
// A split never separates byte-identical copies (Sample::dup_group) and, when asked, never separates one
// person's faces (Sample::subject): such samples form one unit that goes to one side as a whole.
// Stratification: units are sorted by their stratum (the labels of every task, or of one task), shuffled within
// it under the seed, and dealt in that order, each to the set furthest below its share so far
// (deficit_k = fraction_k * assigned_total - assigned_k). Every stratum thus ends within about one unit of its
// share in each set, and the totals within one unit of the fractions.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "data/dataset.h"

namespace facet::data {

struct Split {
  std::vector<std::string> train, val, test;  // sample names
  std::string how;                            // one line saying how it was made (written as a comment)
};

struct SplitOptions {
  double val = 0.1, test = 0.1;   // fractions of the samples; train gets the rest
  uint64_t seed = 1;
  int stratify_task = -1;         // -1: stratum = labels of all tasks jointly; k: task k only; -2: none
  bool subject_exclusive = false; // keep each Sample::subject on one side (Adience: each user_id)
};
Split stratified_split(const Dataset& ds, const SplitOptions& options);

// Adience's predefined folds: test = the samples of `test_fold`, the other four train, and a subject-exclusive
// stratified `val_fraction` of those four becomes validation (0: no validation set).
Split fold_split(const Dataset& ds, int test_fold, double val_fraction = 0.0, uint64_t seed = 1);

// File format: '#' comment lines, then one "train|val|test<TAB>name" line per sample (names may hold spaces).
void write_split(const std::string& path, const Split& split);  // throws when the file cannot be written
Split read_split(const std::string& path);                      // throws naming the file and line of a bad line

struct SplitSets {
  Dataset train, val, test;
  std::vector<std::string> missing;  // names in the split file but not in the dataset
  int64_t unassigned = 0;            // samples of the dataset the split does not mention
};
SplitSets apply_split(const Dataset& ds, const Split& split);

// "" when no duplicate group (and, with subjects=true, no subject) appears in two sets, else the first offence.
std::string check_split(const Dataset& ds, const Split& split, bool subjects);
// How many subjects have faces in more than one set (0 for a subject-exclusive split).
int64_t straddling_subjects(const Dataset& ds, const Split& split);

}  // namespace facet::data
