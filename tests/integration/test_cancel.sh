#!/usr/bin/env bash
# test_cancel: CancelRequest forwarding.  A running pg_sleep is cancelled
# within the time limit (57014) and the connection stays usable, in and out
# of transactions; a second client's query running at the same time is not
# cancelled (the key must map to the right server connection); the same
# holds in session pooling.
source "$(dirname "$0")/lib.sh"

pg_start a
sw_config_write "$SW_TMP/sw.yaml" mode=transaction size=4
sw_start "$SW_TMP/sw.yaml"

step "cancel in transaction pooling"
sw_itest cancel "$(sw_conninfo)" "$(sw_conninfo "" "" application_name=bystander)"
ok "cancel, with a bystander on another server connection"

step "cancel with several clients at once"
pids=()
for i in 1 2 3; do
    sw_itest cancel "$(sw_conninfo "" "" "application_name=cancel_$i")" >"$SW_TMP/cancel_$i.log" 2>&1 &
    pids+=($!)
done
for i in "${!pids[@]}"; do
    wait "${pids[$i]}" || fail "parallel cancel $((i + 1)) failed: $(cat "$SW_TMP/cancel_$((i + 1)).log")"
done
ok "three clients cancelling concurrently"

if sw_proxy_only "session pooling variant is the same as above against PostgreSQL"; then
    step "cancel in session pooling"
    sw_stop
    sw_config_write "$SW_TMP/sw.yaml" mode=session size=4
    sw_start "$SW_TMP/sw.yaml"
    sw_itest cancel "$(sw_conninfo)" "$(sw_conninfo "" "" application_name=bystander)"
    ok "cancel in session pooling"
fi

step "no sleeping query left behind on the server"
left=$(pg_psql a -c "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(30)%' AND state = 'active'")
assert_eq 0 "$left" "pg_sleep(30) still running on PostgreSQL"
ok "server is clean"
