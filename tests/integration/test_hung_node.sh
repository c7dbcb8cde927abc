#!/usr/bin/env bash
# test_hung_node: a node that stops answering costs only its own clients,
# within the configured bounds.  Node a has query_timeout 1500ms and
# connect_timeout 1s of its own (the pool default leaves query_timeout
# off); node b has the defaults.  Checked: a silent query on a is failed
# with 57014 and the backend's query cancelled, while a result that keeps
# streaming for longer is not; a frozen node a (postmaster and backends
# SIGSTOPped, so TCP still connects) gives a pooled query 57014 and a new
# login 08006 within the bounds while node b's clients -- a pooled
# single-node database and the b shard of a routed table -- go on at full
# speed; after SIGCONT node a serves again.  Also: a server message that
# must be held whole beyond max_server_message_size fails with 54000 while
# a larger row relayed in pieces passes, and server connections carry TCP
# keepalive.
source "$(dirname "$0")/lib.sh"
sw_direct && sw_skip_test "timeouts on nodes are shardwire's own"

pg_start a
pg_start b
for n in a b; do
    pg_psql $n -c "CREATE TABLE items (k int, v text)" -c "GRANT ALL ON items TO PUBLIC" \
        -c "INSERT INTO items VALUES ($([[ $n == a ]] && echo 1 || echo 2), 'on $n')"
done
cat >"$SW_TMP/functions.yaml" <<'YAML'
- name: by_k
  kind: list
  lists:
    - {node: node_a, values: [1]}
    - {node: node_b, values: [2]}
YAML
echo "- {name: items, key: k, function: by_k}" >"$SW_TMP/tables.yaml"
sw_config_write "$SW_TMP/sw.yaml" size=2 connect_timeout=3s query_wait_timeout=10s \
    functions="$SW_TMP/functions.yaml" tables="$SW_TMP/tables.yaml" \
    node_opt=a:query_timeout=1500ms node_opt=a:connect_timeout=1s max_server_message_size=1MB
sw_start "$SW_TMP/sw.yaml"

# elapsed_ms T0: milliseconds since T0 (from now_ms).
elapsed_ms() { echo $(($(now_ms) - $1)); }

step "query_timeout counts silence, not duration"
sess_open qa "$(sw_conninfo sw_scram shop)"
sess_expect qa "SELECT v FROM items WHERE k = 1" "ROWS on a"
sess_expect qa "SELECT 1 FROM pg_sleep(0.5)" "ROWS 1"
# 25 wide rows (each flushed by the node at once) 150 ms apart: 3.75 s in
# all, never silent for 1.5 s.
out=$(sw_psql -c "SELECT repeat('x', 20000) || pg_sleep(0.15)::text FROM items, generate_series(1, 25) g WHERE k = 1" |
    awk '{print length($0)}' | sort | uniq -c | awk '{print $1 "x" $2}') || fail "the streaming query failed"
assert_eq "25x20000" "$out" "a streaming result longer than query_timeout"
t0=$(now_ms)
sess_q qa "SELECT pg_sleep(5) FROM items WHERE k = 1"
took=$(elapsed_ms "$t0")
assert_match "$SESS_REPLY" "^ERR 57014 .*node \"node_a\".*query_timeout" "a silent query"
((took >= 1400 && took < 3000)) || fail "the silent query failed after $took ms (query_timeout 1500ms)"
retry 5 grep -q "canceling statement due to user request" "$(_pg_var LOG a)" ||
    fail "the timed-out query was not cancelled on the node"
sess_expect qa "SELECT v FROM items WHERE k = 1" "ROWS on a"
ok "streamed for 3.75 s unharmed; silent for 1.5 s: 57014 after $took ms, cancelled on the node; the session goes on"

step "server messages held whole are capped, rows relayed in pieces are not"
sess_expect qa "SELECT length(repeat('x', 3000000)) FROM items WHERE k = 1" "ROWS 3000000"
sess_q qa "SELECT length(x) FROM (SELECT repeat('x', 3000000) AS x FROM items WHERE k = 1) s"
assert_eq "ROWS 3000000" "$SESS_REPLY" "3 MB computed on the node"
out=$(sw_psql -c "SELECT length(repeat('y', 3000000))") || fail "a 3 MB row through a 1MB cap"
assert_eq 3000000 "$out" "3 MB row relayed in pieces"
sess_q qa "DO \$\$ BEGIN RAISE EXCEPTION '%', repeat('e', 2000000); END \$\$"
assert_match "$SESS_REPLY" "^ERR 54000 .*exceeds limits.max_server_message_size" "a 2 MB ErrorResponse"
# A merged ORDER BY holds every row whole.
sess_q qa "SELECT k, repeat('m', 2000000) FROM items ORDER BY k"
assert_match "$SESS_REPLY" "^ERR 54000 .*exceeds limits.max_server_message_size" "a 2 MB row in a merge"
sess_expect qa "SELECT k FROM items ORDER BY k" "ROWS 1;2"
ok "3 MB rows relayed; a 2 MB error and a 2 MB merged row: 54000; the session goes on"

step "server connections have TCP keepalive"
ka=$(ss -tnoH state established "( dport = :$PG_PORT_b )")
assert_contains "$ka" "timer:(keepalive" "sockets to node b"
ok "keepalive timers on shardwire's connections to node b"

step "freeze node a (postmaster and backends stopped)"
sess_open ob "$(sw_conninfo sw_scram shop_b)"
sess_expect ob "SELECT v FROM items" "ROWS on b"
sess_open rb "$(sw_conninfo sw_scram shop)"
sess_expect rb "SELECT v FROM items WHERE k = 2" "ROWS on b"
pm=$(head -1 "$(_pg_var DATA a)/postmaster.pid")
frozen="$pm $(pgrep -P "$pm" | tr '\n' ' ')"
sw_at_exit "kill -CONT $frozen 2>/dev/null"
kill -STOP $frozen
ok "stopped pids $frozen"

step "node a's clients get errors within the bounds; node b's are unaffected"
t0=$(now_ms)
sess_send qa "SELECT v FROM items WHERE k = 1"
# While node a hangs, node b answers at once, pooled and routed alike.
for i in 1 2 3; do
    tb=$(now_ms)
    sess_expect ob "SELECT v FROM items" "ROWS on b"
    sess_expect rb "SELECT v FROM items WHERE k = 2" "ROWS on b"
    ((($(now_ms) - tb) < 500)) || fail "node b's clients slowed down while node a hangs"
    sleep 0.2
done
out=$(sw_psql -d "$(sw_conninfo sw_md5 shop_b)" -c "SELECT v FROM items") || fail "a new login on shop_b"
assert_eq "on b" "$out" "a new client of node b"
sess_recv qa 10
took=$(elapsed_ms "$t0")
assert_match "$SESS_REPLY" "^ERR 57014 .*node \"node_a\"" "pooled query on the frozen node"
((took < 3000)) || fail "the frozen node's client waited $took ms (query_timeout 1500ms)"
ok "frozen node: 57014 after $took ms; node b served meanwhile"

step "a new login that needs node a fails after its connect_timeout"
t0=$(now_ms)
capture out sw_itest connect "$(sw_conninfo sw_md5 shop)" 08006
took=$(elapsed_ms "$t0")
assert_eq 0 "$SW_RC" "login on the frozen node ($out)"
assert_contains "$out" "connect_timeout" "the refusal names the bound"
((took >= 900 && took < 2500)) || fail "the login failed after $took ms (connect_timeout 1s)"
ok "08006 after $took ms"

step "node a serves again once resumed"
kill -CONT $frozen
retry 10 sw_psql -c "SELECT v FROM items WHERE k = 1" || fail "node a does not serve after SIGCONT"
sess_expect qa "SELECT v FROM items WHERE k = 1" "ROWS on a"
sess_expect ob "SELECT v FROM items" "ROWS on b"
sw_alive || fail "shardwire is not running any more"
ok "node a back; every session still works"
