// The ranges of facet's numeric flags, declared once: every command attaches these validators to its options, so
// a nonsense value (`--clip -1`, `--dropout nan`, `--seed -1`, `--threads 0`) is refused by the parser with a
// message naming the flag and the allowed range, before any work starts.
#pragma once
#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>

namespace facet::cli {

// A finite number in [lo, hi]; `lo_open`/`hi_open` exclude that end. Unlike CLI::Range this refuses NaN (every
// comparison with NaN is false, so a plain range lets it through) and negative text for unsigned flags ("-1"
// would otherwise wrap to 2^64-1).
// `why` follows the range in the message (e.g. what the bound is).
CLI::Validator number_in(double lo, double hi, bool lo_open = false, bool hi_open = false,
                         const std::string& why = "");

// The most kernel or loader threads a flag may ask for: 4x the hardware threads. More only oversubscribes the
// cores (each OpenMP region then waits on descheduled threads: the issue measured `--threads 1000` about 80x
// slower), so it is refused rather than honoured.
int max_threads();
CLI::Validator threads_range(int lo);  // [lo, max_threads()]

// `--max-pixels N`: the decoded-image size limit (data/image_io.h's set_max_pixels), on every command that
// reads images.
CLI::Option* add_max_pixels(CLI::App* cmd);

}  // namespace facet::cli
