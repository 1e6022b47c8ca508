// Command-line options of the bench, shared by `facet bench` (apps/cmd_bench.cpp) and bench/facet_bench.
#pragma once
#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "bench/bench.h"

namespace facet::bench {

// Adds the options to `cmd` and returns a holder filled in when CLI11 parses; call run_parsed() after.
struct CliOptions {
  Options options;
  std::string threads = "2", sections = "peak,sgemm,kernels,model", sizes = "64,128";
  bool no_openblas = false;
  Options resolve() const;  // parses the list options; throws std::invalid_argument naming a bad one
};
std::shared_ptr<CliOptions> add_cli_options(CLI::App& cmd);

}  // namespace facet::bench
