// A Dataset is a list of labelled face samples; every reader returns one together with a Report that lists
// everything it skipped, flagged or merged, with the reason, so nothing is lost silently.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "data/image_io.h"

namespace facet::data {

// Raw attribute codes, as UTKFace defines them (Adience shares gender).
inline constexpr int kMaxAge = 116;                      // UTKFace ages are 0..116
inline const char* const kGenderNames[2] = {"male", "female"};
inline const char* const kRaceNames[5] = {"White", "Black", "Asian", "Indian", "Others"};

struct Sample {
  std::string name;                     // unique key, used in split files: file name (UTKFace), image path
                                        // relative to the root (Adience), img_name (CSV form)
  std::string path;                     // file to decode; empty when `pixels` holds the image
  std::shared_ptr<const Image> pixels;  // in-memory image (CSV form), shared by copies of the dataset
  int age = -1;                         // years; -1 unknown (Adience gives ranges: see age_group)
  int age_group = -1;                   // Adience's 8 groups 0..7 when the source gives one; -1 otherwise
  int gender = -1;                      // 0 male, 1 female, -1 unknown
  int race = -1;                        // 0 White, 1 Black, 2 Asian, 3 Indian, 4 Others, -1 unknown
  std::string subject;                  // identity for subject-exclusive splits (Adience: user_id, the album);
                                        // empty when unknown
  int fold = -1;                        // Adience fold 0..4
  int64_t file_size = -1;               // bytes, -1 when not read
  uint64_t content_hash = 0;            // hash64 of the file bytes (or pixels); 0 when not hashed
  int dup_group = -1;                   // index into Report::duplicates when byte-identical copies exist
  std::vector<int32_t> labels;          // one class per task of the applied LabelScheme (see labels.h)
  std::vector<float> targets;           // float targets of the applied scheme (2-hot, tuple); empty otherwise
  // Your own data (image folders, manifests; data/attributes.h): the raw value of each labelled column, by column
  // name; a blank cell has no entry. `origin` says where the row came from ("labels.csv:17"), for errors.
  std::map<std::string, std::string> attributes;
  std::string origin;
};

struct Dataset {
  std::string source;  // "utkface", "adience", "utkface-csv", "folder", "manifest"
  std::string root;    // directory or file it was read from
  std::vector<std::string> columns;  // folder and manifest: the attribute columns, in header order (folder: "class")
  std::vector<Sample> samples;
  size_t size() const { return samples.size(); }
  bool empty() const { return samples.empty(); }
};

// One file or row that broke the expected pattern or was left out.
struct Problem {
  std::string name;    // file name, or "fold_0_data.txt:17" for a row
  std::string reason;  // what is wrong, in words
  bool kept = false;   // true: flagged but its usable labels were kept
};

// Byte-identical files under different names.
struct DuplicateGroup {
  uint64_t hash = 0;
  int64_t size = 0;
  std::vector<std::string> names;   // sorted
  std::vector<std::string> labels;  // "age/gender/race" of each name, same order
  bool conflict = false;            // labels disagree
  std::vector<std::string> kept;    // names left in the dataset (none when a conflicting group was dropped)
};

// What to do with byte-identical copies.
enum class DuplicatePolicy {
  drop_conflicts,  // default: drop every copy of a group whose labels disagree; keep one of an agreeing group
  keep_first,      // keep the first name (sorted) of every group, whatever its labels
  keep_all         // keep all copies (splits still keep each group on one side)
};
DuplicatePolicy parse_duplicate_policy(const std::string& text);  // "drop-conflicts", "keep-first", "keep-all"
const char* to_string(DuplicatePolicy p);

struct Report {
  std::string source, root;
  int64_t entries = 0;                    // files (or rows) looked at
  int64_t usable = 0;                     // samples in the returned dataset
  std::vector<Problem> malformed;         // broke the pattern (kept ones are in the dataset)
  std::vector<Problem> skipped;           // left out, with why
  std::vector<DuplicateGroup> duplicates;
  int64_t duplicates_dropped = 0;         // samples removed by the duplicate policy
  std::map<std::string, int64_t> counts;  // named counters (e.g. "age mapped: (27, 32) -> (25, 32)")
  std::vector<std::string> notes;         // anything else a reader of the report should know

  void skip(const std::string& name, const std::string& reason) { skipped.push_back({name, reason, false}); }
  void count(const std::string& key, int64_t n = 1) { counts[key] += n; }
  int64_t conflicting_groups() const;
  nlohmann::json to_json() const;
  std::string to_text() const;  // every problem on its own line
};

// Reads every sample's file once: skips (with the reason) files that cannot be read, are empty, or fail
// check_image_bytes (truncated JPEG/PNG, unknown format); hashes the rest (in-memory samples hash their pixels);
// groups byte-identical copies (same size and hash64, confirmed byte by byte), records the groups in the
// report, sets Sample::dup_group and applies the policy. `decode` also fully decodes each image (slow: ~1 ms
// per 200x200 JPEG) so that images stb_image rejects are skipped here rather than by the loader.
void scan_contents(Dataset& ds, Report& report, DuplicatePolicy policy, bool decode = false);

// "age/gender/race" with "?" for unknown fields (and the Adience group when there is no exact age); for folder and
// manifest samples "col=value;..." over their attributes.
std::string label_string(const Sample& s);

}  // namespace facet::data
