#!/usr/bin/env bash
# test_pgbench: pgbench through shardwire.  Transaction pooling with 2
# server connections for 4 clients: -M simple, -M extended and -M prepared
# all finish with no failed transaction (prepared statements must survive
# clients hopping between server connections); then session pooling with
# the select-only script and -M prepared.
source "$(dirname "$0")/lib.sh"

pg_start a
sw_config_write "$SW_TMP/sw.yaml" mode=transaction size=2
sw_start "$SW_TMP/sw.yaml"

# check_run LABEL OUTPUT: pgbench processed transactions and none failed.
check_run() {
    local label=$1 out=$2 n
    assert_match "$out" "number of transactions actually processed: [0-9]+" "$label"
    n=$(sed -n 's/.*number of transactions actually processed: \([0-9]*\).*/\1/p' <<<"$out")
    ((n > 0)) || fail "$label: no transaction processed"
    if grep -q "number of failed transactions" <<<"$out"; then
        assert_match "$out" "number of failed transactions: 0 " "$label"
    fi
    assert_not_contains "$out" "aborted in command" "$label"
    ok "$label: $n transactions"
}

step "pgbench -i -s 1"
capture out sw_pgbench -i -s 1 -q
assert_eq 0 "$SW_RC" "pgbench -i failed: $out"
assert_eq 100000 "$(sw_psql -c "SELECT count(*) FROM pgbench_accounts")" "pgbench_accounts rows"
ok "initialised"

for mode in simple extended prepared; do
    step "pgbench -M $mode, 4 clients, transaction pooling with 2 servers"
    capture out sw_pgbench -c 4 -j 2 -T 3 -M "$mode" -n
    [[ $SW_RC == 0 ]] || fail "pgbench -M $mode exited with $SW_RC: $out"
    check_run "transaction pooling -M $mode" "$out"
done

step "consistency after the runs"
# Every TPC-B transaction moves the same delta through accounts, tellers and
# branches: the sums must agree if no transaction was torn apart.
sums=$(sw_psql -c "SELECT (SELECT sum(abalance) FROM pgbench_accounts) = (SELECT sum(bbalance) FROM pgbench_branches)
                      AND (SELECT sum(bbalance) FROM pgbench_branches) = (SELECT sum(tbalance) FROM pgbench_tellers)")
assert_eq t "$sums" "balances of accounts, branches and tellers agree"
hist=$(sw_psql -c "SELECT count(*) > 0 FROM pgbench_history")
assert_eq t "$hist" "history rows written"
ok "balances consistent"

step "pgbench -S -M prepared in session pooling"
sw_stop
sw_config_write "$SW_TMP/sw.yaml" mode=session size=4
sw_start "$SW_TMP/sw.yaml"
capture out sw_pgbench -S -c 4 -j 2 -T 3 -M prepared -n
[[ $SW_RC == 0 ]] || fail "pgbench -S -M prepared exited with $SW_RC: $out"
check_run "session pooling -S -M prepared" "$out"
