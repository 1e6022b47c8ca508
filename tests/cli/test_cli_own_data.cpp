// Your own data through the CLI: a folder of two classes trains, evaluates and predicts end to end; a manifest
// with blank cells and a binned column trains; a bad manifest fails with its file, line and column, and leaves the
// run directory as it was.
#include <nlohmann/json.hpp>

#include "tests/cli/cli_util.h"

using namespace facet::test;
namespace fs = std::filesystem;

namespace {

// A 16x16 image of one dominant colour (0 red, 1 blue) with seeded noise: two classes a tiny network learns.
void write_colour_image(const std::string& path, int colour, uint64_t seed) {
  fs::create_directories(fs::path(path).parent_path());
  facet::data::Image img = synthetic_face(16, 16, 30, colour == 0 ? 1 : 0, seed);
  facet::data::write_png(path, img);
}

const char* const kOwnTiny =
    " --size 16 --conv-channels 4,8 --dense 16 --batch 16 --workers 0 --threads 1 --seed 2";

}  // namespace

TEST_CASE("facet on a folder of two classes: data stats, train, eval, predict", "[cli][own-data]") {
  Scratch dir("own_folder");
  const std::string photos = dir.file("photos"), run = dir.file("run");
  for (int i = 0; i < 40; ++i) {
    write_colour_image(photos + "/red/r" + std::to_string(i) + ".png", 0, 100 + uint64_t(i));
    write_colour_image(photos + "/blue/b" + std::to_string(i) + ".png", 1, 200 + uint64_t(i));
  }
  std::ofstream(photos + "/blue/broken.png") << "not a png";  // skipped and counted

  const RunResult stats = run_facet("data stats --data " + photos);
  INFO(stats.output);
  REQUIRE(stats.code == 0);
  CHECK_THAT(stats.output, Catch::Contains("folder at") && Catch::Contains("skipped: 1") &&
                               Catch::Contains("blue") && Catch::Contains("red"));

  const RunResult train = run_facet("train --data " + photos + " --out " + run + " --epochs 4" + kOwnTiny);
  INFO(train.output);
  REQUIRE(train.code == 0);
  const auto classes = nlohmann::json::parse(read_text(run + "/classes.json"));
  CHECK(classes["tasks"][0]["name"] == "class");
  CHECK(classes["tasks"][0]["classes"] == nlohmann::json({"blue", "red"}));  // sorted
  CHECK(classes["tasks"][0]["index"]["red"] == 1);
  const auto config = nlohmann::json::parse(read_text(run + "/config.json"));
  CHECK(config["scheme"]["kind"] == "attributes");

  const RunResult eval = run_facet("eval --checkpoint " + run + "/best.ckpt --data " + photos + " --threads 1");
  INFO(eval.output);
  REQUIRE(eval.code == 0);
  const auto ej = nlohmann::json::parse(read_text(run + "/eval_test.json"));
  // Red against blue is separable by the mean colour: the trained model must get the test faces right.
  CHECK(ej["attributes"][0]["accuracy"].get<double>() >= 0.9);
  CHECK(eval.output.find("accuracy by race") == std::string::npos);  // no face groupings on cats and dogs

  const RunResult pred = run_facet("predict --checkpoint " + run + "/best.ckpt " + photos + "/red --threads 1");
  INFO(pred.output);
  REQUIRE(pred.code == 0);
  CHECK_THAT(pred.output, Catch::Contains("\"class\"") && Catch::Contains("\"red\""));
}

TEST_CASE("facet on a manifest: blank cells, a binned column, and bad manifests", "[cli][own-data][bad]") {
  Scratch dir("own_manifest");
  const std::string run = dir.file("run");
  std::string csv = "path,colour,size,comment\n";
  for (int i = 0; i < 48; ++i) {
    const std::string rel = "img/" + std::to_string(i) + ".png";
    write_colour_image(dir.file(rel), i % 2, 300 + uint64_t(i));
    csv += rel + "," + (i % 5 == 0 ? "" : i % 2 ? "blue" : "red") + "," + (i % 7 == 0 ? "" : std::to_string(i % 30)) +
           ",free text\n";
  }
  std::ofstream(dir.file("labels.txt")) << csv;  // any name: the header says it is a manifest
  const RunResult stats = run_facet("data stats --data " + dir.file("labels.txt") + " --labels size:edges=0,10,20+comment:skip");
  INFO(stats.output);
  REQUIRE(stats.code == 0);
  CHECK_THAT(stats.output, Catch::Contains("(no label)") && Catch::Contains("10-19") &&
                               Catch::Contains("column 'comment'"));

  const RunResult train = run_facet("train --data " + dir.file("labels.txt") + " --format manifest --labels "
                                    "size:edges=0,10,20+comment:skip --out " + run + " --epochs 1" + kOwnTiny);
  INFO(train.output);
  REQUIRE(train.code == 0);
  const auto config = nlohmann::json::parse(read_text(run + "/config.json"));
  CHECK(config["scheme"]["tasks"][1]["edges"] == nlohmann::json({0, 10, 20}));
  const std::string ckpt_before = read_text(run + "/best.ckpt"), config_before = read_text(run + "/config.json");

  // Each bad manifest fails on purpose, naming the file, the line and the column; nothing written is touched.
  const std::vector<std::pair<std::string, std::vector<std::string>>> bad = {
      {"path,colour,size\nimg/0.png,green,3\n", {"bad.csv:2, column 'colour'", "class 'green' is not one of"}},
      {"path,size\nimg/0.png,3\n", {"bad.csv", "no column 'colour'"}},
      {"path,colour,size\nimg/0.png,red\n", {"bad.csv:2", "2 fields", "has 3"}},
      {"path,colour,size\n../labels.txt,red,3\n", {"bad.csv:2, column 1", "'..'"}},
      {"path,colour,size\nimg/0.png,r\xE9\x64,3\n", {"bad.csv:2, column 2", "not UTF-8"}},
      {"file,colour,size\nimg/0.png,red,3\n", {"bad.csv:1", "no 'path' column"}},
  };
  for (const auto& [text, parts] : bad) {
    std::ofstream(dir.file("bad.csv"), std::ios::binary) << text;
    const RunResult r = run_facet("eval --checkpoint " + run + "/best.ckpt --data " + dir.file("bad.csv") +
                                  " --set all --out " + run + "/eval_bad --threads 1");
    INFO(text << "\n" << r.output);
    CHECK(r.code == 1);
    for (const auto& p : parts) CHECK_THAT(r.output, Catch::Contains(p));
  }
  CHECK(read_text(run + "/best.ckpt") == ckpt_before);
  CHECK(read_text(run + "/config.json") == config_before);
  CHECK(!fs::exists(run + "/eval_bad.json"));
}
