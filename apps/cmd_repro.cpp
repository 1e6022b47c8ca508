// `facet repro STUDY`: the studies' configurations as TrainSpecs, trained one after the other (a finished run is
// reused, an interrupted one resumed), then one table per study written between markers in docs/results.md.
// Every row is read back from its run directory, so the table only ever shows measured numbers; a configuration
// without a finished run is listed as "not run".
#include "apps/cmd_repro.h"
#include "data/io/atomic_file.h"

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>

#include "apps/cli_checks.h"
#include "apps/cmd_eval.h"
#include "apps/cmd_train.h"
#include "apps/repro_studies.h"
#include "data/readers.h"
#include "models/training/run_dir.h"
#include "models/training/trainer_data.h"
#include "models/training/trainer_run.h"

namespace fs = std::filesystem;
using namespace facet;

namespace {

using repro::Config;
using repro::Study;
using repro::make_study;

std::string pct(double f) {
  char b[16];
  std::snprintf(b, sizeof b, "%.2f%%", 100.0 * f);
  return b;
}

std::string minutes(double s) {
  char b[32];
  std::snprintf(b, sizeof b, "%.1f min", s / 60.0);
  return b;
}

nlohmann::json read_json(const std::string& path) {
  std::ifstream f(path);
  if (!f) return nullptr;
  try {
    return nlohmann::json::parse(f);
  } catch (...) {
    return nullptr;
  }
}

// Sum of the epochs' own times (a resumed run's epochs too) from metrics.json.
double epoch_seconds(const std::string& run) {
  double s = 0;
  const auto h = read_json(RunDir(run).metrics_json());
  if (h.is_array())
    for (const auto& e : h) s += e.value("seconds", 0.0);
  return s;
}

// "age 45.94% (one-off 78.84%, undefined 1.2%), gender 87.11%" from one test.json-like object, or mean +- std over
// several (folds).
std::string scores_text(const std::vector<nlohmann::json>& tests) {
  std::string out;
  const auto& first = tests.front()["attributes"];
  for (size_t a = 0; a < first.size(); ++a) {
    auto stat = [&](const char* key) {
      double m = 0, v = 0;
      for (const auto& t : tests) m += t["attributes"][a].value(key, 0.0);
      m /= double(tests.size());
      for (const auto& t : tests) v += std::pow(t["attributes"][a].value(key, 0.0) - m, 2);
      const double sd = tests.size() > 1 ? std::sqrt(v / double(tests.size() - 1)) : 0.0;
      return tests.size() > 1 ? pct(m) + " +- " + pct(sd) : pct(m);
    };
    if (!out.empty()) out += ", ";
    out += first[a]["name"].get<std::string>() + " **" + stat("accuracy") + "**";
    std::string extra;
    if (first[a].value("ordinal", false)) extra = "one-off " + stat("one_off");
    double undef = 0;
    for (const auto& t : tests) undef += t["attributes"][a].value("undefined_rate", 0.0);
    if (undef > 0) extra += (extra.empty() ? "" : ", ") + std::string("undefined ") + stat("undefined_rate");
    if (first[a].contains("coverage"))  // the model's reject rule, apart from the accuracy
      extra += (extra.empty() ? "" : ", ") + std::string("coverage ") + stat("coverage") + ", " +
               stat("accuracy_when_defined") + " when defined";
    if (!extra.empty()) out += " (" + extra + ")";
  }
  return out;
}

// The PyTorch peer's result on the same run directory (bench/peer/torch_train.py writes torch_peer.json), as a
// table row of its own, with facet minus peer per task; empty when the peer has not been run there.
std::string peer_row(const std::string& run, int64_t train_faces) {
  const auto peer = read_json(RunDir(run).torch_peer());
  const auto ours = read_json(RunDir(run).summary());
  if (!peer.is_object() || !peer.contains("test")) return "";
  std::string scores, gaps;
  for (const auto& [task, acc] : peer["test"].items()) {
    if (!scores.empty()) scores += ", ";
    scores += task + " **" + pct(acc.get<double>()) + "**";
    if (task == "age" && peer.contains("test_age_one_off"))
      scores += " (one-off " + pct(peer["test_age_one_off"].get<double>()) + ")";
    if (ours.is_object() && ours.contains("test"))
      for (const auto& a : ours["test"]["attributes"])
        if (a.value("name", std::string()) == task) {
          char b[48];
          std::snprintf(b, sizeof b, "%s%s %+.2f", gaps.empty() ? "" : ", ", task.c_str(),
                        100.0 * (a.value("accuracy", 0.0) - acc.get<double>()));
          gaps += b;
        }
  }
  return "| PyTorch peer, same split and recipe (`bench/peer/torch_train.py`, PyTorch " +
         peer.value("torch", std::string("?")) + ", " + std::to_string(peer.value("threads", 0)) + " thread(s), seed " +
         std::to_string(peer.value("seed", 0)) + ") | " + scores + " | facet minus peer (points): " + gaps + " | " +
         std::to_string(peer.value("epochs", 0)) + " (" + std::to_string(peer.value("best_epoch", 0)) + ") | " +
         std::to_string(train_faces) + " | " + minutes(peer.value("train_seconds", 0.0)) + " |\n";
}

// The comparison cell of a row measured against the PyTorch peer: its test scores from torch_peer.json, with
// the file they come from; "not run" (and how to run it) when the peer has not been run on this directory.
std::string peer_reported(const std::string& run) {
  const auto peer = read_json(RunDir(run).torch_peer());
  if (!peer.is_object() || !peer.contains("test"))
    return "PyTorch peer: not run (`python3 bench/peer/torch_train.py --run " + run + "`)";
  std::string scores;
  for (const auto& [task, acc] : peer["test"].items()) {
    scores += (scores.empty() ? "" : ", ") + task + " " + pct(acc.get<double>());
    if (task == "age" && peer.contains("test_age_one_off"))
      scores += " (one-off " + pct(peer["test_age_one_off"].get<double>()) + ")";
  }
  return "PyTorch peer, same recipe and split, seed " + std::to_string(peer.value("seed", 0)) + " (measured: `" + run +
         "/torch_peer.json`): " + scores;
}

std::string today() {
  std::time_t t = std::time(nullptr);
  char b[32];
  std::strftime(b, sizeof b, "%Y-%m-%d", std::gmtime(&t));
  return b;
}

// Replaces the text between the study's markers in `path` (or appends the section when they are absent).
void write_section(const std::string& path, const std::string& id, const std::string& body) {
  const std::string begin = "<!-- facet repro " + id + ": begin -->", end = "<!-- facet repro " + id + ": end -->";
  std::string text;
  {
    std::ifstream f(path);
    std::stringstream s;
    s << f.rdbuf();
    text = s.str();
  }
  const std::string section = begin + "\n" + body + end;
  const size_t b = text.find(begin), e = text.find(end);
  if (b != std::string::npos && e != std::string::npos && e > b) {
    text.replace(b, e + end.size() - b, section);
  } else {
    if (!text.empty() && text.back() != '\n') text += "\n";
    text += "\n" + section + "\n";
  }
  facet::io::write_file_atomic(path, text);
}

// The data path as the user gave it (`--data`), or `$FACET_DATA/...` when it came from the environment: what
// the printed and documented commands show, so that they carry no machine's absolute path.
std::string shown_data_path(const std::string& given, const std::string& resolved) {
  if (!given.empty()) return given;
  const char* env = std::getenv("FACET_DATA");
  if (env && *env && resolved.rfind(env, 0) == 0) return "$FACET_DATA" + resolved.substr(std::strlen(env));
  return resolved;
}

// `command` with the value of its --data flag replaced by `shown` (a recorded command holds the path its run
// was given, perhaps absolute; the table shows the path this repro call was given for the same data).
std::string with_data_path(std::string command, const std::string& shown) {
  const std::string flag = " --data ";
  const size_t at = command.find(flag);
  if (at == std::string::npos) return command;
  const size_t begin = at + flag.size(), end = command.find(' ', begin);
  command.replace(begin, (end == std::string::npos ? command.size() : end) - begin, shown);
  return command;
}

struct ReproArgs {
  std::string study, data, root = "runs/repro", results = "docs/results.md", only;
  int epochs = 0, threads = 0, limit = 0;
  float threshold = -1;  // study E: the fcn2hot reject rule (-1: the model's default, 0.5)
  uint64_t seed = 1;
  bool dry_run = false, table_only = false;
};

// An ensemble configuration: scores the mean output of its members' best checkpoints on their shared test split
// (once, when every member has finished; kept in <runs>/<study>_<name>/summary.json) and returns its table row.
std::string ensemble_row(const ReproArgs& a, const Study& st, const Config& c, std::string& details) {
  const std::string dir = a.root + "/" + st.id + "_" + c.name;
  EvalRequest req;
  req.data = c.spec.data.path;
  req.set = "test";
  req.tta = c.spec.run.tta;
  req.threads = a.threads;
  req.out = dir + "/test";
  std::string command = "facet eval";
  double train_s = 0;
  int epochs = 0;
  int64_t faces = 0;
  bool members_done = true;
  for (const auto& m : c.ensemble) {
    const std::string run = a.root + "/" + st.id + "_" + m;
    req.checkpoints.push_back(RunDir(run).best());
    command += " --checkpoint " + RunDir(run).best();
    const auto ms = read_json(RunDir(run).summary());
    if (!ms.is_object() || !ms.contains("test")) {
      members_done = false;
      continue;
    }
    train_s += epoch_seconds(run);
    epochs += ms.value("epochs_run", 0);
    faces = ms.value("train_faces", int64_t(0));
  }
  command += " --data " + shown_data_path(a.data, req.data) + " --set test" + (req.tta ? " --tta" : "") + " --out " +
             req.out;
  if (a.dry_run) {
    std::cout << command << "\n";
    return "";
  }
  nlohmann::json summary = read_json(RunDir(dir).summary());
  auto scored = [&] {  // summary.json holds this ensemble's test scores (the same members)
    return summary.is_object() && summary.contains("test") &&
           summary.value("members", nlohmann::json()) == nlohmann::json(req.checkpoints);
  };
  const bool chosen = a.only.empty() || a.only == c.name;
  if (!scored() && chosen && !a.table_only && members_done) {
    std::cout << "== " << st.id << " / " << c.name << "\n" << command << "\n";
    fs::create_directories(dir);
    const auto t0 = std::chrono::steady_clock::now();
    nlohmann::json test = run_evaluation(req, std::cout);
    summary = {{"test", test},
               {"members", req.checkpoints},
               {"command", command},
               {"machine", machine_description()},
               {"threads", kernel_threads()},
               {"wall_seconds", std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count()}};
    facet::io::write_file_atomic(RunDir(dir).summary(), summary.dump(2) + "\n");
  }
  std::string members;
  for (const auto& m : c.ensemble) members += (members.empty() ? "" : ", ") + std::string("`") + m + "`";
  if (!scored())
    return "| " + c.name + " | not run" + (members_done ? "" : " (waits for its members)") + " | " + c.theirs +
           " | - | - | - |\n";
  details += "- `" + c.name + "`: the ensemble (mean output) of " + members + ": `" + command + "`; " +
             summary.value("machine", std::string()) + ", " + std::to_string(summary.value("threads", 0)) +
             " threads; scored in " + minutes(summary.value("wall_seconds", 0.0)) + "\n";
  return "| " + c.name + " (" + std::to_string(c.ensemble.size()) + " models) | " + scores_text({summary["test"]}) +
         " | " + c.theirs + " | " + std::to_string(epochs) + " in all | " + std::to_string(faces) + " | " +
         minutes(train_s) + " (the members') |\n";
}

}  // namespace

void add_repro_commands(CLI::App& app) {
  auto a = std::make_shared<ReproArgs>();
  CLI::App* cmd = app.add_subcommand("repro", "train a study's configurations (A-E, parity, beyond) and write its "
                                              "table into docs/results.md");
  cmd->add_option("study", a->study, "A, B, C, D, E, parity or beyond")->required();
  cmd->add_option("--data", a->data, "UTKFace folder, or for D/E an Adience folder with images (default: "
                                     "$FACET_DATA/utkface)");
  cmd->add_option("--runs", a->root, "folder for the run directories")->capture_default_str();
  cmd->add_option("--results", a->results, "markdown file to write the table into")->capture_default_str();
  cmd->add_option("--only", a->only, "train only the configuration of this name (the table still lists all)");
  cmd->add_option("--epochs", a->epochs, "override every configuration's epoch count (recorded in the table)")
      ->check(facet::cli::number_in(1, 1e6));
  cmd->add_option("--limit", a->limit, "train on only this many faces (quick checks; recorded in the table)")
      ->check(facet::cli::number_in(1, 2147483647));
  cmd->add_option("--threads", a->threads, "kernel threads (default: all cores)")
      ->check(facet::cli::threads_range(1));
  cmd->add_option("--threshold", a->threshold, "study E: the 2-hot reject rule's confidence for runs trained now "
                                               "(default 0.5; a finished run keeps its own: re-score it with "
                                               "facet eval --threshold)")
      ->check(facet::cli::number_in(0, 1));
  cmd->add_option("--seed", a->seed, "seed of every run")->capture_default_str()
      ->check(facet::cli::number_in(0, 18446744073709551615.0));
  cmd->add_flag("--dry-run", a->dry_run, "print the configurations' commands, train nothing");
  cmd->add_flag("--table-only", a->table_only, "train nothing; rebuild the table from the run directories");

  cmd->callback([a] {
    std::string data = a->data.empty() ? default_data_dir() : a->data;
    require_data_path(data);
    const bool adience = data::detect_format(data) == data::Format::adience;
    Study st = make_study(a->study, data, adience, a->threshold);
    std::string body = "## " + st.title + "\n\n" + st.notes + "\n\n";
    body += "| configuration | ours: test split | the study reported | epochs run (best) | train faces | "
            "training time |\n|---|---|---|---|---|---|\n";
    std::string details;
    install_training_interrupt();
    for (Config& c : st.configs) {
      if (!c.ensemble.empty()) {
        body += ensemble_row(*a, st, c, details);
        continue;
      }
      c.spec.run.seed = a->seed + c.seed_offset;
      if (!c.split_from.empty())
        c.spec.data.split_file = RunDir(a->root + "/" + st.id + "_" + c.split_from).split();
      if (a->epochs > 0) c.spec.run.epochs = a->epochs;
      if (a->threads > 0) c.spec.run.threads = a->threads;
      if (a->limit > 0) c.spec.data.limit = a->limit;
      std::vector<int> folds;
      if (c.folds > 0)
        for (int k = 0; k < c.folds; ++k) folds.push_back(k);
      else
        folds.push_back(-1);
      std::vector<nlohmann::json> tests;
      std::vector<std::string> runs;
      double train_s = 0;
      int epochs_run = 0, best = 0;
      int64_t train_faces = 0;
      std::string machine, threads, split_how;
      for (int fold : folds) {
        TrainSpec spec = c.spec;
        spec.data.fold = fold;
        spec.run.out = a->root + "/" + st.id + "_" + c.name + (fold >= 0 ? "_fold" + std::to_string(fold) : "");
        const std::string command = with_data_path(train_command_line(spec), shown_data_path(a->data, data));
        runs.push_back(spec.run.out);
        if (a->dry_run) {
          std::cout << command << "\n";
          continue;
        }
        const bool chosen = a->only.empty() || a->only == c.name;
        nlohmann::json summary = read_json(RunDir(spec.run.out).summary());
        const bool done = summary.is_object() && !summary.value("interrupted", true) && summary.contains("test") &&
                          summary.value("epochs_run", 0) >= 1;
        if (chosen && !a->table_only && !done) {
          const bool resume = fs::exists(RunDir(spec.run.out).last());
          std::cout << "== " << st.id << " / " << c.name << (fold >= 0 ? " fold " + std::to_string(fold) : "")
                    << (resume ? " (resuming)" : "") << "\n" << command << "\n";
          if (resume) {
            TrainSpec saved = read_run_spec(spec.run.out);
            saved.run.epochs = spec.run.epochs;
            summary = run_training(saved, true, command, std::cout);
          } else {
            summary = run_training(spec, false, command, std::cout);
          }
          if (summary.value("interrupted", false)) throw std::runtime_error("interrupted; run the same command to resume");
        }
        if (!summary.is_object() || !summary.contains("test")) continue;
        tests.push_back(summary["test"]);
        train_s += epoch_seconds(spec.run.out);
        epochs_run += summary.value("epochs_run", 0);
        best = summary.value("best_epoch", 0);
        train_faces = summary.value("train_faces", int64_t(0));
        machine = summary.value("machine", std::string());
        threads = std::to_string(summary.value("threads", 0));
        const auto cfg = read_json(RunDir(spec.run.out).config());
        if (cfg.is_object()) {
          for (const auto& n : cfg["data_notes"])
            if (n.get<std::string>().rfind("split:", 0) == 0) split_how = n.get<std::string>();
        }
        details += "- `" + c.name + "`" + (fold >= 0 ? " fold " + std::to_string(fold) : "") + ": `" +
                   with_data_path(summary.value("command", command), shown_data_path(a->data, data)) +
                   "`; run directory `" + spec.run.out + "` (split: `" +
                   spec.run.out + "/split.txt`); " + machine + ", " + threads + " threads, seed " +
                   std::to_string(spec.run.seed) + "; " + std::to_string(summary.value("epochs_run", 0)) +
                   " epochs in " + minutes(epoch_seconds(spec.run.out)) + " of training, " +
                   minutes(summary.value("wall_seconds", 0.0)) + " wall for the last call (data, training, test)\n";
      }
      if (a->dry_run) continue;
      if (c.theirs_from_peer) c.theirs = peer_reported(runs.front());
      const std::string label = c.name + (c.folds > 0 ? " (" + std::to_string(tests.size()) + " of " +
                                                              std::to_string(c.folds) + " folds)"
                                                        : "");
      if (tests.empty()) {
        body += "| " + label + " | not run | " + c.theirs + " | - | - | - |\n";
        continue;
      }
      body += "| " + label + " | " + scores_text(tests) + " | " + c.theirs + " | " + std::to_string(epochs_run) +
              (c.folds > 0 ? "" : " (" + std::to_string(best) + ")") + " | " + std::to_string(train_faces) + " | " +
              minutes(train_s) + " |\n";
      body += peer_row(runs.front(), train_faces);
      if (!split_how.empty()) details += "  - " + split_how + "\n";
    }
    if (a->dry_run) return;
    body += "\n" + details + "\nTable written by `facet repro " + st.id + "` on " + today() + ".\n";
    write_section(a->results, st.id, body);
    std::cout << "wrote the study " << st.id << " table into " << a->results << "\n";
  });
}
