#!/usr/bin/env bash
# tests/integration/asan_binary.sh: the commands of the real binary under AddressSanitizer
# and UndefinedBehaviorSanitizer (build/asan/anonetl): full and incremental runs with
# every rule kind, a policy failure, check, explain, status. Any sanitizer report (a
# leak included) fails the test.
set -u
cd "$(dirname "$0")/../.."
. tests/lib/tap.sh
. tests/lib/pgcluster.sh

BIN=build/asan/anonetl
if [ ! -x "$BIN" ]; then skip "sanitizer build" "$BIN not built (make build/asan/anonetl)"; done_testing; exit; fi
pgc_pair || { echo "not ok 1 - clusters did not start"; exit 1; }
pgc_psql "$work/src" -f sql/demo/schema.sql -f sql/demo/data.sql >/dev/null
pgc_psql "$work/src" -c "DELETE FROM messages WHERE id > 5000; DELETE FROM payments WHERE id > 3000" >/dev/null
export ANONETL_HASH_KEY=$(openssl rand -hex 32)
export SOURCE_DATABASE_URL="$(pgc_dsn "$work/src" postgres postgres)"
export TARGET_DATABASE_URL="$(pgc_dsn "$work/tgt" postgres postgres)"
export ASAN_OPTIONS=detect_leaks=1:exitcode=99 UBSAN_OPTIONS=halt_on_error=1:exitcode=99:print_stacktrace=1
sed -e 's/grant_select_to: \[data_team\]/grant_select_to: []/' deploy/demo.yaml >"$work/demo.yaml"

san() { # NAME EXPECTED_RC command...
    local name=$1 want=$2; shift 2
    "$@" >"$work/out" 2>"$work/err"; local rc=$?
    if grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$work/err"; then
        not_ok "$name: no sanitizer report" "$(grep -E -A12 'Sanitizer|runtime error' "$work/err" | head -30)"
    elif [ "$rc" != "$want" ]; then
        not_ok "$name: exit $want" "exit $rc: $(tail -5 "$work/err")"
    else
        ok "$name: exit $want, no sanitizer report"
    fi
}
san "run (every rule kind, k-anonymity)" 0 "$BIN" run -c "$work/demo.yaml" --skip-preflight
san "second run (swap with previous version)" 0 "$BIN" run -c "$work/demo.yaml" --skip-preflight --jobs 2
san "check" 0 "$BIN" check -c "$work/demo.yaml"
san "check --source" 0 "$BIN" check -c "$work/demo.yaml" --source
san "explain" 0 "$BIN" explain -c "$work/demo.yaml"
san "status --json" 0 "$BIN" status -c "$work/demo.yaml" --json
# The leak audit: a clean run on two workers, a planted leak (exit 6), the command.
sed 's/^tables:/run:\n  audit: { sample: 200 }\n\ntables:/' "$work/demo.yaml" >"$work/audit.yaml"
san "run with the leak audit, --jobs 2" 0 "$BIN" run -c "$work/audit.yaml" --skip-preflight --jobs 2
sed 's/^\(      body:\) .*/\1 { keep: { reviewed: "planted leak (test)" } }/' "$work/audit.yaml" >"$work/leak.yaml"
san "run with a planted leak: the audit stops it" 6 "$BIN" run -c "$work/leak.yaml" --skip-preflight
check "the planted leak was stopped by the audit" grep -q "leak audit" "$work/err"
san "audit" 0 "$BIN" audit -c "$work/audit.yaml" --sample 100

# Incremental runs: pieces merged while the copy goes on (one and two workers, soft
# deletes and key_scan), and a merge that fails midway (the workers are stopped).
pgc_psql "$work/src" >/dev/null <<'SQL'
CREATE TABLE ev (id bigint PRIMARY KEY, email text NOT NULL, gone boolean NOT NULL DEFAULT false,
                 updated_at timestamptz NOT NULL DEFAULT clock_timestamp());
INSERT INTO ev (id, email) SELECT g, g || '@x.org' FROM generate_series(1, 30000) g;
SQL
for d in soft key_scan; do
    cat >"$work/inc-$d.yaml" <<YAML
version: 1
source: { dsn: { env: SOURCE_DATABASE_URL } }
target: { dsn: { env: TARGET_DATABASE_URL }, schema: inc_$d }
secrets: { hash_key: { env: ANONETL_HASH_KEY } }
$([ $d = key_scan ] && echo "run: { audit: { sample: 500 } }")
tables:
  - name: public.ev
    mode: incremental
    key: [id]
    watermark: updated_at
    watermark_lag: 0s
    deletes: $d
$([ $d = soft ] && echo "    deleted_column: gone")
    columns: { id: keep, email: { hash: {} }, gone: keep, updated_at: keep }
YAML
    san "incremental ($d): first run, a full reload" 0 "$BIN" run -c "$work/inc-$d.yaml" --skip-preflight
    for j in 1 2; do
        pgc_psql "$work/src" -c "UPDATE ev SET email = 'j$j' || email, gone = (id % 7 = 0), updated_at = clock_timestamp() WHERE id % 2 = $((j - 1)); DELETE FROM ev WHERE id % 1000 = $j" >/dev/null
        san "incremental ($d), --jobs $j: 15,000 changes merged in pieces" 0 "$BIN" run -c "$work/inc-$d.yaml" --skip-preflight --jobs $j
    done
done
version=$(pgc_psql "$work/tgt" -tAc "SELECT version_table FROM anonetl.published WHERE target_schema = 'inc_soft'")
pgc_psql "$work/tgt" >/dev/null <<SQL
CREATE FUNCTION public.refuse() RETURNS trigger LANGUAGE plpgsql AS \$\$
BEGIN IF NEW.id > 20000 THEN RAISE EXCEPTION 'refused'; END IF; RETURN NEW; END \$\$;
CREATE TRIGGER refuse BEFORE UPDATE ON anonetl_data."$version" FOR EACH ROW EXECUTE FUNCTION public.refuse();
SQL
pgc_psql "$work/src" -c "UPDATE ev SET updated_at = clock_timestamp(), email = 'x' || email" >/dev/null
san "incremental: a merge failing midway stops the workers" 5 "$BIN" run -c "$work/inc-soft.yaml" --skip-preflight --jobs 2

# A table split into key ranges whose bigint keys span the whole range (random 64-bit
# ids): max - min passes LLONG_MAX, a signed overflow the ranges were computed with.
pgc_psql "$work/src" >/dev/null <<'SQL'
CREATE TABLE wide_ids (id bigint PRIMARY KEY, v int NOT NULL);
INSERT INTO wide_ids SELECT (-9223372036854775808::numeric + 18446744073709551615::numeric * g / 2000)::bigint, g
  FROM generate_series(0, 2000) g;
ANALYZE wide_ids;
SQL
cat >"$work/wide.yaml" <<'YAML'
version: 1
source: { dsn: { env: SOURCE_DATABASE_URL } }
target: { dsn: { env: TARGET_DATABASE_URL }, schema: wide }
secrets: { hash_key: { env: ANONETL_HASH_KEY } }
tables:
  - { name: public.wide_ids, columns: { id: { hash_int: {} }, v: keep } }
YAML
san "bigint keys from -2^63 to 2^63-1 split into ranges (--jobs 2)" 0 env ANONETL_SPLIT_ROWS=100 "$BIN" run -c "$work/wide.yaml" --skip-preflight --jobs 2
expect_eq "... every row published once" "2001:2001" "$(pgc_psql "$work/tgt" -tAc "SELECT count(*) || ':' || count(DISTINCT v) FROM wide.wide_ids")"

pgc_psql "$work/src" -c "ALTER TABLE parties ADD COLUMN nickname text" >/dev/null
san "uncovered column" 6 "$BIN" run -c "$work/demo.yaml" --skip-preflight
printf 'version: 1\ntables: [ { name: x, columns: { a: hsah } } ]\nbogus: 1\n' >"$work/bad.yaml"
san "bad config" 2 "$BIN" check -c "$work/bad.yaml"
done_testing
