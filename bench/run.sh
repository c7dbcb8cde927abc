#!/usr/bin/env bash
# bench/run.sh - throughput of shardwire against PgBouncer and direct
# PostgreSQL, in one command.
#
# What it measures: pgbench (scale 10, 16 clients, 2 threads) runs the
# select-only script (-S) and the TPC-B-like default script, each with the
# simple, extended and prepared query protocols, against
#   direct     one PostgreSQL 15 server, no pooler,
#   pgbouncer  PgBouncer in transaction pooling, 8 server connections,
#   shardwire  shardwire in transaction pooling, 8 server connections,
#   sharded    shardwire with pgbench_accounts hash-sharded by aid over two
#              nodes (databases bench and bench_2 on the same server, each a
#              full copy; select-only case only): every statement parsed and
#              routed, 4 server connections per node,
# all on loopback on this machine, with SCRAM authentication everywhere.
# It also samples the poolers' CPU time (/proc/PID/stat) around every run
# and reports CPU seconds per 10k transactions.
#
# How to read it: the RATIO lines are shardwire tps divided by PgBouncer
# and by direct tps.  Run-to-run noise on a small, shared machine is
# +-10-20%, so compare ratios taken from one run (the three sides of a case
# run back to back), not tps across runs.  pgbench, the pooler and
# PostgreSQL share the same cores, so a pooler that burns more CPU also
# slows the server: CPU per 10k transactions is the steadier number.
# PgBouncer 1.18 does not support -M prepared in transaction pooling: that
# cell shows FAIL, which is expected.
#
# Usage: bash bench/run.sh   (as root it installs missing Debian packages,
# and runs PostgreSQL and PgBouncer as the "postgres" user).
# Environment:
#   BENCH_T=15            seconds per pgbench run
#   BENCH_CASES="select tpcb"          scripts to run
#   BENCH_MODES="simple extended prepared"   query protocols
#   BENCH_TARGETS="direct pgbouncer shardwire sharded"   sides to measure
#   BENCH_CLIENTS=16 BENCH_THREADS=2 BENCH_SCALE=10
#   SW_BIN=path           use this shardwire binary instead of building one
#   SW_BUILD=dir          build directory (default <source>/build-bench)
#   BENCH_KEEP=1          keep the scratch directory after a successful run
#   PG_BINDIR=dir         PostgreSQL 15 binaries (default /usr/lib/postgresql/15/bin)
# Exit status: 0 when every direct and shardwire run passed (PgBouncer
# failures are only reported), 1 otherwise; logs are then kept.

set -euo pipefail
# Helpers shared with bench/merge.sh; also the defaults of SW_BIN, SW_BUILD,
# BENCH_KEEP and PG_BINDIR, and the cleared client environment.
# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

BENCH_T=${BENCH_T:-15}
BENCH_CASES=${BENCH_CASES:-select tpcb}
BENCH_MODES=${BENCH_MODES:-simple extended prepared}
BENCH_TARGETS=${BENCH_TARGETS:-direct pgbouncer shardwire sharded}
BENCH_CLIENTS=${BENCH_CLIENTS:-16}
BENCH_THREADS=${BENCH_THREADS:-2}
BENCH_SCALE=${BENCH_SCALE:-10}
POOL_SIZE=8

PACKAGES=(postgresql-15 pgbouncer libuv1-dev libpg-query-dev libprotobuf-c-dev libxxhash-dev
    libyaml-dev libssl-dev libpq-dev cmake gcc pkg-config)

PG_PORT='' PGB_PORT='' SW_PORT='' SW_PID='' SW2_PORT='' SW2_PID=''
PG_STARTED=0
declare -A TPS=() ERR=() CPU=() TXN=()
ANY_FAILED=0
INIT_DONE=0

# ---------------------------------------------------------------- helpers

# cpu_ticks PID: utime + stime of a process, in clock ticks (fields 14 and
# 15 of /proc/PID/stat; the command name may contain spaces, so split after
# its closing parenthesis).
cpu_ticks() {
    local s f
    s=$(cat "/proc/$1/stat" 2>/dev/null) || { echo 0; return; }
    read -r -a f <<<"${s##*) }"
    echo $((f[11] + f[12]))
}
CLK_TCK=$(getconf CLK_TCK)

# ---------------------------------------------------------------- setup

start_postgres() {
    local data=$SCRATCH/pgdata
    say "initdb in $data"
    pg_initdb "$data" "max_connections = 200"
    pg_start "$data" "$SCRATCH/postgresql.log" PG_PORT || die "PostgreSQL did not start"
    PG_STARTED=1
    say "PostgreSQL 15 on 127.0.0.1:$PG_PORT"
    psql_super -d postgres -c "CREATE ROLE bench LOGIN PASSWORD 'bench'" -c "CREATE DATABASE bench OWNER bench" \
        >/dev/null
}

stop_postgres() {
    ((PG_STARTED)) || return 0
    pg_stop "$SCRATCH/pgdata"
    PG_STARTED=0
}

# psql as the superuser over the unix socket (trust).
psql_super() { "$PG_BINDIR/psql" -X -w -q -At -v ON_ERROR_STOP=1 -h "$SCRATCH/sock" -p "$PG_PORT" -U postgres "$@"; }

init_data() {
    say "pgbench -i -s $BENCH_SCALE"
    PGPASSWORD=bench "$PG_BINDIR/pgbench" -h 127.0.0.1 -p "$PG_PORT" -U bench -i -s "$BENCH_SCALE" -q bench \
        >"$SCRATCH/pgbench-init.log" 2>&1 || die "pgbench -i failed, see $SCRATCH/pgbench-init.log"
    # Load the tables into shared_buffers so that the first timed run does
    # not pay for it.  Best effort: pg_prewarm ships with postgresql-15.
    psql_super -d bench -c "CREATE EXTENSION IF NOT EXISTS pg_prewarm" \
        -c "SELECT pg_prewarm(c.oid::regclass) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = 'public' AND c.relkind IN ('r', 'i')" >/dev/null 2>&1 || true
    if [[ " $BENCH_TARGETS " == *" sharded "* ]]; then
        # The second node of the sharded setup: a copy of the data.
        psql_super -d postgres -c "CREATE DATABASE bench_2 TEMPLATE bench OWNER bench" >/dev/null ||
            die "could not copy the bench database"
        psql_super -d bench_2 -c "SELECT pg_prewarm(c.oid::regclass) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = 'public' AND c.relkind IN ('r', 'i')" >/dev/null 2>&1 || true
    fi
    INIT_DONE=1
}

start_pgbouncer() {
    local verifier
    # The auth file holds the SCRAM verifier, as in a production setup:
    # PgBouncer then logs in to PostgreSQL with the keys the client's own
    # SCRAM exchange proved.
    verifier=$(psql_super -d postgres -c "SELECT rolpassword FROM pg_authid WHERE rolname = 'bench'")
    [[ $verifier == SCRAM-SHA-256* ]] || die "bench's password is not stored as SCRAM: $verifier"
    printf '"bench" "%s"\n' "$verifier" >"$SCRATCH/userlist.txt"
    free_port PGB_PORT
    cat >"$SCRATCH/pgbouncer.ini" <<EOF
; written by bench/run.sh
[databases]
bench = host=127.0.0.1 port=$PG_PORT dbname=bench

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $PGB_PORT
unix_socket_dir = $SCRATCH/sock
auth_type = scram-sha-256
auth_file = $SCRATCH/userlist.txt
pool_mode = transaction
default_pool_size = $POOL_SIZE
max_client_conn = 200
pidfile = $SCRATCH/pgbouncer.pid
logfile = $SCRATCH/pgbouncer.log
log_connections = 0
log_disconnections = 0
EOF
    : >"$SCRATCH/pgbouncer.log"
    if is_root; then chown postgres: "$SCRATCH/userlist.txt" "$SCRATCH/pgbouncer.ini" "$SCRATCH/pgbouncer.log"; fi
    # Errors before it daemonizes go to stderr, the rest to its logfile.
    as_pg pgbouncer -d "$SCRATCH/pgbouncer.ini" >"$SCRATCH/pgbouncer-start.log" 2>&1 ||
        die "PgBouncer did not start"
    wait_listen "$PGB_PORT" 15 || die "PgBouncer did not listen on $PGB_PORT"
    say "PgBouncer $(pgbouncer --version | head -n1 | awk '{print $2}') on 127.0.0.1:$PGB_PORT"
}

pgbouncer_pid() { cat "$SCRATCH/pgbouncer.pid" 2>/dev/null || true; }

stop_pgbouncer() {
    local pid
    pid=$(pgbouncer_pid)
    alive "$pid" || return 0
    kill -INT "$pid" 2>/dev/null || true
    for _ in $(seq 50); do alive "$pid" || return 0; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
}

start_shardwire() {
    local conf=$SCRATCH/shardwire.yaml
    [[ -n $SW_PORT ]] || free_port SW_PORT
    cat >"$conf" <<EOF
# written by bench/run.sh
listen: {host: 127.0.0.1, port: $SW_PORT}
pool: {mode: transaction, size: $POOL_SIZE}
log: {level: warning}
nodes:
  - {name: pg, host: 127.0.0.1, port: $PG_PORT, database: bench, user: bench, password: bench}
databases:
  - {name: bench, default_node: pg}
users:
  - {name: bench, auth: scram-sha-256, password: bench}
EOF
    launch_shardwire "$conf" "$SCRATCH/shardwire.log" SW_PID "$SW_PORT" shardwire
    say "shardwire (pid $SW_PID) on 127.0.0.1:$SW_PORT"
}

# A second shardwire with a shard map: pgbench_accounts by aid over two
# nodes, everything else on the first.
start_sharded() {
    local conf=$SCRATCH/sharded.yaml
    [[ -n $SW2_PORT ]] || free_port SW2_PORT
    cat >"$conf" <<EOF
# written by bench/run.sh
listen: {host: 127.0.0.1, port: $SW2_PORT}
pool: {mode: transaction, size: $((POOL_SIZE / 2))}
log: {level: warning}
nodes:
  - {name: pg1, host: 127.0.0.1, port: $PG_PORT, database: bench, user: bench, password: bench}
  - {name: pg2, host: 127.0.0.1, port: $PG_PORT, database: bench_2, user: bench, password: bench}
functions:
  - {name: aid_hash, kind: hash, nodes: [pg1, pg2]}
databases:
  - name: bench
    default_node: pg1
    tables:
      - {name: pgbench_accounts, key: aid, function: aid_hash}
users:
  - {name: bench, auth: scram-sha-256, password: bench}
EOF
    launch_shardwire "$conf" "$SCRATCH/sharded.log" SW2_PID "$SW2_PORT" "sharded shardwire"
    say "shardwire with a shard map (pid $SW2_PID) on 127.0.0.1:$SW2_PORT"
}

# ---------------------------------------------------------------- runs

port_of() {
    case $1 in
    direct) echo "$PG_PORT" ;;
    pgbouncer) echo "$PGB_PORT" ;;
    shardwire) echo "$SW_PORT" ;;
    sharded) echo "$SW2_PORT" ;;
    esac
}

pooler_pid() {
    case $1 in
    pgbouncer) pgbouncer_pid ;;
    shardwire) echo "$SW_PID" ;;
    sharded) echo "$SW2_PID" ;;
    esac
}

# run_one TARGET CASE MODE: one timed pgbench run; fills TPS/ERR/CPU/TXN.
run_one() {
    local target=$1 case=$2 mode=$3 key="$1 $2 $3" out rc=0 pid t0=0 t1 n tps
    local log="$SCRATCH/pgbench-$target-$case-$mode.log"
    local -a script=()
    [[ $case == select ]] && script=(-S)
    [[ $target == sharded && $case != select ]] && return 0
    pid=$(pooler_pid "$target")
    [[ -n $pid ]] && t0=$(cpu_ticks "$pid")
    # --foreground: Ctrl-C must reach pgbench.  No vacuum: -i did it, and
    # pgbench's own would go through the poolers too.
    out=$(PGPASSWORD=bench timeout --foreground -k 10 $((BENCH_T + 60)) "$PG_BINDIR/pgbench" \
        -h 127.0.0.1 -p "$(port_of "$target")" -U bench --no-vacuum "${script[@]}" -M "$mode" \
        -c "$BENCH_CLIENTS" -j "$BENCH_THREADS" -T "$BENCH_T" bench 2>&1) || rc=$?
    printf '%s\n' "$out" >"$log"
    tps=$(sed -n 's/^tps = \([0-9.]*\) (without initial connection time).*/\1/p' <<<"$out")
    n=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' <<<"$out")
    if ((rc != 0)) || [[ -z $tps ]]; then
        TPS[$key]=FAIL
        ERR[$key]=$(grep -m1 -iE 'error|fatal|abort|could not|timeout' <<<"$out" || tail -n1 <<<"$out")
        [[ -n ${ERR[$key]} ]] || ERR[$key]="pgbench exited with status $rc"
        ((rc == 124)) && ERR[$key]="timed out after $((BENCH_T + 60)) s; ${ERR[$key]}"
        [[ $target == pgbouncer ]] || ANY_FAILED=1
    else
        TPS[$key]=$tps
    fi
    # A crashed proxy would fail every later run: note it and start it again.
    if [[ $target == sharded ]] && ! alive "$SW2_PID"; then
        ERR[$key]="sharded shardwire died (see sharded.log); ${ERR[$key]:-}"
        TPS[$key]=FAIL
        ANY_FAILED=1
    fi
    if [[ $target == shardwire ]] && ! alive "$SW_PID"; then
        local st=0
        wait "$SW_PID" 2>/dev/null || st=$?
        ((st > 128)) && st="signal $((st - 128)) ($(kill -l $((st - 128))))"
        ERR[$key]="shardwire died, exit status $st (see shardwire.log); ${ERR[$key]:-}"
        TPS[$key]=FAIL
        ANY_FAILED=1
    fi
    if [[ -n $pid ]]; then
        t1=$(cpu_ticks "$pid")
        CPU[$key]=$(awk -v d=$((t1 - t0)) -v hz="$CLK_TCK" 'BEGIN { printf "%.2f", d / hz }')
        # A failed run's count says nothing about the cost of a transaction.
        if [[ ${TPS[$key]} == FAIL ]]; then TXN[$key]=0; else TXN[$key]=${n:-0}; fi
    fi
    if [[ ${TPS[$key]} == FAIL ]]; then
        printf '   %-9s %-6s %-8s FAIL  %s\n' "$target" "$case" "$mode" "${ERR[$key]:0:120}" >&2
    else
        printf '   %-9s %-6s %-8s %8.0f tps\n' "$target" "$case" "$mode" "${TPS[$key]}" >&2
    fi
    if [[ $target == shardwire ]] && ! alive "$SW_PID"; then
        say "restarting shardwire"
        start_shardwire
    fi
    if [[ $target == sharded ]] && ! alive "$SW2_PID"; then
        say "restarting sharded shardwire"
        start_sharded
    fi
}

run_all() {
    local case mode target
    for case in $BENCH_CASES; do
        for mode in $BENCH_MODES; do
            # The three sides of a case run back to back, so slow drift of the
            # machine affects them alike.
            for target in $BENCH_TARGETS; do run_one "$target" "$case" "$mode"; done
        done
    done
}

# ---------------------------------------------------------------- report

fmt_tps() {  # whole transactions per second, or the word as it is (FAIL, -)
    if [[ $1 =~ ^[0-9.]+$ ]]; then printf '%.0f' "$1"; else printf '%s' "$1"; fi
}

# cpu_cell CPU_SECONDS TRANSACTIONS: "s/10k (share of one core)", with the
# run length as the denominator of the share.
cpu_cell() {
    awk -v c="$1" -v n="$2" -v t="$BENCH_T" 'BEGIN {
        if (c == "" || n + 0 == 0) print "n/a"; else printf "%.3f (%.0f%%)", c * 10000 / n, c * 100 / t }'
}

report() {
    local case mode k d b s h hk fails=""
    echo
    echo "pgbench scale $BENCH_SCALE, $BENCH_CLIENTS clients, $BENCH_THREADS threads, ${BENCH_T}s per run, pool size $POOL_SIZE"
    printf '%-18s %12s %12s %12s %12s %10s %10s %10s\n' case direct pgbouncer shardwire sharded sw/pgb sw/direct shd/pgb
    for case in $BENCH_CASES; do
        for mode in $BENCH_MODES; do
            d=${TPS[direct $case $mode]:--} b=${TPS[pgbouncer $case $mode]:--} s=${TPS[shardwire $case $mode]:--}
            h=${TPS[sharded $case $mode]:--}
            printf '%-18s %12s %12s %12s %12s %10s %10s %10s\n' "$case/$mode" "$(fmt_tps "$d")" "$(fmt_tps "$b")" \
                "$(fmt_tps "$s")" "$(fmt_tps "$h")" \
                "$(ratio "$s" "$b")" "$(ratio "$s" "$d")" "$(ratio "$h" "$b")"
            for k in "direct $case $mode" "pgbouncer $case $mode" "shardwire $case $mode" "sharded $case $mode"; do
                [[ -n ${ERR[$k]:-} ]] && fails+="  FAIL ${k// //}: ${ERR[$k]}"$'\n'
            done
        done
    done
    [[ -n $fails ]] && printf '\n%s' "$fails"

    echo
    echo "pooler CPU: seconds per 10k transactions (share of one core during the run)"
    printf '%-18s %18s %18s %18s\n' case pgbouncer shardwire sharded
    for case in $BENCH_CASES; do
        for mode in $BENCH_MODES; do
            b="pgbouncer $case $mode" s="shardwire $case $mode" hk="sharded $case $mode"
            printf '%-18s %18s %18s %18s\n' "$case/$mode" "$(cpu_cell "${CPU[$b]:-}" "${TXN[$b]:-0}")" \
                "$(cpu_cell "${CPU[$s]:-}" "${TXN[$s]:-0}")" "$(cpu_cell "${CPU[$hk]:-}" "${TXN[$hk]:-0}")"
        done
    done

    echo
    for case in $BENCH_CASES; do
        for mode in $BENCH_MODES; do
            s=${TPS[shardwire $case $mode]:-}
            echo "RATIO $case $mode vs_pgbouncer=$(ratio "$s" "${TPS[pgbouncer $case $mode]:-}")" \
                "vs_direct=$(ratio "$s" "${TPS[direct $case $mode]:-}")"
            if [[ -n ${TPS[sharded $case $mode]:-} ]]; then
                echo "RATIO sharded $case $mode vs_pgbouncer=$(ratio "${TPS[sharded $case $mode]}" "${TPS[pgbouncer $case $mode]:-}")" \
                    "vs_direct=$(ratio "${TPS[sharded $case $mode]}" "${TPS[direct $case $mode]:-}")"
            fi
        done
    done
}

# ---------------------------------------------------------------- teardown

# stop_all (called by cleanup): everything this script started.
stop_all() {
    stop_shardwire SW_PID
    stop_shardwire SW2_PID
    [[ -n $SCRATCH ]] && stop_pgbouncer
    stop_postgres
}

# on_failure RC (called by cleanup): the tails of the logs that explain it.
on_failure() {
    local f
    for f in build.log initdb.log postgresql.log pgbench-init.log pgbouncer-start.log pgbouncer.log shardwire.log sharded.log; do
        [[ -s $SCRATCH/$f ]] || continue
        # Steps that went through have nothing to say.
        [[ $f == build.log && -x $SW_BIN ]] && continue
        [[ $f == initdb.log && -e $SCRATCH/pgdata/postmaster.opts ]] && continue
        [[ $f == pgbench-init.log && $INIT_DONE == 1 ]] && continue
        echo "---- $f (last 30 lines)"
        tail -n 30 "$SCRATCH/$f"
    done
}

# ---------------------------------------------------------------- main

main() {
    local w
    for w in $BENCH_CASES; do [[ $w == select || $w == tpcb ]] || die "BENCH_CASES: unknown case '$w'"; done
    for w in $BENCH_MODES; do [[ $w =~ ^(simple|extended|prepared)$ ]] || die "BENCH_MODES: unknown mode '$w'"; done
    for w in $BENCH_TARGETS; do [[ $w =~ ^(direct|pgbouncer|shardwire|sharded)$ ]] || die "BENCH_TARGETS: unknown target '$w'"; done

    bench_begin shardwire-bench
    build_binaries
    start_postgres
    init_data
    [[ " $BENCH_TARGETS " == *" pgbouncer "* ]] && start_pgbouncer
    [[ " $BENCH_TARGETS " == *" shardwire "* ]] && start_shardwire
    [[ " $BENCH_TARGETS " == *" sharded "* ]] && start_sharded
    say "timed runs: ${BENCH_T}s each"
    run_all
    report
    ((ANY_FAILED == 0)) || die "some direct or shardwire runs failed"
}

main "$@"
