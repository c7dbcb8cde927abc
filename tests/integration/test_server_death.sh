#!/usr/bin/env bash
# test_server_death: what a client hears when the backend serving it dies,
# checked message by message with the raw-protocol client (sw_itest wire:
# one transcript line per exchange, see itest/death.c).
#
# PostgreSQL itself, when a backend is terminated (pg_terminate_backend),
# flushes what it had buffered, sends one FATAL 57P01 and closes; killed
# with SIGKILL it sends nothing at all; either way the session is gone.
# SW_DIRECT=1 checks exactly that.  Through shardwire in transaction
# pooling the client keeps its connection instead, and it must be answered
# from the dead server's ledger: the replies already produced, then for
# every outstanding Sync (or Query) exactly one ErrorResponse (severity
# ERROR, the server's 57P01, or 08006 when there was no message) and one
# ReadyForQuery -- never a second one, never a hang -- and its input stays
# framed, so its next statement gets its own answer.  A transaction the
# death breaks is failed from the client's view (ReadyForQuery 'E', then
# 25P02, or 08006 when the death came while it was idle; its COMMIT is
# answered ROLLBACK), also when it spanned several nodes of a routed
# database.  In session pooling the client gets PostgreSQL's behaviour:
# one FATAL, then the close.
#
# Nodes: a (pooled database "plain" and shard 1 of the routed database
# "shop"), b and c (shards 2 and 3), k (database "crash": only SIGKILL is
# used there, so the crash restart of its postmaster disturbs nothing else).
source "$(dirname "$0")/lib.sh"

pg_start a
pg_start b
pg_start c
pg_start k
for n in a b c; do
    pg_psql $n -c "CREATE TABLE acct (id bigint PRIMARY KEY, v int NOT NULL)" -c "GRANT ALL ON acct TO PUBLIC"
done
cat >"$SW_TMP/functions.yaml" <<'YAML'
- name: acct_hash
  kind: hash
  nodes: [node_a, node_b, node_c]
YAML
echo "- {name: acct, key: id, function: acct_hash}" >"$SW_TMP/tables.yaml"
write_config() {  # MODE
    sw_config_write "$SW_TMP/sw.yaml" "mode=$1" size=2 query_wait_timeout=5s \
        db=plain:a db=crash:k db=shop:a functions="$SW_TMP/functions.yaml" tables="$SW_TMP/tables.yaml"
}
write_config transaction
sw_start "$SW_TMP/sw.yaml"

# shape TRANSCRIPT: without the error messages ("E(ERROR 57P01 {...})" ->
# "E(ERROR 57P01)").
shape() { sed -E 's/ \{[^}]*\}\)/)/g' <<<"$1"; }

# wire_expect NAME COMMAND EXPECTED_SHAPE [WHAT]: one exchange, compared
# without its error messages.
wire_expect() {
    sess_q "$1" "$2"
    assert_eq "$3" "$(shape "$SESS_REPLY")" "${4:-$1: $2}"
}

# backend_of NODE MARKER: pid of the node's backend running a query that
# contains MARKER (waits for it up to 10 s).
backend_of() {
    local node=$1 marker=$2 pid="" i
    for i in $(seq 200); do
        pid=$(pg_psql "$node" -c "SELECT pid FROM pg_stat_activity WHERE state = 'active' AND query LIKE '%$marker%' AND pid <> pg_backend_pid()")
        [[ -n $pid ]] && break
        sleep 0.05
    done
    [[ -n $pid && $pid != *$'\n'* ]] || fail "no single backend on $node runs '$marker' (got '$pid')"
    echo "$pid"
}

# gone NODE PID: wait until the backend has exited.
gone() {
    retry 10 test -z "$(pg_psql "$1" -c "SELECT 1 FROM pg_stat_activity WHERE pid = $2")" ||
        fail "backend $2 on $1 is still there"
}

# murder HOW NODE PID: pg_terminate_backend (the backend sends FATAL 57P01)
# or SIGKILL (nothing; the postmaster then restarts the whole node: wait
# until it accepts connections again).
murder() {
    local how=$1 node=$2 pid=$3
    if [[ $how == terminate ]]; then
        assert_eq t "$(pg_psql "$node" -c "SELECT pg_terminate_backend($pid)")" "pg_terminate_backend($pid)"
        gone "$node" "$pid"
    else
        kill -KILL "$pid"
        sleep 0.3
        retry 20 pg_psql "$node" -c "SELECT 1" || fail "node $node did not come back after the crash of backend $pid"
    fi
}

# What the client owes for an ERROR, by how the backend died.
declare -A STATE=([terminate]=57P01 [kill9]=08006)
declare -A NODE=([terminate]=a [kill9]=k)
declare -A DB=([terminate]=plain [kill9]=crash)

# ---------------------------------------------------------------- 1
for how in terminate kill9; do
    node=${NODE[$how]} st=${STATE[$how]}
    step "[transaction pooling] three pipelined batches, the first one's backend dies ($how)"
    wire_open p "" "${DB[$how]}"
    sess_q p "B SELECT pg_sleep(2) /* pipe-$how */"
    sess_q p "B SELECT 2"
    sess_q p "B SELECT 3"
    sess_q p send
    pid=$(backend_of "$node" "pipe-$how")
    murder "$how" "$node" "$pid"
    sess_q p "recv 3"
    got=$(shape "$SESS_REPLY")
    if sw_direct; then
        if [[ $how == terminate ]]; then want="1 2 E(FATAL 57P01) close"; else want="close"; fi
        assert_eq "$want" "$got" "PostgreSQL's own answer to a $how"
        ok "PostgreSQL: $got"
        sess_close p
        continue
    fi
    # Terminated, the backend flushed ParseComplete and BindComplete of the
    # first batch before its FATAL; killed, they were lost with it.
    if [[ $how == terminate ]]; then done_before="1 2 "; else done_before=""; fi
    want="${done_before}E(ERROR $st) Z(I) E(ERROR $st) Z(I) E(ERROR $st) Z(I)"
    assert_eq "$want" "$got" "the three Syncs after a $how"
    [[ $how == kill9 ]] && assert_contains "$SESS_REPLY" "lost" "the error says the connection was lost"
    wire_expect p "drain 500" "-" "nothing more after the third ReadyForQuery"
    wire_expect p "q SELECT 42" "T D(42) C(SELECT 1) Z(I)" "the next query"
    wire_expect p "B SELECT 43" "OK"
    sess_q p send
    wire_expect p "recv 1" "1 2 D(43) C(SELECT 1) Z(I)" "the next extended batch"
    sess_close p
    ok "$got; then SELECT 42 and a batch answered in frame"
done

# ---------------------------------------------------------------- 2
for how in terminate kill9; do
    node=${NODE[$how]} st=${STATE[$how]}
    step "[transaction pooling] the backend of a transaction dies during a statement ($how)"
    wire_open t "" "${DB[$how]}"
    wire_expect t "q BEGIN" "C(BEGIN) Z(T)"
    wire_expect t "q SELECT 1" "T D(1) C(SELECT 1) Z(T)"
    sess_q t "Q SELECT pg_sleep(2) /* txn-$how */"
    sess_q t send
    pid=$(backend_of "$node" "txn-$how")
    murder "$how" "$node" "$pid"
    sess_q t "recv 1"
    got=$(shape "$SESS_REPLY")
    if sw_direct; then
        if [[ $how == terminate ]]; then want="T E(FATAL 57P01) close"; else want="close"; fi
        assert_eq "$want" "$got" "PostgreSQL's own answer to a $how in a transaction"
        ok "PostgreSQL: $got"
        sess_close t
        continue
    fi
    # The RowDescription was flushed with the FATAL; a killed backend's is lost.
    if [[ $how == terminate ]]; then want="T E(ERROR $st) Z(E)"; else want="E(ERROR $st) Z(E)"; fi
    assert_eq "$want" "$got" "the statement the death interrupted"
    wire_expect t "drain 300" "-" "nothing more"
    wire_expect t "q SELECT 1" "E(ERROR 25P02) Z(E)" "a statement in the failed transaction"
    wire_expect t "q COMMIT" "C(ROLLBACK) Z(I)" "COMMIT of the failed transaction"
    wire_expect t "q SELECT 1" "T D(1) C(SELECT 1) Z(I)" "the next transaction"
    ok "$got, then 25P02, COMMIT answered ROLLBACK, next statement fine"

    step "[transaction pooling] the backend dies while its client idles in a transaction ($how)"
    wire_expect t "q BEGIN" "C(BEGIN) Z(T)"
    sess_q t "q SELECT pg_backend_pid()"
    assert_match "$SESS_REPLY" '^T D\([0-9]+\) C\(SELECT 1\) Z\(T\)$' "the backend's pid"
    pid=$(sed -E 's/.*D\(([0-9]+)\).*/\1/' <<<"$SESS_REPLY")
    murder "$how" "$node" "$pid"
    sleep 0.2
    wire_expect t "drain 300" "-" "an idle client is told nothing yet"
    sess_q t "q SELECT 1"
    assert_eq "E(ERROR 08006) Z(E)" "$(shape "$SESS_REPLY")" "the next statement"
    [[ $how == kill9 ]] && assert_contains "$SESS_REPLY" "lost" "the error says the connection was lost"
    msg=$SESS_REPLY
    wire_expect t "q SELECT 1" "E(ERROR 25P02) Z(E)" "the statement after that"
    wire_expect t "q COMMIT" "C(ROLLBACK) Z(I)" "COMMIT"
    wire_expect t "q SELECT 1" "T D(1) C(SELECT 1) Z(I)" "the next transaction"
    sess_close t
    ok "$msg; then 25P02, ROLLBACK for COMMIT, next statement fine"
done

if ! sw_direct; then
    step "[transaction pooling] a transaction on two nodes of a routed database, one backend terminated"
    SW_DB=shop sw_psql -c "INSERT INTO acct (id, v) VALUES $(seq -s, -f '(%g, 0)' 1 30)"
    ka=$(pg_psql a -c "SELECT min(id) FROM acct")
    kb=$(pg_psql b -c "SELECT min(id) FROM acct")
    [[ -n $ka && -n $kb ]] || fail "the hash left node a or b without rows"
    # no_txn NODE: no backend of the node is left inside a transaction.
    no_txn() {
        retry 5 test -z "$(pg_psql "$1" -c "SELECT pid FROM pg_stat_activity WHERE datname = 'shop' AND state LIKE 'idle in transaction%'")" ||
            fail "a backend on node $1 is still inside the lost transaction"
    }
    unchanged() {
        assert_eq "0" "$(pg_psql a -c "SELECT v FROM acct WHERE id = $ka")" "row $ka on node a after the rollback"
        assert_eq "0" "$(pg_psql b -c "SELECT v FROM acct WHERE id = $kb")" "row $kb on node b after the rollback"
        # Not locked either.
        pg_psql a -c "SET lock_timeout = '2s'" -c "UPDATE acct SET v = v WHERE id = $ka" >/dev/null ||
            fail "row $ka on node a is still locked"
    }
    wire_open r "" shop
    wire_expect r "q BEGIN" "C(BEGIN) Z(T)"
    wire_expect r "q UPDATE acct SET v = v + 1 WHERE id = $ka" "C(UPDATE 1) Z(T)"
    wire_expect r "q UPDATE acct SET v = v + 1 WHERE id = $kb" "C(UPDATE 1) Z(T)"
    sess_q r "Q SELECT pg_sleep(2), v FROM acct WHERE id = $kb /* routed-sleep */"
    sess_q r send
    pid=$(backend_of b "routed-sleep")
    murder terminate b "$pid"
    sess_q r "recv 1"
    assert_eq "T E(ERROR 57P01) Z(E)" "$(shape "$SESS_REPLY")" "the statement on node b"
    no_txn a
    wire_expect r "q SELECT v FROM acct WHERE id = $ka" "E(ERROR 25P02) Z(E)" "a statement for node a"
    wire_expect r "q COMMIT" "C(ROLLBACK) Z(I)" "COMMIT"
    unchanged
    wire_expect r "q SELECT v FROM acct WHERE id = $ka" "T D(0) C(SELECT 1) Z(I)" "node a afterwards"
    wire_expect r "q SELECT v FROM acct WHERE id = $kb" "T D(0) C(SELECT 1) Z(I)" "node b afterwards"
    ok "ERROR 57P01 + 'E', 25P02, ROLLBACK; nothing committed or left open on node a"

    step "[transaction pooling] the same with the client idle when node b's backend is terminated"
    wire_expect r "q BEGIN" "C(BEGIN) Z(T)"
    wire_expect r "q UPDATE acct SET v = v + 1 WHERE id = $ka" "C(UPDATE 1) Z(T)"
    sess_q r "q UPDATE acct SET v = v + 1 WHERE id = $kb RETURNING pg_backend_pid()"
    assert_match "$SESS_REPLY" '^T D\([0-9]+\) C\(UPDATE 1\) Z\(T\)$' "node b's backend pid"
    pid=$(sed -E 's/.*D\(([0-9]+)\).*/\1/' <<<"$SESS_REPLY")
    murder terminate b "$pid"
    sleep 0.2
    wire_expect r "drain 300" "-" "an idle client is told nothing yet"
    no_txn a
    # The next statement would go to node a, whose backend is alive.
    sess_q r "q UPDATE acct SET v = v + 1 WHERE id = $ka"
    assert_eq "E(ERROR 08006) Z(E)" "$(shape "$SESS_REPLY")" "a statement for node a"
    msg=$SESS_REPLY
    wire_expect r "q COMMIT" "C(ROLLBACK) Z(I)" "COMMIT"
    unchanged
    wire_expect r "q SELECT v FROM acct WHERE id = $kb" "T D(0) C(SELECT 1) Z(I)" "node b afterwards"
    sess_close r
    ok "$msg; ROLLBACK for COMMIT; node a rolled back"
fi

# ---------------------------------------------------------------- 3
sw_stop
write_config session
sw_start "$SW_TMP/sw.yaml"
# The client sees its real backend pid in session mode (as with PostgreSQL).
step "[session pooling] an idle client's backend is terminated"
wire_open s "" plain
murder terminate a "$SESS_PID"
wire_expect s "recv 1" "E(FATAL 57P01) close" "an idle session"
sess_close s
ok "one FATAL 57P01, then the close"

step "[session pooling] a running query's backend is terminated"
wire_open s "" plain
sess_q s "Q SELECT pg_sleep(2) /* sess-q */"
sess_q s send
murder terminate a "$(backend_of a sess-q)"
wire_expect s "recv 1" "T E(FATAL 57P01) close" "a running query"
sess_close s
ok "one FATAL 57P01, then the close"

step "[session pooling] pipelined batches, the first one's backend terminated"
wire_open s "" plain
pid=$SESS_PID
for sql in "SELECT pg_sleep(2)" "SELECT 2" "SELECT 3"; do sess_q s "B $sql"; done
sess_q s send
assert_eq "$pid" "$(backend_of a "pg_sleep(2)")" "the session's backend runs the batch"
murder terminate a "$pid"
wire_expect s "recv 3" "1 2 E(FATAL 57P01) close" "three pipelined batches"
sess_close s
ok "one FATAL 57P01 (not one per Sync, no 08006 after it), then the close"

assert_eq 1 "$(SW_DB=plain sw_psql -c "SELECT 1")" "a new session"
sw_alive || fail "shardwire died"
