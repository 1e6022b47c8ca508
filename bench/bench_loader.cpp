// bench/facet_bench_loader: the data loader's throughput on real UTKFace (decode + resize to 64x64 on worker
// threads), cache cold (every image decoded from its JPEG) and warm (served from the in-memory cache), for each
// worker count; plus how long a training loop with a simulated step would wait for data. Table + JSON.
//
//   facet_bench_loader --data ../shared/data/utkface --workers 1,2 --json bench_loader.json
#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "data/loader.h"
#include "data/readers.h"

using namespace facet::data;
using Clock = std::chrono::steady_clock;

namespace {

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  return "unknown";
}

struct Row {
  std::string name;
  int workers = 0;
  bool cache = false;
  int epoch = 0;
  int64_t images = 0, decoded = 0, cache_hits = 0;
  double seconds = 0, wait_s = 0, step_ms = 0;
  nlohmann::json json() const {
    return {{"name", name},     {"workers", workers},       {"cache", cache},         {"epoch", epoch},
            {"images", images}, {"seconds", seconds},       {"images_per_s", images / seconds},
            {"wait_s", wait_s}, {"decoded", decoded},       {"cache_hits", cache_hits}, {"step_ms", step_ms}};
  }
};

// Runs one epoch; `step_ms` of simulated training work per batch (0: just take the batches).
Row run_epoch(Loader& loader, int epoch, const std::string& name, double step_ms) {
  const LoaderStats before = loader.stats();
  const auto t0 = Clock::now();
  loader.start_epoch(epoch);
  Batch b;
  while (loader.next(b))
    if (step_ms > 0) std::this_thread::sleep_for(std::chrono::duration<double, std::milli>(step_ms));
  const double s = std::chrono::duration<double>(Clock::now() - t0).count();
  const LoaderStats after = loader.stats();
  Row r;
  r.name = name;
  r.workers = loader.options().workers;
  r.cache = loader.options().cache;
  r.epoch = epoch;
  r.images = after.images - before.images;
  r.decoded = after.decoded - before.decoded;
  r.cache_hits = after.cache_hits - before.cache_hits;
  r.wait_s = after.wait_s - before.wait_s;
  r.seconds = s;
  r.step_ms = step_ms;
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"facet_bench_loader: data loader images/s on real UTKFace (table + JSON)"};
  std::string data, json_path = "bench_loader.json", workers_text = "1,2";
  int size = 64, batch = 64, limit = 0;
  uint64_t seed = 1;
  double step_ms = 20;
  app.add_option("--data", data, "UTKFace folder (default: $FACET_DATA/utkface)");
  app.add_option("--workers", workers_text, "loader worker counts to run, e.g. 1,2")->capture_default_str();
  app.add_option("--size", size, "network input side (decode + area resize to size x size)")->capture_default_str();
  app.add_option("--batch", batch, "batch size")->capture_default_str();
  app.add_option("--limit", limit, "use only the first N faces (0: all)")->capture_default_str();
  app.add_option("--seed", seed, "shuffle seed")->capture_default_str();
  app.add_option("--step-ms", step_ms, "simulated training step per batch for the wait rows (0: skip them)")
      ->capture_default_str();
  app.add_option("--json", json_path, "JSON output")->capture_default_str();
  try {
    app.parse(argc, argv);
    if (data.empty()) {
      const char* env = std::getenv("FACET_DATA");
      if (!env || !*env) throw std::invalid_argument("pass --data DIR (the UTKFace folder) or set FACET_DATA");
      data = std::string(env) + "/utkface";
    }
    std::vector<int> workers;
    std::stringstream ss(workers_text);
    for (std::string item; std::getline(ss, item, ',');) workers.push_back(std::stoi(item));

    const auto t0 = Clock::now();
    ReadResult read = read_utkface(data);
    const double read_s = std::chrono::duration<double>(Clock::now() - t0).count();
    if (limit > 0 && size_t(limit) < read.data.size()) read.data.samples.resize(size_t(limit));
    std::printf("read %zu faces from %s in %.2f s (names parsed, every file read and hashed)\n", read.data.size(),
                data.c_str(), read_s);

    LoaderOptions o;
    o.batch_size = batch;
    o.seed = seed;
    o.transform.width = o.transform.height = size;
    o.transform.resize = ResizeMethod::area;
    std::vector<Row> rows;
    std::printf("%-34s %7s %5s %5s %8s %9s %10s %8s\n", "row", "workers", "cache", "epoch", "images", "seconds",
                "images/s", "wait_s");
    auto print = [&](const Row& r) {
      rows.push_back(r);
      std::printf("%-34s %7d %5s %5d %8lld %9.2f %10.0f %8.2f\n", r.name.c_str(), r.workers, r.cache ? "on" : "off",
                  r.epoch, (long long)r.images, r.seconds, double(r.images) / r.seconds, r.wait_s);
      std::fflush(stdout);
    };
    for (int w : workers) {
      o.workers = w;
      o.cache = true;
      Loader loader(read.data, o);
      print(run_epoch(loader, 0, "cache cold (decode every JPEG)", 0));
      print(run_epoch(loader, 1, "cache warm (no decode)", 0));
      if (step_ms > 0) print(run_epoch(loader, 2, "cache warm + simulated step", step_ms));
      std::printf("  cache holds %.1f MB\n", double(loader.cache_bytes()) / 1e6);
    }
    if (step_ms > 0) {  // without the cache, does a training step of step_ms hide the decoding?
      o.workers = workers.back();
      o.cache = false;
      Loader loader(read.data, o);
      print(run_epoch(loader, 0, "no cache + simulated step", step_ms));
    }
    nlohmann::json j;
    j["machine"] = {{"cpu", cpu_model()}, {"hardware_threads", std::thread::hardware_concurrency()}};
    j["config"] = {{"data", data},   {"faces", read.data.size()}, {"size", size},  {"batch", batch},
                   {"seed", seed},   {"resize", "area"},          {"read_s", read_s}, {"step_ms", step_ms}};
    j["rows"] = nlohmann::json::array();
    for (const auto& r : rows) j["rows"].push_back(r.json());
    std::ofstream(json_path) << j.dump(2) << "\n";
    std::printf("wrote %s\n", json_path.c_str());
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "facet_bench_loader: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
