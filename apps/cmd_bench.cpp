#include "apps/cmd_bench.h"

#include <stdexcept>
#include <string>

#include "bench/bench_cli.h"

void add_bench_commands(CLI::App& app) {
  CLI::App* cmd = app.add_subcommand(
      "bench", "time facet's kernels, sgemm (vs OpenBLAS) and BaseCNN steps; prints a table and writes JSON");
  auto cli = facet::bench::add_cli_options(*cmd);
  cmd->callback([cli] {
    const int rc = facet::bench::run(cli->resolve());
    if (rc != 0) throw std::runtime_error("bench failed (exit code " + std::to_string(rc) + ")");
  });
}
