// Internals of the bench: timing, result rows, the machine's measured roofs, OpenBLAS loaded at run time.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench/bench.h"
#include "kernels/cpu/conv2d_pack.h"

namespace facet::bench {

// One measured row. flops/bytes are per call (bytes = compulsory traffic: every input read once, every output
// written once, += outputs read and written); rates derive from the median time.
struct Row {
  std::string section, name, shape, impl = "facet";
  int threads = 1;
  double median_s = 0, min_s = 0;
  double flops = 0, bytes = 0;
  double items = 0;          // images per call for model rows (-> images/s)
  int samples = 0, inner = 1;
  int rounds = 1;            // alternating rounds the samples were taken in (Recorder::time_alternating)
  double peak_rss_mib = 0;   // model rows: the process's peak RSS while the row ran (0: not measured)
  std::string note;
};

// Peak RSS per row (Linux >= 4.0): reset_peak_rss() sets the kernel's high-water mark (VmHWM) to the current
// RSS, peak_rss_mib() reads it. Memory still held from earlier rows counts, as it does in the peer's rows.
void reset_peak_rss();
double peak_rss_mib();  // 0 where /proc/self/status has no VmHWM

// The timed samples of one function: seconds per call of each sample, each the mean over `inner` calls.
struct Samples {
  std::vector<double> seconds;
  int inner = 1;
};

// One implementation in an alternating comparison (Recorder::time_alternating): its row and what it times.
struct Contender {
  Row row;
  std::function<void()> f;
};

// Rounds of an alternating comparison (see time_alternating).
constexpr int kAlternatingRounds = 3;

// Sleeps 150 ms: OpenBLAS's idle workers spin (then sleep) after each call, and ours do too, so a pause before
// each block of samples lets the other library's threads go to sleep and neither is timed against the other's
// spinning.
void settle();

// Measured roofs at one thread count.
struct Roofs {
  double peak_gflops = 0;    // FMA probe
  double bandwidth_gbs = 0;  // triad
};

class Recorder {
 public:
  explicit Recorder(const Options& o) : options_(o) {}
  const Options& options() const { return options_; }
  bool wanted(const std::string& name) const;
  // Two warmup calls of f, then `count` samples of `inner` calls each. inner <= 0: chosen from the warmups so a
  // sample lasts at least min_sample_s (1 when setup is given); otherwise that inner is kept, so later blocks of
  // the same function add comparable samples. setup() (not timed) runs before every sample when given.
  Samples sample(const std::function<void()>& f, int count, const std::function<void()>& setup = nullptr,
                 int inner = 0) const;
  // Records (and prints) a row whose median/min are over `samples`.
  Row& record(Row row, const Samples& samples, int rounds = 1);
  // sample() with `repeats` samples, then record().
  Row& time(Row row, const std::function<void()>& f, const std::function<void()>& setup = nullptr);
  // Times the contenders alternately in `rounds` rounds; each round is, for each contender in turn, settle()
  // then a block of its samples. Each contender gets `repeats` samples in all, split across the rounds (at
  // least one per round), and its row's median/min are over all of them. Alternating spreads a slowdown of the
  // machine that comes and goes over every contender instead of landing on one block. Returns the recorded
  // rows, in the contenders' order.
  std::vector<Row> time_alternating(const std::vector<Contender>& contenders, int rounds = kAlternatingRounds);
  void add(Row row);
  // A row that failed a check (e.g. a wrong result): printed to stderr and counted; `facet bench` then exits 1.
  void fail(const std::string& message);
  int failures() const { return failures_; }
  void set_roofs(int threads, Roofs r);
  Roofs roofs(int threads) const;
  void print_header() const;
  void print_row(const Row& r) const;
  nlohmann::json to_json() const;
  nlohmann::json& meta() { return meta_; }
  const std::vector<Row>& rows() const { return rows_; }

 private:
  const Options& options_;
  std::vector<Row> rows_;
  std::vector<std::pair<int, Roofs>> roofs_;
  int failures_ = 0;
  nlohmann::json meta_ = nlohmann::json::object();
};

// Sets the thread count for OpenMP (ours) and OpenBLAS (when loaded).
void set_threads(int n);

// OpenBLAS, dlopen'ed on first use after OPENBLAS_CORETYPE=SkylakeX is put in the environment (when the CPU
// has AVX-512 and the variable is unset): Debian's 0.3.21 misdetects Sapphire Rapids and runs SSE3 code
// otherwise. Never linked into the framework.
struct OpenBlas {
  bool ok = false;
  std::string error, core, config;
  using Sgemm = void (*)(int order, int transA, int transB, int M, int N, int K, float alpha, const float* A,
                         int lda, const float* B, int ldb, float beta, float* C, int ldc);
  Sgemm cblas_sgemm = nullptr;
  void (*set_num_threads)(int) = nullptr;
  void sgemm(bool tA, bool tB, int M, int N, int K, float alpha, const float* A, int lda, const float* B, int ldb,
             float beta, float* C, int ldc) const;
};
const OpenBlas& openblas();

// A 64-byte aligned float buffer filled from a seeded generator (deterministic inputs for every row).
class Buffer {
 public:
  Buffer() = default;
  explicit Buffer(int64_t n, uint64_t seed = 1, float lo = -1.0f, float hi = 1.0f);
  Buffer(Buffer&& o) noexcept : data_(o.data_), n_(o.n_) { o.data_ = nullptr; o.n_ = 0; }
  Buffer& operator=(Buffer&& o) noexcept;
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;
  ~Buffer();
  float* data() { return data_; }
  const float* data() const { return data_; }
  int64_t size() const { return n_; }
  void zero();

 private:
  float* data_ = nullptr;
  int64_t n_ = 0;
};

// Sections (each in its own file).
void run_peak(Recorder& rec, int threads);
void run_sgemm(Recorder& rec, int threads);
void run_kernels(Recorder& rec, int threads);
void run_model(Recorder& rec, int threads);

// BaseCNN's conv layers at input side `size`: (C_in, C_out, H=W at that layer).
struct ConvLayer {
  int index, cin, cout, side;
};
std::vector<ConvLayer> basecnn_layers(int size);

// f run with conv2d's im2col mode set to `mode` for the call, and the mode it found restored after.
inline std::function<void()> with_conv_im2col(cpu::ConvIm2col mode, std::function<void()> f) {
  return [mode, f = std::move(f)] {
    const cpu::ConvIm2col saved = cpu::conv_im2col();
    cpu::set_conv_im2col(mode);
    f();
    cpu::set_conv_im2col(saved);
  };
}

}  // namespace facet::bench
