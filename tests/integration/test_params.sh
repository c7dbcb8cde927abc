#!/usr/bin/env bash
# test_params: per-client session parameters under transaction pooling with
# a single server connection shared by everyone.  Startup parameters
# (options='-c intervalstyle=...', PGTZ, PGDATESTYLE, application_name)
# take effect for their own client only; a session-level SET follows its
# client from transaction to transaction while others see the defaults;
# SET LOCAL and a SET in a rolled-back transaction do not stick; RESET goes
# back to the client's own startup value.
source "$(dirname "$0")/lib.sh"

pg_start a
sw_config_write "$SW_TMP/sw.yaml" mode=transaction size=1
sw_start "$SW_TMP/sw.yaml"

ci_a=$(sw_conninfo sw_scram shop "options='-c intervalstyle=iso_8601'" application_name=itest_a)
# Same user and database for both: one pool, one server connection.
ci_b=$(sw_conninfo sw_scram shop application_name=itest_b)

step "startup parameters of a single client"
PGTZ=Asia/Tokyo PGDATESTYLE="SQL, DMY" sw_itest params "$ci_a" \
    intervalstyle=iso_8601 TimeZone=Asia/Tokyo DateStyle="SQL, DMY" application_name=itest_a
sw_itest params "$ci_b" intervalstyle=postgres TimeZone=UTC DateStyle="ISO, MDY" application_name=itest_b
out=$(PGTZ=Europe/Helsinki PGAPPNAME=psql_tz sw_psql -c "SHOW timezone" -c "SELECT current_setting('application_name')")
assert_eq $'Europe/Helsinki\npsql_tz' "$out" "psql with PGTZ and PGAPPNAME"
assert_eq "UTC" "$(sw_psql -c "SHOW timezone")" "psql without PGTZ"
ok "startup parameters"

step "two clients interleaving on one server connection"
sw_itest params2 "$ci_a" "$ci_b" Asia/Kathmandu UTC
ok "each client keeps its own parameters"

step "two pairs at once (four clients, one server connection)"
# The pairs differ in their A's time zone, so a parameter leaking from one
# pair's client into another's transaction shows up as a wrong TimeZone.
sw_itest params2 "$ci_a" "$ci_b" America/Sao_Paulo UTC >"$SW_TMP/pair1.log" 2>&1 &
p1=$!
sw_itest params2 "$ci_a" "$ci_b" Australia/Adelaide UTC >"$SW_TMP/pair2.log" 2>&1 &
p2=$!
wait "$p1" || fail "pair 1 failed: $(cat "$SW_TMP/pair1.log")"
wait "$p2" || fail "pair 2 failed: $(cat "$SW_TMP/pair2.log")"
ok "concurrent pairs see their own parameters"
