#!/usr/bin/env bash
# tests/integration/settings.sh: what a run publishes does not depend on the servers'
# settings (postgresql.conf, ALTER DATABASE / ALTER ROLE ... SET).
#
# Every case runs the same config twice on the same data: once with the servers'
# defaults, once with one setting changed on the source (or the target), and the
# published table must be the same (its digest), or the run must do what it does with
# the defaults. The settings here change what a `where:` selects, or how a run's own
# statements behave, without changing any value's text (codecs.sh covers those: DateStyle,
# IntervalStyle, TimeZone, extra_float_digits, bytea_output, lc_monetary...):
#   DateStyle's field order (DMY in postgresql.conf): a where: date '01/02/2000'
#   transform_null_equals: a where: `x = NULL` (always NULL) became `x IS NULL`
#   timezone_abbreviations: 'IST' in a where: is Israel (Default) or India
#   gin_fuzzy_search_limit: a where: answered by a GIN index returned a random subset
#   default_text_search_config, lc_numeric, lc_time: to_tsvector, to_char in a where:
#   exit_on_error (target): the view of a table whose columns changed is recreated after
#     the server refused CREATE OR REPLACE VIEW; the setting ended the session there
set -u
cd "$(dirname "$0")/../.."
. tests/lib/tap.sh
. tests/lib/pgcluster.sh
. tests/lib/poll.sh

ANONETL=${ANONETL:-./anonetl}
pgc_pair || { echo "not ok 1 - clusters did not start"; exit 1; }
export ANONETL_HASH_KEY=$(openssl rand -hex 32)
S -c "CREATE ROLE app LOGIN SUPERUSER" >/dev/null
T -c "CREATE ROLE pub LOGIN SUPERUSER" >/dev/null
export SOURCE_DATABASE_URL="$(pgc_dsn "$work/src" postgres app)"
export TARGET_DATABASE_URL="$(pgc_dsn "$work/tgt" postgres pub)"

S >/dev/null <<'SQL'
CREATE TABLE people (id bigint PRIMARY KEY, name text, born date, deleted_at timestamptz,
                     seen timestamptz, tags text[]);
INSERT INTO people
SELECT g, 'person ' || g, date '2000-01-01' + (g % 60), CASE WHEN g % 3 = 0 THEN now() END,
       timestamptz '2023-12-31 18:00:00+00' + g * interval '1 minute',
       CASE WHEN g % 2 = 0 THEN ARRAY['even', 'x' || g] ELSE ARRAY['odd'] END
FROM generate_series(1, 4000) g;
CREATE INDEX people_tags ON people USING gin (tags);
ANALYZE people;
SQL

all_columns="{ id: keep, name: { hash: {} }, born: { generalise: { to: month } }, deleted_at: suppress, seen: { generalise: { to: week } }, tags: { hash: {} } }"
config() { # FILE WHERE [COLUMNS]
    cat >"$1" <<YAML
version: 1
source: { dsn: { env: SOURCE_DATABASE_URL } }
target: { dsn: { env: TARGET_DATABASE_URL }, schema: pub }
secrets: { hash_key: { env: ANONETL_HASH_KEY } }
tables:
  - name: public.people
    where: |-
      $2
    columns: ${3:-$all_columns}
YAML
}
run() { # NAME CONFIG [env...]: exit code
    local name=$1 cfg=$2
    shift 2
    env "$@" "$ANONETL" run --config "$cfg" >"$work/$name.log" 2>&1
}
digest() { T -tAc "SELECT count(*) || ' ' || md5(coalesce(string_agg(t::text, '|' ORDER BY id), '')) FROM pub.people t"; }
msg() { grep -o '"msg":"[^"]*' "$work/$1.log" | tail -1; }

sql() { # SIDE STATEMENTS: each statement (';' between them) on its own (ALTER SYSTEM);
    # RELOAD: pg_reload_conf(), then wait until new sessions have the files' settings
    local side=$1 one
    IFS=';' read -ra stmts <<<"$2"
    for one in "${stmts[@]}"; do
        if [ "${one// /}" = RELOAD ]; then
            reload_conf "$side" || not_ok "$side: the server reloaded its settings"
        else
            "$side" -c "$one" >/dev/null
        fi
    done
}
# same_as_defaults NAME WHERE SETUP-SQL-SIDE SETUP RESET: the digest with the defaults,
# then with SETUP run on side S or T (RESET after), on the binary and the text path.
same_as_defaults() {
    local name=$1 where=$2 side=$3 setup=$4 reset=$5 base d rc
    config "$work/$name.yaml" "$where"
    run "$name-base" "$work/$name.yaml"; rc=$?
    base=$(digest)
    [ "$rc" -eq 0 ] || { not_ok "$name: the run with the defaults exits 0" "$(msg "$name-base")"; return; }
    sql "$side" "$setup"
    for path in binary text; do
        if [ $path = text ]; then run "$name-$path" "$work/$name.yaml" ANONETL_TEXT_COPY=1; else run "$name-$path" "$work/$name.yaml"; fi
        rc=$?
        d=$(digest)
        if [ "$rc" -eq 0 ] && [ "$d" = "$base" ]; then
            ok "$name ($path COPY): published as with the defaults ($base)"
        else
            not_ok "$name ($path COPY): published as with the defaults" "exit $rc, $d against $base; $(msg "$name-$path")"
        fi
    done
    sql "$side" "$reset"
}

# DateStyle: anonetl sets it at connect; a bare "ISO" kept the server's field order, so a
# where: date written '01/02/2000' was 2 January on one server and 1 February on another
# (initdb writes DMY to postgresql.conf under an en_GB or de_DE locale). The order is
# PostgreSQL's built-in one, MDY, whatever the server says.
same_as_defaults datestyle_order "born = '01/02/2000' OR born = '02/03/2000'" S \
    "ALTER SYSTEM SET DateStyle = 'ISO, DMY'; RELOAD" "ALTER SYSTEM RESET DateStyle; RELOAD"
expect_eq "datestyle_order: '01/02/2000' is 2 January (MDY)" \
    "$(S -tAc "SELECT count(*) FROM people WHERE born IN ('2000-01-02', '2000-02-03')")" "$(digest | cut -d' ' -f1)"
S -c "ALTER SYSTEM RESET DateStyle" -c "SELECT pg_reload_conf()" >/dev/null
check "check warns about a where: date written in numbers, naming it" \
    grep -q "datestyle_order.yaml:[0-9]*:[0-9]*: tables.public.people.where: '01/02/2000' is a date written in numbers" \
    <("$ANONETL" check -c "$work/datestyle_order.yaml" 2>&1)
config "$work/iso.yaml" "born = '2000-01-02'"
expect_eq "check: no such warning for an ISO date" "" "$("$ANONETL" check -c "$work/iso.yaml" 2>&1 | grep 'written in numbers')"
# A database's or role's DateStyle never reached anonetl's sessions (the startup option
# outranks them): still so.
same_as_defaults datestyle_database "born = '01/02/2000'" S \
    "ALTER DATABASE postgres SET DateStyle = 'SQL, DMY'" "ALTER DATABASE postgres RESET DateStyle"

same_as_defaults transform_null_equals "deleted_at = NULL OR id <= 10" S \
    "ALTER ROLE app SET transform_null_equals = on" "ALTER ROLE app RESET transform_null_equals"

same_as_defaults timezone_abbreviations "seen < '2024-01-01 00:00 IST'" S \
    "ALTER ROLE app SET timezone_abbreviations = 'India'" "ALTER ROLE app RESET timezone_abbreviations"

# enable_seqscan off makes the planner answer the where: with the GIN index, where the
# fuzzy limit applies (plans alone never change rows: this setting does).
same_as_defaults gin_fuzzy_search_limit "tags @> '{even}'" S \
    "ALTER ROLE app SET gin_fuzzy_search_limit = 10; ALTER ROLE app SET enable_seqscan = off" \
    "ALTER ROLE app RESET gin_fuzzy_search_limit; ALTER ROLE app RESET enable_seqscan"

# default_text_search_config: initdb writes the one of its locale (english for C and en_*,
# german, simple for a locale it does not know...) to postgresql.conf; a where: with
# to_tsvector(text) stems by it ('persons' matched 'person 12' in english, nothing in
# simple). Pinned to english, what most servers have.
same_as_defaults text_search "to_tsvector(name) @@ to_tsquery('persons') OR id <= 5" S \
    "ALTER ROLE app SET default_text_search_config = 'pg_catalog.simple'" \
    "ALTER ROLE app RESET default_text_search_config"

# lc_numeric and lc_time: to_char's D, G and TM read them (a throwaway locale xx_NUM:
# decimal comma, month names of its own). The source restarts once to find it.
if printf '%s\n' 'comment_char %' 'escape_char /' 'LC_CTYPE' 'copy "POSIX"' 'END LC_CTYPE' \
    'LC_NUMERIC' 'decimal_point "<U002C>"' 'thousands_sep "<U002E>"' 'grouping 3;3' 'END LC_NUMERIC' \
    'LC_TIME' 'abday "Su";"Mo";"Tu";"We";"Th";"Fr";"Sa"' 'day "Sun";"Mon";"Tue";"Wed";"Thu";"Fri";"Sat"' \
    'abmon "M1";"M2";"M3";"M4";"M5";"M6";"M7";"M8";"M9";"M10";"M11";"M12"' \
    'mon "Mon1";"Mon2";"Mon3";"Mon4";"Mon5";"Mon6";"Mon7";"Mon8";"Mon9";"Mon10";"Mon11";"Mon12"' \
    'd_t_fmt "%a %b %e %H:%M:%S %Y"' 'd_fmt "%m//%d//%y"' 't_fmt "%H:%M:%S"' 'am_pm "AM";"PM"' \
    't_fmt_ampm "%I:%M:%S %p"' 'END LC_TIME' >"$work/num.def" &&
    mkdir -p "$work/locale" && { localedef -c -i "$work/num.def" -f UTF-8 "$work/locale/xx_NUM.UTF-8" >/dev/null 2>&1
    [ -d "$work/locale/xx_NUM.UTF-8" ]; } && chmod -R a+rX "$work/locale" &&
    pgc_stop "$work/src" >/dev/null && LOCPATH="$work/locale" pgc_start "$work/src" >/dev/null; then
    same_as_defaults lc_numeric "to_char(id, 'FM9G999D0') LIKE '1,%' OR id <= 5" S \
        "ALTER ROLE app SET lc_numeric = 'xx_NUM.UTF-8'" "ALTER ROLE app RESET lc_numeric"
    same_as_defaults lc_time "to_char(born, 'TMMonth') = 'January' OR id <= 5" S \
        "ALTER ROLE app SET lc_time = 'xx_NUM.UTF-8'" "ALTER ROLE app RESET lc_time"
else
    skip "lc_numeric, lc_time" "no throwaway locale (localedef)"
fi

# Neighbours that held already: the target's session_replication_role (anonetl creates
# no trigger or foreign key there); row_security off on the source role turns a full
# table's policy (its rows are the policy's: a filter like where:) into a clear refusal,
# never into other rows.
same_as_defaults replication_role "id <= 50" T \
    "ALTER ROLE pub SET session_replication_role = replica" "ALTER ROLE pub RESET session_replication_role"
S >/dev/null <<'SQL'
CREATE ROLE reader LOGIN;
GRANT SELECT ON people TO reader;
ALTER TABLE people ENABLE ROW LEVEL SECURITY;
CREATE POLICY evens ON people FOR SELECT TO reader USING (id % 2 = 0);
SQL
config "$work/rls.yaml" "true"
run rls-on "$work/rls.yaml" SOURCE_DATABASE_URL="$(pgc_dsn "$work/src" postgres reader)"
expect_eq "row_security on (default): a full table publishes its policy's rows" "0 2000" "$? $(digest | cut -d' ' -f1)"
S -c "ALTER ROLE reader SET row_security = off" >/dev/null
run rls-off "$work/rls.yaml" SOURCE_DATABASE_URL="$(pgc_dsn "$work/src" postgres reader)"
expect_eq "row_security off on the source role: refused (exit 2), the policy's rows stay published" "2 2000" "$? $(digest | cut -d' ' -f1)"
check "row_security off: the refusal says why" grep -q 'row-level security policy' "$work/rls-off.log"
S -c "ALTER TABLE people DISABLE ROW LEVEL SECURITY" >/dev/null

# exit_on_error on the target: a column changes type (a date generalised to an age band,
# text), the published view cannot be replaced (42P16) and is recreated (no view depends
# on it), as with the defaults.
T -c "ALTER ROLE pub SET exit_on_error = on" >/dev/null
cols="{ id: keep, name: { hash: {} }, deleted_at: suppress, seen: suppress, tags: suppress, born:"
config "$work/cols.yaml" "id <= 100" "$cols { generalise: { to: month } } }"
run cols_date "$work/cols.yaml"; expect_eq "exit_on_error (target): a first run exits 0" 0 $?
config "$work/cols.yaml" "id <= 100" "$cols { generalise: { to: age_band, width: 10 } } }"
run cols_band "$work/cols.yaml"; rc=$?
expect_eq "exit_on_error (target): a column retyped: the view is recreated, exit 0" "0" "$rc"
[ "$rc" -eq 0 ] || echo "#   $(msg cols_band)"
expect_eq "exit_on_error (target): the view's born is text" "text" \
    "$(T -tAc "SELECT atttypid::regtype FROM pg_attribute WHERE attrelid = 'pub.people'::regclass AND attname = 'born'")"
T -c "ALTER ROLE pub RESET exit_on_error" >/dev/null

# --- encodings: the rules see UTF-8 whatever the source's encoding ----------------------
# A LATIN1 source publishes what a UTF-8 one holding the same text does (pseudonyms join).
# A `name` holds 63 bytes of the source's encoding, more in UTF-8: published as text,
# whole, on both paths (the target's name input cut 60 "é" to 31 on the text path and
# refused them on the binary one, exit 5).
S -c "CREATE DATABASE lat ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0" >/dev/null
for db in postgres lat; do
    PGCLIENTENCODING=UTF8 pgc_psql "$work/src" -d "$db" >/dev/null <<'SQL'
CREATE TABLE names (id int PRIMARY KEY, who text, nm name, nms name[]);
INSERT INTO names VALUES (1, 'Zoë Müller', 'Zoë', ARRAY['Ødegård', NULL]), (2, 'plain', 'plain', '{a}');
SQL
done
PGCLIENTENCODING=UTF8 pgc_psql "$work/src" -d lat -c "INSERT INTO names VALUES (3, 'long', repeat('é', 60), ARRAY[repeat('ü', 40)])" >/dev/null
cat >"$work/names.yaml" <<YAML
version: 1
source: { dsn: { env: NAMES_URL } }
target: { dsn: { env: TARGET_DATABASE_URL }, schema: names }
secrets: { hash_key: { env: ANONETL_HASH_KEY } }
tables:
  - name: public.names
    columns: { id: keep, who: { hash: {} }, nm: { keep: { reviewed: "test names" } }, nms: { keep: { reviewed: "test names" } } }
YAML
names() { PGCLIENTENCODING=UTF8 T -tAc "SELECT string_agg(id || ' ' || who || ' ' || nm || ' ' || nms::text, '|' ORDER BY id) FROM names.names WHERE id < 3"; }
long() { T -tAc "SELECT octet_length(nm) || ' ' || length(nm) || ' ' || length(nms[1]) FROM names.names WHERE id = 3"; }
for db in postgres lat; do
    for path in binary text; do
        set -- NAMES_URL="$(pgc_dsn "$work/src" "$db" postgres)"
        [ $path = text ] && set -- "$@" ANONETL_TEXT_COPY=1
        run "names-$db-$path" "$work/names.yaml" "$@"
        rc=$?
        got=$(names)
        [ "$db" = postgres ] && [ $path = binary ] && utf8_names=$got
        expect_eq "source $db, $path COPY: exit 0" 0 "$rc"
        expect_eq "source $db, $path COPY: the names as from a UTF-8 source" "$utf8_names" "$got"
        [ "$db" = lat ] && expect_eq "source LATIN1, $path COPY: a name of 60 'é' is published whole" "120 60 40" "$(long)"
    done
done
expect_eq "names are published as text" "text text[]" \
    "$(T -tAc "SELECT string_agg(atttypid::regtype::text, ' ' ORDER BY attnum) FROM pg_attribute WHERE attrelid = 'names.names'::regclass AND attname IN ('nm', 'nms')")"

done_testing
