#!/usr/bin/env bash
# bench/merge.sh - what cross-shard statements cost through shardwire,
# against one PostgreSQL server holding all the rows, in one command.
#
# Setup: four PostgreSQL 15 servers on loopback with identical settings
# (C locale, shared_buffers 256MB; fsync, synchronous_commit and
# full_page_writes off: the benchmark measures shardwire, not the disk):
# three shards behind one shardwire, and an "oracle" that gets every row.
# Each holds
#   orders(order_id bigint, customer_id bigint, order_date date,
#          quantity int, price numeric(10,2), status text)
# with no index; shardwire hash-shards it by customer_id over the three
# shards (1024 buckets, pool size 4 per node).  The data is one
# deterministic CSV of BENCH_ROWS rows (customers ~ rows/10, dates over
# 2021-2023, prices 1.00..500.00, six statuses), written once by the oracle.
#
# Steps, each timed through shardwire and on the oracle:
#   copy     psql \copy of the CSV into the oracle, and through shardwire,
#            which splits the rows by customer_id: rows/s of both and the
#            ratio (target >= 0.8); then every shard's count, read directly,
#            must sum to N and the oracle must hold N.  ANALYZE everywhere.
#   topn     SELECT order_id, price FROM orders
#            ORDER BY price DESC, order_id LIMIT 100            (k-way merge)
#   groupby  SELECT status, date_trunc('month', order_date) m, count(*),
#            sum(price), avg(quantity) FROM orders GROUP BY 1, 2 ORDER BY 1, 2
#   stream   SELECT order_id, customer_id, price FROM orders ORDER BY order_id
#            (all N rows) while shardwire's VmRSS is sampled every 50 ms:
#            baseline and peak RSS (target: peak <= 64 MiB) and rows/s.
# topn and groupby run once untimed with psql on both sides (their outputs
# must be identical: diff), then BENCH_REPEAT times with stream_client on
# one connection; the medians and their ratio (shardwire/oracle) are
# reported.  stream runs once on each side with an order-sensitive hash
# of every value (stream_client -c): same rows in the same order, or FAIL.
#
# How to read it: the summary table and one RESULT line per step at the
# end.  A ratio is shardwire divided by the oracle: for rows/s higher is
# better (1.0 = as fast as one server), for milliseconds lower is better.
# All five processes share this machine's cores, so the oracle, a single
# server with no network hop in between, is a hard baseline: three shards
# do not buy three times the CPU here.  Targets (copy >= 0.8, peak RSS
# <= 64 MiB) are reported as yes/no and do not change the exit status.
#
# Usage: bash bench/merge.sh   (as root it installs missing Debian packages
# and runs PostgreSQL as the "postgres" user).
# Environment:
#   BENCH_ROWS=3000000    rows in orders
#   BENCH_REPEAT=5        timed runs per query (median reported)
#   SW_BIN=path           use this shardwire binary instead of building one
#   SW_BUILD=dir          build directory (default <source>/build-bench);
#                         stream_client is always built there
#   BENCH_KEEP=1          keep the whole scratch directory (CSV, data
#                         directories) also after a successful run; a failed
#                         run always keeps its logs and query outputs
#   PG_BINDIR=dir         PostgreSQL 15 binaries (default /usr/lib/postgresql/15/bin)
# Exit status: 0 when every step ran and every result matched, 1 otherwise;
# the logs and query outputs in the scratch directory are then kept.

set -euo pipefail
# Helpers shared with bench/run.sh; also the defaults of SW_BIN, SW_BUILD,
# BENCH_KEEP and PG_BINDIR, and the cleared client environment.
# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

BENCH_ROWS=${BENCH_ROWS:-3000000}
BENCH_REPEAT=${BENCH_REPEAT:-5}
POOL_SIZE=4
RSS_TARGET_MIB=64
COPY_TARGET=0.8
SERVERS=(shard1 shard2 shard3 oracle)
SHARDS=(shard1 shard2 shard3)

PACKAGES=(postgresql-15 libuv1-dev libpg-query-dev libprotobuf-c-dev libxxhash-dev libgmp-dev
    libyaml-dev libssl-dev libpq-dev cmake gcc pkg-config)

# Beyond what lib.sh clears: the oracle's and shardwire's answers are compared
# as text, so no ambient time zone, date style or client encoding either.
unset PGTZ PGDATESTYLE PGCLIENTENCODING

STREAM_CLIENT=
SW_PORT='' SW_PID='' SAMPLER_PID=''
declare -A PORT=() STARTED=() STATUS=() NOTE=() VAL=()
ANY_FAILED=0
CSV=

# ---------------------------------------------------------------- helpers

now() { echo "$EPOCHREALTIME"; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.6f", b - a }'; }  # T0 T1 -> seconds

# Every client call is bounded: a hung proxy must fail a step, not the run
# (--foreground: Ctrl-C must still reach the client).
# Generous for BENCH_ROWS; a healthy default run needs a fraction of it.
T_LOAD=$((120 + BENCH_ROWS / 5000))
T_QUERY=$((60 + BENCH_ROWS / 20000))

# psql_super NAME ...: superuser over the unix socket (trust) to one server.
psql_super() {
    local name=$1
    shift
    timeout --foreground -k 10 "$T_LOAD" "$PG_BINDIR/psql" -X -w -q -At -v ON_ERROR_STOP=1 -h "$SCRATCH/sock" \
        -p "${PORT[$name]}" -U postgres -d bench "$@"
}
# psql_tcp PORT ...: user bench over TCP with SCRAM, as applications connect.
psql_tcp() {
    local port=$1
    shift
    PGPASSWORD=bench "$PG_BINDIR/psql" -X -w -q -At -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U bench \
        -d bench "$@"
}
conninfo() { echo "host=127.0.0.1 port=$1 user=bench password=bench dbname=bench"; }

# mark STEP ok|FAIL [NOTE]: a step's outcome; FAIL also prints at once.
mark() {
    STATUS[$1]=$2
    [[ -n ${3:-} ]] && NOTE[$1]=$3
    if [[ $2 == FAIL ]]; then
        ANY_FAILED=1
        printf '   %-8s FAIL  %s\n' "$1" "${3:-}" >&2
    fi
    return 0
}

# ---------------------------------------------------------------- setup

# One initdb, copied four times: the servers are identical but for the port.
init_template() {
    local tpl=$SCRATCH/pg-template
    say "initdb (one template for the four servers)"
    # On top of lib.sh's settings: WAL room for a COPY of millions of rows,
    # and UTC, so that every server prints dates alike.
    pg_initdb "$tpl" "max_connections = 100" "max_wal_size = 4GB" "timezone = 'UTC'"
}

start_server() {  # NAME
    local name=$1 data=$SCRATCH/pg-$1
    as_pg cp -a "$SCRATCH/pg-template" "$data"
    pg_start "$data" "$SCRATCH/$name.log" "PORT[$name]" ||
        die "PostgreSQL ($name) did not start, see $SCRATCH/$name.log"
    STARTED[$name]=1
    "$PG_BINDIR/psql" -X -w -q -v ON_ERROR_STOP=1 -h "$SCRATCH/sock" -p "${PORT[$name]}" -U postgres -d postgres \
        -c "CREATE ROLE bench LOGIN PASSWORD 'bench'" -c "CREATE DATABASE bench OWNER bench" >/dev/null ||
        die "could not create role and database on $name"
    psql_tcp "${PORT[$name]}" -c "CREATE TABLE orders (order_id bigint, customer_id bigint, order_date date,
        quantity int, price numeric(10,2), status text)" >/dev/null || die "could not create orders on $name"
    say "PostgreSQL 15 $name on 127.0.0.1:${PORT[$name]}"
}

stop_servers() {
    local name
    for name in "${SERVERS[@]}"; do
        [[ ${STARTED[$name]:-0} == 1 ]] || continue
        pg_stop "$SCRATCH/pg-$name"
        STARTED[$name]=0
    done
}

start_shardwire() {
    local conf=$SCRATCH/shardwire.yaml
    [[ -n $SW_PORT ]] || free_port SW_PORT
    cat >"$conf" <<EOF
# written by bench/merge.sh
listen: {host: 127.0.0.1, port: $SW_PORT}
pool: {mode: transaction, size: $POOL_SIZE}
log: {level: info}   # connections and closes only: why a client was dropped
nodes:
  - {name: shard1, host: 127.0.0.1, port: ${PORT[shard1]}, database: bench, user: bench, password: bench}
  - {name: shard2, host: 127.0.0.1, port: ${PORT[shard2]}, database: bench, user: bench, password: bench}
  - {name: shard3, host: 127.0.0.1, port: ${PORT[shard3]}, database: bench, user: bench, password: bench}
functions:
  - {name: customer_hash, kind: hash, type: integer, buckets: 1024, nodes: [shard1, shard2, shard3]}
databases:
  - name: bench
    default_node: shard1
    tables:
      - {name: orders, key: customer_id, function: customer_hash}
users:
  - {name: bench, auth: scram-sha-256, password: bench}
EOF
    launch_shardwire "$conf" "$SCRATCH/shardwire.log" SW_PID "$SW_PORT" shardwire
    say "shardwire (pid $SW_PID) on 127.0.0.1:$SW_PORT"
}

# check_shardwire STEP: a crashed proxy fails the step and is started again,
# so that the later steps still measure something.
check_shardwire() {
    alive "$SW_PID" && return 0
    local st=0
    wait "$SW_PID" 2>/dev/null || st=$?
    ((st > 128)) && st="signal $((st - 128)) ($(kill -l $((st - 128))))"
    mark "$1" FAIL "shardwire died, exit status $st (see shardwire.log); ${NOTE[$1]:-}"
    SW_PID=
    say "restarting shardwire"
    start_shardwire
}

# The CSV, written by the oracle.  Every column is a function of the row
# number, so every run (and every machine) loads the same bytes.
generate_data() {
    local customers=$((BENCH_ROWS / 10))
    ((customers > 0)) || customers=1
    CSV=$SCRATCH/orders.csv
    say "generating $BENCH_ROWS rows ($customers customers) into $CSV"
    psql_super oracle -c "COPY (
        SELECT g,
               1 + (g * 2654435761) % $customers,
               DATE '2021-01-01' + ((g * 7919) % 1095)::int,
               1 + (g * 13 + g / 7) % 10,
               ((100 + (g * 104729) % 49901) / 100.0)::numeric(10,2),
               (ARRAY['pending', 'paid', 'shipped', 'delivered', 'cancelled', 'returned'])[1 + (g * 7 + g / 11) % 6]
        FROM generate_series(1::bigint, $BENCH_ROWS) g) TO '$CSV' (FORMAT csv)" ||
        die "could not write $CSV"
}

# ---------------------------------------------------------------- steps

# copy_into LABEL PORT COLUMNS: \copy the CSV, fills VAL[copy_LABEL_s]; status 1 on failure.
copy_into() {
    local label=$1 port=$2 cols=$3 out rc=0 t0 t1
    t0=$(now)
    out=$(PGPASSWORD=bench timeout --foreground -k 10 "$T_LOAD" "$PG_BINDIR/psql" -X -w -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U bench \
        -d bench -c "\\copy orders $cols FROM '$CSV' (FORMAT csv)" 2>&1 </dev/null) || rc=$?
    t1=$(now)
    printf '%s\n' "$out" >"$SCRATCH/copy-$label.log"
    if ((rc != 0)) || [[ $out != "COPY $BENCH_ROWS" ]]; then
        ((rc == 124)) && out="timed out after $T_LOAD s; $out"
        NOTE[copy]="$label: $(head -c 200 <<<"$out" | tr '\n' ' ')"
        return 1
    fi
    VAL[copy_${label}_s]=$(elapsed "$t0" "$t1")
}

count_on() { psql_super "$1" -c "SELECT count(*) FROM orders" 2>/dev/null || echo "?"; }

# Shardwire's COPY did not go through: the shards are loaded directly, split
# by customer_id % 3, so that the merge steps still have the same rows to
# merge (a keyless SELECT does not care on which shard a row lives).
fallback_load() {
    local i
    say "loading the shards directly (customer_id % 3) so that the merge steps can run"
    for i in 0 1 2; do
        psql_super "${SHARDS[$i]}" -c "TRUNCATE orders" \
            -c "\\copy orders FROM '$CSV' WITH (FORMAT csv) WHERE customer_id % 3 = $i" >/dev/null ||
            die "could not load ${SHARDS[$i]} directly"
    done
    NOTE[copy]="${NOTE[copy]:-} (shards then loaded directly)"
}

step_copy() {
    local n ok=1 sum=0 counts="" name
    say "step copy: \\copy $BENCH_ROWS rows into the oracle, then through shardwire"
    if ! copy_into oracle "${PORT[oracle]}" ""; then
        mark copy FAIL "${NOTE[copy]}"
        die "the oracle could not load the data"
    fi
    if ! copy_into shardwire "$SW_PORT" "(order_id, customer_id, order_date, quantity, price, status)"; then
        ok=0
    fi
    check_shardwire copy
    VAL[copy_oracle_rps]=$(awk -v n="$BENCH_ROWS" -v s="${VAL[copy_oracle_s]}" 'BEGIN { printf "%.0f", n / s }')
    if ((ok)); then
        VAL[copy_shardwire_rps]=$(awk -v n="$BENCH_ROWS" -v s="${VAL[copy_shardwire_s]}" 'BEGIN { printf "%.0f", n / s }')
    fi
    for name in "${SHARDS[@]}"; do
        n=$(count_on "$name")
        counts+="$name=$n "
        [[ $n =~ ^[0-9]+$ ]] && sum=$((sum + n))
        # An empty shard means the hash does not spread (or the COPY lost
        # rows); with a handful of rows it can happen by chance.
        [[ $n =~ ^[0-9]+$ ]] && ((n > 0 || BENCH_ROWS < 1000)) || ok=0
    done
    n=$(count_on oracle)
    VAL[copy_counts]="${counts}sum=$sum oracle=$n"
    ((sum == BENCH_ROWS)) || ok=0
    [[ $n == "$BENCH_ROWS" ]] || ok=0
    if ((ok)); then
        mark copy ok "$counts"
    else
        mark copy FAIL "${NOTE[copy]:-row counts wrong: ${VAL[copy_counts]}}"
        fallback_load
    fi
    say "ANALYZE and prewarm on every server"
    for name in "${SERVERS[@]}"; do
        psql_super "$name" -c "ANALYZE orders" >/dev/null || mark copy FAIL "ANALYZE failed on $name"
        # Best effort: the first timed runs should not pay for reading the table.
        psql_super "$name" -c "CREATE EXTENSION IF NOT EXISTS pg_prewarm" \
            -c "SELECT pg_prewarm('orders')" >/dev/null 2>&1 || true
    done
}

# median_s FILE: the median of the seconds= fields of stream_client's lines.
median_s() {
    sed -n 's/.*seconds=\([0-9.]*\).*/\1/p' "$1" | sort -g |
        awk '{ v[NR] = $1 } END { if (NR == 0) exit 1; if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# timed STEP SIDE PORT SQL: BENCH_REPEAT runs on one connection; fills
# VAL[STEP_SIDE_ms] with the median; status 1 on failure.
timed() {
    local step=$1 side=$2 port=$3 sql=$4 rc=0 log=$SCRATCH/$1-$2.log m
    timeout --foreground -k 10 "$T_QUERY" "$STREAM_CLIENT" -r "$BENCH_REPEAT" "$(conninfo "$port")" "$sql" >"$log" 2>&1 || rc=$?
    if ((rc != 0)) || (($(grep -c '^rows=' "$log") != BENCH_REPEAT)); then
        ((rc == 124)) && echo "timed out after $T_QUERY s" >>"$log"
        NOTE[$step]="$side: $(grep -v '^rows=' "$log" | head -c 200 | tr '\n' ' ')"
        return 1
    fi
    m=$(median_s "$log")
    VAL[${step}_${side}_ms]=$(awk -v s="$m" 'BEGIN { printf "%.1f", s * 1000 }')
}

# step_query STEP SQL: one untimed psql run per side (also the warm-up), the
# outputs compared, then the timed runs (shardwire's only if it answered).
step_query() {
    local step=$1 sql=$2 rc=0 ok=1
    say "step $step: $sql"
    if ! psql_super oracle -c "$sql" >"$SCRATCH/$step-oracle.out" 2>&1; then
        mark "$step" FAIL "oracle: $(head -c 200 "$SCRATCH/$step-oracle.out")"
        return 0
    fi
    VAL[${step}_rows]=$(wc -l <"$SCRATCH/$step-oracle.out")
    PGPASSWORD=bench timeout --foreground -k 10 "$T_QUERY" "$PG_BINDIR/psql" -X -w -q -At -v ON_ERROR_STOP=1 -h 127.0.0.1 \
        -p "$SW_PORT" -U bench -d bench -c "$sql" >"$SCRATCH/$step-shardwire.out" 2>&1 </dev/null || rc=$?
    check_shardwire "$step"
    if ((rc != 0)); then
        ok=0
        ((rc == 124)) && echo "timed out after $T_QUERY s" >>"$SCRATCH/$step-shardwire.out"
        NOTE[$step]="shardwire: $(head -c 200 "$SCRATCH/$step-shardwire.out" | tr '\n' ' ')"
    elif ! diff "$SCRATCH/$step-oracle.out" "$SCRATCH/$step-shardwire.out" >"$SCRATCH/$step.diff"; then
        ok=0
        NOTE[$step]="results differ from the oracle ($(grep -c '^[<>]' "$SCRATCH/$step.diff") lines, see $step.diff)"
    fi
    timed "$step" oracle "${PORT[oracle]}" "$sql" || { mark "$step" FAIL "${NOTE[$step]}"; return 0; }
    if ((rc == 0)); then
        timed "$step" shardwire "$SW_PORT" "$sql" || ok=0
        check_shardwire "$step"
    fi
    [[ ${STATUS[$step]:-} == FAIL ]] && return 0
    if ((ok)); then mark "$step" ok "identical (${VAL[${step}_rows]} rows)"; else mark "$step" FAIL "${NOTE[$step]}"; fi
}

rss_kib() {  # PID -> VmRSS in KiB (0 when gone), without starting a process
    local k v _
    while read -r k v _; do
        [[ $k == VmRSS: ]] && { echo "$v"; return 0; }
    done <"/proc/$1/status" 2>/dev/null
    echo 0
}

# A background loop appends shardwire's VmRSS (KiB) every 50 ms.  The sleep
# is read -t on a FIFO this loop holds open at both ends, which never has
# data: no process is started per sample, so sampling costs next to nothing.
start_sampler() {
    local pid=$1 out=$2 fifo=$SCRATCH/sampler.fifo
    rm -f "$fifo"
    mkfifo "$fifo"
    (
        exec 3<>"$fifo"
        while [[ -r /proc/$pid/status ]]; do
            rss_kib "$pid"
            read -r -t 0.05 -u 3 _ || true
        done
    ) >"$out" 2>/dev/null &
    SAMPLER_PID=$!
}

stop_sampler() {
    [[ -n $SAMPLER_PID ]] || return 0
    kill "$SAMPLER_PID" 2>/dev/null || true
    wait "$SAMPLER_PID" 2>/dev/null || true
    SAMPLER_PID=
}

# stream_on SIDE PORT SQL: one checksummed run; fills VAL[stream_SIDE_*].
stream_on() {
    local side=$1 port=$2 sql=$3 rc=0 log=$SCRATCH/stream-$1.log line
    timeout --foreground -k 10 "$T_LOAD" "$STREAM_CLIENT" -c "$(conninfo "$port")" "$sql" >"$log" 2>&1 || rc=$?
    line=$(grep -m1 '^rows=' "$log" || true)
    if ((rc != 0)) || [[ -z $line ]]; then
        ((rc == 124)) && echo "timed out after $T_LOAD s" >>"$log"
        NOTE[stream]="$side: $(grep -v '^rows=' "$log" | head -c 200 | tr '\n' ' ')"
        return 1
    fi
    [[ $line =~ ^rows=([0-9]+)\ bytes=[0-9]+\ seconds=([0-9.]+)\ fnv=([0-9a-f]+)$ ]] || {
        NOTE[stream]="$side: cannot read stream_client's line: $line"
        return 1
    }
    VAL[stream_${side}_rows]=${BASH_REMATCH[1]}
    VAL[stream_${side}_fnv]=${BASH_REMATCH[3]}
    VAL[stream_${side}_rps]=$(awk -v r="${BASH_REMATCH[1]}" -v s="${BASH_REMATCH[2]}" 'BEGIN {
        if (s + 0 > 0) printf "%.0f", r / s; else print "n/a" }')
}

step_stream() {
    local sql="SELECT order_id, customer_id, price FROM orders ORDER BY order_id" ok=1 samples
    say "step stream: $sql (shardwire's RSS sampled every 50 ms)"
    # The oracle first: its run also warms the shards' page cache alike.
    stream_on oracle "${PORT[oracle]}" "$sql" || { mark stream FAIL "${NOTE[stream]}"; return 0; }
    VAL[stream_base_mib]=$(awk -v k="$(rss_kib "$SW_PID")" 'BEGIN { printf "%.1f", k / 1024 }')
    samples=$SCRATCH/stream-rss.txt
    start_sampler "$SW_PID" "$samples"
    stream_on shardwire "$SW_PORT" "$sql" || ok=0
    stop_sampler
    # A stream that failed early says nothing about the memory a full one needs.
    if ((ok)); then
        VAL[stream_peak_mib]=$(awk 'BEGIN { m = 0 } $1 > m { m = $1 } END { printf "%.1f", m / 1024 }' "$samples")
        VAL[stream_samples]=$(wc -l <"$samples")
    fi
    check_shardwire stream
    [[ ${STATUS[stream]:-} == FAIL ]] && return 0
    if ((ok)); then
        if [[ ${VAL[stream_shardwire_rows]} != "$BENCH_ROWS" ]]; then
            ok=0 NOTE[stream]="shardwire sent ${VAL[stream_shardwire_rows]} rows, not $BENCH_ROWS"
        elif [[ ${VAL[stream_shardwire_fnv]} != "${VAL[stream_oracle_fnv]}" ]]; then
            ok=0 NOTE[stream]="rows or their order differ from the oracle's (hash ${VAL[stream_shardwire_fnv]} vs ${VAL[stream_oracle_fnv]})"
        fi
    fi
    if ((ok)); then mark stream ok "$BENCH_ROWS rows, same order as the oracle"; else mark stream FAIL "${NOTE[stream]}"; fi
}

# ---------------------------------------------------------------- report

# at_most A LIMIT / at_least A LIMIT -> yes|no|n/a
at_most() { awk -v a="$1" -v l="$2" 'BEGIN { if (a !~ /^[0-9.]+$/) print "n/a"; else print (a + 0 <= l + 0 ? "yes" : "no") }'; }
at_least() { awk -v a="$1" -v l="$2" 'BEGIN { if (a !~ /^[0-9.]+$/) print "n/a"; else print (a + 0 >= l + 0 ? "yes" : "no") }'; }

report() {
    local s o st cr cm tm gm sr
    echo
    echo "cross-shard benchmark: $BENCH_ROWS rows, 3 shards + 1 oracle (PostgreSQL 15, fsync off)," \
        "pool size $POOL_SIZE per node, median of $BENCH_REPEAT runs"
    echo "ratio = shardwire / oracle: for rows/s higher is better, for ms lower is better"
    printf '%-10s %-10s %14s %14s %8s   %-14s %s\n' step unit oracle shardwire ratio target check
    o=${VAL[copy_oracle_rps]:--} s=${VAL[copy_shardwire_rps]:--}
    cr=$(ratio "$s" "$o")
    printf '%-10s %-10s %14s %14s %8s   %-14s %s\n' copy rows/s "$o" "$s" "$cr" \
        ">=$COPY_TARGET: $(at_least "$cr" "$COPY_TARGET")" "${STATUS[copy]:-FAIL} ${VAL[copy_counts]:-}"
    for st in topn groupby; do
        o=${VAL[${st}_oracle_ms]:--} s=${VAL[${st}_shardwire_ms]:--}
        printf '%-10s %-10s %14s %14s %8s   %-14s %s\n' "$st" ms "$o" "$s" "$(ratio "$s" "$o")" "" \
            "${STATUS[$st]:-FAIL} ${NOTE[$st]:-}"
    done
    o=${VAL[stream_oracle_rps]:--} s=${VAL[stream_shardwire_rps]:--}
    sr=$(ratio "$s" "$o")
    printf '%-10s %-10s %14s %14s %8s   %-14s %s\n' stream rows/s "$o" "$s" "$sr" "" \
        "${STATUS[stream]:-FAIL} ${NOTE[stream]:-}"
    cm=${VAL[stream_peak_mib]:--}
    printf '%-10s %-10s %14s %14s %8s   %-14s %s\n' "  rss" MiB "" "$cm" "" \
        "<=$RSS_TARGET_MIB: $(at_most "$cm" "$RSS_TARGET_MIB")" \
        "baseline ${VAL[stream_base_mib]:--} MiB before the stream, ${VAL[stream_samples]:-0} samples"

    echo
    for st in copy topn groupby stream; do
        [[ ${STATUS[$st]:-} == ok ]] || printf '  FAIL %s: %s\n' "$st" "${NOTE[$st]:-did not run}"
    done
    tm=$(ratio "${VAL[topn_shardwire_ms]:-}" "${VAL[topn_oracle_ms]:-}")
    gm=$(ratio "${VAL[groupby_shardwire_ms]:-}" "${VAL[groupby_oracle_ms]:-}")
    echo "RESULT copy oracle_rows_s=${VAL[copy_oracle_rps]:-n/a} shardwire_rows_s=${VAL[copy_shardwire_rps]:-n/a}" \
        "ratio=$cr target_met=$(at_least "$cr" "$COPY_TARGET") check=${STATUS[copy]:-FAIL}"
    echo "RESULT topn oracle_ms=${VAL[topn_oracle_ms]:-n/a} shardwire_ms=${VAL[topn_shardwire_ms]:-n/a}" \
        "ratio=$tm check=${STATUS[topn]:-FAIL}"
    echo "RESULT groupby oracle_ms=${VAL[groupby_oracle_ms]:-n/a} shardwire_ms=${VAL[groupby_shardwire_ms]:-n/a}" \
        "ratio=$gm check=${STATUS[groupby]:-FAIL}"
    echo "RESULT stream oracle_rows_s=${VAL[stream_oracle_rps]:-n/a} shardwire_rows_s=${VAL[stream_shardwire_rps]:-n/a}" \
        "ratio=$sr rss_base_mib=${VAL[stream_base_mib]:-n/a} rss_peak_mib=$cm" \
        "target_met=$(at_most "$cm" "$RSS_TARGET_MIB") check=${STATUS[stream]:-FAIL}"
}

# ---------------------------------------------------------------- teardown

# stop_all (called by cleanup): everything this script started.
stop_all() {
    stop_sampler
    stop_shardwire SW_PID
    [[ -n $SCRATCH ]] && stop_servers
}

# on_failure RC (called by cleanup): what explains it, then the bulk goes.
on_failure() {
    local f
    for f in build.log initdb.log; do
        [[ -s $SCRATCH/$f ]] || continue
        # Steps that went through have nothing to say.
        [[ $f == build.log && -x ${SW_BIN:-} && -x ${STREAM_CLIENT:-} ]] && continue
        [[ $f == initdb.log && -e $SCRATCH/pg-template/PG_VERSION ]] && continue
        echo "---- $f (last 20 lines)"
        tail -n 20 "$SCRATCH/$f"
    done
    # shardwire logs every login at info: its warnings and the reasons it
    # dropped a connection are what explain a failed step.
    if grep -qaE ' (WARNING|ERROR) |closing: ' "$SCRATCH/shardwire.log" 2>/dev/null; then
        echo "---- shardwire.log (warnings and dropped connections, last 20)"
        grep -aE ' (WARNING|ERROR) |closing: ' "$SCRATCH/shardwire.log" | tail -n 20
    elif [[ -s $SCRATCH/shardwire.log ]]; then
        echo "---- shardwire.log (last 10 lines)"
        tail -n 10 "$SCRATCH/shardwire.log"
    fi
    # A server's log is mostly start and stop: only its complaints.
    for f in shard1.log shard2.log shard3.log oracle.log; do
        grep -qsE 'ERROR|FATAL|PANIC' "$SCRATCH/$f" || continue
        echo "---- $f (last 10 errors)"
        grep -E 'ERROR|FATAL|PANIC' "$SCRATCH/$f" | tail -n 10
    done
    # The logs are small; the CSV and the four data directories are
    # gigabytes at the default size.
    if [[ $BENCH_KEEP != 1 ]]; then
        rm -rf "$SCRATCH"/pg-* "$SCRATCH/orders.csv"
        echo "(CSV and data directories removed; BENCH_KEEP=1 keeps them)"
    fi
}

# ---------------------------------------------------------------- main

main() {
    local name
    [[ $BENCH_ROWS =~ ^[1-9][0-9]*$ ]] || die "BENCH_ROWS must be a positive integer"
    [[ $BENCH_REPEAT =~ ^[1-9][0-9]*$ ]] || die "BENCH_REPEAT must be a positive integer"

    bench_begin shardwire-merge
    build_binaries stream_client
    STREAM_CLIENT=$SW_BUILD/stream_client
    init_template
    for name in "${SERVERS[@]}"; do start_server "$name"; done
    start_shardwire
    generate_data
    step_copy
    step_query topn "SELECT order_id, price FROM orders ORDER BY price DESC, order_id LIMIT 100"
    step_query groupby "SELECT status, date_trunc('month', order_date) m, count(*), sum(price), avg(quantity) FROM orders GROUP BY 1, 2 ORDER BY 1, 2"
    step_stream
    report
    ((ANY_FAILED == 0)) || die "some steps failed or gave wrong results (logs in $SCRATCH)"
}

main "$@"
