#!/usr/bin/env bash
# bench/protodiff.sh - the differential protocol test for as long as asked.
#
# Runs tests/integration/test_protodiff.sh (the same message sequences to a
# plain PostgreSQL 15 and through shardwire; every reply's type, SQLSTATE,
# tag, status and row compared) with COUNT generated sequences in each of
# its four setups: one node in session pooling, one node in transaction
# pooling, three clients at once over a pool of two, and a routed database
# over three nodes against one server holding all rows.  CI runs the same
# script with 300 per setup.  Prints each setup's summary line
# ("N sequences ... all identical", or the first mismatch with its seed, to
# replay with sw_protodiff --seed S --count 1 --show) and the total.
#
# Usage: bash bench/protodiff.sh [COUNT]      (default 25000: 100,000 in all)
# Environment:
#   SW_BUILD=dir   build directory (default <source>/build-protodiff)
#   PG_BINDIR=dir  PostgreSQL 15 binaries (default /usr/lib/postgresql/15/bin)
# Exit status: 0 when every sequence matched.
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
count=${1:-25000}
[[ $count =~ ^[0-9]+$ ]] || { echo "usage: bash bench/protodiff.sh [COUNT]" >&2; exit 2; }
build=${SW_BUILD:-$SRC/build-protodiff}

bash "$SRC/scripts/deps.sh"
echo "== building shardwire and sw_protodiff (RelWithDebInfo) in $build" >&2
cmake -S "$SRC" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j"$(nproc)" --target shardwire sw_protodiff sw_itest >/dev/null

log=$(mktemp "${TMPDIR:-/tmp}/protodiff.XXXXXX.log")
start=$SECONDS
rc=0
SW_BIN=$build/shardwire SW_PROTODIFF=$build/tests/integration/sw_protodiff \
    SW_ITEST=$build/tests/integration/sw_itest SW_SRC=$SRC SW_PROTODIFF_COUNT=$count \
    bash "$SRC/tests/integration/test_protodiff.sh" >"$log" 2>&1 || rc=$?
grep -E "^ok - .*sequences|^FAIL|MISMATCH|POSTGRESQL FAILED" "$log" || true
echo "== $((count * 4)) generated sequences requested over 4 setups in $((SECONDS - start)) s; fixed cases included"
if ((rc == 0)); then
    echo "== all identical"
    rm -f "$log"
else
    echo "== MISMATCH or failure: full log in $log"
fi
exit $rc
