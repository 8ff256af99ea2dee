#!/usr/bin/env bash
# tests/integration/rules.sh: rule semantics on two real clusters, where the database
# decides what a value is.
#
#  1. Integer edges (issue 11.9): round and bucket on smallint/integer/bigint columns
#     holding their types' extremes publish values inside the type, the same on the
#     binary COPY path and the text one (ANONETL_TEXT_COPY=1); numeric edges widen.
#  2. Every rule x every family of source types (issue 11.8): text, varchar, char,
#     int2/4/8, numeric, float, real, bool, date, timestamp, timestamptz, time, interval,
#     uuid, json, jsonb, bytea, arrays, a domain, a domain over a domain and an enum. For each rule, the types it
#     cannot work on are a config error at `check --source` AND at `run` before anything
#     is copied: exit 2 and one line per column naming file:line:column; the types it can
#     work on pass check, run (exit 0) and publish values (not a column of NULLs).
#     The source database's time zone is not UTC: timestamps still shift by whole days.
#  3. keep on personal-looking columns (issue 10.8): a keep whose name or sampled content
#     looks like personal data stops `run` with exit 6 (nothing published) and makes
#     `check` exit 6, unless the rule records its review (keep: { reviewed: "why" }); the
#     reason is logged and stored with the run (anonetl.run_reviews), with the column's
#     type: a kept column retyped to another kind of values (a composite given an
#     attribute too) needs a (new) review.
#     A keep on a generated column computed from a column another rule hides is refused
#     the same way.
#  4. scrub on real free text (issue 10.11): the spellings that used to slip through are
#     gone from the published text, look-alikes (dates, amounts, order numbers) survive,
#     and `row_values` removes the row's own name, e-mail and phone from its message
#     (source values, whatever those columns publish); naming a column that is not in
#     the table is exit 2 with file:line:column at check.
#  5. a scrub pattern past PCRE2's match limit: the values it withholds (NULL) are counted
#     in a warning naming file:line:column and key, by run and preview.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/tap.sh
. tests/lib/pgcluster.sh

ANONETL=${ANONETL:-./anonetl}
pgc_pair || { echo "not ok 1 - clusters did not start"; exit 1; }

ANONETL_HASH_KEY=$(openssl rand -hex 32)
export ANONETL_HASH_KEY
SOURCE_DATABASE_URL=$(pgc_dsn "$work/src")
TARGET_DATABASE_URL=$(pgc_dsn "$work/tgt")
export SOURCE_DATABASE_URL TARGET_DATABASE_URL
log=$work/run.log

header() { # the config up to `tables:`
    cat <<'YAML'
version: 1
source:
  dsn: { env: SOURCE_DATABASE_URL }
target:
  dsn: { env: TARGET_DATABASE_URL }
  schema: anonymised
secrets:
  hash_key: { env: ANONETL_HASH_KEY }
tables:
YAML
}

# --- 1. integer edges, both COPY paths --------------------------------------------------
S <<'SQL' >/dev/null
CREATE TABLE public.edges (id integer PRIMARY KEY, i2 smallint, i4 integer, i8 bigint);
INSERT INTO public.edges VALUES
 (1, 32767, 2147483647, 9223372036854775807),
 (2, -32768, -2147483648, -9223372036854775808),
 (3, 32766, 2147483646, 9223372036854775806),
 (4, -32767, -2147483647, -9223372036854775807),
 (5, 0, 0, 0), (6, 1234, -1234, 1234), (7, NULL, NULL, NULL);
CREATE TABLE public.edges_numeric (id integer PRIMARY KEY, n numeric, n2 numeric(6,1));
INSERT INTO public.edges_numeric VALUES
 (1, 2147483647, 99999.9), (2, -9223372036854775808, -99999.9), (3, 5, 4.9);
SQL
edges_config() { # FILE
    { header; cat <<'YAML'; } >"$1"
  - name: public.edges
    columns:
      id: keep
      i2: { round: { multiple: 10 } }
      i4: { round: { multiple: 10 } }
      i8: { round: { digits: -2 } }
  - name: public.edges_buckets
    columns:
      id: keep
      i2: { bucket: { width: 500 } }
      i4: { bucket: { width: 500 } }
      i8: { round: { multiple: 3 } }
  - name: public.edges_numeric
    columns:
      id: keep
      n: { round: { multiple: 10 } }
      n2: { round: { digits: -1 } }
YAML
}
S -c "CREATE VIEW public.edges_buckets AS SELECT * FROM public.edges" >/dev/null
edges_config "$work/edges.yaml"
published() { # TABLE
    T -tA -F ' ' -c "SELECT * FROM anonymised.$1 ORDER BY id"
}
"$ANONETL" run -c "$work/edges.yaml" --skip-preflight >"$log" 2>&1
expect_eq "edges: binary COPY run exits 0" 0 "$?"
bin_round=$(published edges) bin_bucket=$(published edges_buckets) bin_num=$(published edges_numeric)
ANONETL_TEXT_COPY=1 "$ANONETL" run -c "$work/edges.yaml" --skip-preflight >"$log" 2>&1
expect_eq "edges: text COPY run exits 0" 0 "$?"
expect_eq "edges: round, both paths publish the same" "$bin_round" "$(published edges)"
expect_eq "edges: bucket, both paths publish the same" "$bin_bucket" "$(published edges_buckets)"
expect_eq "edges: numeric, both paths publish the same" "$bin_num" "$(published edges_numeric)"
expect_eq "edges: round at the integer edges stays inside each type" \
"1 32760 2147483640 9223372036854775800
2 -32760 -2147483640 -9223372036854775800
3 32760 2147483640 9223372036854775800
4 -32760 -2147483640 -9223372036854775800
5 0 0 0
6 1230 -1230 1200
7   " "$bin_round"
expect_eq "edges: bucket lower bounds below the minimum are the minimum" \
"1 32500 2147483500 9223372036854775806
2 -32768 -2147483648 -9223372036854775806
3 32500 2147483500 9223372036854775806
4 -32768 -2147483648 -9223372036854775806
5 0 0 0
6 1000 -1500 1233
7   " "$bin_bucket"
expect_eq "edges: numeric rounds past the integer edges exactly" \
"1 2147483650 100000
2 -9223372036854775810 -100000
3 10 0" "$bin_num"
expect_eq "edges: integer columns keep their types" "smallint integer bigint" \
    "$(T -tAc "SELECT string_agg(data_type, ' ' ORDER BY ordinal_position) FROM information_schema.columns
               WHERE table_schema = 'anonymised' AND table_name = 'edges' AND column_name <> 'id'")"

# --- 2. every rule x every family of source types -------------------------------------------
S <<'SQL' >/dev/null
ALTER DATABASE postgres SET timezone = 'America/New_York';
CREATE TYPE mood AS ENUM ('calm', 'angry');
CREATE DOMAIN posint AS integer CHECK (VALUE > 0);
CREATE DOMAIN age AS posint CHECK (VALUE < 200);
CREATE TABLE public.matrix (
    id integer PRIMARY KEY,
    t_text text, t_varchar varchar(40), t_code varchar(3), t_char char(10),
    t_int2 smallint, t_int4 integer, t_int8 bigint, t_numeric numeric(10,2),
    t_float double precision, t_real real, t_bool boolean,
    t_date date, t_ts timestamp, t_tstz timestamptz, t_time time, t_interval interval,
    t_uuid uuid, t_json json, t_jsonb jsonb, t_bytea bytea,
    t_text_arr text[], t_int_arr integer[], t_date_arr date[],
    t_domain posint, t_enum mood, t_nested age);
INSERT INTO public.matrix VALUES
 (1, 'mail alice@example.com or 07700 900123', 'EC1A 1BB', 'abc', 'SW1A 1AA',
  12, 1234, 123456789012, 1234.56, 1234.5, 12.5, true,
  '1984-07-23', '2024-03-10 08:15:00', '2024-03-10 08:15:00+00', '08:15:00', '1 day 02:00',
  'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{"email": "a@example.com", "n": 1}',
  '{"email": "b@example.com", "n": 2}', '\x00ff',
  '{"call 07700 900123",b}', '{1,2}', '{2024-01-01,NULL}', 7, 'calm', 42),
 (2, 'SW1A 2AA', 'plain text', 'xy', 'M1 1AE',
  -5, -2147483648, -9, -0.5, -1e-3, 0, false,
  '2001-02-03', '1999-12-31 23:59:59.5', '1999-12-31 23:59:59.5+00', '23:59:59', '-3 mons',
  '00000000-0000-0000-0000-000000000000', '[1, 2]', '{"a": {"email": "c@example.com"}}', '\x',
  '{}', '{NULL,5}', '{2000-02-29}', 1, 'angry', 1),
 (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
  NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
SQL
types="t_text t_varchar t_code t_char t_int2 t_int4 t_int8 t_numeric t_float t_real t_bool t_date
t_ts t_tstz t_time t_interval t_uuid t_json t_jsonb t_bytea t_text_arr t_int_arr t_date_arr
t_domain t_enum t_nested"
text_like="t_text t_varchar t_code t_char t_enum"
numbers="t_int2 t_int4 t_int8 t_numeric t_float t_real t_int_arr t_domain t_nested"
dates="t_date t_ts t_tstz t_date_arr"
# rule name | the rule as written | the columns it works on ("all": every one)
rules=(
    "keep|{ keep: { reviewed: \"made-up test values\" } }|all"
    "suppress|suppress|all"
    "constant_abc|{ constant: abc }|t_text t_varchar t_code t_char t_bytea t_enum"
    "constant_date|{ constant: 2024-01-01 }|t_text t_varchar t_char t_date t_ts t_tstz t_bytea t_enum"
    "constant_not_a_date|{ constant: not-a-date }|t_text t_varchar t_char t_bytea t_enum"
    "hash|{ hash: { length: 16 } }|all"
    "hash_int|hash_int|all"
    "mask|{ mask: { keep_last: 2 } }|all"
    "truncate|{ truncate: { length: 4 } }|all"
    "outward_code|{ truncate: { outward_code: true } }|$text_like t_text_arr"
    "generalise|{ generalise: { to: year } }|$dates"
    "age_band|{ generalise: { to: age_band, width: 10 } }|$dates"
    "bucket|{ bucket: { width: 10 } }|$numbers"
    "bucket_top|{ bucket: { width: 10, max: 1000 } }|$numbers"
    "round|{ round: { multiple: 10 } }|$numbers"
    "scrub|scrub|$text_like t_json t_jsonb t_text_arr"
    "date_shift|{ date_shift: { by: id } }|$dates"
    "json|{ json: { paths: { \"\$.email\": hash } } }|t_json t_jsonb"
)
# Columns an ok rule may leave all NULL: its documented policy for values it does not
# recognise (a mood is no postcode).
all_null_ok="outward_code:t_enum outward_code:t_code outward_code:t_text_arr"
works_on() { # RULE-COLUMNS COLUMN
    [ "$1" = all ] && return 0
    case " $1 " in *" $2 "*) return 0 ;; esac
    return 1
}
matrix_config() { # FILE RULE COLUMNS...: COLUMNS get RULE, the others suppress
    local file=$1 rule=$2 c
    shift 2
    { header
      echo "  - name: public.matrix"
      echo "    columns:"
      echo "      id: keep"
      for c in $types; do
          if case " $* " in *" $c "*) true ;; *) false ;; esac; then
              echo "      $c: $rule"
          else
              echo "      $c: suppress"
          fi
      done
    } >"$file"
}
nonnull() { # COLUMN: non-NULL published values of the column
    T -tAc "SELECT count($1) FROM anonymised.matrix"
}
for entry in "${rules[@]}"; do
    IFS='|' read -r name rule on <<<"$entry"
    good="" bad=""
    for c in $types; do
        if works_on "$on" "$c"; then good="$good $c"; else bad="$bad $c"; fi
    done
    # the types the rule cannot work on: exit 2, one file:line:column per column
    if [ -n "$bad" ]; then
        cfg=$work/bad-$name.yaml
        matrix_config "$cfg" "$rule" $bad
        for cmd in "check --source" "run --skip-preflight"; do
            out=$("$ANONETL" ${cmd% *} -c "$cfg" ${cmd#* } 2>&1); rc=$?
            missing=""
            for c in $bad; do
                line=$(grep -n "^      $c: " "$cfg" | cut -d: -f1)
                # check prints the lines; run logs one config_problem event per line
                printf '%s\n' "$out" | grep -q "^$cfg:$line:7: tables\.public\.matrix\.columns\.$c: \|\"msg\":\"$cfg:$line:7: tables\.public\.matrix\.columns\.$c: " ||
                    missing="$missing $c"
            done
            extra=$(printf '%s\n' "$out" | grep -o "$cfg:[0-9]*:[0-9]*: tables\.public\.matrix\.columns\.[a-z_0-9]*" |
                    sed 's/.*columns\.//' | while read -r c; do works_on "$on" "$c" && echo "$c"; done)
            if [ "$rc" -eq 2 ] && [ -z "$missing" ] && [ -z "$extra" ]; then
                ok "$name: ${cmd%% *} refuses $(echo "$bad" | wc -w | tr -d ' ') column types with exit 2 and file:line:column"
            else
                not_ok "$name: ${cmd%% *} refuses what it cannot work on (exit 2, file:line:column)" \
                    "exit $rc; not named:$missing; named but fine: $extra
$(printf '%s\n' "$out" | head -8)"
            fi
        done
    fi
    # the types it can work on: check passes, the run publishes values
    cfg=$work/good-$name.yaml
    matrix_config "$cfg" "$rule" $good
    out=$("$ANONETL" check -c "$cfg" --source 2>&1); rc=$?
    expect_eq "$name: check --source accepts $(echo "$good" | wc -w | tr -d ' ') column types" 0 "$rc"
    [ "$rc" -eq 0 ] || printf '%s\n' "$out" | head -5 | sed 's/^/#   /'
    "$ANONETL" run -c "$cfg" --skip-preflight >"$log" 2>&1; rc=$?
    expect_eq "$name: run exits 0" 0 "$rc"
    [ "$rc" -eq 0 ] || tail -5 "$log" | sed 's/^/#   /'
    empty=""
    for c in $good; do
        n=$(nonnull "$c")
        case "$name" in
        suppress) [ "$n" = 0 ] || empty="$empty $c(not NULL)" ;;
        constant_*) [ "$n" = 3 ] || empty="$empty $c($n)" ;;
        *) [ "$n" -ge 1 ] || case " $all_null_ok " in *" $name:$c "*) ;; *) empty="$empty $c" ;; esac ;;
        esac
    done
    expect_eq "$name: every column it works on publishes values" "" "$empty"
done

# A domain over a domain over integer is an integer (its innermost base type): number rules
# take it, scrub does not (the loop above), and it is published as one.
expect_eq "a domain over a domain over integer is published as integer" integer \
    "$(T -tAc "SELECT data_type FROM information_schema.columns WHERE table_schema = 'anonymised' AND table_name = 'matrix' AND column_name = 't_nested'")"

# A constant is read as COPY reads it into its column: the type's input function with the
# column's length (a CAST pads "1" to a bit(3) and cuts "{abc}" to a varchar(2)[], where
# COPY refuses them: check passed and every run failed with exit 5).
S -c "CREATE TABLE public.sized (id integer PRIMARY KEY, b bit(3), vb varbit(2), va varchar(2)[], ca char(2)[])" >/dev/null
S -c "INSERT INTO public.sized VALUES (1, '101', '1', '{ab}', '{ab}')" >/dev/null
sized_config() { # FILE B VB VA CA: the constants
    { header; cat <<YAML; } >"$1"
  - name: public.sized
    columns: { id: keep, b: { constant: "$2" }, vb: { constant: "$3" }, va: { constant: "$4" }, ca: { constant: "$5" } }
YAML
}
sized_config "$work/sized_bad.yaml" 1 x1 '{abc}' '{abc}'
"$ANONETL" check -c "$work/sized_bad.yaml" --source >"$work/sized.out" 2>&1
expect_eq "constants longer or shorter than their column's length: check --source exit 2" 2 $?
expect_eq "... each named with file:line:column" "b vb va ca" \
    "$(grep -o "sized_bad.yaml:[0-9]*:[0-9]*: tables\.public\.sized\.columns\.[a-z]*: constant" "$work/sized.out" | sed 's/.*columns\.\([a-z]*\).*/\1/' | tr '\n' ' ' | sed 's/ $//')"
"$ANONETL" run -c "$work/sized_bad.yaml" --skip-preflight >"$log" 2>&1
expect_eq "... and run refuses them before copying (exit 2)" 2 $?
sized_config "$work/sized_ok.yaml" 010 10 '{ab,c}' '{a}'
"$ANONETL" run -c "$work/sized_ok.yaml" --skip-preflight >"$log" 2>&1
expect_eq "constants COPY takes (exact bit length, short char padded): run exits 0" 0 $?
expect_eq "... published as COPY reads them" '010|10|{ab,c}|{"a "}' "$(T -tAc "SELECT b, vb, va, ca FROM anonymised.sized")"

# date_shift on a source whose time zone is not UTC: whole days, midnight (time: truncate)
matrix_config "$work/shift.yaml" "{ date_shift: { by: id } }" t_ts t_tstz t_date
"$ANONETL" run -c "$work/shift.yaml" --skip-preflight >"$log" 2>&1
expect_eq "date_shift: run exits 0" 0 "$?"
expect_eq "date_shift: timestamps become midnight, timestamptz midnight UTC" "00:00:00 00:00:00|00:00:00 00:00:00" \
    "$(T -tAc "SET timezone = 'UTC'; SELECT string_agg(t_ts::time::text || ' ' || t_tstz::time::text, '|' ORDER BY id)
               FROM anonymised.matrix WHERE id < 3")"
expect_eq "date_shift: one entity's dates move together (same offset for each type)" "t" \
    "$(S -tAc "SELECT 1" >/dev/null; T -tAc "SET timezone = 'UTC';
       SELECT bool_and(d_ts = d_tstz) FROM (SELECT m.id, (m.t_ts::date - s.ts::date) AS d_ts,
              (m.t_tstz AT TIME ZONE 'UTC')::date - s.tstz::date AS d_tstz
              FROM anonymised.matrix m JOIN (VALUES (1, '2024-03-10'::date, '2024-03-10'::date),
                   (2, '1999-12-31', '1999-12-31')) s(id, ts, tstz) USING (id)) x")"

# the reproductions of the issue, by name
repro() { # NAME RULE COLUMN WANT-IN-MESSAGE
    matrix_config "$work/repro.yaml" "$2" "$3"
    out=$("$ANONETL" check -c "$work/repro.yaml" --source 2>&1); rc=$?
    line=$(grep -n "^      $3: " "$work/repro.yaml" | cut -d: -f1)
    if [ "$rc" -eq 2 ] && printf '%s\n' "$out" | grep -q "^$work/repro.yaml:$line:7: tables\.public\.matrix\.columns\.$3: .*$4"; then
        ok "$1: exit 2 at check --source, file:line:column"
    else
        not_ok "$1: exit 2 at check --source, file:line:column" "exit $rc: $out"
    fi
}
repro "round on text" "{ round: { digits: 0 } }" t_text "round needs a number column"
repro "bucket on a date" "{ bucket: { width: 10 } }" t_date "bucket needs a number column"
repro "constant abc on an int" "{ constant: abc }" t_int4 'constant: "abc" is not a valid integer'
repro "constant not-a-date on a date" "{ constant: not-a-date }" t_date 'is not a valid date'
repro "constant too long for varchar(3)" "{ constant: abcd }" t_code "longer than the 3 characters"
# explain agrees with check --source (it printed the problem and exited 0): a rule that
# cannot handle its column's type is exit 2, a table the source does not have exit 6,
# each at file:line:column, the rules still shown
matrix_config "$work/repro.yaml" "{ round: { digits: 0 } }" t_text
out=$("$ANONETL" explain -c "$work/repro.yaml" 2>&1); rc=$?
line=$(grep -n "^      t_text: " "$work/repro.yaml" | cut -d: -f1)
if [ "$rc" -eq 2 ] && grep -q "(cannot match the source: $work/repro.yaml:$line:7: tables\.public\.matrix\.columns\.t_text: round: round needs a number column" <<<"$out" &&
    grep -q "^  t_text  *round(digits=0)$" <<<"$out"; then
    ok "explain, round on text: exit 2 as check --source, file:line:column, the rules shown"
else
    not_ok "explain, round on text: exit 2 as check --source, file:line:column, the rules shown" "exit $rc: $out"
fi
{ header; printf '  - name: public.no_such_table\n    columns: { id: keep }\n'; } >"$work/missing.yaml"
out=$("$ANONETL" explain -c "$work/missing.yaml" 2>&1); rc=$?
"$ANONETL" check -c "$work/missing.yaml" --source >/dev/null 2>&1
expect_eq "explain, a table the source does not have: exit 6, as check --source" "6 6" "$rc $?"
check "explain names it at file:line:column" grep -q "(cannot match the source: $work/missing.yaml:10:5: tables\.public\.no_such_table: table public.no_such_table does not exist in the source" <<<"$out"
# every message of check --source names the table as the others do (tables.SCHEMA.NAME:
# it was "columns.X" for a type problem, "tables.NAME.columns.X" for a missing column and
# "tables:" for a missing table)
matrix_config "$work/extra.yaml" suppress
printf '      no_such_col: keep\n' >>"$work/extra.yaml"
out=$("$ANONETL" check -c "$work/extra.yaml" --source 2>&1); rc=$?
line=$(grep -n "^      no_such_col: " "$work/extra.yaml" | cut -d: -f1)
expect_eq "a configured column the source does not have: exit 6" 6 "$rc"
check "named tables.public.matrix.columns.no_such_col at file:line:column" \
    grep -q "^$work/extra.yaml:$line:7: tables\.public\.matrix\.columns\.no_such_col: no such column in the source" <<<"$out"
{ header; cat <<'YAML'; } >"$work/by.yaml"
  - name: public.matrix
    columns:
      id: keep
      t_date: { date_shift: { by: nosuch } }
YAML
out=$("$ANONETL" check -c "$work/by.yaml" --source 2>&1); rc=$?
if [ "$rc" -eq 2 ] && printf '%s\n' "$out" | grep -q "^$work/by.yaml:13:35: tables\[0\].columns.t_date.date_shift.by: \"nosuch\" is not a column"; then
    ok "date_shift by: nosuch: exit 2, file:line:column"
else
    not_ok "date_shift by: nosuch: exit 2, file:line:column" "exit $rc: $out"
fi

# --- 3. keep on columns that look personal ------------------------------------------------
S <<'SQL' >/dev/null
CREATE TABLE public.contacts (id integer PRIMARY KEY, email text, status text, remarks text);
INSERT INTO public.contacts
SELECT g, 'user' || g || '@example.org', 'open', CASE WHEN g % 3 = 0 THEN 'ring 07700 900' || (100 + g) ELSE 'fine' END
FROM generate_series(1, 60) g;
SQL
contacts_config() { # FILE EMAIL-RULE REMARKS-RULE
    { header; cat <<YAML; } >"$1"
  - name: public.contacts
    columns:
      id: keep
      email: $2
      status: keep
      remarks: $3
YAML
}
published_contacts() { T -tAc "SELECT count(*) FROM anonymised.contacts" 2>/dev/null; }
# by name (email) and by content (phone numbers in remarks): run refuses, check too
contacts_config "$work/keep.yaml" keep keep
out=$("$ANONETL" run -c "$work/keep.yaml" --skip-preflight 2>&1); rc=$?
expect_eq "keep: run refuses personal-looking keep columns (exit 6)" 6 "$rc"
expect_eq "keep: nothing published" "" "$(published_contacts)"
check "keep: the run names contacts.email (by its name)" \
    grep -q 'public.contacts.email: rule keep, but the name suggests an email address' <<<"$out"
check "keep: the run names contacts.remarks (by sampled content)" \
    grep -q 'public.contacts.remarks: rule keep, but [0-9]* of [0-9]* sampled values contain phone numbers' <<<"$out"
expect_eq "keep: status (not personal) is not named" 0 "$(grep -c 'contacts.status' <<<"$out")"
expect_eq "keep: no sampled value in the output" 0 "$(grep -c '@example.org\|07700' <<<"$out")"
"$ANONETL" check -c "$work/keep.yaml" --source >"$work/check.out" 2>&1
expect_eq "keep: check --source exits 6 as run would" 6 "$?"
"$ANONETL" check -c "$work/keep.yaml" >"$work/check.out" 2>&1
expect_eq "keep: check (names only) exits 6 for the email column" 6 "$?"
# the same content written with no-break spaces and a fullwidth at sign (scrubnorm.h): the
# content detectors are scrub's, and found neither before (the keeps passed, exit 0)
S <<'SQL' >/dev/null
CREATE TABLE public.contacts_nb (id integer PRIMARY KEY, remarks text, memo text);
INSERT INTO public.contacts_nb
SELECT g, U&'ring 07700\00A0900' || (100 + g), 'write to user' || g || U&'\FF20example.org'
FROM generate_series(1, 60) g;
SQL
{ header; cat <<YAML; } >"$work/keep_nb.yaml"
  - name: public.contacts_nb
    columns: { id: keep, remarks: keep, memo: keep }
YAML
out=$("$ANONETL" check -c "$work/keep_nb.yaml" --source 2>&1); rc=$?
expect_eq "keep: phones with no-break spaces, fullwidth at signs: check --source exits 6" 6 "$rc"
check "keep: it names contacts_nb.remarks (phone numbers)" \
    grep -q 'public.contacts_nb.remarks: rule keep, but [0-9]* of [0-9]* sampled values contain phone numbers' <<<"$out"
check "keep: it names contacts_nb.memo (e-mail addresses)" \
    grep -q 'public.contacts_nb.memo: rule keep, but [0-9]* of [0-9]* sampled values contain email addresses' <<<"$out"
# reviewed: the run publishes and records why
contacts_config "$work/keep.yaml" '{ keep: { reviewed: "test addresses only, generated" } }' \
    '{ keep: { reviewed: "phone numbers of our own offices" } }'
"$ANONETL" check -c "$work/keep.yaml" --source >"$work/check.out" 2>&1
expect_eq "reviewed: check --source exits 0" 0 "$?"
"$ANONETL" run -c "$work/keep.yaml" --skip-preflight >"$log" 2>&1
expect_eq "reviewed: run exits 0" 0 "$?"
expect_eq "reviewed: published" 60 "$(published_contacts)"
expect_eq "reviewed: the reasons are in the run record" \
    "email:test addresses only, generated|remarks:phone numbers of our own offices" \
    "$(T -tAc "SELECT string_agg(column_name || ':' || reviewed, '|' ORDER BY column_name)
               FROM anonetl.run_reviews WHERE table_name = 'public.contacts'
               AND run_id = (SELECT max(run_id) FROM anonetl.runs WHERE status = 'succeeded')")"
check "reviewed: the run log says why each column is kept" \
    grep -q 'public.contacts.email kept as is, reviewed: test addresses only, generated' "$log"
# a keep the detectors do not flag needs no review
contacts_config "$work/keep.yaml" hash '{ scrub: [phone] }'
"$ANONETL" run -c "$work/keep.yaml" --skip-preflight >"$log" 2>&1
expect_eq "keep: an innocent keep (status) runs without a review" 0 "$?"

# A keep covers the kind of values it saw: a kept column retyped to another kind (integer
# codes become text: names, which no detector flags) stops the run until it is reviewed
# (again: a new reviewed: text); a retype within one kind (integer -> bigint, date ->
# timestamptz) does not. Arrays by their elements; a keep without a review by the type it
# was last published with.
S <<'SQL' >/dev/null
CREATE TABLE public.codes (id integer PRIMARY KEY, code integer, tags integer[], seen date, level smallint);
INSERT INTO public.codes SELECT g, g % 7, ARRAY[g % 3, g % 5], DATE '2020-01-01' + g, g % 4 FROM generate_series(1, 40) g;
SQL
codes_config() { # CODE-REVIEW TAGS-REVIEW [LEVEL-RULE]
    { header; cat <<YAML; } >"$work/codes.yaml"
  - name: public.codes
    columns:
      id: keep
      code: { keep: { reviewed: "$1" } }
      tags: { keep: { reviewed: "$2" } }
      seen: { keep: { reviewed: "day of the last visit, not a birth date" } }
      level: ${3:-keep}
YAML
}
codes_run() { "$ANONETL" run -c "$work/codes.yaml" --skip-preflight >"$log" 2>&1; }
codes_config "status codes 0-6" "numeric tags of a fixed list"
codes_run; expect_eq "kept columns: the first run exits 0" 0 "$?"
expect_eq "kept columns: each review is recorded with the column's type" \
    "code:integer|seen:date|tags:integer[]" \
    "$(T -tAc "SELECT string_agg(column_name || ':' || source_type, '|' ORDER BY column_name)
               FROM anonetl.run_reviews WHERE table_name = 'public.codes'
               AND run_id = (SELECT max(run_id) FROM anonetl.runs WHERE status = 'succeeded')")"
S -c "ALTER TABLE public.codes ALTER code TYPE bigint, ALTER seen TYPE timestamptz, ALTER level TYPE integer" >/dev/null
codes_run; expect_eq "retyped within one kind (integer -> bigint, date -> timestamptz, smallint -> integer): run exits 0" 0 "$?"
S -c "ALTER TABLE public.codes ALTER code TYPE text USING 'Alice Smith ' || code,
      ALTER tags TYPE text[] USING ARRAY['Bob Jones'], ALTER level TYPE text USING 'Carol King'" >/dev/null
codes_run; rc=$?
expect_eq "retyped to another kind (bigint -> text, integer[] -> text[], integer -> text): run exits 6" 6 "$rc"
check "it names codes.code, the type reviewed and the type now" \
    grep -q 'public.codes.code: rule keep reviewed when the column was bigint; it is text now' "$log"
check "codes.tags by its elements" grep -q 'public.codes.tags: rule keep reviewed when the column was integer\[\]; it is text\[\] now' "$log"
check "and codes.level, a keep without a review, by the type it was published with" \
    grep -q 'public.codes.level: rule keep, published when the column was integer; it is text now.*keep: { reviewed' "$log"
expect_eq "nothing published: the codes are still numbers, no name" "0 0 0" \
    "$(T -tAc "SELECT count(*) FILTER (WHERE code::text !~ '^[0-6]$') || ' ' || count(*) FILTER (WHERE tags::text LIKE '%Bob%')
               || ' ' || count(*) FILTER (WHERE level::text !~ '^[0-3]$') FROM anonymised.codes")"
expect_eq "no value in the output" 0 "$(grep -c 'Alice\|Bob\|Carol' "$log")"
codes_config "status codes 0-6" "tags: labels of a fixed list" '{ keep: { reviewed: "levels: labels of a fixed list" } }'
codes_run; expect_eq "tags and level reviewed (again), code not: still exit 6, for code only" "6 0 yes" \
    "$? $(grep -c 'codes\.tags: rule keep\|codes\.level: rule keep' "$log") $(grep -q 'codes\.code: rule keep' "$log" && echo yes)"
codes_config "labels of a fixed list, checked after the migration" "tags: labels of a fixed list" '{ keep: { reviewed: "levels: labels of a fixed list" } }'
codes_run; expect_eq "all three reviewed (new reviewed: texts): run exits 0" 0 "$?"
expect_eq "the new reviews are recorded with the new types" "code:text|level:text|tags:text[]" \
    "$(T -tAc "SELECT string_agg(column_name || ':' || source_type, '|' ORDER BY column_name)
               FROM anonetl.run_reviews WHERE table_name = 'public.codes' AND column_name <> 'seen'
               AND run_id = (SELECT max(run_id) FROM anonetl.runs WHERE status = 'succeeded')")"

# A composite's attributes are part of its kind: one added (ALTER TYPE ... ADD ATTRIBUTE)
# is published by a keep of the column, or of an array of them, as soon as it is filled.
S <<'SQL' >/dev/null
CREATE TYPE public.place AS (city text);
CREATE TABLE public.homes (id integer PRIMARY KEY, home public.place, past public.place[]);
INSERT INTO public.homes SELECT g, '(Leeds)', ARRAY['(York)'::public.place] FROM generate_series(1, 20) g;
SQL
homes_config() { # HOME-RULE PAST-RULE
    { header; cat <<YAML; } >"$work/homes.yaml"
  - name: public.homes
    columns: { id: keep, home: $1, past: $2 }
YAML
}
homes_run() { "$ANONETL" run -c "$work/homes.yaml" --skip-preflight >"$log" 2>&1; }
homes_config keep keep
homes_run; expect_eq "composites kept: the first run exits 0, 20 rows" "0 20" "$? $(T -tAc 'SELECT count(*) FROM anonymised.homes')"
# as an earlier anonetl recorded them: the type's name only; the name decides once
T -c "UPDATE anonetl.published SET source_layout = regexp_replace(source_layout, ' \{[^}]*\}', '', 'g')
      WHERE table_name = 'homes'" >/dev/null
homes_run; expect_eq "composites recorded without their attributes (an earlier anonetl): run exits 0" 0 "$?"
S -c "ALTER TYPE public.place ADD ATTRIBUTE owner text;
      UPDATE public.homes SET home.owner = 'Dana Leigh', past = ARRAY['(York,Dana Leigh)'::public.place]" >/dev/null
homes_run; rc=$?
expect_eq "an attribute added to the composite: run exits 6" 6 "$rc"
check "it names homes.home with both attribute lists" \
    grep -q 'public.homes.home: rule keep, published when the column was public.place {city text}; it is public.place {city text, owner text} now' "$log"
check "and homes.past (an array of them)" grep -q 'public.homes.past: rule keep, published when the column was public.place\[\] {city text}' "$log"
expect_eq "nothing published: no owner" 0 "$(T -tAc "SELECT count(*) FROM anonymised.homes WHERE home::text LIKE '%Dana%' OR past::text LIKE '%Dana%'")"
homes_config '{ keep: { reviewed: "owners are companies" } }' '{ keep: { reviewed: "owners are companies" } }'
homes_run; expect_eq "reviewed: run exits 0, the owners published" "0 20" \
    "$? $(T -tAc "SELECT count(*) FROM anonymised.homes WHERE home::text LIKE '%Dana%' AND past::text LIKE '%Dana%'")"
# a composite whose attributes make a long type (more than 256 bytes): unchanged, it passes
S -c "CREATE TYPE public.wide AS ($(seq -f 'attribute_with_a_long_name_%02g text' -s ', ' 1 12))" >/dev/null
S -c "ALTER TABLE public.homes ADD COLUMN w public.wide" >/dev/null
homes_config '{ keep: { reviewed: "owners are companies" } }' '{ keep: { reviewed: "owners are companies" } }'
sed -i 's/past: \(.*\) }$/past: \1, w: keep }/' "$work/homes.yaml"
homes_run; expect_eq "a long composite type kept: run exits 0" 0 "$?"
homes_run; expect_eq "and again, unchanged: run exits 0" 0 "$?"

# --- 4. scrub: widened detectors and the row's own values ----------------------------------
S <<'SQL' >/dev/null
CREATE TABLE public.tickets (id integer PRIMARY KEY, full_name text, email text, phone text,
                             message text);
INSERT INTO public.tickets VALUES
 (1, 'Zoë O''Brien', 'zoe.obrien@example.com', '07700 900123',
  'Hi, Zoe O''Brien here (ZOE). Ring 0044 20 7946 0958 or 07700.900.123; write to o''brien@example.ie or zoe at example dot com. Order ODR-2024-000871 of 2024-03-01, £1,234.56.'),
 (2, 'Łukasz Wiśniewski', NULL, '+1 (202) 555-0143',
  'Lukasz Wisniewski writing: my US number is +1 (202) 555-0143, card 4111  1111  1111  1111, IBAN gb82-west-1234-5698-7654-32, NI AB123456, postcode SW1A  1AA. Ref 17.05.2023 at 10:30.'),
 (3, 'Ann Lee', 'ann@example.org', NULL,
  'Planning a visit: "bob"@example.com asked Ann to call. Version 10.0.19045.2965, 3 items.'),
 (4, NULL, NULL, NULL, 'No name here, just text and order 2025550143.'),
 (5, 'Xu Li', NULL, NULL, 'Called Mr Li and Mrs XU; Lisa took notes.'),
 (6, 'Zoë Adams', NULL, NULL, 'Zo' || U&'e\0308' || ' phoned; ADAMS too.'),
 (7, 'Иван Петров', NULL, NULL, 'ПЕТРОВ звонил; Nguyen asked.'),
 (8, 'Nguyễn Thị Ánh', NULL, NULL, 'Spoke with NGUYỄN, also Nguyen Thi Anh; Petrov absent.'),
 (9, NULL, NULL, NULL, U&'Ring 07700\00A0900123 or 020\20137946\20130958; mailto:alice%40example.com, bob\FF20example.org, card 4111\00A01111\00A01111\00A01111.'),
 (10, NULL, NULL, NULL, U&'Open 9\20135,\00A0Mon\2013Fri, 10%40 off \FF08ref 0123\00A0456\FF09.'),
 (11, 'Zoë Adams', NULL, NULL, U&'Mr\00A0Adams called; \00ABZo\00EB\00BB \201CAdams\201D, Adams\2026'),
 (12, NULL, 'a.lee77@example.org', NULL, 'Teams user a.lee77 asked; A.LEE77 again.');
SQL
tickets_config() { # FILE MESSAGE-RULE
    { header; cat <<YAML; } >"$1"
  - name: public.tickets
    columns:
      id: keep
      full_name: hash
      email: hash
      phone: suppress
      message: $2
YAML
}
tickets_config "$work/tickets.yaml" '{ scrub: { detectors: [email, phone, postcode, card_number, nino, iban], row_values: [full_name, email, phone] } }'
"$ANONETL" run -c "$work/tickets.yaml" --skip-preflight >"$log" 2>&1
expect_eq "scrub: run exits 0" 0 "$?"
msg() { T -tAc "SELECT message FROM anonymised.tickets WHERE id = $1"; }
expect_eq "scrub: row 1 (name by accent-free word, 00 phone, dotted phone, apostrophe and spelled e-mails)" \
    "Hi, [FULL_NAME] here ([FULL_NAME]). Ring [PHONE] or [PHONE]; write to [EMAIL] or [EMAIL]. Order ODR-2024-000871 of 2024-03-01, £1,234.56." "$(msg 1)"
expect_eq "scrub: row 2 (NANP phone, double-spaced card and postcode, dashed lower-case IBAN, NI without suffix)" \
    "[FULL_NAME] writing: my US number is [PHONE], card [CARD], IBAN [IBAN], NI [NINO], postcode [POSTCODE]. Ref 17.05.2023 at 10:30." "$(msg 2)"
expect_eq "scrub: row 3 (quoted local part; the name as a word, not inside Planning)" \
    "Planning a visit: [EMAIL] asked [FULL_NAME] to call. Version 10.0.19045.2965, 3 items." "$(msg 3)"
expect_eq "scrub: row 4 (nothing of its own, look-alikes kept)" \
    "No name here, just text and order 2025550143." "$(msg 4)"
# two-letter surnames, an accent typed as a combining mark (NFD), Cyrillic in capitals,
# Vietnamese with and without its diacritics: the row's own name, not another row's
expect_eq "scrub: row 5 (two-letter surnames, any case; Lisa is another word)" \
    "Called Mr [FULL_NAME] and Mrs [FULL_NAME]; Lisa took notes." "$(msg 5)"
expect_eq "scrub: row 6 (a name's accent written as a combining mark)" \
    "[FULL_NAME] phoned; [FULL_NAME] too." "$(msg 6)"
expect_eq "scrub: row 7 (Cyrillic in capitals; another row's name stays)" \
    "[FULL_NAME] звонил; Nguyen asked." "$(msg 7)"
expect_eq "scrub: row 8 (Vietnamese in capitals and without diacritics)" \
    "Spoke with [FULL_NAME], also [FULL_NAME]; Petrov absent." "$(msg 8)"
expect_eq "scrub: row 11 (the name next to a no-break space, guillemets, curly quotes, an ellipsis)" \
    "$(printf 'Mr\302\240[FULL_NAME] called; \302\253[FULL_NAME]\302\273 \342\200\234[FULL_NAME]\342\200\235, [FULL_NAME]\342\200\246')" "$(msg 11)"
expect_eq "scrub: row 12 (the local part of the row's e-mail, alone: a login)" \
    "Teams user [EMAIL] asked; [EMAIL] again." "$(msg 12)"
# separators and forms the detectors' patterns do not spell (no-break space, en dash, an
# '@' escaped in a link or fullwidth): found all the same, the rest published as written
expect_eq "scrub: row 9 (no-break spaces, en dashes, %40 and a fullwidth at sign)" \
    "Ring [PHONE] or [PHONE]; mailto:[EMAIL], [EMAIL], card [CARD]." "$(msg 9)"
expect_eq "scrub: row 10 (nothing found: en dashes, no-break spaces, fullwidth brackets kept)" \
    "$(S -tAc "SELECT message FROM public.tickets WHERE id = 10")" "$(msg 10)"
expect_eq "scrub: no published message holds a word of its row's source name" 0 \
    "$(S -tAc "SELECT count(*) FROM public.tickets s, regexp_split_to_table(lower(s.full_name), '[^[:alpha:]]+') w
               WHERE length(w) >= 3" >/dev/null; T -tAc "SELECT count(*) FROM anonymised.tickets
               WHERE lower(message) ~ '(zo[eë]|brien|[lł]ukasz|wi[sś]niewski|\\mann\\M|\\mlee\\M)'")"
tickets_config "$work/tickets_bad.yaml" '{ scrub: { row_values: [full_name, e_mail, public.parties.email] } }'
out=$("$ANONETL" check -c "$work/tickets_bad.yaml" 2>&1); rc=$?
line=$(grep -n "^      message: " "$work/tickets_bad.yaml" | cut -d: -f1)
if [ "$rc" -eq 2 ] &&
    grep -q "^$work/tickets_bad.yaml:$line:[0-9]*: tables\[0\].columns.message.scrub.row_values: \"e_mail\" is not a column of this table (did you mean \"email\"?)" <<<"$out" &&
    grep -q "\"public.parties.email\" is not a column of this table (a rule reads the columns of its own row only)" <<<"$out"; then
    ok "scrub row_values naming no column of the table: exit 2, file:line:column"
else
    not_ok "scrub row_values naming no column of the table: exit 2, file:line:column" "exit $rc: $out"
fi

# --- truncate never publishes a whole value shorter than its prefix ----------------------
# Under length: 3 a surname "Li" was published whole, and its being shorter than every
# other output singled it out; it is "" now (as a mask never reveals a whole value). A
# value of exactly 3 characters looks like the prefix of every longer one: published.
# Both COPY paths, a text column and a json string leaf.
S <<'SQL' >/dev/null
CREATE TABLE public.surnames (id integer PRIMARY KEY, surname varchar(40) NOT NULL, doc jsonb);
INSERT INTO public.surnames VALUES (1, 'Li', '{"family": "Ng"}'), (2, 'Lin', '{"family": "Lin"}'),
  (3, 'Lindqvist', '{"family": "Okafor"}'), (4, 'Zoë', '{"family": "Wu"}'), (5, 'Ö', '{"family": "Ö"}');
SQL
{ header
  cat <<'YAML'
  - name: public.surnames
    columns:
      id: keep
      surname: { truncate: { length: 3 } }
      doc: { json: { paths: { "$.family": { truncate: { length: 3 } } } } }
YAML
} >"$work/surnames.yaml"
for copy in binary text; do
    if [ $copy = text ]; then
        ANONETL_TEXT_COPY=1 "$ANONETL" run -c "$work/surnames.yaml" --skip-preflight >"$log" 2>&1
    else
        "$ANONETL" run -c "$work/surnames.yaml" --skip-preflight >"$log" 2>&1
    fi
    expect_eq "truncate ($copy COPY): the run exits 0" 0 $?
    expect_eq "truncate ($copy COPY): a value shorter than the prefix is \"\", never whole" \
        "1:[]:[] 2:[Lin]:[Lin] 3:[Lin]:[Oka] 4:[Zoë]:[] 5:[]:[]" \
        "$(T -tAc "SELECT string_agg(id || ':[' || surname || ']:[' || coalesce(doc->>'family', '?') || ']', ' ' ORDER BY id) FROM anonymised.surnames")"
done
# what counts is what the value says: the padding of a character(n) column ("Li" is
# "Li          ") and trailing spaces do not count, a combining accent counts with its
# letter (NFD "Li" U+0301 is two letters): each was published whole
S <<'SQL' >/dev/null
CREATE TABLE public.surnames_pad (id integer PRIMARY KEY, surname character(12), nfd text);
INSERT INTO public.surnames_pad VALUES (1, 'Li', U&'Li\0301'), (2, 'Lin', U&'Li\0301n'), (3, 'Wu', 'Wu  ');
SQL
{ header
  cat <<'YAML'
  - name: public.surnames_pad
    columns: { id: keep, surname: { truncate: { length: 3 } }, nfd: { truncate: { length: 3 } } }
YAML
} >"$work/surnames_pad.yaml"
for copy in binary text; do
    if [ $copy = text ]; then
        ANONETL_TEXT_COPY=1 "$ANONETL" run -c "$work/surnames_pad.yaml" --skip-preflight >"$log" 2>&1
    else
        "$ANONETL" run -c "$work/surnames_pad.yaml" --skip-preflight >"$log" 2>&1
    fi
    expect_eq "truncate ($copy COPY): character(n) padding, trailing spaces and combining accents do not make a short value whole" \
        "1:[]:0 2:[Lin]:4 3:[]:0" \
        "$(T -tAc "SELECT string_agg(id || ':[' || surname || ']:' || length(nfd), ' ' ORDER BY id) FROM anonymised.surnames_pad")"
done

# --- a keep on a generated column computed from a column another rule hides ---------------
# `words tsvector GENERATED ALWAYS AS (to_tsvector(note))` kept while note is suppressed
# publishes the note's words; `code GENERATED AS (upper(surname))` a hashed surname. The
# content detectors know no names: refused (check --source and run, exit 6) naming the
# columns it reads and their rules, until the keep records its review; one computed from
# kept columns only is not.
S >/dev/null <<'SQL'
CREATE TABLE public.visits_gen (id int PRIMARY KEY, surname text, note text, nights int,
    words tsvector GENERATED ALWAYS AS (to_tsvector('simple', coalesce(note, ''))) STORED,
    code text GENERATED ALWAYS AS (upper(surname)) STORED,
    weeks int GENERATED ALWAYS AS (nights / 7) STORED);
INSERT INTO public.visits_gen (id, surname, note, nights)
SELECT g, 'Okonkwo' || g, 'stayed with Bartholomew Quayle-Fennimore ' || g, g FROM generate_series(1, 40) g;
SQL
gen_config() { # WORDS-RULE
    header
    cat <<YAML
  - name: public.visits_gen
    columns: { id: keep, surname: { hash: {} }, note: suppress, nights: keep, words: $1, code: keep, weeks: keep }
YAML
}
gen_config keep >"$work/gen.yaml"
"$ANONETL" check -c "$work/gen.yaml" --source >"$log" 2>&1
expect_eq "generated: check --source refuses a keep computed from hidden columns (exit 6)" 6 $?
check "generated: words is named with the column it reads and its rule" \
    grep -q 'public.visits_gen.words: rule keep on a generated column computed from note (suppress)' "$log"
check "generated: code is named with surname (hash)" \
    grep -q 'public.visits_gen.code: rule keep on a generated column computed from surname (hash)' "$log"
if grep -q 'visits_gen.weeks' "$log"; then not_ok "generated: one computed from kept columns is not refused"
else ok "generated: one computed from kept columns is not refused"; fi
"$ANONETL" run -c "$work/gen.yaml" --skip-preflight >"$log" 2>&1
expect_eq "generated: run refuses it (exit 6), nothing published" "6:0" \
    "$?:$(T -tAc "SELECT count(*) FROM pg_views WHERE viewname = 'visits_gen'")"
if grep -q 'Bartholomew\|Okonkwo' "$log"; then not_ok "generated: no value in the refusal"
else ok "generated: no value in the refusal"; fi
gen_config '{ keep: { reviewed: "test: words of a note" } }' | sed 's/code: keep/code: { keep: { reviewed: "test: codes" } }/' >"$work/gen.yaml"
"$ANONETL" run -c "$work/gen.yaml" --skip-preflight >"$log" 2>&1
expect_eq "generated: reviewed keeps run (exit 0)" 0 $?

# --- 5. a scrub pattern past PCRE2's match limit: its NULLs are said, and where ----------
# (a+)+$ backtracks without end on a run of a's not at the end: the value is withheld
# (NULL, never passed through), and nothing said so. Now a warning per column names the
# file, line and key and counts them (never a value), in run's log and preview's output.
S <<'SQL' >/dev/null
CREATE TABLE public.backtrack (id integer PRIMARY KEY, t text);
INSERT INTO public.backtrack VALUES (1, repeat('a', 30) || 'b'), (2, 'plain text'),
  (3, repeat('a', 28) || '!'), (4, NULL);
SQL
{ header
  cat <<'YAML'
  - name: public.backtrack
    columns:
      id: keep
      t: { scrub: { patterns: [ { regex: '(a+)+$', replacement: X } ] } }
YAML
} >"$work/backtrack.yaml"
"$ANONETL" run -c "$work/backtrack.yaml" --skip-preflight --log-format json >"$log" 2>&1
expect_eq "backtracking scrub: the run exits 0" 0 $?
expect_eq "backtracking scrub: the values past the limit are NULL, the others scrubbed" \
    "1:NULL 2:plain text 3:NULL 4:NULL" \
    "$(T -tAc "SELECT string_agg(id || ':' || coalesce(t, 'NULL'), ' ' ORDER BY id) FROM anonymised.backtrack")"
line=$(grep -n "^      t: " "$work/backtrack.yaml" | cut -d: -f1)
want="$work/backtrack.yaml:$line:7: tables[0].columns.t: 2 values published as NULL: a scrub pattern passed PCRE2's match limit on them"
check "backtracking scrub: run warns, naming file, line, key and the count" \
    grep -qF "\"level\":\"warn\",\"event\":\"values_withheld\",\"run\":" "$log"
check "backtracking scrub: the warning's text" grep -qF "$want" "$log"
check "backtracking scrub: no source value in the log" bash -c "! grep -q aaaa '$log'"
"$ANONETL" preview -c "$work/backtrack.yaml" --table public.backtrack --json >"$work/pv.json" 2>"$work/pv.err"
expect_eq "backtracking scrub: preview exits 0" 0 $?
check "backtracking scrub: preview says why its AFTER is NULL" grep -qF "warning: $want" "$work/pv.err"

# --- a column name holding a newline or ESC is shown escaped by explain and preview -----
# (they printed it raw: a terminal sequence from the source's schema reached the data
# engineer's terminal, a newline broke the table; init and the values were escaped)
S >/dev/null <<SQL
CREATE TABLE public.odd_names (id integer PRIMARY KEY, "a$(printf '\033')[31mred" text, "b
c" text);
INSERT INTO public.odd_names VALUES (1, 'x', 'y');
SQL
{ header
  cat <<'YAML'
  - name: public.odd_names
    columns: { id: keep, "a\x1b[31mred": suppress, "b\nc": suppress }
YAML
} >"$work/odd_names.yaml"
"$ANONETL" explain -c "$work/odd_names.yaml" >"$work/odd.explain" 2>&1
expect_eq "odd names: explain exits 0" 0 $?
"$ANONETL" preview -c "$work/odd_names.yaml" --table public.odd_names --text >"$work/odd.preview" 2>&1
expect_eq "odd names: preview exits 0" 0 $?
for f in explain preview; do
    check "odd names: $f shows them escaped" sh -c "grep -qF 'a\\x1b[31mred' '$work/odd.$f' && grep -qF 'b\\x0ac' '$work/odd.$f'"
    check "odd names: no raw ESC nor a name cut by its newline in $f" \
        sh -c "! grep -q \"\$(printf '\\033')\" '$work/odd.$f' && ! grep -q '^c ' '$work/odd.$f'"
done
# check --source's YAML to add for such columns is quoted as init writes it (it printed the
# raw name: ESC to the terminal, a newline that made two lines, and `yes:` unquoted)
S -c 'ALTER TABLE public.odd_names ADD COLUMN "yes" text' >/dev/null
{ header; printf '  - name: public.odd_names\n    columns: { id: keep }\n'; } >"$work/odd_missing.yaml"
"$ANONETL" check -c "$work/odd_missing.yaml" --source >"$work/odd.check" 2>&1
expect_eq "odd names: check --source exits 6 (columns without a rule)" 6 $?
check "odd names: the YAML to add quotes them" sh -c "grep -qxF '      \"a\\x1b[31mred\": suppress   # text' '$work/odd.check' &&
    grep -qxF '      \"b\\x0ac\": suppress   # text' '$work/odd.check' && grep -qxF '      \"yes\": suppress   # text' '$work/odd.check'"
check "odd names: no raw ESC in check's output" sh -c "! grep -q \"\$(printf '\\033')\" '$work/odd.check'"
# and its messages about configured columns show a name written with a YAML escape as the
# config's own messages do ('?' for a control character), never the raw ESC
{ header; printf '  - name: public.odd_names\n    columns: { id: keep, "a\\x1b[31mred": { bucket: { width: 1 } }, "b\\nc": keep, "yes": keep }\n'; } >"$work/odd_bad.yaml"
"$ANONETL" check -c "$work/odd_bad.yaml" --source >"$work/odd_bad.check" 2>&1
expect_eq "odd names: a bucket on text: check --source exits 2" 2 $?
{ header; printf '  - name: public.odd_names\n    columns: { id: keep, "a\\x1b[31mred": keep, "b\\nc": keep, "yes": keep, "zz\\x1bq": keep }\n'; } >"$work/odd_bad2.yaml"
"$ANONETL" check -c "$work/odd_bad2.yaml" --source >>"$work/odd_bad.check" 2>&1
expect_eq "odd names: a column the source does not have: check --source exits 6" 6 $?
check "odd names: the messages name them with '?'" sh -c "grep -qF 'tables.public.odd_names.columns.a?[31mred: bucket:' '$work/odd_bad.check' &&
    grep -qF 'tables.public.odd_names.columns.zz?q: no such column in the source' '$work/odd_bad.check'"
check "odd names: no raw ESC in those messages" sh -c "! grep -q \"\$(printf '\\033')\" '$work/odd_bad.check'"

done_testing
