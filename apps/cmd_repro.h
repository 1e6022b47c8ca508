// `facet repro STUDY`: trains each configuration of one of the five studies (A-E, ../shared/studies.md) and
// writes its table into docs/results.md (our test numbers beside theirs, with the command, split, machine,
// threads, wall time and seed).
#pragma once
#include <CLI/CLI.hpp>

void add_repro_commands(CLI::App& app);
