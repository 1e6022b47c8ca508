#!/usr/bin/env bash
# The sanitizer stages (docs/reliability.md, "Sanitizers"). Each builds its own tree and fails on any report.
#   asan  the whole test suite with -fsanitize=address,undefined (GCC, -O1) in build-asan/, run by ctest;
#         UBSan halts on its first message, ASan on its first error, LeakSanitizer checks at exit.
#   tsan  the loader's tests and the kernel tests (the OpenMP CPU kernels beside the naive ones) with
#         -fsanitize=thread in build-tsan/, 2 OpenMP threads. The CUDA emulator is left out
#         (FACET_TEST_BACKENDS=naive,cpu): its fibers switch stacks in ways TSan cannot follow.
# Usage: scripts/sanitize.sh [asan] [tsan]   (default: asan)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
stages=("$@")
[ ${#stages[@]} -gt 0 ] || stages=(asan)  # tsan: libgomp false positives for now, docs/reliability.md
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
jobs=$(nproc)

configure() {  # <build dir> <sanitizers> <extra cmake args...>
  local build=$1 san=$2
  shift 2
  cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g1 -DNDEBUG" \
    -DFACET_SANITIZE="$san" -DFACET_CUDA=OFF -DFACET_BENCH=OFF "${launcher[@]}" "$@" >/dev/null
}

asan() {
  local build=${FACET_ASAN_BUILD_DIR:-$root/build-asan}
  configure "$build" address,undefined
  cmake --build "$build" -j "$jobs"
  # The real-data tests (test_real_data) skip without the data; with it they take minutes under ASan.
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:detect_stack_use_after_return=0 \
    UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    ctest --test-dir "$build" -j "$jobs" --timeout 900 --output-on-failure -E '^test_real_data' 2>&1 |
    sed 's/^/asan: /' | grep -E '^asan: (.*tests passed|.*Failed|.*\*\*\*|.*ERROR|.*runtime error|.*WARNING)' || true
  test "${PIPESTATUS[0]}" -eq 0
}

tsan() {
  local build=${FACET_TSAN_BUILD_DIR:-$root/build-tsan}
  configure "$build" thread
  cmake --build "$build" -j "$jobs" --target test_data test_kernels
  export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:suppressions=$root/tests/tsan.supp"
  export OMP_NUM_THREADS=2 FACET_TEST_BACKENDS=naive,cpu
  "$build/tests/test_data" "[loader]" 2>&1 | tail -3 | sed 's/^/tsan: test_data [loader]: /'
  test "${PIPESTATUS[0]}" -eq 0
  "$build/tests/test_kernels" 2>&1 | tail -3 | sed 's/^/tsan: test_kernels: /'
  test "${PIPESTATUS[0]}" -eq 0
}

for s in "${stages[@]}"; do
  case $s in
    asan | tsan) start=$SECONDS; "$s"; echo "sanitize: $s passed in $((SECONDS - start)) s" ;;
    *) echo "sanitize: unknown stage '$s' (use asan, tsan)" >&2; exit 2 ;;
  esac
done
