#!/usr/bin/env bash
# tests/integration/stop_signal.sh: a run asked to stop (etl/stopsig.h). A scheduler stops
# a task with SIGTERM (ECS, systemd), an operator with Ctrl-C (SIGINT): the run stops its
# copy, publishes nothing, says so (run_stopped, its record failed, the lock given back)
# and exits 128 + the signal. The source is a view that takes a millisecond a row, so the
# signal lands mid-copy; the published rows stay those of the run before, and the next
# run publishes at once. A second signal ends the process at once. (A statement under way
# finishes first: a signal during a long one is acted on when it returns.)
set -u
[ -n "${STOP_DEBUG:-}" ] && set -x
cd "$(dirname "$0")/../.."
. tests/lib/tap.sh
. tests/lib/pgcluster.sh

if [ -n "${ANONETL:-}" ]; then BIN=$ANONETL
elif [ -x build/asan/anonetl ]; then BIN=build/asan/anonetl
else BIN=./anonetl; fi
export ASAN_OPTIONS=detect_leaks=1:exitcode=99 UBSAN_OPTIONS=halt_on_error=1:exitcode=99:print_stacktrace=1
pgc_pair || { echo "not ok 1 - clusters did not start"; exit 1; }
export ANONETL_HASH_KEY=$(openssl rand -hex 32)

S >/dev/null <<'SQL'
CREATE TABLE items (id int PRIMARY KEY, v int NOT NULL);
INSERT INTO items SELECT g, 1 FROM generate_series(1, 20000) g;
CREATE TABLE pace (ms float8 NOT NULL);
INSERT INTO pace VALUES (0);
CREATE FUNCTION paced(x int) RETURNS int LANGUAGE plpgsql VOLATILE AS $$
DECLARE d float8;
BEGIN
    SELECT ms INTO d FROM public.pace;
    IF d > 0 THEN PERFORM pg_sleep(d / 1000); END IF;
    RETURN x;
END $$;
CREATE VIEW slow_items AS SELECT paced(id) AS id, v FROM items;
SQL
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

# A non-interactive shell starts background jobs with SIGINT ignored (and anonetl leaves
# it so): env --default-signal gives the run the default disposition a terminal's has.
stop_mid_copy() { # SIGNAL LOG: a run, the signal once its copy is under way; prints its exit code
    local pid rc
    env --default-signal=INT "$BIN" run -c "$work/c.yaml" --skip-preflight >"$work/$2" 2>&1 &
    pid=$!
    # the copy is under way when the source runs the view's query
    for _ in $(seq 1 200); do
        [ "$(S -tAc "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'COPY%slow_items%' AND state = 'active'")" = 1 ] && break
        sleep 0.1
    done
    sleep 0.5
    kill -"$1" "$pid"
    wait "$pid"
    rc=$?
    echo "$rc"
}

t0=$(date +%s)
rc=$(stop_mid_copy TERM term.log)
t1=$(date +%s)
expect_eq "SIGTERM mid-copy: exit 143 (128 + 15)" 143 "$rc"
check "it stops within seconds, not after the 20 s copy" test $((t1 - t0)) -lt 15
check "a run_stopped line names the signal and says nothing was published" \
    grep -q '"event":"run_stopped".*"exit_code":143.*stopped by SIGTERM: nothing published' "$work/term.log"
expect_eq "the published rows are the previous run's" "20000 20000" "$(published)"
expect_eq "the run's record is failed, with the reason" "failed|143|true" \
    "$(T -tAc "SELECT status || '|' || exit_code || '|' || (error LIKE '%stopped by SIGTERM%') FROM anonetl.runs ORDER BY run_id DESC LIMIT 1")"
expect_eq "no version table of the stopped run is left" 0 \
    "$(T -tAc "SELECT count(*) FROM pg_tables WHERE schemaname = 'anonetl_data' AND tablename NOT IN (SELECT version_table FROM anonetl.published)")"
expect_eq "no anonetl session is left on the source" 0 \
    "$(S -tAc "SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE 'anonetl%'")"

rc=$(stop_mid_copy INT int.log)
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
for _ in $(seq 1 200); do
    [ "$(S -tAc "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'COPY%slow_items%' AND state = 'active'")" = 1 ] && break
    sleep 0.1
done
kill -STOP "$pid"; kill -TERM "$pid"; kill -TERM "$pid"; kill -CONT "$pid"
wait "$pid"
expect_eq "a second SIGTERM: ended by the signal at once" 143 "$?"
expect_eq "the published rows are still the previous run's" "20000 20000" "$(published)"

S -c "UPDATE pace SET ms = 0" >/dev/null
"$BIN" run -c "$work/c.yaml" --skip-preflight >"$work/next.log" 2>&1
expect_eq "the next run is not held by a lock and publishes the change" "0 20000 40000" "$? $(published)"
done_testing
