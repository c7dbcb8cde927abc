#!/usr/bin/env bash
# test_oracle: the differential test of cross-shard merging.  The same data
# lives in one plain PostgreSQL server (the oracle: the logical schema of
# config/ecommerce-schema.sql) and, loaded through shardwire, in three
# shards (the physical schemas of config/ecommerce-node{1,2,3}.sql, placed
# by the functions and tables of config/ecommerce.yaml).  sw_oracle runs
# every query of oracle_corpus.sql both ways, in text and in binary result
# format, and every answer must be identical (floats within 1e-12), or, for
# the shapes shardwire refuses, an error with the SQLSTATE the corpus names.
#
# The data: shardwire-gendata's e-commerce set (1500 customers, 6000
# orders, their items, payments, shipments, products) plus order_facts
# (oracle_extra.sql; rows from `sw_oracle --gen-facts`), a co-located table
# of NULL-heavy, tie-heavy columns of every type merging must handle.
#
# First the corpus is compared on the oracle against itself (--skip-errors),
# over two connections and against a copy whose tables hold the rows in a
# scrambled physical order: that proves the harness and every query
# deterministic (total orders where "-- ordered" says so, no arbitrary
# LIMIT rows, float sums within tolerance), so a difference through
# shardwire is shardwire's.
#
#   SW_ORACLE_SELFTEST=1  only those self-comparisons (one server, no shardwire)
#   SW_ORACLE_VERBOSE=1   sw_oracle --verbose (ok lines; rows of failing queries)
#   SW_ORACLE_ARGS="..."  extra sw_oracle arguments for the run through shardwire
#                         (e.g. "--only 123 --formats binary")
#   SW_ORACLE / SW_GENDATA  the sw_oracle and shardwire-gendata binaries
#                         (default: next to SW_ITEST and SW_BIN)
source "$(dirname "$0")/lib.sh"
sw_direct && sw_skip_test "the oracle compares shardwire with PostgreSQL itself; see SW_ORACLE_SELFTEST=1"

SELFTEST=${SW_ORACLE_SELFTEST:-0}
CUSTOMERS=1500 ORDERS=6000 FACTS=2000 SEED=1
CORPUS=$SW_LIB_DIR/oracle_corpus.sql
SW_ORACLE=${SW_ORACLE:-$(dirname "$SW_ITEST")/sw_oracle}
[[ -x $SW_ORACLE ]] || fail "SW_ORACLE does not name the sw_oracle binary (got '$SW_ORACLE')"
if [[ -z ${SW_GENDATA:-} && -n $SW_BIN ]]; then SW_GENDATA=$(dirname "$SW_BIN")/shardwire-gendata; fi
[[ -x ${SW_GENDATA:-} ]] || fail "SW_GENDATA does not name the shardwire-gendata binary (got '${SW_GENDATA:-}')"
ORACLE_ARGS=(--corpus "$CORPUS" --formats text,binary --timeout 5)
[[ ${SW_ORACLE_VERBOSE:-0} == 1 ]] && ORACLE_ARGS+=(--verbose)
# shellcheck disable=SC2206  # word splitting wanted
PROXY_ARGS=(${SW_ORACLE_ARGS:-})

# Both sides get the same session time zone explicitly (the servers' own
# timezone is UTC too): timestamptz values print in it.
SESSION_OPTS="options='-c TimeZone=UTC'"

step "generating the data"
"$SW_GENDATA" --customers $CUSTOMERS --orders $ORDERS --seed $SEED >"$SW_TMP/data.sql"
"$SW_ORACLE" --gen-facts $FACTS --seed $SEED >"$SW_TMP/facts.sql"
ok "$(grep -c '^INSERT' "$SW_TMP/data.sql") + $(grep -c '^INSERT' "$SW_TMP/facts.sql") multi-row INSERTs"

if [[ $SELFTEST == 1 ]]; then
    pg_start oracle
else
    pg_start s1
    pg_start s2
    pg_start s3
    pg_start oracle
fi
ORACLE_CI="host=127.0.0.1 port=$PG_PORT_oracle user=sw_admin password=admin_pw dbname=shop connect_timeout=10 $SESSION_OPTS"

step "oracle: logical schema and data, loaded directly"
pg_psql oracle -f "$SW_SRC/config/ecommerce-schema.sql" -f "$SW_LIB_DIR/oracle_extra.sql"
pg_psql oracle -f "$SW_TMP/data.sql" -f "$SW_TMP/facts.sql" -c "ANALYZE"
ok "oracle loaded"

# The same rows again, in another database of the oracle server, each table
# rewritten in a scrambled physical order: scans return rows in another
# order there, so an "-- ordered" query whose ORDER BY is not total, a LIMIT
# picking arbitrary rows or a float sum outside the tolerance shows up as a
# difference in the self-test below instead of as a false shardwire failure.
step "oracle: a scrambled copy (database shop_shuffled)"
pg_psql oracle -c "CREATE DATABASE shop_shuffled"
pg_psql oracle -d shop_shuffled -f "$SW_SRC/config/ecommerce-schema.sql" -f "$SW_LIB_DIR/oracle_extra.sql" \
    -f "$SW_TMP/data.sql" -f "$SW_TMP/facts.sql"
for t in customer customer_by_region orders order_items payments products shipment_details customer_details order_facts; do
    pg_psql oracle -d shop_shuffled -c "CREATE TEMP TABLE scrambled AS SELECT * FROM $t" -c "TRUNCATE $t" \
        -c "INSERT INTO $t SELECT * FROM scrambled ORDER BY md5(scrambled::text)"
done
pg_psql oracle -d shop_shuffled -c "ANALYZE"
SHUFFLED_CI="host=127.0.0.1 port=$PG_PORT_oracle user=sw_admin password=admin_pw dbname=shop_shuffled connect_timeout=10 $SESSION_OPTS"
ok "scrambled copy loaded"

# The harness itself must see differences: a small corpus whose answers
# depend on the database name (shop against shop_shuffled), with known
# failures, must give exactly those.
step "harness check: known differences are reported, tolerated ones are not"
cat >"$SW_TMP/check.sql" <<'SQL'
-- name: same
SELECT 1 AS one, 'x'::text AS two, NULL::int AS three, 2.50::numeric AS four;
-- name: float within tolerance
SELECT CASE WHEN current_database() = 'shop' THEN 1.0::float8 ELSE 1.0000000000001::float8 END AS f;
-- name: float beyond tolerance
SELECT CASE WHEN current_database() = 'shop' THEN 1.0::float8 ELSE 1.00000000001::float8 END AS f;
-- name: value differs
SELECT current_database() AS db;
-- name: NULL against empty
SELECT CASE WHEN current_database() = 'shop' THEN NULL ELSE '' END AS s;
-- name: numeric scale differs
SELECT CASE WHEN current_database() = 'shop' THEN 1.5 ELSE 1.50 END AS n;
-- name: multiset, order ignored
SELECT x FROM (VALUES (1), (2), (3)) v(x) ORDER BY CASE WHEN current_database() = 'shop' THEN x ELSE -x END;
-- name: order matters
-- ordered
SELECT x FROM (VALUES (1), (2), (3)) v(x) ORDER BY CASE WHEN current_database() = 'shop' THEN x ELSE -x END;
-- name: row count
SELECT generate_series(1, CASE WHEN current_database() = 'shop' THEN 3 ELSE 4 END) AS n;
-- name: expected error that does not come
-- error 0A000
SELECT 1;
-- name: expected error that comes
-- error 22012
SELECT 1 / 0;
SQL
capture out timeout 60 "$SW_ORACLE" --proxy "$SHUFFLED_CI" --oracle "$ORACLE_CI" --corpus "$SW_TMP/check.sql"
echo "$out"
assert_eq 1 "$SW_RC" "sw_oracle exit status with failures"
assert_match "$out" "^oracle: 11 queries, 2 formats, 4 passed, 7 failed" "harness check summary"
for name in "float beyond tolerance" "value differs" "NULL against empty" "numeric scale differs" "order matters" \
    "row count" "expected error that does not come"; do
    assert_match "$out" "^FAIL check.sql:[0-9]+ \\[$name\\] text,binary: " "failure reported for '$name'"
done
assert_contains "$out" 'first difference at row 1 column 1 "x": proxy (3) oracle (1)' "ordered diff"
assert_contains "$out" "row count: proxy 4, oracle 3; first difference at sorted row 4: proxy (4) oracle (no row)" "row count diff"
ok "harness check"

# Every corpus query compared with itself: the same database over two
# connections, then the scrambled copy against the original.  Both must
# agree, or the corpus (or the harness) is not deterministic and nothing it
# says about shardwire could be trusted.
for pair in "oracle itself:$ORACLE_CI" "scrambled copy:$SHUFFLED_CI"; do
    step "self-test: the corpus on the oracle against ${pair%%:*}"
    capture out timeout 250 "$SW_ORACLE" --proxy "${pair#*:}" --oracle "$ORACLE_CI" --skip-errors "${ORACLE_ARGS[@]}"
    echo "$out"
    assert_eq 0 "$SW_RC" "sw_oracle self-test (oracle against ${pair%%:*})"
    assert_match "$out" "^oracle: [0-9]+ queries, 2 formats, [0-9]+ passed, 0 failed" "self-test summary"
done
ok "self-test: corpus and harness are deterministic"
[[ $SELFTEST == 1 ]] && exit 0

step "shards: physical schema of each node, loaded directly"
for i in 1 2 3; do
    pg_psql "s$i" -f "$SW_SRC/config/ecommerce-node$i.sql" -f "$SW_LIB_DIR/oracle_extra.sql"
done

# The sharding of config/ecommerce.yaml, on this test's nodes: its
# functions and tables, with shard1..3 renamed to the nodes lib.sh writes
# (node_s1..3), plus order_facts next to orders.
step "shardwire: config/ecommerce.yaml's functions and tables on the test's nodes"
rename_nodes() { sed -E 's/\bshard([123])\b/node_s\1/g'; }
awk '/^functions:/ { f = 1; next } f && /^[^ #]/ { f = 0 } f' "$SW_SRC/config/ecommerce.yaml" |
    sed 's/^  //' | rename_nodes >"$SW_TMP/functions.yaml"
{
    awk '/^    tables:/ { f = 1; next } f && /^[^ #]/ { f = 0 } f' "$SW_SRC/config/ecommerce.yaml" |
        sed 's/^      //' | rename_nodes
    echo "- {name: order_facts, key: customer_id, function: customer_hash}"
} >"$SW_TMP/tables.yaml"
grep -q "name: customer_hash" "$SW_TMP/functions.yaml" || fail "no functions found in config/ecommerce.yaml"
grep -q "name: order_items" "$SW_TMP/tables.yaml" || fail "no tables found in config/ecommerce.yaml"
sw_config_write "$SW_TMP/sw.yaml" nodes=s1,s2,s3 db=shop:s1 size=8 \
    functions="$SW_TMP/functions.yaml" tables="$SW_TMP/tables.yaml"
sw_start "$SW_TMP/sw.yaml"
PROXY_CI="$(sw_conninfo) $SESSION_OPTS"

step "loading the same data through shardwire"
sw_psql -f "$SW_TMP/data.sql"
sw_psql -f "$SW_TMP/facts.sql"
for i in 1 2 3; do pg_psql "s$i" -c "ANALYZE"; done
ok "shards loaded"

# count TABLE NODES...: rows of TABLE summed over NODES, counted directly.
count() {
    local t=$1 n sum=0
    shift
    for n in "$@"; do sum=$((sum + $(pg_psql "$n" -c "SELECT count(*) FROM $t"))); done
    echo "$sum"
}
step "row counts: oracle against the shards, counted directly"
for t in customer orders order_items customer_by_region order_facts; do
    o=$(pg_psql oracle -c "SELECT count(*) FROM $t")
    ((o > 0)) || fail "oracle table $t is empty"
    assert_eq "$o" "$(count "$t" s1 s2 s3)" "rows of $t over the three shards"
    for i in 1 2 3; do
        # Spread: every shard holds part of every sharded table.
        [[ $(pg_psql "s$i" -c "SELECT count(*) FROM $t") -gt 0 ]] || fail "shard s$i holds no row of $t"
    done
done
for i in 1 2 3; do
    assert_eq "$(pg_psql oracle -c "SELECT count(*) FROM payments")" "$(count payments "s$i")" "payments copy on s$i"
done
assert_eq "$(pg_psql oracle -c "SELECT count(*) FROM products")" \
    "$(pg_psql s1 -c "SELECT (SELECT count(*) FROM products_10_to_100) + (SELECT count(*) FROM products_101_to_250) + (SELECT count(*) FROM products_251_to_500)")" \
    "products over its three band tables on s1"
assert_eq "$(pg_psql oracle -c "SELECT count(*) FROM shipment_details")" "$(count shipment_details s2)" "shipment_details on s2"
assert_eq "$(pg_psql oracle -c "SELECT count(*) FROM customer_details")" "$(count customer_details s3)" "customer_details on s3"
ok "every table holds the same rows both ways"

step "the corpus through shardwire against the oracle (text and binary)"
capture out timeout 250 "$SW_ORACLE" --proxy "$PROXY_CI" --oracle "$ORACLE_CI" "${ORACLE_ARGS[@]}" "${PROXY_ARGS[@]}"
echo "$out"
# What the merges cost, when shardwire reports it.
if grep -qiE "merge.*peak|peak.*merge" "$SW_LOG"; then
    echo "--- merge peak memory (shardwire log)"
    grep -iE "merge.*peak|peak.*merge" "$SW_LOG" | tail -n 20
fi
assert_match "$out" "^oracle: [0-9]+ queries, [12] formats, " "sw_oracle summary"
sw_alive || fail "shardwire died while the corpus ran"
assert_eq 0 "$SW_RC" "sw_oracle: every corpus query must agree through shardwire (FAIL lines above)"
ok "every corpus query agrees through shardwire"
sw_stop
