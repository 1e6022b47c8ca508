// `facet bench`: the benchmark suite of bench/ (peak probe, sgemm vs OpenBLAS, every kernel, BaseCNN steps).
#pragma once
#include <CLI/CLI.hpp>

void add_bench_commands(CLI::App& app);
