#!/usr/bin/env bash
# test_writes: writes and transactions across nodes mean what they mean on
# one server.  Each script below runs twice with psql: on a plain
# PostgreSQL server holding the whole database (the oracle, node o) and
# through shardwire over three nodes (t sharded by id, r a reference table
# with a copy on every node, g a sharded table with a bigserial id).  The
# echoed statements, every reply (tags, rows, errors with their SQLSTATE)
# and then the tables' final contents must be identical, and every copy of
# r must hold the same rows.
source "$(dirname "$0")/lib.sh"
sw_direct && sw_skip_test "compares shardwire with PostgreSQL itself"

SCHEMA="CREATE TABLE t (id int PRIMARY KEY, v text, n int DEFAULT 0);
CREATE TABLE r (id int PRIMARY KEY, name text, price numeric);
CREATE TABLE d (id int PRIMARY KEY, v text UNIQUE DEFERRABLE INITIALLY DEFERRED);
GRANT ALL ON t, r, d TO PUBLIC;"
SEED="INSERT INTO t (id, v, n) VALUES $(for i in $(seq 1 30); do printf "(%d, 'v%d', %d)," $i $i $((i * 10)); done | sed 's/,$//');
INSERT INTO r (id, name, price) VALUES $(for i in $(seq 1 10); do printf "(%d, 'p%d', %d.5)," $i $i $i; done | sed 's/,$//');"

pg_start o
pg_start a
pg_start b
pg_start c
for n in o a b c; do pg_psql $n -c "$SCHEMA"; done
pg_psql o -c "$SEED"
cat >"$SW_TMP/functions.yaml" <<'YAML'
- name: t_hash
  kind: hash
  nodes: [node_a, node_b, node_c]
YAML
cat >"$SW_TMP/tables.yaml" <<'YAML'
- {name: t, key: id, function: t_hash}
- {name: d, key: id, function: t_hash}
- {name: r, reference: true}
YAML
sw_config_write "$SW_TMP/sw.yaml" mode=transaction size=4 nodes=a,b,c db=shop:a \
    functions="$SW_TMP/functions.yaml" tables="$SW_TMP/tables.yaml"
sw_start "$SW_TMP/sw.yaml"
while read -r line; do sw_psql -c "$line"; done <<<"$SEED"
ORACLE_CI="host=127.0.0.1 port=$PG_PORT_o user=sw_trust dbname=shop"

# run_both NAME: the script on stdin, both ways; replies then contents compared.
run_both() {
    local name=$1 f=$SW_TMP/$1.sql
    cat >"$f"
    timeout 60 psql -X -w -a -v VERBOSITY=sqlstate -d "$ORACLE_CI" -f "$f" >"$SW_TMP/$name.direct" 2>&1 || true
    timeout 60 psql -X -w -a -v VERBOSITY=sqlstate -d "$(sw_conninfo)" -f "$f" >"$SW_TMP/$name.proxy" 2>&1 || true
    if ! diff -u "$SW_TMP/$name.direct" "$SW_TMP/$name.proxy" >"$SW_TMP/$name.diff"; then
        cat "$SW_TMP/$name.diff" >&2
        fail "$name: replies differ from PostgreSQL's"
    fi
    contents_equal "$name"
    ok "$name: same replies as PostgreSQL ($(grep -c . "$SW_TMP/$name.direct") lines), same contents"
}

# Every table's rows on the oracle equal their union over the nodes; every
# copy of r equals the oracle's r.
contents_equal() {
    local name=$1 tbl want got n
    for tbl in t d; do
        want=$(pg_psql o -c "SELECT * FROM $tbl ORDER BY 1")
        got=$(for n in a b c; do pg_psql $n -c "SELECT * FROM $tbl"; done | sort -t'|' -k1,1n)
        [[ $want == "$got" ]] || fail "$name: table $tbl differs from the oracle's:
$(diff <(echo "$want") <(echo "$got") | head -20)"
    done
    want=$(pg_psql o -c "SELECT * FROM r ORDER BY 1")
    for n in a b c; do
        got=$(pg_psql $n -c "SELECT * FROM r ORDER BY 1")
        [[ $want == "$got" ]] || fail "$name: copy of r on node $n differs from the oracle's:
$(diff <(echo "$want") <(echo "$got") | head -20)"
    done
}

step "a failed transaction fails on every node"
run_both failed_txn <<'SQL'
BEGIN;
INSERT INTO t (id, v) VALUES (101, 'a');
INSERT INTO t (id, v) VALUES (1, 'duplicate');
INSERT INTO t (id, v) VALUES (102, 'b');
INSERT INTO t (id, v) VALUES (103, 'c');
SELECT count(*) FROM t;
COMMIT;
SELECT count(*) FROM t WHERE id > 100;
SQL

step "savepoints reach the nodes that join after them"
run_both savepoints <<'SQL'
BEGIN;
INSERT INTO t (id, v) VALUES (104, 'a');
SAVEPOINT a;
INSERT INTO t (id, v) VALUES (105, 'b');
INSERT INTO t (id, v) VALUES (106, 'c');
INSERT INTO t (id, v) VALUES (107, 'd');
ROLLBACK TO SAVEPOINT a;
INSERT INTO t (id, v) VALUES (108, 'e');
SAVEPOINT b;
SAVEPOINT "Odd ""name""";
INSERT INTO t (id, v) VALUES (109, 'f');
INSERT INTO t (id, v) VALUES (110, 'g');
RELEASE SAVEPOINT b;
ROLLBACK TO SAVEPOINT "Odd ""name""";
ROLLBACK TO SAVEPOINT a;
INSERT INTO t (id, v) VALUES (111, 'h');
INSERT INTO t (id, v) VALUES (1, 'duplicate');
SELECT 1;
ROLLBACK TO a;
INSERT INTO t (id, v) VALUES (112, 'i');
SAVEPOINT c;
SELECT no_such_column FROM t WHERE id = 1;
ROLLBACK TO c;
INSERT INTO t (id, v) VALUES (113, 'j');
RELEASE a;
ROLLBACK TO a;
COMMIT;
SELECT id, v FROM t WHERE id > 100 ORDER BY id;
SQL

step "writes to reference tables count logical rows"
run_both reference_counts <<'SQL'
UPDATE r SET price = price + 1 WHERE id = 1;
UPDATE r SET price = price * 2;
UPDATE r SET name = name || '!' WHERE id <= 3 RETURNING id, name;
DELETE FROM r WHERE id > 8;
DELETE FROM r WHERE id = 8 RETURNING *;
INSERT INTO r (id, name, price) VALUES (20, 'x', 1), (21, 'y', 2) RETURNING id;
BEGIN;
UPDATE r SET price = 0 WHERE id = 20;
INSERT INTO t (id, v) VALUES (120, 'with r');
COMMIT;
SELECT * FROM r ORDER BY id;
SQL

step "a transaction on several nodes commits atomically (two-phase commit)"
# Two ids on one node (the node of t's row 1): their duplicate d.v, a
# deferred unique constraint, fails that node's part only at commit.
for n in a b c; do
    ids=$(pg_psql $n -c "SELECT string_agg(id::text, ' ' ORDER BY id) FROM t WHERE id <= 30")
    [[ " $ids " == *" 1 "* ]] && break
done
read -r SAME1 SAME2 _ <<<"$ids"
[[ -n ${SAME2:-} ]] || fail "no two seeded ids on one node"
run_both two_phase <<SQL
BEGIN;
INSERT INTO t (id, v) VALUES (201, 'a'), (202, 'b'), (203, 'c'), (204, 'd');
UPDATE r SET price = 99 WHERE id = 2;
SELECT count(*) FROM t WHERE id > 200;
COMMIT;
SELECT id, v FROM t WHERE id > 200 ORDER BY id;
BEGIN;
INSERT INTO d (id, v) VALUES ($SAME1, 'same');
INSERT INTO d (id, v) VALUES (1001, 'x'), (1002, 'y'), (1003, 'z');
INSERT INTO d (id, v) VALUES ($SAME2, 'same');
INSERT INTO t (id, v) VALUES (205, 'rolled back with d');
COMMIT;
SELECT count(*) FROM d;
SELECT count(*) FROM t WHERE id = 205;
BEGIN ISOLATION LEVEL REPEATABLE READ;
INSERT INTO t (id, v) VALUES (206, 'e'), (207, 'f'), (208, 'g');
SAVEPOINT s1;
INSERT INTO t (id, v) VALUES (209, 'h'), (210, 'i'), (211, 'j');
ROLLBACK TO s1;
SHOW transaction_isolation;
COMMIT;
SELECT id FROM t WHERE id > 205 ORDER BY id;
SQL
for n in a b c; do
    left=$(pg_psql $n -c "SELECT count(*) FROM pg_prepared_xacts")
    assert_eq 0 "$left" "prepared transactions left on node $n"
done
ok "no prepared transaction is left behind"
decided=0
for n in a b c; do
    decided=$((decided + $(pg_psql $n -c "SELECT count(*) FROM shardwire.commit_decisions WHERE committed")))
done
# reference_counts' transaction, the first and third here, and the
# multi-node writes outside transactions (the seed rows, reference updates)
((decided >= 3)) || fail "only $decided commit decisions recorded on the coordinators"
ok "the commits were decided in PostgreSQL (shardwire.commit_decisions)"
log=$(cat "$SW_TMP/shardwire.log")
assert_not_contains "$log" "left to recovery" "commit log"

step "writes that would mean something else on several nodes are refused"
run_refused() {  # SQL WORDS-OF-THE-MESSAGE
    local out
    out=$(sw_psql -c "$1" 2>&1) && fail "accepted: $1"
    assert_contains "$out" "$2" "refusal of: $1"
}
run_refused "UPDATE t SET n = (SELECT max(n) FROM t) WHERE id = 1" "reads t on every shard"
run_refused "DELETE FROM t WHERE id = 2 AND n < (SELECT avg(n) FROM t)" "reads t on every shard"
run_refused "UPDATE r SET name = random()::text WHERE id = 1" "random() in a write to reference table r"
run_refused "INSERT INTO r (id, name) VALUES (50, clock_timestamp()::text)" "clock_timestamp() in a write"
run_refused "UPDATE r SET name = CURRENT_TIMESTAMP::text" "CURRENT_TIMESTAMP() in a write"
# the same shapes with the key in the subquery, or on one copy, still run
run_both still_run <<'SQL'
UPDATE t SET n = (SELECT max(n) FROM t WHERE id = 1) + 1 WHERE id = 1;
UPDATE t SET v = (now() > '2000-01-01')::text WHERE id = 3;
SQL
ok "keyed writes with a cross-shard subquery, and volatile values on reference copies, are refused"

step "a write on several nodes outside a transaction is atomic"
run_both implicit <<'SQL'
INSERT INTO t (id, v) VALUES (301, 'a'), (302, 'b'), (303, 'c'), (304, 'd');
INSERT INTO t (id, v) VALUES (305, 'e'), (306, 'f'), (1, 'duplicate'), (307, 'g');
UPDATE r SET price = 7 WHERE id = 3;
DELETE FROM r WHERE id = 4 RETURNING id;
SELECT id FROM t WHERE id > 300 ORDER BY id;
SQL

step "SET TRANSACTION reaches the nodes that join later"
run_both set_transaction <<'SQL'
BEGIN;
SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY;
SELECT count(*) FROM t WHERE id = 1;
SELECT id, current_setting('transaction_isolation') AS iso, current_setting('transaction_read_only') AS ro
  FROM t WHERE id IN (1, 2, 3, 4, 5, 6, 7, 8, 9) ORDER BY id;
INSERT INTO t (id, v) VALUES (7001, 'read only');
ROLLBACK;
SQL

step "executemany: keyed INSERTs to several shards in one pipelined batch"
sw_itest pipeline-many "$(sw_conninfo)" t 5000 40
sw_itest pipeline-many "$(sw_conninfo)" t 6000 40 txn
n=0
for node in a b c; do n=$((n + $(pg_psql $node -c "SELECT count(*) FROM t WHERE id >= 5000 AND id < 7000"))); done
assert_eq 80 "$n" "rows of the two batches over the nodes"
ok "one Sync after INSERTs to every shard: all 80 rows, no hang"
