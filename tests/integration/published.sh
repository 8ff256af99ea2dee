#!/usr/bin/env bash
# tests/integration/published.sh: what the published schema holds and who can read it is
# what the config says, after every publish.
#   - grant_select_to lets the data team read: USAGE on the published schema comes with
#     SELECT on the views (issue 14), tested as a login member of the role; nothing on
#     anonetl / anonetl_data;
#   - a role removed from grant_select_to stops reading at the next publish, and grants
#     nobody configured (a DBA's, PUBLIC's, INSERT on a view) are revoked (issue 11.10);
#   - a table removed from the config is unpublished (view, record, version), unless
#     target.retain_unconfigured (then kept, said in every run's log); views of the data
#     team on it make the run fail, naming them, with nothing changed (issue 11.10);
#   - two tables with one name in different schemas are refused at check, naming both;
#     publish_as publishes them side by side (issue 11.4);
#   - a writer that does not own the published schema cannot set its grants: exit 5,
#     said, instead of a data team that silently cannot read.
set -u
cd "$(dirname "$0")/../.."
. tests/lib/tap.sh
. tests/lib/pgcluster.sh

ANONETL=${ANONETL:-./anonetl}
pgc_pair || { echo "not ok 1 - clusters did not start"; exit 1; }
export ANONETL_HASH_KEY=$(openssl rand -hex 32)
W_PW="W-$(openssl rand -hex 8)"

S >/dev/null <<'SQL'
CREATE SCHEMA billing;
CREATE TABLE public.users (id bigint PRIMARY KEY, email text NOT NULL);
CREATE TABLE billing.users (id bigint PRIMARY KEY, email text NOT NULL, plan text);
CREATE TABLE public.cases (id bigint PRIMARY KEY, status text);
CREATE TABLE public.orders (id bigint PRIMARY KEY, amount int);
CREATE TABLE public.visits (id bigint PRIMARY KEY, region text, updated_at timestamptz NOT NULL DEFAULT now());
INSERT INTO public.visits (id, region) SELECT g, 'r' || (g % 3) FROM generate_series(1, 60) g;
INSERT INTO public.users SELECT g, 'u' || g || '@x.org' FROM generate_series(1, 100) g;
INSERT INTO billing.users SELECT g, 'b' || g || '@x.org', 'gold' FROM generate_series(1, 40) g;
INSERT INTO public.cases SELECT g, 'open' FROM generate_series(1, 30) g;
INSERT INTO public.orders SELECT g, g FROM generate_series(1, 20) g;
SQL
# The target as in production: the writer owns the schemas (sql/roles/target_writer.sql);
# the data team is a group role with a login member, and NOTHING granted to it by hand.
T -v writer_password="$W_PW" -f sql/roles/target_writer.sql >/dev/null
T >/dev/null <<'SQL'
CREATE ROLE data_team NOLOGIN;
CREATE ROLE auditors NOLOGIN;
CREATE ROLE analyst LOGIN IN ROLE data_team;
CREATE ROLE auditor LOGIN IN ROLE auditors;
CREATE ROLE intruder LOGIN;
CREATE SCHEMA sandbox AUTHORIZATION data_team;
SQL
export SOURCE_DATABASE_URL="$(pgc_dsn "$work/src" postgres postgres)"
export TARGET_DATABASE_URL="$(pgc_dsn "$work/tgt" postgres anonetl_writer)"
as() { pgc_psql "$work/tgt" -U "$1" -tA -c "$2" 2>&1; } # ROLE SQL

config() { # FILE GRANTS TABLES-YAML [TARGET-EXTRA]
    cat >"$1" <<YAML
version: 1
source: { dsn: { env: SOURCE_DATABASE_URL } }
target:
  dsn: { env: TARGET_DATABASE_URL }
  schema: anonymised
  grant_select_to: [$2]
${4:-}
secrets: { hash_key: { env: ANONETL_HASH_KEY } }
tables:
$3
YAML
}
USERS="  - name: public.users
    columns: { id: { hash_int: {} }, email: { hash: {} } }"
BILLING="  - name: billing.users
    columns: { id: { hash_int: {} }, email: { hash: {} }, plan: keep }"
CASES="  - name: public.cases
    columns: { id: keep, status: keep }"
ORDERS="  - name: public.orders
    columns: { id: keep, amount: keep }
  - name: public.visits
    mode: incremental
    key: [id]
    watermark: updated_at
    columns: { id: keep, region: keep, updated_at: keep }
    k_anonymity: { quasi_identifiers: [region], k: 5, on_violation: suppress }"
# The job's config is one file, edited between runs: each version is copied there.
run() {
    cp "$1" "$work/anonetl.yaml"
    "$ANONETL" run -c "$work/anonetl.yaml" --skip-preflight --log-format json >"$work/run.log" 2>&1
}

# --- 14: the data team reads, through USAGE on the schema ----------------------------------
config "$work/a.yaml" "data_team, auditors" "$USERS
$CASES
$ORDERS"
run "$work/a.yaml"; expect_eq "first run exits 0" 0 $?
expect_eq "a login member of data_team reads the published table" 100 "$(as analyst 'SELECT count(*) FROM anonymised.users')"
expect_eq "a login member of auditors too" 30 "$(as auditor 'SELECT count(*) FROM anonymised.cases')"
expect_eq "data_team has USAGE on the published schema, nothing on anonetl, anonetl_data" "t f f f" \
    "$(T -tA -F" " -c "SELECT has_schema_privilege('data_team', 'anonymised', 'USAGE'), has_schema_privilege('data_team', 'anonymised', 'CREATE'), has_schema_privilege('data_team', 'anonetl', 'USAGE'), has_schema_privilege('data_team', 'anonetl_data', 'USAGE')")"
as analyst 'SELECT count(*) FROM anonetl.runs' | grep -q 'permission denied'
check "the data team cannot read the run history" test $? -eq 0

# --- 11.10: grants are the config's after every publish ------------------------------------
T -c "GRANT SELECT ON anonymised.users TO intruder; GRANT SELECT ON anonymised.cases TO PUBLIC; GRANT USAGE ON SCHEMA anonymised TO intruder" >/dev/null
T -c "GRANT INSERT ON anonymised.orders TO data_team" >/dev/null
# as sql/roles/data_team_reader.sql does for a team: USAGE by hand, outside the config
T -c "GRANT USAGE ON SCHEMA anonymised TO auditors" >/dev/null
expect_eq "(a DBA's grant lets intruder read, before the next publish)" 100 "$(as intruder 'SELECT count(*) FROM anonymised.users')"
config "$work/b.yaml" "data_team" "$USERS
$CASES
$ORDERS"
run "$work/b.yaml"; expect_eq "run without auditors in grant_select_to exits 0" 0 $?
as auditor 'SELECT count(*) FROM anonymised.cases' | grep -q 'permission denied'
check "a role removed from grant_select_to no longer reads" test $? -eq 0
as intruder 'SELECT count(*) FROM anonymised.users' | grep -q 'permission denied'
check "a grant nobody configured (a DBA's) is revoked" test $? -eq 0
expect_eq "nobody but the owner and data_team holds anything on the views or the schema" "" \
    "$(T -tAc "SELECT string_agg(DISTINCT coalesce(r.rolname, 'PUBLIC') || ':' || a.privilege_type, ' ') FROM pg_class c CROSS JOIN LATERAL aclexplode(c.relacl) a LEFT JOIN pg_roles r ON r.oid = a.grantee WHERE c.relnamespace = 'anonymised'::regnamespace AND a.grantee <> c.relowner AND NOT (r.rolname = 'data_team' AND a.privilege_type = 'SELECT')")$(T -tAc "SELECT string_agg(coalesce(r.rolname, 'PUBLIC') || ':' || a.privilege_type, ' ') FROM pg_namespace n CROSS JOIN LATERAL aclexplode(n.nspacl) a LEFT JOIN pg_roles r ON r.oid = a.grantee WHERE n.nspname = 'anonymised' AND a.grantee <> n.nspowner AND NOT (r.rolname = 'data_team' AND a.privilege_type = 'USAGE')")"
as analyst "INSERT INTO anonymised.orders VALUES (999, 1)" | grep -q 'permission denied'
check "INSERT granted on a (writable) view is revoked: only SELECT" test $? -eq 0
expect_eq "the data team still reads" 100 "$(as analyst 'SELECT count(*) FROM anonymised.users')"

# --- 11.10: a table removed from the config is unpublished ----------------------------------
orders_version=$(T -tAc "SELECT version_table FROM anonetl.published WHERE table_name = 'orders'")
visits_tables=$(T -tAc "SELECT version_table || ' ' || coalesce(base_table, '') FROM anonetl.published WHERE table_name = 'visits'")
config "$work/c.yaml" "data_team" "$USERS
$CASES"
run "$work/c.yaml"; expect_eq "run without public.orders exits 0" 0 $?
expect_eq "its view is gone" "" "$(T -tAc "SELECT to_regclass('anonymised.orders')")"
expect_eq "its record is gone" 0 "$(T -tAc "SELECT count(*) FROM anonetl.published WHERE table_name = 'orders'")"
expect_eq "its version table is dropped" "" "$(T -tAc "SELECT to_regclass('anonetl_data.\"$orders_version\"')")"
left=""
for v in $visits_tables; do left="$left$(T -tAc "SELECT to_regclass('anonetl_data.\"$v\"')")"; done
expect_eq "an incremental k-anonymous table: its version and base tables are dropped ($visits_tables)" "" "$left"
check "the log says it was unpublished" grep -q '"event":"unpublished".*public.orders' "$work/run.log"
expect_eq "the configured tables are still there" "100 30" "$(T -tAc "SELECT (SELECT count(*) FROM anonymised.users) || ' ' || (SELECT count(*) FROM anonymised.cases)")"

# views of the data team on a table removed from the config: the run fails, naming them
as analyst "CREATE VIEW sandbox.open_cases AS SELECT count(*) AS n FROM anonymised.cases" >/dev/null
config "$work/d.yaml" "data_team" "$USERS"
before=$(T -tAc "SELECT count(*) FROM anonymised.cases")
run "$work/d.yaml"; rc=$?
expect_eq "removing a table the data team's views use: exit 5" 5 "$rc"
check "and the views are named" grep -q 'sandbox.open_cases' "$work/run.log"
expect_eq "nothing was unpublished" "$before 30" "$(T -tAc "SELECT count(*) FROM anonymised.cases") $(as analyst 'SELECT n FROM sandbox.open_cases')"

# retain_unconfigured: kept, said in every run, grants still the config's
config "$work/e.yaml" "data_team" "$USERS" "  retain_unconfigured: true"
run "$work/e.yaml"; expect_eq "with retain_unconfigured: true the run exits 0" 0 $?
check "the kept table is said in the log" grep -q '"event":"unconfigured_retained".*anonymised.cases is no longer configured' "$work/run.log"
run "$work/e.yaml"
check "and again in the next run's log" grep -q '"event":"unconfigured_retained"' "$work/run.log"
expect_eq "the kept table is still readable by the data team" 30 "$(as analyst 'SELECT count(*) FROM anonymised.cases')"
config "$work/f.yaml" "auditors" "$USERS" "  retain_unconfigured: true"
run "$work/f.yaml"
as analyst 'SELECT n FROM sandbox.open_cases' | grep -q 'permission denied'
check "grants on kept tables follow grant_select_to too" test $? -eq 0
expect_eq "(and the new list reads it)" 30 "$(as auditor 'SELECT count(*) FROM anonymised.cases')"

# --- 11.4: one name in two schemas ------------------------------------------------------------
as analyst "DROP VIEW sandbox.open_cases" >/dev/null
config "$work/g.yaml" "data_team" "$USERS
$BILLING"
"$ANONETL" check -c "$work/g.yaml" >"$work/g.out" 2>&1; rc=$?
expect_eq "public.users and billing.users: check exits 2" 2 "$rc"
check "the error names both, file:line:col, and suggests publish_as" \
    grep -q 'g.yaml:[0-9]*:[0-9]*: tables\[1\]: billing.users and public.users (line [0-9]*:[0-9]*) would both publish as anonymised.users: .*publish_as' "$work/g.out"
run "$work/g.yaml"; expect_eq "run refuses it too (exit 2)" 2 $?
config "$work/h.yaml" "data_team" "$USERS
$BILLING
    publish_as: billing_users"
run "$work/h.yaml"; expect_eq "with publish_as: billing_users the run exits 0" 0 $?
expect_eq "both published, side by side" "100 40" "$(as analyst 'SELECT (SELECT count(*) FROM anonymised.users) || chr(32) || (SELECT count(*) FROM anonymised.billing_users)')"
expect_eq "each recorded with its source" "billing_users=billing.users users=public.users" \
    "$(T -tAc "SELECT string_agg(table_name || '=' || source_table, ' ' ORDER BY table_name) FROM anonetl.published WHERE target_schema = 'anonymised' AND table_name LIKE '%users'")"
"$ANONETL" explain -c "$work/h.yaml" --no-source >"$work/explain.out" 2>&1
check "explain shows the published name" grep -q 'billing.users -> anonymised.billing_users' "$work/explain.out"
config "$work/i.yaml" "data_team" "$USERS
$BILLING
    publish_as: invoice_users"
run "$work/i.yaml"; expect_eq "renamed with publish_as: exit 0" 0 $?
expect_eq "the new name is published, the old one is gone" "40 " "$(as analyst 'SELECT count(*) FROM anonymised.invoice_users') $(T -tAc "SELECT to_regclass('anonymised.billing_users')")"
printf 'version: 1\nsource: { dsn: x }\ntarget: { dsn: y }\nsecrets: { hash_key: { env: K } }\ntables:\n  - name: public.a\n    publish_as: b\n    columns: { x: keep }\n  - name: public.b\n    columns: { x: keep }\n' >"$work/j.yaml"
"$ANONETL" check -c "$work/j.yaml" >"$work/j.out" 2>&1; rc=$?
expect_eq "a publish_as equal to another table's name: check exits 2" 2 "$rc"

# --- two jobs, one published schema: a run never unpublishes another config's table --------
# Another config (another file: another job) whose tables differ would take this job's
# tables off the schema, and this job its own, every run: it leaves them, said in its log.
cp "$work/i.yaml" "$work/other.yaml"
sed -i '/name: billing.users/,$d' "$work/other.yaml"
"$ANONETL" run -c "$work/other.yaml" --skip-preflight >"$work/other.log" 2>&1
expect_eq "another config on the same schema, without invoice_users: exit 0" 0 $?
expect_eq "invoice_users is still published" 40 "$(as analyst 'SELECT count(*) FROM anonymised.invoice_users')"
check "its log names the table and both configs" \
    grep -q '"event":"unconfigured_foreign".*anonymised.invoice_users is not in this config and was published by another one (.*/anonetl.yaml), not this one (.*/other.yaml)' "$work/other.log"
run "$work/i.yaml"; expect_eq "the first job's next run: exit 0" 0 $?
expect_eq "both configs' tables published" "40 100" "$(as analyst 'SELECT (SELECT count(*) FROM anonymised.invoice_users) || chr(32) || (SELECT count(*) FROM anonymised.users)')"

# --- a view at the published name that anonetl did not publish --------------------------------
# A report someone made in the published schema (as the writer, who owns it): publishing
# over it would replace it, or drop and recreate it with other columns. The run stops
# before copying, naming it; it is intact.
as anonetl_writer "CREATE VIEW anonymised.report AS SELECT 42 AS n" >/dev/null
config "$work/report.yaml" "data_team" "$USERS
    publish_as: report"
run "$work/report.yaml"; expect_eq "publish_as onto a view anonetl did not publish: exit 5" 5 $?
check "it says whose view it is" grep -q 'anonymised.report exists and is a view anonetl did not publish' "$work/run.log"
expect_eq "the view is intact" 42 "$(T -tAc 'SELECT n FROM anonymised.report')"
grep -q '"event":"table_done"' "$work/run.log"
check "nothing was copied" test $? -ne 0
T -c "DROP VIEW anonymised.report" >/dev/null

# --- two jobs, one published schema, different grant_select_to: USAGE is the union -------
# Each run used to revoke USAGE from every role not in its own list: team_a lost A's tables
# whenever B ran, and team_b B's whenever A ran. USAGE is the union of the lists recorded
# with the tables of the configs in the schema; SELECT stays per view.
T >/dev/null <<'SQL'
CREATE ROLE team_a NOLOGIN;
CREATE ROLE team_b NOLOGIN;
CREATE ROLE team_c NOLOGIN;
CREATE ROLE reader_a LOGIN IN ROLE team_a;
CREATE ROLE reader_b LOGIN IN ROLE team_b;
CREATE ROLE reader_c LOGIN IN ROLE team_c;
SQL
shared() { # FILE GRANTS TABLES-YAML
    config "$1" "$2" "$3"
    sed -i 's/schema: anonymised/schema: shared/' "$1"
}
job() { "$ANONETL" run -c "$1" --skip-preflight --log-format json >"$work/job.log" 2>&1; }
usage_on_shared() {
    T -tAc "SELECT string_agg(coalesce(r.rolname, 'PUBLIC') || ':' || a.privilege_type, ' ' ORDER BY r.rolname) FROM pg_namespace n CROSS JOIN LATERAL aclexplode(n.nspacl) a LEFT JOIN pg_roles r ON r.oid = a.grantee WHERE n.nspname = 'shared' AND a.grantee <> n.nspowner"
}
shared "$work/job_a.yaml" "team_a, team_c" "$USERS"
shared "$work/job_b.yaml" "team_b" "$CASES"
job "$work/job_a.yaml"; expect_eq "shared schema: job A exits 0" 0 $?
job "$work/job_b.yaml"; expect_eq "shared schema: job B exits 0" 0 $?
expect_eq "after B: team_a still reads A's table" 100 "$(as reader_a 'SELECT count(*) FROM shared.users')"
expect_eq "after B: team_b reads B's table" 30 "$(as reader_b 'SELECT count(*) FROM shared.cases')"
job "$work/job_a.yaml"; expect_eq "shared schema: job A again exits 0" 0 $?
expect_eq "after A, B, A: team_a reads A's table" 100 "$(as reader_a 'SELECT count(*) FROM shared.users')"
expect_eq "after A, B, A: team_b reads B's table" 30 "$(as reader_b 'SELECT count(*) FROM shared.cases')"
as reader_a 'SELECT count(*) FROM shared.cases' | grep -q 'permission denied for view cases'
check "team_a does not read B's table" test $? -eq 0
as reader_b 'SELECT count(*) FROM shared.users' | grep -q 'permission denied for view users'
check "team_b does not read A's table" test $? -eq 0
expect_eq "USAGE on the shared schema: the union of both lists, nothing for PUBLIC" \
    "team_a:USAGE team_b:USAGE team_c:USAGE" "$(usage_on_shared)"
as intruder 'SELECT count(*) FROM shared.users' | grep -q 'permission denied for schema shared'
check "another role has no USAGE" test $? -eq 0
shared "$work/job_a.yaml" "team_a" "$USERS"
job "$work/job_a.yaml"; expect_eq "job A without team_c exits 0" 0 $?
expect_eq "a role dropped from A's list, in no other, loses USAGE" \
    "team_a:USAGE team_b:USAGE" "$(usage_on_shared)"
as reader_c 'SELECT count(*) FROM shared.users' | grep -q 'permission denied for schema shared'
check "and no longer reads" test $? -eq 0
job "$work/job_b.yaml"; expect_eq "job B again exits 0" 0 $?
expect_eq "B's run keeps A's roles' USAGE" "team_a:USAGE team_b:USAGE" "$(usage_on_shared)"
# a role of A's list dropped since (A has not run again): B's run skips it instead of failing
T -c "CREATE ROLE team_d NOLOGIN" >/dev/null
shared "$work/job_a.yaml" "team_a, team_d" "$USERS"
job "$work/job_a.yaml"; expect_eq "job A with team_d exits 0" 0 $?
T -c "DROP OWNED BY team_d; DROP ROLE team_d" >/dev/null
job "$work/job_b.yaml"; expect_eq "job B with a dropped role in A's recorded list exits 0" 0 $?
expect_eq "USAGE: A's and B's existing roles" "team_a:USAGE team_b:USAGE" "$(usage_on_shared)"
shared "$work/job_a.yaml" "team_a" "$USERS"
# a table recorded before the lists were (NULL): no one from it; its config's run records it
T -c "UPDATE anonetl.published SET grant_select_to = NULL WHERE target_schema = 'shared' AND table_name = 'users'" >/dev/null
job "$work/job_b.yaml"; expect_eq "job B with A's list not recorded exits 0" 0 $?
expect_eq "an unrecorded list gives no USAGE (fail-safe)" "team_b:USAGE" "$(usage_on_shared)"
job "$work/job_a.yaml"; expect_eq "A's next run exits 0" 0 $?
expect_eq "A's next run records its list" "team_a:USAGE team_b:USAGE" "$(usage_on_shared)"

# --- a writer that does not own the published schema ------------------------------------------
T -c "CREATE SCHEMA not_owned; GRANT USAGE, CREATE ON SCHEMA not_owned TO anonetl_writer" >/dev/null
sed 's/schema: anonymised/schema: not_owned/' "$work/h.yaml" >"$work/k.yaml"
run "$work/k.yaml"; rc=$?
expect_eq "USAGE the writer cannot grant (not the schema's owner): exit 5" 5 "$rc"
check "and it says who must run it" grep -q 'not_owned: USAGE could not be granted to data_team.*owner' "$work/run.log"
# --- row order: a rewritten key's version is laid out by the published key -------------
# A reader without ORDER BY gets a table's physical order. Written in the source's order,
# row N of an append-only table is about source id N whatever hash_int made of the id
# (someone who knows an account number finds its row). A version whose key went through
# a rule that changes it is rewritten in its primary key's order (CLUSTER); one whose key
# is published as it is keeps the order it was written in (no second write: relfilenode
# unchanged). Also through the split load (--jobs 2, key ranges) and an incremental
# table's reload.
S >/dev/null <<'SQL'
CREATE TABLE public.accounts (id serial PRIMARY KEY, email text NOT NULL,
                              updated_at timestamptz NOT NULL DEFAULT now());
INSERT INTO public.accounts (email) SELECT 'a' || g || '@example.org' FROM generate_series(1, 3000) g;
CREATE INDEX ON public.accounts (updated_at);
CREATE TABLE public.ledger (id serial PRIMARY KEY, amount int NOT NULL);
INSERT INTO public.ledger (amount) SELECT g % 97 FROM generate_series(1, 3000) g;
SQL
order_config() { # FILE SCHEMA ID_RULE [MODE_LINES]
    cat >"$1" <<YAML
version: 1
source: { dsn: { env: SOURCE_DATABASE_URL } }
target: { dsn: { env: TARGET_DATABASE_URL }, schema: $2 }
secrets: { hash_key: { env: ANONETL_HASH_KEY } }
tables:
  - name: public.accounts
$4
    columns:
      id: $3
      email: { hash: {} }
      updated_at: keep
  - name: public.ledger
    columns:
      id: keep
      amount: keep
YAML
}
scan_sorted() { # RELATION: scan order equals the order of id
    [ "$(T -tAc "SELECT string_agg(id::text, ',' ORDER BY id) FROM $1")" = \
      "$(T -tAc "SELECT string_agg(id::text, ',') FROM $1")" ]
}
rows_sorted() { # RELATION: scan order equals the order of its rows' text (C collation)
    [ "$(T -tAc "SELECT md5(string_agg(r::text, '|' ORDER BY r::text COLLATE \"C\")) FROM $1 r")" = \
      "$(T -tAc "SELECT md5(string_agg(r::text, '|')) FROM $1 r")" ]
}
rewritten() { # SCHEMA TABLE: the version's file is not the one it was created with
    T -tAc "SELECT c.relfilenode <> c.oid FROM anonetl.published p JOIN pg_class c
            ON c.relname = p.version_table WHERE p.target_schema = '$1' AND p.table_name = '$2'"
}
order_config "$work/order1.yaml" order1 "{ hash_int: {} }" ""
"$ANONETL" run -c "$work/order1.yaml" --skip-preflight >"$work/order1.log" 2>&1
expect_eq "order: run with a hash_int key exits 0" 0 $?
check "order: the published rows lie in the published (hashed) key's order" scan_sorted order1.accounts
expect_eq "order: the hashed key's version was rewritten" t "$(rewritten order1 accounts)"
expect_eq "order: a key published as it is costs no rewrite" f "$(rewritten order1 ledger)"
ANONETL_SPLIT_ROWS=100 "$ANONETL" run -c "$work/order1.yaml" --skip-preflight --jobs 2 \
    >"$work/order1s.log" 2>&1
expect_eq "order: split load (--jobs 2, key ranges) exits 0" 0 $?
check "order: it was split" grep -q '"event":"split"' "$work/order1s.log"
check "order: the split load's rows lie in the published key's order" scan_sorted order1.accounts
order_config "$work/order2.yaml" order2 "{ hash_int: {} }" \
    "    key: [id]
    mode: incremental
    watermark: updated_at
    watermark_lag: 0s"
"$ANONETL" run -c "$work/order2.yaml" --skip-preflight >"$work/order2.log" 2>&1
expect_eq "order: incremental table's first run (a reload) exits 0" 0 $?
check "order: the reload's rows lie in the published key's order" scan_sorted order2.accounts
# A k-anonymous table loads a private base and writes its version from it in key order:
# the base is not rewritten (it is never published; a full refresh's lives for one run).
S >/dev/null <<'SQL'
CREATE TABLE public.kpeople (id serial PRIMARY KEY, region text NOT NULL,
                             updated_at timestamptz NOT NULL DEFAULT now());
INSERT INTO public.kpeople (region) SELECT (ARRAY['north', 'south', 'east'])[1 + g % 3]
FROM generate_series(1, 600) g;
SQL
cat >"$work/order3.yaml" <<'YAML'
version: 1
source: { dsn: { env: SOURCE_DATABASE_URL } }
target: { dsn: { env: TARGET_DATABASE_URL }, schema: order3 }
secrets: { hash_key: { env: ANONETL_HASH_KEY } }
tables:
  - name: public.kpeople
    key: [id]
    mode: incremental
    watermark: updated_at
    watermark_lag: 0s
    columns: { id: { hash_int: {} }, region: keep, updated_at: keep }
    k_anonymity: { quasi_identifiers: [region], k: 2, on_violation: suppress }
YAML
"$ANONETL" run -c "$work/order3.yaml" --skip-preflight >"$work/order3.log" 2>&1
expect_eq "order: k-anonymous incremental table's first run exits 0" 0 $?
check "order: its version lies in the published key's order" scan_sorted order3.kpeople
expect_eq "order: its private base is not rewritten" f \
    "$(T -tAc "SELECT c.relfilenode <> c.oid FROM anonetl.published p JOIN pg_class c
               ON c.relname = p.base_table WHERE p.target_schema = 'order3'")"

# --- row order: a merge rewrites only rows whose published values changed ---------------
# An updated tuple moves (to the end of its page, or of the table): rows whose change is
# hidden by their rules (a suppressed address, a json key no path names, the suppressed
# watermark) were rewritten all the same, and a scan without ORDER BY showed which (in a
# version in key order, exactly the rows out of order). With a hashed key (the version
# carries the key's digest) and a kept one; a row whose kept column changed is merged.
S >/dev/null <<'SQL'
CREATE TABLE public.members (id serial PRIMARY KEY, email text NOT NULL, address text, plan text,
                             prefs json, updated_at timestamptz NOT NULL DEFAULT now());
INSERT INTO public.members (email, address, plan, prefs)
SELECT 'm' || g || '@example.org', g || ' High Street', 'basic', json_build_object('lang', 'en', 'note', 'n' || g)
FROM generate_series(1, 2000) g;
SQL
for idrule in "{ hash_int: {} }" keep; do
    schema=hidden_$([ "$idrule" = keep ] && echo kept || echo hashed)
    cat >"$work/$schema.yaml" <<YAML
version: 1
source: { dsn: { env: SOURCE_DATABASE_URL } }
target: { dsn: { env: TARGET_DATABASE_URL }, schema: $schema }
secrets: { hash_key: { env: ANONETL_HASH_KEY } }
tables:
  - name: public.members
    key: [id]
    mode: incremental
    watermark: updated_at
    watermark_lag: 0s
    columns:
      id: $idrule
      email: { hash: {} }
      address: suppress
      plan: keep
      prefs: { json: { paths: { "\$.lang": keep } } }
      updated_at: suppress
YAML
    "$ANONETL" run -c "$work/$schema.yaml" --skip-preflight >"$work/$schema.log" 2>&1
    expect_eq "hidden changes ($schema): first run exits 0" 0 $?
    before=$(T -tAc "SELECT string_agg(id::text, ',') FROM $schema.members")
    S -c "UPDATE public.members SET address = 'moved', updated_at = now() WHERE id IN (5, 17, 1234)" \
      -c "UPDATE public.members SET prefs = json_build_object('lang', 'en', 'note', 'moved'), updated_at = now() WHERE id = 40" \
      -c "UPDATE public.members SET updated_at = now() WHERE id = 1500" >/dev/null
    "$ANONETL" run -c "$work/$schema.yaml" --skip-preflight --log-format json >"$work/$schema.2.log" 2>&1
    expect_eq "hidden changes ($schema): the merge exits 0" 0 $?
    expect_eq "hidden changes ($schema): rows whose published values did not change keep their place" \
        "$before" "$(T -tAc "SELECT string_agg(id::text, ',') FROM $schema.members")"
    S -c "UPDATE public.members SET plan = 'gold', address = 'again', updated_at = now() WHERE id IN (5, 6)" >/dev/null
    "$ANONETL" run -c "$work/$schema.yaml" --skip-preflight --log-format json >"$work/$schema.3.log" 2>&1
    expect_eq "hidden changes ($schema): a row whose kept column changed is merged" 2 \
        "$(T -tAc "SELECT count(*) FROM $schema.members WHERE plan = 'gold'")"
    S -c "UPDATE public.members SET plan = 'basic' WHERE id IN (5, 6)" >/dev/null
done

# --- row order: a key published as it is is read in its order --------------------------
# The source's physical order is its update history (an updated row goes to the end of
# its page or of the table): published in that order, the rows out of key order were the
# ones updated at the source, also when only a suppressed column changed (who moved).
# Such a table is read in the key's order when the source's planner gives it cheaply
# (here an index scan of a key the table mostly follows); no second write on the target.
S >/dev/null <<'SQL'
CREATE TABLE public.homes (id serial PRIMARY KEY, address text, kind text NOT NULL DEFAULT 'flat');
INSERT INTO public.homes (address) SELECT g || ' Mill Lane' FROM generate_series(1, 3000) g;
UPDATE public.homes SET address = 'moved' WHERE id IN (5, 17, 1234, 2500);
ANALYZE public.homes;
SQL
cat >"$work/homes.yaml" <<'YAML'
version: 1
source: { dsn: { env: SOURCE_DATABASE_URL } }
target: { dsn: { env: TARGET_DATABASE_URL }, schema: homes }
secrets: { hash_key: { env: ANONETL_HASH_KEY } }
tables:
  - name: public.homes
    columns: { id: keep, address: suppress, kind: keep }
YAML
"$ANONETL" run -c "$work/homes.yaml" --skip-preflight --log-format json >"$work/homes.log" 2>&1
expect_eq "kept key order: the run exits 0" 0 $?
check "kept key order: rows updated at the source are not out of key order" scan_sorted homes.homes
expect_eq "kept key order: no second write on the target" f "$(rewritten homes homes)"
if grep -q '"physical_order"' "$work/homes.log"; then not_ok "kept key order: read in key order (no physical_order line)"
else ok "kept key order: read in key order (no physical_order line)"; fi
# When the source cannot give the key's order cheaply (no index on the key, a sort of the
# whole table refused: here the source database's enable_sort off makes the planner's sort
# cost prohibitive, as a large table in no key order does), the table is read in its physical order and laid
# out in the key's order on the target after the load (CLUSTER).
S >/dev/null <<'SQL'
CREATE TABLE public.badges (code text NOT NULL, holder text, kind text NOT NULL DEFAULT 'b');
INSERT INTO public.badges (code, holder) SELECT md5(g::text), 'holder ' || g FROM generate_series(1, 3000) g;
UPDATE public.badges SET holder = 'moved' WHERE code IN (SELECT code FROM public.badges ORDER BY code LIMIT 5);
ANALYZE public.badges;
SQL
cat >"$work/badges.yaml" <<'YAML'
version: 1
source: { dsn: { env: SOURCE_DATABASE_URL } }
target: { dsn: { env: TARGET_DATABASE_URL }, schema: badges }
secrets: { hash_key: { env: ANONETL_HASH_KEY } }
tables:
  - name: public.badges
    key: [code]
    columns: { code: keep, holder: suppress, kind: keep }
YAML
badges_sorted() {
    [ "$(T -tAc "SELECT string_agg(code, ',' ORDER BY code) FROM badges.badges")" = \
      "$(T -tAc "SELECT string_agg(code, ',') FROM badges.badges")" ]
}
S -c "ALTER DATABASE postgres SET enable_sort = off" >/dev/null # anonetl pins its own options
"$ANONETL" run -c "$work/badges.yaml" --skip-preflight --log-format json >"$work/badges.log" 2>&1
expect_eq "kept key the source cannot order cheaply: the run exits 0, 3000 rows" "0:3000" \
    "$?:$(T -tAc "SELECT count(*) FROM badges.badges")"
S -c "ALTER DATABASE postgres RESET enable_sort" >/dev/null
check "kept key the source cannot order cheaply: read in physical order (said)" \
    grep -q '"physical_order".*public.badges.*laid out by its published key' "$work/badges.log"
check "kept key the source cannot order cheaply: published in the key's order" badges_sorted
expect_eq "kept key the source cannot order cheaply: rewritten on the target" t "$(rewritten badges badges)"
# A kept key of a type without an ordering (point; it can be NULL, so no primary key needs
# one) is read as before, and the snapshot's transaction goes on for the next table.
S >/dev/null <<'SQL'
CREATE TABLE public.spots (p point, label text);
INSERT INTO public.spots SELECT point(g, g), 'l' || g FROM generate_series(1, 50) g;
SQL
cat >"$work/spots.yaml" <<'YAML'
version: 1
source: { dsn: { env: SOURCE_DATABASE_URL } }
target: { dsn: { env: TARGET_DATABASE_URL }, schema: spots }
secrets: { hash_key: { env: ANONETL_HASH_KEY } }
tables:
  - name: public.spots
    key: [p]
    columns: { p: keep, label: keep }
  - name: public.homes
    columns: { id: keep, address: suppress, kind: keep }
YAML
"$ANONETL" run -c "$work/spots.yaml" --skip-preflight --log-format json >"$work/spots.log" 2>&1
expect_eq "kept key without an ordering: the run exits 0, both tables published" "0:50:3000" \
    "$?:$(T -tAc "SELECT count(*) FROM spots.spots"):$(T -tAc "SELECT count(*) FROM spots.homes")"
check "kept key without an ordering: said (physical_order)" grep -q '"physical_order".*public.spots' "$work/spots.log"
check "kept key without an ordering: published in the order of its rows' text" \
    rows_sorted spots.spots

# --- row order: a table without a key --------------------------------------------------
# Its physical order is its insertion order: a date generalised to its month would keep
# its exact order within the month, and two tables written together could be matched row
# by row. Its version is written again in the order of its published rows' text.
S >/dev/null <<'SQL'
CREATE TABLE public.footfall (visited_at timestamptz NOT NULL, room text NOT NULL);
INSERT INTO public.footfall
SELECT timestamptz '2026-03-31 23:00+00' - g * interval '7 minutes', 'room ' || (g % 7)
FROM generate_series(1, 2000) g;
SQL
cat >"$work/footfall.yaml" <<'YAML'
version: 1
source: { dsn: { env: SOURCE_DATABASE_URL } }
target: { dsn: { env: TARGET_DATABASE_URL }, schema: footfall }
secrets: { hash_key: { env: ANONETL_HASH_KEY } }
tables:
  - name: public.footfall
    columns: { visited_at: { generalise: { to: month } }, room: keep }
YAML
"$ANONETL" run -c "$work/footfall.yaml" --skip-preflight >"$work/footfall.log" 2>&1
expect_eq "keyless: the run exits 0, 2000 rows" "0:2000" "$?:$(T -tAc "SELECT count(*) FROM footfall.footfall")"
check "keyless: published in the order of its rows' text, not the source's" rows_sorted footfall.footfall
expect_eq "keyless: the version keeps its definition (room NOT NULL)" "room" \
    "$(T -tAc "SELECT string_agg(a.attname, ',') FROM pg_attribute a JOIN anonetl.published p ON a.attrelid =
               ('anonetl_data.' || quote_ident(p.version_table))::regclass
               WHERE p.target_schema = 'footfall' AND a.attnum > 0 AND a.attnotnull")"
expect_eq "keyless: nothing left behind in anonetl_data" "0" \
    "$(T -tAc "SELECT count(*) FROM pg_class WHERE relname LIKE 'anonetl_rows_%'")"

done_testing
