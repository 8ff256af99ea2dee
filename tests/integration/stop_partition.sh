#!/usr/bin/env bash
# tests/integration/stop_partition.sh: a stop (SIGTERM) when a server cannot be reached.
#
# A network partition between the job and a server (packets dropped, no RST) is when an
# operator stops a hung run. The run must still end before a scheduler's SIGKILL (ECS: 30 s
# after SIGTERM): exit 143, a run_stopped line that says what could not be done, the
# published data intact, and the next run, once the network is back, publishes.
#
# Five namespaces the suite creates: "run" (anonetl), "src" and "tgt" (a PostgreSQL each,
# TLS with a test CA, on 198.18.1.6 and 198.18.2.6, the benchmark range), each server
# behind a router namespace of its own ("rs", "rt"), all joined by veth pairs. Nothing
# leaves them and the host's unix sockets (the test's own psql). A partition is a tbf
# qdisc that drops every packet (burst 1 byte) on both of the router's interfaces: the
# packets are lost on the way, as in a real partition, not refused by the sending host
# (a drop on the sender's own interface counts as local congestion, which makes TCP give
# up in seconds). The neighbour entries are permanent, so no failed ARP turns the drop
# into an error either.
set -u
[ -n "${STOP_DEBUG:-}" ] && set -x
cd "$(dirname "$0")/../.."
. tests/lib/tap.sh
. tests/lib/pgcluster.sh
. tests/lib/poll.sh

if [ -n "${ANONETL:-}" ]; then BIN=$ANONETL
elif [ -x build/asan/anonetl ]; then BIN=build/asan/anonetl
else BIN=./anonetl; fi
BIN=$(cd "$(dirname "$BIN")" && pwd -P)/$(basename "$BIN")
export ASAN_OPTIONS=detect_leaks=1:exitcode=99 UBSAN_OPTIONS=halt_on_error=1:exitcode=99:print_stacktrace=1

RUNNS="anrun-$$" SRCNS="ansrc-$$" TGTNS="antgt-$$" SRCRT="anrs-$$" TGTRT="anrt-$$"
SRC_ADDR=198.18.1.6 TGT_ADDR=198.18.2.6
work=""

skip_all() {
    skip "stops across a network partition" "$1"
    done_testing
    exit 0
}
[ "$(id -u)" -eq 0 ] || skip_all "not root"
command -v ip >/dev/null 2>&1 && command -v tc >/dev/null 2>&1 || skip_all "no ip or tc command"
command -v openssl >/dev/null 2>&1 || skip_all "no openssl command"
[ -x "$(pgc__bin)/initdb" ] || skip_all "PostgreSQL binaries not found in $(pgc__bin)"

cleanup() {
    [ -n "$work" ] && { pgc_stop "$work/src" >/dev/null 2>&1; pgc_stop "$work/tgt" >/dev/null 2>&1; }
    ip netns del "$RUNNS" 2>/dev/null
    ip netns del "$SRCNS" 2>/dev/null
    ip netns del "$TGTNS" 2>/dev/null
    ip netns del "$SRCRT" 2>/dev/null
    ip netns del "$TGTRT" 2>/dev/null
    [ -n "$work" ] && [ -z "${KEEP:-}" ] && rm -rf "$work"
}
trap cleanup EXIT
work=$(pgc_mktemp) || skip_all "cannot make a temp dir"
[ -n "${KEEP:-}" ] && echo "# work: $work (kept)"

# pair NS1 ADDR1 NS2 ADDR2 DEV: a veth pair DEV-a (NS1, ADDR1/30) DEV-b (NS2, ADDR2/30);
# each end knows the other's MAC for good
pair() {
    local a="${5}a$$" b="${5}b$$" amac bmac
    ip link add "$a" type veth peer name "$b" || return 1
    ip link set "$a" netns "$1" && ip link set "$b" netns "$3" || return 1
    ip -n "$1" addr add "$2/30" dev "$a" && ip -n "$3" addr add "$4/30" dev "$b" || return 1
    ip -n "$1" link set "$a" up && ip -n "$3" link set "$b" up || return 1
    amac=$(ip -n "$1" -br link show "$a" | awk '{print $3}')
    bmac=$(ip -n "$3" -br link show "$b" | awk '{print $3}')
    ip -n "$1" neigh replace "$4" lladdr "$bmac" dev "$a" nud permanent &&
        ip -n "$3" neigh replace "$2" lladdr "$amac" dev "$b" nud permanent
}
# route NS RT N: RUNNS <-> router RT <-> server NS, on 198.18.N.0/30 and 198.18.N.4/30
route() {
    local ns=$1 rt=$2 n=$3
    ip netns add "$rt" && ip -n "$rt" link set lo up || return 1
    ip netns exec "$rt" sysctl -qw net.ipv4.ip_forward=1 || return 1
    pair "$rt" "198.18.$n.1" "$RUNNS" "198.18.$n.2" "r${n}" &&
        pair "$rt" "198.18.$n.5" "$ns" "198.18.$n.6" "s${n}" || return 1
    ip -n "$RUNNS" route add "198.18.$n.6/32" via "198.18.$n.1" &&
        ip -n "$ns" route add "198.18.$n.2/32" via "198.18.$n.5"
}
setup_net() {
    ip netns add "$RUNNS" && ip netns add "$SRCNS" && ip netns add "$TGTNS" || return 1
    for ns in "$RUNNS" "$SRCNS" "$TGTNS"; do ip -n "$ns" link set lo up || return 1; done
    route "$SRCNS" "$SRCRT" 1 && route "$TGTNS" "$TGTRT" 2
}
# partition SIDE / heal SIDE: the router to that server drops every packet, both ways
router_of() { case $1 in src) echo "$SRCRT 1" ;; tgt) echo "$TGTRT 2" ;; esac; }
partition() {
    local rt n
    read -r rt n < <(router_of "$1")
    tc -n "$rt" qdisc replace dev "r${n}a$$" root tbf rate 1kbit burst 1 latency 1ms &&
        tc -n "$rt" qdisc replace dev "s${n}a$$" root tbf rate 1kbit burst 1 latency 1ms
}
heal() {
    local rt n
    read -r rt n < <(router_of "$1")
    tc -n "$rt" qdisc del dev "r${n}a$$" root 2>/dev/null
    tc -n "$rt" qdisc del dev "s${n}a$$" root 2>/dev/null
    return 0
}
# a connect to the server across the link gets no answer (no refusal, no error)
unanswered() { # ADDR
    ip netns exec "$RUNNS" timeout 3 bash -c "exec 3<>/dev/tcp/$1/5432" 2>/dev/null
    [ $? = 124 ]
}

make_pki() { # a CA and one server certificate for both addresses
    mkdir -p "$work/tls" && (
        cd "$work/tls" &&
            openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
                -subj "/CN=anonetl partition test CA" -keyout ca.key -out ca.crt 2>/dev/null &&
            openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
                -subj "/CN=db.test" -keyout server.key -out server.csr 2>/dev/null &&
            printf 'subjectAltName=IP:%s,IP:%s\n' "$SRC_ADDR" "$TGT_ADDR" >san.ext &&
            openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 30 \
                -extfile san.ext -out server.crt 2>/dev/null &&
            chmod 755 . && chown postgres: server.key server.crt && chmod 600 server.key
    )
}

# cluster DIR NS ADDR: listens on ADDR inside NS (TLS) and on its unix socket (the test)
cluster() {
    pgc_init "$1" 5432 || return 1
    printf "listen_addresses = '%s'\nssl = on\nssl_cert_file = '%s'\nssl_key_file = '%s'\n" \
        "$3" "$work/tls/server.crt" "$work/tls/server.key" |
        pgc__as_owner tee -a "$1/data/postgresql.conf" >/dev/null
    echo "hostssl all all 198.18.0.0/15 trust" | pgc__as_owner tee -a "$1/data/pg_hba.conf" >/dev/null
    PGC_REGISTRY=$(pgc__registry) ip netns exec "$2" bash -c ". tests/lib/pgcluster.sh && pgc_start '$1'"
}

setup_net || skip_all "could not set up the namespaces"
make_pki || skip_all "openssl could not make the test certificates"
cluster "$work/src" "$SRCNS" "$SRC_ADDR" && cluster "$work/tgt" "$TGTNS" "$TGT_ADDR" || {
    not_ok "start the clusters in their namespaces" "$(tail -5 "$work"/*/server.log 2>/dev/null)"
    done_testing
    exit 1
}
S() { pgc_psql "$work/src" "$@"; }
T() { pgc_psql "$work/tgt" "$@"; }
export ANONETL_HASH_KEY=$(openssl rand -hex 32)

S -f tests/lib/slow_items.sql >/dev/null
dsn() { echo "host=$1 port=5432 dbname=postgres user=postgres sslmode=verify-full sslrootcert=$work/tls/ca.crt keepalives_idle=5 keepalives_interval=2 keepalives_count=3 tcp_user_timeout=20000"; }
write_config() { # FILE V-RULE
    cat >"$1" <<YAML
version: 1
source: { dsn: "$(dsn $SRC_ADDR)" }
target: { dsn: "$(dsn $TGT_ADDR)", schema: anon }
secrets: { hash_key: { env: ANONETL_HASH_KEY } }
tables:
  - { name: public.slow_items, key: [id], columns: { id: { round: { digits: 0 } }, v: $2 } }
YAML
}
write_config "$work/c.yaml" "{ bucket: { width: 1 } }"
published() { T -tAc "SELECT count(*) || ' ' || sum(v) FROM anon.slow_items"; }
# (in the foreground only: in the background, $! would be a subshell's pid, not the run's)
run_in_ns() { ip netns exec "$RUNNS" "$BIN" run -c "$1" --skip-preflight; }

run_in_ns "$work/c.yaml" >"$work/first.log" 2>&1
rc=$?; [ "$rc" = 0 ] || tail -3 "$work/first.log" | sed "s/^/# /"
expect_eq "a first run across the links publishes every row" "0 20000 20000" "$rc $(published)"

now_ms() { date +%s%3N; }
prints_one() { [ "$("$1" -tAc "$2")" = 1 ]; } # PSQL-FUNCTION QUERY
copy_running() { prints_one S "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'COPY%slow_items%' AND state = 'active'"; }
# stop_and_time PID: SIGTERM, then wait for the run (at most 60 s: SIGKILL after that);
# sets rc and ms (from the signal to the run's end)
stop_and_time() {
    local t0 left=600
    t0=$(now_ms)
    kill -TERM "$1"
    while kill -0 "$1" 2>/dev/null && [ "$left" -gt 0 ]; do sleep 0.1; left=$((left - 1)); done
    ms=$(($(now_ms) - t0))
    kill -KILL "$1" 2>/dev/null
    wait "$1"
    rc=$?
}
ended() { ! kill -0 "$1" 2>/dev/null; } # PID (this shell reaps its children as they end)
# the anonetl sessions the server still has (a partitioned client's stay until they hear)
sessions_gone() { prints_one "$1" "SELECT (count(*) = 0)::int FROM pg_stat_activity WHERE application_name LIKE 'anonetl%'"; }
# The stopped run's sessions the target still has end on their own: its backends probe
# the client with keepalives (the DSN's: 5 s idle, then 3 probes 2 s apart here, where
# pgconn's defaults are 60 s, 6 x 10 s; pgconn sets the server's side from them) and a probe
# across the healed link finds the job gone. Until then the
# leader's session holds the run lock and a run exits 7.
# The source's end on their own too (a backend blocked sending the COPY hears the job is
# gone at its next retransmission); a run started before would find a COPY under way that
# is not its own.
ghosts_gone() {
    check "the target drops the stopped run's sessions on its own" poll_until 240 sessions_gone T
    poll_until 180 sessions_gone S || echo "# the source still has the stopped run's sessions"
}
next_run_publishes() { # CONFIG LOG EXPECTED-PUBLISHED
    ghosts_gone
    run_in_ns "$1" >"$work/$2" 2>&1
    rc=$?; [ "$rc" = 0 ] || tail -3 "$work/$2" | sed "s/^/# /"
    expect_eq "after the partition, the next run publishes" "0 $3" "$rc $(published)"
}

# start_run CONFIG LOG: a run in RUNNS, in the background; sets pid (the run's own: ip
# netns exec execs it)
start_run() {
    ip netns exec "$RUNNS" "$BIN" run -c "$1" --skip-preflight >"$work/$2" 2>&1 &
    pid=$!
}
# stopped_in_time CASE LOG: the checks every stop makes (rc and ms from stop_and_time)
stopped_in_time() {
    expect_eq "$1, SIGTERM: exit 143" 143 "$rc"
    check "$1: it ends within 10 s of the signal ($ms ms)" test "$ms" -lt 10000
    check "$1: run_stopped names the signal and says nothing was published" \
        grep -q '"event":"run_stopped".*"exit_code":143.*stopped by SIGTERM.*nothing published' "$work/$2"
}
# says LOG TEXT: the run_stopped line says TEXT (a grep pattern)
says() { grep -q "\"event\":\"run_stopped\".*$2" "$work/$1"; }

# ---- the source partitioned mid-copy -------------------------------------------------
S -c "UPDATE items SET v = 2" -c "UPDATE pace SET ms = 1" >/dev/null
start_run "$work/c.yaml" src_copy.log
check "the copy is under way" poll_until 60 copy_running
partition src
check "the link to the source drops every packet" unanswered $SRC_ADDR
stop_and_time "$pid"
stopped_in_time "source partitioned mid-copy" src_copy.log
check "run_stopped says the source was not reached" says src_copy.log "the source was not reached"
expect_eq "the run's record is failed (the target is reachable)" "failed|143" \
    "$(T -tAc "SELECT status || '|' || exit_code FROM anonetl.runs ORDER BY run_id DESC LIMIT 1")"
expect_eq "the published rows are the previous run's" "20000 20000" "$(published)"
heal src
S -c "UPDATE pace SET ms = 0" >/dev/null
next_run_publishes "$work/c.yaml" src_copy_next.log "20000 40000"

# ---- the target partitioned mid-copy -------------------------------------------------
S -c "UPDATE items SET v = 3" -c "UPDATE pace SET ms = 1" >/dev/null
start_run "$work/c.yaml" tgt_copy.log
check "the copy is under way" poll_until 60 copy_running
partition tgt
check "the link to the target drops every packet" unanswered $TGT_ADDR
stop_and_time "$pid"
stopped_in_time "target partitioned mid-copy" tgt_copy.log
check "run_stopped says the target was not reached and the record not written" \
    says tgt_copy.log "the target was not reached.*record is not marked failed"
# The dead run's sessions, the leader's holding the run lock, must not outlive it on the
# target for the server's 2 hours of idle keepalive: they end while the partition still
# lasts (its probes go unanswered: 5 s idle + 3 x 2 s here). Healed at once, a retransmission
# from the job's closing sockets tells the server; the partition of an operator's hung run
# lasts longer than those retransmissions (about a minute).
check "while the partition lasts, the target drops the dead run's sessions (keepalives)" \
    poll_until 150 sessions_gone T
heal tgt
expect_eq "the published rows are the previous run's" "20000 40000" "$(published)"
S -c "UPDATE pace SET ms = 0" >/dev/null
next_run_publishes "$work/c.yaml" tgt_copy_next.log "20000 60000"

# ---- both partitioned mid-copy -------------------------------------------------------
S -c "UPDATE items SET v = 4" -c "UPDATE pace SET ms = 1" >/dev/null
start_run "$work/c.yaml" both_copy.log
check "the copy is under way" poll_until 60 copy_running
partition src
partition tgt
stop_and_time "$pid"
stopped_in_time "both servers partitioned mid-copy" both_copy.log
check "run_stopped says neither was reached" says both_copy.log "the source and the target was not reached"
heal src
heal tgt
expect_eq "the published rows are the previous run's" "20000 60000" "$(published)"
S -c "UPDATE pace SET ms = 0" >/dev/null
next_run_publishes "$work/c.yaml" both_copy_next.log "20000 80000"

# ---- the source partitioned during the keep review's sample --------------------------
# (a keep column: the review samples the slow view, 20 s, before the copy)
write_config "$work/keep.yaml" "keep"
S -c "UPDATE items SET v = 5" -c "UPDATE pace SET ms = 1" >/dev/null
start_run "$work/keep.yaml" keep.log
check "the keep review samples the slow view" poll_until 60 prints_one S \
    "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'anonetl' AND state = 'active' AND query LIKE '%slow_items%' AND query NOT LIKE 'COPY%'"
partition src
stop_and_time "$pid"
stopped_in_time "source partitioned during the keep review" keep.log
check "run_stopped says the source was not reached" says keep.log "the source was not reached"
heal src
expect_eq "the published rows are the previous run's" "20000 80000" "$(published)"
S -c "UPDATE pace SET ms = 0" >/dev/null
next_run_publishes "$work/keep.yaml" keep_next.log "20000 100000"

# ---- the target partitioned during the publish ---------------------------------------
# The publish waits for a lock an operator's session holds on anonetl.published; then the
# link to the target drops everything. Its transaction never commits.
S -c "UPDATE items SET v = 6" >/dev/null
PGAPPNAME=locker T -c "BEGIN" -c "LOCK TABLE anonetl.published IN ACCESS EXCLUSIVE MODE" \
    -c "SELECT pg_sleep(300)" >/dev/null 2>&1 &
locker=$!
start_run "$work/c.yaml" publish.log
check "the publish waits for the lock on anonetl.published" poll_until 90 prints_one T \
    "SELECT (count(*) > 0)::int FROM pg_stat_activity WHERE application_name = 'anonetl' AND wait_event_type = 'Lock'"
partition tgt
stop_and_time "$pid"
stopped_in_time "target partitioned during the publish" publish.log
check "run_stopped says the target was not reached" says publish.log "the target was not reached"
T -tAc "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'locker'" >/dev/null
wait "$locker"
heal tgt
ghosts_gone
expect_eq "the published rows are the previous run's" "20000 100000" "$(published)"
next_run_publishes "$work/c.yaml" publish_next.log "20000 120000"

# ---- the target partitioned before the run: a stop while it connects -----------------
# A connect to a server that does not answer waits connect_timeout (30 s by default, as
# long as ECS waits before its SIGKILL); a stop ends the wait.
partition tgt
start_run "$work/c.yaml" connect.log
check "the run is connecting to the target" poll_until 60 grep -q '"event":"run_start"' "$work/connect.log"
sleep 1
stop_and_time "$pid"
stopped_in_time "target partitioned while the run connects" connect.log
check "run_stopped says the stop came while connecting to the target" \
    says connect.log "target: SIGTERM came while connecting"
heal tgt
expect_eq "the published rows are the previous run's" "20000 120000" "$(published)"

# ---- no stop: the target partitioned mid-copy ----------------------------------------
# The run fails on its own, after the DSN's tcp_user_timeout (20 s here; pgconn's default
# is 2 minutes: the COPY's data goes unacknowledged; keepalives never start while data
# waits), with the target named and exit 5, instead of retransmitting for 15 minutes.
S -c "UPDATE items SET v = 7" -c "UPDATE pace SET ms = 1" >/dev/null
start_run "$work/c.yaml" tgt_lost.log
check "the copy is under way" poll_until 60 copy_running
partition tgt
t0=$(now_ms)
poll_until 120 ended "$pid"
ms=$(($(now_ms) - t0))
kill -KILL "$pid" 2>/dev/null
wait "$pid"
rc=$?
expect_eq "target partitioned mid-copy, no stop: the run fails with exit 5" 5 "$rc"
check "it fails within 60 s ($ms ms)" test "$ms" -lt 60000
check "run_failed names the target and the timeout" \
    grep -q '"event":"run_failed".*"exit_code":5.*timed out' "$work/tgt_lost.log"
heal tgt
ghosts_gone
expect_eq "the published rows are the previous run's" "20000 120000" "$(published)"
S -c "UPDATE pace SET ms = 0" >/dev/null
next_run_publishes "$work/c.yaml" tgt_lost_next.log "20000 140000"

done_testing
