#!/usr/bin/env bash
# test_copy: COPY through shardwire.  sw_itest drives COPY FROM STDIN (text
# and CSV, in chunks that split rows), COPY TO STDOUT with a byte-exact
# comparison, a bad row (22P02, nothing committed), CopyFail and a COPY in
# a rolled-back transaction; psql's \copy moves a file in and out again
# unchanged.
source "$(dirname "$0")/lib.sh"

pg_start a
sw_config_write "$SW_TMP/sw.yaml" mode=transaction size=2
sw_start "$SW_TMP/sw.yaml"

step "COPY protocol via libpq"
sw_itest copy "$(sw_conninfo)" 20000
ok "sw_itest copy"

step "psql \\copy in and out with files"
sw_psql -c "CREATE TABLE copy_items (id int PRIMARY KEY, name text, price numeric(10,2), tags text[])"
for i in $(seq 1 5000); do
    printf '%d\titem %d\t%d.%02d\t{a,b%d}\n' "$i" "$i" $((i / 7)) $((i % 100)) "$i"
done >"$SW_TMP/items.tsv"
sw_psql -c "\\copy copy_items FROM '$SW_TMP/items.tsv'"
assert_eq 5000 "$(sw_psql -c "SELECT count(*) FROM copy_items")" "rows loaded by \\copy"
sw_psql -c "\\copy (SELECT * FROM copy_items ORDER BY id) TO '$SW_TMP/items_out.tsv'"
cmp "$SW_TMP/items.tsv" "$SW_TMP/items_out.tsv" || fail "\\copy round trip changed the data"
sw_psql -c "\\copy copy_items TO '$SW_TMP/items.csv' WITH (FORMAT csv, HEADER)"
assert_eq "id,name,price,tags" "$(head -n 1 "$SW_TMP/items.csv")" "CSV header"
assert_eq 5001 "$(wc -l <"$SW_TMP/items.csv")" "CSV lines"
sw_psql -c "TRUNCATE copy_items"
sw_psql -c "\\copy copy_items FROM '$SW_TMP/items.csv' WITH (FORMAT csv, HEADER)"
assert_eq "5000|$(pg_psql a -c "SELECT sum(price) FROM copy_items")" \
    "$(sw_psql -c "SELECT count(*), sum(price) FROM copy_items")" "CSV reload"
ok "\\copy both ways"

step "bad file through \\copy"
printf '1\tok\t1.00\t{}\nnot-a-number\tbad\t1\t{}\n' >"$SW_TMP/bad.tsv"
sw_psql -c "TRUNCATE copy_items"
capture out sw_psql -v VERBOSITY=verbose -c "\\copy copy_items FROM '$SW_TMP/bad.tsv'"
[[ $SW_RC != 0 ]] || fail "\\copy of a bad file succeeded"
assert_contains "$out" "22P02"
assert_eq 0 "$(sw_psql -c "SELECT count(*) FROM copy_items")" "nothing committed from the bad file"
ok "bad row rejected with 22P02, nothing committed"
