// --device: `facet train/eval/predict/bench --device cuda` on a machine without a GPU fails at once with one
// clear line (what was asked, that no CUDA device or driver was found, to use --device cpu) and exit code 1,
// never a crash; and a whole training run (trainer stream, batches and checkpoints on the device, evaluation)
// on Device::CUDA through the emulator (this test binary links facet_cuda_emu) ends where the CPU run ends.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <sstream>

#include "kernels/cuda/runtime.h"
#include "models/training/trainer.h"
#include "models/training/trainer_run.h"
#include "tests/cli/cli_util.h"

using namespace facet;
using namespace facet::test;

// (The name must not start with "--": ctest hands it to Catch as an argument.)
TEST_CASE("asking for CUDA without a GPU: one clear line and exit code 1 from train, eval, predict, bench",
          "[cli][errors][cuda]") {
  Scratch dir("nocuda");
  // The facet binary is the normal build (nvcc's kernels when nvcc was found, else the emulator, which is off
  // unless FACET_CUDA_EMULATE=1), so it sees no device here.
  const std::string env = "env -u FACET_CUDA_EMULATE";
  const std::string missing = dir.file("missing");
  const std::vector<std::string> commands = {
      "train --device cuda --data " + missing + " --out " + dir.file("run") + " --epochs 1",
      "eval --device cuda --checkpoint " + missing + "/best.ckpt",
      "predict --device cuda --checkpoint " + missing + "/best.ckpt " + missing + "/face.jpg",
      "bench --device cuda --sizes 64 --repeats 1 --json ''",
  };
  for (const std::string& c : commands) {
    INFO("facet " << c);
    const RunResult r = run_facet(c, env);
    INFO(r.output);
    if (r.output.find("no CUDA device or driver was found") == std::string::npos) {
      // A machine with a GPU gets past the device check (and then fails on the missing files).
      WARN("a CUDA device seems present; the no-GPU path is not exercised: " << r.output);
      CHECK(r.code != 0);
      continue;
    }
    CHECK(r.code == 1);  // an error, not a signal (run_facet gives -1 for a crash)
    CHECK_THAT(r.output,
               Catch::StartsWith("facet: error: --device cuda: no CUDA device or driver was found (") &&
                   Catch::Contains("Use --device cpu"));
    CHECK(std::count(r.output.begin(), r.output.end(), '\n') == 1);  // one line
    CHECK_FALSE(std::filesystem::exists(dir.file("run")));           // failed before writing anything
  }

  const RunResult bad = run_facet("train --device tpu --data " + missing + " --out " + dir.file("run"), env);
  CHECK(bad.code == 1);
  CHECK_THAT(bad.output, Catch::Contains("--device 'tpu': use cpu or cuda"));
}

TEST_CASE("a training run on emulated CUDA ends where the CPU run ends", "[train][cuda]") {
  Scratch dir("cudarun");
  write_utkface_like(dir.file("utk"), 64, 16);
  auto spec = [&](const std::string& device) {
    TrainSpec s;
    s.data.path = dir.file("utk");
    s.data.labels = "intuition+gender";
    s.data.size = 16;
    s.data.workers = 1;
    s.model = {{"kind", "basecnn"}, {"conv_channels", {4, 8}}, {"dense", {16}}};
    s.run.epochs = 2;
    s.run.batch = 16;
    s.run.seed = 5;
    s.run.threads = 1;
    s.run.device = device;
    s.run.out = dir.file(device);
    return s;
  };
  std::ostringstream cpu_log, cuda_log;
  const nlohmann::json cpu = run_training(spec("cpu"), false, "test", cpu_log);
  REQUIRE(cuda::set_emulation_enabled(true));
  nlohmann::json gpu;
  try {
    gpu = run_training(spec("cuda"), false, "test", cuda_log);
  } catch (...) {
    cuda::set_emulation_enabled(false);
    throw;
  }
  cuda::set_emulation_enabled(false);
  INFO(cuda_log.str());
  CHECK_THAT(gpu.at("device").get<std::string>(), Catch::Contains("CPU emulation of CUDA"));
  CHECK(cpu.at("device") == "cpu");
  CHECK(gpu.at("epochs_run") == cpu.at("epochs_run"));
  // Two epochs of Adam on 16x16 faces: the kernels' different summation orders stay small.
  const auto& a = gpu.at("last_epoch");
  const auto& b = cpu.at("last_epoch");
  for (const char* key : {"train_loss", "val_loss"}) {
    INFO(key);
    CHECK(a.at(key).get<double>() == Approx(b.at(key).get<double>()).epsilon(1e-3));
  }
  // The best checkpoint written from device tensors reads back on the CPU, with the same model config.
  const LoadedModel m = load_model_checkpoint(dir.file("cuda") + "/best.ckpt");
  CHECK(m.model->config() == load_model_checkpoint(dir.file("cpu") + "/best.ckpt").model->config());
}
