#!/usr/bin/env bash
# tests/integration/snapshot_rewrite.sh: a table truncated or rewritten after the run's
# snapshot (sourcesnap.h, source_snapshot_storage_kept), or a column or table the read
# names replaced (tablecopy.c, columns_kept). TRUNCATE and the rewriting forms
# of ALTER TABLE are not MVCC-safe: the new storage looks empty to an older snapshot. A
# session holds such a statement open on one source table, a run starts (its snapshot does
# not show the statement) and waits on that table's lock, the session commits: the run
# then read no rows of it, and published an empty table with exit 0 (a lookup table
# reloaded by TRUNCATE + INSERT; an incremental table with deletes: key_scan lost every
# published row). Now the run fails (exit 4, the table named), the published data stay as
# they were, and the next run publishes the source's rows. Each layout: a plain table
# (binary and text COPY), a column retyped (a rewrite), a partition of a partitioned table
# (--jobs 2), a view's table, an incremental table. Neighbours that must still publish: a
# lock held without a rewrite (the snapshot's rows published), a TRUNCATE committed before
# the run (the table published empty), a column added during the run.
# A migration in one transaction (a column added, filled from the old one, the old one
# dropped and the new one renamed to its name) that a read waited behind made it read the
# new column, which the snapshot's row versions hold NULL in: published all NULL, exit 0;
# a table swapped for a filled copy (created, filled, the old one dropped, the copy
# renamed) was published empty. Both fail now, naming the column.
set -u
cd "$(dirname "$0")/../.."
. tests/lib/tap.sh
. tests/lib/poll.sh
. tests/lib/pgcluster.sh

BIN=${ANONETL:-./anonetl}
pgc_pair || { echo "not ok 1 - clusters did not start"; exit 1; }
echo "# binary: $BIN"
S >/dev/null <<'SQL'
CREATE TABLE lookup (id int PRIMARY KEY, code int NOT NULL, name text NOT NULL);
INSERT INTO lookup SELECT g, g * 7, 'n' || g FROM generate_series(1, 200) g;
CREATE TABLE parted (id int NOT NULL, name text NOT NULL) PARTITION BY RANGE (id);
CREATE TABLE parted_a PARTITION OF parted FOR VALUES FROM (0) TO (1000);
CREATE TABLE parted_b PARTITION OF parted FOR VALUES FROM (1000) TO (2000);
INSERT INTO parted SELECT g, 'p' || g FROM generate_series(1, 1999, 7) g;
CREATE TABLE people (id int PRIMARY KEY, name text NOT NULL);
INSERT INTO people SELECT g, 'person' || g FROM generate_series(1, 150) g;
CREATE VIEW v_people AS SELECT id, name FROM people;
CREATE TABLE acct (id int PRIMARY KEY, amount int, name text NOT NULL);
INSERT INTO acct SELECT g, g * 10, 'a' || g FROM generate_series(1, 80) g;
CREATE TABLE members (id int PRIMARY KEY, opted_out boolean NOT NULL, name text NOT NULL);
INSERT INTO members SELECT g, g % 4 = 0, 'm' || g FROM generate_series(1, 40) g;
CREATE TABLE inc (id int PRIMARY KEY, name text NOT NULL,
                  updated_at timestamptz NOT NULL DEFAULT '2024-01-01');
INSERT INTO inc (id, name) SELECT g, 'i' || g FROM generate_series(1, 120) g;
SQL
export ANONETL_HASH_KEY=$(openssl rand -hex 32)
export SOURCE_DATABASE_URL="$(pgc_dsn "$work/src" postgres postgres)"
export TARGET_DATABASE_URL="$(pgc_dsn "$work/tgt" postgres postgres)"
cat >"$work/run.yaml" <<'YAML'
version: 1
source: { dsn: { env: SOURCE_DATABASE_URL } }
target: { dsn: { env: TARGET_DATABASE_URL }, schema: anonymised }
secrets: { hash_key: { env: ANONETL_HASH_KEY } }
tables:
  - name: public.lookup
    columns: { id: keep, code: keep, name: { hash: {} } }
  - name: public.parted
    columns: { id: keep, name: { hash: {} } }
  - name: public.acct
    columns: { id: keep, amount: keep, name: { hash: {} } }
  - name: public.members
    where: "opted_out IS NOT TRUE"
    columns: { id: keep, opted_out: suppress, name: { hash: {} } }
  - name: public.v_people
    columns: { id: keep, name: { hash: {} } }
  - name: public.inc
    mode: incremental
    key: [id]
    watermark: updated_at
    watermark_lag: 0s
    deletes: key_scan
    columns: { id: keep, name: { hash: {} }, updated_at: keep }
YAML

# count and digest of a published table; the source's count of a table
published() { T -tAc "SELECT count(*) || ' ' || coalesce(md5(string_agg(t::text, ',' ORDER BY t::text)), '-') FROM anonymised.$1 t"; }
source_count() { S -tAc "SELECT count(*) FROM $1"; }
run() { "$BIN" run -c "$work/run.yaml" --skip-preflight "$@" >"$work/run.log" 2>&1; }

run; expect_eq "first run exits 0" 0 $?
run; expect_eq "second run exits 0 (the incremental table merges)" 0 $?

# A run behind a session: the session opens a transaction and runs SQL ($1) in it, then
# the run starts (more args to anonetl); once one of the run's source sessions waits on a
# lock, the session commits. RC = the run's exit code.
anonetl_waits() {
    [ "$(S -tAc "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'anonetl'
                 AND wait_event_type = 'Lock'")" -ge 1 ]
}
run_behind() {
    local sql=$1 line=""
    shift
    coproc HOLDER { pgc_psql "$work/src" -d postgres -tA 2>&1; }
    local hpid=$HOLDER_PID hin=${HOLDER[1]} hout=${HOLDER[0]}
    printf 'BEGIN;\n%s\nSELECT %s;\n' "$sql" "'held'" >&"$hin"
    read -r -t 60 line <&"$hout"
    [ "$line" = held ] || echo "# holder said: $line"
    "$BIN" run -c "$work/run.yaml" --skip-preflight "$@" >"$work/run.log" 2>&1 &
    local rpid=$!
    poll_until 60 anonetl_waits || echo "# the run never waited on a lock"
    printf 'COMMIT;\n\\q\n' >&"$hin"
    wait "$rpid"; RC=$?
    wait "$hpid" 2>/dev/null
}
failed_naming() { grep -q "\"exit_code\":4.*$1" "$work/run.log"; }

# $1 label, $2 published table (the source's of that name), $3 what the message says, $4
# SQL of the session, more: anonetl args
case_failed() {
    local label=$1 pub=$2 says=$3 sql=$4 src=$2 before
    shift 4
    before=$(published "$pub")
    run_behind "$sql" "$@"
    expect_eq "$label: the run fails (source)" 4 "$RC"
    check "$label: the message says $says" failed_naming "$says"
    expect_eq "$label: published $pub unchanged" "$before" "$(published "$pub")"
    run "$@"; expect_eq "$label: the next run exits 0" 0 $?
    expect_eq "$label: the next run publishes every row" "${EXPECT_ROWS:-$(source_count "$src")}" \
        "$(published "$pub" | cut -d' ' -f1)"
}

reload_lookup="TRUNCATE lookup; INSERT INTO lookup SELECT g, g * 7, 'm' || g FROM generate_series(1, 210) g;"
case_rewritten() { # LABEL PUBLISHED RELATION SQL [anonetl args]: RELATION named as rewritten
    local label=$1 pub=$2 rel=$3
    shift 3
    case_failed "$label" "$pub" "$rel was truncated or rewritten" "$@"
}
case_rewritten "truncate + insert (binary)" lookup lookup "$reload_lookup"
ANONETL_TEXT_COPY=1 case_rewritten "truncate + insert (text COPY)" lookup lookup "$reload_lookup"
case_rewritten "column retyped (rewrite)" lookup lookup "ALTER TABLE lookup ALTER COLUMN code TYPE bigint;"
case_rewritten "partition truncated, --jobs 2" parted parted_b \
    "TRUNCATE parted_b; INSERT INTO parted SELECT g, 'q' || g FROM generate_series(1000, 1999, 5) g;" --jobs 2
case_rewritten "a view's table truncated" v_people people \
    "TRUNCATE people; INSERT INTO people SELECT g, 'other' || g FROM generate_series(1, 160) g;"
case_rewritten "incremental, deletes: key_scan" inc inc \
    "TRUNCATE inc; INSERT INTO inc (id, name) SELECT g, 'i' || g FROM generate_series(1, 125) g;"

replaced="column amount of public.acct is not the one the run's snapshot shows"
swap_amount="ALTER TABLE acct ADD COLUMN amount_new bigint; UPDATE acct SET amount_new = amount;
ALTER TABLE acct DROP COLUMN amount; ALTER TABLE acct RENAME amount_new TO amount;"
case_failed "column replaced by a migration (binary)" acct "$replaced" "$swap_amount"
ANONETL_TEXT_COPY=1 case_failed "column replaced by a migration (text COPY)" acct "$replaced" \
    "ALTER TABLE acct ADD COLUMN amount_new int; UPDATE acct SET amount_new = amount;
     ALTER TABLE acct DROP COLUMN amount; ALTER TABLE acct RENAME amount_new TO amount;"
# a column only the where: reads: replaced, it read NULL, and NULL IS NOT TRUE let the
# opted-out members through (10 of 40 rows that the filter keeps out): published 40
# rows with the old main, 30 before and after
EXPECT_ROWS=30 case_failed "the where: column replaced by a migration" members \
    "column opted_out of public.members is not the one the run's snapshot shows" \
    "ALTER TABLE members ADD COLUMN o2 boolean; UPDATE members SET o2 = opted_out;
     ALTER TABLE members DROP COLUMN opted_out; ALTER TABLE members RENAME o2 TO opted_out;"
case_failed "table swapped for a filled copy" lookup "column id of public.lookup is not the one" \
    "CREATE TABLE lookup_new (LIKE lookup INCLUDING ALL); INSERT INTO lookup_new SELECT * FROM lookup;
     DROP TABLE lookup; ALTER TABLE lookup_new RENAME TO lookup;"

# --- neighbours that must still publish ------------------------------------------------
# A lock without new storage: the run waits, then publishes what its snapshot shows
# (the 200 rows, not the 5 the session adds).
before=$(source_count lookup)
run_behind "LOCK TABLE lookup IN ACCESS EXCLUSIVE MODE; INSERT INTO lookup SELECT g, 0, 'x' FROM generate_series(10001, 10005) g;"
expect_eq "lock without a rewrite: the run exits 0" 0 "$RC"
expect_eq "lock without a rewrite: the snapshot's rows published" "$before" "$(published lookup | cut -d' ' -f1)"
# A column added (no rewrite): the columns the rules name are where they were.
before=$(published acct)
run_behind "ALTER TABLE acct ADD COLUMN extra int; UPDATE acct SET extra = 1 WHERE id < 5;"
expect_eq "column added during the run: exits 0" 0 "$RC"
expect_eq "column added during the run: the snapshot's rows published" "$before" "$(published acct)"
S -c "ALTER TABLE acct DROP COLUMN extra" >/dev/null # no rule names it: the next run would refuse
# A TRUNCATE the snapshot shows: an empty table is what the source has.
S -c "TRUNCATE people" >/dev/null
run; expect_eq "truncate committed before the run: exits 0" 0 $?
expect_eq "truncate committed before the run: the view published empty" "0 -" "$(published v_people)"
done_testing
