// The files of a run directory, named once (see trainer_run.h for what each holds). Every path is the
// directory, "/", and the file name, so messages that print them read as before.
#pragma once
#include <string>
#include <utility>

#include <nlohmann/json.hpp>

namespace facet {

class RunDir {
 public:
  explicit RunDir(std::string path) : path_(std::move(path)) {}
  const std::string& path() const { return path_; }

  std::string config() const { return file("config.json"); }          // the TrainSpec, scheme, transform, ...
  std::string split() const { return file("split.txt"); }             // data/split.h format
  std::string data_report() const { return file("data_report.txt"); }
  std::string metrics_json() const { return file("metrics.json"); }   // one record per epoch
  std::string metrics_csv() const { return file("metrics.csv"); }
  std::string loss_png() const { return file("loss.png"); }
  std::string accuracy_png() const { return file("accuracy.png"); }
  std::string best() const { return file("best.ckpt"); }              // the best validation epoch's model
  std::string last() const { return file("last.ckpt"); }              // the last epoch + optimizer: --resume
  std::string test_prefix() const { return file("test"); }            // test.json, test.txt, test_confusion_*
  std::string summary() const { return file("summary.json"); }
  std::string calibration() const { return file("calibration.json"); }
  std::string report() const { return file("report.html"); }          // facet report
  std::string classes() const { return file("classes.json"); }        // your own data: class -> index per head
  std::string torch_peer() const { return file("torch_peer.json"); }  // facet repro's PyTorch comparison

  // config.json as written by run_training, for --resume (read_run_spec and run_training both read it here).
  // Throws "cannot resume: ..." naming the file when it is absent or not JSON.
  nlohmann::json read_config() const;

 private:
  std::string file(const char* name) const { return path_ + "/" + name; }
  std::string path_;
};

}  // namespace facet
