// Label schemes of your own data (image folders and manifests, data/readers.h): every attribute column becomes
// one task (one head of the model), named after the column.
//
//   categorical  the column's distinct values, sorted (numerically when every value is a number), are its
//                classes; the class index is the position (written to <run>/classes.json)
//   binned       a numeric column cut at lower edges e0 < e1 < ... < ek: class i holds e_i <= v < e_{i+1}, the last
//                class e_k and up; a value under e0 has no class for that head
// A blank cell (no entry in Sample::attributes) means "no label" for that head: the sample stays, its class is -1
// and the loss and the metrics skip it (cross_entropy ignores -1 rows, as for every scheme). A sample with no
// label for any head is dropped.
//
// The spec (--labels) is parts joined by '+':  all | COLUMN | COLUMN:edges=e0,e1,... | COLUMN:skip
// Every column is a head unless skipped; "" and "all" keep every column categorical. A part that names no column
// of the data is an error that lists the columns.
#pragma once
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "data/labels.h"

namespace facet::data {

// True for the data sets that carry attribute columns (folder, manifest).
bool has_attribute_columns(const Dataset& ds);
// True when `format` ("folder", "manifest", or "auto" with data/readers.h's detect_format of `path`) reads one.
bool attribute_format(const std::string& path, const std::string& format);

// Builds the scheme from the data (the classes of categorical columns) and the spec. Throws
// std::invalid_argument naming the bad part, the unknown column (and the columns there are) or a bad edge.
LabelScheme make_attribute_scheme(const Dataset& ds, const std::string& spec);

// The scheme a data set is labelled with: make_attribute_scheme for folders and manifests, else make_scheme
// (`balanced` edges from the ages of `ds`).
LabelScheme scheme_for(const Dataset& ds, const std::string& spec);

// LabelScheme::label for attribute schemes. Throws std::invalid_argument, naming the sample's origin (file and
// line) and the column, for a class the scheme does not know (a fixed class list: eval against a trained model)
// and for a binned column's cell that is not a number.
bool label_attributes(const LabelScheme& scheme, const Sample& s, std::vector<int32_t>& classes,
                      std::vector<float>& targets, std::string& why);

// Throws std::invalid_argument when the scheme cannot label the data set at all: a column the scheme needs is not
// in the data (naming the file, its header, and the columns it has), or the scheme and the data are of the other
// kind (face labels on a manifest, columns on UTKFace). apply_scheme calls it.
void check_columns(const Dataset& ds, const LabelScheme& scheme);

// One line per column of the data that the scheme does not use ("column 'x' of F: not a head, ignored").
std::vector<std::string> column_notes(const Dataset& ds, const LabelScheme& scheme);

// {"tasks": [{"name": "class", "classes": ["cat", "dog"], "index": {"cat": 0, "dog": 1}}, ...]}: the
// class -> index mapping written to <run>/classes.json.
nlohmann::json class_map(const LabelScheme& scheme);

}  // namespace facet::data
