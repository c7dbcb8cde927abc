#!/usr/bin/env bash
# bench/pinning.sh - what clients that hold session state cost a transaction
# pool.  One PostgreSQL node, shardwire in transaction pooling with 8 server
# connections, 20 clients:
#   baseline  18 clients run pgbench -S (select-only) for BENCH_T seconds;
#   pinning   the same 18, while 2 more (10%) run a script that keeps a
#             TEMP table and takes and releases a session advisory lock in
#             every transaction: shardwire pins each of them to a server
#             connection for its whole session.
# Printed, for each: the select-only clients' tps, the pinning clients' tps,
# and the pool's occupancy sampled from the admin console every 0.5 s
# (servers active, clients waiting: mean and peak), then RATIO lines.
#
# Usage: bash bench/pinning.sh
# Environment: BENCH_T=10, SW_BUILD=dir (default <source>/build-bench).
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
T=${BENCH_T:-10}
build=${SW_BUILD:-$SRC/build-bench}

bash "$SRC/scripts/deps.sh"
echo "== building shardwire in $build" >&2
cmake -S "$SRC" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j"$(nproc)" --target shardwire sw_itest >/dev/null
export SW_BIN=$build/shardwire SW_ITEST=$build/tests/integration/sw_itest SW_SRC=$SRC
export SW_TEST_NAME=pinning
# shellcheck source=../tests/integration/lib.sh
source "$SRC/tests/integration/lib.sh"

pg_start a
sw_config_write "$SW_TMP/sw.yaml" mode=transaction size=8 query_wait_timeout=60s admin_users=sw_scram
sw_start "$SW_TMP/sw.yaml"
step "pgbench -i -s 2 through shardwire"
sw_pgbench -i -s 2 -q >/dev/null 2>&1 || fail "pgbench -i"
cat >"$SW_TMP/pin.pgb" <<'PGB'
CREATE TEMP TABLE IF NOT EXISTS pin_t (x int);
SELECT pg_advisory_lock(:client_id + 1000);
INSERT INTO pin_t VALUES (1);
SELECT count(*) FROM pin_t;
SELECT pg_advisory_unlock(:client_id + 1000);
PGB

# sample SHOW SHARDS until the file $1.stop exists: "active waiting" lines
sample() {
    local f=$1
    : >"$f"
    while [[ ! -e $f.stop ]]; do
        sw_psql_admin -c "SHOW SHARDS" 2>/dev/null | awk -F'|' '{print $7, $10}' >>"$f" || true
        sleep 0.5
    done
}
sw_psql_admin() { timeout 10 psql -X -w -q -At -d "$(sw_conninfo sw_scram shardwire)" "$@"; }

tps_of() { grep -oE "tps = [0-9.]+" "$1" | head -1 | cut -d' ' -f3; }
stats() {  # FILE: mean/peak of both columns
    awk '{a += $1; w += $2; if ($1 > ma) ma = $1; if ($2 > mw) mw = $2; n++}
         END {if (n == 0) n = 1; printf "active mean %.1f peak %d, waiting mean %.1f peak %d, %d samples", a / n, ma, w / n, mw, n}' "$1"
}

declare -A TPS
for run in baseline pinning; do
    if [[ $run == baseline ]]; then step "baseline: 18 select-only clients"; else step "pinning: the 18, and 2 clients that pin"; fi
    rm -f "$SW_TMP/occ_$run" "$SW_TMP/occ_$run.stop"
    sample "$SW_TMP/occ_$run" &
    sampler=$!
    if [[ $run == pinning ]]; then
        sw_pgbench -n -c 2 -j 1 -T "$T" -f "$SW_TMP/pin.pgb" >"$SW_TMP/pin_$run.out" 2>&1 &
        pinner=$!
    fi
    sw_pgbench -n -S -c 18 -j 2 -T "$T" >"$SW_TMP/sel_$run.out" 2>&1 || { cat "$SW_TMP/sel_$run.out" >&2; fail "pgbench -S ($run)"; }
    if [[ $run == pinning ]]; then
        wait "$pinner" || { cat "$SW_TMP/pin_$run.out" >&2; fail "pinning clients"; }
        TPS[pin]=$(tps_of "$SW_TMP/pin_$run.out")
    fi
    touch "$SW_TMP/occ_$run.stop"
    wait "$sampler" || true
    TPS[$run]=$(tps_of "$SW_TMP/sel_$run.out")
    echo "TPS $run select-only=${TPS[$run]}${TPS[pin]:+ pinning-clients=${TPS[pin]}}"
    echo "POOL $run $(stats "$SW_TMP/occ_$run")"
done
echo "RATIO select-only pinning/baseline $(awk -v a="${TPS[pinning]}" -v b="${TPS[baseline]}" 'BEGIN {printf "%.2f", a / b}')"
echo "PASS: pinning"
