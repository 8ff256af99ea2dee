#!/usr/bin/env bash
# tests/integration/watermark_race.sh: incremental windows under concurrent writers, in
# interleavings the test controls step by step, not by sleeping and hoping (issue 11.1).
#
# Writers are psql sessions the test drives one statement at a time (a FIFO each): a
# transaction takes an id or stamps a row, then waits for the test to commit it. To stop
# a run between two of its reads, the test holds ACCESS EXCLUSIVE on the view
# pg_catalog.pg_locks: the run's statement that reads it waits, and the test commits
# writers meanwhile, then lets it go. A run used to take its snapshot and then read
# pg_locks (within one statement): a writer committing in between was neither in the
# snapshot nor a writer, and the mark moved past its rows for good. Now a run reads the
# largest ids (premarks), then pg_locks, then takes the snapshot.
#
# After each interleaving the writers have committed and one more run is compared, table
# by table, with a fresh full refresh of the same source state (count + md5 of the rows
# in key order): a row lost for good shows up as a difference. Every watermark type:
# bigserial, an id whose sequence only the column default names, timestamptz, timestamp
# and timestamp(0) (New York local times), date, a partitioned table written through a
# partition; a source role without pg_read_all_stats; a prepared transaction. Lag 0.
set -u
cd "$(dirname "$0")/../.."
. tests/lib/tap.sh
. tests/lib/pgcluster.sh

ANONETL=${ANONETL:-./anonetl}
trap '' PIPE # a session that died on an error: its step times out and says so
pgc_pair || { echo "not ok 1 - clusters did not start"; exit 1; }
# PREPARE TRANSACTION needs max_prepared_transactions (a restart)
S -c "ALTER SYSTEM SET max_prepared_transactions = 4" >/dev/null
pgc_stop "$work/src" && pgc_start "$work/src" >/dev/null || { echo "not ok 1 - restart failed"; exit 1; }
export ANONETL_HASH_KEY=$(openssl rand -hex 32)
export SOURCE_DATABASE_URL="$(pgc_dsn "$work/src" postgres postgres)"
export TARGET_DATABASE_URL="$(pgc_dsn "$work/tgt" postgres postgres)"
export LIMITED_SOURCE_URL="$(pgc_dsn "$work/src" postgres etl)"

S >/dev/null <<'SQL'
ALTER DATABASE postgres SET timezone = 'America/New_York';
CREATE TABLE r_int (id bigserial PRIMARY KEY, v int NOT NULL);
CREATE TABLE r_tstz (id bigint PRIMARY KEY, v int NOT NULL, wm timestamptz NOT NULL DEFAULT now());
CREATE TABLE r_ts (id bigint PRIMARY KEY, v int NOT NULL, wm timestamp NOT NULL DEFAULT now());
CREATE TABLE r_ts0 (id bigint PRIMARY KEY, v int NOT NULL, wm timestamp(0) NOT NULL DEFAULT now());
CREATE TABLE r_date (id bigint PRIMARY KEY, v int NOT NULL, wm date NOT NULL DEFAULT current_date);
-- ids from a sequence only the column's default names (no OWNED BY)
CREATE SEQUENCE loose_ids;
CREATE TABLE r_loose (id bigint PRIMARY KEY DEFAULT nextval('loose_ids'), v int NOT NULL);
-- written through its partitions
CREATE TABLE r_part (id bigint PRIMARY KEY, v int NOT NULL, wm timestamptz NOT NULL DEFAULT now()) PARTITION BY RANGE (id);
CREATE TABLE r_part_a PARTITION OF r_part FOR VALUES FROM (0) TO (1000);
CREATE TABLE r_part_b PARTITION OF r_part FOR VALUES FROM (1000) TO (2000);
-- read by a role that cannot see other sessions' transaction starts
CREATE TABLE r_lim (id bigserial PRIMARY KEY, v int NOT NULL);
CREATE TABLE r_prep (id bigserial PRIMARY KEY, v int NOT NULL);
-- ids an application takes from a sequence the table does not name
CREATE SEQUENCE app_ids START 100;
CREATE TABLE r_app (id bigint PRIMARY KEY, v int NOT NULL);
CREATE ROLE etl LOGIN;
GRANT SELECT ON r_lim TO etl;
INSERT INTO r_int (v) SELECT g FROM generate_series(1, 20) g;
INSERT INTO r_loose (v) SELECT g FROM generate_series(1, 20) g;
INSERT INTO r_lim (v) SELECT g FROM generate_series(1, 20) g;
INSERT INTO r_prep (v) SELECT g FROM generate_series(1, 20) g;
INSERT INTO r_app SELECT nextval('app_ids'), g FROM generate_series(1, 20) g;
INSERT INTO r_part (id, v) SELECT g * 100, g FROM generate_series(1, 19) g;
SQL
for t in r_tstz r_ts r_ts0 r_date; do
    S -c "INSERT INTO $t (id, v) SELECT g, g FROM generate_series(1, 20) g" >/dev/null
done
TABLES="r_int r_tstz r_ts r_ts0 r_date r_loose r_part r_prep"

config() { # FILE SCHEMA MODE DSN-VARIABLE TABLE...
    local file=$1 schema=$2 mode=$3 dsn=$4 t wm cols
    shift 4
    {
        cat <<YAML
version: 1
source: { dsn: { env: $dsn } }
target: { dsn: { env: TARGET_DATABASE_URL }, schema: $schema }
secrets: { hash_key: { env: ANONETL_HASH_KEY } }
tables:
YAML
        for t in "$@"; do
            wm=wm cols="{ id: keep, v: keep, wm: keep }"
            case $t in r_int | r_loose | r_lim | r_prep | r_app) wm=id cols="{ id: keep, v: keep }" ;; esac
            if [ "$mode" = full ]; then
                echo "  - { name: public.$t, mode: full, key: [id], columns: $cols }"
            else
                echo "  - { name: public.$t, mode: incremental, key: [id], watermark: $wm, watermark_lag: 0s, columns: $cols }"
            fi
        done
    } >"$work/$file.yaml"
}
config inc inc incremental SOURCE_DATABASE_URL $TABLES
config lim lim incremental LIMITED_SOURCE_URL r_lim
config ref ref full SOURCE_DATABASE_URL $TABLES r_lim r_app
config app app incremental SOURCE_DATABASE_URL r_app
sed -i 's/watermark_lag: 0s/watermark_lag: 5s/' "$work/app.yaml"
run() { # NAME: one run; its log in NAME.last, every run's in NAME.log
    "$ANONETL" run -c "$work/$1.yaml" --skip-preflight >"$work/$1.last" 2>&1
    local rc=$?
    cat "$work/$1.last" >>"$work/$1.log"
    return $rc
}
digests() { # SCHEMA TABLE...: "table count:md5" per table, in one query
    local schema=$1 t sql=""
    shift
    for t in "$@"; do
        sql="$sql${sql:+ UNION ALL }SELECT '$t', (SELECT count(*) || ':' || coalesce(md5(string_agg(t::text, '|' ORDER BY t.id)), '') FROM $schema.$t t)"
    done
    T -tA -F ' ' -c "$sql"
}
differs() { # SCHEMA TABLE...: the tables whose incremental copy differs from a fresh full refresh
    local schema=$1
    shift
    run ref || { echo " (reference run failed)"; return; }
    diff <(digests "$schema" "$@") <(digests ref "$@") | sed -n 's/^< \([^ ]*\) .*/ \1/p' | tr -d '\n'
}
mark() { T -tAc "SELECT high_water_mark FROM anonetl.published WHERE target_schema = '$1' AND table_name = '$2'"; }

# --- sessions the test drives: a psql reading a FIFO, one statement at a time ------------
declare -A SFD
STEP=0
wait_for() { # COMMAND...: true once it succeeds (polled for up to 20 s)
    for _ in $(seq 1 1000); do "$@" && return 0; sleep 0.02; done
    return 1
}
sess_open() { # NAME: a superuser session on the source, application_name NAME
    local fd
    mkfifo "$work/$1.in"
    PGAPPNAME=$1 S -tA <"$work/$1.in" >"$work/$1.out" 2>&1 &
    exec {fd}>"$work/$1.in"
    SFD[$1]=$fd
}
sess_do() { # NAME SQL: run SQL (psql syntax, \gset works) in the session; wait until done
    STEP=$((STEP + 1))
    printf '%s\n\\! touch %s\n' "$2" "$work/step.$STEP" >&"${SFD[$1]}"
    wait_for test -e "$work/step.$STEP" || { echo "# session $1 stuck or failed: $(tail -3 "$work/$1.out")"; return 1; }
}
sess_close() { # NAME
    printf '\\q\n' >&"${SFD[$1]}"
    eval "exec ${SFD[$1]}>&-"
}
run_waits_on_lock() {
    [ "$(S -tAc "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'anonetl' AND wait_event_type = 'Lock'")" = 1 ]
}

# w_time stamps rows of every time type now (now(): its start) and commits in section 1,
# more than 2.5 s later (waited for there, if need be), so that its stamps are below that
# run's bound even for timestamp(0). It writes before any run starts: a transaction that
# stamps before a run and writes the table only after it started is what watermark_lag
# covers (not 0 here).
sess_open w_time
sess_do w_time "BEGIN;
UPDATE r_tstz SET v = -1, wm = now() WHERE id = 5;
UPDATE r_ts SET v = -1, wm = now() WHERE id = 5;
UPDATE r_ts0 SET v = -1, wm = now() WHERE id = 5;
UPDATE r_date SET v = -1, wm = current_date WHERE id = 5;
INSERT INTO r_tstz (id, v) VALUES (101, -1);
INSERT INTO r_ts (id, v) VALUES (101, -1);
INSERT INTO r_ts0 (id, v) VALUES (101, -1);
INSERT INTO r_date (id, v) VALUES (101, -1);"
run inc; expect_eq "first run exits 0" 0 $?
run lim; expect_eq "first run as a role without pg_read_all_stats exits 0" 0 $?
run app; expect_eq "first run with watermark_lag 5s exits 0" 0 $?
expect_eq "first runs equal a full refresh" "" "$(differs inc $TABLES)$(differs lim r_lim)"

# --- 1. a writer commits between the run's snapshot and its read of pg_locks -------------
# w_int takes an id (nextval: a virtual xid only, a lock on the sequence) and inserts it
# only while the run waits; w_time (above) commits while the run waits. A higher id is
# committed first.
sess_open w_int
sess_do w_int "BEGIN; SELECT nextval('r_int_id_seq') AS x \gset"
S -c "INSERT INTO r_int (v) VALUES (1)" >/dev/null
w_time_old() { [ "$(S -tAc "SELECT now() - xact_start > interval '2.5 s' FROM pg_stat_activity WHERE application_name = 'w_time'")" = t ]; }
wait_for w_time_old
sess_open lock
sess_do lock "BEGIN; LOCK TABLE pg_catalog.pg_locks IN ACCESS EXCLUSIVE MODE;"
run inc &
job=$!
wait_for run_waits_on_lock; check "the run waits for pg_locks" test $? -eq 0
sess_do w_int "INSERT INTO r_int (id, v) VALUES (:x, -1); COMMIT;"
sess_do w_time "COMMIT;"
sess_do lock "COMMIT;"
wait $job; expect_eq "the run exits 0" 0 $?
expect_eq "its mark is the largest id committed before it read pg_locks" "$(S -tAc "SELECT max(id) FROM r_int")" "$(mark inc r_int)"
run inc; expect_eq "the next run exits 0" 0 $?
expect_eq "writers that committed while the run waited for pg_locks: every type equals a full refresh" "" "$(differs inc $TABLES)"

# --- 2. an id taken from a sequence only the column's default names ---------------------
sess_do w_int "BEGIN; SELECT nextval('loose_ids') AS lx \gset"
S -c "INSERT INTO r_loose (v) VALUES (2)" >/dev/null
run inc; expect_eq "a run while an id of the default's sequence is in flight exits 0" 0 $?
check "it says its mark stops before the transaction holding the id" grep -q '"event":"window_held".*r_loose' "$work/inc.last"
sess_do w_int "INSERT INTO r_loose (id, v) VALUES (:lx, -2); COMMIT;"
run inc; expect_eq "the next run exits 0" 0 $?
expect_eq "an id of a sequence the default names, committed after a higher one: equals a full refresh" "" "$(differs inc r_loose)"

# --- 3. a writer of a partition (not its parent) open across a run ----------------------
sess_do w_time "BEGIN; UPDATE r_part_b SET v = -3, wm = now() WHERE id = 1500;"
S -c "INSERT INTO r_part (id, v) VALUES (1950, 3)" >/dev/null
run inc; expect_eq "a run while a partition's writer is open exits 0" 0 $?
sess_do w_time "COMMIT;"
run inc; expect_eq "the next run exits 0" 0 $?
expect_eq "a row written through a partition, committed after a run: equals a full refresh" "" "$(differs inc r_part)"

# --- 4. a role without pg_read_all_stats, a writer open across two runs ------------------
# The run cannot see when the writer began: its mark stays below the writer because the
# writer held a lock when the earlier mark was taken (not because of a lag).
sess_do w_int "BEGIN; INSERT INTO r_lim (v) VALUES (-4);"
S -c "INSERT INTO r_lim (v) VALUES (4)" >/dev/null
run lim; expect_eq "run 1 with the writer open exits 0" 0 $?
S -c "INSERT INTO r_lim (v) VALUES (5)" >/dev/null
run lim; expect_eq "run 2 with the writer still open exits 0" 0 $?
check "run 2 says the writer's start is not visible" grep -q '"event":"window_held".*not visible to the source role' "$work/lim.last"
sess_do w_int "COMMIT;"
run lim; expect_eq "run 3 exits 0" 0 $?
expect_eq "without pg_read_all_stats, a writer open across two runs: equals a full refresh" "" "$(differs lim r_lim)"

# --- 5. a prepared transaction (its vxid changes at PREPARE, its start is unknown) -------
sess_do w_int "BEGIN; INSERT INTO r_prep (v) VALUES (-5);"
S -c "INSERT INTO r_prep (v) VALUES (5)" >/dev/null
run inc; expect_eq "run 1 with the writer open exits 0" 0 $?
sess_do w_int "PREPARE TRANSACTION 'w5';"
# and one stamping rows of every time type: no one sees when it began
sess_do w_int "BEGIN;
UPDATE r_tstz SET v = -55, wm = now() WHERE id = 6;
UPDATE r_ts SET v = -55, wm = now() WHERE id = 6;
UPDATE r_ts0 SET v = -55, wm = now() WHERE id = 6;
UPDATE r_date SET v = -55, wm = current_date WHERE id = 6;
PREPARE TRANSACTION 'w5t';"
S -c "INSERT INTO r_prep (v) VALUES (6)" >/dev/null
sleep 1.1 # the stamps are below now() - lag, even for timestamp(0)
run inc; expect_eq "run 2 with the writer prepared exits 0" 0 $?
check "run 2 says a prepared transaction holds the mark" grep -q '"event":"window_held".*r_prep.*a prepared transaction' "$work/inc.last"
check "run 2 says a prepared transaction holds the timestamptz mark too" grep -q '"event":"window_held".*r_tstz.*a prepared transaction' "$work/inc.last"
S -c "COMMIT PREPARED 'w5'" -c "COMMIT PREPARED 'w5t'" >/dev/null
run inc; expect_eq "run 3 exits 0" 0 $?
expect_eq "prepared transactions committed after two runs: equals a full refresh" "" "$(differs inc r_prep r_tstz r_ts r_ts0 r_date)"

# --- 6. no writer: the mark is the largest id, exactly ----------------------------------
sess_close w_int
sess_close w_time
sess_close lock
S -c "INSERT INTO r_int (v) VALUES (7)" >/dev/null
run inc; expect_eq "a run with no writer exits 0" 0 $?
expect_eq "with no writer the mark is the largest id" "$(S -tAc "SELECT max(id) FROM r_int")" "$(mark inc r_int)"

# --- 7. an id taken in an earlier transaction than its insert: watermark_lag ------------
# No lock shows it in flight; with watermark_lag: 5s a mark serves only once 5 s old.
sess_open app
sess_do app "SELECT nextval('app_ids') AS a \gset"
S -c "INSERT INTO r_app VALUES (nextval('app_ids'), 7)" >/dev/null
run app; expect_eq "a run while the application holds an id exits 0" 0 $?
sess_do app "INSERT INTO r_app VALUES (:a, -7);"
run app; expect_eq "the next run exits 0" 0 $?
expect_eq "an id inserted within watermark_lag after a higher one: equals a full refresh" "" "$(differs app r_app)"
sess_close app

# --- 8. check --source: integer watermarks whose ids are not taken in one order ---------
S >/dev/null <<'SQL'
CREATE TABLE s_identity (id bigint GENERATED ALWAYS AS IDENTITY (CACHE 10) PRIMARY KEY, v int);
CREATE SEQUENCE down_ids INCREMENT BY -1 START WITH -1;
CREATE TABLE s_down (id bigint PRIMARY KEY DEFAULT nextval('down_ids'), v int);
CREATE TABLE s_cycle (id serial PRIMARY KEY, v int);
ALTER SEQUENCE s_cycle_id_seq CYCLE;
CREATE TABLE s_two (id bigint NOT NULL, region text NOT NULL, v int, PRIMARY KEY (id, region)) PARTITION BY LIST (region);
CREATE SEQUENCE eu_ids;
CREATE SEQUENCE us_ids;
CREATE TABLE s_two_eu PARTITION OF s_two FOR VALUES IN ('eu');
CREATE TABLE s_two_us PARTITION OF s_two FOR VALUES IN ('us');
ALTER TABLE s_two_eu ALTER COLUMN id SET DEFAULT nextval('eu_ids');
ALTER TABLE s_two_us ALTER COLUMN id SET DEFAULT nextval('us_ids');
CREATE SEQUENCE block_ids INCREMENT BY 50;
CREATE TABLE s_block (id bigint PRIMARY KEY DEFAULT nextval('block_ids'), v int);
CREATE TABLE s_app (id bigint PRIMARY KEY, v int);
SQL
cat >"$work/bad.yaml" <<YAML
version: 1
source: { dsn: { env: SOURCE_DATABASE_URL } }
target: { dsn: { env: TARGET_DATABASE_URL }, schema: bad }
secrets: { hash_key: { env: ANONETL_HASH_KEY } }
tables:
  - { name: public.s_identity, mode: incremental, key: [id], watermark: id, columns: { id: keep, v: keep } }
  - { name: public.s_down, mode: incremental, key: [id], watermark: id, columns: { id: keep, v: keep } }
  - { name: public.s_cycle, mode: incremental, key: [id], watermark: id, columns: { id: keep, v: keep } }
  - { name: public.s_two, mode: incremental, key: [id, region], watermark: id, columns: { id: keep, region: keep, v: keep } }
YAML
"$ANONETL" check -c "$work/bad.yaml" --source >"$work/bad.out" 2>&1
expect_eq "check --source: integer watermarks whose ids are out of order are config errors (exit 2)" 2 $?
grep -q 's_identity: watermark "id" comes from a sequence with CACHE 10 (public.s_identity_id_seq)' "$work/bad.out"
check "an identity column caching ids is named, with its sequence" test $? -eq 0
grep -q 's_down: watermark "id" comes from a sequence with INCREMENT BY -1 (public.down_ids): ids decrease' "$work/bad.out"
check "a sequence counting down (named only by the default) is refused" test $? -eq 0
grep -q 's_cycle: watermark "id" comes from a sequence that CYCLEs (public.s_cycle_id_seq)' "$work/bad.out"
check "a sequence that cycles is refused" test $? -eq 0
grep -q 's_two: watermark "id" is filled from 2 sequences (public.eu_ids, public.us_ids)' "$work/bad.out"
check "partitions filled from two sequences are refused" test $? -eq 0
"$ANONETL" run -c "$work/bad.yaml" --skip-preflight >"$work/bad.log" 2>&1
expect_eq "run refuses them before copying (exit 2)" 2 $?
cat >"$work/warn.yaml" <<YAML
version: 1
source: { dsn: { env: SOURCE_DATABASE_URL } }
target: { dsn: { env: TARGET_DATABASE_URL }, schema: warn }
secrets: { hash_key: { env: ANONETL_HASH_KEY } }
tables:
  - { name: public.r_loose, mode: incremental, key: [id], watermark: id, columns: { id: keep, v: keep } }
  - { name: public.s_block, mode: incremental, key: [id], watermark: id, columns: { id: keep, v: keep } }
  - { name: public.s_app, mode: incremental, key: [id], watermark: id, watermark_lag: 0s, columns: { id: keep, v: keep } }
  - { name: public.r_tstz, mode: incremental, key: [id], watermark: wm, watermark_lag: 0s, columns: { id: keep, v: keep, wm: keep } }
YAML
"$ANONETL" check -c "$work/warn.yaml" --source >"$work/warn.out" 2>&1
expect_eq "check --source: warnings keep exit 0" 0 $?
grep -q 'r_loose: the integer watermark id is not filled by a sequence' "$work/warn.out"
check "a sequence named only by the column's default is one runs watch (no warning)" test $? -ne 0
grep -q 's_block: the watermark id comes from public.block_ids, with INCREMENT BY 50' "$work/warn.out"
check "a sequence stepping by 50 (an ORM's id blocks) is warned about" test $? -eq 0
grep -q 's_app: the integer watermark id is not filled by a sequence runs can watch' "$work/warn.out"
check "application-assigned ids are warned about, with what is safe" test $? -eq 0
grep -q 'r_tstz: watermark_lag is 0 on the watermark wm: .* writes the table only after the run started is missed' "$work/warn.out"
check "a time watermark with no lag is warned about, with the writers it misses" test $? -eq 0
grep -q 's_app: watermark_lag is 0' "$work/warn.out"
check "an integer watermark needs no lag (no such warning)" test $? -ne 0

done_testing
