// Bad input and nonsense flags (issue 20): every numeric flag out of its range is refused by the parser naming
// the flag and the range; --resume refuses the flags it would ignore; decompression bombs are refused from
// their header with the file named; forged checkpoints (absurd sizes, std 0, NaN weights) are refused at load
// with the field or tensor named; a split with no test faces says test scoring is skipped.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "tensor/checkpoint.h"
#include "tests/cli/cli_util.h"
#include "tests/common/bomb_images.h"

using namespace facet::test;
namespace fs = std::filesystem;

namespace {

// Writes a UTKFace-named 9000x9000 (81 Mpx, over the 64 Mpx default) JPEG bomb of under 1 KB into `dir`.
std::string write_bomb(const std::string& dir, const std::string& name) {
  const auto bytes = jpeg_bomb(dir + "/scratch.jpg", 9000, 9000);
  fs::remove(dir + "/scratch.jpg");
  std::ofstream(dir + "/" + name, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()),
                                                         std::streamsize(bytes.size()));
  return dir + "/" + name;
}

// A copy of `t` (tensors share storage when copied) with element `i` set to `v`.
facet::Tensor with_value(const facet::Tensor& t, size_t i, float v) {
  std::vector<float> x = t.to_vector();
  x.at(i) = v;
  return facet::Tensor::from_vector(x, t.shape());
}

}  // namespace

TEST_CASE("nonsense flag values are refused naming the flag and its range", "[cli][errors][flags]") {
  Scratch dir("flags");
  const std::string base = "train --data " + dir.file("utk") + " --out " + dir.file("run") + " ";
  const int too_many = 4 * int(std::max(1u, std::thread::hardware_concurrency())) + 1;
  // {arguments, the flag the message must name}
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"--label-smoothing 5", "--label-smoothing"}, {"--clip -1", "--clip"},
      {"--patience -3", "--patience"},              {"--dropout nan", "--dropout"},
      {"--dropout 1", "--dropout"},                 {"--seed -1", "--seed"},
      {"--threads 0", "--threads"},                 {"--threads -1", "--threads"},
      {"--threads " + std::to_string(too_many), "--threads"}, {"--limit 0", "--limit"},
      {"--limit -1", "--limit"},                    {"--conv-channels 0", "--conv-channels"},
      {"--conv-channels 8,0,8", "--conv-channels"}, {"--dense 0", "--dense"},
      {"--hidden 4,0", "--hidden"},                 {"--lr 0", "--lr"},
      {"--lr nan", "--lr"},                         {"--lr inf", "--lr"},
      {"--batch 0", "--batch"},                     {"--epochs 0", "--epochs"},
      {"--val 1.5", "--val"},                       {"--test -0.1", "--test"},
      {"--momentum 1", "--momentum"},               {"--weight-decay -1", "--weight-decay"},
      {"--size 0", "--size"},                       {"--workers -1", "--workers"},
      {"--leaky-slope -0.5", "--leaky-slope"},      {"--max-pixels 0", "--max-pixels"},
      {"--fold 7", "--fold"},                       {"--gamma 0", "--gamma"}};
  for (const auto& [args, flag] : cases) {
    const RunResult r = run_facet(base + args);
    INFO(args << "\n" << r.output);
    CHECK(r.code != 0);
    CHECK_THAT(r.output, Catch::Contains(flag) && Catch::Contains("outside the allowed range"));
  }
  CHECK_FALSE(fs::exists(dir.file("run")));
  // the shared flags of the other commands
  const std::vector<std::pair<std::string, std::string>> others = {
      {"predict --checkpoint x.ckpt --min-confidence 2 a.jpg", "--min-confidence"},
      {"predict --checkpoint x.ckpt --threads 0 a.jpg", "--threads"},
      {"eval --checkpoint x.ckpt --batch 0", "--batch"},
      {"eval --checkpoint x.ckpt --workers -2", "--workers"},
      {"data stats --labels gender --seed -1", "--seed"},
      {"data split --labels gender --out s.txt --val -0.1", "--val"},
      {"data stats --labels gender --max-pixels -5", "--max-pixels"}};
  for (const auto& [args, flag] : others) {
    const RunResult r = run_facet(args);
    INFO(args << "\n" << r.output);
    CHECK(r.code != 0);
    CHECK_THAT(r.output, Catch::Contains(flag) && Catch::Contains("outside the allowed range"));
  }
}

TEST_CASE("bombs are skipped and counted, a split without test faces says scoring is skipped, --resume refuses "
          "flags it would ignore",
          "[cli][errors][resume][bomb]") {
  Scratch dir("resume_flags");
  write_utkface_like(dir.file("utk"), 60);
  write_bomb(dir.file("utk"), "30_1_0_20170110009999999.jpg.chip.jpg");
  const RunResult r = run_facet("train --data " + dir.file("utk") + " --out " + dir.file("run") + " --test 0" + kTiny);
  INFO(r.output);
  REQUIRE(r.code == 0);
  CHECK_THAT(r.output, Catch::Contains("60 usable faces, 1 skipped"));
  CHECK_THAT(r.output, Catch::Contains("test scoring skipped: the split left 0 test faces"));

  const std::string resume = "train --resume " + dir.file("run");
  RunResult bad = run_facet(resume + " --epochs 2 --lr 0.5 --batch 8 --model fcn2hot --no-test");
  INFO(bad.output);
  CHECK(bad.code != 0);
  CHECK_THAT(bad.output, Catch::Contains("would ignore --model, --batch, --lr, --no-test") ||
                             Catch::Contains("--lr") && Catch::Contains("--batch") && Catch::Contains("--model"));
  CHECK_THAT(bad.output, Catch::Contains("--resume"));
  // the flags it honours still work
  const RunResult ok = run_facet(resume + " --epochs 2 --threads 1 --workers 0");
  INFO(ok.output);
  CHECK(ok.code == 0);
}

TEST_CASE("decompression bombs: predict gives an error entry naming the file, data stats skips and counts it",
          "[cli][errors][bomb]") {
  Scratch dir("bomb");
  const std::string ckpt = tiny_checkpoint(dir);
  fs::create_directories(dir.file("in"));
  write_utkface_like(dir.file("in"), 2);
  const std::string bomb = write_bomb(dir.file("in"), "bomb.jpg");
  REQUIRE(fs::file_size(bomb) < 1000);

  RunResult r = run_facet("predict --checkpoint " + ckpt + " " + dir.file("in"));
  INFO(r.output);
  CHECK(r.code == 0);
  CHECK_THAT(r.output, Catch::Contains("predicted 2 image(s), 1 failed"));
  bool named = false;
  std::istringstream lines(r.output);
  for (std::string line; std::getline(lines, line);)
    if (!line.empty() && line[0] == '{') {
      const auto j = nlohmann::json::parse(line);
      if (j["file"] == bomb) {
        CHECK_FALSE(j.contains("predictions"));
        named = j.value("error", "").find(bomb + ": header claims 9000x9000") == 0;
      }
    }
  CHECK(named);
  // The limit is configurable: raised, the (blank) bomb decodes; lowered under a 24x24 face, nothing does.
  r = run_facet("predict --max-pixels 100000000 --checkpoint " + ckpt + " " + bomb);
  CHECK(r.code == 0);
  CHECK_THAT(r.output, Catch::Contains("predicted 1 image(s)"));
  r = run_facet("predict --checkpoint " + ckpt + " " + dir.file("in"), "env FACET_MAX_PIXELS=500");
  CHECK(r.code != 0);
  CHECK_THAT(r.output, Catch::Contains("24x24 = 576 pixels, over the limit of 500"));
  r = run_facet("predict --checkpoint " + ckpt + " " + bomb, "env FACET_MAX_PIXELS=lots");
  CHECK(r.code != 0);
  CHECK_THAT(r.output, Catch::Contains("FACET_MAX_PIXELS='lots'"));

  write_bomb(dir.file("utk"), "30_1_0_20170110009999999.jpg.chip.jpg");
  r = run_facet("data stats --labels gender --data " + dir.file("utk") + " --json " + dir.file("stats.json"));
  INFO(r.output);
  REQUIRE(r.code == 0);
  const auto j = nlohmann::json::parse(read_text(dir.file("stats.json")));
  CHECK(j["usable_faces"] == 60);
  CHECK(j["files"] == 61);
  CHECK_THAT(j["report"].dump(), Catch::Contains("30_1_0_20170110009999999.jpg.chip.jpg") &&
                                     Catch::Contains("over the limit"));

  // data stats on a folder that is not there says so; on a file, that it is not a folder
  r = run_facet("data stats --labels gender --data " + dir.file("gone"));
  CHECK(r.code != 0);
  CHECK_THAT(r.output, Catch::Contains("does not exist"));
  r = run_facet("data stats --labels gender --format utkface --data " + bomb);
  CHECK(r.code != 0);
  CHECK_THAT(r.output, Catch::Contains("is not a directory"));
}

TEST_CASE("forged checkpoints: absurd sizes, std 0 and NaN weights are refused at load, the field named",
          "[cli][errors][checkpoint]") {
  Scratch dir("forged");
  const facet::Checkpoint good = facet::load_checkpoint(tiny_checkpoint(dir));
  auto forge = [&](const std::string& name, auto change) {
    facet::Checkpoint ck = good;
    change(ck);
    facet::save_checkpoint(dir.file(name), ck.tensors, ck.meta);  // a fresh CRC: only the content is wrong
    return dir.file(name);
  };
  // save_checkpoint refuses non-finite tensors, so those are forged on the bytes: a sentinel value is saved,
  // then overwritten with `bad` and the trailing CRC-32 recomputed (docs/checkpoint-format.md).
  auto forge_non_finite = [&](const std::string& name, const std::string& tensor, int64_t index, float bad) {
    constexpr float kSentinel = 1234.5678f;
    const std::string path = forge(name, [&](facet::Checkpoint& c) {
      for (auto& nt : c.tensors)
        if (nt.name == tensor) nt.tensor = with_value(nt.tensor, index, kSentinel);
    });
    std::string bytes = read_text(path);
    const std::string needle(reinterpret_cast<const char*>(&kSentinel), 4);
    const size_t at = bytes.find(needle);
    REQUIRE(at != std::string::npos);
    REQUIRE(bytes.find(needle, at + 1) == std::string::npos);
    std::memcpy(bytes.data() + at, &bad, 4);
    const uint32_t crc = facet::crc32(bytes.data(), bytes.size() - 4);
    std::memcpy(bytes.data() + bytes.size() - 4, &crc, 4);
    std::ofstream(path, std::ios::binary | std::ios::trunc).write(bytes.data(), std::streamsize(bytes.size()));
    return path;
  };
  // {checkpoint, what the refusal must name}
  std::vector<std::pair<std::string, std::string>> cases = {
      {forge("wide.ckpt", [](facet::Checkpoint& c) { c.meta["model"]["conv_channels"] = {100000, 8}; }),
       "'conv_channels'[0] is 100000"},
      {forge("zero.ckpt", [](facet::Checkpoint& c) { c.meta["model"]["dense"] = {0}; }), "'dense'[0] is 0"},
      {forge("huge.ckpt", [](facet::Checkpoint& c) { c.meta["model"]["size"] = 1000000; }),
       "'size' is 1000000"},
      {forge("params.ckpt", [](facet::Checkpoint& c) { c.meta["model"]["conv_channels"] = {60000, 60000}; }),
       "parameters, over facet's limit"},
      {forge("side.ckpt", [](facet::Checkpoint& c) { c.meta["transform"]["width"] = 1000000; }),
       "over facet's limit of 4096 pixels a side"},
      {forge("std0.ckpt",
             [](facet::Checkpoint& c) { c.meta["transform"]["normalization"]["std"][1] = 0.0; }),
       "normalization.std[1] is 0"},
      {forge("stdneg.ckpt",
             [](facet::Checkpoint& c) { c.meta["transform"]["normalization"]["std"][0] = -0.5; }),
       "normalization.std[0] is -0.5"},
      {forge_non_finite("nan.ckpt", "conv2.weight", 3, std::nanf("")),
       "tensor 'conv2.weight' holds a non-finite value"},
      {forge_non_finite("inf.ckpt", "bn1.running_var", 0, INFINITY),
       "tensor 'bn1.running_var' holds a non-finite value"}};
  for (const auto& [ckpt, what] : cases) {
    for (const std::string& cmd : {"eval --checkpoint " + ckpt, "predict --checkpoint " + ckpt + " " + dir.file("utk")}) {
      const RunResult r = run_facet(cmd);
      INFO(cmd << "\n" << r.output);
      CHECK(r.code != 0);
      CHECK_THAT(r.output, Catch::Contains(what) && Catch::Contains(ckpt));
      CHECK_THAT(r.output, !Catch::Contains("bad_alloc") && !Catch::Contains("\"predictions\""));
    }
  }
}
