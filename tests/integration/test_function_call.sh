#!/usr/bin/env bash
# test_function_call: FunctionCall ('F') under transaction pooling.  A
# FunctionCall is answered by PostgreSQL with FunctionCallResponse or an
# ErrorResponse (42883 for an unknown OID), then one ReadyForQuery; in a
# failed transaction it gets 25P02.  A proxy that counts that reply wrong
# leaves a pooled server one reply behind, and the next client to get that
# server reads another client's rows.  So: 4 clients send FunctionCalls
# (unknown OID 1, and int4pl, OID 177, with two binary int4 arguments)
# pipelined and interleaved with Queries and extended batches, in and out
# of transactions, while 8 other clients run SELECT <a number of their own>;
# pool of 2 servers, so every server passes between all of them hundreds of
# times.  Every reply is compared in full with PostgreSQL's (SW_DIRECT=1
# runs the same clients against PostgreSQL): zero wrong answers.
source "$(dirname "$0")/lib.sh"

pg_start a
sw_config_write "$SW_TMP/sw.yaml" mode=transaction size=2 query_wait_timeout=20s
sw_start "$SW_TMP/sw.yaml"

step "4 FunctionCall clients and 8 SELECT clients, pool of 2"
_sw_resolve sw_trust shop
t0=$(now_ms)
capture out sw_itest fnmix "$_R_HOST" "$_R_PORT" sw_trust "$_R_DB" 150
echo "$out"
assert_eq 0 "$SW_RC" "fnmix"
ok "every reply was its own client's and PostgreSQL's ($(($(now_ms) - t0)) ms)"

assert_eq 3 "$(sw_psql -c "SELECT 1 + 2")" "a new client afterwards"
sw_alive || fail "shardwire died"
