#!/usr/bin/env bash
# test_protodiff: the differential protocol test (protodiff/protodiff.c).
# The same message sequences -- generated ones (pipelined batches, errors
# mid-batch, Queries inside a failed batch, Flush, Describe of missing
# objects, FunctionCall, COPY in and out and CopyFail, huge parameter
# counts, Terminate mid-stream) and fixed regression cases -- go to one
# plain PostgreSQL and through shardwire; every reply's type, SQLSTATE,
# tag, status and row must be the same.
#
# Setups: one node pooled in session mode and in transaction mode; three
# clients at once over a pool of two (replies must never cross between
# clients sharing servers); a routed database over three nodes (t
# hash-sharded) compared with one server holding all of t.  This is a
# bounded slice (a few hundred sequences each); bench/protodiff.sh runs the
# same for as long as asked.  SW_PROTODIFF_COUNT overrides the slice size.
source "$(dirname "$0")/lib.sh"
sw_direct && sw_skip_test "compares shardwire with PostgreSQL itself"
[[ -x ${SW_PROTODIFF:-} ]] || fail "SW_PROTODIFF does not name the sw_protodiff binary (got '${SW_PROTODIFF:-}')"
count=${SW_PROTODIFF_COUNT:-300}

# Every node gets the same tables; the direct side (o) and the one-node
# setups hold all of t.
schema="CREATE TABLE t (id int PRIMARY KEY, v text); CREATE TABLE cp (x int); GRANT ALL ON t, cp TO PUBLIC;"
rows="INSERT INTO t SELECT i, 'v' || i FROM generate_series(1, 20) i;"
pg_start o
pg_start a
pg_start b
pg_start c
pg_psql o -c "$schema" -c "$rows"
pg_psql a -c "$schema"
pg_psql b -c "$schema"
pg_psql c -c "$schema"

# diff ARGS...: sw_protodiff with PostgreSQL (o, or a) first and shardwire
# second; prints its summary line.
diff_run() {
    local direct_port=$1
    shift
    timeout $((240 + count / 20)) "$SW_PROTODIFF" "$@" 127.0.0.1 "$direct_port" 127.0.0.1 "$SW_PORT" sw_trust shop
}
cases="fcall-unknown fcall-int4pl error-then-query bind-error-then-query params-40000 params-65535 copy-extended"

# ---------------------------------------------------------------- one node
# shardwire in front of node a; PostgreSQL directly is node a too (t is
# only read; cp only written), so the sides see the same data.
pg_psql a -c "$rows"
for mode in session transaction; do
    step "one node, $mode pooling: fixed cases"
    extra=()
    [[ $mode == transaction ]] && extra=(--txnpool)
    sw_config_write "$SW_TMP/sw.yaml" mode=$mode size=2 nodes=a db=shop:a
    sw_start "$SW_TMP/sw.yaml"
    for c in $cases; do
        capture out diff_run "$(_pg_var PORT a)" "${extra[@]}" --case "$c"
        assert_eq 0 "$SW_RC" "$mode: case $c: $out"
    done
    ok "$mode: every fixed case answered as PostgreSQL answers it"

    step "one node, $mode pooling: $count generated sequences"
    capture out diff_run "$(_pg_var PORT a)" "${extra[@]}" --seed 1 --count "$count"
    assert_eq 0 "$SW_RC" "$mode: generated sequences: $out"
    assert_contains "$out" "all identical" "$mode: summary"
    ok "$mode: $out"
    sw_stop
done

step "three clients at once over a pool of two (transaction pooling)"
sw_config_write "$SW_TMP/sw.yaml" mode=transaction size=2 nodes=a db=shop:a
sw_start "$SW_TMP/sw.yaml"
capture out diff_run "$(_pg_var PORT a)" --txnpool --procs 3 --seed 100001 --count "$count"
assert_eq 0 "$SW_RC" "concurrent: $out"
assert_contains "$out" "all identical" "concurrent: summary"
ok "concurrent: $out"
sw_stop

# ---------------------------------------------------------------- routed
# t hash-sharded over a, b, c (rows written through shardwire); the direct
# side is o with all of t.
step "a routed database over three nodes against one server"
pg_psql a -c "TRUNCATE t"
cat >"$SW_TMP/functions.yaml" <<'YAML'
- name: t_hash
  kind: hash
  nodes: [node_a, node_b, node_c]
YAML
echo "- {name: t, key: id, function: t_hash}" >"$SW_TMP/tables.yaml"
sw_config_write "$SW_TMP/sw.yaml" mode=transaction size=2 nodes=a,b,c db=shop:a \
    functions="$SW_TMP/functions.yaml" tables="$SW_TMP/tables.yaml"
sw_start "$SW_TMP/sw.yaml"
sw_psql -c "INSERT INTO t (id, v) VALUES $(for i in $(seq 1 20); do printf "(%d, 'v%d')," $i $i; done | sed 's/,$//')"
spread=$(for n in a b c; do pg_psql $n -c "SELECT count(*) FROM t"; done | tr '\n' ' ')
assert_match "$spread" "^[1-9][0-9]* [1-9][0-9]* [1-9][0-9]* $" "t's 20 rows are spread over all three nodes"
for c in fcall-unknown fcall-int4pl bind-error-then-query; do
    capture out diff_run "$(_pg_var PORT o)" --txnpool --routed --case "$c"
    assert_eq 0 "$SW_RC" "routed: case $c: $out"
done
capture out diff_run "$(_pg_var PORT o)" --txnpool --routed --procs 2 --seed 200001 --count "$count"
assert_eq 0 "$SW_RC" "routed: $out"
assert_contains "$out" "all identical" "routed: summary"
ok "routed: $out"
sw_stop
