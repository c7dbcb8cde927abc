#!/usr/bin/env bash
# test_drivers: real drivers under transaction pooling, three connections on
# a pool of two server connections.  psycopg 3 (Debian's python3-psycopg)
# runs tests/integration/drivers/psycopg_pooling.py -- automatic prepared
# statements, DEALLOCATE ALL / DISCARD ALL, temp tables, advisory locks,
# settings -- and node-postgres (pg 8 from the npm registry) runs
# tests/integration/drivers/pg_pooling.js -- named statements, DEALLOCATE
# ALL behind the driver's back, the same session state -- each on a plain
# PostgreSQL server and through shardwire; every line they print must be
# the same.
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

step "node-postgres: named statements, DEALLOCATE ALL behind its back, temp tables, locks, settings"
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    [[ $(id -u) == 0 ]] || fail "node and npm are needed (apt-get install nodejs npm)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null || fail "could not install nodejs and npm"
fi
mkdir -p "$SW_TMP/node"
timeout 120 npm install --prefix "$SW_TMP/node" --no-audit --no-fund --silent pg@8 >"$SW_TMP/npm.log" 2>&1 ||
    { cat "$SW_TMP/npm.log" >&2; fail "npm install pg@8"; }
PGMOD=$SW_TMP/node/node_modules/pg
_sw_resolve sw_scram shop
PROXY_URL="postgresql://$_R_USER:$_R_PW@$_R_HOST:$_R_PORT/$_R_DB"
ORACLE_URL="postgresql://sw_trust@127.0.0.1:$PG_PORT_a/shop"
timeout 60 node "$SW_SRC/tests/integration/drivers/pg_pooling.js" "$PGMOD" "$ORACLE_URL" >"$SW_TMP/nodepg.direct" 2>&1 ||
    { cat "$SW_TMP/nodepg.direct" >&2; fail "node-postgres script against PostgreSQL"; }
timeout 60 node "$SW_SRC/tests/integration/drivers/pg_pooling.js" "$PGMOD" "$PROXY_URL" >"$SW_TMP/nodepg.proxy" 2>&1 ||
    { cat "$SW_TMP/nodepg.proxy" >&2; fail "node-postgres script through shardwire"; }
diff -u "$SW_TMP/nodepg.direct" "$SW_TMP/nodepg.proxy" >&2 || fail "node-postgres: output differs from PostgreSQL's"
assert_contains "$(cat "$SW_TMP/nodepg.proxy")" "done: true" "node-postgres run"
ok "node-postgres: $(grep -c . "$SW_TMP/nodepg.direct") lines, the same as on PostgreSQL"
