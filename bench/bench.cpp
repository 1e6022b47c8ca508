// The bench driver: timing, the table, JSON, OpenBLAS loading and the section loop.
#include "bench/bench.h"

#include <dlfcn.h>
#include <omp.h>
#include <sys/resource.h>
#include <sys/utsname.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <new>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "bench/bench_util.h"
#include "kernels/cpu/gemm_microkernel.h"
#include "tensor/dispatch.h"
#include "tensor/tensor.h"

namespace facet::bench {

std::vector<int> parse_int_list(const std::string& text, const char* what) {
  std::vector<int> out;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    char* end = nullptr;
    const long v = std::strtol(item.c_str(), &end, 10);
    if (item.empty() || *end != '\0' || v <= 0 || v > 4096)
      throw std::invalid_argument(std::string(what) + ": '" + item + "' in '" + text +
                                  "' is not a positive integer (write e.g. 1,2)");
    out.push_back(int(v));
  }
  if (out.empty()) throw std::invalid_argument(std::string(what) + ": empty list (write e.g. 1,2)");
  return out;
}

// ---- buffers -------------------------------------------------------------------------------------------
Buffer::Buffer(int64_t n, uint64_t seed, float lo, float hi) : n_(n) {
  data_ = static_cast<float*>(::operator new(size_t(std::max<int64_t>(n, 1)) * sizeof(float), std::align_val_t(64)));
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> u(lo, hi);
  for (int64_t i = 0; i < n; ++i) data_[i] = u(rng);
}
Buffer& Buffer::operator=(Buffer&& o) noexcept {
  if (this != &o) {
    this->~Buffer();
    data_ = o.data_;
    n_ = o.n_;
    o.data_ = nullptr;
    o.n_ = 0;
  }
  return *this;
}
Buffer::~Buffer() {
  if (data_) ::operator delete(data_, std::align_val_t(64));
  data_ = nullptr;
}
void Buffer::zero() { std::fill(data_, data_ + n_, 0.0f); }

std::vector<ConvLayer> basecnn_layers(int size) {
  const int ch[] = {32, 32, 64, 64, 128, 128};
  std::vector<ConvLayer> layers;
  int cin = 3, side = size;
  for (int i = 0; i < 6 && side >= 1; ++i) {
    layers.push_back({i + 1, cin, ch[i], side});
    cin = ch[i];
    side /= 2;
  }
  return layers;
}

// ---- OpenBLAS ------------------------------------------------------------------------------------------
const OpenBlas& openblas() {
  static const OpenBlas lib = [] {
    OpenBlas b;
    if (__builtin_cpu_supports("avx512f") && !std::getenv("OPENBLAS_CORETYPE"))
      setenv("OPENBLAS_CORETYPE", "SkylakeX", 0);  // read by OpenBLAS's constructor at dlopen
    void* h = nullptr;
    for (const char* name : {"libopenblas.so.0", "libopenblas.so"})
      if ((h = dlopen(name, RTLD_NOW | RTLD_LOCAL))) break;
    if (!h) {
      b.error = std::string("cannot load libopenblas.so.0 (apt-get install libopenblas0-pthread): ") + dlerror();
      return b;
    }
    b.cblas_sgemm = reinterpret_cast<OpenBlas::Sgemm>(dlsym(h, "cblas_sgemm"));
    b.set_num_threads = reinterpret_cast<void (*)(int)>(dlsym(h, "openblas_set_num_threads"));
    auto corename = reinterpret_cast<char* (*)()>(dlsym(h, "openblas_get_corename"));
    auto config = reinterpret_cast<char* (*)()>(dlsym(h, "openblas_get_config"));
    if (!b.cblas_sgemm || !b.set_num_threads) {
      b.error = "libopenblas lacks cblas_sgemm/openblas_set_num_threads";
      return b;
    }
    b.core = corename ? corename() : "?";
    b.config = config ? config() : "?";
    b.ok = true;
    return b;
  }();
  return lib;
}

void OpenBlas::sgemm(bool tA, bool tB, int M, int N, int K, float alpha, const float* A, int lda, const float* B,
                     int ldb, float beta, float* C, int ldc) const {
  constexpr int kRowMajor = 101, kNoTrans = 111, kTrans = 112;
  cblas_sgemm(kRowMajor, tA ? kTrans : kNoTrans, tB ? kTrans : kNoTrans, M, N, K, alpha, A, lda, B, ldb, beta, C,
              ldc);
}

void set_threads(int n) {
  omp_set_num_threads(n);
  const OpenBlas& b = openblas();
  if (b.ok) b.set_num_threads(n);
}

// ---- recorder ------------------------------------------------------------------------------------------
bool Recorder::wanted(const std::string& name) const {
  return options_.filter.empty() || name.find(options_.filter) != std::string::npos;
}

void settle() { std::this_thread::sleep_for(std::chrono::milliseconds(150)); }

Samples Recorder::sample(const std::function<void()>& f, int count, const std::function<void()>& setup,
                         int inner) const {
  using clock = std::chrono::steady_clock;
  auto once = [&] {
    if (setup) setup();
    const auto t0 = clock::now();
    f();
    return std::chrono::duration<double>(clock::now() - t0).count();
  };
  const double warm = std::max(once(), once());  // two warmups: caches, page faults, thread pools
  Samples s;
  s.inner = inner;
  if (inner <= 0) {
    s.inner = 1;
    if (!setup && warm < options_.min_sample_s)
      s.inner = int(std::min(10000.0, options_.min_sample_s / std::max(warm, 1e-7)));
  }
  for (int r = 0; r < count; ++r) {
    if (s.inner == 1) {
      s.seconds.push_back(once());
      continue;
    }
    const auto t0 = clock::now();
    for (int i = 0; i < s.inner; ++i) f();
    s.seconds.push_back(std::chrono::duration<double>(clock::now() - t0).count() / s.inner);
  }
  return s;
}

Row& Recorder::record(Row row, const Samples& samples, int rounds) {
  std::vector<double> sorted = samples.seconds;
  std::sort(sorted.begin(), sorted.end());
  if (!sorted.empty()) {
    row.median_s = sorted[sorted.size() / 2];
    row.min_s = sorted.front();
  }
  row.samples = int(sorted.size());
  row.inner = samples.inner;
  row.rounds = rounds;
  add(std::move(row));
  return rows_.back();
}

Row& Recorder::time(Row row, const std::function<void()>& f, const std::function<void()>& setup) {
  return record(std::move(row), sample(f, options_.repeats, setup));
}

std::vector<Row> Recorder::time_alternating(const std::vector<Contender>& contenders, int rounds) {
  rounds = std::max(rounds, 1);
  std::vector<Samples> all(contenders.size());
  for (int round = 0; round < rounds; ++round) {
    const int count = std::max(1, options_.repeats / rounds + (round < options_.repeats % rounds ? 1 : 0));
    for (size_t i = 0; i < contenders.size(); ++i) {
      settle();
      Samples block = sample(contenders[i].f, count, nullptr, round == 0 ? 0 : all[i].inner);
      all[i].inner = block.inner;
      all[i].seconds.insert(all[i].seconds.end(), block.seconds.begin(), block.seconds.end());
    }
  }
  std::vector<Row> rows;
  for (size_t i = 0; i < contenders.size(); ++i) rows.push_back(record(contenders[i].row, all[i], rounds));
  return rows;
}

void Recorder::fail(const std::string& message) {
  ++failures_;
  std::fprintf(stderr, "facet bench: FAILED: %s\n", message.c_str());
  std::printf("FAILED: %s\n", message.c_str());
  std::fflush(stdout);
}

void Recorder::add(Row row) {
  rows_.push_back(std::move(row));
  print_row(rows_.back());
}

void Recorder::set_roofs(int threads, Roofs r) { roofs_.emplace_back(threads, r); }
Roofs Recorder::roofs(int threads) const {
  for (const auto& [t, r] : roofs_)
    if (t == threads) return r;
  return {};
}

void Recorder::print_header() const {
  std::printf("%-8s %-34s %-26s %-15s %3s %10s %9s %8s %6s %7s\n", "section", "name", "shape", "impl", "thr",
              "median_ms", "GFLOP/s", "GB/s", "%peak", "AI");
}

void Recorder::print_row(const Row& r) const {
  const Roofs roof = roofs(r.threads);
  const bool timed = r.median_s > 0;  // a row that failed its check is recorded untimed
  const double gf = timed && r.flops > 0 ? r.flops / r.median_s * 1e-9 : 0;
  const double gb = timed && r.bytes > 0 ? r.bytes / r.median_s * 1e-9 : 0;
  char pct[16] = "-";
  if (gf > 0 && roof.peak_gflops > 0) std::snprintf(pct, sizeof pct, "%.0f%%", 100 * gf / roof.peak_gflops);
  else if (gb > 0 && roof.bandwidth_gbs > 0) std::snprintf(pct, sizeof pct, "%.0f%%bw", 100 * gb / roof.bandwidth_gbs);
  char ai[16] = "-";
  if (r.flops > 0 && r.bytes > 0) std::snprintf(ai, sizeof ai, "%.1f", r.flops / r.bytes);
  char gfs[16] = "-", gbs[16] = "-";
  if (gf > 0) std::snprintf(gfs, sizeof gfs, "%.1f", gf);
  if (gb > 0) std::snprintf(gbs, sizeof gbs, "%.1f", gb);
  std::printf("%-8s %-34s %-26s %-15s %3d %10.3f %9s %8s %6s %7s", r.section.c_str(), r.name.c_str(),
              r.shape.c_str(), r.impl.c_str(), r.threads, r.median_s * 1e3, gfs, gbs, pct, ai);
  if (timed && r.items > 0) std::printf("  %.1f img/s", r.items / r.median_s);
  if (r.peak_rss_mib > 0) std::printf("  peak RSS %.0f MiB", r.peak_rss_mib);
  if (!r.note.empty()) std::printf("  (%s)", r.note.c_str());
  std::printf("\n");
  std::fflush(stdout);
}

nlohmann::json Recorder::to_json() const {
  nlohmann::json j = meta_;
  j["failures"] = failures_;  // rows that failed a check (their note says why)
  j["roofs"] = nlohmann::json::array();
  for (const auto& [t, r] : roofs_)
    j["roofs"].push_back({{"threads", t}, {"peak_gflops", r.peak_gflops}, {"bandwidth_gbs", r.bandwidth_gbs}});
  j["rows"] = nlohmann::json::array();
  for (const Row& r : rows_) {
    const Roofs roof = roofs(r.threads);
    nlohmann::json o = {{"section", r.section}, {"name", r.name},     {"shape", r.shape},
                        {"impl", r.impl},       {"threads", r.threads}, {"median_s", r.median_s},
                        {"min_s", r.min_s},     {"samples", r.samples}, {"inner", r.inner},
                        {"rounds", r.rounds}};
    const bool timed = r.median_s > 0;
    if (timed && r.flops > 0) {
      o["flops"] = r.flops;
      o["gflops"] = r.flops / r.median_s * 1e-9;
      if (roof.peak_gflops > 0) o["pct_peak"] = 100 * o["gflops"].get<double>() / roof.peak_gflops;
    }
    if (timed && r.bytes > 0) {
      o["bytes"] = r.bytes;
      o["gbs"] = r.bytes / r.median_s * 1e-9;
      if (roof.bandwidth_gbs > 0) o["pct_bandwidth"] = 100 * o["gbs"].get<double>() / roof.bandwidth_gbs;
    }
    if (r.flops > 0 && r.bytes > 0) o["arithmetic_intensity"] = r.flops / r.bytes;
    if (timed && r.items > 0) o["items_per_s"] = r.items / r.median_s;
    if (r.peak_rss_mib > 0) o["peak_rss_mib"] = r.peak_rss_mib;
    if (!r.note.empty()) o["note"] = r.note;
    j["rows"].push_back(o);
  }
  return j;
}

void reset_peak_rss() {
  std::ofstream f("/proc/self/clear_refs");
  if (f) f << "5";
}

double peak_rss_mib() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("VmHWM:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;  // "VmHWM:   123456 kB"
  return 0;
}

// ---- driver --------------------------------------------------------------------------------------------
namespace {

std::string cpu_model() {
  std::ifstream f("/proc/cpuinfo");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  return "unknown";
}

// Share of CPU time other processes used over `seconds` (the cores may be shared: a busy machine makes every
// row slower and noisier, so the figure goes into the JSON next to the results).
double busy_percent(double seconds) {
  auto sample = [](long long* busy, long long* total) {
    std::ifstream f("/proc/stat");
    std::string cpu;
    long long v[8] = {};
    f >> cpu;
    for (long long& x : v) f >> x;
    *busy = v[0] + v[1] + v[2] + v[5] + v[6] + v[7];
    *total = *busy + v[3] + v[4];
  };
  long long b0, t0, b1, t1;
  sample(&b0, &t0);
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  sample(&b1, &t1);
  return t1 > t0 ? 100.0 * double(b1 - b0) / double(t1 - t0) : 0.0;
}

}  // namespace

int run(const Options& o) {
  const Device device = parse_device(o.device);
  require_device(device, "--device " + o.device);  // before anything is timed: a missing GPU fails at once
  set_cpu_backend(parse_cpu_backend(o.backend));     // every op of the model rows then runs on these CPU kernels
  Recorder rec(o);
  const int hw_threads = omp_get_num_procs();
  rec.meta()["machine"] = {{"cpu", cpu_model()},
                           {"logical_cpus", hw_threads},
                           {"avx512f", bool(__builtin_cpu_supports("avx512f"))}};
  rec.meta()["sgemm_kernel"] = cpu::gemm_detail::active_kernel().name;
  rec.meta()["device"] = device_description(device);
  rec.meta()["cpu_backend"] = o.backend;
  rec.meta()["batch"] = o.batch;
  rec.meta()["repeats"] = o.repeats;
  rec.meta()["statistic"] =
      "median of repeats after 2 warmup calls; rows compared with OpenBLAS (sgemm, conv openblas-im2col): the "
      "repeats split over alternating rounds (each row's 'rounds'), 2 warmup calls before each block";
  const double busy = busy_percent(0.5);
  rec.meta()["machine"]["busy_percent_before_start"] = busy;
  std::printf("facet bench: %s, %d logical CPUs, sgemm kernel %s, median of %d samples; CPUs %.0f%% busy before start\n",
              cpu_model().c_str(), hw_threads, cpu::gemm_detail::active_kernel().name, o.repeats, busy);
  if (device != Device::CPU) std::printf("model rows on %s\n", device_description(device).c_str());
  if (cpu_backend() == CpuBackend::naive) std::printf("model rows on the naive CPU kernels (kernels/naive)\n");
  if (o.compare_openblas) {
    const OpenBlas& b = openblas();
    if (b.ok) {
      const char* ct = std::getenv("OPENBLAS_CORETYPE");
      std::printf("OpenBLAS (reference only): core %s, OPENBLAS_CORETYPE=%s, %s\n", b.core.c_str(), ct ? ct : "(unset)",
                  b.config.c_str());
      rec.meta()["openblas"] = {{"core", b.core}, {"config", b.config}, {"OPENBLAS_CORETYPE", ct ? ct : ""}};
    } else {
      std::printf("OpenBLAS not compared: %s\n", b.error.c_str());
      rec.meta()["openblas"] = {{"error", b.error}};
    }
  }
  for (int t : o.threads)
    if (t > hw_threads)
      std::printf("note: %d threads requested on %d logical CPUs (oversubscribed)\n", t, hw_threads);
  rec.print_header();
  auto has = [&](const char* s) { return std::find(o.sections.begin(), o.sections.end(), s) != o.sections.end(); };
  for (int t : o.threads) {
    set_threads(t);
    // The roofs are measured for every thread count the sgemm/kernel rows run at (their % columns need them).
    if (has("peak") || has("sgemm") || has("kernels")) run_peak(rec, t);
    if (has("sgemm")) run_sgemm(rec, t);
    if (has("kernels")) run_kernels(rec, t);
    if (has("model")) run_model(rec, t);
  }
  // The process's peak: the model rows reset the kernel's mark (which getrusage also reports) before each row,
  // so it is the largest of their peaks and of what getrusage says since the last reset.
  struct rusage ru {};
  getrusage(RUSAGE_SELF, &ru);
  double peak = double(ru.ru_maxrss) / 1024.0;
  for (const Row& r : rec.rows()) peak = std::max(peak, r.peak_rss_mib);
  rec.meta()["peak_rss_mib"] = peak;
  if (!o.json_path.empty()) {
    std::ofstream f(o.json_path);
    if (!f) {
      std::fprintf(stderr, "facet bench: cannot write %s (check the directory exists and is writable)\n",
                   o.json_path.c_str());
      return 1;
    }
    f << rec.to_json().dump(2) << "\n";
    std::printf("wrote %s\n", o.json_path.c_str());
  }
  if (rec.failures() > 0) {
    std::fprintf(stderr, "facet bench: %d row(s) FAILED their check (see FAILED above)\n", rec.failures());
    return 1;
  }
  return 0;
}

}  // namespace facet::bench
