#!/usr/bin/env bash
# test_extended: the extended query protocol through transaction pooling.
# libpq pipeline mode (ordered results, error -> PIPELINE_ABORTED until
# Sync, recovery after it) and named prepared statements used across many
# transactions.  The pool has 2 server connections for 3 concurrent
# clients, so consecutive transactions of a client land on different
# servers and each server sees several clients' statement names: the
# statements must follow their client and stay private to it.
source "$(dirname "$0")/lib.sh"

pg_start a
sw_config_write "$SW_TMP/sw.yaml" mode=transaction size=2
sw_start "$SW_TMP/sw.yaml"

step "pipeline mode"
sw_itest pipeline "$(sw_conninfo)"
ok "pipeline"

step "named prepared statements, one client"
sw_itest prepared "$(sw_conninfo)" 200
ok "prepared statements"

step "named prepared statements, 3 clients on 2 server connections"
pids=()
for i in 1 2 3; do
    sw_itest prepared "$(sw_conninfo "" "" "application_name=prep_$i")" 300 >"$SW_TMP/prep_$i.log" 2>&1 &
    pids+=($!)
done
sw_itest pipeline "$(sw_conninfo)" >"$SW_TMP/pipe_conc.log" 2>&1 &
pids+=($!)
for i in "${!pids[@]}"; do
    wait "${pids[$i]}" || fail "concurrent client $((i + 1)) failed: $(cat "$SW_TMP"/prep_$((i + 1)).log "$SW_TMP/pipe_conc.log" 2>/dev/null | grep FAIL)"
done
ok "concurrent prepared statements and a pipeline"

step "the pool is still healthy"
assert_eq 3 "$(sw_psql -c "SELECT 1 + 2")"
ok "plain query after the extended-protocol traffic"
