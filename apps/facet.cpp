// facet: one binary that trains, evaluates, predicts, inspects data and benchmarks.
// Each area registers its subcommands from its own apps/cmd_*.cpp file.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <exception>

#include "apps/cmd_data.h"

#include "apps/cmd_bench.h"
#include "apps/cmd_eval.h"
#include "apps/cmd_export.h"
#include "apps/cmd_explain.h"
#include "apps/cmd_predict.h"
#include "apps/cmd_repro.h"
#include "apps/cmd_report.h"
#include "apps/cmd_train.h"
#include "apps/cmd_viz.h"
#include "data/image_io.h"

int main(int argc, char** argv) {
  CLI::App app{"facet: face-attribute CNNs (age, gender, race) trained on facet's own kernels"};
  app.require_subcommand(1);
  // subcommands: add_<area>_commands(app);
  add_train_commands(app);
  add_eval_commands(app);
  add_predict_commands(app);
  add_repro_commands(app);
  add_data_commands(app);
  add_bench_commands(app);
  add_export_commands(app);
  add_explain_commands(app);
  add_viz_commands(app);
  add_report_commands(app);
  try {
    facet::data::max_pixels();  // reads FACET_MAX_PIXELS now: a malformed value fails here, not in a loader thread
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "facet: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
