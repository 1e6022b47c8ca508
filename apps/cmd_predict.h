// `facet predict --checkpoint C IMAGE|DIR|GIF... [--grid out.png]`: one JSON line per image (per frame of an
// animated GIF); images that cannot be decoded get an error entry and the rest go on.
#pragma once
#include <CLI/CLI.hpp>

void add_predict_commands(CLI::App& app);
