// `facet viz filters|features|cam`: pictures of what a trained network sees (models/viz.h), as PNGs.
#pragma once
#include <CLI/CLI.hpp>

void add_viz_commands(CLI::App& app);
