// `facet report RUN_DIR [RUN_DIR...]`: an HTML page per run (RUN_DIR/report.html), or one page comparing
// several runs (--out), readable offline in a browser (models/report_html.h).
#pragma once
#include <CLI/CLI.hpp>

void add_report_commands(CLI::App& app);
