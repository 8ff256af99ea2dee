#!/usr/bin/env bash
# tests/integration/target_state.sh: the run's own state on the target and its sessions.
#   - two runs at once on a target that is still being bootstrapped: one runs, the other
#     is a clean skip (exit 7), never a catalog race (exit 5) nor a dump of the bootstrap
#     SQL (issue 11.12)
set -u
cd "$(dirname "$0")/../.."
. tests/lib/tap.sh
. tests/lib/pgcluster.sh

ANONETL=${ANONETL:-./anonetl}
pgc_pair || { echo "not ok 1 - clusters did not start"; exit 1; }
export ANONETL_HASH_KEY=$(openssl rand -hex 32)
export SOURCE_DATABASE_URL="$(pgc_dsn "$work/src" postgres postgres)"

S >/dev/null <<'SQL'
CREATE TABLE people (id bigint PRIMARY KEY, email text NOT NULL);
INSERT INTO people SELECT g, 'u' || g || '@x.org' FROM generate_series(1, 1000) g;
SQL

config() { # FILE TARGET-DSN-ENV [extra tables yaml]
    cat >"$1" <<YAML
version: 1
source: { dsn: { env: SOURCE_DATABASE_URL } }
target: { dsn: { env: $2 }, schema: anonymised }
secrets: { hash_key: { env: ANONETL_HASH_KEY } }
tables:
  - name: public.people
    columns: { id: { hash_int: {} }, email: { hash: {} } }
${3:-}
YAML
}

# --- 11.12: concurrent runs on a fresh target -------------------------------------------
bad=""
for i in 1 2 3 4 5 6; do
    T -c "CREATE DATABASE fresh$i" >/dev/null
    export FRESH_URL="$(pgc_dsn "$work/tgt" "fresh$i" postgres)"
    config "$work/fresh.yaml" FRESH_URL
    "$ANONETL" run -c "$work/fresh.yaml" --skip-preflight >"$work/a$i.log" 2>&1 &
    a=$!
    "$ANONETL" run -c "$work/fresh.yaml" --skip-preflight >"$work/b$i.log" 2>&1 &
    b=$!
    wait $a; ra=$?
    wait $b; rb=$?
    case "$ra $rb" in
    "0 7" | "7 0" | "0 0") ;;
    *) bad="$bad [$i: exits $ra $rb: $(grep -ho '"msg":"[^"]\{0,120\}' "$work/a$i.log" "$work/b$i.log" | tail -1)]" ;;
    esac
done
expect_eq "two runs at once on a fresh target: one runs, the other exits 7 (6 tries)" "" "$bad"
if grep -q 'CREATE TABLE\|CREATE SCHEMA\|target-bootstrap\|statement:' "$work"/a*.log "$work"/b*.log; then
    not_ok "no SQL text in the messages of concurrent runs"
else ok "no SQL text in the messages of concurrent runs"; fi

done_testing
