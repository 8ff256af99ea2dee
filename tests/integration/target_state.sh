#!/usr/bin/env bash
# tests/integration/target_state.sh: the run's own state on the target and its sessions.
#   - two runs at once on a target that is still being bootstrapped: one runs, the other
#     is a clean skip (exit 7), never a catalog race (exit 5) nor a dump of the bootstrap
#     SQL (issue 11.12)
#   - servers that end idle sessions (idle_in_transaction_session_timeout,
#     idle_session_timeout of 1 s): the leader's snapshot and the target leader, idle
#     while workers copy, survive (issue 11.13)
#   - `status` before any run: "no runs yet", exit 0, valid JSON (issue 11.16)
#   - a table whose name is long and not ASCII ("a" + 30 x "é", 61 bytes) publishes, full
#     and incremental (versions, pieces, key tables): internal names are cut on character
#     boundaries and stay unique (issue 11.14)
set -u
cd "$(dirname "$0")/../.."
. tests/lib/tap.sh
. tests/lib/pgcluster.sh
. tests/lib/poll.sh

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

# --- 11.16: status before any run ----------------------------------------------------------
T -c "CREATE DATABASE norun" >/dev/null
export NORUN_URL="$(pgc_dsn "$work/tgt" norun postgres)"
config "$work/norun.yaml" NORUN_URL
"$ANONETL" status -c "$work/norun.yaml" --json >"$work/st.json" 2>"$work/st.err"; rc=$?
expect_eq "status --json before any run exits 0" 0 "$rc"
check "and prints valid JSON: no runs, says so" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["runs"] == [] and d["note"] == "no runs yet" and d["schema"] == "anonymised", d
' "$work/st.json"
"$ANONETL" status -c "$work/norun.yaml" >"$work/st.txt" 2>&1; rc=$?
expect_eq "status (text) before any run exits 0" 0 "$rc"
check "and says no runs yet" grep -q 'no runs yet' "$work/st.txt"
"$ANONETL" run -c "$work/norun.yaml" --skip-preflight >/dev/null 2>&1
sed 's/schema: anonymised/schema: other_schema/' "$work/norun.yaml" >"$work/other.yaml"
"$ANONETL" status -c "$work/other.yaml" >"$work/st2.txt" 2>&1; rc=$?
expect_eq "status of a schema no run published to: exit 0, no runs yet" "0 1" "$rc $(grep -c 'no runs yet' "$work/st2.txt")"
T -d norun -c "CREATE ROLE outsider LOGIN" >/dev/null
export OUTSIDER_URL="$(pgc_dsn "$work/tgt" norun outsider)"
config "$work/outsider.yaml" OUTSIDER_URL
"$ANONETL" status -c "$work/outsider.yaml" >"$work/st3.txt" 2>&1; rc=$?
expect_eq "status as a role that cannot read the history is still an error (exit 5)" 5 "$rc"

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

# --- 11.14: a long non-ASCII table name ---------------------------------------------------
long=a$(printf 'é%.0s' $(seq 1 30))
long2=a$(printf 'é%.0s' $(seq 1 29))è
S >/dev/null <<SQL
CREATE TABLE "$long" (id bigint PRIMARY KEY, email text NOT NULL, updated_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE "$long2" (id bigint PRIMARY KEY, email text NOT NULL, updated_at timestamptz NOT NULL DEFAULT now());
INSERT INTO "$long" (id, email) SELECT g, 'u' || g FROM generate_series(1, 500) g;
INSERT INTO "$long2" (id, email) SELECT g, 'v' || g FROM generate_series(1, 500) g;
SQL
export TARGET_DATABASE_URL="$(pgc_dsn "$work/tgt" postgres postgres)"
config "$work/long.yaml" TARGET_DATABASE_URL "  - name: public.$long
    columns: { id: keep, email: { hash: {} }, updated_at: keep }
  - name: public.$long2
    mode: incremental
    key: [id]
    watermark: updated_at
    watermark_lag: 0s
    deletes: key_scan
    columns: { id: keep, email: { hash: {} }, updated_at: keep }"
"$ANONETL" run -c "$work/long.yaml" --skip-preflight --log-format json >"$work/long.log" 2>&1; rc=$?
expect_eq "a 61-byte non-ASCII table name: full and incremental first run exit 0" 0 "$rc"
[ "$rc" -eq 0 ] || sed 's/^/# /' "$work/long.log" | tail -3
S -c "UPDATE \"$long2\" SET email = 'w', updated_at = now() WHERE id <= 10; DELETE FROM \"$long2\" WHERE id = 500" >/dev/null
"$ANONETL" run -c "$work/long.yaml" --skip-preflight --log-format json >>"$work/long.log" 2>&1; rc=$?
expect_eq "an incremental run (pieces, key scan) on it exits 0" 0 "$rc"
expect_eq "both published" "500 499" "$(T -tAc "SELECT (SELECT count(*) FROM anonymised.\"$long\") || chr(32) || (SELECT count(*) FROM anonymised.\"$long2\")")"
check "every log line is valid JSON with its message" python3 -c '
import json, sys
for line in open(sys.argv[1], encoding="utf-8"):
    if line.startswith("{"):
        assert json.loads(line).get("msg"), line
' "$work/long.log"

# --- 11.13: idle timeouts on both servers, --jobs 2 --------------------------------------
# Each row passes through pg_sleep in a view (where: may not call a volatile function),
# so the workers copy for ~1.5 s while both leaders sit idle (the source one in its
# snapshot transaction).
S -c "CREATE TABLE slow_a_rows (id int PRIMARY KEY); CREATE TABLE slow_b_rows (id int PRIMARY KEY);
      INSERT INTO slow_a_rows SELECT generate_series(1, 30); INSERT INTO slow_b_rows SELECT generate_series(1, 30);
      CREATE VIEW slow_a AS SELECT id FROM slow_a_rows WHERE pg_sleep(0.05) IS NOT NULL;
      CREATE VIEW slow_b AS SELECT id FROM slow_b_rows WHERE pg_sleep(0.05) IS NOT NULL" >/dev/null
for side in S T; do
    # the run's sessions must start with the timeouts (a fixed 0.2 s could end before the
    # servers reloaded, and the run then passed without meeting them)
    $side -c "ALTER SYSTEM SET idle_in_transaction_session_timeout = '1s'" -c "ALTER SYSTEM SET idle_session_timeout = '1s'" >/dev/null
    reload_conf $side || not_ok "$side reloaded its idle timeouts"
done
export TARGET_DATABASE_URL="$(pgc_dsn "$work/tgt" postgres postgres)"
config "$work/idle.yaml" TARGET_DATABASE_URL "  - name: public.slow_a
    columns: { id: keep }
  - name: public.slow_b
    columns: { id: keep }"
start=$SECONDS
"$ANONETL" run -c "$work/idle.yaml" --skip-preflight --jobs 2 >"$work/idle.log" 2>&1; rc=$?
expect_eq "1 s idle timeouts on both servers, --jobs 2: the run exits 0" 0 "$rc"
[ "$rc" -eq 0 ] || sed 's/^/# /' "$work/idle.log" | tail -3
check "and the copy did outlast the timeouts ($((SECONDS - start)) s)" test $((SECONDS - start)) -ge 2
expect_eq "every table published" "1000 30 30" "$(T -tAc 'SELECT (SELECT count(*) FROM anonymised.people) || chr(32) || (SELECT count(*) FROM anonymised.slow_a) || chr(32) || (SELECT count(*) FROM anonymised.slow_b)')"
for side in S T; do
    $side -c "ALTER SYSTEM RESET idle_in_transaction_session_timeout" -c "ALTER SYSTEM RESET idle_session_timeout" -c "SELECT pg_reload_conf()" >/dev/null
done

done_testing
