# lib.sh - harness shared by the shardwire integration tests (sourced).
#
# Each test_*.sh starts throw-away PostgreSQL 15 servers on loopback, writes
# a shardwire config pointing at them, starts shardwire and talks to it with
# real clients (psql, pgbench, the sw_itest libpq program).  Everything runs
# in one scratch directory that an EXIT trap tears down: every server the
# test started is stopped, on success or failure, and on failure the
# shardwire log and the tails of the PostgreSQL logs go to stderr first.
#
# SW_DIRECT=1 runs the same scripts with clients connected straight to
# PostgreSQL (sw_start does nothing, proxy-only checks are skipped): that is
# how the assertions themselves are validated against the reference server.
#
# Environment: SW_BIN (shardwire binary), SW_ITEST (sw_itest binary), SW_SRC
# (source tree), SW_DIRECT, SW_POOL_MODE / SW_POOL_SIZE / SW_LOG_LEVEL
# (config defaults), SW_KEEP_TMP=1 (keep the scratch dir), SW_ITEST_CACHE
# (where the initdb template is cached), PG_BINDIR.
#
# Conventions for the scripts: `set -euo pipefail` is on; call assertions in
# the main shell (not inside $(...)); every helper that can hang has a
# timeout.

set -euo pipefail

PG_BINDIR=${PG_BINDIR:-/usr/lib/postgresql/15/bin}
export PATH="$PG_BINDIR:$PATH"

SW_TEST_NAME=$(basename "$0" .sh)
SW_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SW_SRC=${SW_SRC:-$(cd "$SW_LIB_DIR/../.." && pwd)}
SW_DIRECT=${SW_DIRECT:-0}
SW_BIN=${SW_BIN:-}
SW_ITEST=${SW_ITEST:-}
SW_HOST=127.0.0.1
export SW_HOST SW_DIRECT SW_SRC

if [[ -z $SW_ITEST || ! -x $SW_ITEST ]]; then
    echo "FAIL: $SW_TEST_NAME: SW_ITEST does not name the sw_itest binary (got '$SW_ITEST')" >&2
    exit 1
fi

# Clients must see only what the tests give them: no ambient libpq settings,
# no password files, no psqlrc.  GSS encryption negotiation is switched off
# because no test server offers it (SSL stays at libpq's default "prefer",
# as real clients send an SSLRequest first).
unset PGHOST PGHOSTADDR PGPORT PGUSER PGDATABASE PGPASSWORD PGSERVICE PGSERVICEFILE \
    PGOPTIONS PGAPPNAME PGTZ PGDATESTYLE PGSSLMODE PGREQUIRESSL PGCONNECT_TIMEOUT \
    PGTARGETSESSIONATTRS PGCLIENTENCODING
export PSQLRC=/dev/null PGGSSENCMODE=disable

# Scratch space: $TMPDIR when set; otherwise /dev/shm when it is a tmpfs,
# because creating the ~1300 files of a PostgreSQL data directory costs
# about a second per node on a disk-backed /tmp and almost nothing in RAM.
if [[ -n ${TMPDIR:-} ]]; then
    SW_TMPBASE=$TMPDIR
elif [[ -d /dev/shm && -w /dev/shm && $(stat -f -c %T /dev/shm 2>/dev/null) == tmpfs ]]; then
    SW_TMPBASE=/dev/shm
else
    SW_TMPBASE=/tmp
fi
SW_TMP=$(mktemp -d "$SW_TMPBASE/sw-itest-$SW_TEST_NAME.XXXXXX")
export PGPASSFILE=$SW_TMP/no-such-pgpass  # a missing file is silently ignored
chmod 755 "$SW_TMP"  # PostgreSQL runs as another user when we are root
SW_LOG=$SW_TMP/shardwire.log
: >"$SW_LOG"
SW_PID=
SW_LISTEN_PORT=${SW_LISTEN_PORT:-}
_SW_PG_NODES=()
_SW_PORTS_TAKEN=" "
declare -A _SW_DB_NODE=() _SW_PW=([sw_admin]=admin_pw [sw_scram]=scram_pw [sw_md5]=md5_pw [sw_trust]="")
declare -A _SESS_PID=() _SESS_W=() _SESS_R=()

# ---------------------------------------------------------------- output

step() { echo "--- [${SECONDS}s] $*"; }
ok() { echo "ok - $*"; }

fail() {
    echo "FAIL: $SW_TEST_NAME: $*" >&2
    exit 1
}

_sw_show() {  # clip long values in failure messages
    local s=$1
    if ((${#s} > 1500)); then s="${s:0:1500}... (${#1} bytes)"; fi
    printf '%s' "$s"
}

assert_eq() {  # EXPECTED ACTUAL [WHAT]
    [[ "$2" == "$1" ]] || fail "${3:+$3: }expected [$(_sw_show "$1")], got [$(_sw_show "$2")]"
}

assert_contains() {  # HAYSTACK NEEDLE [WHAT]
    [[ "$1" == *"$2"* ]] || fail "${3:+$3: }expected to find [$2] in: $(_sw_show "$1")"
}

assert_not_contains() {  # HAYSTACK NEEDLE [WHAT]
    [[ "$1" != *"$2"* ]] || fail "${3:+$3: }did not expect [$2] in: $(_sw_show "$1")"
}

assert_match() {  # HAYSTACK EXTENDED_REGEX [WHAT]
    grep -Eq -- "$2" <<<"$1" || fail "${3:+$3: }expected a match for /$2/ in: $(_sw_show "$1")"
}

# capture VAR CMD...: run CMD, put stdout+stderr in VAR and the exit status
# in SW_RC, without tripping errexit.
capture() {
    local __var=$1 __out __rc=0
    shift
    __out=$("$@" 2>&1) || __rc=$?
    printf -v "$__var" '%s' "$__out"
    SW_RC=$__rc
}

# retry SECONDS CMD...: rerun CMD every 200 ms until it succeeds; 1 on timeout.
retry() {
    local deadline=$((SECONDS + $1))
    shift
    while true; do
        "$@" >/dev/null 2>&1 && return 0
        ((SECONDS < deadline)) || return 1
        sleep 0.2
    done
}

now_ms() { date +%s%3N; }

# ---------------------------------------------------------------- modes

sw_direct() { [[ $SW_DIRECT == 1 ]]; }

# sw_proxy_only [WHY]: true when shardwire is in the path.  In direct mode
# prints a skip note and returns 1, for `sw_proxy_only "..." || return 0`.
sw_proxy_only() {
    if sw_direct; then
        echo "skip (direct mode): ${1:-proxy-specific check}"
        return 1
    fi
    return 0
}

# sw_skip_test WHY: end the whole test successfully (direct mode skips).
sw_skip_test() {
    echo "skip: $SW_TEST_NAME: $*"
    exit 0
}


# ---------------------------------------------------------------- ports

_sw_port_busy() {  # any TCP socket bound to the port, listening or not
    [[ -n $(ss -Htan "sport = :$1" 2>/dev/null) ]]
}

# sw_free_port VAR: a free loopback port in 20000-60000, never 5432, never one
# this test handed out before.  Kept below the kernel's ephemeral range when
# possible so outgoing connections cannot grab it between check and bind;
# the servers' start-up still retries on a lost race.
sw_free_port() {
    local lo=20000 hi=60000 eph p _
    read -r eph _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || eph=$hi
    if ((eph > lo + 2000 && eph < hi)); then hi=$((eph - 1)); fi
    for _ in $(seq 200); do
        p=$((lo + (RANDOM * 32768 + RANDOM) % (hi - lo)))
        [[ $p == 5432 || $p == 6432 || $_SW_PORTS_TAKEN == *" $p "* ]] && continue
        _sw_port_busy "$p" && continue
        _SW_PORTS_TAKEN+="$p "
        printf -v "$1" '%s' "$p"
        return 0
    done
    fail "no free port found"
}

# sw_wait_listen PORT SECONDS: until something listens on PORT.
sw_wait_listen() {
    local deadline=$((SECONDS + $2))
    until [[ -n $(ss -Htln "sport = :$1" 2>/dev/null) ]]; do
        ((SECONDS < deadline)) || return 1
        sleep 0.1
    done
}

# ---------------------------------------------------------------- PostgreSQL

# PostgreSQL refuses to run as root: then initdb/pg_ctl run as "postgres",
# from a directory it can read.  The session FIFOs are closed first: a
# postmaster started from here would otherwise hold them open for its whole
# life (sess_close relies on EOF).
_pg_owner_run() {
    (
        _sess_close_fds
        cd "$SW_TMP"
        if [[ $(id -u) == 0 ]]; then
            exec runuser -u postgres -- "$@"
        else
            exec "$@"
        fi
    )
}

_pg_chown() {
    if [[ $(id -u) == 0 ]]; then chown -R postgres: "$@"; fi
}

_pg_var() {  # _pg_var KIND NAME -> value of PG_<KIND>_<NAME>
    local v="PG_${1}_$2"
    [[ -n ${!v:-} ]] || fail "no PostgreSQL node named '$2' was started"
    printf '%s' "${!v}"
}

# Roles, database and grants every node has.  sw_md5's password is stored
# as md5 (password_encryption is scram-sha-256 otherwise).
_SW_SETUP_SQL="
SET password_encryption = 'scram-sha-256';
CREATE ROLE sw_admin LOGIN SUPERUSER PASSWORD 'admin_pw';
CREATE ROLE sw_scram LOGIN PASSWORD 'scram_pw';
SET password_encryption = 'md5';
CREATE ROLE sw_md5 LOGIN PASSWORD 'md5_pw';
RESET password_encryption;
CREATE ROLE sw_trust LOGIN;
CREATE DATABASE shop OWNER sw_admin;
\\connect shop
GRANT ALL ON DATABASE shop TO sw_scram, sw_md5, sw_trust;
GRANT ALL ON SCHEMA public TO sw_scram, sw_md5, sw_trust;
-- Whatever role creates a table, the others may use it: tests mix roles and
-- shardwire may log in to the server as a different role than the client.
ALTER DEFAULT PRIVILEGES FOR ROLE sw_admin, sw_scram, sw_md5, sw_trust IN SCHEMA public
    GRANT ALL ON TABLES TO PUBLIC;
ALTER DEFAULT PRIVILEGES FOR ROLE sw_admin, sw_scram, sw_md5, sw_trust IN SCHEMA public
    GRANT ALL ON SEQUENCES TO PUBLIC;
SELECT CASE WHEN rolpassword LIKE 'md5%' THEN 'md5-ok' ELSE 'md5-missing' END
    FROM pg_authid WHERE rolname = 'sw_md5';
SELECT CASE WHEN rolpassword LIKE 'SCRAM-SHA-256\$%' THEN 'scram-ok' ELSE 'scram-missing' END
    FROM pg_authid WHERE rolname = 'sw_scram';
"

_SW_PG_CONF="
# ---- shardwire integration tests
listen_addresses = '127.0.0.1'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 100
max_prepared_transactions = 10
password_encryption = 'scram-sha-256'
shared_buffers = 32MB
timezone = 'UTC'
log_timezone = 'UTC'
intervalstyle = 'postgres'
datestyle = 'iso, mdy'
lc_messages = 'C'
log_line_prefix = '%m [%p] %q%u@%d/%a '
log_connections = on
log_disconnections = on
"

_SW_PG_HBA="local all all trust
host all sw_trust 127.0.0.1/32 trust
host all sw_md5 127.0.0.1/32 md5
host all all 127.0.0.1/32 scram-sha-256
"

# One initdb'd and provisioned data directory is cached in the scratch base
# (see SW_TMPBASE) and copied for every node, so a test run pays for initdb
# once.  Its key covers this file and the server version, so any change
# here rebuilds it; flock serialises parallel tests.
_sw_template() {
    [[ -n ${SW_TEMPLATE:-} && -f ${SW_TEMPLATE:-}/.complete ]] && return 0
    local cache=${SW_ITEST_CACHE:-$SW_TMPBASE/shardwire-itest-cache-$(id -u)} key
    key=$({ "$PG_BINDIR/postgres" --version; cat "${BASH_SOURCE[0]}"; } | sha1sum | cut -c1-12)
    SW_TEMPLATE=$cache/template-$key
    [[ -f $SW_TEMPLATE/.complete ]] && return 0
    mkdir -p "$cache"
    chmod 755 "$cache"
    local build=$cache/build-$$ port rc=0
    (
        flock 9
        [[ -f $SW_TEMPLATE/.complete ]] && exit 0
        rm -rf "$build"
        mkdir -p "$build/sock"
        _pg_chown "$build"
        cd "$build"
        _pg_owner_run "$PG_BINDIR/initdb" -D "$build/data" -U postgres -A trust --no-sync \
            -E UTF8 --locale=C >"$build/initdb.log" 2>&1 ||
            { cat "$build/initdb.log" >&2; exit 1; }
        printf '%s' "$_SW_PG_CONF" >>"$build/data/postgresql.conf"
        printf '%s' "$_SW_PG_HBA" >"$build/data/pg_hba.conf"
        sw_free_port port
        _pg_owner_run "$PG_BINDIR/pg_ctl" -D "$build/data" -l "$build/setup.log" -w -t 60 -s \
            -o "-p $port -k $build/sock" start ||
            { cat "$build/setup.log" >&2; exit 1; }
        local out
        out=$(psql -X -w -At -v ON_ERROR_STOP=1 -h "$build/sock" -p "$port" -U postgres \
            -d postgres -f - <<<"$_SW_SETUP_SQL" 2>&1) || {
            echo "$out" >&2
            exit 1
        }
        _pg_owner_run "$PG_BINDIR/pg_ctl" -D "$build/data" -w -t 60 -s -m fast stop
        [[ $out == *md5-ok* && $out == *scram-ok* ]] || { echo "$out" >&2; exit 1; }
        rm -f "$build/data/postmaster.opts"
        # Older templates (this file changed) go once nothing can still be
        # copying them.
        find "$cache" -maxdepth 1 -name 'template-*' -mmin +60 -exec rm -rf {} + 2>/dev/null || true
        touch "$build/.complete"
        mv "$build" "$SW_TEMPLATE"
    ) 9>"$cache/lock" || rc=$?
    rm -rf "$build"
    ((rc == 0)) || fail "could not build the PostgreSQL template in $cache"
}

# pg_start NAME: a fresh PostgreSQL node (copy of the template) on a free
# port.  Exports PG_PORT_<NAME>, PG_DATA_<NAME>, PG_SOCK_<NAME>, PG_LOG_<NAME>.
pg_start() {
    local name=$1 dir port attempt
    [[ $name =~ ^[A-Za-z0-9_]+$ ]] || fail "pg_start: bad node name '$name'"
    dir=$SW_TMP/pg_$name
    _sw_template
    mkdir -p "$dir/sock"
    cp -a "$SW_TEMPLATE/data" "$dir/data"
    _pg_chown "$dir"
    for attempt in 1 2 3 4 5; do
        sw_free_port port
        # Later settings win: on a retry the new port simply overrides.
        printf "port = %s\nunix_socket_directories = '%s'\n" "$port" "$dir/sock" \
            >>"$dir/data/postgresql.conf"
        if _pg_owner_run "$PG_BINDIR/pg_ctl" -D "$dir/data" -l "$dir/postgresql.log" -w -t 60 -s \
            start >/dev/null 2>&1; then
            break
        fi
        if ((attempt < 5)) && grep -q "could not bind\|already in use" "$dir/postgresql.log"; then
            echo "pg_start $name: port $port was taken, retrying" >&2
            continue
        fi
        tail -n 30 "$dir/postgresql.log" >&2 || true
        fail "PostgreSQL node $name did not start"
    done
    _SW_PG_NODES+=("$name")
    export "PG_PORT_$name=$port" "PG_DATA_$name=$dir/data" "PG_SOCK_$name=$dir/sock" \
        "PG_LOG_$name=$dir/postgresql.log"
    echo "PostgreSQL $name listening on 127.0.0.1:$port"
}

_pg_ctl() {  # NAME ARGS...
    local data
    data=$(_pg_var DATA "$1")
    shift
    _pg_owner_run "$PG_BINDIR/pg_ctl" -D "$data" -w -t 60 -s "$@"
}

pg_running() { _pg_ctl "$1" status >/dev/null 2>&1; }
pg_stop() { _pg_ctl "$1" -m fast stop; }
# Immediate shutdown: like a crash, clients get cut off without ceremony.
pg_kill() { _pg_ctl "$1" -m immediate stop; }

# pg_restart NAME: (re)start on the same port (crash recovery if killed).
pg_restart() {
    local log
    log=$(_pg_var LOG "$1")
    if pg_running "$1"; then
        _pg_ctl "$1" -m fast restart -l "$log" >/dev/null
    else
        _pg_ctl "$1" -l "$log" start >/dev/null || { tail -n 30 "$log" >&2; fail "restart of $1 failed"; }
    fi
}

# pg_psql NAME [psql args]: superuser psql straight to the node, database
# shop, over its unix socket (bypasses shardwire in every mode).
pg_psql() {
    local name=$1
    shift
    timeout 120 psql -X -w -q -At -v ON_ERROR_STOP=1 -h "$(_pg_var SOCK "$name")" \
        -p "$(_pg_var PORT "$name")" -U postgres -d shop "$@"
}

# ---------------------------------------------------------------- config

# sw_config_write FILE [key=value ...]: a shardwire config for the started
# nodes.  Keys (defaults from SW_POOL_MODE, SW_POOL_SIZE, SW_LOG_LEVEL):
#   mode=transaction|session  size=N  query_wait_timeout=5s  connect_timeout=2s
#   idle_timeout=60s  shutdown_timeout=5s  max_message_size=1MB  merge_max_rows=1000000  level=info
#   port=N (default: one free port per test, kept across rewrites)
#   nodes=a,b (PostgreSQL nodes, default all started)  per_role=1 (server_user
#   and server_password equal to the client role, so the server sees the
#   client's own role)  db=LOGICAL:NODE (repeatable; default "shop" on the
#   first node and "shop_<node>" on each other one)
#   user=NAME:AUTH[:PASSWORD] (extra client role, repeatable)
#   functions=FILE tables=FILE (sharding: FILE holds the YAML list items of
#   the top-level `functions:` / of database shop's `tables:`)
#   max_clients=N max_startup=N auth_timeout=D query_timeout=D
#   max_server_message_size=S (listen/pool/limits keys, shardwire's defaults
#   when not given)  node_opt=NAME:KEY=VALUE (a key of node NAME, repeatable)
#   admin_users=a,b (default sw_scram) stats_users=a,b (default none): the
#   admin console's users
# Node NAME appears as "node_NAME"; every node's database is "shop".
sw_config_write() {
    local file=$1
    shift
    local mode=${SW_POOL_MODE:-transaction} size=${SW_POOL_SIZE:-4} level=${SW_LOG_LEVEL:-info}
    local qwt=5s ct=2s it=60s st=5s mms=1MB port=${SW_LISTEN_PORT:-} nodes="" per_role=0 mmr=1000000
    local functions_file="" tables_file="" admin_users=sw_scram stats_users=""
    local listen_extra="" pool_extra="" limits_extra=""
    local -a dbs=() users=() node_list=() node_opts=()
    local kv n d u srv
    for kv in "$@"; do
        case $kv in
        mode=*) mode=${kv#*=} ;;
        size=*) size=${kv#*=} ;;
        level=*) level=${kv#*=} ;;
        query_wait_timeout=*) qwt=${kv#*=} ;;
        connect_timeout=*) ct=${kv#*=} ;;
        idle_timeout=*) it=${kv#*=} ;;
        shutdown_timeout=*) st=${kv#*=} ;;
        max_message_size=*) mms=${kv#*=} ;;
        merge_max_rows=*) mmr=${kv#*=} ;;
        port=*) port=${kv#*=} ;;
        nodes=*) nodes=${kv#*=} ;;
        per_role=*) per_role=${kv#*=} ;;
        functions=*) functions_file=${kv#*=} ;;
        tables=*) tables_file=${kv#*=} ;;
        db=*) dbs+=("${kv#*=}") ;;
        user=*) users+=("${kv#*=}") ;;
        max_clients=* | max_startup=* | auth_timeout=*) listen_extra+=", ${kv%%=*}: ${kv#*=}" ;;
        query_timeout=* | session_state=*) pool_extra+=", ${kv%%=*}: ${kv#*=}" ;;
        max_server_message_size=*) limits_extra+=", ${kv%%=*}: ${kv#*=}" ;;
        node_opt=*) node_opts+=("${kv#*=}") ;;
        admin_users=*) admin_users=${kv#*=} ;;
        stats_users=*) stats_users=${kv#*=} ;;
        *) fail "sw_config_write: unknown option '$kv'" ;;
        esac
    done
    if [[ -n $nodes ]]; then IFS=, read -r -a node_list <<<"$nodes"; else node_list=("${_SW_PG_NODES[@]}"); fi
    ((${#node_list[@]} > 0)) || fail "sw_config_write: no PostgreSQL node started"
    if ((${#dbs[@]} == 0)); then
        for n in "${node_list[@]}"; do
            if [[ $n == "${node_list[0]}" ]]; then dbs+=("shop:$n"); else dbs+=("shop_$n:$n"); fi
        done
    fi
    if [[ -z $port ]]; then sw_free_port port; fi
    SW_LISTEN_PORT=$port

    {
        echo "# shardwire config written by tests/integration/lib.sh for $SW_TEST_NAME"
        echo "listen: {host: 127.0.0.1, port: $port, shutdown_timeout: $st$listen_extra}"
        echo "pool: {mode: $mode, size: $size, connect_timeout: $ct, query_wait_timeout: $qwt, idle_timeout: $it$pool_extra}"
        echo "limits: {max_message_size: $mms, merge_max_rows: $mmr$limits_extra}"
        echo "log: {level: $level}"
        echo "nodes:"
        for n in "${node_list[@]}"; do
            local extra="" o
            for o in "${node_opts[@]}"; do
                [[ ${o%%:*} == "$n" ]] && extra+=", $(sed 's/=/: /' <<<"${o#*:}")"
            done
            echo "  - {name: node_$n, host: 127.0.0.1, port: $(_pg_var PORT "$n"), database: shop, user: sw_admin, password: admin_pw$extra}"
        done
        if [[ -n $functions_file ]]; then
            echo "functions:"
            sed 's/^/  /' "$functions_file"
        fi
        echo "databases:"
        for d in "${dbs[@]}"; do
            if [[ -n $tables_file && ${d%%:*} == shop ]]; then
                echo "  - name: shop"
                echo "    default_node: node_${d#*:}"
                echo "    tables:"
                sed 's/^/      /' "$tables_file"
            else
                echo "  - {name: ${d%%:*}, default_node: node_${d#*:}}"
            fi
        done
        echo "users:"
        for u in "sw_scram:scram-sha-256:scram_pw" "sw_md5:md5:md5_pw" "sw_trust:trust" "${users[@]}"; do
            local uname=${u%%:*} rest=${u#*:} auth pw
            auth=${rest%%:*}
            pw=""
            [[ $rest == *:* ]] && pw=${rest#*:}
            _SW_PW[$uname]=$pw
            srv=""
            if [[ $per_role == 1 && $uname =~ ^sw_(scram|md5|trust)$ ]]; then
                srv=", server_user: $uname"
                [[ -n $pw ]] && srv+=", server_password: $pw"
            fi
            if [[ -n $pw ]]; then
                echo "  - {name: $uname, auth: $auth, password: $pw$srv}"
            else
                echo "  - {name: $uname, auth: $auth$srv}"
            fi
        done
        [[ -n $admin_users ]] && echo "admin_users: [${admin_users//,/, }]"
        [[ -n $stats_users ]] && echo "stats_users: [${stats_users//,/, }]"
        true
    } >"$file"

    # Where each logical database lives, for direct mode.
    _SW_DB_NODE=()
    for d in "${dbs[@]}"; do _SW_DB_NODE[${d%%:*}]=${d#*:}; done
    if sw_direct; then
        SW_PORT=$(_pg_var PORT "${_SW_DB_NODE[shop]:-${node_list[0]}}")
    else
        SW_PORT=$port
    fi
    export SW_PORT
}

# ---------------------------------------------------------------- shardwire

_sw_alive() {  # PID: running and not a zombie
    local s
    [[ -n ${1:-} ]] || return 1
    s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    s=${s##*) }
    [[ ${s:0:1} != Z ]]
}

sw_alive() { sw_direct || _sw_alive "$SW_PID"; }

# sw_start FILE: run shardwire in the background, logging to $SW_LOG, and
# wait (at most 10 s) until it accepts connections.  No-op in direct mode.
sw_start() {
    local file=$1
    sw_direct && return 0
    [[ -n $SW_BIN && -x $SW_BIN ]] || fail "SW_BIN does not name the shardwire binary (got '$SW_BIN')"
    local port
    port=$(sed -n 's/^listen:.*port: *\([0-9]*\).*/\1/p' "$file")
    [[ -n $port ]] || fail "sw_start: no listen port in $file"
    echo "==== $(date '+%F %T') $SW_BIN -c $file" >>"$SW_LOG"
    (
        _sess_close_fds
        exec "$SW_BIN" -c "$file"
    ) >>"$SW_LOG" 2>&1 &
    SW_PID=$!
    local deadline=$((SECONDS + 10))
    until [[ -n $(ss -Htln "sport = :$port" 2>/dev/null) ]]; do
        if ! _sw_alive "$SW_PID"; then
            local rc=0
            wait "$SW_PID" || rc=$?
            SW_PID=
            fail "shardwire exited during start-up (status $rc); see its log above"
        fi
        ((SECONDS < deadline)) || fail "shardwire did not listen on port $port within 10 s"
        sleep 0.1
    done
    echo "shardwire (pid $SW_PID) listening on 127.0.0.1:$port"
}

# sw_wait_exit SECONDS: wait for shardwire to exit by itself; sets SW_EXIT.
sw_wait_exit() {
    sw_direct && return 0
    local deadline=$((SECONDS + $1))
    while _sw_alive "$SW_PID"; do
        ((SECONDS < deadline)) || return 1
        sleep 0.1
    done
    SW_EXIT=0
    wait "$SW_PID" || SW_EXIT=$?
    SW_PID=
    return 0
}

# sw_stop: SIGINT (fast shutdown), SIGKILL after 10 s; sets SW_EXIT.
sw_stop() {
    sw_direct && return 0
    [[ -n $SW_PID ]] || return 0
    kill -INT "$SW_PID" 2>/dev/null || true
    if ! sw_wait_exit 10; then
        echo "shardwire ignored SIGINT for 10 s, killing it" >&2
        kill -KILL "$SW_PID" 2>/dev/null || true
        sw_wait_exit 5 || true
        fail "shardwire did not stop on SIGINT"
    fi
}

sw_signal() {  # SIG
    sw_direct && return 0
    [[ -n $SW_PID ]] || fail "sw_signal: shardwire is not running"
    kill -s "$1" "$SW_PID"
}

# ---------------------------------------------------------------- clients

# _sw_resolve USER DB: where a client for USER/DB connects; sets _R_*.  In
# direct mode the logical database is mapped to its node and to "shop".
_sw_resolve() {
    _R_USER=$1
    _R_DB=$2
    _R_HOST=$SW_HOST
    _R_PORT=${SW_PORT:?sw_config_write has not been called}
    if sw_direct && [[ -n ${_SW_DB_NODE[$2]:-} ]]; then
        _R_PORT=$(_pg_var PORT "${_SW_DB_NODE[$2]}")
        _R_DB=shop
    fi
    if [[ -v SW_PASSWORD ]]; then
        _R_PW=$SW_PASSWORD
    else
        _R_PW=${_SW_PW[$1]:-}
    fi
}

_ci_quote() {  # conninfo value quoting
    local v=${1//\\/\\\\}
    printf "'%s'" "${v//\'/\\\'}"
}

# sw_conninfo [USER [DB [key=value ...]]]: libpq conninfo for a client of
# shardwire (or of the node, in direct mode).  USER and DB default to
# $SW_USER (sw_scram) and $SW_DB (shop); SW_PASSWORD overrides the password.
sw_conninfo() {
    local user=${1:-${SW_USER:-sw_scram}} db=${2:-${SW_DB:-shop}}
    shift $(($# < 2 ? $# : 2))
    _sw_resolve "$user" "$db"
    local ci
    ci="host=$_R_HOST port=$_R_PORT user=$_R_USER dbname=$(_ci_quote "$_R_DB") connect_timeout=10"
    [[ -n $_R_PW ]] && ci+=" password=$(_ci_quote "$_R_PW")"
    if (($# > 0)); then ci+=" $*"; fi
    printf '%s' "$ci"
}

# sw_psql [psql args]: psql as $SW_USER on $SW_DB, unaligned tuples only,
# quiet (no command tags), stop on the first error.  sw_psql_raw leaves the output format alone.
sw_psql() { timeout 120 psql -X -w -q -At -v ON_ERROR_STOP=1 -d "$(sw_conninfo)" "$@"; }
sw_psql_raw() { timeout 120 psql -X -w -d "$(sw_conninfo)" "$@"; }

# sw_pgbench [pgbench args]: pgbench as $SW_USER on $SW_DB.
sw_pgbench() {
    _sw_resolve "${SW_USER:-sw_scram}" "${SW_DB:-shop}"
    PGHOST=$_R_HOST PGPORT=$_R_PORT PGUSER=$_R_USER PGPASSWORD=$_R_PW PGDATABASE=$_R_DB \
        timeout 120 pgbench "$@"
}

# sw_itest SUBCOMMAND ARGS...
sw_itest() { timeout 150 "$SW_ITEST" "$@"; }

# ---------------------------------------------------------------- sessions
#
# A session is a long-lived connection driven line by line: `sw_itest sql`
# reads one query per line on a FIFO and answers each with exactly one line
# ("ROWS a|b;c|d", "OK <tag>" or "ERR <SQLSTATE> <message>").  That lets a
# script keep transactions open across steps, interleave clients and signal
# servers in between.

_sess_close_fds() {  # in a child: drop the session FIFOs it inherited
    local fd
    for fd in "${_SESS_W[@]}" "${_SESS_R[@]}"; do
        exec {fd}>&-
    done
}

# sess_open NAME [CONNINFO]: connect (default $(sw_conninfo)); the backend
# pid the client was given lands in SESS_PID.  Fails if the login fails.
sess_open() {
    _sess_spawn "$1" sql "${2:-$(sw_conninfo)}"
}

# wire_open NAME [USER [DB]]: a session of `sw_itest wire` (raw protocol,
# one transcript line per command; see itest/death.c) as USER (default
# sw_trust: the raw client logs in with trust or a cleartext password) on
# DB (default shop).  Driven with sess_q / sess_send / sess_recv.
wire_open() {
    _sw_resolve "${2:-sw_trust}" "${3:-shop}"
    _sess_spawn "$1" wire "$_R_HOST" "$_R_PORT" "$_R_USER" "$_R_DB" "$_R_PW"
}

_sess_spawn() {  # NAME SW_ITEST_ARGS...
    local name=$1 base=$SW_TMP/sess_$1 w r line
    shift
    [[ -z ${_SESS_PID[$name]:-} ]] || fail "session $name is already open"
    rm -f "$base.in" "$base.out"
    mkfifo "$base.in" "$base.out"
    (
        _sess_close_fds
        exec "$SW_ITEST" "$@"
    ) <"$base.in" >"$base.out" 2>>"$base.err" &
    _SESS_PID[$name]=$!
    exec {w}>"$base.in"
    exec {r}<"$base.out"
    _SESS_W[$name]=$w
    _SESS_R[$name]=$r
    read -r -t 30 -u "$r" line || fail "session $name: no answer from sw_itest $1 within 30 s"
    [[ $line == READY* ]] || fail "session $name could not connect: $line"
    SESS_PID=${line#READY }
}

# sess_send NAME SQL / sess_recv NAME [SECONDS]: the two halves of sess_q,
# for a query that is expected to block.  sess_recv sets SESS_REPLY.
sess_send() {
    [[ -n ${_SESS_W[$1]:-} ]] || fail "session $1 is not open"
    [[ $2 != *$'\n'* ]] || fail "session $1: one line per query"
    # A runner that died must not kill this shell with SIGPIPE.
    (
        trap '' PIPE
        printf '%s\n' "$2" >&"${_SESS_W[$1]}"
    ) 2>/dev/null || fail "session $1: runner is gone (query: $2)"
}

sess_recv() {
    SESS_REPLY=
    read -r -t "${2:-30}" -u "${_SESS_R[$1]}" SESS_REPLY ||
        fail "session $1: no reply within ${2:-30} s"
}

# sess_q NAME SQL: run one query, reply in SESS_REPLY.
sess_q() {
    sess_send "$1" "$2"
    sess_recv "$1"
}

# sess_expect NAME SQL EXPECTED_REPLY
sess_expect() {
    sess_q "$1" "$2"
    assert_eq "$3" "$SESS_REPLY" "session $1: $2"
}

sess_close() {
    local name=$1 pid=${_SESS_PID[$1]:-} fd
    [[ -n $pid ]] || return 0
    fd=${_SESS_W[$name]}
    exec {fd}>&-
    local deadline=$((SECONDS + 3))
    while _sw_alive "$pid" && ((SECONDS < deadline)); do sleep 0.05; done
    _sw_alive "$pid" && echo "session $name: runner did not exit on EOF, killing it" >&2
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    fd=${_SESS_R[$name]}
    exec {fd}<&-
    unset "_SESS_PID[$name]" "_SESS_W[$name]" "_SESS_R[$name]"
}

# ---------------------------------------------------------------- teardown

_sw_kill_tree() {  # PID: the process and everything it started
    local child
    for child in $(ps -o pid= --ppid "$1" 2>/dev/null); do _sw_kill_tree "$child"; done
    kill "$1" 2>/dev/null || true
}

_sw_dump_logs() {
    {
        echo "==== $SW_TEST_NAME failed; scratch dir $SW_TMP"
        if [[ -n $SW_PID ]] && ! _sw_alive "$SW_PID"; then
            local st=0
            wait "$SW_PID" 2>/dev/null || st=$?
            if ((st > 128)); then
                echo "---- shardwire (pid $SW_PID) had died: status $st (signal $(kill -l $((st - 128)) 2>/dev/null))"
            else
                echo "---- shardwire (pid $SW_PID) had exited: status $st"
            fi
            SW_PID=
        fi
        if [[ -s $SW_LOG ]]; then
            echo "---- shardwire log (last 300 lines of $SW_LOG)"
            tail -n 300 "$SW_LOG"
        fi
        local n log f
        for n in "${_SW_PG_NODES[@]}"; do
            log=$(_pg_var LOG "$n")
            echo "---- PostgreSQL $n log (last 40 lines of $log)"
            tail -n 40 "$log" 2>/dev/null || true
        done
        for f in "$SW_TMP"/sess_*.err; do
            [[ -s $f ]] || continue
            echo "---- $(basename "$f") (last 20 lines)"
            tail -n 20 "$f"
        done
        echo "===="
    } >&2
}

# sw_at_exit CMD: run CMD (through eval) first when the test ends, passed or
# failed, before anything is stopped (say, to resume a SIGSTOPped server).
_SW_AT_EXIT=()
sw_at_exit() { _SW_AT_EXIT+=("$1"); }

_sw_cleanup() {
    local rc=$? n p h
    set +e
    trap - EXIT
    for h in "${_SW_AT_EXIT[@]}"; do eval "$h"; done
    ((rc == 0)) || _sw_dump_logs
    for n in "${!_SESS_PID[@]}"; do
        kill "${_SESS_PID[$n]}" 2>/dev/null
        sess_close "$n"
    done
    if [[ -n $SW_PID ]] && _sw_alive "$SW_PID"; then
        kill -INT "$SW_PID" 2>/dev/null
        sw_wait_exit 5 >/dev/null 2>&1 || { kill -KILL "$SW_PID" 2>/dev/null; wait "$SW_PID" 2>/dev/null; }
    fi
    for p in $(jobs -p); do _sw_kill_tree "$p"; done
    # A sanitizer build reports memory errors, leaks (at exit) and undefined
    # behaviour in shardwire's log: any report fails the test.
    if [[ -s $SW_LOG ]] && grep -qE "ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:" "$SW_LOG"; then
        echo "---- sanitizer report in $SW_LOG:" >&2
        grep -E -A30 "ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:" "$SW_LOG" | head -60 >&2
        rc=1
    fi
    for n in "${_SW_PG_NODES[@]}"; do
        pg_running "$n" && pg_kill "$n" >/dev/null 2>&1
    done
    if [[ ${SW_KEEP_TMP:-0} == 1 ]]; then
        echo "scratch dir kept: $SW_TMP" >&2
    else
        rm -rf "$SW_TMP"
    fi
    if ((rc == 0)); then echo "PASS: $SW_TEST_NAME"; else echo "FAIL: $SW_TEST_NAME (exit $rc)" >&2; fi
    exit "$rc"
}

trap _sw_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

echo "=== $SW_TEST_NAME ($(sw_direct && echo 'direct to PostgreSQL' || echo 'through shardwire'))"
