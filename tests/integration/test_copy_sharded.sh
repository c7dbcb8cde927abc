#!/usr/bin/env bash
# test_copy_sharded: COPY through shardwire into tables spread over three real
# PostgreSQL nodes.  COPY FROM STDIN (text, csv with HEADER/quotes/NULLs,
# binary) splits rows by the shard key: each row lands on exactly the node
# SHOW ROUTE names for its key; a bad row fails the whole COPY with the
# client's line number and nothing is committed on any node; COPY inside a
# client transaction follows the transaction; COPY TO STDOUT concatenates
# (one header); COPY into a reference table fills every copy; a sharded
# COPY without the key in its column list is refused clearly.
source "$(dirname "$0")/lib.sh"
sw_direct && sw_skip_test "sharded COPY needs shardwire in the path"

pg_start a
pg_start b
pg_start c

for n in a b c; do
    pg_psql $n <<'SQL'
CREATE TABLE customer (customer_id bigint PRIMARY KEY, customer_name text NOT NULL, note text, score int);
CREATE TABLE payments (payment_id bigint PRIMARY KEY, payment_mode text);
GRANT ALL ON ALL TABLES IN SCHEMA public TO PUBLIC;
SQL
done
cat >"$SW_TMP/functions.yaml" <<'YAML'
- name: customer_hash
  kind: hash
  buckets: 1024
  nodes: [node_a, node_b, node_c]
YAML
cat >"$SW_TMP/tables.yaml" <<'YAML'
- {name: customer, key: customer_id, function: customer_hash}
- {name: payments, reference: true}
YAML
sw_config_write "$SW_TMP/sw.yaml" db=shop:a functions="$SW_TMP/functions.yaml" tables="$SW_TMP/tables.yaml"
sw_start "$SW_TMP/sw.yaml"
admin() { timeout 60 psql -X -w -q -At -v ON_ERROR_STOP=1 -d "$(sw_conninfo sw_scram shardwire)" -c "$1"; }
node_of() {  # customer id -> a|b|c per SHOW ROUTE
    local r
    r=$(admin "SHOW ROUTE IN shop SELECT * FROM customer WHERE customer_id = $1" | head -1)
    case "$r" in *node_a*) echo a ;; *node_b*) echo b ;; *node_c*) echo c ;; *) echo "?$r" ;; esac
}
counts() { for n in a b c; do printf '%s ' "$(pg_psql $n -c "SELECT count(*) FROM customer")"; done; }

step "text COPY of 3000 rows splits by key; every row on its node"
for ((i = 1; i <= 3000; i++)); do
    printf '%d\tname %d\ttab\\there\t%d\n' "$i" "$i" "$((i % 7))"
done >"$SW_TMP/c.txt"
out=$(sw_psql -c "\\copy customer (customer_id, customer_name, note, score) FROM '$SW_TMP/c.txt'" 2>&1) ||
    fail "COPY failed: $out"
total=0
for n in a b c; do
    cnt=$(pg_psql $n -c "SELECT count(*) FROM customer")
    ((cnt > 500)) || fail "node $n holds only $cnt of 3000 rows"
    total=$((total + cnt))
done
assert_eq 3000 "$total" "rows over all nodes"
for id in 1 2 3 17 999 2500 3000; do
    want=$(node_of $id)
    got=""
    for n in a b c; do
        [[ $(pg_psql $n -c "SELECT count(*) FROM customer WHERE customer_id = $id") == 1 ]] && got+=$n
    done
    assert_eq "$want" "$got" "node of customer $id"
done
assert_eq "tab	here" "$(pg_psql "$(node_of 17)" -c "SELECT note FROM customer WHERE customer_id = 17")" \
    "escaped tab arrives de-escaped"
ok "3000 text rows placed by the map"

step "csv with HEADER, quotes, embedded newlines and NULLs"
{
    echo 'customer_id,customer_name,note'
    echo '5001,"Smith, Jane","said ""hi"""'
    printf '5002,"two\nlines",\n'
    echo '5003,plain,""'
} >"$SW_TMP/c.csv"
sw_psql -c "\\copy customer (customer_id, customer_name, note) FROM '$SW_TMP/c.csv' WITH (FORMAT csv, HEADER true)"
n5001=$(node_of 5001)
assert_eq 'Smith, Jane|said "hi"' "$(pg_psql $n5001 -c "SELECT customer_name || '|' || note FROM customer WHERE customer_id = 5001")"
assert_eq 'two
lines|null' "$(pg_psql "$(node_of 5002)" -c "SELECT customer_name || '|' || coalesce(note, 'null') FROM customer WHERE customer_id = 5002")"
assert_eq '|empty' "$(pg_psql "$(node_of 5003)" -c "SELECT coalesce(note, 'null') || '|empty' FROM customer WHERE customer_id = 5003")"
ok "csv quoting, newlines in quotes, NULL vs empty string"

step "binary COPY splits too"
pg_psql a -c "CREATE TEMP TABLE src (customer_id bigint, customer_name text); INSERT INTO src SELECT g, 'bin ' || g FROM generate_series(6001, 6200) g; COPY src TO STDOUT (FORMAT binary)" >"$SW_TMP/c.bin"
sw_psql -c "\\copy customer (customer_id, customer_name) FROM '$SW_TMP/c.bin' (FORMAT binary)"
assert_eq 200 "$(sw_psql -c "SELECT count(*) FROM customer WHERE customer_id BETWEEN 6001 AND 6200")"
assert_eq 1 "$(pg_psql "$(node_of 6150)" -c "SELECT count(*) FROM customer WHERE customer_id = 6150")"
ok "binary rows placed by key"

step "a bad row fails the COPY with the client's line number; nothing is committed"
before=$(counts)
{
    for ((i = 7001; i <= 7400; i++)); do printf '%d\tok\n' "$i"; done
    printf 'notanumber\tbad\n'
    for ((i = 7402; i <= 7500; i++)); do printf '%d\tok\n' "$i"; done
} >"$SW_TMP/bad.txt"
out=$(sw_psql -c "\\copy customer (customer_id, customer_name) FROM '$SW_TMP/bad.txt'" 2>&1) &&
    fail "a bad key must fail the COPY"
assert_contains "$out" "line 401" "error names the client's line"
assert_eq "$before" "$(counts)" "no node committed a row"
# a row a shard rejects (not-null violation in another column): its line
# is counted in the client's stream, not the shard's
{
    for ((i = 7001; i <= 7300; i++)); do printf '%d\tok\n' "$i"; done
    printf '7301\t\\N\n'
} >"$SW_TMP/bad2.txt"
out=$(sw_psql -c "\\copy customer (customer_id, customer_name) FROM '$SW_TMP/bad2.txt'" 2>&1) &&
    fail "a NULL name must fail the COPY"
assert_contains "$out" "line 301" "shard error line mapped to the client's"
# multi-line CSV rows: the line is the one a single server reports for the
# same file (PostgreSQL 15 says line 400 here)
{
    for ((i = 7001; i <= 7200; i++)); do printf '%d,"two\nlines"\n' "$i"; done
    printf '7201,\n'
} >"$SW_TMP/bad3.csv"
out=$(sw_psql -c "\\copy customer (customer_id, customer_name) FROM '$SW_TMP/bad3.csv' CSV" 2>&1) &&
    fail "a NULL name must fail the CSV COPY"
assert_contains "$out" "line 400:" "multi-line rows: the line a single server reports"
assert_eq "$before" "$(counts)" "no node committed a row after a shard error"
ok "errors are atomic across nodes"

step "COPY inside a transaction follows it"
printf '8001\tx\n8002\ty\n8003\tz\n' >"$SW_TMP/t.txt"
sw_psql <<SQL
BEGIN;
\\copy customer (customer_id, customer_name) FROM '$SW_TMP/t.txt'
ROLLBACK;
SQL
assert_eq 0 "$(sw_psql -c "SELECT count(*) FROM customer WHERE customer_id BETWEEN 8001 AND 8003")"
sw_psql <<SQL
BEGIN;
\\copy customer (customer_id, customer_name) FROM '$SW_TMP/t.txt'
COMMIT;
SQL
assert_eq 3 "$(sw_psql -c "SELECT count(*) FROM customer WHERE customer_id BETWEEN 8001 AND 8003")"
ok "rolled back, then committed"

step "COPY TO STDOUT concatenates every node (one CSV header)"
all=$(sw_psql -c "\\copy customer (customer_id) TO STDOUT WITH (FORMAT csv, HEADER true)")
assert_eq 1 "$(grep -c '^customer_id$' <<<"$all")" "one header line"
want=$(( $(counts | tr ' ' '+' | sed 's/+$//') ))
assert_eq "$((want + 1))" "$(wc -l <<<"$all")" "every row once, plus the header"
ok "COPY TO STDOUT"

step "binary COPY TO STDOUT: one file header, one trailer, every row"
sw_psql -c "\\copy customer (customer_id, customer_name) TO '$SW_TMP/out.bin' (FORMAT binary)"
pg_psql a -c "CREATE TABLE bincheck (customer_id bigint, customer_name text)"
pg_psql a -c "\\copy bincheck FROM '$SW_TMP/out.bin' (FORMAT binary)"
assert_eq "$want" "$(pg_psql a -c "SELECT count(*) FROM bincheck")" "the concatenated binary file loads back whole"
assert_eq 1 "$(pg_psql a -c "SELECT count(*) FROM bincheck WHERE customer_id = 5001 AND customer_name = 'Smith, Jane'")"
ok "binary COPY TO"

step "COPY into a reference table fills every copy"
printf '1\tcard\n2\tpaypal\n3\tgift_card\n' >"$SW_TMP/p.txt"
out=$(sw_psql -c "\\copy payments FROM '$SW_TMP/p.txt'" 2>&1) || fail "reference COPY failed: $out"
for n in a b c; do assert_eq 3 "$(pg_psql $n -c "SELECT count(*) FROM payments")" "payments on node $n"; done
ok "reference copies"

step "COPY without a column list: the key's place comes from the catalog"
printf '9001\tnolist\tn\t1\n9002\tnolist\t\\N\t2\n' >"$SW_TMP/nolist.txt"
out=$(sw_psql -c "\\copy customer FROM '$SW_TMP/nolist.txt'" 2>&1) || fail "COPY without a column list failed: $out"
assert_eq 1 "$(pg_psql "$(node_of 9002)" -c "SELECT count(*) FROM customer WHERE customer_id = 9002 AND note IS NULL")" \
    "row 9002 on its node"
assert_eq 2 "$(sw_psql -c "SELECT count(*) FROM customer WHERE customer_name = 'nolist'")"
ok "column order looked up"

step "refusals are clear"
out=$(sw_psql -c "\\copy customer (customer_name) FROM '$SW_TMP/t.txt'" 2>&1) && fail "COPY without the key must fail"
assert_contains "$out" "shard key customer_id"
sw_psql -c "SELECT 1" >/dev/null
ok "refused without losing the connection"
