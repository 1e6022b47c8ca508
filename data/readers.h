// Readers for the three forms of face data facet trains on. Each returns the samples it could use and a Report
// of everything else (see dataset.h); none of them throws on bad content, only when the input itself is
// missing (no such directory, no fold files), with a message that says what to pass instead.
//
//   UTKFace   a directory of `age_gender_race_datetime.jpg.chip.jpg` files
//   Adience   a directory with fold_0_data.txt ... fold_4_data.txt (images optional, under the same root)
//   CSV form  age,ethnicity,gender,img_name,pixels (48x48 grayscale as space-separated text)
#pragma once
#include <string>
#include <vector>

#include "data/dataset.h"

namespace facet::data {

struct ReadResult {
  Dataset data;
  Report report;
};

// ---- UTKFace -------------------------------------------------------------------------------------------------
// Labels parsed from one UTKFace file name. A field that is missing, not a number or out of range is -1 and
// the flaw is listed; the name is usable when any label survived.
struct UtkName {
  int age = -1, gender = -1, race = -1;
  std::vector<std::string> flaws;  // empty for a clean name
  bool image = true;               // false: not an image file name (no .jpg/.jpeg/.png ending)
  bool usable() const { return image && (age >= 0 || gender >= 0 || race >= 0); }
};
UtkName parse_utkface_name(const std::string& name);

struct UtkfaceOptions {
  DuplicatePolicy duplicates = DuplicatePolicy::drop_conflicts;
  bool scan = true;     // read every file: skip empty/truncated ones, find byte-identical copies (scan_contents)
  bool decode = false;  // also decode every image while scanning (slow; the loader skips bad ones anyway)
};
ReadResult read_utkface(const std::string& dir, const UtkfaceOptions& options = {});

// ---- Adience -------------------------------------------------------------------------------------------------
// The 8 standard groups: 0-2, 4-6, 8-12, 15-20, 25-32, 38-43, 48-53, 60-100.
inline constexpr int kAdienceGroups = 8;
inline constexpr int kAdienceLo[8] = {0, 4, 8, 15, 25, 38, 48, 60};
inline constexpr int kAdienceHi[8] = {2, 6, 12, 20, 32, 43, 53, 100};
const std::string& adience_group_name(int group);  // "(0, 2)" style, as in the fold files

// The group of an age in years: the group whose range holds it, else the nearer one; the boundary in each gap
// is its midpoint, which goes to the younger group (3 -> 0-2, 7 -> 4-6, 35 -> 25-32, 13 -> 8-12, 14 -> 15-20).
// For integer ages that is the edges 0, 4, 8, 14, 23, 36, 46, 57.
int adience_group_of_age(double years);

enum class AdienceAgePolicy {
  nearest,  // default: stray ranges "(a, b)" go to the group of their midpoint (a+b)/2; bare ages to their group
  strict    // only the 8 standard ranges; every other value is dropped (and counted)
};

struct AdienceAge {
  int group = -1;  // 0..7, -1 when dropped
  int age = -1;    // exact years when the field was a bare number
  enum Kind { standard, mapped, none, dropped, bad } kind = bad;
};
AdienceAge parse_adience_age(const std::string& text, AdienceAgePolicy policy = AdienceAgePolicy::nearest);

struct AdienceOptions {
  std::string image_root;            // where aligned/ or faces/ lies; empty = the fold files' directory
  bool aligned = true;               // aligned/<user>/landmark_aligned_face.<face_id>.<image>, else
                                     // faces/<user>/coarse_tilt_aligned_face.<face_id>.<image>
  AdienceAgePolicy ages = AdienceAgePolicy::nearest;
  std::vector<int> folds{0, 1, 2, 3, 4};
  DuplicatePolicy duplicates = DuplicatePolicy::drop_conflicts;
  bool scan = true;                  // when the images exist: check and hash them (scan_contents)
};
// Rows without any usable label (age and gender both unknown) are skipped and listed; images are checked only
// when the image folder exists under the root (missing ones are skipped and counted); otherwise the samples
// carry labels and a path but no pixels, and a note says so.
ReadResult read_adience(const std::string& dir, const AdienceOptions& options = {});

// ---- UTKFace CSV form ----------------------------------------------------------------------------------------
// Columns found by header name (any order): age, ethnicity, gender, img_name, pixels. Pixels must be a square
// number of values 0..255. Images are held in memory (Sample::pixels, 1 channel).
ReadResult read_utkface_csv(const std::string& file, DuplicatePolicy duplicates = DuplicatePolicy::drop_conflicts);

// ---- your own data: image folders and manifests (data/folder.cpp, data/manifest.cpp) ---------------------------
// Samples carry their labels as raw column values (Sample::attributes, Dataset::columns); data/attributes.h turns
// them into classes. Bad image files are skipped and counted, and byte-identical copies grouped, by
// scan_contents, as for every reader.
struct OwnDataOptions {
  DuplicatePolicy duplicates = DuplicatePolicy::drop_conflicts;
  bool scan = true;     // read, check and hash every image (scan_contents)
  bool decode = false;  // also decode every image while scanning
};

// torchvision's ImageFolder layout: root/<class>/**/<image>, one attribute column "class" whose value is the
// class folder's name. Files that are not images (by extension), files outside a class folder, and names that are
// not UTF-8 are skipped with the reason. Throws std::runtime_error when `dir` is not a directory or holds no
// class folder.
ReadResult read_image_folder(const std::string& dir, const OwnDataOptions& options = {});

// A UTF-8 CSV manifest with a header `path,<attr1>,<attr2>,...` (the path column may stand anywhere; fields may be
// double-quoted). Paths are relative to the manifest's folder and may not leave it (no absolute path, no '..',
// no symbolic link leading out). A blank cell is "no label" for that column. A row naming the same file as an
// earlier row is a duplicate: dropped when the labels agree, both dropped when they conflict (drop-conflicts;
// keep-first and keep-all keep the first row). A missing or bad image file is skipped and counted.
// Throws std::runtime_error naming the file, line and column for: no file, no header, no `path` column, an
// empty, repeated or ill-formed column name, a row with another number of fields than the header (ragged), an
// empty path, a path leaving the folder, an unterminated quote, and bytes that are not UTF-8.
ReadResult read_manifest(const std::string& file, const OwnDataOptions& options = {});

// The byte offset of the first byte of `text` that is not valid UTF-8 (overlong forms, surrogates and code points
// above U+10FFFF included), or std::string::npos when all of it is.
size_t utf8_error_offset(const std::string& text);

// ---- any of them ---------------------------------------------------------------------------------------------
enum class Format { detect, utkface, adience, csv, folder, manifest };
Format parse_format(const std::string& text);  // "auto", "utkface", "adience", "csv", "folder", "manifest"
// detect: a file whose header's first field is `path` -> manifest; any other file -> CSV form; a directory holding
// fold_*_data.txt -> Adience; a directory with no image of its own but class folders holding images -> folder;
// any other directory -> UTKFace.
Format detect_format(const std::string& path);

struct ReadOptions {
  Format format = Format::detect;
  DuplicatePolicy duplicates = DuplicatePolicy::drop_conflicts;
  bool scan = true;
  bool decode = false;
  AdienceOptions adience;  // its `duplicates` and `scan` are overridden by the fields above
};
ReadResult read_dataset(const std::string& path, const ReadOptions& options = {});

}  // namespace facet::data
