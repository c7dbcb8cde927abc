# shellcheck shell=bash
# bench/lib.sh - the plumbing bench/run.sh and bench/merge.sh share:
# messages, free loopback ports and process checks read from /proc, the
# Debian package check, the Release build, the scratch directory,
# throw-away PostgreSQL 15 servers, starting and stopping shardwire, and
# the exit trap that stops everything and keeps or removes the scratch
# directory.  It is sourced, after `set -euo pipefail`, by a script that
# then defines PACKAGES (the Debian packages it needs) and the two hooks
# the exit trap calls: stop_all (stop what it started) and on_failure RC
# (print what explains a failed run, to stderr).  It starts nothing by
# itself; it only clears the client environment and sets the defaults of
# the variables both scripts take (SW_BIN, SW_BUILD, BENCH_KEEP, PG_BINDIR).

SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH_KEEP=${BENCH_KEEP:-0}
SW_BUILD=${SW_BUILD:-$SRC/build-bench}
SW_BIN=${SW_BIN:-}
PG_BINDIR=${PG_BINDIR:-/usr/lib/postgresql/15/bin}
BENCH_SCRIPT=bench/$(basename "$0")
SCRATCH=

# Clients see only what the script gives them: no ambient libpq settings or
# password files.  GSS encryption is off because none of the servers offer it.
unset PGHOST PGHOSTADDR PGPORT PGUSER PGDATABASE PGPASSWORD PGSERVICE PGSERVICEFILE \
    PGOPTIONS PGSSLMODE PGREQUIRESSL PGCONNECT_TIMEOUT PGTARGETSESSIONATTRS
export PSQLRC=/dev/null PGGSSENCMODE=disable

# ---------------------------------------------------------------- helpers

say() { echo "== $*" >&2; }
die() {
    echo "bench: $*" >&2
    exit 1
}

is_root() { [[ $(id -u) == 0 ]]; }

# as_pg CMD...: PostgreSQL and PgBouncer refuse to run as root, so as root
# they run as "postgres", from a directory that user can read.
as_pg() {
    if is_root; then
        (cd "$SCRATCH" && runuser -u postgres -- "$@")
    else
        "$@"
    fi
}

# _tcp_has PORT [STATE]: a TCP socket on that local port, read from
# /proc/net/tcp{,6} so that no iproute2 is needed (ports there are hex, state
# 0A is LISTEN).  One awk, no pipe: under pipefail, `... | grep -q` fails
# when grep exits early and the writer gets SIGPIPE.
_tcp_has() {
    local f files=()
    for f in /proc/net/tcp /proc/net/tcp6; do [[ -r $f ]] && files+=("$f"); done
    awk -v p="$(printf '%04X' "$1")" -v st="${2:-}" '
        FNR > 1 { split($2, a, ":"); if (a[2] == p && (st == "" || $4 == st)) found = 1 }
        END { exit !found }' "${files[@]}"
}
port_busy() { _tcp_has "$1"; }
port_listening() { _tcp_has "$1" 0A; }

# free_port VAR: a loopback port nobody uses, never 5432/6432, below the kernel's
# ephemeral range so outgoing connections cannot take it before we bind.
TAKEN=" "
free_port() {
    local lo=20000 hi=60000 eph p _
    read -r eph _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || eph=$hi
    if ((eph > lo + 2000 && eph < hi)); then hi=$((eph - 1)); fi
    for _ in $(seq 200); do
        p=$((lo + (RANDOM * 32768 + RANDOM) % (hi - lo)))
        [[ $p == 5432 || $p == 6432 || $TAKEN == *" $p "* ]] && continue
        port_busy "$p" && continue
        TAKEN+="$p "
        printf -v "$1" '%s' "$p"
        return 0
    done
    die "no free port found"
}

wait_listen() {  # PORT SECONDS
    local deadline=$((SECONDS + $2))
    until port_listening "$1"; do
        ((SECONDS < deadline)) || return 1
        sleep 0.1
    done
}

alive() {  # PID: running and not a zombie
    local s
    [[ -n ${1:-} ]] || return 1
    s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    s=${s##*) }
    [[ ${s:0:1} != Z ]]
}

ratio() {  # A B -> A/B with two decimals, or n/a
    awk -v a="$1" -v b="$2" 'BEGIN {
        if (a !~ /^[0-9.]+$/ || b !~ /^[0-9.]+$/ || b + 0 == 0) print "n/a"; else printf "%.2f", a / b }'
}

# ---------------------------------------------------------------- setup

ensure_packages() {
    local p missing=()
    for p in "${PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    ((${#missing[@]} == 0)) && return 0
    is_root || die "missing Debian packages (run as root to install them): ${missing[*]}"
    say "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    apt-get install -y -q "${missing[@]}"
}

# make_scratch PREFIX: a fresh ${TMPDIR:-/tmp}/PREFIX.XXXXXX in SCRATCH, with
# the sock/ directory the servers put their unix sockets in.
make_scratch() {
    SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX")
    chmod 755 "$SCRATCH"  # the servers run as another user when we are root
    mkdir -p "$SCRATCH/sock"
    if is_root && ! runuser -u postgres -- test -x "$SCRATCH"; then
        die "user postgres cannot reach $SCRATCH: point TMPDIR at a directory it can traverse"
    fi
}

# bench_begin SCRATCH_PREFIX: the start every run shares: the exit trap
# (also on Ctrl-C and SIGTERM), the packages, PostgreSQL 15, the scratch
# directory.
bench_begin() {
    trap cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM

    ensure_packages
    [[ -x $PG_BINDIR/postgres ]] || die "no PostgreSQL 15 in $PG_BINDIR"
    make_scratch "$1"
}

# build_binaries [TARGET...]: builds these and, unless SW_BIN names one,
# shardwire (Release, in SW_BUILD), then points SW_BIN at the binary.
build_binaries() {
    local targets=("$@")
    if [[ -n $SW_BIN ]]; then
        [[ -x $SW_BIN ]] || die "SW_BIN=$SW_BIN is not executable"
    else
        targets+=(shardwire)
    fi
    ((${#targets[@]} > 0)) || return 0
    say "building ${targets[*]} (Release) in $SW_BUILD"
    # Tests off: they need cmocka, and the benchmark does not run them.
    { cmake -S "$SRC" -B "$SW_BUILD" -DCMAKE_BUILD_TYPE=Release -DSW_TESTS=OFF &&
        cmake --build "$SW_BUILD" -j"$(nproc)" --target "${targets[@]}"; } >"$SCRATCH/build.log" 2>&1 ||
        die "build failed, see $SCRATCH/build.log"
    [[ -n $SW_BIN ]] || SW_BIN=$SW_BUILD/shardwire
}

# ---------------------------------------------------------------- PostgreSQL

# pg_initdb DIR [SETTING...]: a new data directory (C locale, UTF8, trust
# on the unix socket in SCRATCH/sock, SCRAM over TCP on 127.0.0.1), set up
# as every bench server is, then the script's own SETTINGs ("name = value").
pg_initdb() {
    local data=$1
    shift
    if is_root; then chown -R postgres: "$SCRATCH"; fi
    as_pg "$PG_BINDIR/initdb" -D "$data" -U postgres -A trust --no-sync -E UTF8 --locale=C \
        >"$SCRATCH/initdb.log" 2>&1 || die "initdb failed, see $SCRATCH/initdb.log"
    # Durability off: the benchmarks measure the path through the proxies,
    # not the disk.
    {
        cat <<EOF
# ---- $BENCH_SCRIPT
listen_addresses = '127.0.0.1'
unix_socket_directories = '$SCRATCH/sock'
fsync = off
synchronous_commit = off
full_page_writes = off
shared_buffers = 256MB
password_encryption = 'scram-sha-256'
lc_messages = 'C'
EOF
        printf '%s\n' "$@"
    } >>"$data/postgresql.conf"
    printf '%s\n' "local all all trust" "host all all 127.0.0.1/32 scram-sha-256" >"$data/pg_hba.conf"
}

# pg_start DIR LOG VAR: starts the server of data directory DIR on a free
# port, logging to LOG, and stores the port in VAR (an array element will
# do); status 1 when it does not start.  A lost race for the port is retried.
pg_start() {
    local pg_data=$1 pg_log=$2 pg_attempt pg_port
    for pg_attempt in 1 2 3 4 5; do
        free_port pg_port
        # Later settings win: a retry simply overrides the port.
        echo "port = $pg_port" >>"$pg_data/postgresql.conf"
        if as_pg "$PG_BINDIR/pg_ctl" -D "$pg_data" -l "$pg_log" -w -t 60 -s start >/dev/null 2>&1; then
            printf -v "$3" '%s' "$pg_port"
            return 0
        fi
        ((pg_attempt < 5)) && grep -q "could not bind\|already in use" "$pg_log" && continue
        return 1
    done
}

pg_stop() {  # DIR: a fast shutdown, an immediate one if that does not finish
    as_pg "$PG_BINDIR/pg_ctl" -D "$1" -w -t 60 -s -m fast stop >/dev/null 2>&1 ||
        as_pg "$PG_BINDIR/pg_ctl" -D "$1" -s -m immediate stop >/dev/null 2>&1
}

# ---------------------------------------------------------------- shardwire

# launch_shardwire CONF LOG PIDVAR PORT NAME: checks CONF, starts SW_BIN on
# it in the background (output appended to LOG), stores its pid in PIDVAR
# and waits up to 10 s for it to listen on PORT; NAME is what the errors
# call it.  Not from a subshell: the script must be able to wait for it.
launch_shardwire() {
    local conf=$1 log=$2 port=$4 what=$5 deadline
    "$SW_BIN" --check -c "$conf" >>"$log" 2>&1 || die "shardwire rejected $conf"
    "$SW_BIN" -c "$conf" >>"$log" 2>&1 &
    printf -v "$3" '%s' "$!"
    deadline=$((SECONDS + 10))
    until port_listening "$port"; do
        alive "${!3}" || die "$what exited during start-up"
        ((SECONDS < deadline)) || die "$what did not listen on $port"
        sleep 0.1
    done
}

# stop_shardwire PIDVAR: stops the shardwire whose pid PIDVAR holds (SIGINT:
# at once; SIGKILL after 5 s), reaps it and empties PIDVAR.
stop_shardwire() {
    local pid=${!1}
    alive "$pid" || return 0
    kill -INT "$pid" 2>/dev/null || true
    for _ in $(seq 50); do alive "$pid" || break; sleep 0.1; done
    alive "$pid" && kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null || true
    printf -v "$1" '%s' ''
}

# ---------------------------------------------------------------- teardown

# cleanup: the exit trap.  Stops everything (stop_all), then removes the
# scratch directory, or keeps it with BENCH_KEEP=1; a failed or interrupted
# run keeps it and has on_failure RC print what explains it.
cleanup() {
    local rc=$?
    set +e
    trap - EXIT INT TERM
    stop_all
    if [[ -n $SCRATCH ]]; then
        if ((rc != 0)); then
            {
                if ((rc == 130 || rc == 143)); then echo "==== interrupted; logs kept in $SCRATCH"
                else echo "==== bench failed; logs kept in $SCRATCH"; fi
                on_failure "$rc"
            } >&2
        elif [[ $BENCH_KEEP == 1 ]]; then
            echo "scratch directory kept: $SCRATCH" >&2
        else
            rm -rf "$SCRATCH"
        fi
    fi
    exit "$rc"
}
