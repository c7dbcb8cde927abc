#!/usr/bin/env bash
# test_cli: the shardwire command line.  --version prints a version, --help
# prints usage, --check accepts a valid config (exit 0) and rejects broken
# ones with a compiler-style "file:line:col: error:" diagnostic on stderr
# pointing at the offending line, for semantic and YAML syntax errors alike.
source "$(dirname "$0")/lib.sh"

sw_direct && sw_skip_test "the command line is shardwire's own"
[[ -n $SW_BIN && -x $SW_BIN ]] || fail "SW_BIN does not name the shardwire binary (got '$SW_BIN')"

step "--version"
capture out "$SW_BIN" --version
assert_eq 0 "$SW_RC" "--version exit status"
assert_match "$out" "[0-9]+\.[0-9]+(\.[0-9]+)?" "--version output"
ok "version: $out"

step "--help"
capture out "$SW_BIN" --help
assert_eq 0 "$SW_RC" "--help exit status"
assert_match "$out" "[Uu]sage" "--help output"
assert_contains "$out" "-c" "--help mentions -c"
assert_contains "$out" "--check" "--help mentions --check"
ok "usage printed"

capture out "$SW_BIN" --no-such-option
[[ $SW_RC != 0 ]] || fail "an unknown option was accepted"
ok "unknown option rejected (status $SW_RC)"

# The same config in block style, so every setting has its own line.
write_config() {  # FILE MODE
    cat >"$1" <<YAML
listen:
  host: 127.0.0.1
  port: 26432
  shutdown_timeout: 5s
pool:
  mode: $2
  size: 4
  connect_timeout: 2s
  query_wait_timeout: 5s
  idle_timeout: 60s
limits:
  max_message_size: 1MB
log:
  level: info
nodes:
  - {name: node0, host: 127.0.0.1, port: 26433, database: shop, user: sw_admin, password: admin_pw}
databases:
  - {name: shop, default_node: node0}
users:
  - {name: sw_scram, auth: scram-sha-256, password: scram_pw}
  - {name: sw_md5, auth: md5, password: md5_pw}
  - {name: sw_trust, auth: trust}
YAML
}

step "--check on a valid config"
write_config "$SW_TMP/good.yaml" transaction
capture out "$SW_BIN" --check -c "$SW_TMP/good.yaml"
assert_eq 0 "$SW_RC" "--check good.yaml ($out)"
ok "good.yaml accepted"

step "--check on a config with a bad value"
write_config "$SW_TMP/bad.yaml" bogus
"$SW_BIN" --check -c "$SW_TMP/bad.yaml" >"$SW_TMP/bad.out" 2>"$SW_TMP/bad.err" && fail "bad.yaml accepted"
err=$(cat "$SW_TMP/bad.err")
# Line 6 is "  mode: bogus": the key is at column 3, the value at column 9.
assert_match "$err" "bad\.yaml:6:(3|9): error:" "diagnostic for bad.yaml"
ok "bad.yaml rejected: $(head -n 1 <<<"$err")"

step "--check on a YAML syntax error"
write_config "$SW_TMP/syntax.yaml" transaction
sed -i '18s/.*/  - {name: shop, default_node: node0/' "$SW_TMP/syntax.yaml"  # unclosed flow mapping
"$SW_BIN" --check -c "$SW_TMP/syntax.yaml" >/dev/null 2>"$SW_TMP/syntax.err" && fail "syntax.yaml accepted"
err=$(cat "$SW_TMP/syntax.err")
assert_match "$err" "syntax\.yaml:[0-9]+:[0-9]+: error:" "diagnostic for syntax.yaml"
ok "syntax.yaml rejected: $(head -n 1 <<<"$err")"

step "--check on a missing file"
capture out "$SW_BIN" --check -c "$SW_TMP/missing.yaml"
[[ $SW_RC != 0 ]] || fail "a missing config file was accepted"
assert_contains "$out" "missing.yaml" "message names the file"
ok "missing file rejected"
