#!/usr/bin/env bash
# test_auth: shardwire authenticates clients itself.  SCRAM-SHA-256, md5 and
# trust users log in (with and without an SSLRequest first, and many at
# once); a wrong password, an unknown user and an unknown database are
# refused with PostgreSQL's own SQLSTATEs and messages (28P01, 28P01,
# 3D000), so clients and their users see no difference.
source "$(dirname "$0")/lib.sh"

pg_start a
sw_config_write "$SW_TMP/sw.yaml"
sw_start "$SW_TMP/sw.yaml"

step "valid logins"
for user in sw_scram sw_md5 sw_trust; do
    out=$(SW_USER=$user sw_psql -c "SELECT 'logged in', current_user")
    assert_contains "$out" "logged in|" "$user login"
    # Without server_user shardwire logs in to PostgreSQL as the node's
    # role, so the server-side role is only predictable in direct mode.
    if sw_direct; then assert_eq "logged in|$user" "$out" "$user role on the server"; fi
    sw_itest connect "$(sw_conninfo "$user" shop sslmode=disable)" >/dev/null
    sw_itest connect "$(sw_conninfo "$user" shop sslmode=prefer)" >/dev/null
    ok "$user logs in (psql, libpq with and without SSLRequest)"
done

step "concurrent logins"
pids=()
for i in $(seq 1 20); do
    user=$( ((i % 3 == 0)) && echo sw_md5 || echo sw_scram)
    sw_itest connect "$(sw_conninfo "$user" shop "application_name=auth_$i")" >"$SW_TMP/conc_$i.log" 2>&1 &
    pids+=($!)
done
for i in "${!pids[@]}"; do
    wait "${pids[$i]}" || fail "concurrent login $((i + 1)) failed: $(cat "$SW_TMP/conc_$((i + 1)).log")"
done
ok "20 concurrent SCRAM/md5 logins"

step "wrong password"
for user in sw_scram sw_md5; do
    ci=$(SW_PASSWORD=wrong_pw sw_conninfo "$user")
    capture out timeout 30 psql -X -w -At -d "$ci" -c "SELECT 1"
    [[ $SW_RC != 0 ]] || fail "$user with a wrong password was let in"
    assert_contains "$out" "password authentication failed for user \"$user\"" "$user wrong password (psql)"
    sw_itest connect "$ci" 28P01 "password authentication failed for user \"$user\""
    ok "$user with a wrong password is refused with 28P01"
done

step "missing password"
ci=$(SW_PASSWORD="" sw_conninfo sw_scram)
capture out timeout 30 psql -X -w -At -d "$ci" -c "SELECT 1"
[[ $SW_RC != 0 ]] || fail "sw_scram without a password was let in"
assert_contains "$out" "no password supplied"
ok "a password-less login of a SCRAM user fails"

step "unknown user"
ci=$(SW_PASSWORD=whatever sw_conninfo nobody)
capture out timeout 30 psql -X -w -At -d "$ci" -c "SELECT 1"
[[ $SW_RC != 0 ]] || fail "unknown user was let in"
assert_contains "$out" 'password authentication failed for user "nobody"' "unknown user (psql)"
sw_itest connect "$ci" 28P01 'password authentication failed for user "nobody"'
ok "an unknown user gets the same 28P01 as a wrong password"

step "unknown database"
ci=$(sw_conninfo sw_scram nope)
capture out timeout 30 psql -X -w -At -d "$ci" -c "SELECT 1"
[[ $SW_RC != 0 ]] || fail "unknown database accepted"
assert_contains "$out" 'database "nope" does not exist' "unknown database (psql)"
sw_itest connect "$ci" 3D000 'database "nope" does not exist'
ok "an unknown database is refused with 3D000"

step "still serving after the refusals"
assert_eq 1 "$(sw_psql -c "SELECT 1")"
ok "valid logins still work"
