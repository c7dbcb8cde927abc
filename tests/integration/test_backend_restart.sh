#!/usr/bin/env bash
# test_backend_restart: a PostgreSQL node dies under shardwire.  The client
# connected to it gets an error on its next query (class 08 or 57P01, not a
# hang); a client of another database on a second node keeps working the
# whole time; new connections to the dead node fail promptly; once the node
# is back on the same port, new queries succeed again without restarting
# shardwire.  Run in transaction pooling with an immediate shutdown (like a
# crash) and in session pooling with a fast shutdown (PostgreSQL sends its
# own FATAL 57P01 first).
source "$(dirname "$0")/lib.sh"

pg_start a
pg_start b

for pass in transaction:immediate session:fast; do
    mode=${pass%%:*} how=${pass#*:}
    step "[$mode pooling] set up"
    sw_config_write "$SW_TMP/sw.yaml" "mode=$mode" size=2 connect_timeout=2s query_wait_timeout=3s
    sw_start "$SW_TMP/sw.yaml"
    sess_open victim "$(sw_conninfo sw_scram shop)"
    sess_open other "$(sw_conninfo sw_scram shop_b)"
    sess_expect victim "SELECT 'a alive'" "ROWS a alive"
    sess_expect other "SELECT 'b alive'" "ROWS b alive"
    ok "clients on both nodes"

    step "[$mode pooling] node a goes down ($how shutdown)"
    if [[ $how == immediate ]]; then pg_kill a; else pg_stop a; fi
    t0=$(now_ms)
    sess_q victim "SELECT 'after kill'"
    took=$(($(now_ms) - t0))
    if sw_direct && [[ $how == immediate ]]; then
        # PostgreSQL only sends a WARNING before dropping the socket: libpq
        # reports the lost connection without a SQLSTATE.  shardwire must do
        # better and send 08006.
        assert_match "$SESS_REPLY" "^ERR (08[0-9A-Z]{3}|57P01|NOSTATE server closed the connection) " \
            "victim's next query"
    else
        assert_match "$SESS_REPLY" "^ERR (08[0-9A-Z]{3}|57P01) " "victim's next query"
    fi
    ((took < 10000)) || fail "victim's error took ${took} ms"
    ok "victim got: $SESS_REPLY (${took} ms)"

    sess_expect other "SELECT 'b still alive'" "ROWS b still alive"
    assert_eq 42 "$(SW_DB=shop_b sw_psql -c "SELECT 42")" "new client on node b"
    ok "node b unaffected"

    t0=$(now_ms)
    capture out sw_psql -c "SELECT 1"
    took=$(($(now_ms) - t0))
    [[ $SW_RC != 0 ]] || fail "a query on the dead node succeeded"
    ((took < 10000)) || fail "failing on the dead node took ${took} ms"
    ok "new client of the dead node fails in ${took} ms: $(head -n 1 <<<"$out")"

    step "[$mode pooling] node a back on the same port"
    pg_restart a
    retry 10 sw_psql -c "SELECT 1" || fail "node a not usable through shardwire 10 s after its restart"
    # (synchronous_commit is off: whatever was not flushed before an
    # immediate shutdown may be gone, so create what is needed here.)
    assert_eq 7 "$(sw_psql -c "CREATE TABLE IF NOT EXISTS restart_t (n int); INSERT INTO restart_t VALUES (7); SELECT max(n) FROM restart_t")" \
        "write after the restart"
    sess_expect other "SELECT 'b fine'" "ROWS b fine"
    sw_alive || fail "shardwire died"
    ok "queries succeed again without restarting shardwire"

    sess_close victim
    sess_close other
    sw_stop
done
