#!/usr/bin/env bash
# tests/integration/incremental_cost.sh: what an incremental run costs beyond its changed
# rows (issue 13, "incremental runs at the cost of the change"), checked with counters
# that do not depend on the machine's load (the times are make bench's):
#   - the content check of keep columns samples pages spread over the table, a bounded
#     number of them (etl/rowsample.h), instead of reading a tenth of it on every run;
#   - pieces of changed rows pass through one temporary table of the publish
#     transaction: no table per piece in anonetl_data (each one synced its init fork and
#     committed its catalog rows, and dropping them made the publish commit wait for the
#     WAL of every merged page);
#   - pieces wait in memory, so the memory of a run stays bounded however large the
#     window, and the result still equals a full refresh.
set -u

cd "$(dirname "$0")/../.."
. tests/lib/tap.sh
. tests/lib/pgcluster.sh

ANONETL=${ANONETL:-./anonetl}
pgc_pair || { echo "not ok 1 - clusters did not start"; exit 1; }
export ANONETL_HASH_KEY=$(openssl rand -hex 32)
export SOURCE_DATABASE_URL="$(pgc_dsn "$work/src" postgres postgres)"
export TARGET_DATABASE_URL="$(pgc_dsn "$work/tgt" postgres postgres)"

config() { # NAME SCHEMA MODE: the table `parties`, incremental (soft deletes) or full
    {
        cat <<YAML
version: 1
source: { dsn: { env: SOURCE_DATABASE_URL } }
target: { dsn: { env: TARGET_DATABASE_URL }, schema: $2 }
secrets: { hash_key: { env: ANONETL_HASH_KEY } }
tables:
  - name: public.parties
    key: [id]
YAML
        if [ "$3" = incremental ]; then
            printf '    mode: incremental\n    watermark: updated_at\n    watermark_lag: 0s\n'
            printf '    deletes: soft\n    deleted_column: gone\n'
        else
            printf '    where: "NOT gone"\n'
        fi
        cat <<YAML
    columns:
      id: keep
      email: { hash: { length: 32 } }
      note: keep
      amount: keep
      updated_at: keep
      gone: keep
YAML
    } >"$work/$1.yaml"
}
run() { # NAME [args]: exit code; log in $work/NAME.log
    local name=$1
    shift
    "$ANONETL" run -c "$work/$name.yaml" --skip-preflight "$@" >"$work/$name.log" 2>&1
}
digest() { T -tAc "SELECT count(*) || ':' || md5(string_agg(md5(t::text), '' ORDER BY t.id)) FROM $1 t"; }

S >/dev/null <<'SQL'
CREATE TABLE parties (id bigint PRIMARY KEY, email text, note text, amount int,
                      updated_at timestamptz NOT NULL DEFAULT clock_timestamp(),
                      gone boolean NOT NULL DEFAULT false);
INSERT INTO parties (id, email, note, amount)
SELECT g, 'p' || g || '@example.org', 'claim ' || g || ', handled by the ' || (ARRAY['north', 'south', 'east'])[1 + g % 3] || ' office, reviewed twice before payment', g % 1000
FROM generate_series(1, 400000) g;
CREATE INDEX ON parties (updated_at);
VACUUM ANALYZE parties;
SQL
config inc inc incremental
config ref ref full

# --- the content check of keep columns reads a bounded sample --------------------------
# Pages of parties read by `check --source` (it samples the keep columns' content): the
# source's table statistics, flushed when the check's backend exits.
pages=$(S -tAc "SELECT relpages FROM pg_class WHERE relname = 'parties'")
blocks() { S -tAc "SELECT heap_blks_read + heap_blks_hit FROM pg_statio_user_tables WHERE relname = 'parties'"; }
b0=$(blocks)
"$ANONETL" check -c "$work/inc.yaml" --source >"$work/check.out" 2>&1
for _ in $(seq 1 50); do [ "$(blocks)" != "$b0" ] && break; sleep 0.1; done
sleep 0.3
read_pages=$(($(blocks) - b0))
echo "# check --source read $read_pages of $pages pages of parties"
check "the keep columns' content was sampled (check names no problem with them)" \
    test "$(grep -c 'parties\.\(note\|amount\)' "$work/check.out")" -eq 0
check "the sample reads a bounded number of pages ($read_pages of $pages: 2 per sampled row), not a tenth" \
    test "$read_pages" -gt 0 -a "$read_pages" -le 500

# A keep column whose content looks personal is still found by the spread sample, in a
# table where only the rows of one share of the pages hold it: 1 row in 8.
S >/dev/null <<'SQL'
CREATE TABLE notes (id bigint PRIMARY KEY, body text);
INSERT INTO notes SELECT g, CASE WHEN g % 8 = 0 THEN 'write to n' || g || '@example.org'
                                 ELSE 'nothing to see ' || g END
FROM generate_series(1, 400000) g;
ANALYZE notes;
SQL
sed -e 's/public.parties/public.notes/' -e '/email:/d;/note:/d;/amount:/d;/updated_at:/d;/gone:/d' \
    -e '/mode: incremental/,/deleted_column/d' -e 's/      id: keep/      id: keep\n      body: keep/' \
    "$work/inc.yaml" >"$work/notes.yaml"
"$ANONETL" run -c "$work/notes.yaml" --skip-preflight >"$work/notes.log" 2>&1
expect_eq "a keep column with e-mail addresses in 1 row of 8 stops the run (exit 6)" 6 $?
check "and names the column" grep -q "notes.body" "$work/notes.log"

# --- pieces of changed rows: one temporary table, nothing per piece ---------------------
T >/dev/null <<'SQL'
CREATE TABLE public.ddl_log (at timestamptz DEFAULT clock_timestamp(), tag text, schema_name text, name text);
CREATE FUNCTION public.log_ddl() RETURNS event_trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO public.ddl_log (tag, schema_name, name)
  SELECT command_tag, schema_name, object_identity FROM pg_event_trigger_ddl_commands()
  WHERE command_tag = 'CREATE TABLE';
END $$;
CREATE EVENT TRIGGER log_ddl ON ddl_command_end EXECUTE FUNCTION public.log_ddl();
SQL
run inc; expect_eq "first run (full load) exits 0" 0 $?
T -c "TRUNCATE public.ddl_log" >/dev/null
# 60,000 rows changed (1,024 + 2,048 + 4,096 + 8,192 + ... : at least 5 pieces), a tenth
# of them marked deleted, 5,000 new
S >/dev/null <<'SQL'
UPDATE parties SET amount = amount + 1, gone = (id % 70 = 0), updated_at = clock_timestamp()
WHERE id % 7 = 0 AND id <= 420000;
INSERT INTO parties (id, email, note, amount) SELECT g, 'q' || g || '@example.org', 'new', 1
FROM generate_series(400001, 405000) g;
SQL
/usr/bin/time -f '%M' -o "$work/rss" "$ANONETL" run -c "$work/inc.yaml" --skip-preflight \
    >"$work/inc2.log" 2>&1
expect_eq "incremental run over 62,000 changed rows exits 0" 0 $?
check "it was incremental" grep -q '"event":"incremental"' "$work/inc2.log"
pieces=$(python3 -c 'import json,sys; print(max(json.loads(l).get("pieces", 0) for l in open(sys.argv[1]) if "\"table_done\"" in l))' "$work/inc2.log")
check "merged in several pieces ($pieces)" test "${pieces:-0}" -ge 5
expect_eq "no table created in anonetl_data for its pieces" 0 \
    "$(T -tAc "SELECT count(*) FROM public.ddl_log WHERE schema_name = 'anonetl_data'")"
expect_eq "one temporary table for all its pieces" 1 \
    "$(T -tAc "SELECT count(*) FROM public.ddl_log WHERE schema_name LIKE 'pg_temp%'")"
expect_eq "nothing of it left in the target" 0 \
    "$(T -tAc "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'r' AND ((n.nspname = 'anonetl_data' AND c.relname NOT IN (SELECT version_table FROM anonetl.published)) OR c.relname LIKE '%+pieces')")"
run ref; expect_eq "reference full refresh exits 0" 0 $?
expect_eq "the merged table equals a full refresh" "$(digest ref.parties)" "$(digest inc.parties)"

# --- pieces follow a slow source ---------------------------------------------------------
# When the source is the slower side, the leader waits for pieces; the piece being filled
# then ends at once (from 512 rows) instead of growing to 1,024, 2,048, 4,096 rows: the
# merge follows the source, and what is left after its last row is a small piece. The
# source here is a foreign table (postgres_fdw, back into the same server: a table or
# view cannot be made slow to read) over a view that sleeps 1 ms on every 6th changed
# row: 3,000 rows in about 0.6 s, where merging 512 rows takes a few ms. The old limits
# alone made 3 pieces of them.
S >/dev/null <<SQL
CREATE TABLE slow_base (id bigint PRIMARY KEY, note text NOT NULL,
                        updated_at timestamptz NOT NULL DEFAULT clock_timestamp());
INSERT INTO slow_base (id, note) SELECT g, 'fast' FROM generate_series(1, 20000) g;
CREATE INDEX ON slow_base (updated_at);
CREATE VIEW slow_v AS SELECT * FROM slow_base
WHERE CASE WHEN note = 'slow' AND id % 40 = 0 THEN pg_sleep(0.001) IS NOT NULL ELSE true END;
CREATE EXTENSION postgres_fdw;
CREATE SERVER loop FOREIGN DATA WRAPPER postgres_fdw
    OPTIONS (host '$(cd "$work/src" && pwd -P)', port '$(pgc_port "$work/src")', dbname 'postgres');
CREATE USER MAPPING FOR postgres SERVER loop OPTIONS (user 'postgres');
CREATE FOREIGN TABLE slow (id bigint NOT NULL, note text NOT NULL, updated_at timestamptz NOT NULL)
    SERVER loop OPTIONS (table_name 'slow_v');
SQL
for n in slow slowref; do
    {
        printf 'version: 1\nsource: { dsn: { env: SOURCE_DATABASE_URL } }\n'
        printf 'target: { dsn: { env: TARGET_DATABASE_URL }, schema: %s }\n' "$n"
        printf 'secrets: { hash_key: { env: ANONETL_HASH_KEY } }\ntables:\n  - name: public.slow\n    key: [id]\n'
        [ "$n" = slow ] && printf '    mode: incremental\n    watermark: updated_at\n    watermark_lag: 0s\n    deletes: key_scan\n'
        printf '    columns:\n      id: keep\n      note: keep\n      updated_at: keep\n'
    } >"$work/$n.yaml"
done
run slow; expect_eq "slow source: first run exits 0" 0 $?
S -c "UPDATE slow_base SET note = 'slow', updated_at = clock_timestamp() WHERE id % 20 IN (0, 1, 2)" >/dev/null
run slow; expect_eq "slow source: incremental run over 3,000 changed rows exits 0" 0 $?
check "it was incremental" grep -q '"event":"incremental"' "$work/slow.log"
pieces=$(python3 -c 'import json,sys; print(max(json.loads(l).get("pieces", 0) for l in open(sys.argv[1]) if "\"table_done\"" in l))' "$work/slow.log")
check "pieces end when the leader waits for one: 3,000 rows in 5 or more pieces ($pieces)" \
    test "${pieces:-0}" -ge 5
run slowref; expect_eq "reference full refresh exits 0" 0 $?
expect_eq "the merged table equals a full refresh" "$(digest slowref.slow)" "$(digest slow.slow)"

# --- memory: pieces wait in a bounded queue ------------------------------------------------
# 400,000 changed rows of about 200 bytes (an 80 MB window): were every piece kept until
# its merge, the run would hold most of it; the queue holds two pieces of at most 4 MB.
S -c "UPDATE parties SET amount = amount + 1, updated_at = clock_timestamp()" >/dev/null
/usr/bin/time -f '%M' -o "$work/rss" "$ANONETL" run -c "$work/inc.yaml" --skip-preflight \
    >"$work/inc3.log" 2>&1
expect_eq "incremental run over every row exits 0" 0 $?
rss=$(tail -1 "$work/rss")
echo "# peak RSS: $rss kB"
check "peak memory under 48 MB with an 80 MB window ($rss kB)" test "$rss" -lt 49152
run ref; expect_eq "reference full refresh exits 0" 0 $?
expect_eq "the merged table equals a full refresh" "$(digest ref.parties)" "$(digest inc.parties)"
T -c "DROP EVENT TRIGGER log_ddl" >/dev/null

done_testing
