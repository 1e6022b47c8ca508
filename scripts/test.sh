#!/usr/bin/env bash
# The test command: installs dependencies, builds, runs the bounded fuzz targets (scripts/fuzz.sh), then every
# test with ctest (its summary line is printed last). Exits non-zero when any stage fails.
#   FACET_SKIP_FUZZ=1   skip the fuzz stage (a quick local run; CI runs it)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/install-deps.sh"
"$root/scripts/build.sh" "$@"
if [ "${FACET_SKIP_FUZZ:-0}" != 1 ]; then
  "$root/scripts/fuzz.sh"
fi
cd "${FACET_BUILD_DIR:-$root/build}"
ctest --output-on-failure -j "$(nproc)" --timeout 900
