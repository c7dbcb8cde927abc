#!/usr/bin/env bash
# test_merge: cross-shard merging over three real PostgreSQL nodes, beyond
# the differential oracle: a streaming ORDER BY over every row is not
# capped (it holds only per-shard queues), a GROUP BY holding more groups
# than limits.merge_max_rows fails with 54000 for that client only (inside
# a transaction it aborts the transaction as a server error would), merged
# queries run concurrently from several clients, and pgbench's extended and
# prepared protocols run merged aggregates and ORDER BY/LIMIT without
# failures.  A write on every shard whose subquery would see only one
# shard's rows is refused (0A000) before any node changes; a correlated one
# (co-located on the key) runs.
source "$(dirname "$0")/lib.sh"
sw_direct && sw_skip_test "merging needs shardwire in the path"

pg_start a
pg_start b
pg_start c
for n in a b c; do
    pg_psql $n <<'SQL'
CREATE TABLE customer (customer_id bigint PRIMARY KEY, customer_name text NOT NULL, score int);
CREATE TABLE orders (order_id bigint, customer_id bigint NOT NULL, price int NOT NULL);
GRANT ALL ON ALL TABLES IN SCHEMA public TO PUBLIC;
SQL
done
cat >"$SW_TMP/functions.yaml" <<'YAML'
- name: customer_hash
  kind: hash
  nodes: [node_a, node_b, node_c]
YAML
cat >"$SW_TMP/tables.yaml" <<'YAML'
- {name: customer, key: customer_id, function: customer_hash}
- {name: orders, key: customer_id, function: customer_hash}
YAML
sw_config_write "$SW_TMP/sw.yaml" db=shop:a functions="$SW_TMP/functions.yaml" tables="$SW_TMP/tables.yaml" \
    merge_max_rows=500
sw_start "$SW_TMP/sw.yaml"

step "3000 customers through shardwire"
for ((i = 1; i <= 3000; i++)); do printf '%d\tname %04d\t%d\n' "$i" "$i" "$((i % 10))"; done >"$SW_TMP/c.txt"
sw_psql -c "\\copy customer (customer_id, customer_name, score) FROM '$SW_TMP/c.txt'"
assert_eq 3000 "$(sw_psql -c "SELECT count(*) FROM customer")"
ok "loaded"

step "a streaming ORDER BY over every row is not capped"
sw_psql -c "SELECT customer_id FROM customer ORDER BY customer_id" >"$SW_TMP/all.txt"
seq 1 3000 >"$SW_TMP/want.txt"
cmp -s "$SW_TMP/all.txt" "$SW_TMP/want.txt" || fail "ORDER BY over 3000 rows from three shards is not 1..3000 in order"
assert_eq "2998 2997 2996" "$(sw_psql -c "SELECT customer_id FROM customer ORDER BY customer_id DESC LIMIT 3 OFFSET 2" | tr '\n' ' ' | sed 's/ $//')"
assert_eq "0|300 1|300" "$(sw_psql -c "SELECT score, count(*) FROM customer GROUP BY score ORDER BY score LIMIT 2" | tr '\n' ' ' | sed 's/ $//')"
ok "3000 rows in order; 10 groups fit under the cap"

step "a merge holding more groups than merge_max_rows fails with 54000, for that client only"
capture out sw_psql -v VERBOSITY=verbose -c "SELECT customer_name, count(*) FROM customer GROUP BY customer_name"
assert_contains "$out" "54000"
assert_contains "$out" "merge_max_rows"
assert_eq 3000 "$(sw_psql -c "SELECT count(*) FROM customer")" "the next statement works"
capture out sw_psql -v ON_ERROR_STOP=0 -v VERBOSITY=verbose <<'SQL'
BEGIN;
SELECT DISTINCT customer_name FROM customer;
SELECT 1;
ROLLBACK;
SELECT 'after';
SQL
assert_contains "$out" "54000"
assert_contains "$out" "25P02" "the transaction is aborted after the merge error"
assert_contains "$out" "after"
ok "capped, clear error, transaction semantics kept"

step "writes on several shards: summed counts, RETURNING rows from every shard"
capture out sw_psql -c "UPDATE customer SET score = score + 100 WHERE score = 3 RETURNING customer_id"
assert_eq 300 "$(grep -c . <<<"$out")" "RETURNING rows from all shards"
capture out sw_psql_raw -c "UPDATE customer SET score = score - 100 WHERE score = 103"
assert_contains "$out" "UPDATE 300" "summed count"
capture out sw_psql -c "INSERT INTO customer (customer_id, customer_name, score) VALUES (5001, 'x', 0), (5002, 'y', 0), (5003, 'z', 0), (5004, 'w', 0) RETURNING customer_id"
assert_eq "5001 5002 5003 5004" "$(sort -n <<<"$out" | tr '\n' ' ' | sed 's/ $//')" "split INSERT returns every row"
capture out sw_psql_raw -c "DELETE FROM customer WHERE customer_id > 5000"
assert_contains "$out" "DELETE 4" "summed DELETE count"
ok "UPDATE 300, RETURNING from all shards, split INSERT RETURNING, DELETE 4"

step "SHOW MERGES counts the merges and split COPYs, and the peak bytes one merge held"
row=$(timeout 60 psql -X -w -q -At -F'|' -d "$(sw_conninfo sw_scram shardwire)" -c "SHOW MERGES")
IFS='|' read -r merges mrows mfailed peak copies crows <<<"$row"
((merges >= 5)) || fail "SHOW MERGES: merges=$merges ($row)"
((mrows >= 3000)) || fail "SHOW MERGES: merge_rows=$mrows ($row)"
((mfailed >= 2)) || fail "SHOW MERGES: the two capped merges count as failed ($row)"
((peak > 0)) || fail "SHOW MERGES: peak_bytes=$peak ($row)"
assert_eq "1|3000" "$copies|$crows" "one split COPY of 3000 rows"
ok "SHOW MERGES: $row"

step "merged queries from several clients at once"
pids=()
for k in 1 2 3 4 5 6; do
    sw_psql -c "SELECT customer_id, customer_name FROM customer ORDER BY customer_name DESC, customer_id LIMIT 50 OFFSET $k" >"$SW_TMP/par.$k" &
    pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || fail "a concurrent merge failed"; done
for k in 1 2 3 4 5 6; do
    assert_eq "$((3000 - k))|name $(printf '%04d' $((3000 - k)))" "$(head -1 "$SW_TMP/par.$k")" "client $k first row"
    assert_eq 50 "$(wc -l <"$SW_TMP/par.$k")" "client $k rows"
done
ok "six concurrent merges"

step "pgbench: merged aggregates and ORDER BY/LIMIT over the extended and prepared protocols"
cat >"$SW_TMP/merge.sql" <<'SQL'
\set s random(0, 9)
SELECT count(*), sum(score), avg(score), min(customer_name) FROM customer WHERE score = :s;
SELECT customer_id FROM customer WHERE score = :s ORDER BY customer_id DESC LIMIT 3;
SQL
for m in simple extended prepared; do
    capture out sw_pgbench -n -M $m -c 4 -j 2 -t 50 -f "$SW_TMP/merge.sql"
    assert_eq 0 "$SW_RC" "pgbench -M $m: $out"
    assert_contains "$out" "number of failed transactions: 0" "pgbench -M $m"
done
ok "pgbench simple/extended/prepared: no failures"

step "writes on several shards whose subqueries would see one shard's rows"
# customers 1..30 each have two orders, of prices id and 10 * id
for ((i = 1; i <= 30; i++)); do printf '%d\t%d\t%d\n%d\t%d\t%d\n' "$i" "$i" "$i" "$((i + 100))" "$i" "$((10 * i))"; done >"$SW_TMP/o.txt"
sw_psql -c "\\copy orders (order_id, customer_id, price) FROM '$SW_TMP/o.txt'"
direct_sum() {  # the sum of price over the orders held by every node, read from each node directly
    local total=0 n v
    for n in a b c; do
        v=$(pg_psql $n -c "SELECT coalesce(sum(price), 0) || ':' || count(*) FROM orders")
        assert_match "$v" '^[0-9]+:[0-9]+$' "node $n answers"
        total=$((total + ${v%%:*}))
    done
    echo "$total"
}
for n in a b c; do
    assert_match "$(pg_psql $n -c "SELECT count(*) FROM orders")" '^[1-9][0-9]*$' "node $n holds orders"
done
assert_eq 5115 "$(direct_sum)" "orders loaded"
capture out sw_psql -v VERBOSITY=verbose -c "UPDATE orders SET price = (SELECT avg(price) FROM orders)::int"
assert_contains "$out" "0A000"
assert_contains "$out" "aggregate in a subquery"
capture out sw_psql -v VERBOSITY=verbose -c "UPDATE orders o SET price = 0 FROM customer c WHERE o.price = c.score"
assert_contains "$out" "0A000"
assert_contains "$out" "not on the shard key"
printf 'UPDATE orders SET price = 0 WHERE price < (SELECT max(price) FROM orders);\n' >"$SW_TMP/bad.sql"
capture out sw_pgbench -n -M extended -c 1 -t 1 -f "$SW_TMP/bad.sql"
assert_contains "$out" "aggregate in a subquery" "extended protocol refused too"
assert_eq 5115 "$(direct_sum)" "no node changed any row"
capture out sw_psql_raw -c "UPDATE customer c SET score = (SELECT sum(price) FROM orders o WHERE o.customer_id = c.customer_id) WHERE c.customer_id <= 30"
assert_contains "$out" "UPDATE 30" "the correlated UPDATE ran on every shard"
for i in 1 7 30; do
    assert_eq "$((11 * i))" "$(sw_psql -c "SELECT score FROM customer WHERE customer_id = $i")" "customer $i score"
done
total=0
for n in a b c; do total=$((total + $(pg_psql $n -c "SELECT coalesce(sum(score), 0) FROM customer WHERE customer_id <= 30"))); done
assert_eq $((11 * 465)) "$total" "every node's customers got their own orders' sum"
assert_eq 3 "$(sw_psql -c "SELECT score FROM customer WHERE customer_id = 33")" "other customers unchanged"
capture out sw_psql_raw -c "DELETE FROM customer WHERE customer_id <= 40 AND customer_id NOT IN (SELECT customer_id FROM orders)"
assert_contains "$out" "DELETE 10" "IN on the key is co-located"
ok "wrong-answer writes refused with 0A000 and no change on any node; co-located ones run"
