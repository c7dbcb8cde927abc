#!/usr/bin/env bash
# test_startup_bounds: peers that never finish logging in cost only
# themselves.  Startup-phase bytes get exactly PostgreSQL 15's answers (the
# transcript below is the same in direct mode); many silent sockets do not
# lock a real login out (they are not counted against max_clients, and past
# max_startup the oldest is dropped); a startup packet dribbled one byte at
# a time, and an authentication that stalls, are closed at auth_timeout
# without a word, as PostgreSQL's authentication_timeout closes them.
source "$(dirname "$0")/lib.sh"

pg_start a
# The reference server's own bound, for the direct-mode run.
pg_psql a -c "ALTER SYSTEM SET authentication_timeout = '2s'" -c "SELECT pg_reload_conf()" >/dev/null
sw_config_write "$SW_TMP/sw.yaml" max_clients=20 max_startup=10 auth_timeout=2s
sw_start "$SW_TMP/sw.yaml"

step "startup bytes are answered as PostgreSQL 15 answers them"
capture out sw_itest startup-probe "$SW_HOST" "$SW_PORT" shop
assert_eq 0 "$SW_RC" "startup-probe ($out)"
expected=$(cat <<'EOF'
length 3: close
length 7: close
length 10005: close
length 2^31-1: close
HTTP request: close
protocol 9.9: E FATAL 0A000 unsupported frontend protocol 9.9: server supports 3.0 to 3.0
protocol 2.0: E(protocol 2) FATAL:  unsupported frontend protocol 2.0: server supports 3.0 to 3.0
protocol 1.7: E(protocol 2) FATAL:  unsupported frontend protocol 1.7: server supports 3.0 to 3.0
protocol 0.5: E(protocol 2) FATAL:  unsupported frontend protocol 0.5: server supports 3.0 to 3.0
protocol 0.0: E FATAL 0A000 unsupported frontend protocol 0.0: server supports 3.0 to 3.0
garbage body: E FATAL 0A000 unsupported frontend protocol 40900.59662: server supports 3.0 to 3.0
unterminated parameters: E FATAL 08P01 invalid startup packet layout: expected terminator as last byte
no user: E FATAL 28000 no PostgreSQL user name specified in startup packet
startup of 10004 bytes: R0
SSLRequest, then length 3: N close
SSLRequest twice: N E FATAL 0A000 unsupported frontend protocol 1234.5679: server supports 3.0 to 3.0
SSLRequest with a startup packet behind it: N E FATAL 08P01 received unencrypted data after SSL request
CancelRequest for nothing: close
protocol 3.1 with an option: v196608/1:_pq_.sw_itest_option R0
md5, then a Query: R5 E FATAL 08P01 expected password response, got message type 81 close
md5, then Terminate: R5 E FATAL 08P01 expected password response, got message type 88 close
md5, then a password length of 2: R5 close
md5, then two strings: R5 E FATAL 08P01 invalid password packet size close
SCRAM, then a Query: R10 E FATAL 08P01 expected SASL response, got message type 81 close
EOF
)
assert_eq "$expected" "$out" "startup transcript"
ok "all $(wc -l <<<"$out") startup cases match PostgreSQL"

step "50 silent sockets (max_clients 20, max_startup 10) do not keep a real login out"
capture out sw_itest silent "$SW_HOST" "$SW_PORT" 50 "$(sw_conninfo sw_scram shop)"
assert_eq 0 "$SW_RC" "login next to silent sockets ($out)"
if ! sw_direct; then
    # The 40 oldest made room as the newer ones came; the login made room
    # for itself by dropping one more.
    assert_match "$out" "^closed_before=40 login_ms=[0-9]+ closed_after=41$" "silent sockets dropped"
    assert_contains "$(cat "$SW_LOG")" "more than listen.max_startup=10 connections are" "log"
fi
ok "login next to silent sockets: $out"

step "a startup packet dribbled byte by byte is closed at auth_timeout, without a reply"
capture out sw_itest slowlogin "$SW_HOST" "$SW_PORT" sw_trust shop drip
assert_eq 0 "$SW_RC" "drip ($out)"
assert_match "$out" "^closed after (1\.9|2\.[0-9]|3\.[0-4]) s, then sent: none$" "drip"
ok "drip: $out"

step "an authentication that stalls is closed at auth_timeout, without a reply"
capture out sw_itest slowlogin "$SW_HOST" "$SW_PORT" sw_md5 shop stall
assert_eq 0 "$SW_RC" "stall ($out)"
assert_match "$out" "^closed after (1\.9|2\.[0-9]|3\.[0-4]) s, then sent: none$" "stall"
ok "stall: $out"

step "shardwire still serves"
sw_alive || fail "shardwire is not running any more"
assert_eq ok "$(sw_psql -c "SELECT 'ok'")" "query afterwards"
ok "still serving"
