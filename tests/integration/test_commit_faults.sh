#!/usr/bin/env bash
# test_commit_faults: two-phase commit survives a crash at every step.  A
# transaction writes one row on each of three nodes (node_a, the lowest,
# holds the decision).  shardwire runs with SW_TEST_COMMIT_STOP=<step>: it
# stops itself (SIGSTOP) when the commit reaches that step:
#   prepare    PREPARE TRANSACTION sent to b and c, not yet answered
#   prepared   both prepared, the decision not yet asked for
#   decided    the decision committed on a, COMMIT PREPARED not yet sent
#   finishing  the first COMMIT PREPARED answered
# SW_FAULT_ONLY=step/victim runs one of them.
# There the test kills (-9 / immediate shutdown) the proxy, a participant
# (c) or the decision node (a), lets the rest go on, restarts what it
# killed, and waits for recovery to leave no prepared transaction.  Then:
# the rows are on all three nodes or on none, and the client's answer
# agrees (COMMIT => all; an error reported before the decision => none;
# 08007 or a lost connection => either).
source "$(dirname "$0")/lib.sh"
sw_proxy_only

pg_start a
pg_start b
pg_start c
for n in a b c; do pg_psql $n -c "CREATE TABLE t (id int PRIMARY KEY, v text); GRANT ALL ON t TO PUBLIC"; done
cat >"$SW_TMP/functions.yaml" <<'YAML'
- name: t_hash
  kind: hash
  nodes: [node_a, node_b, node_c]
YAML
echo "- {name: t, key: id, function: t_hash}" >"$SW_TMP/tables.yaml"
sw_config_write "$SW_TMP/sw.yaml" mode=transaction size=4 nodes=a,b,c db=shop:a \
    functions="$SW_TMP/functions.yaml" tables="$SW_TMP/tables.yaml"
printf 'transactions:\n  instance: faults\n  recovery_interval: 500ms\n  recovery_min_age: 0s\n' >>"$SW_TMP/sw.yaml"

# One id per node, found by placing probe rows.
sw_start "$SW_TMP/sw.yaml"
for i in $(seq 1 40); do sw_psql -c "INSERT INTO t (id, v) VALUES ($i, 'probe')"; done
declare -A ID
for n in a b c; do ID[$n]=$(pg_psql $n -c "SELECT min(id) FROM t"); done
sw_psql -c "DELETE FROM t WHERE v = 'probe'" >/dev/null
sw_stop
ok "ids ${ID[a]}, ${ID[b]}, ${ID[c]} land on a, b, c"

stopped() { [[ $(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) == T ]]; }

base=0
check_round() {  # STEP VICTIM
    local step=$1 victim=$2 out rows n total=0 base_id
    base=$((base + 1000))
    SW_TEST_COMMIT_STOP=$step sw_start "$SW_TMP/sw.yaml"
    cat >"$SW_TMP/txn.sql" <<SQL
BEGIN;
INSERT INTO t (id, v) VALUES ($((base + ID[a])), '$step/$victim');
INSERT INTO t (id, v) VALUES ($((base + ID[b])), '$step/$victim');
INSERT INTO t (id, v) VALUES ($((base + ID[c])), '$step/$victim');
COMMIT;
SQL
    # ids move with base: re-place them (the hash of base+id differs)
    timeout 60 psql -X -w -q -v ON_ERROR_STOP=1 -v VERBOSITY=sqlstate -d "$(sw_conninfo)" -f "$SW_TMP/txn.sql" \
        >"$SW_TMP/txn.out" 2>&1 &
    local cpid=$!
    local deadline=$((SECONDS + 20))
    until stopped "$SW_PID"; do
        ((SECONDS < deadline)) || fail "$step/$victim: shardwire never stopped at $step"
        if ! kill -0 $cpid 2>/dev/null; then
            cat "$SW_TMP/txn.out" >&2
            fail "$step/$victim: the client finished before the commit reached $step"
        fi
        sleep 0.05
    done
    case $victim in
    proxy)
        kill -KILL "$SW_PID"
        sw_wait_exit 5 || true
        wait $cpid || true
        sw_start "$SW_TMP/sw.yaml"
        ;;
    participant | coordinator)
        local node=c
        [[ $victim == coordinator ]] && node=a
        pg_kill $node
        kill -CONT "$SW_PID"
        wait $cpid || true
        pg_restart $node
        ;;
    esac
    out=$(grep -v "WARNING:" "$SW_TMP/txn.out" || true)  # a dying node's notice
    # recovery settles what is left
    deadline=$((SECONDS + 30))
    while :; do
        total=0
        for n in a b c; do
            total=$((total + $(pg_psql $n -c "SELECT count(*) FROM pg_prepared_xacts" 2>/dev/null || echo 1)))
        done
        ((total == 0)) && break
        ((SECONDS < deadline)) || fail "$step/$victim: $total prepared transactions left after 30 s"
        sleep 0.2
    done
    rows=0
    for n in a b c; do
        rows=$((rows + $(pg_psql $n -c "SELECT count(*) FROM t WHERE v = '$step/$victim'")))
    done
    [[ $rows == 0 || $rows == 3 ]] || fail "$step/$victim: $rows of 3 rows committed (not atomic)"
    local said=other
    [[ $out == *"08007"* || $out == *"connection"* || $out == *"terminated"* || $out == *"closed"* ]] && said=unknown
    [[ -z $out ]] && said=committed
    [[ $out == *"ERROR:  4"* || $out == *"ERROR:  08006"* ]] && said=failed
    case $said in
    committed) [[ $rows == 3 ]] || fail "$step/$victim: the client was told COMMIT but $rows rows exist" ;;
    failed) [[ $rows == 0 ]] || fail "$step/$victim: the client was told it failed ($out) but the rows exist" ;;
    esac
    ok "$step/$victim: $rows/3 rows, client: $said${out:+ ($(head -1 <<<"$out"))}"
    sw_stop
}

for step in prepare prepared decided finishing; do
    for victim in proxy participant coordinator; do
        [[ -z ${SW_FAULT_ONLY:-} || $SW_FAULT_ONLY == "$step/$victim" ]] || continue
        check_round $step $victim
    done
done
