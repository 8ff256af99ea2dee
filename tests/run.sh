#!/usr/bin/env bash
# tests/run.sh [--unit|--integration|--preflight] [FILTER]
#
# Runs every test and prints "N passed, N failed, N skipped" as its last line.
# Every test program speaks TAP: cmocka binaries (CMOCKA_MESSAGE_OUTPUT=TAP) and the
# shell suites in tests/integration and tests/preflight (tests/lib/tap.sh). A program
# that dies without reporting a failure counts as one failure, so a crash never passes.
set -u
cd "$(dirname "$0")/.."

want=all
case "${1:-}" in
--unit) want=unit; shift ;;
--integration) want=integration; shift ;;
--preflight) want=preflight; shift ;;
esac
filter=${1:-}

# Tests never reach beyond loopback and their own namespaces: no instance metadata
# service, no real AWS endpoint, whatever the machine's environment says.
export AWS_EC2_METADATA_DISABLED=true
unset AWS_PROFILE AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN \
    AWS_CONTAINER_CREDENTIALS_RELATIVE_URI AWS_CONTAINER_CREDENTIALS_FULL_URI \
    AWS_WEB_IDENTITY_TOKEN_FILE AWS_ENDPOINT_URL AWS_ENDPOINT_URL_EC2 \
    ECS_CONTAINER_METADATA_URI_V4 ECS_CONTAINER_METADATA_URI AWS_MAX_ATTEMPTS \
    AWS_RETRY_MODE 2>/dev/null || true

passed=0 failed=0 skipped=0
failures=()
logdir=build/test-logs
mkdir -p "$logdir"

run_one() { # name, command...
    local name=$1; shift
    local log="$logdir/$(basename "$name").log"
    local start=$SECONDS
    "$@" >"$log" 2>&1
    local rc=$?
    local p f s
    p=$(grep -cE '^ *ok [0-9]+' "$log" | head -1)
    s=$(grep -cE '^ *ok [0-9]+.*# *(SKIP|skip)' "$log" | head -1)
    f=$(grep -cE '^ *not ok [0-9]+' "$log" | head -1)
    p=$((p - s))
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        f=1
        echo "not ok - $name exited with status $rc" >>"$log"
    fi
    passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
    printf '%-48s %4d passed %3d failed %3d skipped  (%ds)\n' "$name" "$p" "$f" "$s" $((SECONDS - start))
    if [ "$f" -gt 0 ]; then
        failures+=("$name")
        grep -E '^ *not ok|^# ' "$log" | head -40 | sed 's/^/    /'
    fi
}

if [ "$want" = all ] || [ "$want" = unit ]; then
    for t in build/asan/tests/test_*; do
        [ -x "$t" ] || continue
        case "$t" in *"$filter"*) ;; *) continue ;; esac
        CMOCKA_MESSAGE_OUTPUT=TAP ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
            UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 run_one "unit/$(basename "$t")" "$t"
    done
fi
for suite in integration preflight; do
    [ "$want" = all ] || [ "$want" = "$suite" ] || continue
    for t in tests/$suite/*.sh; do
        [ -f "$t" ] || continue
        case "$t" in *"$filter"*) ;; *) continue ;; esac
        run_one "$suite/$(basename "$t" .sh)" bash "$t"
    done
done

echo
if [ ${#failures[@]} -gt 0 ]; then
    echo "failed suites: ${failures[*]} (logs in $logdir/)"
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
