#!/usr/bin/env bash
# test_malformed: hostile input does not hurt shardwire or its other
# clients.  Raw-socket clients send lying length words, garbage instead of
# a startup packet, undersized and unknown messages, and a message whose
# header claims more than max_message_size: each gets 08P01 (or a close)
# promptly -- the oversized one from its header alone -- while a pgbench
# run in parallel finishes without a single failure and shardwire keeps
# running.
source "$(dirname "$0")/lib.sh"

pg_start a
sw_config_write "$SW_TMP/sw.yaml" mode=transaction size=4 max_message_size=1MB
sw_start "$SW_TMP/sw.yaml"

sw_pgbench -i -s 1 -q >/dev/null 2>&1 || fail "pgbench -i failed"

step "malformed input while pgbench runs"
sw_pgbench -c 2 -j 2 -T 5 -n -M extended >"$SW_TMP/pgbench.log" 2>&1 &
bench=$!
sleep 0.5
for round in 1 2; do
    sw_itest malformed "$SW_HOST" "$SW_PORT" sw_trust shop
    ok "malformed round $round"
done

step "oversized message"
if sw_direct; then
    # PostgreSQL itself would wait for a body under its own 1 GB limit; a
    # length beyond that is refused by closing the connection.
    sw_itest oversized "$SW_HOST" "$SW_PORT" sw_trust "" shop 2147483647 --allow-close
else
    # 2 MB against max_message_size 1MB: 08P01 straight from the header.
    sw_itest oversized "$SW_HOST" "$SW_PORT" sw_trust "" shop 2097152
    sw_itest oversized "$SW_HOST" "$SW_PORT" sw_trust "" shop 4294967295
fi
ok "oversized messages refused promptly"

step "the parallel pgbench was not disturbed"
rc=0
wait "$bench" || rc=$?
out=$(cat "$SW_TMP/pgbench.log")
assert_eq 0 "$rc" "pgbench exit status (output: $out)"
assert_match "$out" "number of transactions actually processed: [1-9][0-9]*" "pgbench"
if grep -q "number of failed transactions" <<<"$out"; then
    assert_match "$out" "number of failed transactions: 0 " "pgbench"
fi
ok "pgbench finished cleanly: $(grep -o 'number of transactions actually processed: [0-9]*' <<<"$out")"

step "shardwire is still serving"
sw_alive || fail "shardwire is not running any more"
assert_eq ok "$(sw_psql -c "SELECT 'ok'")" "query after the malformed input"
ok "still running"
