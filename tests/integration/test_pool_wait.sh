#!/usr/bin/env bash
# test_pool_wait: a client that cannot get a server connection in time is
# told so.  Pool of one server, query_wait_timeout 1s: while client A holds
# a transaction open, client B's query fails after about a second with
# 53300 (too many connections), A's transaction is unaffected and commits,
# and a waiting query that gets the server within the timeout just runs.
source "$(dirname "$0")/lib.sh"

pg_start a
sw_config_write "$SW_TMP/sw.yaml" mode=transaction size=1 query_wait_timeout=1s
sw_start "$SW_TMP/sw.yaml"
sw_psql -c "CREATE TABLE wait_t (n int)"

step "a queued query runs once the server is released"
sess_open a
sess_open b
sess_expect a "BEGIN" "OK BEGIN"
sess_expect a "SELECT 'a holds the server'" "ROWS a holds the server"
sess_send b "SELECT 'b got it'"
sleep 0.3
sess_expect a "COMMIT" "OK COMMIT"
sess_recv b 10
assert_eq "ROWS b got it" "$SESS_REPLY" "queued query of b"
ok "waiting query served after A's COMMIT"

step "a query waiting longer than query_wait_timeout fails with 53300"
sess_expect a "BEGIN" "OK BEGIN"
sess_expect a "INSERT INTO wait_t VALUES (1)" "OK INSERT 0 1"
t0=$(now_ms)
# One-shot client of the same user and database, hence the same pool:
# whether shardwire refuses at login or at the query, the answer carries
# the SQLSTATE.
out=$(echo "SELECT 'c should wait'" | sw_itest sql "$(sw_conninfo)" 2>&1) || true
took=$(($(now_ms) - t0))
if sw_proxy_only "no pool limit on PostgreSQL"; then
    assert_contains "$out" "ERR 53300" "client c"
    ((took >= 800)) || fail "client c failed after ${took} ms, before query_wait_timeout"
    ((took < 5000)) || fail "client c failed only after ${took} ms"
    ok "client c refused after ${took} ms: $(grep ERR <<<"$out")"
fi
sess_expect a "SELECT count(*) FROM wait_t" "ROWS 1"
sess_expect a "COMMIT" "OK COMMIT"
assert_eq 1 "$(pg_psql a -c "SELECT count(*) FROM wait_t")" "A's transaction committed"
ok "A's transaction committed"

step "b, queued again, still works"
sess_expect b "SELECT 'b again'" "ROWS b again"
assert_eq 1 "$(sw_psql -c "SELECT count(*) FROM wait_t")" "new client"
sess_close a
sess_close b
ok "pool usable after the timeout"
