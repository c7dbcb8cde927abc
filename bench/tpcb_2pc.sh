#!/usr/bin/env bash
# bench/tpcb_2pc.sh - TPC-B across nodes: what two-phase commit costs, and
# that it keeps pgbench's invariant while nodes and the proxy are killed.
#
# pgbench's tables are sharded on different keys over three nodes
# (pgbench_accounts by aid, pgbench_tellers by tid, pgbench_branches by
# bid; pgbench_history whole on node a), so every TPC-B transaction writes
# on two or more nodes.
#
#  1. Throughput (pgbench -b tpcb-like, fixed time): two_phase on, two_phase
#     off, and the same script on a one-node database through shardwire
#     and straight to PostgreSQL (a transaction on one node never
#     prepares).  Prints TPS lines and RATIO lines.
#  2. Faults: pgbench runs in short rounds for BENCH_FAULT_T seconds while
#     a killer stops, at random every 1-3 s, the proxy (kill -9) or one of
#     the nodes (immediate shutdown), and restarts it.  Then, once recovery
#     has settled every prepared transaction:
#        sum(abalance) = sum(tbalance) = sum(bbalance) = sum(delta)
#     and no prepared transaction is left.  Prints rounds, kills,
#     transactions committed and the invariant (exit 1 when broken).
#
# Usage: bash bench/tpcb_2pc.sh
# Environment: BENCH_T=10 (seconds per throughput run), BENCH_FAULT_T=120,
#   BENCH_CLIENTS=4, SW_BUILD=dir (default <source>/build-bench).
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
T=${BENCH_T:-10}
FAULT_T=${BENCH_FAULT_T:-120}
CLIENTS=${BENCH_CLIENTS:-4}
build=${SW_BUILD:-$SRC/build-bench}

bash "$SRC/scripts/deps.sh"
echo "== building shardwire in $build" >&2
cmake -S "$SRC" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j"$(nproc)" --target shardwire sw_itest >/dev/null
export SW_BIN=$build/shardwire SW_ITEST=$build/tests/integration/sw_itest SW_SRC=$SRC
export SW_TEST_NAME=tpcb_2pc
# shellcheck source=../tests/integration/lib.sh
source "$SRC/tests/integration/lib.sh"

SCHEMA="CREATE TABLE pgbench_branches (bid int PRIMARY KEY, bbalance int, filler char(88));
CREATE TABLE pgbench_tellers (tid int PRIMARY KEY, bid int, tbalance int, filler char(84));
CREATE TABLE pgbench_accounts (aid int PRIMARY KEY, bid int, abalance int, filler char(84));
CREATE TABLE pgbench_history (tid int, bid int, aid int, delta int, mtime timestamp, filler char(22));
GRANT ALL ON pgbench_branches, pgbench_tellers, pgbench_accounts, pgbench_history TO PUBLIC;"
SCALE=1
pg_start a
pg_start b
pg_start c
pg_start one
for n in a b c one; do pg_psql $n -c "$SCHEMA"; done
cat >"$SW_TMP/functions.yaml" <<'YAML'
- name: by_key
  kind: hash
  nodes: [node_a, node_b, node_c]
YAML
cat >"$SW_TMP/tables.yaml" <<'YAML'
- {name: pgbench_accounts, key: aid, function: by_key}
- {name: pgbench_tellers, key: tid, function: by_key}
- {name: pgbench_branches, key: bid, function: by_key}
- {name: pgbench_history, node: node_a}
YAML
write_config() {  # TWO_PHASE
    sw_config_write "$SW_TMP/sw.yaml" mode=transaction size=8 nodes=a,b,c,one db=shop:a db=single:one \
        functions="$SW_TMP/functions.yaml" tables="$SW_TMP/tables.yaml" query_wait_timeout=20s
    printf 'transactions:\n  recovery_interval: 1s\n  recovery_min_age: 5s\n' >>"$SW_TMP/sw.yaml"
    if [[ $1 == off ]]; then sed -i 's/^\(  - name: shop\)$/\1\n    two_phase: false/' "$SW_TMP/sw.yaml"; fi
}
write_config on
sw_start "$SW_TMP/sw.yaml"

step "loading scale $SCALE through shardwire (split COPY) and onto the one-node database"
gen() {
    pg_psql one -c "COPY (SELECT b, 0, '' FROM generate_series(1, $SCALE) b) TO STDOUT" >"$SW_TMP/branches"
    pg_psql one -c "COPY (SELECT t, (t - 1) / 10 + 1, 0, '' FROM generate_series(1, $((SCALE * 10))) t) TO STDOUT" >"$SW_TMP/tellers"
    pg_psql one -c "COPY (SELECT a, (a - 1) / 100000 + 1, 0, '' FROM generate_series(1, $((SCALE * 100000))) a) TO STDOUT" >"$SW_TMP/accounts"
}
gen
for t in branches tellers accounts; do
    sw_psql -c "\\copy pgbench_$t FROM '$SW_TMP/$t'"
    pg_psql one -c "\\copy pgbench_$t FROM '$SW_TMP/$t'"
done
ok "loaded"

tps() {  # DB [extra pgbench args]: prints tps
    local db=$1
    shift
    SW_DB=$db sw_pgbench -n -b tpcb-like -c "$CLIENTS" -j 2 -T "$T" "$@" 2>&1 |
        sed -n 's/^tps = \([0-9.]*\).*/\1/p' | head -1
}
direct_tps() {
    PGPASSWORD=admin_pw timeout 120 pgbench -h 127.0.0.1 -p "$PG_PORT_one" -U sw_admin -n -b tpcb-like \
        -c "$CLIENTS" -j 2 -T "$T" shop 2>&1 | sed -n 's/^tps = \([0-9.]*\).*/\1/p' | head -1
}

step "throughput, $T s each, $CLIENTS clients"
on=$(tps shop)
write_config off
sw_signal HUP
sleep 1
off=$(tps shop)
write_config on
sw_signal HUP
sleep 1
single=$(tps single)
direct=$(direct_tps)
echo "TPS tpcb multi-node two_phase=on $on"
echo "TPS tpcb multi-node two_phase=off $off"
echo "TPS tpcb single-node shardwire $single"
echo "TPS tpcb single-node direct $direct"
awk -v a="$on" -v b="$off" -v s="$single" -v d="$direct" 'BEGIN {
    printf "RATIO multi-node two_phase on/off %.2f\n", a / b
    printf "RATIO single-node shardwire/direct %.2f\n", s / d }'

step "faults for $FAULT_T s: pgbench rounds while the proxy and nodes are killed"
stop_at=$((SECONDS + FAULT_T))
: >"$SW_TMP/rounds.log"
(
    while ((SECONDS < stop_at)); do
        SW_DB=shop sw_pgbench -n -b tpcb-like -c "$CLIENTS" -j 2 -T 3 >>"$SW_TMP/rounds.log" 2>&1 || true
        echo "ROUND" >>"$SW_TMP/rounds.log"
    done
) &
load=$!
kills=0
while ((SECONDS < stop_at - 2)); do
    sleep "$((RANDOM % 3 + 1))"
    case $((RANDOM % 4)) in
    0)
        kill -KILL "$SW_PID" 2>/dev/null || true
        sw_wait_exit 5 || true
        sleep 0.5
        sw_start "$SW_TMP/sw.yaml" >/dev/null
        ;;
    1) pg_kill a; sleep 0.5; pg_restart a ;;
    2) pg_kill b; sleep 0.5; pg_restart b ;;
    3) pg_kill c; sleep 0.5; pg_restart c ;;
    esac
    kills=$((kills + 1))
done
wait $load || true
rounds=$(grep -c '^ROUND' "$SW_TMP/rounds.log" || true)
committed=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$SW_TMP/rounds.log" |
    awk '{s += $1} END {print s + 0}')

step "waiting for recovery to settle every prepared transaction"
deadline=$((SECONDS + 60))
while :; do
    left=0
    for n in a b c; do left=$((left + $(pg_psql $n -c "SELECT count(*) FROM pg_prepared_xacts"))); done
    ((left == 0)) && break
    ((SECONDS < deadline)) || break
    sleep 0.5
done
sum() {  # TABLE COLUMN
    local s=0 n
    for n in a b c; do s=$((s + $(pg_psql $n -c "SELECT coalesce(sum($2), 0) FROM $1"))); done
    echo $s
}
sa=$(sum pgbench_accounts abalance)
st=$(sum pgbench_tellers tbalance)
sb=$(sum pgbench_branches bbalance)
sd=$(sum pgbench_history delta)
echo "FAULTS rounds=$rounds kills=$kills committed=$committed prepared_left=$left"
echo "INVARIANT sum(abalance)=$sa sum(tbalance)=$st sum(bbalance)=$sb sum(delta)=$sd"
if [[ $sa == "$st" && $st == "$sb" && $sb == "$sd" && $left == 0 ]]; then
    echo "INVARIANT holds"
else
    echo "INVARIANT BROKEN" >&2
    exit 1
fi
