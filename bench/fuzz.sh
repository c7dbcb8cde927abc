#!/usr/bin/env bash
# fuzz.sh - runs the libFuzzer targets of tests/fuzz for longer than ctest
# does, one after the other (a single process each: no -jobs/-workers, the
# machine has two cores), and prints per target the executions done, the
# executions per second and the findings (crash-*, leak-*, timeout-*,
# oom-* files).
#
# Usage: bench/fuzz.sh [-t SECONDS | -n RUNS] [TARGET...]
#   -t SECONDS  run each target this long (default 60)
#   -n RUNS     run each target for this many executions instead
#   TARGET      fuzz_codec, fuzz_ledger, fuzz_startup, fuzz_conf (default: all)
# Environment: BUILD (default build-fuzz) is configured and built with
# CC=clang -DSW_FUZZ=ON when its targets are missing or stale.  Each
# target's corpus grows in $BUILD/bench/corpus/<target> (seeded from
# tests/fuzz/corpus/<target>, which is never written); findings land in
# $BUILD/bench/findings/ and the full libFuzzer log in $BUILD/bench/<target>.log.
# Exit status is 1 when anything was found.
set -euo pipefail
cd "$(dirname "$0")/.."

limit=(-max_total_time=60)
while getopts "t:n:h" opt; do
  case $opt in
    t) limit=(-max_total_time="$OPTARG") ;;
    n) limit=(-runs="$OPTARG") ;;
    *) sed -n '2,18p' "$0"; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(fuzz_codec fuzz_ledger fuzz_startup fuzz_conf)

build=${BUILD:-build-fuzz}
if [ ! -f "$build/CMakeCache.txt" ]; then
  CC=clang cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSW_FUZZ=ON -DSW_TESTS=OFF >/dev/null
fi
cmake --build "$build" --target fuzz -j"$(nproc 2>/dev/null || echo 2)" >/dev/null

out=$build/bench
mkdir -p "$out/findings"
# One value of libFuzzer's final statistics (-print_final_stats=1).
stat() { sed -n "s/^stat::$1: *//p" "$2" | tail -1; }

found_any=0
printf '%-14s %14s %10s %9s  %s\n' target executions exec/s seconds findings
for t in "${targets[@]}"; do
  corpus=$out/corpus/$t
  mkdir -p "$corpus"
  log=$out/$t.log
  before=$(ls "$out/findings" | grep -c "^$t-" || true)
  start=$(date +%s)
  # A finding stops libFuzzer with a non-zero status; the table still gets
  # its row, and the exit status says so at the end.
  "$build/tests/fuzz/$t" "${limit[@]}" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$out/findings/$t-" "$corpus" "tests/fuzz/corpus/$t" >"$log" 2>&1 || true
  secs=$(( $(date +%s) - start ))
  after=$(ls "$out/findings" | grep -c "^$t-" || true)
  new=$((after - before))
  [ "$new" -eq 0 ] || found_any=1
  printf '%-14s %14s %10s %9s  %s\n' "$t" "$(stat number_of_executed_units "$log")" \
    "$(stat average_exec_per_sec "$log")" "$secs" \
    "$new$( [ "$new" -eq 0 ] || echo " ($(ls "$out/findings" | grep "^$t-" | tr '\n' ' '))")"
  grep -E "^(Done [0-9]+ runs|#[0-9]+ *DONE)" "$log" | tail -1 | sed 's/^/               /' || true
done
exit $found_any
