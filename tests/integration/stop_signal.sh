#!/usr/bin/env bash
# tests/integration/stop_signal.sh: a run asked to stop (etl/stopsig.h). A scheduler stops
# a task with SIGTERM (ECS, systemd), an operator with Ctrl-C (SIGINT): the run stops its
# copy, publishes nothing, says so (run_stopped, its record failed, the lock given back)
# and exits 128 + the signal. The source is a view that takes a millisecond a row, so the
# signal lands mid-copy; the published rows stay those of the run before, and the next
# run publishes at once. A second signal ends the process at once. A statement under way
# on either server is cancelled: a stop during the keep review's sample of the slow view
# (20 s), during a publish waiting for a lock (lock_timeout 30 s), while a source statement
# waits behind a migration's lock, or during an incremental merge waiting for a reader's
# lock ends the run within seconds too, before a scheduler's SIGKILL would.
set -u
[ -n "${STOP_DEBUG:-}" ] && set -x
cd "$(dirname "$0")/../.."
. tests/lib/tap.sh
. tests/lib/pgcluster.sh
. tests/lib/poll.sh

if [ -n "${ANONETL:-}" ]; then BIN=$ANONETL
elif [ -x build/asan/anonetl ]; then BIN=build/asan/anonetl
else BIN=./anonetl; fi
export ASAN_OPTIONS=detect_leaks=1:exitcode=99 UBSAN_OPTIONS=halt_on_error=1:exitcode=99:print_stacktrace=1
pgc_pair || { echo "not ok 1 - clusters did not start"; exit 1; }
export ANONETL_HASH_KEY=$(openssl rand -hex 32)

S -f tests/lib/slow_items.sql >/dev/null
cat >"$work/c.yaml" <<YAML
version: 1
source: { dsn: "$(pgc_dsn "$work/src" postgres postgres)" }
target: { dsn: "$(pgc_dsn "$work/tgt" postgres postgres)", schema: anon }
secrets: { hash_key: { env: ANONETL_HASH_KEY } }
tables:
  # no keep: the keep review would sample the view (20 s) before the copy starts
  - { name: public.slow_items, key: [id], columns: { id: { round: { digits: 0 } }, v: { bucket: { width: 1 } } } }
YAML
published() { T -tAc "SELECT count(*) || ' ' || sum(v) FROM anon.slow_items"; }

"$BIN" run -c "$work/c.yaml" --skip-preflight >"$work/first.log" 2>&1
rc=$?; [ "$rc" = 0 ] || tail -2 "$work/first.log" | sed "s/^/# /"
expect_eq "a first run publishes every row" "0 20000 20000" "$rc $(published)"

S -c "UPDATE items SET v = 2" -c "UPDATE pace SET ms = 1" >/dev/null

# the copy is under way when the source runs the view's query
copy_running() {
    [ "$(S -tAc "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'COPY%slow_items%' AND state = 'active'")" = 1 ]
}

# A non-interactive shell starts background jobs with SIGINT ignored (and anonetl leaves
# it so): env --default-signal gives the run the default disposition a terminal's has.
stop_mid_copy() { # SIGNAL LOG: a run, the signal once its copy is under way; prints its
    # exit code and the seconds from the signal to its end
    local pid rc t0
    env --default-signal=INT "$BIN" run -c "$work/c.yaml" --skip-preflight >"$work/$2" 2>&1 &
    pid=$!
    poll_until 20 copy_running || true
    sleep 0.5
    t0=$SECONDS
    kill -"$1" "$pid"
    wait "$pid"
    rc=$?
    echo "$rc $((SECONDS - t0))"
}

# Timed from the signal: timed from the start, a run slow to start on a loaded machine
# (its copy found after up to 20 s of polling) could pass 15 s without any fault.
read -r rc took < <(stop_mid_copy TERM term.log)
expect_eq "SIGTERM mid-copy: exit 143 (128 + 15)" 143 "$rc"
check "it stops within seconds of the signal, not after the 20 s copy (${took} s)" test "$took" -lt 15
check "a run_stopped line names the signal and says nothing was published" \
    grep -q '"event":"run_stopped".*"exit_code":143.*stopped by SIGTERM: nothing published' "$work/term.log"
expect_eq "the published rows are the previous run's" "20000 20000" "$(published)"
expect_eq "the run's record is failed, with the reason" "failed|143|true" \
    "$(T -tAc "SELECT status || '|' || exit_code || '|' || (error LIKE '%stopped by SIGTERM%') FROM anonetl.runs ORDER BY run_id DESC LIMIT 1")"
expect_eq "no version table of the stopped run is left" 0 \
    "$(T -tAc "SELECT count(*) FROM pg_tables WHERE schemaname = 'anonetl_data' AND tablename NOT IN (SELECT version_table FROM anonetl.published)")"
expect_eq "no anonetl session is left on the source" 0 \
    "$(S -tAc "SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE 'anonetl%'")"

read -r rc _ < <(stop_mid_copy INT int.log)
expect_eq "SIGINT (Ctrl-C) mid-copy: exit 130 (128 + 2)" 130 "$rc"
check "run_stopped names SIGINT" grep -q '"event":"run_stopped".*stopped by SIGINT' "$work/int.log"
expect_eq "the published rows are still the previous run's" "20000 20000" "$(published)"

# started with SIGINT ignored (a shell script's background job): it stays ignored
"$BIN" run -c "$work/c.yaml" --skip-preflight >"$work/ignored.log" 2>&1 &
pid=$!
sleep 1
kill -INT "$pid"
sleep 1
check "a run started with SIGINT ignored goes on after one" kill -0 "$pid"
kill -TERM "$pid"
wait "$pid"
expect_eq "and stops on SIGTERM" 143 "$?"

# a second signal: the process ends at once, by the signal (the target rolls back)
"$BIN" run -c "$work/c.yaml" --skip-preflight >"$work/twice.log" 2>&1 &
pid=$!
poll_until 20 copy_running || true
kill -STOP "$pid"; kill -TERM "$pid"; kill -TERM "$pid"; kill -CONT "$pid"
wait "$pid"
expect_eq "a second SIGTERM: ended by the signal at once" 143 "$?"
expect_eq "the published rows are still the previous run's" "20000 20000" "$(published)"

S -c "UPDATE pace SET ms = 0" >/dev/null
"$BIN" run -c "$work/c.yaml" --skip-preflight >"$work/next.log" 2>&1
expect_eq "the next run is not held by a lock and publishes the change" "0 20000 40000" "$? $(published)"

now_ms() { date +%s%3N; }
prints_one() { [ "$("$1" -tAc "$2")" = 1 ]; } # SQL-FUNCTION QUERY
wait_until() { # SECONDS SQL-FUNCTION QUERY: poll until the query prints 1 (else false)
    poll_until "$1" prints_one "$2" "$3"
}
# SIGTERM to the run RUN_PID (a child of this shell: not in a subshell); sets rc, its exit
# code, and ms, how long it took to end
stop_and_time() { # RUN_PID
    local t0
    t0=$(now_ms)
    kill -TERM "$1"
    wait "$1"
    rc=$?
    ms=$(($(now_ms) - t0))
}

# A stop during the keep review: the review samples a keep column's rows before the copy,
# and the sample of a view reads the whole view (20 s at a millisecond a row).
sed 's/v: { bucket: { width: 1 } }/v: keep/' "$work/c.yaml" >"$work/keep.yaml"
"$BIN" run -c "$work/keep.yaml" --skip-preflight >"$work/keep_first.log" 2>&1
rc=$?; [ "$rc" = 0 ] || tail -2 "$work/keep_first.log" | sed "s/^/# /"
expect_eq "a run with a keep column publishes (fast source)" "0 20000 40000" "$rc $(published)"
S -c "UPDATE pace SET ms = 1" >/dev/null
"$BIN" run -c "$work/keep.yaml" --skip-preflight >"$work/keep_stop.log" 2>&1 &
pid=$!
check "the keep review samples the slow view" wait_until 60 S \
    "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'anonetl' AND state = 'active' AND query LIKE '%slow_items%' AND query NOT LIKE 'COPY%'"
sleep 0.5
stop_and_time "$pid"
expect_eq "SIGTERM during the keep review's sample: exit 143" 143 "$rc"
check "it ends within seconds ($ms ms), not when the 20 s sample returns" test "$ms" -lt 8000
check "run_stopped says the review was stopped and nothing published" \
    grep -q '"event":"run_stopped".*"exit_code":143.*stopped by SIGTERM during the keep review: nothing published' "$work/keep_stop.log"
check "no warning that the content check was not done" \
    bash -c "! grep -q 'content check not done' '$work/keep_stop.log'"
expect_eq "the published rows are the previous run's" "20000 40000" "$(published)"
check "the sample's query is no longer running on the source" wait_until 5 S \
    "SELECT (count(*) = 0)::int FROM pg_stat_activity WHERE query LIKE '%slow_items%' AND state = 'active' AND pid <> pg_backend_pid()"

# A stop during the publish, waiting for a lock another session holds on anonetl.published
# (a long transaction of an operator's): the publish's lock_timeout is 30 s. The publish
# is cancelled: one transaction, rolled back whole.
S -c "UPDATE items SET v = 3" -c "UPDATE pace SET ms = 0.5" >/dev/null
"$BIN" run -c "$work/c.yaml" --skip-preflight >"$work/lock_stop.log" 2>&1 &
pid=$!
wait_until 60 S "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'COPY%slow_items%' AND state = 'active'"
PGAPPNAME=locker T -c "BEGIN" -c "LOCK TABLE anonetl.published IN ACCESS EXCLUSIVE MODE" \
    -c "SELECT pg_sleep(300)" >/dev/null 2>&1 &
locker=$!
check "the publish waits for the lock on anonetl.published" wait_until 90 T \
    "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'anonetl' AND wait_event_type = 'Lock'"
stop_and_time "$pid"
expect_eq "SIGTERM during the publish's wait for a lock: exit 143" 143 "$rc"
check "it ends within seconds ($ms ms), not at the 30 s lock_timeout" test "$ms" -lt 8000
check "run_stopped: stopped by SIGTERM, nothing published" \
    grep -q '"event":"run_stopped".*"exit_code":143.*stopped by SIGTERM: nothing published' "$work/lock_stop.log"
T -tAc "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'locker'" >/dev/null
wait "$locker"
expect_eq "the published rows are still the previous run's" "20000 40000" "$(published)"
expect_eq "the run's record is failed" "failed|143" \
    "$(T -tAc "SELECT status || '|' || exit_code FROM anonetl.runs ORDER BY run_id DESC LIMIT 1")"
expect_eq "no version table of the stopped run is left" 0 \
    "$(T -tAc "SELECT count(*) FROM pg_tables WHERE schemaname = 'anonetl_data' AND tablename NOT IN (SELECT version_table FROM anonetl.published)")"
S -c "UPDATE pace SET ms = 0" >/dev/null
"$BIN" run -c "$work/c.yaml" --skip-preflight >"$work/after_lock.log" 2>&1
expect_eq "the next run publishes the change" "0 20000 60000" "$? $(published)"

# A stop while a source statement waits behind a lock: a migration holds items ACCESS
# EXCLUSIVE (40 s here; the source has no statement_timeout), and the run's first read of
# the view waits for it.
PGAPPNAME=migration S -c "BEGIN" -c "LOCK TABLE items IN ACCESS EXCLUSIVE MODE" \
    -c "SELECT pg_sleep(40)" >/dev/null 2>&1 &
locker=$!
wait_until 30 S "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid) WHERE a.application_name = 'migration' AND l.granted AND l.mode = 'AccessExclusiveLock' AND l.relation = 'public.items'::regclass"
"$BIN" run -c "$work/c.yaml" --skip-preflight >"$work/src_lock_stop.log" 2>&1 &
pid=$!
check "a source statement of the run waits for the migration's lock" wait_until 60 S \
    "SELECT (count(*) > 0)::int FROM pg_stat_activity WHERE application_name = 'anonetl' AND wait_event_type = 'Lock'"
stop_and_time "$pid"
expect_eq "SIGTERM while a source statement waits for a lock: exit 143" 143 "$rc"
check "it ends within seconds ($ms ms), not when the lock is given back" test "$ms" -lt 8000
check "run_stopped: stopped by SIGTERM, nothing published" \
    grep -q '"event":"run_stopped".*"exit_code":143.*stopped by SIGTERM.*nothing published' "$work/src_lock_stop.log"
check "no anonetl session is left waiting on the source" wait_until 5 S \
    "SELECT (count(*) = 0)::int FROM pg_stat_activity WHERE application_name LIKE 'anonetl%'"
S -tAc "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'migration'" >/dev/null
wait "$locker"
expect_eq "the published rows are still the previous run's" "20000 60000" "$(published)"
"$BIN" run -c "$work/c.yaml" --skip-preflight >"$work/after_src_lock.log" 2>&1
expect_eq "and the next run publishes" "0 20000 60000" "$? $(published)"

# A stop during an incremental run's merge: the leader merges pieces of changed rows into
# the published version in the publish transaction while the worker copies; a reader holds
# that version SHARE (40 s), so the merge waits (lock_timeout 30 s). The merge is
# cancelled, the publish transaction rolled back: the published rows stay the previous ones.
S >/dev/null <<'SQL'
CREATE TABLE ev (id int PRIMARY KEY, v int NOT NULL, updated_at timestamptz NOT NULL);
INSERT INTO ev SELECT g, 1, now() - interval '1 day' FROM generate_series(1, 20000) g;
SQL
cat >"$work/inc.yaml" <<YAML
version: 1
source: { dsn: "$(pgc_dsn "$work/src" postgres postgres)" }
target: { dsn: "$(pgc_dsn "$work/tgt" postgres postgres)", schema: anon }
secrets: { hash_key: { env: ANONETL_HASH_KEY } }
tables:
  - name: public.ev
    mode: incremental
    key: [id]
    watermark: updated_at
    watermark_lag: 0s
    deletes: none
    columns: { id: { round: { digits: 0 } }, v: { bucket: { width: 1 } }, updated_at: { keep: { reviewed: "when a row changed" } } }
YAML
ev() { T -tAc "SELECT count(*) || ' ' || sum(v) FROM anon.ev"; }
"$BIN" run -c "$work/inc.yaml" --skip-preflight >"$work/inc_first.log" 2>&1
rc=$?; [ "$rc" = 0 ] || tail -2 "$work/inc_first.log" | sed "s/^/# /"
expect_eq "an incremental table's first run publishes it" "0 20000 20000" "$rc $(ev)"
S -c "UPDATE ev SET v = 2, updated_at = now()" >/dev/null
version=$(T -tAc "SELECT version_table FROM anonetl.published WHERE target_schema = 'anon' AND table_name = 'ev'")
PGAPPNAME=reader T -c "BEGIN" -c "LOCK TABLE anonetl_data.\"$version\" IN SHARE MODE" \
    -c "SELECT pg_sleep(40)" >/dev/null 2>&1 &
locker=$!
check "a reader holds the published version SHARE" wait_until 30 T \
    "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'reader' AND query LIKE '%pg_sleep%'"
"$BIN" run -c "$work/inc.yaml" --skip-preflight >"$work/inc_stop.log" 2>&1 &
pid=$!
check "the incremental run's merge waits for the reader's lock" wait_until 60 T \
    "SELECT (count(*) > 0)::int FROM pg_stat_activity WHERE application_name = 'anonetl' AND wait_event_type = 'Lock'"
stop_and_time "$pid"
expect_eq "SIGTERM during a merge: exit 143" 143 "$rc"
check "it ends within seconds ($ms ms), not at the 30 s lock_timeout" test "$ms" -lt 8000
check "run_stopped: stopped by SIGTERM, nothing published" \
    grep -q '"event":"run_stopped".*"exit_code":143.*stopped by SIGTERM.*nothing published' "$work/inc_stop.log"
T -tAc "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'reader'" >/dev/null
wait "$locker"
expect_eq "the published rows are the previous run's" "20000 20000" "$(ev)"
"$BIN" run -c "$work/inc.yaml" --skip-preflight >"$work/inc_next.log" 2>&1
rc=$?; [ "$rc" = 0 ] || tail -2 "$work/inc_next.log" | sed "s/^/# /"
expect_eq "the next run merges the change" "0 20000 40000" "$rc $(ev)"
done_testing
