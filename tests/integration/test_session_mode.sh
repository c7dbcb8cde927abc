#!/usr/bin/env bash
# test_session_mode: session pooling.  A client keeps one server connection
# for its whole session: LISTEN/NOTIFY works (also while idle) and the
# notification's pid is the pid the client was given; session state lasts
# across transactions.  When the client leaves, the server connection is
# reset (DISCARD ALL) before the next client gets it: no temp table, SET,
# LISTEN or prepared statement of the previous client is visible.
source "$(dirname "$0")/lib.sh"

pg_start a
sw_config_write "$SW_TMP/sw.yaml" mode=session size=2
sw_start "$SW_TMP/sw.yaml"

step "LISTEN/NOTIFY"
sw_itest notify "$(sw_conninfo)"
ok "notifications delivered, pid matches"

step "session state lasts across transactions"
sess_open s1
client_pid=$SESS_PID
sess_expect s1 "SELECT pg_backend_pid()" "ROWS $client_pid"
sess_expect s1 "SET statement_timeout = '777ms'" "OK SET"
sess_expect s1 "CREATE TEMP TABLE sess_tmp (x int)" "OK CREATE TABLE"
sess_expect s1 "BEGIN" "OK BEGIN"
sess_expect s1 "INSERT INTO sess_tmp VALUES (1)" "OK INSERT 0 1"
sess_expect s1 "COMMIT" "OK COMMIT"
sess_expect s1 "SELECT count(*), current_setting('statement_timeout'), pg_backend_pid() FROM sess_tmp" \
    "ROWS 1|777ms|$client_pid"
sess_close s1
ok "same server, same state for the whole session"

step "the next client does not inherit the previous session's state"
sw_stop
sw_config_write "$SW_TMP/sw.yaml" mode=session size=1
sw_start "$SW_TMP/sw.yaml"
first=$(sw_psql <<'SQL'
SET statement_timeout = '777ms';
SET search_path = pg_catalog;
CREATE TEMP TABLE sess_tmp (x int);
LISTEN sess_channel;
PREPARE sess_stmt AS SELECT 1;
SELECT pg_backend_pid();
SQL
)
[[ $first =~ ^[0-9]+$ ]] || fail "unexpected output of the first client: $first"
second=$(sw_psql -c "SELECT pg_backend_pid(), current_setting('statement_timeout'),
    current_setting('search_path'), to_regclass('pg_temp.sess_tmp') IS NULL,
    (SELECT count(*) FROM pg_listening_channels()), (SELECT count(*) FROM pg_prepared_statements)")
IFS='|' read -r pid2 timeout2 path2 notemp2 listens2 stmts2 <<<"$second"
if sw_direct; then
    echo "skip (direct mode): server connection reuse (pid $first vs $pid2)"
else
    assert_eq "$first" "$pid2" "the second client reuses the single server connection"
fi
assert_eq 0 "$timeout2" "statement_timeout after the previous client's SET"
assert_eq '"$user", public' "$path2" "search_path after the previous client's SET"
assert_eq t "$notemp2" "temp table of the previous client is gone"
assert_eq 0 "$listens2" "LISTEN of the previous client is gone"
assert_eq 0 "$stmts2" "prepared statement of the previous client is gone"
ok "server connection was reset between clients"
