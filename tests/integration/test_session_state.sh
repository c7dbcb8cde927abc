#!/usr/bin/env bash
# test_session_state: session state that lives in one server connection
# under transaction pooling.  Three clients share a pool of two server
# connections; one script of steps ("X SQL": client X runs SQL) runs against
# a plain PostgreSQL server (each client with its own backend) and through
# shardwire, and every reply must be the same.  Without pinning, a client
# would land on a server holding another client's TEMP table, prepared
# statement, advisory lock, LISTEN, WITH HOLD cursor or set_config value.
# Then: SHOW CLIENTS says who is pinned and why; a pinned client that leaves
# has its server reset before anyone else gets it; DISCARD ALL / DEALLOCATE
# ALL leave no stale shared statement behind; pool.session_state: refuse
# refuses such statements with 0A000.
source "$(dirname "$0")/lib.sh"
sw_proxy_only

pg_start a
sw_config_write "$SW_TMP/sw.yaml" mode=transaction size=2
sw_start "$SW_TMP/sw.yaml"
ORACLE_CI="host=127.0.0.1 port=$PG_PORT_a user=sw_trust dbname=shop"

# run_steps NAME [CONNINFO_EXTRA]: the steps on stdin, against the oracle
# then shardwire, every client connecting with CONNINFO_EXTRA; the replies
# ("X: REPLY" lines) must be identical.  A step "! SQL" runs SQL on the
# server itself as its superuser.
run_steps() {
    local name=$1 extra=${2:-} f=$SW_TMP/$1.steps side ci who sql
    cat >"$f"
    for side in direct proxy; do
        if [[ $side == direct ]]; then ci="$ORACLE_CI $extra"; else ci="$(sw_conninfo) $extra"; fi
        for who in A B C; do sess_open "${side}_$who" "$ci"; done
        while IFS= read -r line; do
            [[ -z $line || $line == \#* ]] && continue
            who=${line%% *}
            sql=${line#* }
            if [[ $who == '!' ]]; then  # the database's owner, on the server itself
                pg_psql a -c "$sql" >/dev/null
                echo "!: done"
                continue
            fi
            sess_q "${side}_$who" "$sql"
            echo "$who: $SESS_REPLY"
        done <"$f" >"$SW_TMP/$name.$side"
        for who in A B C; do sess_close "${side}_$who"; done
    done
    diff -u "$SW_TMP/$name.direct" "$SW_TMP/$name.proxy" >&2 || fail "$name: replies differ from PostgreSQL's"
    ok "$name: $(grep -c . "$SW_TMP/$name.direct") replies, the same as PostgreSQL's"
}

step "session state stays with its client: temp tables, PREPARE, advisory locks, cursors, set_config"
run_steps state <<'SQL'
A CREATE TEMP TABLE tt (x int)
A INSERT INTO tt VALUES (1), (2)
B SELECT count(*) FROM tt
C SELECT count(*) FROM tt
A SELECT sum(x) FROM tt
A PREPARE p (int) AS SELECT $1 * 2
B EXECUTE p (21)
A EXECUTE p (21)
A SELECT pg_advisory_lock(7)
B SELECT pg_try_advisory_lock(7)
B SELECT pg_advisory_unlock_all()
C SELECT pg_try_advisory_lock(7)
C SELECT pg_advisory_unlock_all()
A DECLARE c CURSOR WITH HOLD FOR SELECT g FROM generate_series(1, 3) g
A FETCH 1 FROM c
C FETCH 1 FROM c
A FETCH 1 FROM c
A SELECT set_config('search_path', 'pg_catalog', false)
B SHOW search_path
A SHOW search_path
A SELECT pg_backend_pid() = pg_backend_pid()
A DISCARD ALL
A SHOW search_path
B SELECT count(*) FROM tt
A SELECT count(*) FROM tt
A EXECUTE p (1)
SQL

step "LISTEN keeps its client on the server that hears the notifications"
run_steps listen <<'SQL'
A LISTEN ch
B NOTIFY ch, 'one'
C NOTIFY ch, 'two'
A SELECT 1
A \notifies
B \notifies
A UNLISTEN *
B NOTIFY ch, 'three'
A SELECT 1
A \notifies
SQL

step "settings follow their client as the server reports them"
run_steps settings "client_encoding=utf8 options='-c some.var=x'" <<'SQL'
A \param client_encoding
A SHOW client_encoding
A SET datestyle TO iso
A SET datestyle TO ymd
A SHOW datestyle
B SHOW datestyle
C SELECT 1
B SELECT 2
A SHOW datestyle
A \param DateStyle
A SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY
B SHOW default_transaction_read_only
C SHOW transaction_read_only
A SHOW transaction_read_only
B SELECT 3
C SELECT 4
A SHOW "some".var
B SET "some".var = 'y'
C SHOW "some".var
A SHOW "some".var
B SHOW "some".var
A RESET ALL
A SHOW datestyle
A SHOW transaction_read_only
SQL

step "a statement whose cached plan went stale is prepared afresh under a new name"
pg_psql a -c "CREATE TABLE plan_t (a int); INSERT INTO plan_t VALUES (1); GRANT ALL ON plan_t TO PUBLIC" >/dev/null
run_steps stale_plan <<'SQL'
A SELECT pg_backend_pid() > 0
A \prepare s1 SELECT * FROM plan_t
A \exec s1
! ALTER TABLE plan_t ADD COLUMN b int DEFAULT 7
A \exec s1
A \prepare s2 SELECT * FROM plan_t
A \exec s2
! ALTER TABLE plan_t DROP COLUMN b
A \prepare s3 SELECT 3
A DEALLOCATE s3
A \exec s3
A \exec s2
A DEALLOCATE PREPARE s2
A \exec s2
A DEALLOCATE nosuch
A DISCARD ALL
SQL

step "a setting that cannot be restored fails the statement that waited for it"
pg_psql a -c "CREATE ROLE restore_r NOLOGIN; GRANT restore_r TO sw_admin;
CREATE TABLE restore_t (who text); GRANT ALL ON restore_t TO PUBLIC, restore_r" >/dev/null
sess_open r
sess_expect r "SET ROLE restore_r" "OK SET"
sess_expect r "SELECT current_user" "ROWS restore_r"
pg_psql a -c "REVOKE ALL ON restore_t FROM restore_r; DROP ROLE restore_r" >/dev/null
# every server connection goes: the next one must be given the role again
pg_psql a -c "SELECT count(pg_terminate_backend(pid)) >= 0 FROM pg_stat_activity WHERE usename = 'sw_admin'" >/dev/null
sleep 1
sess_q r "INSERT INTO restore_t VALUES (current_user)"
assert_match "$SESS_REPLY" "^ERR [0-9A-Z]{5} could not restore this session's settings on node \"node_a\": role \"restore_r\" does not exist" "the statement after the failed restore"
assert_eq 0 "$(pg_psql a -c "SELECT count(*) FROM restore_t")" "rows the failed statement wrote"
sess_expect r "SELECT current_user" "ROWS sw_admin"
sess_expect r "INSERT INTO restore_t VALUES (current_user)" "OK INSERT 0 1"
sess_close r
ok "the statement did not run under other settings; the session goes on with its startup ones"

step "SHOW CLIENTS tells who is pinned and why"
sess_open pinned
sess_expect pinned "CREATE TEMP TABLE mine (x int)" "OK CREATE TABLE"
sess_expect pinned "SELECT pg_advisory_lock(42)" "ROWS"
sess_open console "$(sw_conninfo sw_scram shardwire)"
sess_q console "SHOW CLIENTS"
assert_contains "$SESS_REPLY" "|temp objects, advisory locks" "SHOW CLIENTS"
ok "the pinned client shows its reasons"

step "a pinned client that leaves: its server is reset before another client gets it"
sess_close pinned
sess_open next
for i in 1 2 3 4; do
    sess_expect next "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relname = 'mine' AND n.oid = pg_my_temp_schema()" "ROWS 0"
    sess_expect next "SELECT pg_try_advisory_xact_lock(42)" "ROWS t"
done
sess_close next
sess_q console "SHOW CLIENTS"
assert_not_contains "$SESS_REPLY" "temp objects" "SHOW CLIENTS after the pinned client left"
ok "no other client finds the temp table or the lock"

step "DEALLOCATE ALL and DISCARD ALL: the statements shardwire shares are prepared again"
for stmt in "DEALLOCATE ALL" "DISCARD ALL"; do
    out=$(sw_itest prepared "$(sw_conninfo)" 20 2>&1) || fail "prepared statements before $stmt: $out"
    sw_psql -c "$stmt" >/dev/null
    out=$(sw_itest prepared "$(sw_conninfo)" 20 2>&1) || fail "prepared statements after $stmt: $out"
done
ok "no 26000 after the server's statements were dropped"

step "pool.session_state: refuse"
sess_close console
sw_stop
sw_config_write "$SW_TMP/sw.yaml" mode=transaction size=2 session_state=refuse
sw_start "$SW_TMP/sw.yaml"
sess_open r
sess_q r "CREATE TEMP TABLE t1 (x int)"
assert_match "$SESS_REPLY" "^ERR 0A000 this statement creates session state \(temp objects\) that transaction pooling cannot keep" "refused CREATE TEMP TABLE"
sess_q r "SELECT pg_advisory_lock(1)"
assert_match "$SESS_REPLY" "^ERR 0A000 .*advisory locks" "refused pg_advisory_lock"
sess_expect r "SELECT pg_advisory_xact_lock(1)" "ROWS"
sess_expect r "SELECT 1" "ROWS 1"
ok "statements that would pin get 0A000, the session goes on"

step "a routed database: a pinned client keeps its servers on every node it touched"
sess_close r
sw_stop
pg_start b
pg_start o
for n in a b o; do
    pg_psql $n -c "CREATE TABLE rt (id int PRIMARY KEY, v text); GRANT ALL ON rt TO PUBLIC" >/dev/null
done
pg_psql o -c "INSERT INTO rt SELECT g, 'v' || g FROM generate_series(1, 20) g" >/dev/null
cat >"$SW_TMP/functions.yaml" <<'YAML'
- name: rt_hash
  kind: hash
  nodes: [node_a, node_b]
YAML
echo "- {name: rt, key: id, function: rt_hash}" >"$SW_TMP/tables.yaml"
sw_config_write "$SW_TMP/sw.yaml" mode=transaction size=2 nodes=a,b db=shop:a \
    functions="$SW_TMP/functions.yaml" tables="$SW_TMP/tables.yaml"
sw_start "$SW_TMP/sw.yaml"
sw_psql -c "INSERT INTO rt (id, v) VALUES $(for i in $(seq 1 20); do printf "(%d, 'v%d')," $i $i; done | sed 's/,$//')" >/dev/null
ORACLE_CI="host=127.0.0.1 port=$PG_PORT_o user=sw_trust dbname=shop"
run_steps routed <<'SQL'
A CREATE TEMP TABLE tt (x int)
A INSERT INTO tt VALUES (5)
A SELECT count(*) FROM rt WHERE id IN (1, 2, 3, 4, 5, 6)
B SELECT count(*) FROM tt
C SELECT count(*) FROM rt
A SELECT pg_advisory_lock(3)
B SELECT pg_try_advisory_lock(3)
B SELECT pg_advisory_unlock_all()
A SELECT sum(x) FROM tt
A SELECT v FROM rt WHERE id = 7
A DISCARD ALL
B SELECT count(*) FROM tt
C SELECT pg_try_advisory_lock(3)
C SELECT pg_advisory_unlock_all()
SQL
