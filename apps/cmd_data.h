// `facet data stats` and `facet data split`.
#pragma once
#include <CLI/CLI.hpp>

void add_data_commands(CLI::App& app);
