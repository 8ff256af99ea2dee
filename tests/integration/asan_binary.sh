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
pgc_psql "$work/src" -c "ALTER TABLE parties ADD COLUMN nickname text" >/dev/null
san "uncovered column" 6 "$BIN" run -c "$work/demo.yaml" --skip-preflight
printf 'version: 1\ntables: [ { name: x, columns: { a: hsah } } ]\nbogus: 1\n' >"$work/bad.yaml"
san "bad config" 2 "$BIN" check -c "$work/bad.yaml"
done_testing
