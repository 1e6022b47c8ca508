// `facet train`: flags -> facet::TrainSpec -> facet::run_training (models/training/trainer_run.h).
#pragma once
#include <CLI/CLI.hpp>
#include <string>

#include "models/training/trainer_spec.h"

void add_train_commands(CLI::App& app);

// The `facet train ...` command line that reproduces `spec` (flags that differ from the defaults only).
std::string train_command_line(const facet::TrainSpec& spec);

// Installs a SIGINT/SIGTERM handler that asks a running training to stop after its current batch (a second
// signal ends the process at once).
void install_training_interrupt();
