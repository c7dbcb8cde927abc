#!/usr/bin/env bash
# test_drivers: real drivers under transaction pooling, three connections on
# a pool of two server connections.  psycopg 3 (Debian's python3-psycopg)
# runs tests/integration/drivers/psycopg_pooling.py -- automatic prepared
# statements, DEALLOCATE ALL / DISCARD ALL, temp tables, advisory locks,
# settings -- on a plain PostgreSQL server and through shardwire; every
# line it prints must be the same.
source "$(dirname "$0")/lib.sh"
sw_proxy_only

PY=/usr/bin/python3
"$PY" -c "import psycopg" 2>/dev/null || fail "psycopg 3 is missing for $PY (bash scripts/deps.sh installs python3-psycopg)"

pg_start a
sw_config_write "$SW_TMP/sw.yaml" mode=transaction size=2
sw_start "$SW_TMP/sw.yaml"
ORACLE_CI="host=127.0.0.1 port=$PG_PORT_a user=sw_trust dbname=shop"

step "psycopg 3: prepared statements, DEALLOCATE ALL, temp tables, locks, settings"
timeout 60 "$PY" "$SW_SRC/tests/integration/drivers/psycopg_pooling.py" "$ORACLE_CI" >"$SW_TMP/psycopg.direct" 2>&1 ||
    { cat "$SW_TMP/psycopg.direct" >&2; fail "psycopg script against PostgreSQL"; }
timeout 60 "$PY" "$SW_SRC/tests/integration/drivers/psycopg_pooling.py" "$(sw_conninfo)" >"$SW_TMP/psycopg.proxy" 2>&1 ||
    { cat "$SW_TMP/psycopg.proxy" >&2; fail "psycopg script through shardwire"; }
diff -u "$SW_TMP/psycopg.direct" "$SW_TMP/psycopg.proxy" >&2 || fail "psycopg: output differs from PostgreSQL's"
assert_contains "$(cat "$SW_TMP/psycopg.proxy")" "done: True" "psycopg run"
ok "psycopg 3: $(grep -c . "$SW_TMP/psycopg.direct") lines, the same as on PostgreSQL"
