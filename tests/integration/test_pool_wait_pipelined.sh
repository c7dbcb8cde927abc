#!/usr/bin/env bash
# test_pool_wait_pipelined: a client whose pipelined requests cannot get a
# server within query_wait_timeout.  Pool of one server (per user and
# database), query_wait_timeout 1s; client A holds the server in an open
# transaction while client B, a raw-protocol client of the same pool,
# pipelines a Query, a Parse/Bind/Execute/Sync batch and a Query in one
# write.  Each request must get its own 53300 error and each Sync or Query
# exactly one ReadyForQuery (what PostgreSQL would send had each one
# failed), and B's input must stay framed: the half of a message it had
# sent when the timeout struck, and a batch cut before its Sync, are
# completed and answered correctly afterwards.  Once A commits, B's
# requests run.  PostgreSQL has no pool to wait for: SW_DIRECT=1 runs the
# same exchanges, which PostgreSQL simply answers, to prove the transcripts.
source "$(dirname "$0")/lib.sh"

pg_start a
sw_config_write "$SW_TMP/sw.yaml" mode=transaction size=1 query_wait_timeout=1s
sw_start "$SW_TMP/sw.yaml"

shape() { sed -E 's/ \{[^}]*\}\)/)/g' <<<"$1"; }
# expect NAME COMMAND SHAPE_VIA_SHARDWIRE SHAPE_FROM_POSTGRESQL [WHAT]
expect() {
    local want=$3
    sw_direct && want=$4
    sess_q "$1" "$2"
    assert_eq "$want" "$(shape "$SESS_REPLY")" "${5:-$2}"
}
E='E(ERROR 53300) Z(I)'

sess_open a "$(sw_conninfo sw_trust shop)"
wire_open b sw_trust shop
sess_expect a "BEGIN" "OK BEGIN"
sess_expect a "SELECT 'a holds the server'" "ROWS a holds the server"

step "Query, extended batch, Query pipelined while the only server is held; a fourth message half sent"
sess_q b "Q SELECT 1"
sess_q b "B SELECT 2"
sess_q b "Q SELECT 3"
sess_q b "Q SELECT 'fourth'"   # 1 + 4 + 16 bytes
t0=$(now_ms)
sess_q b "sendbut 10"
expect b "recv 3 5" "$E $E $E" \
    "T D(1) C(SELECT 1) Z(I) 1 2 D(2) C(SELECT 1) Z(I) T D(3) C(SELECT 1) Z(I)" "three pipelined requests"
took=$(($(now_ms) - t0))
if ! sw_direct; then
    ((took >= 800 && took < 4000)) || fail "the pipelined requests failed after $took ms (query_wait_timeout 1s)"
fi
expect b "drain 300" "-" "-" "after the third ReadyForQuery (half a message pending)"
ok "one 53300 and one ReadyForQuery each, after $took ms; nothing for the half message"

step "the rest of the half-sent message, the server still held"
expect b send "OK 10" "OK 10" "the rest of the fourth message"
expect b "recv 1 5" "$E" "T D(fourth) C(SELECT 1) Z(I)" "the completed fourth message"
ok "framed: the completed message waited and failed on its own"

step "a batch cut before its Sync"
sess_q b "B SELECT 5"
sess_q b "sendbut 5"
# (PostgreSQL keeps its replies until the Sync; shardwire may say at once
# that the batch failed.)
expect b "recv 1 2" "E(ERROR 53300) timeout" "timeout" "Parse/Bind/Execute without their Sync"
sess_q b send
expect b "recv 1" "Z(I)" "1 2 D(5) C(SELECT 1) Z(I)" "the Sync"
expect b "drain 300" "-" "-" "after the Sync"
ok "the batch failed once, its Sync got the one ReadyForQuery"

step "once A commits, B's requests run, a message split inside its header too"
sess_expect a "COMMIT" "OK COMMIT"
sess_q b "Q SELECT 'sixth'"
sess_q b "sendbut 18"  # 3 bytes: type and half the length word
sess_q b "sleep 300"
sess_q b send
expect b "recv 1" "T D(sixth) C(SELECT 1) Z(I)" "T D(sixth) C(SELECT 1) Z(I)" "a message split in its header"
sess_q b "Q SELECT 7"
sess_q b "B SELECT 8"
sess_q b "Q SELECT 9"
sess_q b send
expect b "recv 3" "T D(7) C(SELECT 1) Z(I) 1 2 D(8) C(SELECT 1) Z(I) T D(9) C(SELECT 1) Z(I)" \
    "T D(7) C(SELECT 1) Z(I) 1 2 D(8) C(SELECT 1) Z(I) T D(9) C(SELECT 1) Z(I)" "pipelined again"
expect b "drain 300" "-" "-"
sess_close b
sess_close a
sw_alive || fail "shardwire died"
ok "B's stream stayed framed through every timeout"
