#!/usr/bin/env bash
# test_signals: shardwire's signal handling.  SIGHUP with a broken config
# keeps the old one running and logs "file:line:col: error: ..."; SIGHUP
# with a valid config that adds a user lets that user in without dropping a
# connected client (its session state survives).  SIGTERM drains: an open
# transaction can still COMMIT, new connections are refused, and shardwire
# exits by itself within shutdown_timeout.
source "$(dirname "$0")/lib.sh"

sw_direct && sw_skip_test "signals are shardwire's own (nothing to check against PostgreSQL)"

pg_start a
cfg=$SW_TMP/sw.yaml
sw_config_write "$cfg" mode=transaction size=2 shutdown_timeout=5s
sw_start "$cfg"
sw_psql -c "CREATE TABLE sig_t (n int)"

sess_open keeper
sess_expect keeper "SET application_name = 'keeper'" "OK SET"
sess_expect keeper "SELECT 1" "ROWS 1"

# wait_log REGEX: until the shardwire log matches (at most 5 s).
wait_log() {
    retry 5 grep -Eq -- "$1" "$SW_LOG" || fail "shardwire log never matched /$1/; log: $(tail -n 20 "$SW_LOG")"
}

step "SIGHUP with a semantically broken config"
cp "$cfg" "$SW_TMP/good.yaml"
line=$(grep -n '^pool:' "$cfg" | cut -d: -f1)
sed -i 's/^pool: {mode: transaction,/pool: {mode: bogus,/' "$cfg"
grep -q "mode: bogus" "$cfg" || fail "could not break the config"
sw_signal HUP
wait_log "sw\.yaml:$line:[0-9]+: error:"
sleep 0.3
sw_alive || fail "shardwire exited on a broken config"
sess_expect keeper "SELECT 'still here'" "ROWS still here"
assert_eq 1 "$(sw_psql -c "SELECT 1")" "new client with the old config"
ok "kept running: $(grep -E "sw\.yaml:$line:[0-9]+: error:" "$SW_LOG" | tail -n 1)"

step "SIGHUP with a YAML syntax error"
cp "$SW_TMP/good.yaml" "$cfg"
printf 'users: [ {name: broken\n' >>"$cfg"
last=$(wc -l <"$cfg")
sw_signal HUP
wait_log "sw\.yaml:($last|$((last + 1))):[0-9]+: error:"
sleep 0.3
sw_alive || fail "shardwire exited on a YAML syntax error"
sess_expect keeper "SELECT 'still here'" "ROWS still here"
ok "kept running: $(grep -E "sw\.yaml:($last|$((last + 1))):[0-9]+: error:" "$SW_LOG" | tail -n 1)"

step "SIGHUP with a valid config adding a user"
ci_new=$(SW_PASSWORD=new_pw sw_conninfo sw_new)
sw_itest connect "$ci_new" 28P01 >/dev/null || fail "sw_new should not exist yet"
sw_config_write "$cfg" mode=transaction size=2 shutdown_timeout=5s user=sw_new:scram-sha-256:new_pw
sw_signal HUP
retry 5 sw_itest connect "$ci_new" || fail "sw_new cannot log in 5 s after the reload"
assert_eq "1" "$(SW_USER=sw_new sw_psql -c "SELECT 1")" "sw_new through psql"
sess_expect keeper "SELECT current_setting('application_name')" "ROWS keeper"
sw_alive || fail "shardwire died during the reload"
ok "new user admitted, existing session kept with its state"

step "SIGTERM drains"
sess_open tx
sess_expect tx "BEGIN" "OK BEGIN"
sess_expect tx "INSERT INTO sig_t VALUES (1)" "OK INSERT 0 1"
t0=$SECONDS
sw_signal TERM
refused() { ! sw_itest connect "$(sw_conninfo)" >/dev/null 2>&1; }
retry 3 refused || fail "new connections still accepted 3 s after SIGTERM"
ok "new connections refused"
sess_expect tx "INSERT INTO sig_t VALUES (2)" "OK INSERT 0 1"
sess_expect tx "COMMIT" "OK COMMIT"
assert_eq 2 "$(pg_psql a -c "SELECT count(*) FROM sig_t")" "the open transaction committed"
ok "open transaction finished and committed"
sw_wait_exit 8 || fail "shardwire still running $((SECONDS - t0)) s after SIGTERM (shutdown_timeout 5s)"
ok "shardwire exited by itself after $((SECONDS - t0)) s (status $SW_EXIT)"
sess_close tx
sess_close keeper
