#!/usr/bin/env bash
# tests/integration/demo.sh: the demo pieces on real clusters: tests/lib/pgcluster.sh
# (start/stop by pid, loopback only, scram over TCP), the demo data (sql/demo: row
# counts, determinism, realistic and nasty values), the role scripts (sql/roles: each
# role has the privileges claimed and no more), deploy/demo.yaml covering every
# column, and deploy/demo.sh end to end once ./anonetl exists.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/tap.sh
. tests/lib/poll.sh
. tests/lib/pgcluster.sh

work=$(pgc_mktemp)
trap 'pgc_stop_all; rm -rf "$work"' EXIT
src=$work/src
# The demo end to end runs in the background (own clusters, own temp dir, own cleanup)
# while the pieces are tested; its results are checked at the end.
demo_pid=
if [ -x ./anonetl ]; then
    ./deploy/demo.sh >"$work/demo.out" 2>&1 </dev/null &
    demo_pid=$!
fi
tgt=$work/tgt
S() { pgc_psql "$src" -d odr "$@"; }
T() { pgc_psql "$tgt" -d odr_anon "$@"; }
fails() { ! "$@"; } # a command that must fail

# --- pgcluster.sh ---------------------------------------------------------------------
check "pgc_init source" pgc_init "$src"
check "pgc_init target on an explicit port" pgc_init "$tgt" "$(pgc__pick_port)"
check "pgc_start source (in a subshell)" pgc_start "$src"
check "pgc_start target" pgc_start "$tgt"
src_pid=$(head -n 1 "$src/data/postmaster.pid" 2>/dev/null)
tgt_pid=$(head -n 1 "$tgt/data/postmaster.pid" 2>/dev/null)
check "postmaster running under the pid in postmaster.pid" kill -0 "${src_pid:-0}"
check "pgc_start on a running cluster is a no-op" pgc_start "$src"
expect_eq "server runs as postgres" postgres "$(pgc_psql "$src" -tA -c 'SELECT current_user')"
expect_eq "listens on 127.0.0.1 and the socket in DIR only" "127.0.0.1 $src" \
    "$(pgc_psql "$src" -tA -F ' ' -c "SELECT current_setting('listen_addresses'), current_setting('unix_socket_directories')")"
expect_eq "locale C.UTF-8, encoding UTF8" "UTF8 C.UTF-8" \
    "$(pgc_psql "$src" -tA -F ' ' -c "SELECT pg_encoding_to_char(encoding), datcollate FROM pg_database WHERE datname = 'postgres'")"
expect_eq "pgc_dsn" "host=$src port=$(pgc_port "$src") dbname=odr user=anonetl_reader" \
    "$(pgc_dsn "$src" odr anonetl_reader)"
pgc_psql "$src" -c "CREATE ROLE pw_probe LOGIN PASSWORD 'probe-pw'" >/dev/null
tcp="host=127.0.0.1 port=$(pgc_port "$src") dbname=postgres user=pw_probe"
check "scram over TCP: right password accepted" env PGPASSWORD=probe-pw psql -X -tA -c 'SELECT 1' "$tcp"
check "scram over TCP: wrong password refused" fails env PGPASSWORD=wrong psql -X -tA -c 'SELECT 1' "$tcp"
check "scram over TCP: no password refused" fails env PGPASSWORD= psql -X -w -tA -c 'SELECT 1' "$tcp"
pgc_psql "$src" -c 'DROP ROLE pw_probe' >/dev/null

# A port picked at init and taken before start: pgc_start picks another one.
pgc_init "$work/moved" >/dev/null
taken=$(pgc_port "$work/moved")
python3 -c 'import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(1); print("listening", flush=True); time.sleep(60)' \
    "$taken" >"$work/squatter.out" 2>&1 &
squatter=$!
poll_until 60 grep -q listening "$work/squatter.out"
check "pgc_start moves off an automatically picked port that got taken" pgc_start "$work/moved"
moved=$(pgc_port "$work/moved")
check "the cluster now listens on another port ($taken -> $moved)" test "$moved" != "$taken"
expect_eq "and answers there" 1 "$(psql -X -tA -h "$work/moved" -p "$moved" -U postgres -d postgres -c 'SELECT 1')"
kill "$squatter" 2>/dev/null
wait "$squatter" 2>/dev/null
check "pgc_stop moved cluster" pgc_stop "$work/moved"

# --- demo data --------------------------------------------------------------------------
pgc_psql "$src" -c 'CREATE DATABASE odr' -c 'CREATE DATABASE odr_again' >/dev/null
# A second copy loads alongside, for the determinism check below.
pgc_psql "$src" -d odr_again -f sql/demo/schema.sql -f sql/demo/data.sql >"$work/again.log" 2>&1 &
again_pid=$!
t0=$SECONDS
check "sql/demo loads" pgc_psql "$src" -d odr -f sql/demo/schema.sql -f sql/demo/data.sql
load_s=$((SECONDS - t0))
check "loads in well under a minute (${load_s}s)" test "$load_s" -lt 30
expect_eq "row counts: cases parties messages payments" "10000 25000 50000 15000" \
    "$(S -tA -F ' ' -c 'SELECT (SELECT count(*) FROM cases), (SELECT count(*) FROM parties),
                               (SELECT count(*) FROM messages), (SELECT count(*) FROM payments)')"
total=$(S -tA -c 'SELECT (SELECT count(*) FROM cases) + (SELECT count(*) FROM parties)
                       + (SELECT count(*) FROM messages) + (SELECT count(*) FROM payments)')
check "at least 100,000 rows in the four tables ($total)" test "${total:-0}" -ge 100000

digest() { # DB: one md5 over every row of the four tables
    pgc_psql "$src" -d "$1" -tA -c "SELECT md5(string_agg(x, '|' ORDER BY n))
        FROM (SELECT 1 AS n, (SELECT md5(string_agg(c::text, ',' ORDER BY id)) FROM cases c) AS x
              UNION ALL SELECT 2, md5(string_agg(p::text, ',' ORDER BY id)) FROM parties p
              UNION ALL SELECT 3, md5(string_agg(m::text, ',' ORDER BY id)) FROM messages m
              UNION ALL SELECT 4, md5(string_agg(y::text, ',' ORDER BY id)) FROM payments y) AS d"
}
wait "$again_pid"
again_rc=$?
expect_eq "sql/demo loads a second time, into another database $(tail -3 "$work/again.log")" 0 "$again_rc"
d1=$(digest odr)
d2=$(digest odr_again)
check "deterministic: a second load is identical (${d1:-none})" test -n "$d1" -a "$d1" = "$d2"
pgc_psql "$src" -c 'DROP DATABASE odr_again' >/dev/null

expect_eq "primary keys and foreign keys" "5 6" \
    "$(S -tA -F ' ' -c "SELECT count(*) FILTER (WHERE contype = 'p'), count(*) FILTER (WHERE contype = 'f')
                        FROM pg_constraint WHERE conrelid IN ('cases'::regclass, 'parties'::regclass,
                        'messages'::regclass, 'payments'::regclass, 'staff_notes'::regclass)")"
expect_eq "ids are bigint" "bigint" \
    "$(S -tA -c "SELECT string_agg(DISTINCT format_type(atttypid, atttypmod), ',') FROM pg_attribute
                 WHERE attname IN ('id', 'case_id', 'sender_party_id', 'payer_party_id') AND attnum > 0
                   AND attrelid IN ('cases'::regclass, 'parties'::regclass, 'messages'::regclass, 'payments'::regclass)")"
expect_eq "every phone is 07xxx xxxxxx, +44 7xxx xxxxxx or 020 xxxx xxxx (or empty/NULL)" 0 \
    "$(S -tA -c "SELECT count(*) FROM parties WHERE phone <> ''
                 AND phone !~ '^(07[0-9]{3} [0-9]{6}|\+44 7[0-9]{3} [0-9]{6}|020 [0-9]{4} [0-9]{4})$'")"
expect_eq "all three phone formats occur" 3 \
    "$(S -tA -c "SELECT count(DISTINCT left(phone, 3)) FROM parties WHERE phone <> ''")"
expect_eq "every postcode looks like a UK postcode (spacing and case vary)" 0 \
    "$(S -tA -c "SELECT count(*) FROM parties WHERE postcode <> ''
                 AND upper(postcode) !~ '^[A-Z]{1,2}[0-9][A-Z0-9]? {0,2}[0-9][A-Z]{2}$'")"
expect_eq "postcode variants: lower case, no space, two spaces" "t t t" \
    "$(S -tA -F ' ' -c "SELECT bool_or(postcode ~ '[a-z]'), bool_or(postcode ~ '^[A-Z0-9]+$'),
                        bool_or(postcode ~ '  ') FROM parties")"
check "some message bodies quote the sender's own e-mail or phone" test "$(S -tA -c "
    SELECT count(*) FROM messages m JOIN parties p ON p.id = m.sender_party_id
     WHERE (p.email <> '' AND strpos(m.body, p.email) > 0) OR (p.phone <> '' AND strpos(m.body, p.phone) > 0)")" -gt 1000
expect_eq "message bodies are 50-400 characters (the nasty ones aside)" 0 \
    "$(S -tA -c "SELECT count(*) FROM messages WHERE id > 3 AND length(body) NOT BETWEEN 50 AND 400")"
expect_eq "every sender belongs to the message's case" 0 \
    "$(S -tA -c "SELECT count(*) FROM messages m JOIN parties p ON p.id = m.sender_party_id WHERE p.case_id <> m.case_id")"
expect_eq "nasty names present" 4 \
    "$(S -tA -c "SELECT count(DISTINCT full_name) FROM parties WHERE full_name IN ('Zoë O''Brien', 'Siân Llewellyn-Jones', 'Łukasz Wiśniewski', 'Renée 🙂 D''Souza')")"
expect_eq "a body with a tab, a newline and a backslash" 1 \
    "$(S -tA -c "SELECT count(*) FROM messages WHERE body LIKE E'%\t%' AND body LIKE E'%\n%' AND body LIKE E'%\\\\\\\\%'")"
expect_eq "empty strings and NULLs present" "t t t" \
    "$(S -tA -F ' ' -c "SELECT bool_or(email = ''), bool_or(email IS NULL),
                               (SELECT bool_or(sender_party_id IS NULL) FROM messages) FROM parties")"
expect_eq "closed_at only on finished cases, never before opened_at" 0 \
    "$(S -tA -c "SELECT count(*) FROM cases WHERE (closed_at IS NOT NULL) <> (status IN ('resolved', 'closed', 'withdrawn'))")"

# --- roles: source reader ---------------------------------------------------------------
check "source_reader.sql applies" S -v reader_password=reader-pw -f sql/roles/source_reader.sql
check "source_reader.sql is idempotent" S -v reader_password=reader-pw -f sql/roles/source_reader.sql
R() { pgc_psql "$src" -d odr -U anonetl_reader "$@"; }
expect_eq "reader reads the configured tables" 25000 "$(R -tA -c 'SELECT count(*) FROM parties')"
expect_eq "reader is not superuser, cannot create roles or databases, read-only by default" "f f f on" \
    "$(R -tA -F ' ' -c "SELECT rolsuper, rolcreaterole, rolcreatedb, current_setting('default_transaction_read_only')
                        FROM pg_roles WHERE rolname = current_user")"
check "reader cannot read a table that is not granted (staff_notes)" fails R -c 'SELECT count(*) FROM staff_notes'
check "reader cannot INSERT (read-only transaction)" fails \
    R -c "INSERT INTO cases (reference, status, category, opened_at, claim_amount) VALUES ('X', 'open', 'x', now(), 1)"
check "reader cannot INSERT even in a read-write transaction" fails \
    R -c "BEGIN READ WRITE" -c "INSERT INTO cases (reference, status, category, opened_at, claim_amount) VALUES ('X', 'open', 'x', now(), 1)"
check "reader cannot UPDATE/DELETE/TRUNCATE" fails R -c "BEGIN READ WRITE" -c "DELETE FROM payments"
check "reader cannot create in public" fails R -c "BEGIN READ WRITE" -c "CREATE TABLE public.x (a int)"
expect_eq "reader has SELECT only, on exactly the four tables" "cases:SELECT messages:SELECT parties:SELECT payments:SELECT" \
    "$(S -tA -c "SELECT string_agg(table_name || ':' || privilege_type, ' ' ORDER BY table_name)
                 FROM information_schema.role_table_grants WHERE grantee = 'anonetl_reader'")"
S -c 'GRANT SELECT ON staff_notes TO anonetl_reader' >/dev/null
S -v tables=public.parties -f sql/roles/source_reader.sql >/dev/null
expect_eq "re-run with a shorter list narrows the grants" "parties" \
    "$(S -tA -c "SELECT string_agg(table_name, ' ') FROM information_schema.role_table_grants WHERE grantee = 'anonetl_reader'")"
check "an unknown table in the list fails the script" fails S -v tables=public.nosuch -f sql/roles/source_reader.sql
S -f sql/roles/source_reader.sql >/dev/null
check "reader logs in over TCP with its password" env PGPASSWORD=reader-pw psql -X -tA -c 'SELECT 1' \
    "host=127.0.0.1 port=$(pgc_port "$src") dbname=odr user=anonetl_reader"

# --- roles: target writer and data team -------------------------------------------------
pgc_psql "$tgt" -c 'CREATE DATABASE odr_anon' >/dev/null
check "data_team_reader.sql before target_writer.sql fails" fails T -f sql/roles/data_team_reader.sql
check "target_writer.sql applies" T -v writer_password=writer-pw -f sql/roles/target_writer.sql
check "data_team_reader.sql applies" T -v member_password=analyst-pw -f sql/roles/data_team_reader.sql
check "both are idempotent" T -f sql/roles/target_writer.sql -f sql/roles/data_team_reader.sql
W() { pgc_psql "$tgt" -d odr_anon -U anonetl_writer "$@"; }
A() { pgc_psql "$tgt" -d odr_anon -U data_analyst "$@"; }
expect_eq "writer is not superuser and cannot create roles or databases" "f f f" \
    "$(W -tA -F ' ' -c "SELECT rolsuper, rolcreaterole, rolcreatedb FROM pg_roles WHERE rolname = current_user")"
expect_eq "writer owns anonymised, anonetl, anonetl_data" "anonetl:anonetl_writer anonetl_data:anonetl_writer anonymised:anonetl_writer" \
    "$(T -tA -c "SELECT string_agg(nspname || ':' || pg_get_userbyid(nspowner), ' ' ORDER BY nspname)
                 FROM pg_namespace WHERE nspname IN ('anonymised', 'anonetl', 'anonetl_data')")"
check "writer can create in its schemas and publish a view to data_team" W -c "
    CREATE TABLE anonetl.state_probe (a int);
    CREATE TABLE anonetl_data.parties_v1 AS SELECT 1 AS id, 'x'::text AS full_name;
    CREATE VIEW anonymised.parties AS SELECT * FROM anonetl_data.parties_v1;
    GRANT SELECT ON anonymised.parties TO data_team;"
check "writer has CREATE on the database" W -c "CREATE SCHEMA writer_probe; DROP SCHEMA writer_probe"
check "writer cannot create roles" fails W -c "CREATE ROLE sneaky"
expect_eq "data team member reads the published view" 1 "$(A -tA -c 'SELECT count(*) FROM anonymised.parties')"
check "data team cannot read the anonetl schema" fails A -c 'SELECT * FROM anonetl.state_probe'
check "data team cannot read anonetl_data" fails A -c 'SELECT * FROM anonetl_data.parties_v1'
check "data team cannot create in anonymised" fails A -c 'CREATE VIEW anonymised.mine AS SELECT 1'
expect_eq "data_team has no privilege on the private schemas" "f f f f" \
    "$(T -tA -F ' ' -c "SELECT has_schema_privilege('data_team', 'anonetl', 'USAGE'), has_schema_privilege('data_team', 'anonetl', 'CREATE'),
                        has_schema_privilege('data_team', 'anonetl_data', 'USAGE'), has_schema_privilege('data_team', 'anonetl_data', 'CREATE')")"
expect_eq "data_team is NOLOGIN; data_analyst is a member" "f t" \
    "$(T -tA -F ' ' -c "SELECT (SELECT rolcanlogin FROM pg_roles WHERE rolname = 'data_team'), pg_has_role('data_analyst', 'data_team', 'MEMBER')")"
check "data team creates its own view in data_team_sandbox" \
    A -c 'CREATE VIEW data_team_sandbox.names AS SELECT id, upper(full_name) AS n FROM anonymised.parties'
check "a publish (CREATE OR REPLACE VIEW onto a new version) keeps the sandbox view working" W -c "
    BEGIN;
    CREATE TABLE anonetl_data.parties_v2 AS SELECT 2 AS id, 'y'::text AS full_name;
    CREATE OR REPLACE VIEW anonymised.parties AS SELECT * FROM anonetl_data.parties_v2;
    DROP TABLE anonetl_data.parties_v1;
    COMMIT;"
expect_eq "the sandbox view sees the new version" "2 Y" "$(A -tA -F ' ' -c 'SELECT id, n FROM data_team_sandbox.names')"
check "data analyst logs in over TCP with its password" env PGPASSWORD=analyst-pw psql -X -tA -c 'SELECT 1' \
    "host=127.0.0.1 port=$(pgc_port "$tgt") dbname=odr_anon user=data_analyst"

# --- deploy/demo.yaml covers every column ------------------------------------------------
cols=$(S -tA -c "SELECT string_agg(table_schema || '.' || table_name || '.' || column_name, ' '
                                   ORDER BY table_name, column_name)
                 FROM information_schema.columns
                 WHERE table_schema = 'public' AND table_name IN ('cases', 'parties', 'messages', 'payments')")
yaml_out=$(python3 - "$cols" <<'PY' 2>&1
import sys, yaml
allowed = {"keep", "suppress", "constant", "hash", "hash_int", "mask", "truncate", "generalise",
           "bucket", "round", "scrub", "date_shift", "json"}
cfg = yaml.safe_load(open("deploy/demo.yaml"))
want = set(sys.argv[1].split())
have, bad = set(), []
assert cfg["version"] == 1, "version"
assert "aws" not in cfg and "network" not in cfg, "aws/network sections in the demo"
assert cfg["target"]["grant_select_to"] == ["data_team"], "grant_select_to"
for t in cfg["tables"]:
    for col, rule in t["columns"].items():
        have.add(t["name"] + "." + col)
        name = rule if isinstance(rule, str) else next(iter(rule))
        if name not in allowed:
            bad.append(f"{t['name']}.{col}: {name}")
        if (col == "id" or col.endswith("_id")) and name != "hash_int":
            bad.append(f"{t['name']}.{col}: ids must be hash_int so joins survive")
def ns(table, col):
    for t in cfg["tables"]:
        if t["name"] == "public." + table:
            r = t["columns"][col]
            return "" if isinstance(r, str) else ((r["hash_int"] or {}).get("namespace") or "")
for fk, pk in [(("parties", "case_id"), ("cases", "id")), (("messages", "case_id"), ("cases", "id")),
               (("payments", "case_id"), ("cases", "id")), (("messages", "sender_party_id"), ("parties", "id")),
               (("payments", "payer_party_id"), ("parties", "id"))]:
    if ns(*fk) != ns(*pk):
        bad.append(f"{fk[0]}.{fk[1]} and {pk[0]}.{pk[1]}: different namespaces, the join breaks")
for c in sorted(want - have):
    bad.append(f"no rule for {c}")
for c in sorted(have - want):
    bad.append(f"rule for a column that does not exist: {c}")
print("\n".join(bad) if bad else "ok")
PY
)
expect_eq "deploy/demo.yaml: a rule for every column, only known rules, ids hash_int, joins kept" ok "$yaml_out"

# --- pgc_stop ---------------------------------------------------------------------------
check "pgc_stop target" pgc_stop "$tgt"
check "target postmaster gone" fails kill -0 "${tgt_pid:-0}"
check "postmaster.pid removed" test ! -e "$tgt/data/postmaster.pid"
check "pgc_stop on a stopped cluster is a no-op" pgc_stop "$tgt"
check "pgc_stop_all stops the source" pgc_stop_all
check "source postmaster gone" fails kill -0 "${src_pid:-0}"

# --- the demo end to end ------------------------------------------------------------------
if [ -n "$demo_pid" ]; then
    wait "$demo_pid"
    rc=$?
    demo_out=$(cat "$work/demo.out")
    if [ "$rc" -eq 0 ]; then ok "deploy/demo.sh runs end to end"; else
        not_ok "deploy/demo.sh runs end to end" "exit $rc: $(printf '%s' "$demo_out" | tail -20)"; fi
    check "the demo never prints the hash key" fails grep -Eq '[0-9a-f]{64}' <<<"$demo_out"
    expect_eq "the demo's before/after sample names are pseudonymised" 0 \
        "$(printf '%s\n' "$demo_out" | sed -n '/^== after/,/^== joins/p' | grep -c "Zoë O'Brien")"
    expect_eq "joins survive in the demo (message counts per party equal)" 1 \
        "$(printf '%s\n' "$demo_out" | awk '/^  source:/ {s=$0; sub(/^  source: */, "", s)}
            /^  anonymised:/ {a=$0; sub(/^  anonymised: */, "", a)} END {print (s != "" && s == a) ? 1 : 0}')"
else
    skip "deploy/demo.sh end to end" "./anonetl not built"
fi

done_testing
