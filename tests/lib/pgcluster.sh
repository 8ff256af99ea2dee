# shellcheck shell=bash
# tests/lib/pgcluster.sh: throwaway PostgreSQL clusters for tests and the demo (sourced).
#
#   dir=$(pgc_mktemp)            a temp dir postgres can enter (mktemp -d, chmod 755)
#   pgc_init DIR [PORT]          initdb into DIR/data; PORT defaults to a free one
#   pgc_start DIR                start it (socket in DIR, TCP on 127.0.0.1:PORT only)
#   pgc_psql DIR [psql args]     psql as superuser postgres via the socket
#                                (-X -q -v ON_ERROR_STOP=1; database "postgres" unless -d)
#   pgc_dsn DIR [db] [user]      "host=DIR port=PORT dbname=db user=user"
#   pgc_port DIR                 the port
#   pgc_stop DIR                 stop by the pid in DIR/data/postmaster.pid
#   pgc_stop_all                 stop every cluster this shell started (for an EXIT trap)
#
# Authentication: trust on the unix socket (any role), scram-sha-256 over TCP from
# 127.0.0.1 (so tests can exercise passwords). fsync and friends are off: TESTS ONLY.
# As root the server runs as the `postgres` user (runuser); as any other user it runs
# as that user. Clusters are stopped by pid, never by process name. Nothing is exported:
# the list of started clusters lives in a file named after this shell's pid, so clusters
# started in a subshell (e.g. inside $(...)) are still stopped by pgc_stop_all.
# Every function is safe under `set -e`.

pgc__bin() { echo "${PGC_BIN:-/usr/lib/postgresql/15/bin}"; } # PGC_BIN overrides

pgc__die() { echo "pgcluster: $*" >&2; return 1; }

# Run a command as the cluster owner: postgres when we are root, else ourselves.
pgc__as_owner() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

# PGC_REGISTRY: for a child process (bash -c, ip netns exec) that starts a cluster the
# calling shell stops: it names the caller's list (pgc__registry there). A child's own list
# outlived it, and, pids being reused (pid_max 32768), a later suite's shell given that pid
# stopped the cluster on its exit while the suite that started it still ran.
pgc__registry() { echo "${PGC_REGISTRY:-${TMPDIR:-/tmp}/.pgcluster-$$.list}"; }

pgc__port_free() { # PORT: true when nothing listens on 127.0.0.1:PORT
    local port=$1
    if command -v ss >/dev/null 2>&1; then
        [ -z "$(ss -Hltn "sport = :$port" 2>/dev/null)" ] || return 1
    fi
    # Belt and braces: a connect that succeeds means the port is taken.
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
        return 1
    fi
    return 0
}

pgc__pick_port() {
    local port
    for _ in $(seq 1 100); do
        port=$((20000 + RANDOM % 20000))
        if pgc__port_free "$port"; then
            echo "$port"
            return 0
        fi
    done
    pgc__die "no free port found"
}

pgc_mktemp() {
    local d
    d=$(mktemp -d "${TMPDIR:-/tmp}/pgc.XXXXXXXX") || return 1
    chmod 755 "$d"
    echo "$d"
}

pgc_port() {
    [ -f "$1/port" ] || { pgc__die "$1 is not a cluster made by pgc_init"; return 1; }
    cat "$1/port"
}

pgc__write_conf() { # DIR PORT: the settings we own, in an included file
    local dir=$1 port=$2
    pgc__as_owner tee "$dir/data/pgcluster.conf" >/dev/null <<EOF
# written by tests/lib/pgcluster.sh: throwaway cluster, TESTS ONLY
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
unix_socket_permissions = 0777
max_connections = 50
shared_buffers = 128MB
fsync = off
synchronous_commit = off
full_page_writes = off
max_wal_size = 1GB
password_encryption = 'scram-sha-256'
logging_collector = off
log_min_messages = warning
log_line_prefix = '%m [%p] %q%u@%d '
timezone = 'UTC'
EOF
}

pgc_init() { # DIR [PORT]
    local dir=${1:?pgc_init DIR [PORT]} port=${2:-} auto=0
    mkdir -p "$dir" || return 1
    dir=$(cd "$dir" && pwd -P) || return 1
    # A unix socket path is limited to 107 bytes.
    [ ${#dir} -le 80 ] || { pgc__die "socket directory path too long: $dir"; return 1; }
    [ ! -e "$dir/data" ] || { pgc__die "$dir/data already exists"; return 1; }
    if [ -z "$port" ]; then
        port=$(pgc__pick_port) || return 1
        auto=1
    fi
    chmod 755 "$dir"
    if [ "$(id -u)" -eq 0 ]; then
        chown postgres: "$dir" || return 1
    fi
    # initdb as the owner, from a directory the owner can enter.
    if ! (cd "$dir" && pgc__as_owner "$(pgc__bin)/initdb" -D "$dir/data" -U postgres \
        --locale=C.UTF-8 --encoding=UTF8 --auth-local=trust --auth-host=scram-sha-256 \
        --no-sync) >"$dir/initdb.log" 2>&1; then
        cat "$dir/initdb.log" >&2
        pgc__die "initdb failed in $dir"
        return 1
    fi
    pgc__as_owner tee "$dir/data/pg_hba.conf" >/dev/null <<'EOF'
# written by tests/lib/pgcluster.sh
# TYPE  DATABASE  USER  ADDRESS        METHOD
local   all       all                  trust
host    all       all   127.0.0.1/32   scram-sha-256
EOF
    pgc__write_conf "$dir" "$port" || return 1
    echo "include = 'pgcluster.conf'" | pgc__as_owner tee -a "$dir/data/postgresql.conf" >/dev/null
    echo "$port" | pgc__as_owner tee "$dir/port" >/dev/null
    if [ "$auto" -eq 1 ]; then
        pgc__as_owner touch "$dir/port.auto"
    fi
    return 0
}

pgc__pid() { # DIR: the postmaster pid when it is running for DIR/data
    local dir=$1 pid data
    [ -f "$dir/data/postmaster.pid" ] || return 1
    pid=$(head -n 1 "$dir/data/postmaster.pid")
    case "$pid" in '' | *[!0-9]*) return 1 ;; esac
    kill -0 "$pid" 2>/dev/null || return 1
    # The postmaster runs in its data directory: this guards against a reused pid.
    data=$(cd "$dir/data" && pwd -P)
    if [ -r "/proc/$pid/cwd" ] || [ "$(id -u)" -eq 0 ]; then
        [ "$(readlink "/proc/$pid/cwd" 2>/dev/null)" = "$data" ] || return 1
    fi
    echo "$pid"
}

pgc_start() { # DIR
    local dir=${1:?pgc_start DIR} port reg
    dir=$(cd "$dir" && pwd -P) || return 1
    [ -f "$dir/port" ] || { pgc__die "$dir is not a cluster made by pgc_init"; return 1; }
    if pgc__pid "$dir" >/dev/null; then
        return 0
    fi
    for _ in 1 2 3; do
        if (cd "$dir" && pgc__as_owner "$(pgc__bin)/pg_ctl" -D "$dir/data" -l "$dir/server.log" \
            -w -t 60 start) >"$dir/pg_ctl.log" 2>&1; then
            reg=$(pgc__registry)
            grep -qxF "$dir" "$reg" 2>/dev/null || echo "$dir" >>"$reg"
            return 0
        fi
        # Another process may have taken an automatically picked port: pick again.
        if [ -f "$dir/port.auto" ] && grep -q "could not bind\|could not create listen" "$dir/server.log" 2>/dev/null; then
            port=$(pgc__pick_port) || break
            pgc__write_conf "$dir" "$port" || break
            echo "$port" | pgc__as_owner tee "$dir/port" >/dev/null
            continue
        fi
        break
    done
    cat "$dir/pg_ctl.log" >&2
    tail -n 20 "$dir/server.log" >&2 2>/dev/null
    pgc__die "could not start the cluster in $dir"
}

pgc_stop() { # DIR
    local dir=${1:?pgc_stop DIR} pid reg
    dir=$(cd "$dir" 2>/dev/null && pwd -P) || return 0
    reg=$(pgc__registry)
    if [ -f "$reg" ]; then
        grep -vxF "$dir" "$reg" >"$reg.tmp" 2>/dev/null || true
        mv -f "$reg.tmp" "$reg" || true
        [ -s "$reg" ] || rm -f "$reg"
    fi
    pid=$(pgc__pid "$dir") || return 0
    kill -INT "$pid" 2>/dev/null || true # fast shutdown
    for _ in $(seq 1 300); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
    kill -QUIT "$pid" 2>/dev/null || true # immediate shutdown
    for _ in $(seq 1 100); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    pgc__die "cluster in $dir (pid $pid) did not stop; sent SIGKILL"
}

pgc_stop_all() {
    local reg dir
    reg=$(pgc__registry)
    [ -f "$reg" ] || return 0
    while IFS= read -r dir; do
        [ -n "$dir" ] && pgc_stop "$dir"
    done <"$reg"
    rm -f "$reg" "$reg.tmp"
    return 0
}

pgc_psql() { # DIR [psql args]
    local dir=${1:?pgc_psql DIR [args]} port
    shift
    port=$(pgc_port "$dir") || return 1
    env -u PGSERVICE -u PGSERVICEFILE -u PGOPTIONS -u PGPASSWORD -u PGSSLMODE \
        PGHOST="$dir" PGPORT="$port" PGUSER=postgres PGDATABASE=postgres \
        "$(pgc__bin)/psql" -X -q -v ON_ERROR_STOP=1 "$@"
}

pgc__dsn_value() { # quote a libpq keyword value only when it needs it
    case "$1" in
    '' | *[!A-Za-z0-9_./:@+-]*)
        local v=${1//\\/\\\\}
        v=${v//\'/\\\'}
        printf "'%s'" "$v"
        ;;
    *) printf '%s' "$1" ;;
    esac
}

pgc_dsn() { # DIR [db] [user]
    local dir=${1:?pgc_dsn DIR [db] [user]} port
    port=$(pgc_port "$dir") || return 1
    dir=$(cd "$dir" && pwd -P) || return 1
    printf 'host=%s port=%s dbname=%s user=%s\n' "$(pgc__dsn_value "$dir")" "$port" \
        "$(pgc__dsn_value "${2:-postgres}")" "$(pgc__dsn_value "${3:-postgres}")"
}

# pgc_pair: the usual test setup. Sets $work (a temp dir, removed on exit), starts two
# clusters, $work/src and $work/tgt, stopped on exit, and defines S and T: psql as the
# superuser on database postgres of each. A test may redefine S and T afterwards.
pgc_pair() {
    work=$(pgc_mktemp) || return 1
    # shellcheck disable=SC2064 # expand $work now: the trap must remove this very dir
    trap "pgc_stop_all; rm -rf '$work'" EXIT
    pgc_init "$work/src" >/dev/null && pgc_start "$work/src" >/dev/null &&
        pgc_init "$work/tgt" >/dev/null && pgc_start "$work/tgt" >/dev/null
}
S() { pgc_psql "$work/src" -d postgres "$@"; }
T() { pgc_psql "$work/tgt" -d postgres "$@"; }
