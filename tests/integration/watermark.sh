#!/usr/bin/env bash
# tests/integration/watermark.sh: incremental windows for every watermark type, on a source
# whose time zone is not UTC, with writers committing while runs happen (issue 11.1, 11.2).
#
# Tables, each with the watermark its name says (the source database's time zone is
# America/New_York, so `timestamp` values are New York local times):
#   w_tstz  timestamptz            w_ts   timestamp (local)     w_ts0  timestamp(0) (local)
#   w_date  date                   w_int  bigserial id (insert only)
# Writer processes change every table in transactions that commit at once or late: a
# transaction stamps its rows (now(): its start), or takes its stamp and ids first, then
# sleeps before committing, so commits land while runs take their snapshots. Between
# rounds the writers pause and one more run is compared, table by table, with a fresh full
# refresh of the same source state (count + md5 of the rows in key order): a row a run
# skipped for good shows up as a difference.
set -u
cd "$(dirname "$0")/../.."
. tests/lib/tap.sh
. tests/lib/pgcluster.sh
. tests/lib/poll.sh

ANONETL=${ANONETL:-./anonetl}
pgc_pair || { echo "not ok 1 - clusters did not start"; exit 1; }
export ANONETL_HASH_KEY=$(openssl rand -hex 32)
export SOURCE_DATABASE_URL="$(pgc_dsn "$work/src" postgres postgres)"
export TARGET_DATABASE_URL="$(pgc_dsn "$work/tgt" postgres postgres)"
TABLES="w_tstz w_ts w_ts0 w_date w_int"

S >/dev/null <<'SQL'
ALTER DATABASE postgres SET timezone = 'America/New_York';
CREATE SEQUENCE ids;
CREATE TABLE w_tstz (id bigint PRIMARY KEY, v int NOT NULL, wm timestamptz NOT NULL DEFAULT now());
CREATE TABLE w_ts (id bigint PRIMARY KEY, v int NOT NULL, wm timestamp NOT NULL DEFAULT now());
CREATE TABLE w_ts0 (id bigint PRIMARY KEY, v int NOT NULL, wm timestamp(0) NOT NULL DEFAULT now());
CREATE TABLE w_date (id bigint PRIMARY KEY, v int NOT NULL, wm date NOT NULL DEFAULT current_date);
CREATE TABLE w_int (id bigserial PRIMARY KEY, v int NOT NULL);
SQL
for t in w_tstz w_ts w_ts0 w_date; do
    S -c "INSERT INTO $t (id, v) SELECT nextval('ids'), g FROM generate_series(1, 200) g; CREATE INDEX ON $t (wm)" >/dev/null
done
S -c "INSERT INTO w_int (v) SELECT g FROM generate_series(1, 200) g" >/dev/null

config() { # FILE SCHEMA MODE LAG
    {
        cat <<YAML
version: 1
source: { dsn: { env: SOURCE_DATABASE_URL } }
target: { dsn: { env: TARGET_DATABASE_URL }, schema: $2 }
secrets: { hash_key: { env: ANONETL_HASH_KEY } }
tables:
YAML
        for t in $TABLES; do
            wm=wm cols="{ id: keep, v: keep, wm: keep }"
            [ "$t" = w_int ] && wm=id cols="{ id: keep, v: keep }"
            echo "  - { name: public.$t, mode: $3, key: [id], watermark: $wm, watermark_lag: $4, columns: $cols }"
        done
    } >"$1"
    [ "$3" = full ] && sed -i -e 's/, watermark: [a-z]*, watermark_lag: [0-9a-z]*//' "$1"
}
config "$work/inc.yaml" inc incremental 2s
config "$work/ref.yaml" ref full 0s
run_inc() { "$ANONETL" run -c "$work/inc.yaml" --skip-preflight >>"$work/inc.log" 2>&1; }
digest() { T -tAc "SELECT count(*) || ':' || coalesce(md5(string_agg(t::text, '|' ORDER BY t.id)), '') FROM $1 t"; }
differs() { # the tables whose incremental copy differs from a fresh full refresh
    "$ANONETL" run -c "$work/ref.yaml" --skip-preflight >"$work/ref.log" 2>&1 || { echo "reference run failed"; return; }
    local t bad=""
    for t in $TABLES; do
        [ "$(digest "inc.$t")" = "$(digest "ref.$t")" ] || bad="$bad $t"
    done
    echo "$bad"
}

# One writer: transactions over every table until $work/stop; pauses while $work/pause.
writer() { # N
    local n=$1 sleep
    while [ ! -e "$work/stop" ]; do
        if [ -e "$work/pause" ]; then touch "$work/paused.$n"; sleep 0.05; continue; fi
        rm -f "$work/paused.$n"
        sleep=0
        [ $((RANDOM % 3)) -eq 0 ] && sleep=0.$((RANDOM % 9 + 1))
        if [ $((RANDOM % 2)) -eq 0 ]; then
            # stamps now (its start), then commits late
            S -q >/dev/null 2>&1 <<SQL
BEGIN;
INSERT INTO w_tstz (id, v) VALUES (nextval('ids'), $n);
INSERT INTO w_ts (id, v) VALUES (nextval('ids'), $n);
INSERT INTO w_ts0 (id, v) VALUES (nextval('ids'), $n);
INSERT INTO w_date (id, v) VALUES (nextval('ids'), $n);
INSERT INTO w_int (v) VALUES ($n);
UPDATE w_tstz SET v = v + 1, wm = now() WHERE id = (SELECT id FROM w_tstz ORDER BY random() LIMIT 1);
UPDATE w_ts SET v = v + 1, wm = now() WHERE id = (SELECT id FROM w_ts ORDER BY random() LIMIT 1);
UPDATE w_ts0 SET v = v + 1, wm = now() WHERE id = (SELECT id FROM w_ts0 ORDER BY random() LIMIT 1);
UPDATE w_date SET v = v + 1, wm = current_date WHERE id = (SELECT id FROM w_date ORDER BY random() LIMIT 1);
SELECT pg_sleep($sleep);
COMMIT;
SQL
        else
            # takes its stamp and an id first, sleeps holding no lock, then writes and commits
            S -q >/dev/null 2>&1 <<SQL
BEGIN;
SELECT now() AS t, current_date AS d, nextval('w_int_id_seq') AS i \gset
SELECT pg_sleep($sleep);
UPDATE w_tstz SET v = v + 1, wm = :'t' WHERE id = (SELECT id FROM w_tstz ORDER BY random() LIMIT 1);
UPDATE w_ts SET v = v + 1, wm = :'t'::timestamptz::timestamp WHERE id = (SELECT id FROM w_ts ORDER BY random() LIMIT 1);
UPDATE w_ts0 SET v = v + 1, wm = :'t'::timestamptz::timestamp WHERE id = (SELECT id FROM w_ts0 ORDER BY random() LIMIT 1);
UPDATE w_date SET v = v + 1, wm = :'d' WHERE id = (SELECT id FROM w_date ORDER BY random() LIMIT 1);
INSERT INTO w_int (id, v) VALUES (:i, -$n);
COMMIT;
SQL
        fi
    done
    touch "$work/stopped.$n"
}
writers_paused() { [ -e "$work/paused.1" ] && [ -e "$work/paused.2" ] && [ -e "$work/paused.3" ]; }
# Every writer has finished its transaction: polled for 60 s (10 s ran out on a loaded
# machine, silently, and the quiet run then raced a writer and differed from the refresh).
pause_writers() {
    touch "$work/pause"
    poll_until 60 writers_paused || echo "# the writers did not pause within 60 s"
}
resume_writers() { rm -f "$work/pause" "$work"/paused.*; }

# --- the first run reloads every table; the next ones merge ------------------------------
run_inc; expect_eq "first run exits 0" 0 $?
expect_eq "first run equals a full refresh" "" "$(differs)"
# The marks each type stores: floored to its precision, below now() - lag, local for
# timestamp (New York), the day before for date.
S -c "SELECT 1" >/dev/null
marks=$(T -tAc "SELECT string_agg(table_name || '=' || high_water_mark, ' ' ORDER BY table_name) FROM anonetl.published WHERE target_schema = 'inc'")
echo "# marks: $marks"
ny_now=$(S -tAc "SELECT to_char(now(), 'YYYY-MM-DD HH24')")
ts_mark=$(T -tAc "SELECT high_water_mark FROM anonetl.published WHERE target_schema = 'inc' AND table_name = 'w_ts'")
check "timestamp mark is a New York local time ($ts_mark, now $ny_now h)" \
    test "$(S -tAc "SELECT abs(extract(epoch FROM now()::timestamp - '$ts_mark'::timestamp)) < 600")" = t
ts0_mark=$(T -tAc "SELECT high_water_mark FROM anonetl.published WHERE target_schema = 'inc' AND table_name = 'w_ts0'")
check "timestamp(0) mark is a whole second ($ts0_mark)" test "$(S -tAc "SELECT '$ts0_mark'::timestamp = date_trunc('second', '$ts0_mark'::timestamp)")" = t
expect_eq "date mark is the day before the source's local date" \
    "$(S -tAc "SELECT current_date - 1")" "$(T -tAc "SELECT high_water_mark FROM anonetl.published WHERE target_schema = 'inc' AND table_name = 'w_date'")"

# --- rounds: writers active during runs, then a quiet run compared with a full refresh ----
rm -f "$work/stop" "$work/pause"
for n in 1 2 3; do writer $n & done
bad=0 runs=0 failed=0
for round in 1 2 3 4 5; do
    for _ in 1 2 3; do
        run_inc || failed=$((failed + 1))
        runs=$((runs + 1))
        sleep 0.$((RANDOM % 5))
    done
    pause_writers
    sleep 2.2 # the lag: a stamp taken before the pause is now older than the lag
    run_inc || failed=$((failed + 1))
    diff=$(differs)
    if [ -n "$diff" ]; then
        bad=$((bad + 1))
        echo "# round $round: differs from a full refresh:$diff"
    fi
    resume_writers
done
touch "$work/stop"
wait
expect_eq "runs while writers commit late all exit 0 ($runs runs)" 0 "$failed"
expect_eq "every quiet run equals a full refresh of the same source state (5 rounds, every type)" 0 "$bad"
expect_eq "writers committed late rows" 1 "$(S -tAc "SELECT (count(*) > 0)::int FROM w_int WHERE v < 0")"
grep -q '"event":"incremental"' "$work/inc.log"; check "rounds were incremental runs" test $? -eq 0
grep '"event":"full_reload"' "$work/inc.log" | grep -v '"run":"1"' >"$work/reloads"
expect_eq "no run after the first reloaded a table" 0 "$(wc -l <"$work/reloads")"

# --- a writer open across a run, with no lag: the run's mark stops before it -------------
config "$work/nolag.yaml" inc incremental 0s
"$ANONETL" run -c "$work/nolag.yaml" --skip-preflight >"$work/nolag.log" 2>&1
# The writer stays open until the run has ended (a gate the test opens), and the run
# starts once it has written: a writer of a fixed 2 s, 0.5 s ahead, could commit before a
# slow run took its snapshot, or not have written yet when it did.
PGAPPNAME=open_writer S -q >/dev/null 2>&1 <<SQL &
BEGIN;
UPDATE w_tstz SET v = -1000, wm = now() WHERE id = (SELECT min(id) FROM w_tstz);
UPDATE w_ts0 SET v = -1000, wm = now() WHERE id = (SELECT min(id) FROM w_ts0);
INSERT INTO w_int (v) VALUES (-1000);
$(gate_sql "$work/nolag.gate")
COMMIT;
SQL
lw=$!
writer_at_gate() { [ "$(S -tAc "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'open_writer' AND wait_event = 'PgSleep'")" = 1 ]; }
check "the open writer has written and waits" poll_until 60 writer_at_gate
S -c "INSERT INTO w_int (v) VALUES (-1001)" >/dev/null
"$ANONETL" run -c "$work/nolag.yaml" --skip-preflight >>"$work/nolag.log" 2>&1; expect_eq "lag 0s, a writer open across the run: exits 0" 0 $?
grep -q '"event":"window_held"' "$work/nolag.log"; check "the run says its mark stopped before the open writer" test $? -eq 0
touch "$work/nolag.gate"
wait $lw; expect_eq "the open writer commits once the gate opens" 0 $?
"$ANONETL" run -c "$work/nolag.yaml" --skip-preflight >>"$work/nolag.log" 2>&1
expect_eq "lag 0s: the open writer's rows are published by the next run" 3 \
    "$(T -tAc "SELECT (SELECT count(*) FROM inc.w_tstz WHERE v = -1000) + (SELECT count(*) FROM inc.w_ts0 WHERE v = -1000) + (SELECT count(*) FROM inc.w_int WHERE v = -1000)")"
expect_eq "lag 0s: equals a full refresh" "" "$(differs)"

# --- the default lag, and check --source on watermarks that cannot be safe ---------------
sed -e 's/, watermark_lag: 2s//' "$work/inc.yaml" >"$work/default.yaml"
"$ANONETL" run -c "$work/default.yaml" --skip-preflight >"$work/default.log" 2>&1
expect_eq "default lag: run exits 0" 0 $?
expect_eq "default lag is 15 minutes: the tstz mark is 15 min before the source's now()" t \
    "$(S -tAc "SELECT abs(extract(epoch FROM now() - interval '15 minutes' - '$(T -tAc "SELECT high_water_mark FROM anonetl.published WHERE target_schema = 'inc' AND table_name = 'w_tstz'")'::timestamptz)) < 60")"
S >/dev/null <<'SQL'
CREATE SEQUENCE cached_ids CACHE 20;
CREATE TABLE w_cached (id bigint PRIMARY KEY DEFAULT nextval('cached_ids'), v int);
ALTER SEQUENCE cached_ids OWNED BY w_cached.id;
CREATE TABLE w_nullable (id bigint PRIMARY KEY, v int, wm timestamptz);
CREATE TABLE w_noindex (id bigint PRIMARY KEY, v int, wm timestamptz NOT NULL);
-- indexes a `wm > mark` scan cannot use: hash (equality only), wm not first, partial
CREATE TABLE w_hashidx (id bigint PRIMARY KEY, v int, wm timestamptz NOT NULL);
CREATE INDEX ON w_hashidx USING hash (wm);
CREATE TABLE w_second (id bigint PRIMARY KEY, v int, wm timestamptz NOT NULL);
CREATE INDEX ON w_second (v, wm);
CREATE TABLE w_partial (id bigint PRIMARY KEY, v int, wm timestamptz NOT NULL);
CREATE INDEX ON w_partial (wm) WHERE v > 0;
-- and ones it can: BRIN, and a btree on a domain over timestamptz
CREATE TABLE w_brin (id bigint PRIMARY KEY, v int, wm timestamptz NOT NULL);
CREATE INDEX ON w_brin USING brin (wm);
-- (a domain's own NOT NULL does not count: an empty scalar sub-SELECT inserts NULL into it)
CREATE DOMAIN changed_at AS timestamptz;
CREATE TABLE w_domain (id bigint PRIMARY KEY, v int, wm changed_at NOT NULL);
CREATE INDEX ON w_domain (wm);
-- ids inserted by hand above the sequence: the rows it numbers next fall below the mark
CREATE TABLE w_seqbehind (id bigserial PRIMARY KEY, v int);
INSERT INTO w_seqbehind (v) SELECT g FROM generate_series(1, 5) g;
INSERT INTO w_seqbehind (id, v) VALUES (1000000, 0);
SQL
cat >"$work/bad.yaml" <<YAML
version: 1
source: { dsn: { env: SOURCE_DATABASE_URL } }
target: { dsn: { env: TARGET_DATABASE_URL }, schema: bad }
secrets: { hash_key: { env: ANONETL_HASH_KEY } }
tables:
  - { name: public.w_cached, mode: incremental, key: [id], watermark: id, columns: { id: keep, v: keep } }
  - { name: public.w_nullable, mode: incremental, key: [id], watermark: wm, columns: { id: keep, v: keep, wm: keep } }
YAML
"$ANONETL" check -c "$work/bad.yaml" --source >"$work/check.out" 2>&1
expect_eq "check --source: unsafe watermarks are config errors (exit 2)" 2 $?
grep -q 'w_cached: watermark "id" comes from a sequence with CACHE 20' "$work/check.out"
check "check names a sequence caching ids, and why" test $? -eq 0
grep -q 'w_nullable: watermark "wm" can be NULL' "$work/check.out"
check "check names a nullable watermark, and why" test $? -eq 0
"$ANONETL" run -c "$work/bad.yaml" --skip-preflight >"$work/bad.log" 2>&1
expect_eq "run refuses them before copying (exit 2)" 2 $?
cat >"$work/warn.yaml" <<YAML
version: 1
source: { dsn: { env: SOURCE_DATABASE_URL } }
target: { dsn: { env: TARGET_DATABASE_URL }, schema: warn }
secrets: { hash_key: { env: ANONETL_HASH_KEY } }
tables:
  - { name: public.w_noindex, mode: incremental, key: [id], watermark: wm, columns: { id: keep, v: keep, wm: keep } }
  - { name: public.w_ts, mode: incremental, key: [id], watermark: wm, columns: { id: keep, v: keep, wm: keep } }
YAML
for t in w_hashidx w_second w_partial w_brin w_domain; do
    echo "  - { name: public.$t, mode: incremental, key: [id], watermark: wm, columns: { id: keep, v: keep, wm: keep } }" >>"$work/warn.yaml"
done
for t in w_seqbehind w_int; do
    echo "  - { name: public.$t, mode: incremental, key: [id], watermark: id, columns: { id: keep, v: keep } }" >>"$work/warn.yaml"
done
"$ANONETL" check -c "$work/warn.yaml" --source >"$work/warn.out" 2>&1
expect_eq "check --source: warnings keep exit 0" 0 $?
grep -q 'w_noindex: no index on the source leads with the watermark wm: every incremental run scans the whole table' "$work/warn.out"
check "check warns about a watermark without an index, with the cost" test $? -eq 0
for t in w_hashidx w_second w_partial; do
    grep -q "$t: no index on the source leads with the watermark wm" "$work/warn.out"
    check "check warns about $t: its index cannot find wm > mark" test $? -eq 0
done
for t in w_brin w_domain; do
    grep -q "$t: no index on the source" "$work/warn.out"
    check "no warning for $t: its index finds wm > mark" test $? -ne 0
done
grep -q 'w_seqbehind: the sequence public.w_seqbehind_id_seq of the watermark id is behind the ids in the table' "$work/warn.out"
check "check warns about a sequence behind the ids already in the table (every run would reload)" test $? -eq 0
check "and does not show the largest id" bash -c "! grep -q 1000000 '$work/warn.out'"
grep -q 'w_int: the sequence' "$work/warn.out"
check "no such warning for a sequence ahead of its ids (w_int)" test $? -ne 0
grep -q 'w_ts: the watermark wm is timestamp without time zone: .*(America/New_York)' "$work/warn.out"
check "check says a local-time watermark is read in the source's time zone (America/New_York)" test $? -eq 0

done_testing
