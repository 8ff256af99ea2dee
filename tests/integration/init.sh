#!/usr/bin/env bash
# tests/integration/init.sh: `anonetl init` -> `check --source` -> `run` on the demo
# database (sql/demo) with zero manual edits: the generated config's placeholders are
# filled from the environment variables it names. Then: nothing is copied in clear
# (every column suppressed except hashed keys), `preview` shows exactly what `run`
# published, and `check` refuses (exit 6, as `run` would) keep on personal-looking columns.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/tap.sh
. tests/lib/pgcluster.sh

ANONETL=${ANONETL:-./anonetl}
work=$(pgc_mktemp)
trap 'pgc_stop_all; rm -rf "$work"' EXIT
TABLES=public.cases,public.parties,public.messages,public.payments,public.staff_notes

pgc_init "$work/src" >/dev/null && pgc_start "$work/src" >/dev/null
pgc_init "$work/tgt" >/dev/null && pgc_start "$work/tgt" >/dev/null
S() { pgc_psql "$work/src" -d odr "$@"; }
T() { pgc_psql "$work/tgt" -d odr_anon "$@"; }
pgc_psql "$work/src" -c 'CREATE DATABASE odr' >/dev/null
pgc_psql "$work/tgt" -c 'CREATE DATABASE odr_anon' >/dev/null
S -f sql/demo/schema.sql -f sql/demo/data.sql >/dev/null
S -v tables="$TABLES" -f sql/roles/source_reader.sql >/dev/null
T -f sql/roles/target_writer.sql >/dev/null
T -f sql/roles/data_team_reader.sql >/dev/null
reader_dsn=$(pgc_dsn "$work/src" odr anonetl_reader)
writer_dsn=$(pgc_dsn "$work/tgt" odr_anon anonetl_writer)
cfg=$work/anonetl.yaml

# --- 1. init ---------------------------------------------------------------------------
(unset SOURCE_DATABASE_URL; "$ANONETL" init --source-dsn "$reader_dsn" -o "$cfg" 2>"$work/init.err"); rc=$?
expect_eq "init exits 0" 0 "$rc"
check "init wrote the config" test -s "$cfg"
grep -qF "$reader_dsn" "$cfg"; rc=$?
expect_eq "the DSN given on the command line is not written into the config" 1 "$rc"
expect_eq "one table entry per source table" 5 "$(grep -c '^  - name: public\.' "$cfg")"
src_cols=$(S -tAc "SELECT count(*) FROM information_schema.columns WHERE table_schema = 'public' AND table_name IN ('cases','parties','messages','payments','staff_notes')")
expect_eq "one rule per source column" "$src_cols" "$(grep -cE '^      [a-z0-9_]+: ' "$cfg")"
expect_eq "primary keys hashed as integers, the rest suppressed" "5 $((src_cols - 5))" \
    "$(grep -c '^      id: { hash_int: {} } *# bigint, primary key$' "$cfg") $(grep -cE '^      [a-z0-9_]+: suppress +# ' "$cfg")"
check "column types as comments" grep -qE '^      date_of_birth: suppress +# date$' "$cfg"
check "foreign keys are marked" grep -qE '^      case_id: suppress +# bigint, not null, references public.cases\(id\)$' "$cfg"
"$ANONETL" init --source-dsn "$reader_dsn" -o "$cfg" >/dev/null 2>&1; rc=$?
expect_eq "init never overwrites a file without --force (exit 2)" 2 "$rc"
"$ANONETL" init --source-dsn "$reader_dsn" -o "$cfg" --force >/dev/null 2>&1; rc=$?
expect_eq "init --force overwrites" 0 "$rc"
"$ANONETL" init --source-dsn "$reader_dsn" --schema no_such_schema >/dev/null 2>&1; rc=$?
expect_eq "init on a schema without tables exits 2" 2 "$rc"
"$ANONETL" init --source-dsn "host=$work/nowhere port=1 dbname=x" >/dev/null 2>&1; rc=$?
expect_eq "init with an unreachable source exits 4" 4 "$rc"
SOURCE_DATABASE_URL=$reader_dsn "$ANONETL" init >"$work/from_env.yaml" 2>/dev/null; rc=$?
expect_eq "init takes the DSN from SOURCE_DATABASE_URL (stdout)" "0 $(grep -c . "$cfg")" "$rc $(grep -c . "$work/from_env.yaml")"

# --- 2. fill the placeholders the config names, nothing else -------------------------------
names=$(grep -oE '\{ env: [A-Za-z_][A-Za-z0-9_]* \}' "$cfg" | sed 's/{ env: //; s/ }//' | sort -u | tr '\n' ' ')
expect_eq "the config names three environment variables" "ANONETL_HASH_KEY SOURCE_DATABASE_URL TARGET_DATABASE_URL " "$names"
for name in $names; do
    case "$name" in
    SOURCE_DATABASE_URL) export SOURCE_DATABASE_URL="$reader_dsn" ;;
    TARGET_DATABASE_URL) export TARGET_DATABASE_URL="$writer_dsn" ;;
    ANONETL_HASH_KEY) ANONETL_HASH_KEY=$(openssl rand -hex 32); export ANONETL_HASH_KEY ;;
    *) not_ok "unexpected placeholder $name" ;;
    esac
done
md5_before=$(md5sum <"$cfg")

# --- 3. check --source ------------------------------------------------------------------
"$ANONETL" check -c "$cfg" --source >"$work/check.out" 2>&1; rc=$?
expect_eq "check --source on the generated config exits 0" 0 "$rc"
check "every column covered" grep -q 'every column covered' "$work/check.out"
expect_eq "no personal-data warning on a config with no keep" 0 "$(grep -c '^warning:' "$work/check.out")"

# --- 4. run -----------------------------------------------------------------------------
"$ANONETL" run -c "$cfg" --skip-preflight >"$work/run.out" 2>&1; rc=$?
expect_eq "run with the generated config exits 0" 0 "$rc"
[ "$rc" -eq 0 ] || sed 's/^/#   /' "$work/run.out" | tail -20
expect_eq "the config was not edited" "$md5_before" "$(md5sum <"$cfg")"
for t in cases parties messages payments staff_notes; do
    expect_eq "$t: every source row published" "$(S -tAc "SELECT count(*) FROM public.$t")" \
        "$(T -tAc "SELECT count(DISTINCT id) FROM anonymised.$t" 2>&1)"
done
expect_eq "parties: nothing but the hashed key is published" 0 \
    "$(T -tAc "SELECT count(*) FROM anonymised.parties WHERE num_nonnulls(case_id, role, full_name, email, phone, postcode, date_of_birth, address_line, created_at, updated_at, is_test_account) > 0")"
expect_eq "parties: ids are pseudonyms, not the source ids" 0 \
    "$(T -tAc "SELECT count(*) FROM anonymised.parties WHERE id BETWEEN 0 AND 10000000")"

if python3 -c "import jsonschema, yaml" 2>/dev/null; then
    "$ANONETL" schema >"$work/schema.json"
    out=$(python3 -c "
import json, sys, yaml, jsonschema
errs = list(jsonschema.Draft202012Validator(json.load(open('$work/schema.json'))).iter_errors(yaml.safe_load(open('$cfg'))))
print('ok' if not errs else errs[0].message)")
    expect_eq "the generated config validates against anonetl schema" ok "$out"
else
    skip "the generated config validates against anonetl schema" "python3 jsonschema or PyYAML not importable"
fi

# --- 5. preview shows what run does, with the run's pseudonyms only when asked ----------
# By default preview hashes with a random key (and needs none): its output pairs source
# values with pseudonyms, which with the configured key would re-identify published rows
# wherever the output is pasted. --real-key shows the pseudonyms the run published.
preview_summary() { # JSON-FILE: rows, before filled, after NULL but the id, the ids
    python3 -c "
import json
d = json.load(open('$1'))
rows = d['rows']
print(len(rows),
      all(r['before']['full_name'] is not None for r in rows),
      all(v is None for r in rows for k, v in r['after'].items() if k != 'id'),
      ','.join(r['after']['id'] for r in rows), d['random_key'])" 2>&1
}
env -u ANONETL_HASH_KEY "$ANONETL" preview -c "$cfg" --table public.parties --limit 5 \
    >"$work/preview.json" 2>"$work/preview.err"; rc=$?
expect_eq "preview exits 0 without the hash key (JSON when not a terminal)" 0 "$rc"
# shellcheck disable=SC2046 # split the summary into its five words
set -- $(preview_summary "$work/preview.json")
expect_eq "preview: 5 rows, source values before, NULLs after, a random key" "5 True True True" \
    "${1:-} ${2:-} ${3:-} ${5:-}"
expect_eq "preview: no hashed id is one the run published" 0 \
    "$(T -tAc "SELECT count(*) FROM anonymised.parties WHERE id IN (${4:-0})" 2>&1)"
"$ANONETL" preview -c "$cfg" --table public.parties --limit 5 --real-key >"$work/preview.real.json" 2>&1
expect_eq "preview --real-key exits 0" 0 "$?"
# shellcheck disable=SC2046
set -- $(preview_summary "$work/preview.real.json")
expect_eq "preview --real-key: the configured key" "5 False" "${1:-} ${5:-}"
expect_eq "preview --real-key: the hashed ids are the ones run published" 5 \
    "$(T -tAc "SELECT count(*) FROM anonymised.parties WHERE id IN (${4:-0})" 2>&1)"
"$ANONETL" preview -c "$cfg" --table public.parties --random-key --real-key >/dev/null 2>&1
expect_eq "preview --random-key --real-key: exit 2" 2 "$?"
"$ANONETL" preview -c "$cfg" --table public.parties --limit 3 --text >"$work/preview.txt" 2>&1
check "preview --text: an aligned table with the rules" grep -qE '^  full_name +suppress +.+ +NULL$' "$work/preview.txt"
"$ANONETL" preview -c "$cfg" --table public.nope >/dev/null 2>&1; rc=$?
expect_eq "preview of a table not in the config exits 2" 2 "$rc"

# --- 6. check refuses keep on personal data (exit 6, as run would) --------------------------
sed -E 's/^(      (email|body|role)): suppress/\1: keep/' "$cfg" >"$work/keep.yaml"
"$ANONETL" check -c "$work/keep.yaml" --source >"$work/keep.out" 2>&1; rc=$?
expect_eq "check --source with keep on personal data exits 6 (run refuses it too)" 6 "$rc"
check "warns: parties.email by name" grep -q '^warning: public.parties.email: rule keep, but the name suggests an email address' "$work/keep.out"
check "warns: parties.email by content" grep -qE '^warning: public.parties.email: rule keep, but [0-9]+ of [0-9]+ sampled values contain email addresses' "$work/keep.out"
check "warns: messages.body by content (emails inside free text)" grep -qE '^warning: public.messages.body: rule keep, but [0-9]+ of [0-9]+ sampled values contain' "$work/keep.out"
expect_eq "no warning for an innocent keep column (parties.role)" 0 "$(grep -c 'parties.role' "$work/keep.out")"
leaked=$(S -tAc "SELECT count(*) FROM public.parties WHERE length(email) > 3 AND position(email IN \$\$$(cat "$work/keep.out")\$\$) > 0")
expect_eq "warnings hold no sampled value" 0 "$leaked"
"$ANONETL" check -c "$work/keep.yaml" >"$work/keep_static.out" 2>&1; rc=$?
expect_eq "check without --source: exit 6, name warnings only" "6 1 0" \
    "$rc $(grep -c '^warning: public.parties.email' "$work/keep_static.out") $(grep -c 'sampled' "$work/keep_static.out")"

# --- 7. tables the source role cannot read: init lists them, check says so -----------------
# (check --source and explain said "ok" / exit 0 and the run failed in its COPY: exit 4
# "permission denied"; now exit 6 with the GRANT to run, before anything is copied)
S >/dev/null <<'SQL'
CREATE SCHEMA priv;
GRANT USAGE ON SCHEMA priv TO anonetl_reader;
CREATE TABLE priv.ok (id int PRIMARY KEY, note text);
CREATE TABLE priv.hidden (id int PRIMARY KEY, note text);
CREATE TABLE priv."Part Cols" (id int PRIMARY KEY, a text, b text);
GRANT SELECT ON priv.ok TO anonetl_reader;
GRANT SELECT (id, a) ON priv."Part Cols" TO anonetl_reader;
CREATE VIEW priv.v_ok AS SELECT id FROM priv.ok;
CREATE MATERIALIZED VIEW priv.mv_ok AS SELECT id FROM priv.ok;
CREATE TABLE priv.no_cols ();
SQL
"$ANONETL" init --source-dsn "$reader_dsn" --schema priv -o "$work/priv.yaml" 2>/dev/null
expect_eq "init lists the tables the role cannot read too (3)" 3 "$(grep -c '^  - name: ' "$work/priv.yaml")"
# views, materialised views and column-less tables were left out without a word
expect_eq "init names what it did not write, in a closing comment" \
    "#   materialised view priv.mv_ok|#   table without columns priv.no_cols|#   view priv.v_ok" \
    "$(grep '^#   ' "$work/priv.yaml" | grep -v 'anonetl\|SOURCE_DATABASE_URL' | paste -sd'|')"
"$ANONETL" check -c "$work/priv.yaml" --source >"$work/priv.out" 2>&1; rc=$?
expect_eq "check --source: a table the role cannot SELECT: exit 6" 6 "$rc"
check "it names the table, the role and the GRANT" grep -qE "^$work/priv.yaml:[0-9]+:5: tables.priv.hidden: the source role anonetl_reader cannot SELECT this table \\(nor each of its columns\\): GRANT SELECT ON priv.hidden TO anonetl_reader" "$work/priv.out"
check "a column grant short of every column: named, the relation quoted" grep -qF 'tables.priv.Part Cols: the source role anonetl_reader cannot SELECT this table (nor each of its columns): GRANT SELECT ON priv."Part Cols" TO anonetl_reader' "$work/priv.out"
expect_eq "the readable table is not named" 0 "$(grep -c 'priv.ok' "$work/priv.out")"
"$ANONETL" explain -c "$work/priv.yaml" >"$work/priv.explain" 2>&1; rc=$?
expect_eq "explain: exit 6, each unreadable table said" "6 2" "$rc $(grep -c 'cannot be read: the source role anonetl_reader cannot SELECT it' "$work/priv.explain")"
"$ANONETL" run -c "$work/priv.yaml" --skip-preflight >"$work/priv.run" 2>&1; rc=$?
expect_eq "run: exit 6 before copying (it failed with exit 4 in the COPY)" "6 f" \
    "$rc $(T -tAc "SELECT to_regclass('anonymised.ok') IS NOT NULL")"
S -c "GRANT SELECT ON priv.hidden, priv.\"Part Cols\" TO anonetl_reader" >/dev/null
"$ANONETL" check -c "$work/priv.yaml" --source >"$work/priv.out" 2>&1; rc=$?
expect_eq "after the GRANT: check --source exits 0" 0 "$rc"

done_testing
