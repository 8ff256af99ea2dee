#!/usr/bin/env bash
# tests/integration/redaction.sh: no source value in any error (issue 10.4).
#
# Every failure below is one whose server message, DETAIL or CONTEXT quotes a row value:
# a cast error while reading the source, a trigger or function that RAISEs with a value,
# a notice quoting one, a check constraint refusing the COPY into a new version, a check
# constraint or unique index on the target refusing a merged row (DETAIL "Failing row contains", "Key (...)=(...)"), a trigger on the target,
# bytes of a SQL_ASCII database that are not UTF-8, a value become a name (to_regclass, SQL a
# function or query_to_xml builds from it: printed unquoted), names a RAISE attaches (USING
# COLUMN = v), a remote RAISE a foreign table relays. Each planted value is a needle: it must
# not appear in the log (JSON, debug level), in anonetl.runs.error (a dump of the target)
# nor in `status`; the SQLSTATE and the names (table, column, constraint) must.
set -u
cd "$(dirname "$0")/../.."
. tests/lib/tap.sh
. tests/lib/pgcluster.sh

ANONETL=${ANONETL:-./anonetl}
pgc_pair || { echo "not ok 1 - clusters did not start"; exit 1; }
export ANONETL_HASH_KEY=$(openssl rand -hex 32)
export SOURCE_DATABASE_URL="$(pgc_dsn "$work/src" postgres postgres)"
export TARGET_DATABASE_URL="$(pgc_dsn "$work/tgt" postgres postgres)"
N=leakval$(openssl rand -hex 4) # every needle starts with it

S >/dev/null <<SQL
CREATE TABLE tickets (id bigint PRIMARY KEY, email text NOT NULL, status text,
                      updated_at timestamptz NOT NULL DEFAULT clock_timestamp());
INSERT INTO tickets (id, email, status) SELECT g, 'u' || g || '@x.org', (g % 7)::text FROM generate_series(1, 200) g;
INSERT INTO tickets (id, email, status) VALUES (201, '${N}-mail@x.org', '${N}-cast');
-- a view whose cast fails on a value while the COPY reads it
CREATE VIEW v_cast AS SELECT id, status::int AS code FROM tickets;
-- a view whose function RAISEs with the value in its text (no quotes to find)
CREATE FUNCTION check_status(s text) RETURNS text LANGUAGE plpgsql AS \$\$
BEGIN
    IF s LIKE '${N}%' THEN RAISE EXCEPTION 'bad status % for this ticket', s; END IF;
    RETURN s;
END \$\$;
CREATE VIEW v_raise AS SELECT id, check_status(status) AS status FROM tickets;
-- a notice quoting a value (logged at debug level)
CREATE FUNCTION note_status(s text) RETURNS text LANGUAGE plpgsql AS \$\$
BEGIN
    IF s LIKE '${N}%' THEN RAISE NOTICE 'saw status %', s; END IF;
    RETURN s;
END \$\$;
CREATE VIEW v_notice AS SELECT id, note_status(status) AS status FROM tickets;
SQL
S -c "CREATE DATABASE legacy ENCODING 'SQL_ASCII' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0" >/dev/null
pgc_psql "$work/src" -d legacy >/dev/null <<SQL
CREATE TABLE names (id int PRIMARY KEY, name text);
INSERT INTO names VALUES (1, 'plain'), (2, E'Jos\\351 ${N}-latin1');
-- valid UTF-8 in every column but one element of an array, in a row where: keeps
CREATE TABLE wide (id int PRIMARY KEY, a text, tags text[], b text);
INSERT INTO wide VALUES (1, E'Zo\\303\\253', '{x}', 'y'), (2, 'Z', ARRAY['ok', E'\\351${N}'], 'z'),
                        (3, E'\\377${N}', '{x}', 'w');
SQL

config() { # FILE SCHEMA TABLE COLUMNS-YAML [MODE-YAML] [DSN-ENV]
    cat >"$1" <<YAML
version: 1
source: { dsn: { env: ${6:-SOURCE_DATABASE_URL} } }
target: { dsn: { env: TARGET_DATABASE_URL }, schema: $2 }
secrets: { hash_key: { env: ANONETL_HASH_KEY } }
tables:
  - name: $3
${5:-}
    columns: $4
YAML
}
all_out=$work/all.out # everything anonetl printed, for the final scan
runlog() { # NAME CONFIG [args]: run at debug level, JSON logs; output kept per case
    local name=$1 cfg=$2
    shift 2
    "$ANONETL" run -c "$cfg" --skip-preflight --log-format json -v "$@" >"$work/$name.log" 2>&1
    local rc=$?
    cat "$work/$name.log" >>"$all_out"
    return $rc
}
no_needle() { # NAME FILE...: none of the files holds a needle
    if grep -q "$N" "$@" 2>/dev/null; then
        not_ok "$1" "$(grep -ho "[^\"]\{0,60\}$N[^\"]\{0,20\}" "${@:2}" | head -3)"
    else
        ok "$1"
    fi
}

# --- source: a cast fails on a value while reading ------------------------------------
config "$work/cast.yaml" a_cast public.v_cast "{ id: keep, code: keep }"
runlog cast "$work/cast.yaml"; rc=$?
expect_eq "a cast error while reading the source exits 4" 4 "$rc"
no_needle "cast error: no value in the log" "$work/cast.log"
check "cast error: the log keeps the SQLSTATE (22P02)" grep -q '22P02' "$work/cast.log"
check "cast error: and the message without its value" grep -q 'invalid input syntax for type integer' "$work/cast.log"

# --- source: a function RAISEs with a value (free text: withheld whole) -----------------
config "$work/raise.yaml" a_raise public.v_raise "{ id: keep, status: keep }"
runlog raise "$work/raise.yaml"; rc=$?
expect_eq "a RAISE while reading the source exits 4" 4 "$rc"
no_needle "RAISE with a value: not in the log" "$work/raise.log"
check "RAISE: the log says a function raised it (P0001)" grep -q 'P0001' "$work/raise.log"

# --- source: a notice quoting a value, at debug level ----------------------------------
config "$work/notice.yaml" a_notice public.v_notice "{ id: keep, status: { hash: {} } }"
runlog notice "$work/notice.yaml"; rc=$?
expect_eq "a run whose source raises notices exits 0" 0 "$rc"
check "the notice is logged (debug)" grep -q 'server_notice' "$work/notice.log"
no_needle "notice with a value: not in the debug log" "$work/notice.log"

# --- source: bytes that are not UTF-8 (a SQL_ASCII database) --------------------------
export LEGACY_URL="$(pgc_dsn "$work/src" legacy postgres)"
config "$work/latin.yaml" a_latin public.names "{ id: keep, name: { keep: { reviewed: \"test values that must not leak into errors\" } } }" "" LEGACY_URL
runlog latin "$work/latin.yaml"; rc=$?
expect_eq "bytes that are not UTF-8 in the source exit 4" 4 "$rc"
if grep -qi '0xe9\|Jos' "$work/latin.log"; then
    not_ok "invalid byte sequence: no byte of the value in the log" "$(grep -o 'msg":"[^"]*' "$work/latin.log" | tail -2)"
else ok "invalid byte sequence: no byte of the value in the log"; fi
check "invalid byte sequence: the column is named" grep -q 'column name holds bytes that are not UTF-8' "$work/latin.log"
# The first column holding one among the rows where: keeps (row 3's a is filtered out),
# whatever the rule, on both COPY paths.
for path in binary text; do
    config "$work/wide.yaml" a_wide public.wide "{ id: keep, a: { hash: {} }, tags: { hash: {} }, b: keep }" "    where: id < 3" LEGACY_URL
    if [ $path = text ]; then ANONETL_TEXT_COPY=1 runlog "wide-$path" "$work/wide.yaml"; else runlog "wide-$path" "$work/wide.yaml"; fi
    rc=$?
    expect_eq "not UTF-8 in an array ($path COPY): exit 4" 4 "$rc"
    check "not UTF-8 in an array ($path COPY): column tags named" grep -q 'column tags holds bytes that are not UTF-8' "$work/wide-$path.log"
    if grep -qi '0xe9\|0xff' "$work/wide-$path.log"; then not_ok "not UTF-8 in an array ($path COPY): no byte in the log"
    else ok "not UTF-8 in an array ($path COPY): no byte in the log"; fi
done

# --- target: the COPY into a new version refused by a check constraint -------------------
# An event trigger adds a CHECK to every table created in anonetl_data: the server's
# error carries the failing row (DETAIL) and the COPY line (CONTEXT).
T >/dev/null <<SQL
CREATE FUNCTION public.add_check() RETURNS event_trigger LANGUAGE plpgsql AS \$\$
DECLARE r record;
BEGIN
    FOR r IN SELECT * FROM pg_event_trigger_ddl_commands()
             WHERE command_tag = 'CREATE TABLE' AND schema_name = 'anonetl_data' LOOP
        IF EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = r.objid AND attname = 'email') THEN
            EXECUTE format('ALTER TABLE %s ADD CONSTRAINT no_needle CHECK (email NOT LIKE %L)',
                           r.objid::regclass, '${N}%');
        END IF;
    END LOOP;
END \$\$;
CREATE EVENT TRIGGER add_check ON ddl_command_end EXECUTE FUNCTION public.add_check();
SQL
config "$work/copy.yaml" a_copy public.tickets "{ id: keep, email: { keep: { reviewed: \"test addresses\" } }, status: { hash: {} }, updated_at: keep }"
runlog copy "$work/copy.yaml"; rc=$?
expect_eq "the target COPY refused by a check constraint exits 5" 5 "$rc"
no_needle "target COPY: no row or line of it in the log" "$work/copy.log"
check "target COPY: SQLSTATE 23514 and the constraint named" grep -q '23514.*constraint no_needle' "$work/copy.log"
T -c "DROP EVENT TRIGGER add_check" >/dev/null

# --- target: an incremental merge refused by a check, a unique index, a trigger ----------
inc="    mode: incremental
    key: [id]
    watermark: updated_at
    watermark_lag: 0s
    deletes: none"
config "$work/inc.yaml" a_inc public.tickets "{ id: keep, email: { keep: { reviewed: \"test values that must not leak into errors\" } }, status: keep, updated_at: keep }" "$inc"
runlog inc0 "$work/inc.yaml"; expect_eq "incremental first run exits 0" 0 $?
version=$(T -tAc "SELECT version_table FROM anonetl.published WHERE target_schema = 'a_inc'")
V="anonetl_data.\"$version\""

T -c "ALTER TABLE $V ADD CONSTRAINT status_short CHECK (length(status) < 20) NOT VALID" >/dev/null
S -c "UPDATE tickets SET status = '${N}-check-long-enough', email = '${N}-check@x.org', updated_at = clock_timestamp() WHERE id = 5" >/dev/null
runlog check "$work/inc.yaml"; rc=$?
expect_eq "a merged row failing a check constraint exits 5" 5 "$rc"
no_needle "check constraint: no row in the log (DETAIL: Failing row contains)" "$work/check.log"
check "check constraint: SQLSTATE, table and constraint named" grep -q '23514.*constraint status_short' "$work/check.log"
T -c "ALTER TABLE $V DROP CONSTRAINT status_short" >/dev/null

T -c "CREATE UNIQUE INDEX status_once ON $V (status) WHERE id IN (7, 8)" >/dev/null
S -c "UPDATE tickets SET status = '${N}-dup', updated_at = clock_timestamp() WHERE id IN (7, 8)" >/dev/null
runlog unique "$work/inc.yaml"; rc=$?
expect_eq "a merge violating a unique index exits 5" 5 "$rc"
no_needle "unique violation: no key value in the log (DETAIL: Key (...)=(...))" "$work/unique.log"
check "unique violation: SQLSTATE 23505 and the index named" grep -q '23505.*status_once' "$work/unique.log"
T -c "DROP INDEX anonetl_data.status_once" >/dev/null

T >/dev/null <<SQL
CREATE FUNCTION anonetl_data.refuse() RETURNS trigger LANGUAGE plpgsql AS \$\$
BEGIN RAISE EXCEPTION 'refusing row with email %', NEW.email; END \$\$;
CREATE TRIGGER refuse BEFORE UPDATE ON $V FOR EACH ROW WHEN (NEW.email LIKE '${N}%') EXECUTE FUNCTION anonetl_data.refuse();
SQL
S -c "UPDATE tickets SET email = '${N}-trigger@x.org', updated_at = clock_timestamp() WHERE id = 9" >/dev/null
runlog trigger "$work/inc.yaml"; rc=$?
expect_eq "a target trigger refusing a row exits 5" 5 "$rc"
no_needle "trigger RAISE on the target: no value in the log" "$work/trigger.log"

# --- values PostgreSQL prints without quotes (data exceptions, SQLSTATE class 22) --------
# make_date and chr print the numbers they refuse as they are, an encoding conversion the
# bytes of the character: no quote to cut at. A birth date from three columns, a code
# point, a euro sign bound for a LATIN1 target.
S >/dev/null <<SQL
CREATE TABLE births (id int PRIMARY KEY, y int, m int, d int, code int, note text);
INSERT INTO births VALUES (1, 1990, 1, 1, 65, 'plain'), (2, 1987, 6, 31, 1234567, 'Zoë €${N}');
CREATE VIEW v_date AS SELECT id, make_date(y, m, d) AS born FROM births;
CREATE VIEW v_chr AS SELECT id, chr(code) AS c FROM births;
SQL
config "$work/date.yaml" a_date public.v_date "{ id: keep, born: { generalise: { to: year } } }"
runlog date "$work/date.yaml"; rc=$?
expect_eq "make_date refusing a row's date exits 4" 4 "$rc"
if grep -q '1987' "$work/date.log"; then not_ok "make_date: the date is not in the log" "$(grep -o '[^"]*1987[^"]*' "$work/date.log" | head -2)"
else ok "make_date: the date is not in the log"; fi
check "make_date: the SQLSTATE and the kind of error stay" grep -q 'date field value out of range.*22008' "$work/date.log"
config "$work/chr.yaml" a_chr public.v_chr "{ id: keep, c: { hash: {} } }"
runlog chr "$work/chr.yaml"; rc=$?
expect_eq "chr refusing a row's code point exits 4" 4 "$rc"
if grep -q '1234567' "$work/chr.log"; then not_ok "chr: the code point is not in the log"; else ok "chr: the code point is not in the log"; fi
T -c "CREATE DATABASE latin ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0" >/dev/null
export LATIN_URL="$(pgc_dsn "$work/tgt" latin postgres)"
cat >"$work/latin1.yaml" <<YAML
version: 1
source: { dsn: { env: SOURCE_DATABASE_URL } }
target: { dsn: { env: LATIN_URL }, schema: a_latin1 }
secrets: { hash_key: { env: ANONETL_HASH_KEY } }
tables:
  - name: public.births
    columns: { id: keep, y: suppress, m: suppress, d: suppress, code: suppress, note: { keep: { reviewed: "test values that must not leak into errors" } } }
YAML
runlog latin1 "$work/latin1.yaml"; rc=$?
expect_eq "a character the LATIN1 target cannot store exits 5" 5 "$rc"
if grep -qi '0xe2\|0x82\|0xac' "$work/latin1.log"; then not_ok "encoding conversion: no byte of the value in the log" "$(grep -o 'msg":"[^"]*' "$work/latin1.log" | tail -2)"
else ok "encoding conversion: no byte of the value in the log"; fi

# --- values that become names: printed without quotes in syntax-class messages -----------
# A value cast to a name (to_regclass, ::regtype, ::regproc) that has too many dots is
# printed after the colon without quotes (42601, a class whose messages otherwise name
# objects only); SQL a function builds from a value (EXECUTE format('SELECT %s', v))
# makes the value a column the server names unquoted (42703), on the source (a view) and
# on the target (a trigger the COPY into a new version fires).
S >/dev/null <<SQL
CREATE TABLE objs (id int PRIMARY KEY, obj text);
INSERT INTO objs VALUES (1, 'public.objs'), (2, 'l.${N}_alice.smith.example');
CREATE VIEW v_regclass AS SELECT id, to_regclass(obj)::text AS obj FROM objs;
CREATE VIEW v_regtype AS SELECT id, obj::regtype::text AS obj FROM objs;
CREATE VIEW v_regproc AS SELECT id, to_regproc(obj)::text AS obj FROM objs;
CREATE FUNCTION pick(v text) RETURNS text LANGUAGE plpgsql STABLE AS \$\$
DECLARE r text;
BEGIN
    IF v NOT LIKE 'l.%' THEN RETURN v; END IF;
    EXECUTE format('SELECT %s FROM public.objs l LIMIT 1', split_part(v, '.', 1) || '.' || split_part(v, '.', 2)) INTO r;
    RETURN r;
END \$\$;
CREATE VIEW v_execute AS SELECT id, pick(obj) AS obj FROM objs;
CREATE VIEW v_xml AS SELECT id, CASE WHEN obj LIKE 'l.%' THEN query_to_xml(format('SELECT %s FROM public.objs l',
    split_part(obj, '.', 1) || '.' || split_part(obj, '.', 2)), true, false, '')::text END AS obj FROM objs;
CREATE VIEW v_tsstat AS SELECT o.id, s.word AS obj FROM objs o, ts_stat(format('SELECT %s FROM public.objs l',
    split_part(o.obj, '.', 1) || '.' || split_part(o.obj, '.', 2))) s WHERE o.obj LIKE 'l.%';
SQL
for v in regclass regtype regproc execute xml tsstat; do
    config "$work/name_$v.yaml" "a_name_$v" "public.v_$v" "{ id: keep, obj: { hash: {} } }"
    runlog "name_$v" "$work/name_$v.yaml"; rc=$?
    expect_eq "a value as a name ($v) refused while reading the source exits 4" 4 "$rc"
    no_needle "a value as a name ($v): not in the log" "$work/name_$v.log"
done
check "to_regclass: the SQLSTATE and the kind of error stay" grep -q 'improper relation name (too many dotted names)… (SQLSTATE 42601)' "$work/name_regclass.log"
for v in execute xml tsstat; do
    check "a statement a function ran ($v): withheld, its SQLSTATE stays" grep -q 'message withheld.*42703' "$work/name_$v.log"
done
T >/dev/null <<SQL
CREATE FUNCTION public.pick_row() RETURNS trigger LANGUAGE plpgsql AS \$\$
BEGIN
    EXECUTE format('SELECT %s FROM (SELECT 1) l', split_part(NEW.obj, '.', 1) || '.' || split_part(NEW.obj, '.', 2));
    RETURN NEW;
END \$\$;
CREATE FUNCTION public.add_pick() RETURNS event_trigger LANGUAGE plpgsql AS \$\$
DECLARE r record;
BEGIN
    FOR r IN SELECT * FROM pg_event_trigger_ddl_commands()
             WHERE command_tag = 'CREATE TABLE' AND schema_name = 'anonetl_data' LOOP
        IF EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = r.objid AND attname = 'obj') THEN
            EXECUTE format('CREATE TRIGGER pick BEFORE INSERT ON %s FOR EACH ROW WHEN (NEW.obj LIKE %L) EXECUTE FUNCTION public.pick_row()',
                           r.objid::regclass, 'l.%');
        END IF;
    END LOOP;
END \$\$;
CREATE EVENT TRIGGER add_pick ON ddl_command_end EXECUTE FUNCTION public.add_pick();
SQL
config "$work/name_target.yaml" a_name_target public.objs "{ id: keep, obj: { keep: { reviewed: \"test values that must not leak into errors\" } } }"
runlog name_target "$work/name_target.yaml"; rc=$?
expect_eq "a target trigger running SQL built from a value exits 5" 5 "$rc"
no_needle "a value as a name on the target: not in the log" "$work/name_target.log"
check "target trigger: withheld, its SQLSTATE stays" grep -q 'message withheld.*42703' "$work/name_target.log"
T -c "DROP EVENT TRIGGER add_pick" >/dev/null

# --- names a RAISE attaches: USING COLUMN = v, TABLE, SCHEMA, CONSTRAINT, DATATYPE -----------
# Free text like the message (any ERRCODE), in an error and in a notice (debug level).
S >/dev/null <<SQL
CREATE FUNCTION tag(v text, loud boolean) RETURNS text LANGUAGE plpgsql STABLE AS \$\$
BEGIN
    IF v LIKE 'l.%' AND loud THEN
        RAISE EXCEPTION 'bad value' USING ERRCODE = '23514', COLUMN = v, TABLE = v || '-t',
            SCHEMA = 's-' || v, CONSTRAINT = 'c-' || v, DATATYPE = 'd-' || v;
    ELSIF v LIKE 'l.%' THEN
        RAISE NOTICE 'seen' USING COLUMN = v, TABLE = v || '-t', CONSTRAINT = 'c-' || v;
    END IF;
    RETURN v;
END \$\$;
CREATE VIEW v_tagged AS SELECT id, tag(obj, true) AS obj FROM objs;
CREATE VIEW v_tagnote AS SELECT id, tag(obj, false) AS obj FROM objs;
SQL
config "$work/tagged.yaml" a_tagged public.v_tagged "{ id: keep, obj: { hash: {} } }"
runlog tagged "$work/tagged.yaml"; rc=$?
expect_eq "a RAISE with names attached exits 4" 4 "$rc"
no_needle "names a RAISE attaches: not in the log" "$work/tagged.log"
check "names a RAISE attaches: the SQLSTATE stays" grep -q 'message withheld.*(SQLSTATE 23514)' "$work/tagged.log"
config "$work/tagnote.yaml" a_tagnote public.v_tagnote "{ id: keep, obj: { hash: {} } }"
runlog tagnote "$work/tagnote.yaml"; rc=$?
expect_eq "a notice with names attached: the run exits 0" 0 "$rc"
check "the notice is logged (debug)" grep -q 'server_notice' "$work/tagnote.log"
no_needle "names a notice attaches: not in the debug log" "$work/tagnote.log"

# --- a foreign table: another server's RAISE with its own ERRCODE, relayed ------------------
# postgres_fdw re-raises the remote error under its SQLSTATE (22023, a data exception) with
# the remote message as its own: free text with no quote, colon or digit to cut at.
S -c "CREATE DATABASE remote" >/dev/null
pgc_psql "$work/src" -d remote >/dev/null <<SQL
CREATE TABLE people (id int PRIMARY KEY, name text);
INSERT INTO people VALUES (1, 'plain'), (2, 'alice ${N} smith');
CREATE FUNCTION shout(v text) RETURNS text LANGUAGE plpgsql AS \$\$
BEGIN
    IF v LIKE '%${N}%' THEN RAISE EXCEPTION 'bad name % here', v USING ERRCODE = '22023'; END IF;
    RETURN v;
END \$\$;
CREATE VIEW people_v AS SELECT id, shout(name) AS name FROM people;
SQL
S >/dev/null <<SQL
CREATE EXTENSION postgres_fdw;
CREATE SERVER remote FOREIGN DATA WRAPPER postgres_fdw
    OPTIONS (host '$(cd "$work/src" && pwd -P)', port '$(pgc_port "$work/src")', dbname 'remote');
CREATE USER MAPPING FOR postgres SERVER remote OPTIONS (user 'postgres');
CREATE FOREIGN TABLE rpeople (id int, name text) SERVER remote OPTIONS (table_name 'people_v');
SQL
config "$work/fdw.yaml" a_fdw public.rpeople "{ id: keep, name: { hash: {} } }"
runlog fdw "$work/fdw.yaml"; rc=$?
expect_eq "a remote RAISE through a foreign table exits 4" 4 "$rc"
no_needle "a remote RAISE relayed by postgres_fdw: not in the log" "$work/fdw.log"
if grep -q 'alice\|smith' "$work/fdw.log"; then not_ok "a remote RAISE: no word of the value (no digit to mask) in the log" "$(grep -o 'msg":"[^"]*' "$work/fdw.log" | tail -1)"
else ok "a remote RAISE: no word of the value (no digit to mask) in the log"; fi
check "a remote RAISE: withheld, its SQLSTATE stays" grep -q 'message withheld.*(SQLSTATE 22023)' "$work/fdw.log"

# --- a server that writes its messages in another language (lc_messages) -----------------
# initdb under a fr_FR or de_DE locale writes that locale as lc_messages, and only a
# superuser may set it for a session. Translations quote values with their own marks, where
# no colon is: `la relation « leakval…alice » n'existe pas` (42P01, a class cut at its colon
# only), `le fuseau horaire « … zorblax » n'est pas reconnu` (22023: the word has no digit
# to mask). French and German translate the severity (ERREUR, FEHLER), Spanish keeps ERROR
# and quotes «x». The locales are compiled into the test's own dir (LOCPATH).
loc=$work/locales
if [ -f /usr/share/locale/fr/LC_MESSAGES/postgres-15.mo ] && mkdir -p "$loc" &&
    localedef -i fr_FR -f UTF-8 "$loc/fr_FR.UTF-8" >/dev/null 2>&1 &&
    localedef -i de_DE -f UTF-8 "$loc/de_DE.UTF-8" >/dev/null 2>&1 &&
    localedef -i es_ES -f UTF-8 "$loc/es_ES.UTF-8" >/dev/null 2>&1; then
    chmod -R a+rX "$loc"
    pgc_init "$work/intl" >/dev/null && LOCPATH=$loc pgc_start "$work/intl" >/dev/null
    pgc_psql "$work/intl" -d postgres >/dev/null <<SQL
CREATE TABLE people (id int PRIMARY KEY, name text, tz text);
INSERT INTO people VALUES (1, 'public.people', 'UTC'), (2, '${N}alice', '${N} zorblax');
CREATE VIEW v_reg AS SELECT id, name::regclass::text AS name FROM people;
CREATE VIEW v_tz AS SELECT id, now() AT TIME ZONE tz AS t FROM people;
CREATE ROLE speaks_fr LOGIN; ALTER ROLE speaks_fr SET lc_messages = 'fr_FR.UTF-8';
CREATE ROLE speaks_de LOGIN; ALTER ROLE speaks_de SET lc_messages = 'de_DE.UTF-8';
CREATE ROLE speaks_es LOGIN; ALTER ROLE speaks_es SET lc_messages = 'es_ES.UTF-8';
GRANT SELECT ON people, v_reg, v_tz TO speaks_fr, speaks_de, speaks_es;
SQL
    for lang in fr de es; do
        export INTL_URL="$(pgc_dsn "$work/intl" postgres "speaks_$lang")"
        said=$(pgc_psql "$work/intl" -d postgres -U "speaks_$lang" -c "SELECT 'x'::regclass" 2>&1)
        case $lang in fr) word=relation ;; de) word=Relation ;; es) word=relación ;; esac
        if ! printf '%s' "$said" | grep -q "$word"; then
            skip "lc_messages $lang: the server speaks it" "$(printf '%s' "$said" | head -1)"
            continue
        fi
        for v in reg tz; do
            config "$work/intl_$lang$v.yaml" "a_intl_$lang$v" "public.v_$v" "{ id: keep, $([ $v = reg ] && echo name || echo t): { hash: {} } }" "" INTL_URL
            runlog "intl_$lang$v" "$work/intl_$lang$v.yaml"; rc=$?
            expect_eq "lc_messages $lang, $v: a value the source refuses exits 4" 4 "$rc"
            no_needle "lc_messages $lang, $v: no value in the log" "$work/intl_$lang$v.log"
            if grep -q zorblax "$work/intl_$lang$v.log"; then not_ok "lc_messages $lang, $v: no word of the value in the log"
            else ok "lc_messages $lang, $v: no word of the value in the log"; fi
        done
        check "lc_messages $lang: withheld, the SQLSTATE stays" grep -q 'message withheld (translated.*42P01' "$work/intl_${lang}reg.log"
    done
else
    skip "a server writing its messages in another language" "no fr_FR, de_DE, es_ES locale source (Debian package locales) or no translations of PostgreSQL 15"
fi

# --- everything the target keeps, and what status shows --------------------------------
"$ANONETL" status -c "$work/inc.yaml" --json >"$work/status.json" 2>&1
"$ANONETL" status -c "$work/inc.yaml" >"$work/status.txt" 2>&1
expect_eq "failed runs recorded with their error" 3 "$(T -tAc "SELECT count(*) FROM anonetl.runs WHERE status = 'failed' AND error <> '' AND target_schema = 'a_inc'")"
runuser -u postgres -- /usr/lib/postgresql/15/bin/pg_dump -h "$work/tgt" -p "$(pgc_port "$work/tgt")" \
    -d postgres -n anonetl >"$work/target.sql" 2>/dev/null
check "target dump of anonetl (run history) taken" grep -q 'anonetl.runs' "$work/target.sql"
no_needle "no value in anonetl.runs.error (target dump)" "$work/target.sql"
no_needle "no value in status (text and JSON)" "$work/status.json" "$work/status.txt"
no_needle "no value anywhere in anonetl's output" "$all_out"
done_testing
