// `facet data ...`: thin wrappers around data/stats.h; the logic lives (and is tested) in the library.
#include "apps/cmd_data.h"
#include "data/io/atomic_file.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>
#include <stdexcept>

#include "apps/cli_checks.h"
#include "data/attributes.h"
#include "data/stats.h"

namespace {

using namespace facet::data;
using facet::cli::number_in;

struct DataArgs {
  std::string data, labels, format = "auto", duplicates = "drop-conflicts", json, out, split_file;
  std::string adience_images, adience_ages = "nearest";
  bool adience_faces = false, subject_exclusive = false, decode = false, quiet = false;
  double val = 0.1, test = 0.1;
  uint64_t seed = 1;
  int fold = -1, stratify = -1;
};

void add_common(CLI::App* cmd, DataArgs& a) {
  cmd->add_option("--data", a.data,
                  "UTKFace folder, Adience folder (fold_*_data.txt) or UTKFace CSV file (default: $FACET_DATA/utkface)");
  cmd->add_option("--labels", a.labels,
                  "label scheme: seed000, bin10, balanced[:K], intuition, groups10, adience8, gender, race, 2hot, tuple, "
                  "age edges like 0,7,13,20,30,45,60, or parts joined by '+'; folder/manifest: all (the default), "
                  "COLUMN:edges=0,7,13, COLUMN:skip");
  cmd->add_option("--format", a.format, "auto, utkface, adience, csv, folder or manifest")->capture_default_str();
  cmd->add_option("--duplicates", a.duplicates, "byte-identical copies: drop-conflicts, keep-first or keep-all")
      ->capture_default_str();
  cmd->add_option("--val", a.val, "validation fraction")->capture_default_str()
      ->check(number_in(0, 1, false, true));
  cmd->add_option("--test", a.test, "test fraction")->capture_default_str()
      ->check(number_in(0, 1, false, true));
  cmd->add_option("--seed", a.seed, "split seed")->capture_default_str()
      ->check(number_in(0, 18446744073709551615.0));
  cmd->add_option("--stratify", a.stratify, "stratify by task K (-1: all tasks jointly, -2: no stratification)")
      ->capture_default_str()
      ->check(number_in(-2, 64));
  cmd->add_option("--fold", a.fold, "Adience: test on this predefined fold (0-4), train on the other four")
      ->check(number_in(0, 4));
  cmd->add_flag("--subject-exclusive", a.subject_exclusive, "keep each identity (Adience: user_id) together");
  cmd->add_flag("--decode", a.decode, "decode every image while reading (slow; finds images stb_image rejects)");
  cmd->add_option("--adience-images", a.adience_images, "Adience: root holding aligned/ (default: the --data folder)");
  cmd->add_option("--adience-ages", a.adience_ages, "Adience noisy ages: nearest (map to a group) or strict (drop)")
      ->capture_default_str();
  cmd->add_flag("--adience-faces", a.adience_faces, "Adience: use faces/ (coarse tilt aligned) instead of aligned/");
  facet::cli::add_max_pixels(cmd);
}

Prepared prepare(DataArgs& a) {
  if (a.data.empty()) {
    const char* env = std::getenv("FACET_DATA");
    if (!env || !*env)
      throw std::invalid_argument("no data: pass --data DIR (e.g. --data ../shared/data/utkface) or set FACET_DATA");
    a.data = std::string(env) + "/utkface";
  }
  ReadOptions o;
  o.format = parse_format(a.format);
  o.duplicates = parse_duplicate_policy(a.duplicates);
  o.decode = a.decode;
  o.adience.image_root = a.adience_images;
  o.adience.aligned = !a.adience_faces;
  if (a.adience_ages == "strict") o.adience.ages = AdienceAgePolicy::strict;
  else if (a.adience_ages != "nearest")
    throw std::invalid_argument("--adience-ages '" + a.adience_ages + "': use nearest or strict");
  if (a.labels.empty() && !attribute_format(a.data, a.format))
    throw std::invalid_argument("--labels is required for face data (e.g. --labels groups10+gender+race); only image "
                                "folders and manifests default to their own columns");
  return read_and_label(a.data, a.labels, o);
}

Split split_of(const Prepared& p, const DataArgs& a) {
  SplitRequest r;
  r.stratified.val = a.val;
  r.stratified.test = a.test;
  r.stratified.seed = a.seed;
  r.stratified.stratify_task = a.stratify;
  r.stratified.subject_exclusive = a.subject_exclusive;
  r.fold = a.fold;
  r.split_file = a.split_file;
  return make_split(p.labelled, r);
}

void write_json(const std::string& path, const nlohmann::json& j) {
  facet::io::write_file_atomic(path, j.dump(2) + "\n");
}

}  // namespace

void add_data_commands(CLI::App& app) {
  auto* data = app.add_subcommand("data", "inspect data sets and write split files");
  data->require_subcommand(1);
  auto args = std::make_shared<DataArgs>();

  auto* stats = data->add_subcommand("stats", "files, usable faces, malformed names, duplicates, classes per split");
  add_common(stats, *args);
  stats->add_option("--json", args->json, "also write everything as JSON to this file");
  stats->add_option("--split", args->split_file, "count classes on this split file instead of making a split");
  stats->callback([args] {
    const Prepared p = prepare(*args);
    const nlohmann::json j = describe(p, split_of(p, *args));
    std::cout << describe_text(j);
    if (!args->json.empty()) {
      write_json(args->json, j);
      std::cout << "wrote " << args->json << "\n";
    }
  });

  auto* split = data->add_subcommand("split", "write a train/val/test split file (one name per line)");
  add_common(split, *args);
  split->add_option("--out", args->out, "split file to write")->required();
  split->callback([args] {
    const Prepared p = prepare(*args);
    const Split s = split_of(p, *args);
    write_split(args->out, s);
    const bool subjects = args->subject_exclusive || args->fold >= 0;
    const std::string check = check_split(p.labelled, s, subjects);
    std::cout << "split: " << s.how << "\n  train " << s.train.size() << ", val " << s.val.size() << ", test "
              << s.test.size() << "\n  " << (check.empty() ? "no duplicate group on two sides" : check) << "\nwrote "
              << args->out << "\n";
  });
}
