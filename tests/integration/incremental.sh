#!/usr/bin/env bash
# tests/integration/incremental.sh: incremental runs, deletes, parallel workers (issue 5).
# Every check compares the incrementally published table with a fresh full refresh of
# the same source state into another schema (anonymised_ref): same rules, same key.
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

S >/dev/null <<'SQL'
CREATE TABLE ev_none (id bigint PRIMARY KEY, email text NOT NULL, amount int, updated_at timestamptz NOT NULL DEFAULT clock_timestamp());
CREATE TABLE ev_soft (id bigint PRIMARY KEY, email text NOT NULL, amount int, deleted boolean NOT NULL DEFAULT false, updated_at timestamptz NOT NULL DEFAULT clock_timestamp());
CREATE TABLE ev_scan (id bigint PRIMARY KEY, email text NOT NULL, amount int, updated_at timestamptz NOT NULL DEFAULT clock_timestamp());
INSERT INTO ev_none (id, email, amount) SELECT g, 'n' || g || '@x.org', g FROM generate_series(1, 5000) g;
INSERT INTO ev_soft (id, email, amount) SELECT g, 's' || g || '@x.org', g FROM generate_series(1, 5000) g;
INSERT INTO ev_scan (id, email, amount) SELECT g, 'k' || g || '@x.org', g FROM generate_series(1, 5000) g;
SQL

config() { # FILE SCHEMA MODE LAG [JOBS]
    local mode=$3 lag=$4
    cat >"$1" <<YAML
version: 1
source: { dsn: { env: SOURCE_DATABASE_URL } }
target: { dsn: { env: TARGET_DATABASE_URL }, schema: $2 }
secrets: { hash_key: { env: ANONETL_HASH_KEY } }
run: { jobs: ${5:-1} }
tables:
  - name: public.ev_none
    mode: $mode
    key: [id]
    watermark: updated_at
    watermark_lag: $lag
    deletes: none
    columns: { id: { hash_int: {} }, email: { hash: {} }, amount: keep, updated_at: keep }
  - name: public.ev_soft
    mode: $mode
    key: [id]
    watermark: updated_at
    watermark_lag: $lag
    deletes: soft
    deleted_column: deleted
    columns: { id: { hash_int: {} }, email: { hash: {} }, amount: keep, deleted: keep, updated_at: keep }
  - name: public.ev_scan
    mode: $mode
    key: [id]
    watermark: updated_at
    watermark_lag: $lag
    deletes: key_scan
    columns: { id: { hash_int: {} }, email: { hash: {} }, amount: keep, updated_at: keep }
YAML
    # `mode: full` ignores the incremental keys only if the loader allows them; strip them.
    if [ "$mode" = full ]; then
        sed -i -e '/watermark/d' -e '/deletes:/d' -e '/deleted_column/d' "$1"
    fi
}
config "$work/inc.yaml" anonymised incremental 0s
config "$work/ref.yaml" anonymised_ref full 0s

digest() { # SCHEMA TABLE [extra where]
    T -tAc "SELECT count(*) || ':' || coalesce(md5(string_agg(t::text, '|' ORDER BY t.id)), '') FROM $1.$2 t ${3:-}"
}
anonetl_sessions_gone() { # no anonetl session on either server
    [ "$(S -tAc "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'anonetl'")" = 0 ] &&
        [ "$(T -tAc "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'anonetl'")" = 0 ]
}
run_inc() { "$ANONETL" run -c "$work/inc.yaml" --skip-preflight "$@" >>"$work/inc.log" 2>&1; }
run_ref() { # a killed run's backend may hold the lock for a moment: exit 7, retry
    local rc
    for _ in 1 2 3 4 5 6 7 8 9 10; do
        "$ANONETL" run -c "$work/ref.yaml" --skip-preflight >>"$work/ref.log" 2>&1; rc=$?
        [ "$rc" -eq 7 ] || return "$rc"
        sleep 0.2
    done
    return "$rc"
}
matches_ref() { # prints the tables that differ from a fresh full refresh ("" = none)
    run_ref || { echo "reference run failed: $(tail -3 "$work/ref.log")"; return; }
    local bad=""
    # deletes: none keeps rows deleted in the source: compare the rows the source still has
    [ "$(digest anonymised ev_none "WHERE t.id IN (SELECT id FROM anonymised_ref.ev_none)")" = "$(digest anonymised_ref ev_none)" ] || bad="$bad ev_none"
    [ "$(digest anonymised ev_soft)" = "$(digest anonymised_ref ev_soft "WHERE NOT t.deleted")" ] || bad="$bad ev_soft"
    [ "$(digest anonymised ev_scan)" = "$(digest anonymised_ref ev_scan)" ] || bad="$bad ev_scan"
    echo "$bad"
}
same_as_ref() { # NAME
    local bad
    bad=$(matches_ref)
    if [ -z "$bad" ]; then ok "$1"; else not_ok "$1" "differs from a full refresh:$bad"; fi
}
all_digests() { for t in ev_none ev_soft ev_scan; do digest anonymised $t; done; }
mutate() { # N: inserts, updates, deletes on every table
    S >/dev/null <<SQL
INSERT INTO ev_none (id, email, amount) SELECT max(id) + g, 'n' || (max(id) + g) || '@x.org', g FROM ev_none, generate_series(1, $1) g GROUP BY g;
INSERT INTO ev_soft (id, email, amount) SELECT max(id) + g, 's' || (max(id) + g) || '@x.org', g FROM ev_soft, generate_series(1, $1) g GROUP BY g;
INSERT INTO ev_scan (id, email, amount) SELECT max(id) + g, 'k' || (max(id) + g) || '@x.org', g FROM ev_scan, generate_series(1, $1) g GROUP BY g;
UPDATE ev_none SET amount = amount + 1, updated_at = clock_timestamp() WHERE id % 97 = (SELECT count(*) FROM ev_none) % 97;
UPDATE ev_soft SET amount = amount + 1, updated_at = clock_timestamp() WHERE id % 89 = 3;
UPDATE ev_soft SET deleted = true, updated_at = clock_timestamp() WHERE id IN (SELECT id FROM ev_soft WHERE NOT deleted ORDER BY random() LIMIT $1);
UPDATE ev_scan SET email = 'changed' || id, updated_at = clock_timestamp() WHERE id % 83 = 5;
DELETE FROM ev_scan WHERE id IN (SELECT id FROM ev_scan ORDER BY random() LIMIT $1);
DELETE FROM ev_none WHERE id IN (SELECT id FROM ev_none ORDER BY random() LIMIT $1);
SQL
}

# --- first run: full reload of each incremental table; then changes are merged ----------
run_inc; expect_eq "first incremental run exits 0" 0 $?
grep -q '"event":"full_reload"' "$work/inc.log"; check "first run is a full reload" test $? -eq 0
same_as_ref "first run equals a full refresh"
mutate 50
: >"$work/inc.log"
run_inc; expect_eq "second run exits 0" 0 $?
grep -q '"event":"incremental"' "$work/inc.log"; check "second run is incremental" test $? -eq 0
same_as_ref "inserts, updates and deletes (none, soft, key_scan) reflected exactly"
expect_eq "soft-deleted rows removed" 0 "$(T -tAc 'SELECT count(*) FROM anonymised.ev_soft WHERE deleted')"
deleted=$(T -tAc "SELECT t.rows_deleted FROM anonetl.run_tables t JOIN anonetl.runs r USING (run_id) WHERE r.target_schema = 'anonymised' AND t.table_name = 'public.ev_scan' ORDER BY run_id DESC LIMIT 1")
# 50 random deletes, some of rows inserted (and never published) in the same change set
check "key_scan deletes recorded in the run history ($deleted)" test "$deleted" -ge 30 -a "$deleted" -le 50
expect_eq "high-water mark stored" 1 "$(T -tAc "SELECT count(*) FROM anonetl.published WHERE table_name = 'ev_none' AND target_schema = 'anonymised' AND high_water_mark IS NOT NULL")"

# --- a changed rule set or a rotated key forces a full reload ------------------------------
sed -i 's/amount: keep, updated_at: keep }$/amount: { constant: "0" }, updated_at: keep }/' "$work/inc.yaml"
: >"$work/inc.log"; run_inc
grep -c '"event":"full_reload"' "$work/inc.log" | grep -qx 2; check "changed rules: full reload of the changed tables only" test $? -eq 0
sed -i 's/amount: { constant: "0" }, updated_at: keep }$/amount: keep, updated_at: keep }/' "$work/inc.yaml"
run_inc
old_key=$ANONETL_HASH_KEY; export ANONETL_HASH_KEY=$(openssl rand -hex 32)
: >"$work/inc.log"; run_inc
grep -c '"event":"full_reload"' "$work/inc.log" | grep -qx 3; check "rotated key: full reload of every table" test $? -eq 0
same_as_ref "after key rotation equals a full refresh"
: >"$work/inc.log"; run_inc --full-refresh
grep -c '"event":"full_reload"' "$work/inc.log" | grep -qx 3; check "--full-refresh reloads every table" test $? -eq 0

# --- late commit inside the lag window is picked up -------------------------------------
config "$work/lag.yaml" anonymised incremental 3s
run_lag() { "$ANONETL" run -c "$work/lag.yaml" --skip-preflight >>"$work/lag.log" 2>&1; }
run_lag
# A writer stamps updated_at now, but commits only after the next run took its snapshot:
# the run starts once the writer has inserted, and the writer commits once the run has
# ended (a gate the test opens). A writer of a fixed 1.5 s, 0.5 s ahead, committed before
# a slow run took its snapshot, which then published the row.
PGAPPNAME=late_writer S -c "BEGIN; INSERT INTO ev_none (id, email, amount, updated_at) VALUES (900001, 'late@x.org', -900001, clock_timestamp()); $(gate_sql "$work/late.gate") COMMIT;" >/dev/null &
writer=$!
late_writer_waits() { [ "$(S -tAc "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'late_writer' AND wait_event = 'PgSleep'")" = 1 ]; }
check "the late writer has inserted and waits" poll_until 60 late_writer_waits
run_lag
touch "$work/late.gate"
wait $writer; expect_eq "the late writer commits once the gate opens" 0 $?
expect_eq "late row not visible to the run that started before its commit" 0 "$(T -tAc "SELECT count(*) FROM anonymised.ev_none WHERE amount = -900001")"
sleep 3.2
run_lag
expect_eq "late commit with an old watermark picked up by the next run (lag 3s)" 1 "$(T -tAc "SELECT count(*) FROM anonymised.ev_none WHERE amount = -900001")"

# --- --jobs 4 publishes exactly what --jobs 1 does ------------------------------------------
S -c "CREATE TABLE big (id bigint PRIMARY KEY, v text); INSERT INTO big SELECT g, md5(g::text) FROM generate_series(1, 300000) g; ANALYZE big" >/dev/null
for j in 1 4; do
    cat >"$work/jobs$j.yaml" <<YAML
version: 1
source: { dsn: { env: SOURCE_DATABASE_URL } }
target: { dsn: { env: TARGET_DATABASE_URL }, schema: jobs$j }
secrets: { hash_key: { env: ANONETL_HASH_KEY } }
tables:
  - { name: public.big, columns: { id: keep, v: { hash: {} } } }
  - { name: public.ev_none, columns: { id: { hash_int: {} }, email: { hash: {} }, amount: keep, updated_at: keep } }
  - { name: public.ev_soft, columns: { id: { hash_int: {} }, email: { hash: {} }, amount: keep, deleted: keep, updated_at: keep } }
  - { name: public.ev_scan, columns: { id: { hash_int: {} }, email: { hash: {} }, amount: keep, updated_at: keep } }
YAML
    ANONETL_SPLIT_ROWS=100000 "$ANONETL" run -c "$work/jobs$j.yaml" --skip-preflight --jobs $j >"$work/jobs$j.log" 2>&1
    expect_eq "--jobs $j run exits 0" 0 $?
done
same=1
for t in big ev_none ev_soft ev_scan; do
    [ "$(digest jobs1 $t)" = "$(digest jobs4 $t)" ] || same=0
done
expect_eq "--jobs 4 publishes exactly the same data as --jobs 1" 1 "$same"

# --- a worker killed mid-copy: non-zero exit, data intact, no leftovers ---------------------
before=$(digest jobs4 big)
S -c "UPDATE big SET v = 'x' || v WHERE id < 1000" >/dev/null
S -c "INSERT INTO big SELECT g, md5(g::text) FROM generate_series(300001, 1500000) g" >/dev/null
"$ANONETL" run -c "$work/jobs4.yaml" --skip-preflight --jobs 2 >"$work/kill.log" 2>&1 &
pid=$!
killed=0
for _ in $(seq 1 200); do
    n=$(S -tAc "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = 'anonetl' AND query LIKE 'COPY (SELECT%big%' AND state = 'active'")
    [ "$n" -ge 1 ] && { killed=1; break; }
    sleep 0.05
done
wait $pid; rc=$?
check "a source worker backend was terminated mid-copy" test "$killed" -eq 1
check "the run exits non-zero (got $rc)" test "$rc" -ne 0
expect_eq "published data intact" "$before" "$(digest jobs4 big)"
# The run has exited; its backends end a moment later, on their own time (a fixed 0.5 s
# was too short on a loaded machine). Polled, then checked as before.
poll_until 30 anonetl_sessions_gone
expect_eq "no leftover staging tables" 0 "$(T -tAc "SELECT count(*) FROM pg_class WHERE relnamespace = 'anonetl_data'::regnamespace AND relkind = 'r' AND relname NOT IN (SELECT version_table FROM anonetl.published)")"
expect_eq "no anonetl connections left on the source" 0 "$(S -tAc "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'anonetl'")"
expect_eq "no anonetl connections left on the target" 0 "$(T -tAc "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'anonetl'")"

# --- kill -9 at random moments across 20 runs of a changing workload -----------------------
export ANONETL_HASH_KEY=$old_key
run_inc --full-refresh
bad=0 killed=0 completed=0
for i in $(seq 1 20); do
    mutate 20
    before=$(all_digests)
    last_id=$(T -tAc "SELECT COALESCE(max(run_id), 0) FROM anonetl.runs")
    "$ANONETL" run -c "$work/inc.yaml" --skip-preflight >"$work/k.log" 2>&1 &
    pid=$!
    sleep "$(printf '0.%03d' $((RANDOM % 150)))"
    kill -9 $pid 2>/dev/null
    wait $pid 2>/dev/null
    # killed after its commit counts as completed: the run record says which
    last=$(T -tAc "SELECT status FROM anonetl.runs WHERE target_schema = 'anonymised' AND run_id > $last_id")
    if [ "$last" = succeeded ]; then
        # finished before the kill: published must equal a full refresh of this state
        completed=$((completed + 1))
        diff=$(matches_ref)
        [ -z "$diff" ] || { bad=$((bad + 1)); echo "# iteration $i: completed run differs: $diff"; }
    else
        # killed: published must be exactly what it was (the last successful run)
        killed=$((killed + 1))
        [ "$(all_digests)" = "$before" ] || { bad=$((bad + 1)); echo "# iteration $i: killed run changed published data"; }
    fi
done
echo "# kill -9 loop: $killed killed, $completed completed"
expect_eq "20 runs killed at random moments: published always equals the last successful run" 0 "$bad"
run_inc; expect_eq "run after 20 kill -9 interruptions exits 0" 0 $?
expect_eq "no duplicate keys" 0 "$(T -tAc "SELECT count(*) - count(DISTINCT id) FROM anonymised.ev_scan")"
same_as_ref "after 20 interrupted runs, published equals a full refresh"

# --- a large change set is merged in pieces while the copy goes on ------------------------
# 40,000 changed rows per table: more than the first pieces (8192 rows), so several
# pieces are merged in the publish transaction while workers still copy.
bulk() { # N: N new rows and N/2 updated rows in every table, a few soft deletes
    S >/dev/null <<SQL
INSERT INTO ev_none (id, email, amount) SELECT m + g, 'n' || (m + g) || '@x.org', g FROM (SELECT max(id) AS m FROM ev_none) x, generate_series(1, $1) g;
INSERT INTO ev_soft (id, email, amount) SELECT m + g, 's' || (m + g) || '@x.org', g FROM (SELECT max(id) AS m FROM ev_soft) x, generate_series(1, $1) g;
INSERT INTO ev_scan (id, email, amount) SELECT m + g, 'k' || (m + g) || '@x.org', g FROM (SELECT max(id) AS m FROM ev_scan) x, generate_series(1, $1) g;
UPDATE ev_none SET amount = amount + 7, updated_at = clock_timestamp() WHERE id % 2 = 0 AND id <= $1;
UPDATE ev_soft SET amount = amount + 7, deleted = (id % 10 = 0), updated_at = clock_timestamp() WHERE id % 2 = 0 AND id <= $1;
UPDATE ev_scan SET amount = amount + 7, updated_at = clock_timestamp() WHERE id % 2 = 0 AND id <= $1;
SQL
}
run_inc # settles the tables after the sections above (changed configs reload them)
# The publish transaction waits, idle, for pieces: a server-wide idle timeout must not end it.
T -c "ALTER DATABASE postgres SET idle_in_transaction_session_timeout = '10ms'" >/dev/null
for j in 1 2; do
    bulk 40000
    : >"$work/inc.log"
    run_inc --jobs $j; expect_eq "large change set, --jobs $j: run exits 0" 0 $?
    pieces=$(python3 -c 'import json,sys; print(min(json.loads(l).get("pieces", 0) for l in open(sys.argv[1]) if "\"table_done\"" in l))' "$work/inc.log")
    check "large change set, --jobs $j: every table merged in several pieces ($pieces)" test "${pieces:-0}" -ge 3
    same_as_ref "large change set, --jobs $j: merged in pieces, equals a full refresh"
done
T -c "ALTER DATABASE postgres RESET idle_in_transaction_session_timeout" >/dev/null
expect_eq "no pieces left behind" 0 "$(T -tAc "SELECT count(*) FROM pg_class WHERE relnamespace = 'anonetl_data'::regnamespace AND relkind = 'r' AND relname NOT IN (SELECT version_table FROM anonetl.published)")"

# A merge that fails after some pieces went in: the run fails, nothing of it is visible.
version=$(T -tAc "SELECT version_table FROM anonetl.published WHERE target_schema = 'anonymised' AND table_name = 'ev_none'")
T >/dev/null <<SQL
CREATE FUNCTION public.refuse_late_rows() RETURNS trigger LANGUAGE plpgsql AS \$\$
BEGIN
  IF NEW.amount > 39000 THEN RAISE EXCEPTION 'refused by test trigger'; END IF;
  RETURN NEW;
END \$\$;
CREATE TRIGGER refuse BEFORE INSERT OR UPDATE ON anonetl_data."$version" FOR EACH ROW EXECUTE FUNCTION public.refuse_late_rows();
SQL
before=$(all_digests)
bulk 40000
: >"$work/inc.log"
run_inc --jobs 2; rc=$?
expect_eq "a merge failing midway: exit 5 (target)" 5 "$rc"
# A trigger's RAISE text may quote row values: withheld, the SQLSTATE says what it was.
grep -q "P0001" "$work/inc.log"; check "the failure names the target's error (SQLSTATE P0001, text withheld)" test $? -eq 0
expect_eq "a merge failing midway: published data unchanged" "$before" "$(all_digests)"
poll_until 30 anonetl_sessions_gone # the exited run's backends end on their own time
expect_eq "a merge failing midway: no pieces left behind" 0 "$(T -tAc "SELECT count(*) FROM pg_class WHERE relnamespace = 'anonetl_data'::regnamespace AND relkind = 'r' AND relname NOT IN (SELECT version_table FROM anonetl.published)")"
expect_eq "a merge failing midway: no anonetl connections left" 0 "$(( $(S -tAc "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'anonetl'") + $(T -tAc "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'anonetl'") ))"
T -c "DROP TRIGGER refuse ON anonetl_data.\"$version\"" >/dev/null
run_inc; expect_eq "after the failed merge the next run exits 0" 0 $?
same_as_ref "after the failed merge, published equals a full refresh"

# --- status -----------------------------------------------------------------------------
"$ANONETL" status -c "$work/inc.yaml" --json >"$work/status.json" 2>"$work/status.err"
expect_eq "status --json exits 0" 0 $?
python3 - "$work/status.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
runs = d["runs"]
assert runs and runs[0]["status"] in ("succeeded", "failed", "abandoned"), runs[:1]
assert any(t.get("high_water_mark") for r in runs for t in r.get("tables", [])), "no hwm"
assert all(len(r["key_fingerprint"]) == 16 for r in runs)
PY
check "status JSON has runs, tables, high-water marks and key fingerprints" test $? -eq 0

done_testing
