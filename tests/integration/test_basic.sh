#!/usr/bin/env bash
# test_basic: everyday psql traffic through shardwire behaves exactly like a
# direct PostgreSQL connection -- result sets, multi-statement simple
# queries, errors with their SQLSTATE and a usable connection afterwards,
# ROLLBACK/COMMIT, NoticeResponse, a 100k-row result identical to the one
# read directly, a ~1 MB query string, and psql's catalog commands.
source "$(dirname "$0")/lib.sh"

pg_start a
sw_config_write "$SW_TMP/sw.yaml"
sw_start "$SW_TMP/sw.yaml"

step "simple SELECT"
assert_eq "42|hello" "$(sw_psql -c "SELECT 42, 'hello'")" "single row"
assert_eq $'1\n2\n3' "$(sw_psql -c "SELECT g FROM generate_series(1, 3) g")" "three rows"
assert_eq "" "$(sw_psql -c "SELECT 1 WHERE false")" "empty result"
ok "SELECT results"

step "multi-statement simple query"
out=$(sw_psql -c "SELECT 1; SELECT 'two'; CREATE TABLE basic_multi (x int); INSERT INTO basic_multi VALUES (1), (2); SELECT count(*) FROM basic_multi")
assert_eq $'1\ntwo\n2' "$out" "results of every statement"
ok "multi-statement query string"

step "error, then the connection is still usable"
capture out sw_psql -v VERBOSITY=verbose -c "SELECT 1/0"
assert_eq 1 "$SW_RC" "psql exit status after a failed -c command"
assert_contains "$out" "ERROR:  22012: division by zero"
# Without ON_ERROR_STOP psql goes on with the same connection.
out=$(sw_psql -v ON_ERROR_STOP=0 -v VERBOSITY=verbose 2>&1 <<'SQL'
SELECT 1/0;
SELECT 'still alive';
SQL
)
assert_contains "$out" "22012"
assert_contains "$out" "still alive"
# A failed statement inside a transaction poisons only that transaction.
out=$(sw_psql -v ON_ERROR_STOP=0 -v VERBOSITY=verbose 2>&1 <<'SQL'
BEGIN;
SELECT 1/0;
SELECT 'in aborted tx';
ROLLBACK;
SELECT 'after rollback';
SQL
)
assert_contains "$out" "25P02: current transaction is aborted"
assert_contains "$out" "after rollback"
ok "errors keep their SQLSTATE and the connection survives"

step "transactions"
sw_psql -c "CREATE TABLE basic_tx (id int PRIMARY KEY, v text)" >/dev/null
sw_psql >/dev/null <<'SQL'
BEGIN;
INSERT INTO basic_tx VALUES (1, 'rolled back');
ROLLBACK;
SQL
assert_eq 0 "$(sw_psql -c "SELECT count(*) FROM basic_tx")" "ROLLBACK leaves nothing"
sw_psql >/dev/null <<'SQL'
BEGIN;
INSERT INTO basic_tx VALUES (2, 'committed');
INSERT INTO basic_tx VALUES (3, 'committed');
COMMIT;
SQL
assert_eq "2,3" "$(SW_USER=sw_md5 sw_psql -c "SELECT string_agg(id::text, ',' ORDER BY id) FROM basic_tx")" \
    "COMMIT persists (seen from another client)"
assert_eq "2,3" "$(pg_psql a -c "SELECT string_agg(id::text, ',' ORDER BY id) FROM basic_tx")" \
    "COMMIT persists (seen directly on PostgreSQL)"
ok "BEGIN/ROLLBACK and BEGIN/COMMIT"

step "NoticeResponse"
out=$(sw_psql -c "DO \$\$BEGIN RAISE NOTICE 'hello from %', 'plpgsql'; END\$\$" 2>&1)
assert_contains "$out" "NOTICE:  hello from plpgsql"
ok "RAISE NOTICE reaches the client"

step "100k-row result matches PostgreSQL"
big_sql="SELECT g, md5(g::text), repeat('x', g % 50) FROM generate_series(1, 100000) g ORDER BY g"
sw_psql -c "$big_sql" >"$SW_TMP/big_proxy.txt"
pg_psql a -c "$big_sql" >"$SW_TMP/big_direct.txt"
assert_eq 100000 "$(wc -l <"$SW_TMP/big_proxy.txt")" "row count"
assert_eq "$(md5sum <"$SW_TMP/big_direct.txt")" "$(md5sum <"$SW_TMP/big_proxy.txt")" "checksum of the result"
ok "large result"

step "~1 MB query string"
{
    printf "SELECT length('"
    head -c 1000000 /dev/zero | tr '\0' 'x'
    printf "') AS len, md5('"
    head -c 20000 /dev/zero | tr '\0' 'y'
    printf "');\n"
} >"$SW_TMP/big_query.sql"
want_md5=$(head -c 20000 /dev/zero | tr '\0' 'y' | md5sum | cut -d' ' -f1)
assert_eq "1000000|$want_md5" "$(sw_psql -f "$SW_TMP/big_query.sql")" "big query result"
ok "big query string"

step "psql catalog commands"
sw_psql -c "CREATE TABLE basic_catalog (id serial PRIMARY KEY, label text NOT NULL)" >/dev/null
out=$(sw_psql_raw -c '\dt')
assert_contains "$out" "basic_catalog"
assert_contains "$out" "basic_tx"
out=$(sw_psql_raw -c '\d basic_catalog')
assert_contains "$out" "label"
assert_contains "$out" "basic_catalog_pkey"
out=$(sw_psql_raw -c '\d')
assert_contains "$out" "basic_catalog_id_seq"
ok "\\d and \\dt"
