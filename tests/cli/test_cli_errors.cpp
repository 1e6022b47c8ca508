// The CLI's error paths: missing data, images that cannot be decoded, checkpoints that do not fit the model.
// Each must end with a clear message (what is wrong, what to do) and the right exit code, never a crash.
#include <catch2/catch.hpp>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "tensor/checkpoint.h"
#include "tests/cli/cli_util.h"

using namespace facet::test;
namespace fs = std::filesystem;

TEST_CASE("missing data: train and eval say where to put UTKFace and fail", "[cli][errors]") {
  Scratch dir("nodata");
  RunResult r = run_facet("train --data " + dir.file("no/such/dir") + " --out " + dir.file("run") + kTiny);
  CHECK(r.code != 0);
  CHECK_THAT(r.output, Catch::Contains("does not exist") && Catch::Contains("UTKFace") &&
                           Catch::Contains(dir.file("no/such/dir")));
  CHECK_FALSE(fs::exists(dir.file("run") + "/last.ckpt"));

  r = run_facet("train --out " + dir.file("run") + kTiny, "env -u FACET_DATA");
  CHECK(r.code != 0);
  CHECK_THAT(r.output, Catch::Contains("FACET_DATA is not set") && Catch::Contains("UTKFace.tar.gz"));

  fs::create_directories(dir.file("empty/utkface"));
  r = run_facet("train --out " + dir.file("run") + kTiny, "env FACET_DATA=" + dir.file("empty"));
  CHECK(r.code != 0);
  CHECK_THAT(r.output, Catch::Contains("no face data found in $FACET_DATA/utkface"));

  // a folder that exists but holds no faces
  r = run_facet("train --data " + dir.file("empty/utkface") + " --out " + dir.file("run") + kTiny);
  CHECK(r.code != 0);
  CHECK_THAT(r.output, Catch::Contains("holds no face images"));

  const std::string ckpt = tiny_checkpoint(dir);
  r = run_facet("eval --checkpoint " + ckpt + " --data " + dir.file("gone"));
  CHECK(r.code != 0);
  CHECK_THAT(r.output, Catch::Contains("does not exist"));
}

TEST_CASE("unreadable images: predict gives each an error entry and predicts the rest", "[cli][errors]") {
  Scratch dir("badimg");
  const std::string ckpt = tiny_checkpoint(dir);
  const std::string in = dir.file("in");
  fs::create_directories(in);
  write_utkface_like(in, 2);
  // a JPEG cut in half, a text file with an image name, an empty file, a path that does not exist
  const std::string good = in + "/1_0_0_20170110000000000.jpg.chip.jpg";
  const std::string bytes = read_text(good);
  std::ofstream(in + "/truncated.jpg", std::ios::binary) << bytes.substr(0, bytes.size() / 2);
  std::ofstream(in + "/notes.jpg") << "this is not an image\n";
  std::ofstream(in + "/empty.png");
  const RunResult r = run_facet("predict --checkpoint " + ckpt + " " + in + " " + dir.file("missing.jpg"));
  INFO(r.output);
  CHECK(r.code == 0);
  int predicted = 0, errors = 0;
  std::istringstream lines(r.output);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.empty() || line[0] != '{') continue;
    const auto j = nlohmann::json::parse(line);
    if (j.contains("error")) {
      ++errors;
      CHECK(j["error"].get<std::string>().find(j["file"].get<std::string>()) != std::string::npos);  // names it
    } else {
      ++predicted;
      CHECK(j["predictions"].contains("gender"));
    }
  }
  CHECK(predicted == 2);
  CHECK(errors == 4);
  CHECK_THAT(r.output, Catch::Contains("predicted 2 image(s), 4 failed"));

  // nothing decodable at all: a non-zero exit
  const RunResult none = run_facet("predict --checkpoint " + ckpt + " " + in + "/notes.jpg");
  CHECK(none.code != 0);
  CHECK_THAT(none.output, Catch::Contains("no image could be predicted"));
}

TEST_CASE("wrong checkpoint for the model: refused with both sides named", "[cli][errors]") {
  Scratch dir("wrongckpt");
  const std::string ckpt = tiny_checkpoint(dir);

  // the checkpoint holds a basecnn; the user asked for another model or label scheme
  RunResult r = run_facet("eval --checkpoint " + ckpt + " --model levihassner");
  CHECK(r.code != 0);
  CHECK_THAT(r.output, Catch::Contains("holds a basecnn") && Catch::Contains("not a levihassner"));
  r = run_facet("predict --checkpoint " + ckpt + " --model fcn2hot " + dir.file("utk"));
  CHECK(r.code != 0);
  CHECK_THAT(r.output, Catch::Contains("not a fcn2hot"));
  r = run_facet("eval --checkpoint " + ckpt + " --labels groups10+gender");
  CHECK(r.code != 0);
  CHECK_THAT(r.output, Catch::Contains("trained on labels 'intuition+gender'"));
  // a reading option the model has no use for (basecnn has no reject rule)
  r = run_facet("eval --checkpoint " + ckpt + " --threshold 0.7");
  CHECK(r.code != 0);
  CHECK_THAT(r.output, Catch::Contains("model basecnn has no reject rule") &&
                           Catch::Contains("--threshold applies to fcn2hot"));

  // tensors that do not fit the model the metadata describes (as if weights of another config were saved)
  facet::Checkpoint ck = facet::load_checkpoint(ckpt);
  ck.meta["model"]["conv_channels"] = {4, 16};
  facet::save_checkpoint(dir.file("mismatch.ckpt"), ck.tensors, ck.meta);
  r = run_facet("eval --checkpoint " + dir.file("mismatch.ckpt"));
  CHECK(r.code != 0);
  CHECK_THAT(r.output, Catch::Contains("does not fit the basecnn model") && Catch::Contains("conv2.weight"));

  // a valid checkpoint file that is not a model (no config in its metadata)
  facet::save_checkpoint(dir.file("optim.ckpt"), {ck.tensors[0]}, {{"epoch", 3}});
  r = run_facet("predict --checkpoint " + dir.file("optim.ckpt") + " " + dir.file("utk"));
  CHECK(r.code != 0);
  CHECK_THAT(r.output, Catch::Contains("not a facet model checkpoint"));

  // not a checkpoint at all, and no file
  std::ofstream(dir.file("junk.ckpt")) << "hello";
  r = run_facet("eval --checkpoint " + dir.file("junk.ckpt"));
  CHECK(r.code != 0);
  CHECK_THAT(r.output, Catch::Contains(dir.file("junk.ckpt")));
  r = run_facet("eval --checkpoint " + dir.file("nope.ckpt"));
  CHECK(r.code != 0);
  CHECK_THAT(r.output, Catch::Contains("does not exist"));

  // a run directory is never overwritten by a new run: resume it or pick another --out
  r = run_facet("train --data " + dir.file("utk") + " --out " + dir.file("run") + kTiny);
  CHECK(r.code != 0);
  CHECK_THAT(r.output, Catch::Contains("already holds a run") && Catch::Contains("--resume"));
}
