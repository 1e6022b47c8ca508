// `facet explain`: a model's layers with their output shape, parameters, FLOPs, activation memory and
// (--time) measured milliseconds (models/explain.h).
#pragma once
#include <CLI/CLI.hpp>

void add_explain_commands(CLI::App& app);
