#!/usr/bin/env bash
# test_admin_access: the admin console (database "shardwire") is for the
# users the configuration names.  admin_users may run everything, RELOAD
# included; stats_users the SHOW commands only (RELOAD: 42501); any other
# configured user is authenticated and then refused with 42501, as
# PostgreSQL refuses a role without CONNECT privilege (a wrong password is
# still 28P01 first).  A reload that takes a user off the lists applies to
# the sessions already open too.
source "$(dirname "$0")/lib.sh"
sw_direct && sw_skip_test "the admin console is shardwire's own"

pg_start a
sw_config_write "$SW_TMP/sw.yaml" admin_users=sw_scram stats_users=sw_md5
sw_start "$SW_TMP/sw.yaml"

step "a user on neither list gets 42501 on the admin database"
sw_itest connect "$(sw_conninfo sw_trust shardwire)" 42501 'permission denied for database "shardwire"' >/dev/null
ok "sw_trust refused with 42501"
sw_itest connect "$(SW_PASSWORD=wrong sw_conninfo sw_md5 shardwire)" 28P01 >/dev/null
sw_itest connect "$(SW_PASSWORD=wrong sw_conninfo sw_scram shardwire)" 28P01 >/dev/null
ok "a wrong password is 28P01 before any access check"
sw_itest connect "$(sw_conninfo sw_trust shop)" >/dev/null
ok "the same user's ordinary database is unaffected"

step "a stats user reads, and cannot RELOAD"
sess_open stats "$(sw_conninfo sw_md5 shardwire)"
sess_q stats "SHOW SHARDS"
assert_match "$SESS_REPLY" "^ROWS node_a\|" "SHOW SHARDS as a stats user"
sess_q stats "SHOW ROUTE SELECT 1"
assert_match "$SESS_REPLY" "^ROWS " "SHOW ROUTE as a stats user"
sess_q stats "SHOW CLIENTS"
assert_match "$SESS_REPLY" "^ROWS sw_md5\|shardwire\|127\.0\.0\.1:[0-9]+\|[0-9]+\|[a-z]+\|\|$" "SHOW CLIENTS: one client, the console's"
sess_q stats "RELOAD"
assert_match "$SESS_REPLY" "^ERR 42501 .*permission denied to run RELOAD" "RELOAD as a stats user"
assert_not_contains "$(cat "$SW_LOG")" "configuration reloaded" "no reload happened"
sess_expect stats "SHOW VERSION" "ROWS shardwire $("$SW_BIN" --version | cut -d' ' -f2)"
ok "stats user: SHOW works, RELOAD gets 42501, the session goes on"

step "an admin user can RELOAD, and a reload that drops a user applies at once"
sess_open admin "$(sw_conninfo sw_scram shardwire)"
sess_q admin "SHOW CLIENTS"
assert_eq 2 "$(tr ';' '\n' <<<"${SESS_REPLY#ROWS }" | grep -c .)" "SHOW CLIENTS rows: $SESS_REPLY"
sw_config_write "$SW_TMP/sw.yaml" admin_users=sw_scram
sess_expect admin "RELOAD" "OK RELOAD"
assert_contains "$(cat "$SW_LOG")" "configuration reloaded" "reload"
sess_q stats "SHOW SHARDS"
assert_match "$SESS_REPLY" "^ERR 42501 permission denied for database" "stats session after its user was dropped"
sw_itest connect "$(sw_conninfo sw_md5 shardwire)" 42501 >/dev/null
sess_q admin "SHOW SHARDS"
assert_match "$SESS_REPLY" "^ROWS node_a\|" "admin session after the reload"
ok "RELOAD by an admin user; the dropped stats user is refused, old session and new"

step "without admin_users nobody gets in"
sw_config_write "$SW_TMP/sw.yaml" admin_users=
sess_expect admin "RELOAD" "OK RELOAD"
sw_itest connect "$(sw_conninfo sw_scram shardwire)" 42501 >/dev/null
sess_q admin "SHOW SHARDS"
assert_match "$SESS_REPLY" "^ERR 42501 " "admin session once the lists are empty"
ok "empty lists: the console is closed to everyone"
