#!/usr/bin/env bash
# tests/integration/copy_failures.sh: a copy's failures while its sender thread is blocked
# on a stalled target (etl/copysend.h). The target backend of the COPY is stopped
# (SIGSTOP) until anonetl stops reading the source (the source backend waits in
# ClientWrite and anonetl's CPU time stands still: the ring of batches is full, the
# sender is blocked in a write, the row loop waits for a free batch). Then, each time:
#   - the target backend is terminated: exit 5 (target), no hang;
#   - the source backend is terminated, then the target resumes: exit 4 (source);
#   - run.max_runtime passes while the target stays stopped: the run stops by itself;
#     the same with the source backend stopped instead;
#   - with --jobs 2, one worker's target backend is terminated: the other worker stops
#     too, exit 5; one worker fails (its source terminated) while the other is blocked
#     on its stopped target: that one stops by itself, exit 4;
#   - an incremental run (pieces merged as they come, worker.h): the backend merging them
#     is stopped until the queue of pieces is full and the source waits, then terminated:
#     exit 5.
# Rows larger than a batch (24 MB each) travel intact.
# Every time the published data stays as it was, no anonetl session is left on either
# server and the next run succeeds. Run with the ASan+UBSan binary when it is built (a
# leak or a sanitizer report fails the exit-code check), else ./anonetl.
set -u
cd "$(dirname "$0")/../.."
. tests/lib/tap.sh
. tests/lib/poll.sh
. tests/lib/pgcluster.sh

if [ -n "${ANONETL:-}" ]; then BIN=$ANONETL
elif [ -x build/asan/anonetl ]; then BIN=build/asan/anonetl
else BIN=./anonetl; fi
export ASAN_OPTIONS=detect_leaks=1:exitcode=99 UBSAN_OPTIONS=halt_on_error=1:exitcode=99:print_stacktrace=1
pgc_pair || { echo "not ok 1 - clusters did not start"; exit 1; }
echo "# binary: $BIN"
# A backend stopped while it holds the WAL write lock (writing out full WAL buffers, or
# creating a segment: WALInitWrite) stops every other backend that writes WAL: with
# --jobs 2 the other worker's target then never moves again, whatever anonetl does (seen:
# 4b's resumed backend waiting on LWLock WALWrite behind the stopped one). With
# wal_level = minimal a COPY into a table created in its own transaction, as every copy
# here is, writes no WAL, so a stopped COPY backend holds nothing the other one needs.
T -c "ALTER SYSTEM SET wal_level = minimal" -c "ALTER SYSTEM SET max_wal_senders = 0" >/dev/null &&
    pgc_stop "$work/tgt" && pgc_start "$work/tgt" >/dev/null &&
    [ "$(T -tAc 'SHOW wal_level')" = minimal ] || { echo "not ok 1 - target restarted with wal_level = minimal"; exit 1; }

S >/dev/null <<'SQL'
CREATE TABLE big (id bigint PRIMARY KEY, email text NOT NULL, payload text NOT NULL,
                  updated_at timestamptz NOT NULL DEFAULT '2024-01-01');
INSERT INTO big (id, email, payload)
SELECT g, 'user' || g || '@example.org', repeat(md5(g::text), 3) FROM generate_series(1, 300000) g;
CREATE TABLE other (id bigint PRIMARY KEY, payload text NOT NULL);
INSERT INTO other SELECT g, repeat(md5(g::text), 3) FROM generate_series(1, 300000) g;
ANALYZE;
SQL
export ANONETL_HASH_KEY=$(openssl rand -hex 32)
export SOURCE_DATABASE_URL="$(pgc_dsn "$work/src" postgres postgres)"
export TARGET_DATABASE_URL="$(pgc_dsn "$work/tgt" postgres postgres)"

config() { # FILE [run: yaml] [mode]
    cat >"$1" <<YAML
version: 1
source: { dsn: { env: SOURCE_DATABASE_URL } }
target: { dsn: { env: TARGET_DATABASE_URL }, schema: anonymised }
secrets: { hash_key: { env: ANONETL_HASH_KEY } }
${2:-}
tables:
  - name: public.big
    ${3:-}
    columns: { id: keep, email: { hash: {} }, payload: { keep: { reviewed: "md5 digests" } }, updated_at: keep }
  - name: public.other
    columns: { id: keep, payload: { hash: {} } }
YAML
}
config "$work/run.yaml"
digest() { T -tAc "SELECT count(*), md5(string_agg(md5(t::text), '' ORDER BY t.id)) FROM anonymised.$1 t"; }

"$BIN" run -c "$work/run.yaml" --skip-preflight >"$work/first.log" 2>&1
expect_eq "first run exits 0" 0 $?
S -c "UPDATE big SET email = 'changed' || email WHERE id <= 100; UPDATE other SET payload = 'x' WHERE id <= 100" >/dev/null

# The target backend loading table $1 (COPY anonetl_data...), once it is active; with
# PIECES=1 the backend merging its pieces of changed rows (COPY into, INSERT from and
# TRUNCATE of its temporary pieces table: publish.c).
copy_backend() {
    local pid like="COPY anonetl_data.%$1%FROM STDIN%"
    [ "${PIECES:-0}" = 1 ] && like="%$1@r%+pieces%"
    for _ in $(seq 1 600); do
        pid=$(T -tAc "SELECT pid FROM pg_stat_activity WHERE application_name = 'anonetl'
                      AND query LIKE '$like' AND state = 'active' LIMIT 1")
        [ -n "$pid" ] && { echo "$pid"; return 0; }
        sleep 0.05
    done
    return 1
}
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null; }
# anonetl ($1) blocked behind the stopped target: the source backend reading table $2
# waits to write (anonetl reads no more) and anonetl's CPU time stands still.
wait_blocked() {
    local w a b
    for _ in $(seq 1 300); do
        w=$(S -tAc "SELECT wait_event FROM pg_stat_activity WHERE application_name = 'anonetl'
                    AND query LIKE 'COPY (SELECT%$2%' AND state = 'active' LIMIT 1")
        a=$(cpu_ticks "$1"); sleep 0.3; b=$(cpu_ticks "$1")
        [ "$w" = ClientWrite ] && [ -n "$a" ] && [ "$a" = "$b" ] && return 0
    done
    return 1
}
# Start a run ($1: config, $2: log, more args to anonetl), stop the target backend of
# table $3's COPY and wait until anonetl is blocked: sets RUN_PID, TGT_PID.
start_blocked() {
    local cfg=$1 log=$2 table=$3
    shift 3
    "$BIN" run -c "$cfg" --skip-preflight "$@" >"$log" 2>&1 &
    RUN_PID=$!
    TGT_PID=$(copy_backend "$table") || { TGT_PID=""; return 1; }
    sleep 0.2 # some batches in flight
    kill -STOP "$TGT_PID"
    wait_blocked "$RUN_PID" "$table"
}
# Wait for the run, 60 s at most (a hang is a failure, not a stuck suite): RC = its exit
# code, or "hang".
wait_run() {
    for _ in $(seq 1 600); do
        kill -0 "$RUN_PID" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$RUN_PID" 2>/dev/null; then
        kill -9 "$RUN_PID"; wait "$RUN_PID" 2>/dev/null; RC=hang; return
    fi
    wait "$RUN_PID"; RC=$?
}
sessions_now() {
    echo "$(S -tAc "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'anonetl'") $(T -tAc "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'anonetl'")"
}
# The run has exited: its backends end on their own time after it (one just resumed from
# SIGSTOP first has to run), which a fixed 0.3 s did not always cover on a loaded machine.
# Polled for 30 s; a backend that stays still fails.
no_sessions() { [ "$(sessions_now)" = "0 0" ]; }
sessions_left() {
    poll_until 30 no_sessions
    sessions_now
}
before_big=$(digest big) before_other=$(digest other)
intact() { # NAME
    expect_eq "$1: published data intact" "$before_big / $before_other" "$(digest big) / $(digest other)"
    expect_eq "$1: no anonetl session left on either server" "0 0" "$(sessions_left)"
}

# --- 1. the target backend dies while the sender is blocked writing to it ---------------
if start_blocked "$work/run.yaml" "$work/t1.log" big; then
    ok "target stalled: anonetl blocked (source backend in ClientWrite, no CPU used)"
    check "the sender thread is there (2 threads or more)" test "$(ls "/proc/$RUN_PID/task" | wc -l)" -ge 2
    T -tAc "SELECT pg_terminate_backend($TGT_PID)" >/dev/null
    kill -CONT "$TGT_PID"
    wait_run; expect_eq "target terminated mid-stream: exit 5" 5 "$RC"
    grep -q 'target' "$work/t1.log"; check "the error names the target" test $? -eq 0
else
    not_ok "target stalled: anonetl blocked" "$(tail -5 "$work/t1.log")"
    [ -n "$TGT_PID" ] && kill -CONT "$TGT_PID"; wait_run
fi
intact "target terminated"

# --- 2. the source backend dies while the sender is blocked; then the target resumes ---
if start_blocked "$work/run.yaml" "$work/t2.log" big; then
    S -tAc "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'anonetl' AND query LIKE 'COPY (SELECT%big%'" >/dev/null
    sleep 0.5
    kill -CONT "$TGT_PID"
    wait_run; expect_eq "source terminated while the target stalled: exit 4" 4 "$RC"
    grep -q 'source' "$work/t2.log"; check "the error names the source" test $? -eq 0
else
    not_ok "source terminated while the target stalled: blocked first" "$(tail -5 "$work/t2.log")"
    [ -n "$TGT_PID" ] && kill -CONT "$TGT_PID"; wait_run
fi
intact "source terminated"

# The run is waited for while the backend PID stays stopped (SIGSTOP), then PID resumes:
# the run must have stopped by itself within 15 s of START, saying so in LOG.
expect_runtime_stop() { # target|source PID START LOG
    local took
    wait_run
    took=$((SECONDS - $3))
    kill -CONT "$2"
    check "max_runtime passed, the $1 still stalled: the run stops by itself (exit $RC, ${took}s)" \
        test "$RC" != hang -a "$RC" != 0 -a "$RC" != 99 -a "$took" -le 15
    grep -q 'max_runtime exceeded' "$4"
    check "and says max_runtime was exceeded" test $? -eq 0
}

# --- 3. run.max_runtime passes while the target stays stalled: the run stops by itself --
config "$work/slow.yaml" "run: { max_runtime: 5s }"
start=$SECONDS
if start_blocked "$work/slow.yaml" "$work/t3.log" big; then
    expect_runtime_stop target "$TGT_PID" "$start" "$work/t3.log"
else
    not_ok "max_runtime while blocked: blocked first" "$(tail -5 "$work/t3.log")"
    [ -n "$TGT_PID" ] && kill -CONT "$TGT_PID"; wait_run
fi
intact "max_runtime"

# --- 3b. run.max_runtime passes while the source stays stalled: the run stops by itself --
start=$SECONDS
"$BIN" run -c "$work/slow.yaml" --skip-preflight >"$work/t3b.log" 2>&1 &
RUN_PID=$!
src_pid=""
for _ in $(seq 1 600); do
    src_pid=$(S -tAc "SELECT pid FROM pg_stat_activity WHERE application_name = 'anonetl'
                      AND query LIKE 'COPY (SELECT%big%' AND state = 'active' LIMIT 1")
    [ -n "$src_pid" ] && break
    sleep 0.05
done
if [ -n "$src_pid" ]; then
    sleep 0.2
    kill -STOP "$src_pid"
    expect_runtime_stop source "$src_pid" "$start" "$work/t3b.log"
else
    wait_run
    not_ok "max_runtime while the source stalls: its COPY seen" "$(tail -5 "$work/t3b.log")"
fi
intact "source stalled"

# --- 4. --jobs 2: one worker's target dies; the other worker stops too -----------------
if start_blocked "$work/run.yaml" "$work/t4.log" other --jobs 2; then
    T -tAc "SELECT pg_terminate_backend($TGT_PID)" >/dev/null
    kill -CONT "$TGT_PID"
    wait_run; expect_eq "--jobs 2, one worker's target terminated: exit 5" 5 "$RC"
else
    not_ok "--jobs 2: blocked first" "$(tail -5 "$work/t4.log")"
    [ -n "$TGT_PID" ] && kill -CONT "$TGT_PID"; wait_run
fi
intact "--jobs 2"

# --- 4b. --jobs 2: a worker fails while the other is blocked on its stalled target -------
# Both target backends stopped; the source backend of `other` terminated and its target
# resumed: that worker fails (exit 4) and the one on `big` stops by itself, its target
# still stopped.
"$BIN" run -c "$work/run.yaml" --skip-preflight --jobs 2 >"$work/t4b.log" 2>&1 &
RUN_PID=$!
big_pid=$(copy_backend big) other_pid=$(copy_backend other)
if [ -n "$big_pid" ] && [ -n "$other_pid" ]; then
    sleep 0.2
    kill -STOP "$big_pid" "$other_pid"
    if wait_blocked "$RUN_PID" big && wait_blocked "$RUN_PID" other; then
        S -tAc "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'anonetl' AND query LIKE 'COPY (SELECT%other%'" >/dev/null
        kill -CONT "$other_pid"
        wait_run # big's target backend stays stopped
        kill -CONT "$big_pid"
        expect_eq "--jobs 2, a worker failed while the other was blocked: exit 4, no hang" 4 "$RC"
    else
        kill -CONT "$big_pid" "$other_pid"; wait_run
        not_ok "--jobs 2, both blocked first" "$(tail -5 "$work/t4b.log")"
    fi
else
    [ -n "$big_pid" ] && kill -CONT "$big_pid"; [ -n "$other_pid" ] && kill -CONT "$other_pid"
    wait_run
    not_ok "--jobs 2: both copies seen" "$(tail -5 "$work/t4b.log")"
fi
intact "--jobs 2, a worker failed"

# --- 5. incremental: the backend merging the pieces dies while they wait for it ---------
# (pieces wait in memory, at most two queued: the worker waits for room, the source
# backend waits to write, as above)
config "$work/inc.yaml" "" "mode: incremental
    key: [id]
    watermark: updated_at
    watermark_lag: 0s"
"$BIN" run -c "$work/inc.yaml" --skip-preflight --full-refresh >"$work/inc0.log" 2>&1
expect_eq "incremental: full refresh exits 0" 0 $?
before_big=$(digest big) before_other=$(digest other)
S -c "UPDATE big SET updated_at = clock_timestamp(), email = 'new' || email WHERE id % 2 = 0" >/dev/null
if PIECES=1 start_blocked "$work/inc.yaml" "$work/t5.log" big; then
    T -tAc "SELECT pg_terminate_backend($TGT_PID)" >/dev/null
    kill -CONT "$TGT_PID"
    wait_run; expect_eq "incremental: the merging target backend terminated: exit 5" 5 "$RC"
else
    not_ok "incremental: blocked first" "$(tail -5 "$work/t5.log")"
    [ -n "$TGT_PID" ] && kill -CONT "$TGT_PID"; wait_run
fi
intact "incremental"

# --- rows larger than a batch (each one a batch of its own, the ring bounded by bytes) ---
S >/dev/null <<'SQL'
CREATE TABLE docs (id int PRIMARY KEY, body text NOT NULL);
ALTER TABLE docs ALTER body SET STORAGE EXTERNAL;
INSERT INTO docs SELECT g, repeat(md5(g::text), 750000 + g) FROM generate_series(1, 8) g;
SQL
cat >"$work/docs.yaml" <<YAML
version: 1
source: { dsn: { env: SOURCE_DATABASE_URL } }
target: { dsn: { env: TARGET_DATABASE_URL }, schema: docs }
secrets: { hash_key: { env: ANONETL_HASH_KEY } }
tables:
  - name: public.docs
    columns: { id: keep, body: { keep: { reviewed: "md5 digests" } } }
YAML
"$BIN" run -c "$work/docs.yaml" --skip-preflight >"$work/docs.log" 2>&1
expect_eq "8 rows of 24 MB: the run exits 0" 0 $?
expect_eq "and publishes them intact" "$(S -tAc "SELECT string_agg(md5(body), ',' ORDER BY id) FROM docs")" \
    "$(T -tAc "SELECT string_agg(md5(body), ',' ORDER BY id) FROM docs.docs")"

# --- every failure left a state the next run works from ---------------------------------
"$BIN" run -c "$work/inc.yaml" --skip-preflight >"$work/last.log" 2>&1
expect_eq "the next run succeeds" 0 $?
expect_eq "and publishes the changed rows" 150000 "$(T -tAc "SELECT count(*) FROM anonymised.big WHERE updated_at > '2025-01-01'")"

done_testing
