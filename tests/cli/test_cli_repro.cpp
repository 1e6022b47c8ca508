// `facet repro` prints and documents commands that a reader can run: the data path as it was given (relative,
// or $FACET_DATA), never a machine's absolute path; the parity row compares with the PyTorch peer's measured
// run (its torch_peer.json), not a typed-in figure; study A has its Keras-defaults row.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "tests/cli/cli_util.h"

using namespace facet::test;
namespace fs = std::filesystem;

TEST_CASE("repro --dry-run: data paths as given ($FACET_DATA kept), and study A's Keras row", "[cli][repro]") {
  Scratch dir("repro_dry");
  write_utkface_like(dir.file("utkface"), 40);
  const std::string in_dir = "cd '" + dir.str() + "' &&";

  const RunResult given = run_facet("repro A --dry-run --data utkface", in_dir);
  INFO(given.output);
  REQUIRE(given.code == 0);
  CHECK(given.output.find("--data utkface ") != std::string::npos);
  // The Keras-defaults configuration, spelled out as the three values (the same model as --keras-defaults).
  CHECK(given.output.find("--activation leakyrelu --leaky-slope 0.3 --bn-momentum 0.01 --bn-eps 0.001 ") !=
        std::string::npos);
  CHECK(given.output.find("--out runs/repro/A_basecnn-leakyrelu-keras") != std::string::npos);

  const RunResult env = run_facet("repro A --dry-run", in_dir + " FACET_DATA='" + dir.str() + "'");
  INFO(env.output);
  REQUIRE(env.code == 0);
  CHECK(env.output.find("--data $FACET_DATA/utkface ") != std::string::npos);
  CHECK(env.output.find(dir.str()) == std::string::npos);  // no absolute path
}

TEST_CASE("repro parity --table-only: the comparison is the peer's measured run, recorded paths as given",
          "[cli][repro]") {
  Scratch dir("repro_table");
  write_utkface_like(dir.file("utkface"), 40);
  const std::string run = dir.file("runs/parity_basecnn64-leakyrelu");
  fs::create_directories(run);
  auto attr = [](const char* name, double acc) {
    return nlohmann::json{{"name", name}, {"accuracy", acc}};
  };
  nlohmann::json age = attr("age", 0.5);
  age["ordinal"] = true;
  age["one_off"] = 0.9;
  const nlohmann::json summary = {
      {"test", {{"attributes", {age, attr("gender", 0.9), attr("race", 0.8)}}}},
      {"epochs_run", 20},
      {"best_epoch", 20},
      {"train_faces", 30},
      {"interrupted", false},
      {"command", "facet train --model basecnn --data /some/machine/abs/utkface --labels groups10+gender+race"}};
  std::ofstream(run + "/summary.json") << summary.dump();
  const nlohmann::json peer = {{"test", {{"age", 0.55}, {"gender", 0.91}, {"race", 0.79}}},
                               {"test_age_one_off", 0.92},
                               {"seed", 1},
                               {"threads", 1},
                               {"epochs", 20}};
  std::ofstream(run + "/torch_peer.json") << peer.dump();

  const std::string results = dir.file("results.md");
  const RunResult r = run_facet("repro parity --table-only --data utkface --runs runs --results results.md",
                                "cd '" + dir.str() + "' &&");
  INFO(r.output);
  REQUIRE(r.code == 0);
  const std::string table = read_text(results);
  INFO(table);
  CHECK(table.find("PyTorch peer, same recipe and split, seed 1 (measured: "
                   "`runs/parity_basecnn64-leakyrelu/torch_peer.json`): age 55.00% (one-off 92.00%), gender "
                   "91.00%, race 79.00%") != std::string::npos);
  CHECK(table.find("53.5") == std::string::npos);
  CHECK(table.find("--data utkface --labels") != std::string::npos);  // the recorded command, path as given
  CHECK(table.find("/some/machine/abs") == std::string::npos);
}
