// `facet export` and `facet import`: a model out as safetensors or ONNX, weights in from safetensors
// (docs/export.md).
#pragma once
#include <CLI/CLI.hpp>

void add_export_commands(CLI::App& app);
