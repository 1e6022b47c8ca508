// bench/facet_bench: the same suite as `facet bench`, as its own binary.
#include <cstdio>
#include <exception>

#include "bench/bench_cli.h"

int main(int argc, char** argv) {
  CLI::App app{"facet_bench: facet's kernel, sgemm and model benchmarks (table + JSON)"};
  auto cli = facet::bench::add_cli_options(app);
  try {
    app.parse(argc, argv);
    return facet::bench::run(cli->resolve());
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "facet_bench: error: %s\n", e.what());
    return 1;
  }
}
