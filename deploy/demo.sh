#!/usr/bin/env bash
# deploy/demo.sh [--keep]: the anonetl demo (`make demo` runs it after building ./anonetl).
#
# Starts two throwaway PostgreSQL clusters in a temp dir (tests/lib/pgcluster.sh):
#   source  database odr       the online dispute resolution data of sql/demo (100k rows),
#                              read by anonetl as anonetl_reader (sql/roles/source_reader.sql)
#   target  database odr_anon  written by anonetl as anonetl_writer, read by the data team
#                              (sql/roles/target_writer.sql, sql/roles/data_team_reader.sql)
# makes a random hash key for this demo (in the environment only, never printed), runs
#   anonetl run -c deploy/demo.yaml --skip-preflight
# as the least-privilege roles, and prints the run summary, row counts and a before/after
# sample of parties. Both clusters are stopped by pid and the temp dir removed on exit,
# failure included. --keep leaves them running until you press Enter, to explore.
# Environment: ANONETL (the binary, default ./anonetl), PGC_BIN (PostgreSQL binaries).
set -euo pipefail
cd "$(dirname "$0")/.."
. tests/lib/pgcluster.sh

keep=0
case "${1:-}" in
--keep) keep=1 ;;
'') ;;
*) echo "usage: deploy/demo.sh [--keep]" >&2; exit 2 ;;
esac

anonetl=${ANONETL:-./anonetl}
work=$(pgc_mktemp)
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    set +e
    pgc_stop_all
    rm -rf "$work"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

step() { printf '\n== %s\n' "$*"; }
elapsed() { printf '(%ss)' $((SECONDS - $1)); }

step "starting source and target clusters in $work"
pgc_init "$work/source"
pgc_init "$work/target"
pgc_start "$work/source"
pgc_start "$work/target"
pgc_psql "$work/source" -c 'CREATE DATABASE odr'
pgc_psql "$work/target" -c 'CREATE DATABASE odr_anon'
echo "source: $(pgc_dsn "$work/source" odr)"
echo "target: $(pgc_dsn "$work/target" odr_anon)"

step "loading the demo data (sql/demo) into the source"
t=$SECONDS
pgc_psql "$work/source" -d odr -f sql/demo/schema.sql -f sql/demo/data.sql
counts() { # DIR DB USER SCHEMA: "table rows" lines, in a fixed order
    pgc_psql "$1" -d "$2" -U "$3" -tA -F ' ' -c "
        SELECT t, n FROM (VALUES (1, 'cases', (SELECT count(*) FROM $4.cases)),
                                 (2, 'parties', (SELECT count(*) FROM $4.parties)),
                                 (3, 'messages', (SELECT count(*) FROM $4.messages)),
                                 (4, 'payments', (SELECT count(*) FROM $4.payments))) AS v(o, t, n)
         ORDER BY o"
}
counts "$work/source" odr postgres public | awk '{ printf "  %-10s %7d\n", $1, $2 }'
elapsed "$t"; echo

step "roles: anonetl_reader (source); anonetl_writer, data_team, data_analyst (target)"
pgc_psql "$work/source" -d odr -f sql/roles/source_reader.sql
pgc_psql "$work/target" -d odr_anon -f sql/roles/target_writer.sql
pgc_psql "$work/target" -d odr_anon -f sql/roles/data_team_reader.sql
echo "done"

step "anonetl run -c deploy/demo.yaml --skip-preflight"
if [ ! -x "$anonetl" ]; then
    echo "demo: $anonetl not found or not executable: run 'make demo' (or 'make anonetl')" >&2
    exit 1
fi
# The key exists only in this process's environment and anonetl's.
ANONETL_HASH_KEY=$(openssl rand -hex 32)
SOURCE_DATABASE_URL=$(pgc_dsn "$work/source" odr anonetl_reader)
TARGET_DATABASE_URL=$(pgc_dsn "$work/target" odr_anon anonetl_writer)
export ANONETL_HASH_KEY SOURCE_DATABASE_URL TARGET_DATABASE_URL
t=$SECONDS
rc=0
"$anonetl" run -c deploy/demo.yaml --skip-preflight --log-format text 2>&1 | tee "$work/run.log" || rc=${PIPESTATUS[0]}
unset ANONETL_HASH_KEY
if [ "$rc" -ne 0 ]; then
    echo "demo: anonetl run failed with exit status $rc" >&2
    exit "$rc"
fi
elapsed "$t"; echo

step "row counts: source -> anonymised (as data_analyst, a data team member)"
paste -d ' ' <(counts "$work/source" odr postgres public) \
    <(counts "$work/target" odr_anon data_analyst anonymised) |
    awk '{ printf "  %-10s %7d -> %7d\n", $1, $2, $4 }'
echo "  (parties: test accounts are filtered out at the source by the config's where:)"

# The same five parties before and after. Names, e-mails and ids are pseudonyms after
# the run, so the rows are matched on updated_at, which the demo config keeps.
step "before: five parties in the source (public.parties)"
ids="1, 3, 5, 7, 9"
pgc_psql "$work/source" -d odr -P footer=off -c "
    SELECT id, case_id, role, full_name, email, phone, postcode, date_of_birth, updated_at
      FROM public.parties WHERE id IN ($ids) ORDER BY id"
stamps=$(pgc_psql "$work/source" -d odr -tA -c "
    SELECT string_agg(quote_literal(updated_at::text) || '::timestamptz', ', ' ORDER BY id)
      FROM public.parties WHERE id IN ($ids)")

step "after: the same parties as the data team sees them (anonymised.parties)"
pgc_psql "$work/target" -d odr_anon -U data_analyst -P footer=off -c "
    SELECT p.id, p.case_id, p.role, p.full_name, p.email, p.phone, p.postcode,
           p.date_of_birth, p.updated_at
      FROM anonymised.parties AS p
      JOIN unnest(ARRAY[$stamps]) WITH ORDINALITY AS u(ts, n) ON p.updated_at = u.ts
     ORDER BY u.n"

step "joins survive: messages sent by each of these parties, before and after"
before=$(pgc_psql "$work/source" -d odr -tA -c "
    SELECT string_agg(count::text, ' ' ORDER BY id) FROM (
        SELECT p.id, count(m.id) FROM public.parties AS p
          LEFT JOIN public.messages AS m ON m.sender_party_id = p.id
         WHERE p.id IN ($ids) GROUP BY p.id) AS c")
after=$(pgc_psql "$work/target" -d odr_anon -U data_analyst -tA -c "
    SELECT string_agg(count::text, ' ' ORDER BY n) FROM (
        SELECT u.n, count(m.id) FROM anonymised.parties AS p
          JOIN unnest(ARRAY[$stamps]) WITH ORDINALITY AS u(ts, n) ON p.updated_at = u.ts
          LEFT JOIN anonymised.messages AS m ON m.sender_party_id = p.id
         GROUP BY u.n) AS c")
echo "  source:     $before"
echo "  anonymised: $after"

if [ "$keep" -eq 1 ]; then
    step "clusters left running"
    echo "  source: psql \"$(pgc_dsn "$work/source" odr)\""
    echo "  target: psql \"$(pgc_dsn "$work/target" odr_anon data_analyst)\""
    read -r -p "press Enter to stop them and clean up " _ || true
fi
step "done: stopping both clusters"
