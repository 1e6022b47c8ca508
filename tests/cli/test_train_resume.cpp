// The trainer as a library call (models/training/trainer_run.h): runs repeat bit for bit under a seed, a run interrupted
// mid-epoch and resumed from its last checkpoint ends exactly where the uninterrupted run ends, and the Adience
// protocol (fold files, fold split, 2-hot and tuple models) works end to end on generated benchmark-like data.
#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "data/io/atomic_file.h"
#include "models/training/trainer.h"
#include "models/training/trainer_run.h"
#include "tensor/checkpoint.h"
#include "tests/cli/cli_util.h"

using namespace facet;
namespace fs = std::filesystem;
using namespace facet::test;

namespace {

TrainSpec tiny_spec(const std::string& data, const std::string& out, int epochs) {
  TrainSpec s;
  s.data.path = data;
  s.data.labels = "intuition+gender+race";
  s.data.size = 16;
  s.data.flip = true;  // augmentation draws are part of what must repeat
  s.data.workers = 2;  // worker threads must not change the batches
  s.model = {{"kind", "basecnn"}, {"conv_channels", {4, 8}}, {"dense", {16}}};
  s.run.epochs = epochs;
  s.run.batch = 16;
  s.run.seed = 11;
  s.run.threads = 1;
  s.run.out = out;
  return s;
}

// Every tensor of two checkpoints (model, buffers, optimizer state), compared bit for bit.
void require_same_tensors(const std::string& a, const std::string& b) {
  const Checkpoint ca = load_checkpoint(a), cb = load_checkpoint(b);
  REQUIRE(ca.tensors.size() == cb.tensors.size());
  for (size_t i = 0; i < ca.tensors.size(); ++i) {
    INFO(ca.tensors[i].name);
    REQUIRE(ca.tensors[i].name == cb.tensors[i].name);
    CHECK(ca.tensors[i].tensor.to_vector() == cb.tensors[i].tensor.to_vector());
  }
  INFO(ca.meta["optimizer"].dump() + " vs " + cb.meta["optimizer"].dump());
  CHECK(ca.meta["optimizer"] == cb.meta["optimizer"]);
  CHECK(ca.meta["dropout_offsets"] == cb.meta["dropout_offsets"]);
  CHECK(ca.meta["epoch"] == cb.meta["epoch"]);
}

// Callbacks that stop the run (as Ctrl-C would) once `batches` training batches have run.
TrainCallbacks stop_after(int64_t batches) {
  TrainCallbacks c;
  c.on_batch = [left = batches](const BatchEvent&) mutable {
    if (--left == 0) request_training_stop();
  };
  return c;
}

nlohmann::json without_times(nlohmann::json history) {
  for (auto& e : history) e.erase("seconds"), e.erase("images_per_s");
  return history;
}

}  // namespace

TEST_CASE("training repeats bit for bit under a seed", "[train][determinism]") {
  Scratch dir("repeat");
  write_utkface_like(dir.file("utk"), 96, 16);
  std::ostringstream log1, log2;
  run_training(tiny_spec(dir.file("utk"), dir.file("a"), 2), false, "test", log1);
  run_training(tiny_spec(dir.file("utk"), dir.file("b"), 2), false, "test", log2);
  require_same_tensors(dir.file("a/last.ckpt"), dir.file("b/last.ckpt"));
  CHECK(read_text(dir.file("a/split.txt")) == read_text(dir.file("b/split.txt")));
  CHECK(without_times(nlohmann::json::parse(read_text(dir.file("a/metrics.json")))) ==
        without_times(nlohmann::json::parse(read_text(dir.file("b/metrics.json")))));
  // another seed is another run
  TrainSpec other = tiny_spec(dir.file("utk"), dir.file("c"), 2);
  other.run.seed = 12;
  std::ostringstream log3;
  run_training(other, false, "test", log3);
  CHECK(load_checkpoint(dir.file("a/last.ckpt")).tensors[0].tensor.to_vector() !=
        load_checkpoint(dir.file("c/last.ckpt")).tensors[0].tensor.to_vector());
}

TEST_CASE("a run interrupted mid-epoch and resumed ends where the uninterrupted run ends", "[train][resume]") {
  Scratch dir("resume");
  write_utkface_like(dir.file("utk"), 96, 16);
  std::ostringstream log;
  const nlohmann::json straight = run_training(tiny_spec(dir.file("utk"), dir.file("straight"), 3), false, "t", log);

  // About 76 training faces at batch 16: 5 batches per epoch. Stop in the middle of epoch 2.
  std::ostringstream log1;
  const nlohmann::json cut =
      run_training(tiny_spec(dir.file("utk"), dir.file("cut"), 3), false, "t", log1, stop_after(6));
  CHECK(cut["interrupted"].get<bool>());
  CHECK(cut["epochs_run"].get<int>() == 1);
  CHECK_FALSE(cut.contains("test"));
  CHECK(log1.str().find("facet train --resume") != std::string::npos);
  CHECK(load_checkpoint(dir.file("cut/last.ckpt")).meta["epoch"] == 1);

  std::ostringstream log2;
  const TrainSpec resumed = read_run_spec(dir.file("cut"));
  CHECK(resumed.run.epochs == 3);
  const nlohmann::json done = run_training(resumed, true, "t", log2);
  CHECK_FALSE(done["interrupted"].get<bool>());
  require_same_tensors(dir.file("straight/last.ckpt"), dir.file("cut/last.ckpt"));
  CHECK(without_times(nlohmann::json::parse(read_text(dir.file("straight/metrics.json")))) ==
        without_times(nlohmann::json::parse(read_text(dir.file("cut/metrics.json")))));
  CHECK(done["test"]["attributes"] == straight["test"]["attributes"]);
}

TEST_CASE("resume refuses a directory without a run or with another model", "[train][resume]") {
  Scratch dir("resume_bad");
  write_utkface_like(dir.file("utk"), 48, 16);
  std::ostringstream log;
  CHECK_THROWS_WITH(read_run_spec(dir.file("nothing")), Catch::Contains("config.json does not exist"));
  run_training(tiny_spec(dir.file("utk"), dir.file("r"), 1), false, "t", log);
  TrainSpec changed = read_run_spec(dir.file("r"));
  changed.model["dense"] = {8};
  CHECK_THROWS_WITH(run_training(changed, true, "t", log), Catch::Contains("different model"));
}

TEST_CASE("Adience protocol on benchmark-like data: fold split, 2-hot and tuple models", "[train][adience]") {
  Scratch dir("adience");
  write_adience_like(dir.str(), 32, 16);
  for (const char* kind : {"fcn2hot", "tuple", "levihassner"}) {
    INFO(kind);
    TrainSpec s;
    s.data.path = dir.str();
    s.data.labels = std::string(kind) == "tuple" ? "tuple" : "2hot";
    s.data.fold = 0;
    s.data.val = 0.1;
    s.data.size = std::string(kind) == "levihassner" ? 64 : 16;
    s.data.workers = 0;
    s.model = {{"kind", kind}};
    if (std::string(kind) == "tuple") s.model["read"] = "calibrated";
    if (std::string(kind) == "levihassner") s.data.labels = "adience8+gender";
    s.run.epochs = 1;
    s.run.batch = 32;
    s.run.threads = 1;
    s.run.out = dir.file(std::string("run_") + kind);
    std::ostringstream log;
    const nlohmann::json sum = run_training(s, false, "t", log);
    INFO(log.str());
    CHECK(sum["test_faces"].get<int>() == 32);  // exactly fold 0
    CHECK(sum["train_faces"].get<int>() + sum["val_faces"].get<int>() == 4 * 32);
    const auto& attrs = sum["test"]["attributes"];
    REQUIRE(attrs.size() == 2);
    CHECK(attrs[0]["name"] == "age");
    CHECK(attrs[0]["classes"].size() == 8);
    CHECK(attrs[0].contains("one_off"));
    CHECK(attrs[1]["name"] == "gender");
    CHECK(attrs[0]["undefined"].get<int>() >= 0);
    // the 2-hot and tuple models report their reject rule per attribute; the softmax heads have none
    const bool rule = std::string(kind) != "levihassner";
    CHECK(attrs[0].contains("coverage") == rule);
    CHECK(attrs[1].contains("accuracy_when_defined") == rule);
    if (std::string(kind) == "tuple") {  // the per-class ranges, measured after training, travel with best.ckpt
      CHECK(fs::exists(s.run.out + "/calibration.json"));
      const LoadedModel m = load_model_checkpoint(s.run.out + "/best.ckpt");
      const auto cal = m.model->config().at("calibration");
      REQUIRE(cal["age"].size() == 8);
      REQUIRE(cal["gender"].size() == 2);
      for (const auto& g : cal["gender"]) {
        REQUIRE(g.is_array());
        CHECK(g[0].get<float>() <= g[2].get<float>());
        CHECK(g[2].get<float>() <= g[1].get<float>());
      }
      CHECK(m.model->config()["read"] == "calibrated");
    }
  }
  // A model that cannot read the scheme is refused by name.
  TrainSpec bad;
  bad.data.path = dir.str();
  bad.data.labels = "gender";
  bad.data.size = 16;
  bad.model = {{"kind", "tuple"}};
  bad.run.out = dir.file("bad");
  std::ostringstream log;
  CHECK_THROWS_WITH(run_training(bad, false, "t", log), Catch::Contains("use --labels tuple"));
}

TEST_CASE("a diverging run stops naming a non-finite tensor and never saves it as best", "[train][diverge]") {
  Scratch dir("diverge");
  write_utkface_like(dir.file("utk"), 96, 16);
  TrainSpec s = tiny_spec(dir.file("utk"), dir.file("d"), 3);
  s.optim.optimizer = "adam";
  s.optim.lr = 1e10;  // the loss stays finite for a while, weights and running variances overflow to inf
  std::ostringstream log;
  CHECK_THROWS_WITH(run_training(s, false, "t", log),
                    Catch::Contains("training diverged") && Catch::Contains("tensor '") &&
                        (Catch::Contains("optimizer step") || Catch::Contains("the loss is")));
  for (const char* name : {"best.ckpt", "last.ckpt"}) {
    if (!std::filesystem::exists(dir.file(std::string("d/") + name))) continue;
    for (const auto& t : load_checkpoint(dir.file(std::string("d/") + name)).tensors)
      for (float v : t.tensor.to_vector()) REQUIRE(std::isfinite(v));
  }
}

TEST_CASE("a run stopped mid-epoch resumes from its step checkpoint bit for bit", "[train][resume]") {
  Scratch dir("step_resume");
  write_utkface_like(dir.file("utk"), 96, 16);
  TrainSpec straight = tiny_spec(dir.file("utk"), dir.file("straight"), 2);
  straight.run.checkpoint_every = 2;
  std::ostringstream log;
  run_training(straight, false, "t", log);

  TrainSpec cut = tiny_spec(dir.file("utk"), dir.file("cut"), 2);
  cut.run.checkpoint_every = 2;
  std::ostringstream log1;  // 5 batches per epoch: stop at epoch 2, batch 2; last save at step 6
  run_training(cut, false, "t", log1, stop_after(7));
  const Checkpoint mid = load_checkpoint(dir.file("cut/last.ckpt"));
  REQUIRE(mid.meta.contains("position"));
  CHECK(mid.meta["position"]["batch"] == 1);
  CHECK(mid.meta["step"] == 6);
  // a temp file left by a save killed midway is cleared on resume
  { std::ofstream(dir.file("cut/last.ckpt.tmp.4194311.0")) << "half"; }
  std::ostringstream log2;
  run_training(read_run_spec(dir.file("cut")), true, "t", log2);
  CHECK_FALSE(std::filesystem::exists(dir.file("cut/last.ckpt.tmp.4194311.0")));
  require_same_tensors(dir.file("straight/last.ckpt"), dir.file("cut/last.ckpt"));
  const Checkpoint best_a = load_checkpoint(dir.file("straight/best.ckpt")),
                   best_b = load_checkpoint(dir.file("cut/best.ckpt"));
  REQUIRE(best_a.tensors.size() == best_b.tensors.size());
  for (size_t i = 0; i < best_a.tensors.size(); ++i)
    CHECK(best_a.tensors[i].tensor.to_vector() == best_b.tensors[i].tensor.to_vector());
  CHECK(without_times(nlohmann::json::parse(read_text(dir.file("straight/metrics.json")))) ==
        without_times(nlohmann::json::parse(read_text(dir.file("cut/metrics.json")))));
}

TEST_CASE("a failing write of a run file names it and the run stops", "[train][io]") {
  Scratch dir("write_fault");
  write_utkface_like(dir.file("utk"), 48, 16);
  for (const char* name : {"config.json", "metrics.csv", "loss.png"}) {
    INFO(name);
    facet::io::detail::set_write_fault(0, name);
    std::ostringstream log;
    CHECK_THROWS_WITH(run_training(tiny_spec(dir.file("utk"), dir.file(std::string("r_") + name), 1), false, "t", log),
                      Catch::Contains(std::string("/") + name));
    facet::io::detail::set_write_fault(-1);
    CHECK_FALSE(std::filesystem::exists(dir.file(std::string("r_") + name + "/" + name)));  // never left empty
  }
}

namespace {
// Starts `facet train ARGS` (output to a log file) and returns its pid.
pid_t spawn_facet(const std::string& args, const std::string& log) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    const std::string cmd = "exec '" FACET_CLI "' " + args + " >>'" + log + "' 2>&1";
    ::execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  return pid;
}
int64_t saved_step(const std::string& ckpt) {
  try {
    return load_checkpoint(ckpt).meta.value("step", int64_t(-1));
  } catch (const std::exception&) {
    return -1;
  }
}
}  // namespace

TEST_CASE("facet train killed with SIGKILL at random steps, resumed each time, ends bit-identical",
          "[train][resume][sigkill]") {
  Scratch dir("sigkill");
  write_utkface_like(dir.file("utk"), 96, 16);
  const std::string common = "--data '" + dir.file("utk") +
                             "' --labels intuition+gender+race --size 16 --flip --conv-channels 4,8 --dense 16 "
                             "--epochs 3 --batch 8 --seed 11 --threads 1 --workers 2 --no-test --checkpoint-every 2";
  const RunResult straight = run_facet("train " + common + " --out '" + dir.file("straight") + "'");
  REQUIRE(straight.code == 0);
  facet::data::Rng rng(2024);  // seeded choice of the steps to kill at
  int kills = 0;
  int64_t target = 2;
  const std::string cut = dir.file("cut"), log = dir.file("cut.log");
  for (int round = 0; round < 3; ++round) {
    target += 2 + int64_t(rng.below(6));
    const std::string args = round == 0 ? "train " + common + " --out '" + cut + "'" : "train --resume '" + cut + "'";
    const pid_t pid = spawn_facet(args, log);
    int status = 0;
    bool exited = false;
    for (int i = 0; i < 20000 && !exited; ++i) {  // poll every 1 ms, at most ~20 s
      if (::waitpid(pid, &status, WNOHANG) == pid) exited = true;
      else if (saved_step(cut + "/last.ckpt") >= target) break;
      else ::usleep(1000);
    }
    if (!exited) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      ++kills;
    }
  }
  const RunResult done = run_facet("train --resume '" + cut + "'");
  INFO(done.output + read_text(log));
  REQUIRE(done.code == 0);
  CHECK(kills >= 1);
  CHECK_THAT(read_text(log), Catch::Contains("batches of epoch"));  // a resume started mid-epoch
  require_same_tensors(dir.file("straight/last.ckpt"), cut + "/last.ckpt");
  for (const auto& e : std::filesystem::directory_iterator(cut))
    CHECK(e.path().filename().string().find(".tmp.") == std::string::npos);
}
