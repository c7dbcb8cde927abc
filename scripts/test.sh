#!/usr/bin/env bash
# The whole test suite: installs what is missing, then builds shardwire twice
# (optimised, and with AddressSanitizer + UndefinedBehaviorSanitizer) and runs
# every unit and integration test against each build; then a third, small
# clang build of only the libFuzzer targets, each run for a few seconds on
# its corpus (ctest -L fuzz).  Exit status is non-zero if anything fails.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh

jobs=$(nproc 2>/dev/null || echo 2)
run_suite() {  # run_suite BUILD_DIR [cmake args...]
  local dir=$1; shift
  echo "=== building $dir"
  cmake -S . -B "$dir" "$@" >/dev/null
  cmake --build "$dir" -j"$jobs" 2>&1 | grep -E "warning|error" || true
  cmake --build "$dir" -j"$jobs" >/dev/null
  echo "=== testing $dir"
  (cd "$dir" && ctest --output-on-failure --timeout 300)
}

run_suite build -DCMAKE_BUILD_TYPE=RelWithDebInfo
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  run_suite build-asan -DCMAKE_BUILD_TYPE=Debug -DSW_SANITIZE=ON

# The fuzz targets and the libraries they link, nothing else: a short run of
# each on its seeds catches a codec, auth or config change that breaks an
# invariant (bench/fuzz.sh runs them for longer).
echo "=== building build-fuzz"
CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSW_FUZZ=ON -DSW_TESTS=OFF >/dev/null
cmake --build build-fuzz --target fuzz -j"$jobs" 2>&1 | grep -E "warning|error" || true
cmake --build build-fuzz --target fuzz -j"$jobs" >/dev/null
echo "=== fuzzing build-fuzz"
(cd build-fuzz && ctest -L fuzz -j"$jobs" --output-on-failure)
echo "=== all tests passed (optimised, sanitizer and fuzz builds)"
