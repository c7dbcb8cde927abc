#!/usr/bin/env bash
# test_alloc_failure: running out of memory never changes what shardwire
# sends.  shardwire runs under the failmalloc shim (LD_PRELOAD:
# malloc/calloc/realloc/strdup/strndup fail at random once it listens) with
# a routed database over three nodes: a table-suffix table (products, rows
# in products_<band> on node a) and a hash-sharded one (customer), while a
# client runs, over and over, statements shardwire rewrites: suffix-table
# reads and writes (simple and extended protocol), cross-shard SELECTs it
# merges with hidden columns, and BEGIN ISOLATION LEVEL SERIALIZABLE
# followed by writes on two nodes.  With log_statement=all on the nodes:
# no node ever received an unrewritten statement (the logical name
# products, a plain BEGIN, a merged SELECT as the client wrote it), the
# client only ever got the right answer or a clean failure (53200, or an
# error and then the close; see itest/script.c), and shardwire never
# crashed.  The expected answers are computed by PostgreSQL itself over the
# same rows in one table.  SW_FAIL_PERMILLE overrides the failure rate.
source "$(dirname "$0")/lib.sh"
sw_direct && sw_skip_test "allocation failures are injected into shardwire"
[[ -n ${SW_FAILMALLOC:-} && -f ${SW_FAILMALLOC:-} ]] || fail "SW_FAILMALLOC does not name the failmalloc shim (got '${SW_FAILMALLOC:-}')"

pg_start a
pg_start b
pg_start c
for n in a b c; do
    pg_psql $n <<'SQL'
CREATE TABLE customer (customer_id bigint PRIMARY KEY, customer_name text NOT NULL, score int NOT NULL);
SQL
done
pg_psql a <<'SQL'
CREATE TABLE products_10_to_100 (product_id bigint PRIMARY KEY, product_price numeric(10,2));
CREATE TABLE products_101_to_250 (product_id bigint PRIMARY KEY, product_price numeric(10,2));
CREATE TABLE products_251_to_500 (product_id bigint PRIMARY KEY, product_price numeric(10,2));
SQL
for n in a b c; do pg_psql $n -c "GRANT ALL ON ALL TABLES IN SCHEMA public TO PUBLIC"; done
cat >"$SW_TMP/functions.yaml" <<'YAML'
- name: customer_hash
  kind: hash
  nodes: [node_a, node_b, node_c]
- name: price_bands
  kind: range
  type: numeric
  ranges:
    - {from: 10, to: 101, table: products_10_to_100}
    - {from: 101, to: 251, table: products_101_to_250}
    - {from: 251, to: 501, table: products_251_to_500}
YAML
cat >"$SW_TMP/tables.yaml" <<'YAML'
- {name: customer, key: customer_id, function: customer_hash}
- {name: products, key: product_price, function: price_bands, node: node_a}
YAML
sw_config_write "$SW_TMP/sw.yaml" db=shop:a functions="$SW_TMP/functions.yaml" tables="$SW_TMP/tables.yaml" \
    size=4 query_wait_timeout=5s

step "rows through shardwire (no failures yet)"
sw_start "$SW_TMP/sw.yaml"
sw_psql -c "INSERT INTO customer (customer_id, customer_name, score) VALUES $(for i in $(seq 1 60); do printf "(%d, 'name-%d', %d)," $i $i $((i % 7)); done | sed 's/,$//')"
sw_psql -c "INSERT INTO products (product_id, product_price) VALUES (1, 15.00), (2, 150.00), (3, 300.00), (4, 100.99)"
sw_stop
# Two customers on different nodes, for the two-node transaction.
k1=$(pg_psql a -c "SELECT min(customer_id) FROM customer")
k2=$(pg_psql b -c "SELECT min(customer_id) FROM customer")
[[ -n $k1 && -n $k2 ]] || fail "the hash left node a or b without customers"
ok "60 customers over three nodes; products in their bands; customers $k1 (a) and $k2 (b)"

# ref SQL: the answer PostgreSQL gives over all 60 customers in one table
# (a temporary one on node a), as `sw_itest script` prints it.
ref() {
    local out
    out=$(pg_psql a -F '|' -R ';' -c "CREATE TEMP TABLE customer AS SELECT g::bigint AS customer_id, 'name-' || g AS customer_name, g % 7 AS score FROM generate_series(1, 60) g" -c "$1")
    printf 'ROWS %s' "$out"
}
# The merged SELECTs, whose text shardwire must rewrite (hidden columns).
MERGED=(
    "SELECT customer_name FROM customer ORDER BY customer_id LIMIT 5"
    "SELECT avg(score) FROM customer"
    "SELECT score, avg(customer_id) FROM customer GROUP BY score ORDER BY score"
    "SELECT customer_name FROM customer ORDER BY score DESC, customer_id LIMIT 3 OFFSET 2"
)
T=$'\t'
{
    echo "Q${T}SELECT product_id FROM products WHERE product_price = 150${T}ROWS 2"
    echo
    echo "Q${T}SELECT p.product_id, p.product_price FROM products p WHERE p.product_price = 15${T}ROWS 1|15.00"
    echo
    echo "X${T}SELECT product_id FROM products WHERE product_price = \$1${T}300${T}ROWS 3"
    echo
    # (in a transaction: a failure half-way leaves no row behind)
    echo "Q${T}BEGIN ISOLATION LEVEL REPEATABLE READ${T}OK BEGIN"
    echo "Q${T}INSERT INTO products (product_id, product_price) VALUES (100, 55)${T}OK INSERT 0 1"
    echo "Q${T}SELECT current_setting('transaction_isolation') FROM products WHERE product_price = 55${T}ROWS repeatable read"
    echo "X${T}UPDATE products SET product_id = 101 WHERE product_price = \$1 AND product_id = 100${T}55${T}OK UPDATE 1"
    echo "Q${T}DELETE FROM products WHERE product_price = 55${T}OK DELETE 1"
    echo "Q${T}COMMIT${T}OK COMMIT"
    for q in "${MERGED[@]}"; do
        echo
        echo "Q${T}$q${T}$(ref "$q")"
    done
    echo
    echo "X${T}${MERGED[0]}${T}$(ref "${MERGED[0]}")"
    echo
    echo "Q${T}BEGIN ISOLATION LEVEL SERIALIZABLE${T}OK BEGIN"
    echo "Q${T}UPDATE customer SET score = score WHERE customer_id = $k1${T}OK UPDATE 1"
    echo "Q${T}UPDATE customer SET score = score WHERE customer_id = $k2${T}OK UPDATE 1"
    echo "Q${T}SELECT current_setting('transaction_isolation') FROM customer WHERE customer_id = $k1${T}ROWS serializable"
    echo "X${T}SELECT current_setting('transaction_isolation') FROM customer WHERE customer_id = \$1${T}$k2${T}ROWS serializable"
    echo "Q${T}COMMIT${T}OK COMMIT"
    echo
    echo "X${T}BEGIN ISOLATION LEVEL SERIALIZABLE${T}OK BEGIN"
    echo "X${T}UPDATE customer SET score = score WHERE customer_id = \$1${T}$k2${T}OK UPDATE 1"
    echo "X${T}UPDATE customer SET score = score WHERE customer_id = \$1${T}$k1${T}OK UPDATE 1"
    echo "Q${T}SELECT current_setting('transaction_isolation') FROM customer WHERE customer_id = $k1${T}ROWS serializable"
    echo "X${T}SELECT current_setting('transaction_isolation') FROM customer WHERE customer_id = \$1${T}$k2${T}ROWS serializable"
    echo "X${T}COMMIT${T}OK COMMIT"
} >"$SW_TMP/script.txt"

# shardwire logs in to the nodes as sw_admin by trust from here on: a
# SCRAM login runs PBKDF2, some 16000 allocations inside OpenSSL, which
# would fail every time at any rate that tests anything else.
for n in a b c; do
    hba=$(_pg_var DATA $n)/pg_hba.conf
    { echo "host all sw_admin 127.0.0.1/32 trust"; cat "$hba"; } >"$hba.new" && mv "$hba.new" "$hba"
    _pg_chown "$hba"
    pg_psql $n -c "ALTER SYSTEM SET log_statement = 'all'" -c "SELECT pg_reload_conf()" >/dev/null
done
declare -A LOG_AT=()
for n in a b c; do LOG_AT[$n]=$(stat -c %s "$(_pg_var LOG $n)"); done

permille=${SW_FAIL_PERMILLE:-3}
fail_ms=${SW_FAIL_SECONDS:-10}000
# Two libraries do not survive a failed allocation: libpg_query
# dereferences it (protobuf-c init and unpack in pg_query_scan and
# pg_query_deparse_protobuf: SIGSEGV), GMP's default allocator aborts the
# process (the exact numeric arithmetic of merged aggregates: SIGABRT).
# Their allocations are spared, so that what is tested is shardwire's own
# handling; SW_FAIL_SPARE= (empty) includes them.
spare=${SW_FAIL_SPARE-libpg_query,libgmp}
step "shardwire with allocations failing (${permille}‰ of them, for $((fail_ms / 1000)) s once it listens; spared: ${spare:-none})"
# Only shardwire runs under the shim: a wrapper that sets it up and execs it.
# (A sanitizer build's runtime must then accept not being first.)
seed=${SW_FAIL_SEED:-$RANDOM}
asan=${ASAN_OPTIONS:-}
if ldd "$SW_BIN" 2>/dev/null | grep libasan >/dev/null; then asan="${asan:+$asan:}verify_asan_link_order=0"; fi
after_ms=3000
env="SW_FAIL_MALLOC_PERMILLE=$permille SW_FAIL_MALLOC_AFTER_MS=$after_ms SW_FAIL_MALLOC_FOR_MS=$fail_ms"
env+=" SW_FAIL_MALLOC_SEED=$seed SW_FAIL_MALLOC_SPARE=$spare SW_FAIL_MALLOC_TRACE=${SW_FAIL_TRACE:-0}"
env+="${asan:+ ASAN_OPTIONS=$asan}"
# The dynamic loader leaks what it had when one of its allocations fails
# (glibc's dlopen): not shardwire's memory.
printf 'leak:_dl_map_object_deps\nleak:dl_open_worker\nleak:_dl_new_object\n' >"$SW_TMP/lsan.supp"
env+=" LSAN_OPTIONS=suppressions=$SW_TMP/lsan.supp"
if [[ ${SW_FAIL_GDB:-0} == 1 ]]; then
    # SW_FAIL_GDB=1: under gdb (the shim only in shardwire's environment),
    # so that a crash leaves its backtrace in the shardwire log.
    gdb_env=""
    for kv in LD_PRELOAD=$SW_FAILMALLOC $env; do gdb_env+=" -ex 'set environment $kv'"; done
    launch="exec gdb -q -batch$gdb_env -ex run -ex 'thread apply all bt full' --args '$SW_BIN' \"\$@\""
else
    launch="export LD_PRELOAD='$SW_FAILMALLOC' $env; exec '$SW_BIN' \"\$@\""
fi
printf '#!/bin/sh\n%s\n' "$launch" >"$SW_TMP/shardwire-failmalloc"
chmod +x "$SW_TMP/shardwire-failmalloc"
t0=$(now_ms)
SW_BIN=$SW_TMP/shardwire-failmalloc sw_start "$SW_TMP/sw.yaml"
# Before the failures start: the SCRAM verifier of the client's password is
# derived (PBKDF2, once per user) and cached.
assert_eq 2 "$(sw_psql -c "SELECT product_id FROM products WHERE product_price = 150")" "before the failures"
left=$((after_ms + 100 - ($(now_ms) - t0)))
((left > 0)) || fail "start-up took longer than the $after_ms ms before the failures begin"
sleep "$(awk -v m="$left" 'BEGIN { printf "%.3f", m / 1000 }')"
echo "seed $seed (SW_FAIL_SEED=$seed repeats the sequence of failures)"
# sslmode=disable: libpq shows an error sent during SSL negotiation only as
# "server sent an error response during SSL exchange", without its SQLSTATE.
ci=$(sw_conninfo sw_scram shop sslmode=disable)
secs=$(awk -v m="$((after_ms + fail_ms + 200 - ($(now_ms) - t0)))" 'BEGIN { printf "%.3f", m / 1000 }')
capture out sw_itest script "$ci" "$SW_TMP/script.txt" "$secs"
echo "$out"
sw_alive || fail "shardwire crashed under allocation failures (SW_FAIL_GDB=1 SW_FAIL_SEED=$seed logs the backtrace)"
assert_eq 0 "$SW_RC" "the client under allocation failures"
summary=$(tail -n 1 <<<"$out")
complete=$(sed -E 's/.* complete=([0-9]+).*/\1/' <<<"$summary")
((complete > 50)) || fail "only $complete units completed: the failure rate leaves nothing to check"
ok "only right answers or clean failures: $summary"

step "once allocations succeed again, everything works (nothing was left broken)"
capture out sw_itest script "$ci" "$SW_TMP/script.txt" 2 strict
echo "$out"
assert_eq 0 "$SW_RC" "the client after the failures"
ok "every unit right for 2 s: $(tail -n 1 <<<"$out")"

step "what the nodes received"
for n in a b c; do tail -c +$((LOG_AT[$n] + 1)) "$(_pg_var LOG $n)"; done >"$SW_TMP/statements.log"
stmts=$(grep -E 'LOG:  (statement|execute [^:]*): ' "$SW_TMP/statements.log" | sed -E 's/.*LOG:  (statement|execute [^:]*): //') || true
echo "$(wc -l <<<"$stmts") statements on the nodes"
# (shardwire keeps the logical name as the alias: "FROM products_10_to_100 AS products")
bad=$(grep -iE '(FROM|INTO|UPDATE|JOIN)[[:space:]]+products($|[^_[:alnum:]])' <<<"$stmts") || true
[[ -z $bad ]] || fail "a node received the logical table name: $(head -3 <<<"$bad")"
bad=$(grep -iE '^(BEGIN|START TRANSACTION)[[:space:];]*$' <<<"$stmts") || true
[[ -z $bad ]] || fail "a node received a plain BEGIN: $(grep -ciE '^(BEGIN|START TRANSACTION)[[:space:];]*$' <<<"$stmts") times"
for q in "${MERGED[@]}"; do
    bad=$(grep -Fx -- "$q" <<<"$stmts") || true
    [[ -z $bad ]] || fail "a node received the merged SELECT as the client wrote it: $q"
done
# The checks above looked at the statements that matter.
assert_match "$stmts" "^BEGIN ISOLATION LEVEL SERIALIZABLE" "the transactions' BEGIN on the nodes"
assert_match "$stmts" "products_101_to_250" "suffix-table statements on the nodes"
ok "no logical table name, no plain BEGIN, no unrewritten merged SELECT"

sw_stop
assert_match "$(cat "$SW_LOG")" "failmalloc: [1-9][0-9]* of [0-9]+ allocations failed" "allocations did fail"
ok "$(grep -o 'failmalloc: .*' "$SW_LOG" | tail -1)"
