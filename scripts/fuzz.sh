#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz/, clang, ASan+UBSan) into build-fuzz/ and runs each for a bounded
# number of executions over its seed corpus, written into build-fuzz/seeds/<target>/ by fuzz_make_seeds
# (tests/fuzz/make_seeds.cpp: small valid inputs from facet's own writers and the inputs of past findings).
# Fails on any crash, sanitizer report, leak, input over the allocation limit or timeout; the input that did
# it is left in build-fuzz/artifacts/ (add it as a regression test and to make_seeds.cpp, see
# docs/reliability.md).
#
#   FACET_FUZZ_RUNS=N        executions per target (default: each target's own, sized for ~2 min in all on 2 cores)
#   FACET_FUZZ_SEED=S        libFuzzer's -seed (default 1: the same inputs every CI run)
#   FACET_FUZZ_TARGETS="a b" only these targets
#   FACET_FUZZ_BUILD_DIR     build directory (default build-fuzz)
# Extra arguments go to every libFuzzer run (e.g. -max_total_time=3600 -runs=-1 -jobs=2 for a long campaign).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${FACET_FUZZ_BUILD_DIR:-$root/build-fuzz}
cc=${FACET_FUZZ_CC:-clang} cxx=${FACET_FUZZ_CXX:-clang++}
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
cmake -S "$root" -B "$build" -DFACET_FUZZ=ON -DCMAKE_C_COMPILER="$cc" -DCMAKE_CXX_COMPILER="$cxx" \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1" -DFACET_CUDA=OFF -DFACET_TESTS=OFF \
  -DFACET_BENCH=OFF "${launcher[@]}" >/dev/null
cmake --build "$build" -j "$(nproc)" --target facet_fuzz

# target  runs  max_len  malloc_limit_mb   (runs: ~25 s each on one shared Zen 4 core; see docs/reliability.md)
table="fuzz_checkpoint   20000  4096   512
fuzz_safetensors  150000 4096   256
fuzz_utkface_name 200000 256    64
fuzz_adience      20000  4096   256
fuzz_csv          20000  4096   256
fuzz_image        8000   4096   1024
fuzz_manifest     10000  4096   256"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
mkdir -p "$build/artifacts"
rm -rf "$build/seeds" && "$build/fuzz/fuzz_make_seeds" "$build/seeds"
# The file-reading targets write each input to a private temp directory; libFuzzer ends without running atexit
# handlers, so those directories go under build-fuzz/tmp, emptied here, instead of piling up in /tmp.
export TMPDIR="$build/tmp"
rm -rf "$TMPDIR" && mkdir -p "$TMPDIR"
failed=()
while read -r target runs max_len malloc_mb; do
  if [ -n "${FACET_FUZZ_TARGETS:-}" ] && [[ " $FACET_FUZZ_TARGETS " != *" $target "* ]]; then continue; fi
  work="$build/corpus/$target"  # new inputs go here; the seeds stay as they are
  mkdir -p "$work" "$build/seeds/$target"  # a target may have only committed seeds (tests/fuzz/corpus/<target>)
  log="$build/artifacts/$target.log"
  start=$SECONDS
  if "$build/fuzz/$target" -runs="${FACET_FUZZ_RUNS:-$runs}" -seed="${FACET_FUZZ_SEED:-1}" -max_len="$max_len" \
       -malloc_limit_mb="$malloc_mb" -rss_limit_mb=2048 -timeout=25 -print_final_stats=1 \
       -artifact_prefix="$build/artifacts/$target-" "$@" "$work" "$build/seeds/$target" \
       $( [ -d "$root/tests/fuzz/corpus/$target" ] && echo "$root/tests/fuzz/corpus/$target") >"$log" 2>&1; then
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    echo "fuzz: $target ok: ${execs:-?} executions in $((SECONDS - start)) s ($(ls "$work" | wc -l) corpus inputs)"
  else
    echo "fuzz: $target FAILED after $((SECONDS - start)) s; the last lines of $log:"
    tail -40 "$log"
    failed+=("$target")
  fi
done <<<"$table"
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: FAILED: ${failed[*]} (crashing inputs: $build/artifacts/)"
  exit 1
fi
echo "fuzz: all targets passed"
