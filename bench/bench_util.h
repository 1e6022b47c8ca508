// Internals of the bench: timing, result rows, the machine's measured roofs, OpenBLAS loaded at run time.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench/bench.h"

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
  std::string note;
};

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
  // Times f (warmup, then `repeats` samples of `inner` calls each, inner chosen so a sample lasts at least
  // min_sample_s) and records the row. setup() (not timed) runs before every sample when given.
  Row& time(Row row, const std::function<void()>& f, const std::function<void()>& setup = nullptr);
  void add(Row row);
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

}  // namespace facet::bench
