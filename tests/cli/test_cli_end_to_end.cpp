// A tiny end-to-end run of the `facet` binary on generated faces: train (run directory, curves, checkpoints,
// test scores), eval (every metric, JSON, heat maps), predict (JSON lines, a GIF's frames, the contact sheet);
// then eval and predict with an ensemble of checkpoints.
#include <catch2/catch.hpp>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "tests/cli/cli_util.h"

using namespace facet::test;
namespace fs = std::filesystem;

namespace {

// Small network, few epochs: seconds on one core. Gender is carried by the hue, so it must be learned.
#define TINY_NET                                                                                   \
  " --size 16 --conv-channels 4,8 --dense 16 --epochs 4 --batch 16 --lr 0.01 --val 0.2 --test 0.2" \
  " --workers 0 --threads 1"
#define TINY_RECIPE " --labels intuition+gender+race" TINY_NET
const char* kTinyTrain = TINY_RECIPE " --seed 3";

std::vector<nlohmann::json> json_lines(const std::string& text) {
  std::vector<nlohmann::json> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line))
    if (!line.empty() && line[0] == '{') out.push_back(nlohmann::json::parse(line));
  return out;
}

}  // namespace

TEST_CASE("facet train -> eval -> predict on generated faces", "[cli][e2e]") {
  Scratch dir("e2e");
  const std::string data = dir.file("utk"), run = dir.file("run");
  write_utkface_like(data, 240);

  const RunResult train = run_facet("train --data " + data + " --out " + run + kTinyTrain);
  INFO(train.output);
  REQUIRE(train.code == 0);
  for (const char* f : {"config.json", "split.txt", "data_report.txt", "metrics.json", "metrics.csv", "loss.png",
                        "accuracy.png", "best.ckpt", "last.ckpt", "test.json", "test.txt", "test_confusion_age.png",
                        "summary.json"})
    CHECK(fs::exists(run + "/" + f));
  CHECK(train.output.find("img/s") != std::string::npos);
  CHECK(train.output.find("validation:") != std::string::npos);
  const auto history = nlohmann::json::parse(read_text(run + "/metrics.json"));
  CHECK(history.size() == 4);
  const auto summary = nlohmann::json::parse(read_text(run + "/summary.json"));
  CHECK(summary["test_faces"].get<int>() == 48);
  const auto& attrs = summary["test"]["attributes"];
  REQUIRE(attrs.size() == 3);
  CHECK(attrs[1]["name"] == "gender");
  CHECK(attrs[1]["accuracy"].get<double>() >= 0.8);  // the hue gives gender away: a broken loop stays near 0.5
  CHECK(attrs[0].contains("one_off"));

  const RunResult eval = run_facet("eval --checkpoint " + run + "/best.ckpt --data " + data + " --threads 1");
  INFO(eval.output);
  REQUIRE(eval.code == 0);
  CHECK(eval.output.find("test set 48 faces") != std::string::npos);  // split.txt beside the checkpoint
  CHECK(eval.output.find("misclassification by distance") != std::string::npos);
  CHECK(eval.output.find("accuracy by race") != std::string::npos);
  CHECK(eval.output.find("accuracy by gender") != std::string::npos);
  const auto ej = nlohmann::json::parse(read_text(run + "/eval_test.json"));
  // eval of the best checkpoint on the same split reproduces the trainer's own test scores exactly
  CHECK(ej["attributes"] == summary["test"]["attributes"]);
  CHECK(fs::exists(run + "/eval_test_confusion_gender.png"));

  // predict: a folder of faces, plus an animated GIF of three frames
  const std::string gif = dir.file("clip.gif");
  REQUIRE(write_gif(gif, {synthetic_face(24, 24, 26, 0, 1), synthetic_face(24, 24, 26, 1, 2),
                          synthetic_face(24, 24, 70, 1, 3)}));
  const RunResult pred = run_facet("predict --checkpoint " + run + "/best.ckpt " + data + " " + gif + " --grid " +
                                   dir.file("grid.png") + " --json " + dir.file("pred.json") + " --threads 1");
  INFO(pred.output);
  REQUIRE(pred.code == 0);
  const auto lines = json_lines(pred.output);
  REQUIRE(lines.size() == 243);
  CHECK(lines[0]["predictions"]["gender"]["name"].is_string());
  CHECK(lines[0]["predictions"]["age"]["probability"].get<double>() > 0.0);
  CHECK(lines[0].contains("truth"));  // UTKFace names carry the truth
  int frames = 0;
  for (const auto& l : lines)
    if (l.contains("frame")) {
      CHECK(l["file"] == gif);
      CHECK(l["frame"].get<int>() == frames);
      ++frames;
    }
  CHECK(frames == 3);
  CHECK(nlohmann::json::parse(read_text(dir.file("pred.json"))).size() == 243);
  facet::data::Image grid;
  std::string error;
  REQUIRE(facet::data::load_image(dir.file("grid.png"), 3, grid, error));
  CHECK(grid.w == 8 * (96 + 16));  // 8 tiles of 96 px + padding per row
}

TEST_CASE("facet eval and predict with an ensemble of checkpoints", "[cli][e2e][ensemble]") {
  Scratch dir("ensemble");
  const std::string data = dir.file("utk"), a = dir.file("a"), b = dir.file("b"), c = dir.file("c");
  write_utkface_like(data, 240);
  const std::string common = " --data " + data + " --threads 1";
  for (const std::string& args : {"--out " + a + kTinyTrain,
                                  "--out " + b + TINY_RECIPE " --seed 4 --split " + a + "/split.txt",  // a's split
                                  "--out " + c + TINY_RECIPE " --seed 5"}) {                           // its own
    const RunResult t = run_facet("train --data " + data + " " + args);
    INFO(t.output);
    REQUIRE(t.code == 0);
  }
  const std::string ca = " --checkpoint " + a + "/best.ckpt", cb = " --checkpoint " + b + "/best.ckpt";

  // A model averaged with itself scores exactly as the model alone.
  REQUIRE(run_facet("eval" + ca + common).code == 0);
  const RunResult self = run_facet("eval" + ca + ca + common + " --out " + dir.file("self"));
  INFO(self.output);
  REQUIRE(self.code == 0);
  CHECK(nlohmann::json::parse(read_text(dir.file("self.json")))["attributes"] ==
        nlohmann::json::parse(read_text(a + "/eval_test.json"))["attributes"]);

  // Two models trained on one split: scored on its test faces, written beside the first checkpoint.
  const RunResult two = run_facet("eval" + ca + cb + common + " --tta");
  INFO(two.output);
  REQUIRE(two.code == 0);
  CHECK(two.output.find("the ensemble (mean output) of") != std::string::npos);
  CHECK(two.output.find("test set 48 faces") != std::string::npos);
  const auto ej = nlohmann::json::parse(read_text(a + "/ensemble_eval_test.json"));
  CHECK(ej["attributes"][1]["name"] == "gender");
  CHECK(ej["attributes"][1]["accuracy"].get<double>() >= 0.8);

  // A member trained on another split has seen some of these test faces: refused, naming it.
  const RunResult leak = run_facet("eval" + ca + " --checkpoint " + c + "/best.ckpt" + common);
  CHECK(leak.code != 0);
  CHECK(leak.output.find(c + "/best.ckpt") != std::string::npos);
  CHECK(leak.output.find("none of its members saw") != std::string::npos);

  // Age edges other than intuition's, with as many classes: the heads match, their meaning does not.
  const std::string d = dir.file("d");
  const RunResult td = run_facet("train --data " + data + " --out " + d + " --labels 0,5,15,25,35,50,65+gender+race" +
                                 TINY_NET " --seed 6 --split " + a + "/split.txt");
  INFO(td.output);
  REQUIRE(td.code == 0);
  for (const std::string& rest : {"eval" + common, "predict --threads 1 " + data}) {
    const RunResult other = run_facet(rest + ca + " --checkpoint " + d + "/best.ckpt");
    INFO(other.output);
    CHECK(other.code != 0);
    CHECK(other.output.find(d + "/best.ckpt") != std::string::npos);
    CHECK(other.output.find("must share one label scheme") != std::string::npos);
  }

  const RunResult pred = run_facet("predict" + ca + cb + " " + data + " --threads 1");
  INFO(pred.output);
  REQUIRE(pred.code == 0);
  const auto lines = json_lines(pred.output);
  REQUIRE(lines.size() == 240);
  CHECK(lines[0]["predictions"]["gender"]["probability"].get<double>() > 0.0);
}
