// facet's benchmark suite, shared by the `facet bench` subcommand and the standalone bench/facet_bench binary.
// Sections: peak (FMA probe and triad bandwidth, the roofline's two roofs), sgemm (ours vs OpenBLAS on square
// and BaseCNN conv-shaped products), kernels (every CPU kernel on BaseCNN's layer shapes, forward and
// backward), model (BaseCNN training step and inference, images/s; on the CPU or, with device "cuda", on the
// GPU, whose kernels alone bench/cuda_bench times). Each row is the median of `repeats`
// timed samples after a warmup; it prints a table and writes JSON.
#pragma once
#include <string>
#include <vector>

namespace facet::bench {

struct Options {
  std::vector<int> threads{2};       // thread counts to run every section at (`--threads 1,2`)
  std::vector<std::string> sections{"peak", "sgemm", "kernels", "model"};
  std::vector<int> sizes{64, 128};   // BaseCNN input sides for conv shapes and model rows
  int batch = 64;
  int repeats = 7;                   // timed samples per row; the median is reported
  double min_sample_s = 0.002;       // tiny kernels are looped until one sample takes at least this long
  std::string filter;                // only rows whose name contains this
  std::string json_path = "bench.json";
  bool compare_openblas = true;      // time OpenBLAS sgemm and an OpenBLAS im2col conv next to ours
                                     // (loaded at run time, bench only)
  std::string device = "cpu";        // cpu | cuda: where the model section runs (the others are CPU-only)
  std::string backend = "fast";      // fast | naive: the CPU kernels the model section runs on (tensor/dispatch.h)
};

// Runs the sections; returns 0 on success. Prints progress and a table to stdout.
int run(const Options& options);

// Parses "1,2" into {1,2}; throws std::invalid_argument naming the bad item.
std::vector<int> parse_int_list(const std::string& text, const char* what);

}  // namespace facet::bench
