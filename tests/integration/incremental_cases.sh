#!/usr/bin/env bash
# tests/integration/incremental_cases.sh: incremental runs against what the world does to
# a source between runs (issues 10.3 and 11): rows leaving the `where:` filter, column
# types changing, keys colliding after their rule or repeated in the source, readers
# holding snapshots across a publish. Every incremental result is compared with a fresh
# full refresh (mode: full, same rules and key) of the same source state into schema
# `ref`: count + md5 of the rows in key order.
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

# config NAME SCHEMA MODE TABLE-YAML...: a one-table config; with MODE full the
# incremental settings are left out (the reference of the same rules and key).
config() {
    local name=$1 schema=$2 mode=$3
    shift 3
    {
        cat <<YAML
version: 1
source: { dsn: { env: SOURCE_DATABASE_URL } }
target: { dsn: { env: TARGET_DATABASE_URL }, schema: $schema }
secrets: { hash_key: { env: ANONETL_HASH_KEY } }
run: { jobs: ${JOBS:-1} }
tables:
YAML
        printf '%s\n' "$@"
    } >"$work/$name.yaml"
    if [ "$mode" = full ]; then
        sed -i -e 's/mode: incremental/mode: full/' -e '/watermark/d' -e '/deletes:/d' \
            -e '/deleted_column/d' "$work/$name.yaml"
    fi
}
run() { # NAME [args]: exit code of the run; its log in $work/NAME.log
    local name=$1
    shift
    "$ANONETL" run -c "$work/$name.yaml" --skip-preflight "$@" >"$work/$name.log" 2>&1
}
digest() { # SCHEMA.TABLE [key column]
    T -tAc "SELECT count(*) || ':' || coalesce(md5(string_agg(t::text, '|' ORDER BY t.${2:-id})), '') FROM $1 t"
}
same_as_full() { # NAME TABLE TEST [KEY]: the incremental schema NAME vs a full refresh into ref_NAME
    run "ref_$1" || { not_ok "$3" "reference run failed: $(tail -2 "$work/ref_$1.log")"; return; }
    local want got
    want=$(digest "ref_$1.$2" "${4:-id}") && got=$(digest "$1.$2" "${4:-id}") ||
        { not_ok "$3" "cannot read $1.$2 or ref_$1.$2"; return; }
    expect_eq "$3" "$want" "$got"
}
logged() { grep -q "$2" "$work/$1.log"; }

# --- 11.5: a source column changes type between incremental runs ------------------------
S >/dev/null <<'SQL'
CREATE TABLE typed (id bigint PRIMARY KEY, amount int, code varchar(5), updated_at timestamptz NOT NULL DEFAULT clock_timestamp(),
                    price numeric(10,1), note text, tag text NOT NULL DEFAULT 't');
INSERT INTO typed (id, amount, code, price, note) SELECT g, g, 'c' || g, g + 0.5, 'n' || g FROM generate_series(1, 20) g;
SQL
typed='  - name: public.typed
    mode: incremental
    key: [id]
    watermark: updated_at
    watermark_lag: 0s
    columns: { id: keep, amount: keep, code: keep, updated_at: keep, price: { hash: {} }, note: keep, tag: keep }'
config typed typed incremental "$typed"
config ref_typed ref_typed full "$typed"
run typed; expect_eq "types: first run exits 0" 0 $?
S -c "ALTER TABLE typed ALTER amount TYPE numeric(10,2); UPDATE typed SET amount = 1.75, updated_at = clock_timestamp() WHERE id = 1" >/dev/null
run typed; expect_eq "int -> numeric(10,2): run exits 0" 0 $?
logged typed '"event":"full_reload".*column amount changed type (published as integer, now numeric(10,2))'
check "int -> numeric(10,2): reloaded, the log says which column and why" test $? -eq 0
expect_eq "int -> numeric(10,2): 1.75 published as 1.75" "1.75" "$(T -tAc "SELECT amount FROM typed.typed WHERE id = 1")"
same_as_full typed typed "int -> numeric(10,2): equals a full refresh"
S -c "ALTER TABLE typed ALTER code TYPE text; UPDATE typed SET code = 'a longer code', updated_at = clock_timestamp() WHERE id = 2" >/dev/null
run typed; expect_eq "varchar(5) -> text: run exits 0" 0 $?
logged typed 'column code changed type (published as character varying(5), now text)'
check "varchar(5) -> text: reloaded with the reason" test $? -eq 0
same_as_full typed typed "varchar(5) -> text: equals a full refresh"
S -c "UPDATE typed SET amount = 2.5, updated_at = clock_timestamp() WHERE id = 3" >/dev/null
run typed; expect_eq "unchanged types: run exits 0" 0 $?
logged typed '"event":"incremental"'
check "unchanged types: the next run merges again" test $? -eq 0
same_as_full typed typed "after the reloads, merges equal a full refresh"
# Changes the published column types do not show: the hash of a numeric(10,1) and of a
# numeric(10,3) are both text, but of "1.5" and of "1.500"; a column dropped and added
# again has new values (NULL) in rows whose watermark did not move; a column that may be
# NULL now would not fit the published NOT NULL.
S -c "ALTER TABLE typed ALTER price TYPE numeric(10,3); UPDATE typed SET updated_at = clock_timestamp() WHERE id = 1" >/dev/null
run typed; expect_eq "11.5: numeric(10,1) -> numeric(10,3) under hash: exit 0" 0 $?
logged typed '"event":"full_reload".*column price changed type in the source (was numeric(10,1), now numeric(10,3))'
check "11.5: a retyped column under a rule whose output type stays: reloaded, said why" test $? -eq 0
same_as_full typed typed "11.5: ... every row hashed from the new type, as a full refresh"
S -c "ALTER TABLE typed DROP COLUMN note; ALTER TABLE typed ADD COLUMN note text; UPDATE typed SET updated_at = clock_timestamp() WHERE id = 1" >/dev/null
run typed; expect_eq "11.5: a column dropped and added again: exit 0" 0 $?
logged typed 'column note was dropped and added again in the source'
check "11.5: a column dropped and added again: reloaded, said why" test $? -eq 0
same_as_full typed typed "11.5: ... no old value of the dropped column stays published"
S -c "ALTER TABLE typed ALTER tag DROP NOT NULL; UPDATE typed SET tag = NULL, updated_at = clock_timestamp() WHERE id = 2" >/dev/null
run typed; expect_eq "11.5: NOT NULL dropped in the source, a NULL written: exit 0" 0 $?
logged typed 'column tag can be NULL now (published NOT NULL)'
check "11.5: NOT NULL dropped: reloaded, said why" test $? -eq 0
same_as_full typed typed "11.5: ... the NULL published"
T -c "UPDATE anonetl.published SET source_layout = NULL WHERE target_schema = 'typed'" >/dev/null
S -c "UPDATE typed SET updated_at = clock_timestamp() WHERE id = 3" >/dev/null
run typed; expect_eq "a version published before the source layout was recorded: exit 0" 0 $?
logged typed 'full reload: the published version does not record the source.s column types'
check "... reloaded once, said why" test $? -eq 0

# For each TABLE (id, name, updated_at): an incremental config PREFIX_TABLE and its full
# refresh reference ref_PREFIX_TABLE, then the first run ("LABEL: TABLE: first run exits 0").
first_incremental() { # PREFIX LABEL TABLE...
    local prefix=$1 label=$2 t yaml
    shift 2
    for t in "$@"; do
        yaml="  - name: public.$t
    mode: incremental
    key: [id]
    watermark: updated_at
    watermark_lag: 0s
    columns: { id: keep, name: { keep: { reviewed: made-up test values } }, updated_at: keep }"
        config "${prefix}_$t" "${prefix}_$t" incremental "$yaml"
        config "ref_${prefix}_$t" "ref_${prefix}_$t" full "$yaml"
        run "${prefix}_$t"; expect_eq "$label: $t: first run exits 0" 0 $?
    done
}

# --- a source rewritten without its watermark moving ------------------------------------
# ALTER TABLE ... TYPE ... USING changes every value and no updated_at: the published
# version records the relfilenode of each source relation (anonetl.published
# source_storage), and a run that finds one changed reloads the table. VACUUM FULL and
# CLUSTER give a new relfilenode too (same values): a reload, the same result.
S >/dev/null <<'SQL'
CREATE TABLE rewritten (id bigint PRIMARY KEY, name text NOT NULL, updated_at timestamptz NOT NULL DEFAULT clock_timestamp());
INSERT INTO rewritten (id, name) SELECT g, 'name ' || g FROM generate_series(1, 50) g;
CREATE TABLE parted (id bigint NOT NULL, name text NOT NULL, updated_at timestamptz NOT NULL DEFAULT clock_timestamp(),
                     PRIMARY KEY (id)) PARTITION BY RANGE (id);
CREATE TABLE parted_1 PARTITION OF parted FOR VALUES FROM (1) TO (100);
CREATE TABLE parted_2 PARTITION OF parted FOR VALUES FROM (100) TO (200);
INSERT INTO parted (id, name) SELECT g, 'name ' || g FROM generate_series(1, 199) g;
SQL
first_incremental rw rewrite rewritten parted
S -c "ALTER TABLE rewritten ALTER name TYPE text USING upper(name)" >/dev/null
run rw_rewritten; expect_eq "rewrite: ALTER TYPE text USING upper(): run exits 0" 0 $?
logged rw_rewritten '"event":"full_reload".*the source table public.rewritten was rewritten (ALTER TABLE ... TYPE, VACUUM FULL, CLUSTER, TRUNCATE): values may have changed without the watermark'
check "rewrite: ALTER TYPE same type USING upper(): reloaded, the log says why" test $? -eq 0
same_as_full rw_rewritten rewritten "rewrite: ALTER TYPE same type USING upper(): equals a full refresh"
expect_eq "rewrite: the new values are published" "NAME 7" "$(T -tAc "SELECT name FROM rw_rewritten.rewritten WHERE id = 7")"
S -c "UPDATE rewritten SET name = 'changed', updated_at = clock_timestamp() WHERE id = 3" >/dev/null
run rw_rewritten; expect_eq "rewrite: next run exits 0" 0 $?
logged rw_rewritten '"event":"incremental"'
check "rewrite: the run after the reload merges again" test $? -eq 0
same_as_full rw_rewritten rewritten "rewrite: ... and equals a full refresh"
S -c "VACUUM FULL rewritten" >/dev/null
run rw_rewritten; expect_eq "rewrite: VACUUM FULL: run exits 0" 0 $?
logged rw_rewritten '"event":"full_reload".*public.rewritten was rewritten'
check "rewrite: VACUUM FULL: reloaded" test $? -eq 0
same_as_full rw_rewritten rewritten "rewrite: VACUUM FULL: equals a full refresh"
# partitions: each one's storage is recorded; a new partition is not a rewrite
S -c "CREATE TABLE parted_3 PARTITION OF parted FOR VALUES FROM (200) TO (300)" \
  -c "INSERT INTO parted (id, name) SELECT g, 'name ' || g FROM generate_series(200, 210) g" >/dev/null
run rw_parted; expect_eq "rewrite: partitioned: a new partition: run exits 0" 0 $?
logged rw_parted '"event":"incremental"'
check "rewrite: partitioned: a new partition is merged, not reloaded" test $? -eq 0
same_as_full rw_parted parted "rewrite: partitioned: a new partition: equals a full refresh"
S -c "ALTER TABLE parted ALTER name TYPE text USING upper(name)" >/dev/null
run rw_parted; expect_eq "rewrite: partitioned: ALTER TYPE USING upper(): run exits 0" 0 $?
logged rw_parted '"event":"full_reload".*the source table public.parted_1 was rewritten'
check "rewrite: partitioned: ALTER TYPE USING upper(): reloaded, naming a partition" test $? -eq 0
same_as_full rw_parted parted "rewrite: partitioned: ALTER TYPE USING upper(): equals a full refresh"
S -c "CLUSTER parted_2 USING parted_2_pkey" >/dev/null
run rw_parted; expect_eq "rewrite: partitioned: CLUSTER of one partition: run exits 0" 0 $?
logged rw_parted '"event":"full_reload".*the source table public.parted_2 was rewritten'
check "rewrite: partitioned: CLUSTER of one partition: reloaded, naming it" test $? -eq 0
same_as_full rw_parted parted "rewrite: partitioned: CLUSTER of one partition: equals a full refresh"
# a version published before the storage was recorded: merged as before, then recorded
T -c "UPDATE anonetl.published SET source_storage = NULL WHERE target_schema = 'rw_rewritten'" >/dev/null
S -c "UPDATE rewritten SET name = 'again', updated_at = clock_timestamp() WHERE id = 4" >/dev/null
run rw_rewritten; expect_eq "rewrite: a version without a recorded storage: run exits 0" 0 $?
logged rw_rewritten '"event":"incremental"'
check "rewrite: a version without a recorded storage is merged" test $? -eq 0
expect_eq "rewrite: ... and records it" 1 \
    "$(T -tAc "SELECT count(*) FROM anonetl.published WHERE target_schema = 'rw_rewritten' AND source_storage IS NOT NULL")"
same_as_full rw_rewritten rewritten "rewrite: a version without a recorded storage: equals a full refresh"

# --- a relation new in the source with rows below the last run's mark --------------------
# ATTACH PARTITION of a filled table (or INHERIT) brings rows whose watermarks are at or
# below the previous mark: no window reads them. A relation not in the recorded storage is
# checked in the run's snapshot; old rows reload the table, a partition created empty and
# filled since is merged. A stored record with an entry that cannot be read reloads.
S >/dev/null <<'SQL'
CREATE TABLE attached (id bigint NOT NULL, name text NOT NULL, updated_at timestamptz NOT NULL DEFAULT clock_timestamp(),
                       PRIMARY KEY (id)) PARTITION BY RANGE (id);
CREATE TABLE attached_1 PARTITION OF attached FOR VALUES FROM (1) TO (100);
INSERT INTO attached (id, name) SELECT g, 'name ' || g FROM generate_series(1, 99) g;
CREATE TABLE inherited (id bigint PRIMARY KEY, name text NOT NULL, updated_at timestamptz NOT NULL DEFAULT clock_timestamp());
INSERT INTO inherited (id, name) SELECT g, 'name ' || g FROM generate_series(1, 20) g;
SQL
first_incremental at attach attached inherited
S >/dev/null <<'SQL'
CREATE TABLE attached_2 (id bigint NOT NULL, name text NOT NULL, updated_at timestamptz NOT NULL DEFAULT clock_timestamp(), PRIMARY KEY (id));
INSERT INTO attached_2 (id, name, updated_at) SELECT g, 'old ' || g, now() - interval '1 day' FROM generate_series(100, 149) g;
ALTER TABLE attached ATTACH PARTITION attached_2 FOR VALUES FROM (100) TO (200);
SQL
run at_attached; expect_eq "attach: ATTACH PARTITION of a table with old watermarks: run exits 0" 0 $?
logged at_attached '"event":"full_reload".*partition public.attached_2 was attached with rows older than the last run.s mark'
check "attach: ATTACH PARTITION with old rows: reloaded, said why" test $? -eq 0
expect_eq "attach: ... its rows are published" 50 "$(T -tAc "SELECT count(*) FROM at_attached.attached WHERE id BETWEEN 100 AND 149")"
same_as_full at_attached attached "attach: ATTACH PARTITION with old rows: equals a full refresh"
S -c "CREATE TABLE attached_3 PARTITION OF attached FOR VALUES FROM (200) TO (300)" \
  -c "INSERT INTO attached (id, name) SELECT g, 'new ' || g FROM generate_series(200, 220) g" >/dev/null
run at_attached; expect_eq "attach: a partition created empty, filled after the last run: run exits 0" 0 $?
logged at_attached '"event":"incremental"' && ! logged at_attached '"event":"full_reload"'
check "attach: a partition created empty and filled since is merged, not reloaded" test $? -eq 0
same_as_full at_attached attached "attach: a partition created empty and filled since: equals a full refresh"
S >/dev/null <<'SQL'
CREATE TABLE inherited_old (id bigint PRIMARY KEY, name text NOT NULL, updated_at timestamptz NOT NULL DEFAULT clock_timestamp());
INSERT INTO inherited_old (id, name, updated_at) SELECT g, 'old ' || g, now() - interval '1 day' FROM generate_series(100, 109) g;
ALTER TABLE inherited_old INHERIT inherited;
SQL
run at_inherited; expect_eq "attach: INHERIT of a table with old watermarks: run exits 0" 0 $?
logged at_inherited '"event":"full_reload".*inheritance child public.inherited_old was attached with rows older than the last run.s mark'
check "attach: INHERIT with old rows: reloaded, said why" test $? -eq 0
same_as_full at_inherited inherited "attach: INHERIT with old rows: equals a full refresh"
# a stored record whose first entry's oid is not a number: reload rather than skip it
T -c "UPDATE anonetl.published SET source_storage = regexp_replace(source_storage, '^\[\[[0-9]+', '[[\"x\"') WHERE target_schema = 'at_attached'" >/dev/null
S -c "UPDATE attached SET name = 'changed', updated_at = clock_timestamp() WHERE id = 5" >/dev/null
run at_attached; expect_eq "attach: a corrupted entry of the stored storage record: run exits 0" 0 $?
logged at_attached '"event":"full_reload".*the source.s storage recorded with the published version is unreadable'
check "attach: a corrupted entry of the stored storage record: reloaded, said why" test $? -eq 0
same_as_full at_attached attached "attach: a corrupted stored entry: equals a full refresh"
# a role granted the parent only reads a new partition through it, not alone: the run
# cannot look for old rows in it, so it reloads (once: the new partition is then recorded)
S -c "CREATE ROLE attach_reader LOGIN" -c "GRANT USAGE ON SCHEMA public TO attach_reader" \
  -c "GRANT SELECT ON attached TO attach_reader" \
  -c "CREATE TABLE attached_4 PARTITION OF attached FOR VALUES FROM (300) TO (400)" \
  -c "INSERT INTO attached (id, name) SELECT g, 'late ' || g FROM generate_series(300, 305) g" >/dev/null
attach_dsn=$(pgc_dsn "$work/src" postgres attach_reader)
SOURCE_DATABASE_URL=$attach_dsn run at_attached
expect_eq "attach: a new partition the source role may not read alone: run exits 0" 0 $?
logged at_attached '"event":"full_reload".*partition public.attached_4 is new in the source, and the source role cannot read it alone'
check "attach: ... reloaded, said why (it failed every run before)" test $? -eq 0
same_as_full at_attached attached "attach: a new partition the role may not read alone: equals a full refresh"
S -c "UPDATE attached SET name = 'again', updated_at = clock_timestamp() WHERE id = 301" >/dev/null
SOURCE_DATABASE_URL=$attach_dsn run at_attached
logged at_attached '"event":"incremental"' && ! logged at_attached '"event":"full_reload"'
check "attach: the next run merges (the partition is recorded)" test $? -eq 0

# --- an integer watermark's sequence starts again -----------------------------------------
# TRUNCATE ... RESTART IDENTITY, ALTER SEQUENCE ... RESTART (an identity's: ALTER TABLE ...
# ALTER ... RESTART) hand out ids at or below the last run's mark again: no window would
# read those rows (and with `deletes: none` the old rows' values stay under their ids). The
# published version records the sequence's relfilenode with the table's: a reset one
# reloads, and the reload's bound starts afresh (kept at the old mark, the ids between
# the new rows and it were skipped for good). A setval() back keeps the relfilenode: a run
# reads the sequence (when the source role may: SELECT on it) and reloads when its next id
# is at or below the mark; a role that may not see it: --full-refresh starts afresh too.
S >/dev/null <<'SQL'
CREATE TABLE seq_trunc (id bigserial PRIMARY KEY, v int NOT NULL);
CREATE TABLE seq_restart (id bigserial PRIMARY KEY, v int NOT NULL);
CREATE TABLE seq_ident (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, v int NOT NULL);
CREATE TABLE seq_setval (id bigserial PRIMARY KEY, v int NOT NULL);
CREATE TABLE seq_blind (id bigserial PRIMARY KEY, v int NOT NULL);
CREATE ROLE seqblind LOGIN;
GRANT SELECT ON seq_blind TO seqblind;
SQL
for t in seq_trunc seq_restart seq_ident seq_setval seq_blind; do
    yaml="  - { name: public.$t, mode: incremental, key: [id], watermark: id, columns: { id: keep, v: keep } }"
    config "$t" "$t" incremental "$yaml"
    config "ref_$t" "ref_$t" full "$(echo "$yaml" | sed -e 's/, watermark: id//')"
    S -c "INSERT INTO $t (v) SELECT g FROM generate_series(1, 10) g" >/dev/null
    [ $t = seq_blind ] && sed -i -e 's/SOURCE_DATABASE_URL/BLIND_DATABASE_URL/' "$work/$t.yaml"
    BLIND_DATABASE_URL="$(pgc_dsn "$work/src" postgres seqblind)" run "$t"
    expect_eq "sequence: $t: first run exits 0" 0 $?
done
S >/dev/null <<'SQL'
TRUNCATE seq_trunc RESTART IDENTITY;
DELETE FROM seq_restart WHERE id > 3;
ALTER SEQUENCE seq_restart_id_seq RESTART WITH 4;
DELETE FROM seq_ident WHERE id > 3;
ALTER TABLE seq_ident ALTER id RESTART WITH 4;
SQL
for t in seq_trunc seq_restart seq_ident; do
    S -c "INSERT INTO $t (v) SELECT -g FROM generate_series(1, 3) g" >/dev/null
    run "$t"; expect_eq "sequence: $t: the run after the reset exits 0" 0 $?
    logged "$t" '"event":"full_reload".*the sequence public.'"$t"'_id_seq of the watermark was reset'
    check "sequence: $t: ... reloads, naming the sequence" test $? -eq 0
    same_as_full "$t" "$t" "sequence: $t: ... equals a full refresh"
    S -c "INSERT INTO $t (v) SELECT -g FROM generate_series(4, 6) g" >/dev/null
    run "$t"; expect_eq "sequence: $t: the next run exits 0" 0 $?
    logged "$t" '"event":"incremental"'; check "sequence: $t: ... merges" test $? -eq 0
    same_as_full "$t" "$t" "sequence: $t: ... equals a full refresh (ids below the old mark read)"
done
S -c "DELETE FROM seq_setval WHERE id > 3; SELECT setval('seq_setval_id_seq', 3); INSERT INTO seq_setval (v) VALUES (-4)" >/dev/null
run seq_setval; expect_eq "sequence: setval back: the run exits 0" 0 $?
logged seq_setval '"event":"full_reload".*the sequence public.seq_setval_id_seq of the watermark hands out ids at or below the last run.s mark (10) again'
check "sequence: setval back: ... reloads, saying why" test $? -eq 0
S -c "DELETE FROM seq_setval WHERE id = 4; SELECT setval('seq_setval_id_seq', 4, false)" >/dev/null
run seq_setval; expect_eq "sequence: setval back (is_called false): the run exits 0" 0 $?
logged seq_setval '"event":"full_reload".*hands out ids at or below the last run.s mark (4) again'
check "sequence: setval back (is_called false): ... reloads, saying why" test $? -eq 0
S -c "INSERT INTO seq_setval (v) SELECT -g FROM generate_series(1, 3) g" >/dev/null
run seq_setval; expect_eq "sequence: seq_setval: the next run exits 0" 0 $?
same_as_full seq_setval seq_setval "sequence: seq_setval: ... equals a full refresh (the reload's bound started afresh)"
export BLIND_DATABASE_URL="$(pgc_dsn "$work/src" postgres seqblind)"
S -c "DELETE FROM seq_blind WHERE id > 3; SELECT setval('seq_blind_id_seq', 3); INSERT INTO seq_blind (v) VALUES (-4)" >/dev/null
run seq_blind; expect_eq "sequence: setval back, a role without SELECT on the sequence: exits 0" 0 $?
logged seq_blind '"event":"incremental"'; check "sequence: ... cannot see it: merges" test $? -eq 0
run seq_blind --full-refresh; expect_eq "sequence: ... then --full-refresh: exits 0" 0 $?
S -c "INSERT INTO seq_blind (v) SELECT -g FROM generate_series(5, 7) g" >/dev/null
run seq_blind; expect_eq "sequence: seq_blind: the next run exits 0" 0 $?
same_as_full seq_blind seq_blind "sequence: seq_blind: ... equals a full refresh (--full-refresh started the bound afresh)"
# a version recorded before sequences were: merged, and the sequence recorded
T -c "UPDATE anonetl.published SET source_storage = (SELECT json_agg(e)::text FROM json_array_elements(source_storage::json) e WHERE json_array_length(e) = 3) WHERE target_schema = 'seq_trunc'" >/dev/null
S -c "INSERT INTO seq_trunc (v) VALUES (-7)" >/dev/null
run seq_trunc; expect_eq "sequence: a version recorded without its sequence: exits 0" 0 $?
logged seq_trunc '"event":"incremental"'; check "sequence: ... merges" test $? -eq 0
expect_eq "sequence: ... and records the sequence" 1 \
    "$(T -tAc "SELECT count(*) FROM anonetl.published p, json_array_elements(p.source_storage::json) e WHERE p.target_schema = 'seq_trunc' AND e->>3 = 'sequence'")"

# A table dropped and created again under its name (a migration tool's swap), or a new
# sequence filling the watermark: the relation has a new oid. Seen empty by a run, such a
# table merged nothing and kept the mark: the new sequence's ids then came in below it and
# were never read (the old rows' values stayed under those ids), with a role that cannot
# read the sequence (seqblind); with deletes: none the old table's rows stayed beside the
# new one's. Now a reload, naming the relation.
S >/dev/null <<'SQL'
CREATE TABLE rec_int (id bigserial PRIMARY KEY, v int NOT NULL);
CREATE TABLE rec_seq (id bigserial PRIMARY KEY, v int NOT NULL);
CREATE TABLE rec_ts (id int PRIMARY KEY, v int NOT NULL, updated_at timestamptz NOT NULL DEFAULT clock_timestamp());
INSERT INTO rec_int (v) SELECT g FROM generate_series(1, 10) g;
INSERT INTO rec_seq (v) SELECT g FROM generate_series(1, 10) g;
INSERT INTO rec_ts (id, v) SELECT g, g FROM generate_series(1, 10) g;
GRANT SELECT ON rec_int, rec_seq, rec_ts TO seqblind;
SQL
for t in rec_int rec_seq rec_ts; do
    yaml="  - { name: public.$t, mode: incremental, key: [id], watermark: id, columns: { id: keep, v: keep } }"
    [ $t = rec_ts ] && yaml="  - { name: public.$t, mode: incremental, key: [id], watermark: updated_at, watermark_lag: 0s, columns: { id: keep, v: keep, updated_at: keep } }"
    config "$t" "$t" incremental "$yaml"
    config "ref_$t" "ref_$t" full "$(echo "$yaml" | sed -e 's/, watermark: [a-z_]*//' -e 's/, watermark_lag: 0s//')"
    sed -i -e 's/SOURCE_DATABASE_URL/BLIND_DATABASE_URL/' "$work/$t.yaml"
    run "$t"; expect_eq "recreated: $t: first run exits 0" 0 $?
done
S >/dev/null <<'SQL'
DROP TABLE rec_int;
CREATE TABLE rec_int (id bigserial PRIMARY KEY, v int NOT NULL);
CREATE SEQUENCE rec_seq_new START 4;
ALTER TABLE rec_seq ALTER id SET DEFAULT nextval('rec_seq_new');
ALTER SEQUENCE rec_seq_new OWNED BY rec_seq.id;
DROP SEQUENCE rec_seq_id_seq;
DELETE FROM rec_seq WHERE id > 3;
ALTER TABLE rec_ts RENAME TO rec_ts_old;
CREATE TABLE rec_ts (id int PRIMARY KEY, v int NOT NULL, updated_at timestamptz NOT NULL DEFAULT clock_timestamp());
INSERT INTO rec_ts (id, v) SELECT g, -g FROM generate_series(1, 5) g;
GRANT SELECT ON rec_int, rec_ts TO seqblind;
SQL
for t in rec_int rec_seq rec_ts; do
    run "$t"; expect_eq "recreated: $t: the run after exits 0" 0 $?
done
logged rec_int '"event":"full_reload".*public.rec_int[a-z_]* was dropped and created again'
check "recreated: a table dropped and created again (seen empty): reloads, naming it" test $? -eq 0
logged rec_seq '"event":"full_reload".*the sequence public.rec_seq_new is new to the watermark'
check "recreated: another sequence fills the watermark: reloads, naming it" test $? -eq 0
logged rec_ts '"event":"full_reload".*the source table public.rec_ts was dropped and created again'
check "recreated: a table renamed away and another created in its place: reloads, naming it" test $? -eq 0
same_as_full rec_ts rec_ts "recreated: rec_ts: ... equals a full refresh (deletes: none kept no row of the old table)"
S -c "INSERT INTO rec_int (v) SELECT -g FROM generate_series(1, 3) g; INSERT INTO rec_seq (v) SELECT -g FROM generate_series(1, 3) g" >/dev/null
for t in rec_int rec_seq; do
    run "$t"; expect_eq "recreated: $t: the next run exits 0" 0 $?
    same_as_full "$t" "$t" "recreated: $t: ... equals a full refresh (the new ids below the old mark read)"
done
run rec_ts; expect_eq "recreated: rec_ts: the next run exits 0" 0 $?
logged rec_ts '"event":"incremental"'; check "recreated: rec_ts: ... merges again" test $? -eq 0

# --- watermark types that cannot be one: refused by check, before any run ----------------
# An array of timestamps was taken for a timestamp (its type's name starts so): check said
# ok, and every run failed (exit 4, "cannot cast type timestamp with time zone to
# timestamp with time zone[]"). Neighbours refused already: uuid, text, numeric, date[].
S >/dev/null <<'SQL'
CREATE TABLE wm_types (id int PRIMARY KEY, a_tstz timestamptz[] NOT NULL DEFAULT '{}', a_ts timestamp(3)[] NOT NULL DEFAULT '{}',
                       a_date date[] NOT NULL DEFAULT '{}', u uuid NOT NULL DEFAULT gen_random_uuid(), t text NOT NULL DEFAULT '',
                       n numeric NOT NULL DEFAULT 0);
SQL
for col in 'a_tstz:timestamp with time zone[]' 'a_ts:timestamp(3) without time zone[]' 'a_date:date[]' u:uuid t:text n:numeric; do
    c=${col%%:*} type=${col#*:}
    config "wm_$c" wm_types incremental "  - { name: public.wm_types, mode: incremental, key: [id], watermark: $c, columns: { id: keep, a_tstz: keep, a_ts: keep, a_date: keep, u: keep, t: keep, n: keep } }"
    "$ANONETL" check -c "$work/wm_$c.yaml" --source >"$work/wm_$c.out" 2>&1
    expect_eq "watermark types: $c ($type): check exits 2" 2 $?
    grep -qF "watermark \"$c\" must be a date, timestamp or integer column of the source, not $type" "$work/wm_$c.out"
    check "watermark types: $c: ... saying why, naming its type" test $? -eq 0
done

# --- an enum label renamed in the source (ALTER TYPE ... RENAME VALUE) ----------------------
# Every row holding the label publishes the new one in a full refresh, and no watermark
# moves: merged, the published table mixed the old label (rows unchanged since) and the new
# one. The published version records each enum column's labels: one gone reloads. A label
# added (ADD VALUE) changes no published value: merged. An enum's domain and arrays too.
S >/dev/null <<'SQL'
CREATE TYPE ord_state AS ENUM ('new', 'canceled', 'done');
CREATE TYPE ord_kind AS ENUM ('a', 'b');
CREATE DOMAIN ord_kind_d AS ord_kind;
CREATE TABLE ord (id int PRIMARY KEY, s ord_state NOT NULL, k ord_kind_d NOT NULL, ks ord_kind[] NOT NULL,
                  updated_at timestamptz NOT NULL DEFAULT clock_timestamp());
INSERT INTO ord (id, s, k, ks) SELECT g, (ARRAY['new', 'canceled', 'done'])[g % 3 + 1]::ord_state, 'a', '{a,b}' FROM generate_series(1, 30) g;
SQL
ord='  - { name: public.ord, mode: incremental, key: [id], watermark: updated_at, watermark_lag: 0s, columns: { id: keep, s: keep, k: keep, ks: keep, updated_at: keep } }'
config ord ord incremental "$ord"
config ref_ord ref_ord full "$(echo "$ord" | sed -e 's/, watermark: updated_at, watermark_lag: 0s//')"
run ord; expect_eq "enum: first run exits 0" 0 $?
S -c "ALTER TYPE ord_state ADD VALUE 'shipped' BEFORE 'done'" >/dev/null
S -c "UPDATE ord SET s = 'shipped', updated_at = clock_timestamp() WHERE id = 2" >/dev/null
run ord; expect_eq "enum: a label added: exit 0" 0 $?
logged ord '"event":"incremental"'; check "enum: a label added: merged (no published value changes)" test $? -eq 0
same_as_full ord ord "enum: a label added: equals a full refresh"
S -c "ALTER TYPE ord_state RENAME VALUE 'canceled' TO 'cancelled'" >/dev/null
run ord; expect_eq "enum: a label renamed: exit 0" 0 $?
logged ord "\"event\":\"full_reload\".*a label of column s's enum public.ord_state was renamed in the source"
check "enum: a label renamed: reloads, naming the column" test $? -eq 0
same_as_full ord ord "enum: a label renamed: equals a full refresh (no row keeps the old label)"
for step in "ALTER TYPE ord_kind RENAME VALUE 'a' TO 'x'"; do
    S -c "$step" >/dev/null
    run ord; expect_eq "enum: $step (a domain over it, an array of it): exit 0" 0 $?
    logged ord '"event":"full_reload".*a label of column k.s enum'
    check "enum: ... reloads, naming the domain's column" test $? -eq 0
    same_as_full ord ord "enum: ... equals a full refresh"
done
# a version recorded before labels were: merged, and the labels recorded
T -c "UPDATE anonetl.published SET source_layout = (SELECT json_agg(json_build_array(e->0, e->1, e->2))::text FROM json_array_elements(source_layout::json) e) WHERE target_schema = 'ord'" >/dev/null
S -c "UPDATE ord SET s = 'done', updated_at = clock_timestamp() WHERE id = 3" >/dev/null
run ord; expect_eq "enum: a version recorded without labels: exit 0" 0 $?
logged ord '"event":"incremental"'; check "enum: ... merges" test $? -eq 0
expect_eq "enum: ... and records the labels" '["new","cancelled","shipped","done"]' \
    "$(T -tAc "SELECT e->3 FROM anonetl.published p, json_array_elements(p.source_layout::json) e WHERE p.target_schema = 'ord' AND e->>0 = 's'")"

# an enum inside a composite column (published as its text): the composite's enum labels
S >/dev/null <<'SQL'
CREATE TYPE ship_state AS ENUM ('packed', 'sent');
CREATE TYPE shipment AS (n int, st ship_state, sts ship_state[]);
CREATE TABLE ords (id int PRIMARY KEY, sh shipment NOT NULL, updated_at timestamptz NOT NULL DEFAULT clock_timestamp());
INSERT INTO ords (id, sh) SELECT g, ROW(g, 'packed', '{sent}')::shipment FROM generate_series(1, 10) g;
SQL
ords='  - { name: public.ords, mode: incremental, key: [id], watermark: updated_at, watermark_lag: 0s, columns: { id: keep, sh: keep, updated_at: keep } }'
config ords ords incremental "$ords"
config ref_ords ref_ords full "$(echo "$ords" | sed -e 's/, watermark: updated_at, watermark_lag: 0s//')"
run ords; expect_eq "enum in a composite: first run exits 0" 0 $?
S -c "ALTER TYPE ship_state RENAME VALUE 'packed' TO 'boxed'" >/dev/null
run ords; expect_eq "enum in a composite: a label renamed: exit 0" 0 $?
logged ords '"event":"full_reload".*a label of column sh.s enum public.shipment'
check "enum in a composite: ... reloads, naming the column" test $? -eq 0
same_as_full ords ords "enum in a composite: ... equals a full refresh"

# composites nested in a composite column, at any depth: their attributes and enum labels
# are part of the column's type (catalog.c, NESTED_COMPOSITES). An attribute added to the
# inner one was published by a keep reviewed before it existed (exit 0, an owner's name
# out), and rows unchanged since kept the old form; a label renamed in the inner one's
# enum mixed labels.
S >/dev/null <<'SQL'
CREATE TYPE nplace AS (city text);
CREATE TYPE nstay AS (nights int, at nplace, was nplace[]);
CREATE TYPE nst AS ENUM ('early', 'late');
CREATE TYPE ninner AS (s nst);
CREATE TYPE nouter AS (n int, i ninner);
CREATE TABLE nested (id int PRIMARY KEY, st nstay NOT NULL, e nouter NOT NULL, updated_at timestamptz NOT NULL DEFAULT clock_timestamp());
INSERT INTO nested (id, st, e) SELECT g, ROW(g, ROW('Leeds'), ARRAY[ROW('York')::nplace])::nstay, ROW(g, ROW('early'))::nouter FROM generate_series(1, 10) g;
SQL
nested='  - { name: public.nested, mode: incremental, key: [id], watermark: updated_at, watermark_lag: 0s, columns: { id: keep, st: { keep: { reviewed: "towns only" } }, e: keep, updated_at: keep } }'
config nested nested incremental "$nested"
config ref_nested ref_nested full "$(echo "$nested" | sed -e 's/, watermark: updated_at, watermark_lag: 0s//')"
run nested; expect_eq "nested composites: first run exits 0" 0 $?
# as an earlier anonetl recorded them (the nested composites not listed): merged, no review
T -c "UPDATE anonetl.published SET source_layout = regexp_replace(source_layout, '(public.nstay \{[^}]*\}|public.nouter \{[^}]*\})[^\"]*', '\1', 'g')
      WHERE target_schema = 'nested'" >/dev/null
S -c "UPDATE nested SET st.nights = 99, updated_at = clock_timestamp() WHERE id = 4" >/dev/null
run nested; expect_eq "nested composites: recorded without the nested ones: exit 0" 0 $?
logged nested '"event":"incremental"'; check "nested composites: ... merges" test $? -eq 0
S -c "ALTER TYPE nplace ADD ATTRIBUTE owner text;
      UPDATE nested SET st.at.owner = 'Dana Leigh', updated_at = clock_timestamp() WHERE id = 1" >/dev/null
run nested; expect_eq "nested composites: an attribute added to the inner one: exit 6 (review)" 6 $?
logged nested 'public.nested.st: rule keep reviewed when the column was public.nstay {nights integer, at public.nplace, was public.nplace\[\]} public.nplace {city text} public.nplace {city text}; it is .* public.nplace {city text, owner text}'
check "nested composites: ... the message shows the inner attributes then and now" test $? -eq 0
expect_eq "nested composites: ... the owner not published" 0 "$(T -tAc "SELECT count(*) FROM nested.nested WHERE st::text LIKE '%Dana%'")"
config nested nested incremental "$(echo "$nested" | sed -e 's/towns only/towns and company owners/')"
config ref_nested ref_nested full "$(echo "$nested" | sed -e 's/, watermark: updated_at, watermark_lag: 0s//; s/towns only/towns and company owners/')"
run nested; expect_eq "nested composites: reviewed again: exit 0" 0 $?
logged nested '"event":"full_reload".*column st changed type'; check "nested composites: ... reloads" test $? -eq 0
same_as_full nested nested "nested composites: ... equals a full refresh (every row in the new form)"
S -c "ALTER TYPE nst RENAME VALUE 'early' TO 'dawn'; UPDATE nested SET updated_at = clock_timestamp() WHERE id = 2" >/dev/null
run nested; expect_eq "nested composites: a label of the inner enum renamed: exit 0" 0 $?
logged nested '"event":"full_reload".*a label of column e'"'"'s enum public.nouter'
check "nested composites: ... reloads, naming the column" test $? -eq 0
same_as_full nested nested "nested composites: ... equals a full refresh (no mixed labels)"

# --- the watermark moves to another column --------------------------------------------------
# The rules changed: a reload, whose bound must not start from the old column's marks: a
# timestamptz mark read as an id ("2026-12-07 ..." as 2026), or a larger id of another
# column, put the bound above every id to come for a long while.
S >/dev/null <<'SQL'
CREATE TABLE switched (id bigserial PRIMARY KEY, v int NOT NULL, updated_at timestamptz NOT NULL DEFAULT now(), batch bigint NOT NULL DEFAULT 5000);
SQL
for from in updated_at batch; do
    S -c "TRUNCATE switched; INSERT INTO switched (v) SELECT g FROM generate_series(1, 10) g" >/dev/null
    yaml="  - { name: public.switched, mode: incremental, key: [id], watermark: $from, columns: { id: keep, v: keep, updated_at: keep, batch: keep } }"
    config "switch_$from" "switch_$from" incremental "$yaml"
    config "ref_switch_$from" "ref_switch_$from" full "$(echo "$yaml" | sed -e "s/, watermark: $from//")"
    run "switch_$from"; expect_eq "switch: $from: first run exits 0" 0 $?
    config "switch_$from" "switch_$from" incremental "$(echo "$yaml" | sed -e "s/watermark: $from/watermark: id/")"
    run "switch_$from"; expect_eq "switch: $from -> id: the run exits 0" 0 $?
    logged "switch_$from" "full reload: the table's rules changed"; check "switch: $from -> id: ... reloads" test $? -eq 0
    expect_eq "switch: $from -> id: ... the mark is the largest id" "$(S -tAc "SELECT max(id) FROM switched")" \
        "$(T -tAc "SELECT high_water_mark FROM anonetl.published WHERE target_schema = 'switch_$from'")"
    S -c "INSERT INTO switched (v) SELECT -g FROM generate_series(1, 3) g" >/dev/null
    run "switch_$from"; expect_eq "switch: $from -> id: the next run exits 0" 0 $?
    same_as_full "switch_$from" switched "switch: $from -> id: ... equals a full refresh"
done

# --- clocks: the job's environment does not move the source's clock or the text of values --
# libpq sends PGTZ and PGDATESTYLE as session settings, after anonetl's pinned ones: a
# source in New York read by a job with PGTZ set to UTC+14 (and TZ, which libpq ignores)
# must still store its `timestamp` mark in New York time, and a date hashed through text
# COPY must hash as "2024-02-03" whatever PGDATESTYLE says.
S -c "CREATE DATABASE ny" >/dev/null
S -c "ALTER DATABASE ny SET timezone = 'America/New_York'" >/dev/null
pgc_psql "$work/src" -d ny >/dev/null <<'SQL'
CREATE TABLE local (id bigint PRIMARY KEY, born date NOT NULL, v int NOT NULL, updated_at timestamp NOT NULL DEFAULT now());
INSERT INTO local (id, born, v) SELECT g, date '2024-02-03' + g, g FROM generate_series(1, 30) g;
SQL
NY() { pgc_psql "$work/src" -d ny "$@"; }
export NY_DATABASE_URL="$(pgc_dsn "$work/src" ny postgres)"
for name in clock ref_clock; do
    cat >"$work/$name.yaml" <<YAML
version: 1
source: { dsn: { env: NY_DATABASE_URL } }
target: { dsn: { env: TARGET_DATABASE_URL }, schema: $name }
secrets: { hash_key: { env: ANONETL_HASH_KEY } }
tables:
  - name: public.local
    mode: incremental
    key: [id]
    watermark: updated_at
    watermark_lag: 0s
    columns: { id: keep, born: { hash: {} }, v: keep, updated_at: keep }
YAML
done
sed -i -e 's/mode: incremental/mode: full/' -e '/watermark/d' "$work/ref_clock.yaml"
run clock; expect_eq "clock: first run exits 0" 0 $?
NY -c "UPDATE local SET v = v + 1, updated_at = now() WHERE id % 3 = 0" >/dev/null
PGTZ=Pacific/Kiritimati TZ=Pacific/Kiritimati run clock; expect_eq "clock: a run with PGTZ and TZ set exits 0" 0 $?
logged clock '"event":"environment".*PGTZ ignored'
check "clock: the run says which variable it ignored" test $? -eq 0
mark=$(T -tAc "SELECT high_water_mark FROM anonetl.published WHERE target_schema = 'clock'")
check "clock: the mark is still a New York time in ISO form ($mark)" \
    test "$(NY -tAc "SELECT '$mark' ~ '^[0-9]{4}-' AND abs(extract(epoch FROM now()::timestamp - '$mark'::timestamp)) < 600")" = t
NY -c "UPDATE local SET v = v + 100, updated_at = now() WHERE id = 1" >/dev/null
run clock; expect_eq "clock: the next run exits 0" 0 $?
same_as_full clock local "clock: no change after the run with PGTZ was skipped"
before=$(digest ref_clock.local)
ANONETL_TEXT_COPY=1 PGDATESTYLE=German run ref_clock; expect_eq "clock: text COPY with PGDATESTYLE=German exits 0" 0 $?
expect_eq "clock: ... dates hash as without it" "$before" "$(digest ref_clock.local)"

# --- watermarks of a domain type --------------------------------------------------------
# A domain over an integer (or over such a domain) is an integer watermark: its ids need
# the premark read before the snapshot like a bigserial's, or no bound is ever set and
# every run reloads ("no high-water mark"). A domain over timestamptz is a timestamptz one.
S >/dev/null <<'SQL'
CREATE DOMAIN event_id AS bigint CHECK (VALUE > 0);
CREATE DOMAIN short_id AS event_id;
CREATE DOMAIN stamp AS timestamptz;
CREATE SEQUENCE dom_events_seq;
CREATE TABLE dom_events (id event_id PRIMARY KEY DEFAULT nextval('dom_events_seq'), v int NOT NULL);
ALTER SEQUENCE dom_events_seq OWNED BY dom_events.id;
CREATE SEQUENCE dom_short_seq; -- named by the default only
CREATE TABLE dom_short (id short_id PRIMARY KEY DEFAULT nextval('dom_short_seq'), v int NOT NULL);
CREATE TABLE dom_stamped (id bigint PRIMARY KEY, v int NOT NULL, updated_at stamp NOT NULL DEFAULT now());
INSERT INTO dom_events (v) SELECT g FROM generate_series(1, 20) g;
INSERT INTO dom_short (v) SELECT g FROM generate_series(1, 20) g;
INSERT INTO dom_stamped (id, v) SELECT g, g FROM generate_series(1, 20) g;
SQL
for t in dom_events dom_short dom_stamped; do
    wm=id
    [ $t = dom_stamped ] && wm=updated_at
    yaml="  - { name: public.$t, mode: incremental, key: [id], watermark: $wm, watermark_lag: 0s, columns: { id: keep, v: keep$([ $t = dom_stamped ] && echo ', updated_at: keep') } }"
    config "$t" "$t" incremental "$yaml"
    config "ref_$t" "ref_$t" full "$(echo "$yaml" | sed -e "s/, watermark: $wm, watermark_lag: 0s//")"
    run "$t"; expect_eq "domain: $t: first run exits 0" 0 $?
    if [ $t = dom_stamped ]; then
        S -c "UPDATE $t SET v = -v, updated_at = now() WHERE id <= 3" >/dev/null
    else
        S -c "INSERT INTO $t (v) SELECT -g FROM generate_series(1, 3) g" >/dev/null
    fi
    run "$t"; expect_eq "domain: $t: second run exits 0" 0 $?
    logged "$t" "\"event\":\"incremental\".*\"table\":\"public.$t\""
    check "domain: $t: ... merges (no reload)" test $? -eq 0
    same_as_full "$t" "$t" "domain: $t: equals a full refresh"
done

# --- the source's default time zone changes between runs ---------------------------------
# A `timestamp` or `date` mark is a local time of the zone new sessions get (server,
# database or role setting). Moved west (Kiritimati UTC+14 -> Pago Pago UTC-11), the next
# stamps are up to 25 hours below the last mark: a run that merged after the change read
# none of them, and its own mark, in the new zone, was above them for good. The zone is
# recorded with the mark; a run that finds another one reloads, said why.
S -c "CREATE DATABASE tz" >/dev/null
S -c "ALTER DATABASE tz SET timezone = 'Pacific/Kiritimati'" >/dev/null
TZDB() { pgc_psql "$work/src" -d tz "$@"; }
TZDB >/dev/null <<'SQL'
CREATE TABLE stamped (id bigint PRIMARY KEY, v int NOT NULL, updated_at timestamp NOT NULL DEFAULT now());
CREATE TABLE dated (id bigint PRIMARY KEY, v int NOT NULL, updated_at date NOT NULL DEFAULT current_date);
INSERT INTO stamped (id, v) SELECT g, g FROM generate_series(1, 10) g;
INSERT INTO dated (id, v) SELECT g, g FROM generate_series(1, 10) g;
SQL
export TZ_DATABASE_URL="$(pgc_dsn "$work/src" tz postgres)"
for t in stamped dated; do
    for name in "zone_$t" "ref_zone_$t"; do
        cat >"$work/$name.yaml" <<YAML
version: 1
source: { dsn: { env: TZ_DATABASE_URL } }
target: { dsn: { env: TARGET_DATABASE_URL }, schema: $name }
secrets: { hash_key: { env: ANONETL_HASH_KEY } }
tables:
  - { name: public.$t, mode: incremental, key: [id], watermark: updated_at, watermark_lag: 0s, columns: { id: keep, v: keep, updated_at: keep } }
YAML
    done
    sed -i -e 's/mode: incremental/mode: full/' -e 's/, watermark: updated_at, watermark_lag: 0s//' "$work/ref_zone_$t.yaml"
    run "zone_$t"; expect_eq "zone: $t: first run exits 0" 0 $?
    TZDB -c "UPDATE $t SET v = v + 1, updated_at = now() WHERE id = 1" >/dev/null
    run "zone_$t"; expect_eq "zone: $t: a run in the same zone exits 0" 0 $?
    logged "zone_$t" '"event":"incremental"'; check "zone: $t: ... merges" test $? -eq 0
done
# west, by the database's setting; then east and back by the role's
TZDB -c "ALTER DATABASE tz SET timezone = 'Pacific/Pago_Pago'" >/dev/null
for step in database role-east role-reset; do
    case $step in
    role-east) TZDB -c "ALTER ROLE postgres IN DATABASE tz SET timezone = 'Pacific/Kiritimati'" >/dev/null ;;
    role-reset) TZDB -c "ALTER ROLE postgres IN DATABASE tz RESET timezone" >/dev/null ;;
    esac
    for t in stamped dated; do
        TZDB -c "INSERT INTO $t (id, v) SELECT max(id) + 1, 0 FROM $t; UPDATE $t SET v = v + 1, updated_at = now() WHERE id = 2" >/dev/null
        run "zone_$t"; expect_eq "zone: $t: $step: the run after the change exits 0" 0 $?
        logged "zone_$t" "full reload: the source's default time zone changed"
        check "zone: $t: $step: ... reloads, said why" test $? -eq 0
        same_as_full "zone_$t" "$t" "zone: $t: $step: equals a full refresh (no row stamped in the new zone missed)"
    done
done

# --- the source's clocks go back an hour (end of daylight saving time) ---------------------
# Local times repeat for an hour: a `timestamp` stamp taken after the change is below one
# taken before it. A mark set before the change takes the lowest local time of the next 3
# hours, so the repeated hour is read again. The database's zone is a POSIX rule whose
# daylight saving time (UTC+1) ends 8 seconds from now: a run before, rows stamped after.
fold_at=$(date -u -d '+1 hour +8 seconds' '+%j %H:%M:%S') # in daylight time (UTC+1)
S -c "CREATE DATABASE fold" >/dev/null
S -c "ALTER DATABASE fold SET timezone = 'AAA0BBB-1,0/0,$((10#${fold_at% *} - 1))/${fold_at#* }'" >/dev/null
FOLD() { pgc_psql "$work/src" -d fold "$@"; }
FOLD >/dev/null <<'SQL'
CREATE TABLE folded (id bigint PRIMARY KEY, v int NOT NULL, updated_at timestamp NOT NULL DEFAULT now());
INSERT INTO folded (id, v) SELECT g, g FROM generate_series(1, 10) g;
SQL
export FOLD_DATABASE_URL="$(pgc_dsn "$work/src" fold postgres)"
for name in fold ref_fold; do
    cat >"$work/$name.yaml" <<YAML
version: 1
source: { dsn: { env: FOLD_DATABASE_URL } }
target: { dsn: { env: TARGET_DATABASE_URL }, schema: $name }
secrets: { hash_key: { env: ANONETL_HASH_KEY } }
tables:
  - { name: public.folded, mode: incremental, key: [id], watermark: updated_at, watermark_lag: 0s, columns: { id: keep, v: keep, updated_at: keep } }
YAML
done
sed -i -e 's/mode: incremental/mode: full/' -e 's/, watermark: updated_at, watermark_lag: 0s//' "$work/ref_fold.yaml"
run fold; expect_eq "fold: a run before the clocks go back exits 0" 0 $?
before=$(FOLD -tAc "SELECT now()::timestamp")
while [ "$(FOLD -tAc "SELECT now()::timestamp < '$before'")" != t ]; do sleep 0.5; done
FOLD -c "INSERT INTO folded (id, v) VALUES (11, 11); UPDATE folded SET v = -v, updated_at = now() WHERE id <= 3" >/dev/null
check "fold: the rows stamped after the change are below the local time before it" \
    test "$(FOLD -tAc "SELECT updated_at < '$before' FROM folded WHERE id = 11")" = t
run fold; expect_eq "fold: the run after it exits 0" 0 $?
same_as_full fold folded "fold: equals a full refresh (the repeated hour read again)"

# --- 10.3: rows that leave the `where:` filter leave the published table ----------------
S >/dev/null <<'SQL'
CREATE TABLE consent (id bigint PRIMARY KEY, email text NOT NULL, consent boolean, deleted boolean NOT NULL DEFAULT false,
                      updated_at timestamptz NOT NULL DEFAULT clock_timestamp());
INSERT INTO consent (id, email, consent) SELECT g, 'p' || g || '@x.org', g % 10 <> 0 FROM generate_series(1, 500) g;
SQL
for deletes in none soft; do
    soft=""
    [ "$deletes" = soft ] && soft="
    deleted_column: deleted"
    body="  - name: public.consent
    mode: incremental
    key: [id]
    watermark: updated_at
    watermark_lag: 0s
    deletes: $deletes$soft
    where: \"consent\"
    columns: { id: { hash_int: {} }, email: { hash: {} }, consent: keep, deleted: keep, updated_at: keep }"
    config "where_$deletes" "where_$deletes" incremental "$body"
    ref_where=consent
    [ "$deletes" = soft ] && ref_where="consent AND NOT deleted"
    config "ref_where_$deletes" "ref_where_$deletes" full "$(printf '%s\n' "$body" | sed "s/where: .*/where: \"$ref_where\"/")"
    run "where_$deletes"; expect_eq "where + deletes: $deletes: first run exits 0" 0 $?
    S -c "UPDATE consent SET consent = false, updated_at = clock_timestamp() WHERE id % 7 = 1" >/dev/null   # withdrawn
    S -c "UPDATE consent SET consent = NULL, updated_at = clock_timestamp() WHERE id % 11 = 2" >/dev/null   # unknown
    S -c "UPDATE consent SET consent = true, updated_at = clock_timestamp() WHERE id IN (10, 20)" >/dev/null # given
    S -c "UPDATE consent SET deleted = true, updated_at = clock_timestamp() WHERE id % 13 = 3" >/dev/null
    run "where_$deletes"; expect_eq "where + deletes: $deletes: incremental run exits 0" 0 $?
    logged "where_$deletes" '"event":"incremental"'
    check "where + deletes: $deletes: the run merged" test $? -eq 0
    expect_eq "where + deletes: $deletes: no withdrawn or unknown consent stays published" \
        "$(S -tAc "SELECT count(*) FROM consent WHERE $ref_where")" "$(T -tAc "SELECT count(*) FROM where_$deletes.consent")"
    same_as_full "where_$deletes" consent "where + deletes: $deletes: equals a full refresh with the same where"
    deleted=$(T -tAc "SELECT rows_deleted FROM anonetl.run_tables t JOIN anonetl.runs r USING (run_id) WHERE r.target_schema = 'where_$deletes' ORDER BY run_id DESC LIMIT 1")
    check "where + deletes: $deletes: the rows taken out are counted as deleted ($deleted)" test "$deleted" -ge 100
    # back to the start for the next delete mode
    S -c "UPDATE consent SET consent = id % 10 <> 0, deleted = false, updated_at = clock_timestamp()" >/dev/null
done
"$ANONETL" check -c "$work/where_none.yaml" >"$work/check_where.out" 2>&1
expect_eq "check: where with deletes: none is a warning (exit 0)" 0 $?
grep -q "public.consent: incremental with where: and deletes: none: .*deleted from the source stays published" "$work/check_where.out"
check "check warns that deleted rows stay published with where + deletes: none" test $? -eq 0
"$ANONETL" check -c "$work/where_soft.yaml" >"$work/check_soft.out" 2>&1
grep -q "incremental with where:" "$work/check_soft.out"
check "no such warning with deletes: soft" test $? -ne 0

# --- a where: that reads more than the row: another table, the clock -----------------------
# An incremental run re-reads only rows whose watermark moved. A consent withdrawn in
# another table (the member row untouched) or a filter on the clock never moves it: with
# deletes: none or soft such a where: is refused (it would keep the row published for
# good); deletes: key_scan re-reads every key that passes where: and takes it out.
S >/dev/null <<'SQL'
CREATE TABLE member (id bigint PRIMARY KEY, email text NOT NULL, joined date NOT NULL DEFAULT '2020-01-01',
                     updated_at timestamptz NOT NULL DEFAULT clock_timestamp());
CREATE TABLE optin (member_id bigint PRIMARY KEY, granted boolean NOT NULL);
INSERT INTO member (id, email) SELECT g, 'm' || g || '@x.org' FROM generate_series(1, 50) g;
INSERT INTO optin SELECT g, true FROM generate_series(1, 50) g;
SQL
member() { # NAME DELETES WHERE [MODE]
    config "$1" "$1" "${4:-incremental}" "  - name: public.member
    mode: incremental
    key: [id]
    watermark: updated_at
    watermark_lag: 0s
    deletes: $2
    where: \"$3\"
    columns: { id: { hash_int: {} }, email: { hash: {} }, joined: keep, updated_at: keep }"
}
sub='EXISTS (SELECT 1 FROM public.optin o WHERE o.member_id = member.id AND o.granted)'
member sub_none none "$sub"
"$ANONETL" check -c "$work/sub_none.yaml" --source >"$work/sub_none.check" 2>&1
expect_eq "where: reading another table, deletes: none: check --source exits 2" 2 $?
check "it says why and what to do" grep -q 'tables.public.member.where: the table is incremental with deletes: none, and where: uses exists.*deletes: key_scan' "$work/sub_none.check"
run sub_none
expect_eq "and run exits 2 before publishing" "2 t" "$? $(T -tAc "SELECT to_regclass('sub_none.member') IS NULL")"
for where in "joined > current_date - 365" "age(joined) < interval '5 years'" "joined > 'today'::date - 365" \
    "email IN (SELECT email FROM public.member m2)" "joined > (now() - interval '1 year')::date"; do
    member clock none "$where"
    "$ANONETL" check -c "$work/clock.yaml" --source >"$work/clock.check" 2>&1
    expect_eq "where: $where: check --source exits 2, saying why" "2 1" "$? $(grep -c 'the table is incremental with deletes: none, and where: ' "$work/clock.check")"
done
member rowonly none "lower(email) LIKE '%@x.org' AND joined >= DATE '2019-06-01' AND member.id > 0 AND CAST(id AS text) <> ''"
"$ANONETL" check -c "$work/rowonly.yaml" --source >"$work/rowonly.check" 2>&1
expect_eq "a where: over the row alone (immutable functions) passes check --source" 0 $?
# a view is a filter of its own: the same rule
S -c "CREATE VIEW consenting AS SELECT m.* FROM member m JOIN optin o ON o.member_id = m.id WHERE o.granted" >/dev/null
config view_none view_none incremental "  - name: public.consenting
    mode: incremental
    key: [id]
    watermark: updated_at
    watermark_lag: 0s
    columns: { id: { hash_int: {} }, email: { hash: {} }, joined: keep, updated_at: keep }"
"$ANONETL" check -c "$work/view_none.yaml" --source >"$work/view_none.check" 2>&1
expect_eq "an incremental view (a join with the consents), deletes: none: check --source exits 2" "2 1" \
    "$? $(grep -c 'tables.public.consenting: a view, incremental with deletes: none: .*deletes: key_scan' "$work/view_none.check")"
member sub_keys key_scan "$sub"
run sub_keys; expect_eq "the same where: with deletes: key_scan: run exits 0" 0 $?
S -c "UPDATE optin SET granted = false WHERE member_id <= 5" >/dev/null # the member rows stay as they are
run sub_keys; expect_eq "consents withdrawn in the other table: run exits 0" 0 $?
expect_eq "deletes: key_scan: the 5 withdrawn members are unpublished" 45 "$(T -tAc 'SELECT count(*) FROM sub_keys.member')"
# Rows come in the same way: a consent given again (the member row untouched) lets a row
# pass where: with its watermark below the mark, and no window reads it. key_scan read its
# key: the run says so and publishes no mark, and the next run reloads. So for a member
# stamped at or below the mark (an application's own old stamp).
member ref_sub_keys key_scan "$sub" full
S -c "UPDATE optin SET granted = true WHERE member_id <= 3" >/dev/null
run sub_keys; expect_eq "consents given again in the other table: run exits 0" 0 $?
logged sub_keys '"event":"rows_missing".*"msg":"3 rows the source shows are not published'
check "... the run says 3 rows came in without their watermark moving" test $? -eq 0
expect_eq "... and publishes no mark" "" "$(T -tAc "SELECT high_water_mark FROM anonetl.published WHERE target_schema = 'sub_keys'")"
run sub_keys; expect_eq "... the next run exits 0" 0 $?
logged sub_keys '"event":"full_reload".*no high-water mark'; check "... reloads" test $? -eq 0
same_as_full sub_keys member "... equals a full refresh (the members whose consent came back are published)"
S -c "INSERT INTO member (id, email, updated_at) VALUES (51, 'm51@x.org', '2000-01-01'), (52, 'm52@x.org', '-infinity'); INSERT INTO optin VALUES (51, true), (52, true)" >/dev/null
run sub_keys; logged sub_keys '"event":"rows_missing".*"msg":"2 rows the source shows are not published'
check "rows stamped below the mark (2000-01-01, -infinity): the run says so" test $? -eq 0
run sub_keys; same_as_full sub_keys member "... the next run reloads: equals a full refresh"

# --- row level security: policies are a filter of their own ------------------------------
# A table whose RLS applies to the source role (not its owner, or FORCEd; no BYPASSRLS) shows
# the rows its policies let through: a policy reading a consent table withdraws a party
# without touching its row. Incremental with deletes: none or soft it is refused like a view
# (check --source and run, exit 2); deletes: key_scan re-reads every key the policies let
# through. The owner without FORCE reads every row: nothing to refuse. A partitioned source
# is checked partition by partition.
S >/dev/null <<'SQL'
CREATE ROLE rls_reader LOGIN;
CREATE ROLE rls_owner LOGIN;
CREATE TABLE party (id bigint PRIMARY KEY, email text NOT NULL, deleted boolean NOT NULL DEFAULT false,
                    updated_at timestamptz NOT NULL DEFAULT clock_timestamp());
CREATE TABLE party_consent (party_id bigint PRIMARY KEY, granted boolean NOT NULL);
INSERT INTO party (id, email) SELECT g, 'p' || g || '@x.org' FROM generate_series(1, 40) g;
INSERT INTO party_consent SELECT g, true FROM generate_series(1, 40) g;
ALTER TABLE party ENABLE ROW LEVEL SECURITY;
CREATE POLICY consenting ON party FOR SELECT
    USING (EXISTS (SELECT 1 FROM party_consent c WHERE c.party_id = party.id AND c.granted));
GRANT SELECT ON party, party_consent TO rls_reader, rls_owner;
CREATE TABLE party_part (id bigint PRIMARY KEY, email text NOT NULL, deleted boolean NOT NULL DEFAULT false,
                         updated_at timestamptz NOT NULL DEFAULT clock_timestamp()) PARTITION BY RANGE (id);
CREATE TABLE party_part_lo PARTITION OF party_part FOR VALUES FROM (0) TO (100);
CREATE TABLE party_part_hi PARTITION OF party_part FOR VALUES FROM (100) TO (MAXVALUE);
ALTER TABLE party_part_hi ENABLE ROW LEVEL SECURITY;
GRANT SELECT ON party_part, party_part_lo, party_part_hi TO rls_reader;
SQL
reader_dsn=$(pgc_dsn "$work/src" postgres rls_reader)
owner_dsn=$(pgc_dsn "$work/src" postgres rls_owner)
party() { # NAME MODE DELETES [TABLE]
    config "$1" "$1" "$2" "  - name: public.${4:-party}
    mode: incremental
    key: [id]
    watermark: updated_at
    watermark_lag: 0s
    deletes: $3$([ "$3" = soft ] && printf '\n    deleted_column: deleted')
    columns: { id: { hash_int: {} }, email: { hash: {} }, deleted: keep, updated_at: keep }"
}
rls_check() { # NAME DSN: exit code of check --source as that role; its output in NAME.check
    SOURCE_DATABASE_URL=$2 "$ANONETL" check -c "$work/$1.yaml" --source >"$work/$1.check" 2>&1
}
refused='tables.public.party: row level security applies to the source role (policies on public.party), incremental with deletes: none: .*deletes: key_scan.*mode: full'
party rls_none incremental none
rls_check rls_none "$reader_dsn"
expect_eq "RLS reading a consent table, a non-owner role, deletes: none: check --source exits 2, saying why" "2 1" \
    "$? $(grep -c "$refused" "$work/rls_none.check")"
SOURCE_DATABASE_URL=$reader_dsn run rls_none
expect_eq "and run exits 2 before publishing, saying why" "2 t said" \
    "$? $(T -tAc "SELECT to_regclass('rls_none.party') IS NULL") $(grep -q "$refused" "$work/rls_none.log" && echo said)"
party rls_soft incremental soft
rls_check rls_soft "$reader_dsn"
expect_eq "deletes: soft: check --source exits 2 too" "2 1" \
    "$? $(grep -c 'row level security applies to the source role (policies on public.party), incremental with deletes: soft' "$work/rls_soft.check")"
party rls_part incremental none party_part
rls_check rls_part "$reader_dsn"
expect_eq "a partitioned source with RLS on one partition only: read through the parent, its policies do not apply: check --source exits 0" 0 $?
S -c "INSERT INTO party_part (id, email) VALUES (1, 'lo@x.org'), (150, 'hi@x.org')" >/dev/null
S -c "CREATE POLICY nobody ON party_part_hi FOR SELECT USING (false)" >/dev/null
expect_eq "(PostgreSQL agrees: the role reads the partition's rows through the parent, none alone)" "2 0" \
    "$(psql -X -q -d "$reader_dsn" -tAc 'SELECT count(*) FROM party_part') $(psql -X -q -d "$reader_dsn" -tAc 'SELECT count(*) FROM party_part_hi')"
S -c "ALTER TABLE party_part ENABLE ROW LEVEL SECURITY" >/dev/null
rls_check rls_part "$reader_dsn"
expect_eq "RLS on the partitioned table itself: check --source exits 2, naming it" "2 1" \
    "$? $(grep -c 'tables.public.party_part: row level security applies to the source role (policies on public.party_part)' "$work/rls_part.check")"
party rls_keys incremental key_scan
party ref_rls_keys full key_scan
rls_check rls_keys "$reader_dsn"
expect_eq "deletes: key_scan: check --source exits 0" 0 $?
SOURCE_DATABASE_URL=$reader_dsn run rls_keys
expect_eq "deletes: key_scan: run exits 0, publishing the 40 consenting parties" "0 40" \
    "$? $(T -tAc 'SELECT count(*) FROM rls_keys.party')"
S -c "UPDATE party_consent SET granted = false WHERE party_id IN (3, 17)" >/dev/null # party rows untouched
SOURCE_DATABASE_URL=$reader_dsn run rls_keys
expect_eq "consent withdrawn in the table the policy reads: the next run exits 0, 38 published" "0 38" \
    "$? $(T -tAc 'SELECT count(*) FROM rls_keys.party')"
SOURCE_DATABASE_URL=$reader_dsn same_as_full rls_keys party "and it publishes what a fresh full refresh does"
S -c "ALTER TABLE party OWNER TO rls_owner" >/dev/null
rls_check rls_none "$owner_dsn"
expect_eq "the owner without FORCE ROW LEVEL SECURITY (policies do not apply): check --source exits 0" 0 $?
S -c "ALTER TABLE party FORCE ROW LEVEL SECURITY" >/dev/null
rls_check rls_none "$owner_dsn"
expect_eq "the owner with FORCE ROW LEVEL SECURITY: check --source exits 2" "2 1" \
    "$? $(grep -c "$refused" "$work/rls_none.check")"
SOURCE_DATABASE_URL=$owner_dsn run rls_none
expect_eq "and run exits 2" 2 $?
rls_check rls_none "$SOURCE_DATABASE_URL"
expect_eq "a superuser (RLS never applies): check --source exits 0" 0 $?

# --- 11.3 / 11.15: colliding published keys, and source keys that repeat ------------------
# With this hash key, `hash: { length: 8 }` maps the source keys k4621 and k39067 to the
# same published key (8f5c6d16): found by a birthday search over k0..k400000.
COLLIDING_KEY=5f1c0b7e9a2d4c6e8b1a3d5f7c9e0b2d4f6a8c1e3b5d7f9a0c2e4b6d8f1a3c5e
S >/dev/null <<'SQL'
CREATE TABLE coded (code text PRIMARY KEY, v int NOT NULL, updated_at timestamptz NOT NULL DEFAULT clock_timestamp());
INSERT INTO coded (code, v) SELECT 'k' || g, g FROM generate_series(1, 300) g;
INSERT INTO coded (code, v) VALUES ('k4621', 4621);
CREATE TABLE people (id bigint PRIMARY KEY, email text NOT NULL, v int NOT NULL, updated_at timestamptz NOT NULL DEFAULT clock_timestamp());
INSERT INTO people (id, email, v) SELECT g, 'p' || g || '@x.org', g FROM generate_series(1, 300) g;
SQL
coded='  - name: public.coded
    mode: incremental
    key: [code]
    watermark: updated_at
    watermark_lag: 0s
    columns: { code: { hash: { length: 8 } }, v: keep, updated_at: keep }'
config coded coded incremental "$coded"
config ref_coded ref_coded full "$coded"
ANONETL_HASH_KEY=$COLLIDING_KEY run coded; expect_eq "collision: first run exits 0" 0 $?
expect_eq "the colliding pair hashes to one published key" 8f5c6d16 \
    "$(T -tAc "SELECT code FROM coded.coded WHERE v = 4621")"
before=$(digest coded.coded code)
S -c "INSERT INTO coded (code, v) VALUES ('k39067', 39067)" >/dev/null
ANONETL_HASH_KEY=$COLLIDING_KEY run coded; expect_eq "11.3: a new key colliding with a published one: exit 6" 6 $?
logged coded 'key collision: 1 pair of different source keys became the same value of the published key (code) after anonymisation, with rows published before'
check "11.3: the merge names the collision and the key" test $? -eq 0
expect_eq "11.3: nothing published: the colliding row did not replace the other" "$before" "$(digest coded.coded code)"
ANONETL_HASH_KEY=$COLLIDING_KEY run ref_coded; expect_eq "full refresh of the same source: exit 6 too" 6 $?
logged ref_coded 'key collision: 1 pair of different source keys became the same value of the published key (code)'
check "full refresh: reported as a collision" test $? -eq 0
ANONETL_HASH_KEY=$COLLIDING_KEY run coded --full-refresh; expect_eq "11.3: an incremental table reloaded with both keys: exit 6" 6 $?
logged coded 'key collision'
check "11.3: the reload names the collision" test $? -eq 0
S -c "DELETE FROM coded WHERE code = 'k39067'; UPDATE coded SET v = v + 1, updated_at = clock_timestamp() WHERE code IN ('k1', 'k4621')" >/dev/null
ANONETL_HASH_KEY=$COLLIDING_KEY run coded; expect_eq "without the colliding key, merges go on (exit 0)" 0 $?
ANONETL_HASH_KEY=$COLLIDING_KEY same_as_full coded coded "after the collision, merges equal a full refresh" code

# A changed row whose published key is taken by a row this very run removes (deleted from
# the source: key_scan; soft-deleted; out of `where:`) is no collision: a full refresh of
# the same snapshot publishes it. Two live source keys with one published key are one,
# whichever piece of the window each is in.
S >/dev/null <<'SQL'
CREATE TABLE collide (code text PRIMARY KEY, v int NOT NULL, gone boolean NOT NULL DEFAULT false,
                      updated_at timestamptz NOT NULL DEFAULT clock_timestamp());
INSERT INTO collide (code, v) SELECT 'k' || g, g FROM generate_series(1, 300) g;
INSERT INTO collide (code, v) VALUES ('k4621', 4621);
CREATE TABLE pair (tenant int, code text, updated_at timestamptz NOT NULL DEFAULT clock_timestamp(), PRIMARY KEY (tenant, code));
INSERT INTO pair (tenant, code) VALUES (1, 'k4621'), (1, 'k1');
SQL
collide() { # DELETES [deleted_column]: the table with deletes: DELETES
    printf '  - name: public.collide
    mode: incremental
    key: [code]
    watermark: updated_at
    watermark_lag: 0s
    deletes: %s%s
    columns: { code: { hash: { length: 8 } }, v: keep, gone: keep, updated_at: keep }' "$1" "${2:+
    deleted_column: $2}"
}
config collide_soft collide_soft incremental "$(collide soft gone)"
config ref_collide_soft ref_collide_soft full "$(collide soft gone)
    where: \"NOT gone\""
config collide_scan collide_scan incremental "$(collide key_scan)"
config ref_collide_scan ref_collide_scan full "$(collide key_scan)"
pair='  - name: public.pair
    mode: incremental
    key: [tenant, code]
    watermark: updated_at
    watermark_lag: 0s
    columns: { tenant: keep, code: { hash: { length: 8 } }, updated_at: keep }'
config pair pair incremental "$pair"
config ref_pair ref_pair full "$pair"
for name in collide_soft collide_scan pair; do
    ANONETL_HASH_KEY=$COLLIDING_KEY run $name; expect_eq "$name: first run exits 0" 0 $?
done
S -c "UPDATE collide SET gone = true, updated_at = clock_timestamp() WHERE code = 'k4621'; INSERT INTO collide (code, v) VALUES ('k39067', 39067)" >/dev/null
ANONETL_HASH_KEY=$COLLIDING_KEY run collide_soft; expect_eq "11.3: a new key with the published key of a row soft-deleted in the same run: exit 0" 0 $?
ANONETL_HASH_KEY=$COLLIDING_KEY same_as_full collide_soft collide "11.3: ... equals a full refresh" code
S -c "DELETE FROM collide WHERE code = 'k4621'" >/dev/null
ANONETL_HASH_KEY=$COLLIDING_KEY run collide_scan; expect_eq "11.3: a new key with the published key of a row deleted from the source (key_scan): exit 0" 0 $?
ANONETL_HASH_KEY=$COLLIDING_KEY same_as_full collide_scan collide "11.3: ... equals a full refresh" code
S -c "INSERT INTO pair (tenant, code) VALUES (2, 'k39067')" >/dev/null
ANONETL_HASH_KEY=$COLLIDING_KEY run pair; expect_eq "11.3: composite key, the hashed part collides under another tenant: exit 0" 0 $?
S -c "INSERT INTO pair (tenant, code) VALUES (1, 'k39067')" >/dev/null
before=$(digest pair.pair code)
ANONETL_HASH_KEY=$COLLIDING_KEY run pair; expect_eq "11.3: composite key, the same tenant: exit 6" 6 $?
logged pair 'key collision: 1 pair of different source keys became the same value of the published key (tenant, code)'
check "11.3: composite key: the collision names both key columns" test $? -eq 0
expect_eq "11.3: composite key: nothing published" "$before" "$(digest pair.pair code)"
# two new colliding keys, in the first and the second piece of the window (1,024 rows, then
# more: pieces are merged one by one), with one worker and with two
S -c "DELETE FROM collide WHERE code = 'k39067'" >/dev/null
ANONETL_HASH_KEY=$COLLIDING_KEY run collide_scan; expect_eq "the colliding keys gone: exit 0" 0 $?
S >/dev/null <<'SQL'
INSERT INTO collide (code, v) VALUES ('k4621', 4621);
INSERT INTO collide (code, v) SELECT 'f' || g, g FROM generate_series(1, 1100) g;
INSERT INTO collide (code, v) VALUES ('k39067', 39067);
SQL
before=$(digest collide_scan.collide code)
for jobs in 1 2; do
    JOBS=$jobs config collide_scan collide_scan incremental "$(collide key_scan)"
    ANONETL_HASH_KEY=$COLLIDING_KEY run collide_scan; expect_eq "11.3: two new keys colliding across pieces (--jobs $jobs): exit 6" 6 $?
    logged collide_scan 'key collision: 1 pair of different source keys became the same value of the published key (code)'
    check "11.3: two new keys across pieces (--jobs $jobs): said a collision" test $? -eq 0
    expect_eq "11.3: two new keys across pieces (--jobs $jobs): nothing published" "$before" "$(digest collide_scan.collide code)"
done
S -c "DELETE FROM collide WHERE code = 'k39067'" >/dev/null
ANONETL_HASH_KEY=$COLLIDING_KEY run collide_scan; expect_eq "without the second key: exit 0" 0 $?
logged collide_scan '"pieces":2'
check "11.3: that window is 2 pieces: the colliding keys were in different ones" test $? -eq 0
ANONETL_HASH_KEY=$COLLIDING_KEY same_as_full collide_scan collide "... and equals a full refresh" code

# The soft-deleted row in a later piece than the new key (CLUSTER puts the new key on the
# first page, the old one on the last): the new key waits for the end of the window, for a
# plain table and for a k-anonymous one (its base).
S >/dev/null <<'SQL'
CREATE TABLE later (code text PRIMARY KEY, v int NOT NULL, gone boolean NOT NULL DEFAULT false,
                    updated_at timestamptz NOT NULL DEFAULT clock_timestamp()) WITH (fillfactor = 50);
INSERT INTO later (code, v) SELECT 'f' || g, g FROM generate_series(1, 3000) g;
INSERT INTO later (code, v) VALUES ('k4621', 4621);
SQL
later='  - name: public.later
    mode: incremental
    key: [code]
    watermark: updated_at
    watermark_lag: 0s
    deletes: soft
    deleted_column: gone
    columns: { code: { hash: { length: 8 } }, v: keep, gone: keep, updated_at: keep }'
kanon='
    k_anonymity: { quasi_identifiers: [gone], k: 2, on_violation: suppress }'
config later later incremental "$later"
config ref_later ref_later full "$later
    where: \"NOT gone\""
config later_k later_k incremental "$later$kanon"
config ref_later_k ref_later_k full "$later
    where: \"NOT gone\"$kanon"
ANONETL_HASH_KEY=$COLLIDING_KEY run later; expect_eq "later piece: first run exits 0" 0 $?
ANONETL_HASH_KEY=$COLLIDING_KEY run later_k; expect_eq "later piece, k-anonymity: first run exits 0" 0 $?
S >/dev/null <<'SQL'
INSERT INTO later (code, v) VALUES ('k39067', -1);
CREATE INDEX ON later (v);
CLUSTER later USING later_v_idx;
UPDATE later SET v = v + 1, updated_at = clock_timestamp() WHERE code IN (SELECT 'f' || g FROM generate_series(200, 1400) g);
UPDATE later SET gone = true, updated_at = clock_timestamp() WHERE code = 'k4621';
SQL
# CLUSTER gives the table a new relfilenode, which reloads it: forget the recorded storage,
# so that the run merges as after a version published before it was recorded
T -c "UPDATE anonetl.published SET source_storage = NULL WHERE target_schema IN ('later', 'later_k')" >/dev/null
expect_eq "the new key is on the first page, the soft-deleted one far after" "0 true" \
    "$(S -tAc "SELECT (SELECT (ctid::text::point)[0] FROM later WHERE code = 'k39067') || ' ' || (SELECT (ctid::text::point)[0] > 20 FROM later WHERE code = 'k4621')")"
for name in later later_k; do
    ANONETL_HASH_KEY=$COLLIDING_KEY run $name; expect_eq "11.3: $name: the colliding row soft-deleted in a later piece: exit 0" 0 $?
    logged $name '"pieces":2'
    check "11.3: $name: the window was 2 pieces" test $? -eq 0
    ANONETL_HASH_KEY=$COLLIDING_KEY same_as_full $name later "11.3: $name: ... equals a full refresh" code
done

people='  - name: public.people
    mode: incremental
    key: [email]
    watermark: updated_at
    watermark_lag: 0s
    columns: { id: { hash_int: {} }, email: { hash: {} }, v: keep, updated_at: keep }'
config people people incremental "$people"
config ref_people ref_people full "$people"
run people; expect_eq "key: [email], unique so far: exit 0" 0 $?
S -c "UPDATE people SET email = 'p1@x.org', updated_at = clock_timestamp() WHERE id IN (2, 3)" >/dev/null
before=$(digest people.people email)
run people; expect_eq "11.15: incremental, the key repeats in the changed rows: exit 6" 6 $?
logged people 'the source key (email) is not unique: 1 key value appears in more than one row'
check "11.15: incremental: says the source key is not unique and names it" test $? -eq 0
logged people 'longer hash'
check "11.15: incremental: no advice to lengthen the hash" test $? -ne 0
expect_eq "11.15: nothing published" "$before" "$(digest people.people email)"
S -c "UPDATE people SET email = 'p' || id || '@x.org', updated_at = clock_timestamp() WHERE id IN (2, 3)" >/dev/null
run people; expect_eq "unique again: exit 0" 0 $?
S -c "UPDATE people SET email = 'p5@x.org', updated_at = clock_timestamp() WHERE id = 3" >/dev/null
run people; expect_eq "11.15: incremental, a changed row repeats the key of an unchanged one: exit 6" 6 $?
logged people 'the source key (email) is not unique'
check "11.15: the repeat with a published row is found in the source" test $? -eq 0
run ref_people; expect_eq "11.15: full refresh with a repeated key: exit 6" 6 $?
logged ref_people 'the source key (email) is not unique: 1 key value appears in more than one row'
check "11.15: full refresh: says the source key is not unique and names it" test $? -eq 0
logged ref_people 'longer hash'
check "11.15: full refresh: no advice to lengthen the hash" test $? -ne 0
"$ANONETL" check -c "$work/people.yaml" --source >"$work/check_people.out" 2>&1
grep -q "public.people: no unique index on the source covers the key (email)" "$work/check_people.out"
check "check --source warns that no unique index covers key: [email]" test $? -eq 0

# A key unique only among the rows that publish (`key: [email]`, a partial unique index
# WHERE NOT deleted): an e-mail soft-deleted, or whose consent was withdrawn, comes back
# with a new account. A full refresh publishes the new account; so must the merges, and a
# later change to the old row must not take the new account's row out.
S >/dev/null <<'SQL'
CREATE TABLE acct (id bigint PRIMARY KEY, email text NOT NULL, v int NOT NULL, consent boolean NOT NULL DEFAULT true,
                   deleted boolean NOT NULL DEFAULT false, updated_at timestamptz NOT NULL DEFAULT clock_timestamp());
CREATE UNIQUE INDEX ON acct (email) WHERE NOT deleted AND consent;
INSERT INTO acct (id, email, v) SELECT g, 'u' || g || '@x.org', g FROM generate_series(1, 50) g;
SQL
acct() { # DELETES [deleted_column]
    printf '  - name: public.acct
    mode: incremental
    key: [email]
    watermark: updated_at
    watermark_lag: 0s
    where: "consent"
    deletes: %s%s
    columns: { id: { hash_int: {} }, email: { hash: {} }, v: keep, consent: keep, deleted: keep, updated_at: keep }' "$1" "${2:+
    deleted_column: $2}"
}
config acct_soft acct_soft incremental "$(acct soft deleted)"
config ref_acct_soft ref_acct_soft full "$(acct soft deleted | sed 's/where: "consent"/where: "consent AND NOT deleted"/')"
config acct_scan acct_scan incremental "$(acct key_scan | sed 's/where: "consent"/where: "consent AND NOT deleted"/')"
config ref_acct_scan ref_acct_scan full "$(acct key_scan | sed 's/where: "consent"/where: "consent AND NOT deleted"/')"
run acct_soft; expect_eq "key reused: first run (soft) exits 0" 0 $?
run acct_scan; expect_eq "key reused: first run (key_scan, where:) exits 0" 0 $?
S -c "UPDATE acct SET deleted = true, updated_at = clock_timestamp() WHERE id = 1;
      UPDATE acct SET consent = false, updated_at = clock_timestamp() WHERE id = 2;
      INSERT INTO acct (id, email, v) VALUES (101, 'u1@x.org', 101), (102, 'u2@x.org', 102)" >/dev/null
run acct_soft; expect_eq "11.15: an e-mail soft-deleted then reused: exit 0" 0 $?
same_as_full acct_soft acct "11.15: ... equals a full refresh" email
run acct_scan; expect_eq "11.15: e-mails out of where: (deleted, consent withdrawn) then reused: exit 0" 0 $?
same_as_full acct_scan acct "11.15: ... equals a full refresh" email
S -c "UPDATE acct SET v = -1, updated_at = clock_timestamp() WHERE id IN (1, 2)" >/dev/null
run acct_soft; expect_eq "the old rows touched again: exit 0" 0 $?
same_as_full acct_soft acct "... the new account stays published (soft)" email
run acct_scan; expect_eq "the old rows touched again: exit 0 (where:)" 0 $?
same_as_full acct_scan acct "... the new account stays published (where:)" email

# --- a key updated to an equal value of another form --------------------------------------
# numeric 1.0 = 1.00 and float8 0 = -0, but a full refresh publishes what the source now
# holds: the merge must not keep the old form (ON CONFLICT matched it and left the key).
# A table of key columns only (key [id, updated_at], rows re-read within the lag) too.
S >/dev/null <<'SQL'
CREATE TABLE kform (id numeric PRIMARY KEY, f float8 NOT NULL UNIQUE, code int NOT NULL, updated_at timestamptz NOT NULL DEFAULT clock_timestamp());
INSERT INTO kform (id, f, code) SELECT g, g, g FROM generate_series(0, 20) g;
CREATE TABLE kpair (id numeric PRIMARY KEY, updated_at timestamptz NOT NULL DEFAULT clock_timestamp());
INSERT INTO kpair (id) SELECT g FROM generate_series(0, 20) g;
SQL
kform() { # KEY DELETES
    printf '  - name: public.kform
    mode: incremental
    key: [%s]
    watermark: updated_at
    watermark_lag: 0s
    deletes: %s
    columns: { id: keep, f: keep, code: keep, updated_at: keep }' "$1" "$2"
}
kpair='  - name: public.kpair
    mode: incremental
    key: [id, updated_at]
    watermark: updated_at
    watermark_lag: 1h
    deletes: none
    columns: { id: keep, updated_at: keep }'
config kform_id kform_id incremental "$(kform id none)"
config ref_kform_id ref_kform_id full "$(kform id none)"
config kform_f kform_f incremental "$(kform f key_scan)"
config ref_kform_f ref_kform_f full "$(kform f key_scan)"
config kpair kpair incremental "$kpair"
config ref_kpair ref_kpair full "$kpair"
for n in kform_id kform_f kpair; do run $n; expect_eq "key forms: first run ($n) exits 0" 0 $?; done
S -c "UPDATE kform SET id = 1.00, code = -1, updated_at = clock_timestamp() WHERE id = 1;
      UPDATE kform SET f = '-0', code = -2, updated_at = clock_timestamp() WHERE id = 0;
      UPDATE kpair SET id = 3.000 WHERE id = 3" >/dev/null
run kform_id; expect_eq "key forms: numeric key 1 -> 1.00 merged: exit 0" 0 $?
same_as_full kform_id kform "numeric key updated to 1.00 (= 1): published as 1.00, equals a full refresh"
run kform_f; expect_eq "key forms: float8 key 0 -> -0 merged: exit 0" 0 $?
same_as_full kform_f kform "float8 key updated to -0 (= 0): published as -0, equals a full refresh" f
run kpair; expect_eq "key forms: a table of key columns only, merged: exit 0" 0 $?
same_as_full kpair kpair "key columns only: 3 -> 3.000 published as 3.000, equals a full refresh"

# --- 11.7: a reader whose snapshot predates the publish never sees an empty table -------
# A REPEATABLE READ transaction takes its snapshot, then reads the published view only
# after a run published a new version: it must see the old version or the new one, for a
# table split into key ranges (ANONETL_SPLIT_ROWS, --jobs 2) as for a whole one.
S >/dev/null <<'SQL'
CREATE TABLE big (id bigint PRIMARY KEY, v text NOT NULL, updated_at timestamptz NOT NULL DEFAULT clock_timestamp());
INSERT INTO big (id, v) SELECT g, md5(g::text) FROM generate_series(1, 20000) g;
ANALYZE big;
SQL
reader() { # VIEW OUT GATE: count:md5 seen, once GATE exists, by a snapshot taken now
    printf "BEGIN ISOLATION LEVEL REPEATABLE READ;\nSELECT 1;\n%s\nSELECT count(*) || ':' || coalesce(md5(string_agg(t::text, '|' ORDER BY t.id)), '') FROM %s t;\nCOMMIT;\n" "$(gate_sql "$3")" "$1" |
        PGAPPNAME=snapshot_reader T -tA -q >"$2" 2>&1
}
# The reader has its snapshot (SELECT 1 ran) and waits at its gate. It reads once the
# republish has ended: a reader that slept 0.7 s before the run and 3 s in all took its
# snapshot after a slow run's publish, or read before it, and proved nothing.
reader_at_gate() { [ "$(T -tAc "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'snapshot_reader' AND wait_event = 'PgSleep'")" = 1 ]; }
for mode in full incremental; do
    body="  - name: public.big
    mode: $mode
    key: [id]
    watermark: updated_at
    watermark_lag: 0s
    columns: { id: keep, v: { hash: {} }, updated_at: keep }"
    [ "$mode" = full ] && body=$(printf '%s\n' "$body" | sed -e '/watermark/d')
    for split in 1000000 1000; do
        name="split_${mode}_$split"
        JOBS=2 config "$name" "$name" "$mode" "$body"
        ANONETL_SPLIT_ROWS=$split run "$name"; expect_eq "$mode, split at $split: first run exits 0" 0 $?
        old=$(digest "$name.big")
        S -c "UPDATE big SET v = v || 'x', updated_at = clock_timestamp() WHERE id % 10 = 0" >/dev/null
        reader "$name.big" "$work/reader.out" "$work/$name.gate" &
        rd=$!
        poll_until 60 reader_at_gate || not_ok "$mode, split at $split: the reader took its snapshot"
        ANONETL_SPLIT_ROWS=$split run "$name" --full-refresh; expect_eq "$mode, split at $split: republish exits 0" 0 $?
        [ "$split" = 1000 ] && { logged "$name" '"event":"split"'; check "$mode: the table was split into key ranges" test $? -eq 0; }
        new=$(digest "$name.big")
        touch "$work/$name.gate"
        wait $rd
        seen=$(grep -E '^[0-9]+:' "$work/reader.out")
        if [ "$seen" = "$old" ] || [ "$seen" = "$new" ]; then
            ok "$mode, split at $split: a reader with an older snapshot sees a whole version (${seen%%:*} rows)"
        else
            not_ok "$mode, split at $split: a reader with an older snapshot sees a whole version" "saw $seen; old $old; new $new"
        fi
    done
done

# Across tables, a REPEATABLE READ snapshot can see a table merged in place before a
# publish and a table switched to a new version after it (docs/operations.md, "Readers
# during a publish"); locking the views before the first query is the documented way to
# read every table from one run: the publish then waits for the reader.
S >/dev/null <<'SQL'
CREATE TABLE pa (id bigint PRIMARY KEY, v int NOT NULL, updated_at timestamptz NOT NULL DEFAULT clock_timestamp());
CREATE TABLE pb (id bigint PRIMARY KEY, v int NOT NULL);
INSERT INTO pa (id, v) SELECT g, 0 FROM generate_series(1, 100) g;
INSERT INTO pb (id, v) SELECT g, 0 FROM generate_series(1, 100) g;
SQL
config pair_read pair_read incremental '  - { name: public.pa, mode: incremental, key: [id], watermark: updated_at, watermark_lag: 0s, columns: { id: keep, v: keep, updated_at: keep } }
  - { name: public.pb, columns: { id: keep, v: keep } }'
run pair_read; expect_eq "two tables, one merged, one swapped: first run exits 0" 0 $?
S -c "BEGIN; UPDATE pa SET v = 1, updated_at = clock_timestamp(); UPDATE pb SET v = 1; COMMIT" >/dev/null
# The reader holds its locks before the run starts, and reads once the run waits for it
# (a gate): one that slept 0.5 s before the run and 2 s in all could lock after a slow
# run's publish, or read before the run got there, and prove nothing.
printf "BEGIN ISOLATION LEVEL REPEATABLE READ;\nLOCK TABLE pair_read.pa, pair_read.pb IN ACCESS SHARE MODE;\n%s\nSELECT 'sums ' || (SELECT sum(v) FROM pair_read.pa) || '/' || (SELECT sum(v) FROM pair_read.pb);\nCOMMIT;\n" "$(gate_sql "$work/pair_read.gate")" |
    PGAPPNAME=pair_reader T -tA -q >"$work/pair_reader.out" 2>&1 &
rd=$!
pair_reader_waits() { [ "$(T -tAc "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pair_reader' AND wait_event = 'PgSleep'")" = 1 ]; }
publish_waits() { [ "$(T -tAc "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid) WHERE NOT l.granted AND a.application_name = 'anonetl'")" -ge 1 ]; }
poll_until 60 pair_reader_waits || not_ok "the reader locked the views"
run pair_read &
rp=$!
check "the publish waits for the reader that locked the views" poll_until 30 publish_waits
touch "$work/pair_read.gate"
wait $rp; expect_eq "a publish while a reader holds the views: exits 0 (it waited)" 0 $?
wait $rd
seen=$(grep -o 'sums .*' "$work/pair_reader.out")
check "a reader that locked the views first sees both tables from one run ($seen)" \
    test "$seen" = "sums 0/0" -o "$seen" = "sums 100/100"

done_testing
