#!/usr/bin/env bash
# tests/run.sh [--unit|--integration|--preflight] [FILTER]
#
# Runs every test and prints "N passed, N failed, N skipped" as its last line.
# Every test program speaks TAP: cmocka binaries (CMOCKA_MESSAGE_OUTPUT=TAP) and the
# shell suites in tests/integration and tests/preflight (tests/lib/tap.sh). A program
# that dies without reporting a failure counts as one failure, so a crash never passes.
#
# The shell suites run TEST_JOBS at a time (default: the number of cores, at most 4; 1
# runs them one by one), longest first by the durations the last run recorded: most of
# a suite's time is spent starting clusters and moto, waiting on timeouts and fsyncs,
# so two suites share two cores well. Every suite owns its clusters, ports (picked
# free), namespaces (named by pid) and temporary directories, so they do not meet.
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
durations=$logdir/durations
mkdir -p "$logdir"
rm -f "$durations.new"
jobs=${TEST_JOBS:-$(nproc 2>/dev/null || echo 1)}
case "$jobs" in '' | *[!0-9]* | 0) echo "tests/run.sh: TEST_JOBS must be a positive integer" >&2; exit 2 ;; esac
[ -n "${TEST_JOBS:-}" ] || [ "$jobs" -le 4 ] || jobs=4

# A finished program's counts, from its TAP log: "passed failed skipped".
tap_counts() { # log rc
    local log=$1 rc=$2 p f s
    p=$(grep -cE '^ *ok [0-9]+' "$log" | head -1)
    s=$(grep -cE '^ *ok [0-9]+.*# *(SKIP|skip)' "$log" | head -1)
    f=$(grep -cE '^ *not ok [0-9]+' "$log" | head -1)
    p=$((p - s))
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        f=1
        echo "not ok - $(basename "$log" .log) exited with status $rc" >>"$log"
    fi
    echo "$p $f $s"
}

report() { # name log rc seconds
    local name=$1 log=$2 p f s
    read -r p f s < <(tap_counts "$log" "$3")
    passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
    printf '%-48s %4d passed %3d failed %3d skipped  (%ds)\n' "$name" "$p" "$f" "$s" "$4"
    echo "$name $4" >>"$durations.new"
    if [ "$f" -gt 0 ]; then
        failures+=("$name")
        grep -E '^ *not ok|^# ' "$log" | head -40 | sed 's/^/    /'
    fi
}

run_one() { # name, command...
    local name=$1; shift
    local log="$logdir/$(basename "$name").log" start=$SECONDS rc
    "$@" >"$log" 2>&1
    rc=$?
    report "$name" "$log" "$rc" $((SECONDS - start))
}

# A suite in the background: its status and duration land in $logdir/NAME.done.
start_suite() { # name script
    local log="$logdir/$(basename "$1").log"
    rm -f "$logdir/$(basename "$1").done"
    (
        start=$SECONDS
        bash "$2" >"$log" 2>&1
        echo "$? $((SECONDS - start))" >"$logdir/$(basename "$1").done.tmp"
        mv "$logdir/$(basename "$1").done.tmp" "$logdir/$(basename "$1").done"
    ) &
}

# Report every running suite that has finished; the others stay in running.
reap_suites() {
    local name rc secs still=()
    for name in "${running[@]}"; do
        if [ -f "$logdir/$(basename "$name").done" ]; then
            read -r rc secs <"$logdir/$(basename "$name").done"
            report "$name" "$logdir/$(basename "$name").log" "$rc" "$secs"
        else
            still+=("$name")
        fi
    done
    running=("${still[@]}")
}

# The suites, longest first by the last recorded durations (unknown ones first of all).
ordered_suites() { # name script lines on stdin
    awk -v file="$durations" 'BEGIN { while ((getline l < file) > 0) { split(l, f, " "); d[f[1]] = f[2] } }
        { print (($1 in d) ? d[$1] : 100000), $0 }' | sort -k1,1nr -s | cut -d' ' -f2-
}

if [ "$want" = all ] || [ "$want" = unit ]; then
    for t in build/asan/tests/test_*; do
        [ -x "$t" ] || continue
        case "$t" in *"$filter"*) ;; *) continue ;; esac
        CMOCKA_MESSAGE_OUTPUT=TAP ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
            UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 run_one "unit/$(basename "$t")" "$t"
    done
fi
suites=()
for suite in integration preflight; do
    [ "$want" = all ] || [ "$want" = "$suite" ] || continue
    for t in tests/$suite/*.sh; do
        [ -f "$t" ] || continue
        case "$t" in *"$filter"*) ;; *) continue ;; esac
        suites+=("$suite/$(basename "$t" .sh) $t")
    done
done
running=()
trap 'kill $(jobs -p) 2>/dev/null; exit 130' INT TERM
if [ ${#suites[@]} -gt 0 ]; then
    while read -r name script; do
        while [ ${#running[@]} -ge "$jobs" ]; do
            wait -n 2>/dev/null || true
            reap_suites
        done
        start_suite "$name" "$script"
        running+=("$name")
    done < <(printf '%s\n' "${suites[@]}" | ordered_suites)
    while [ ${#running[@]} -gt 0 ]; do
        wait -n 2>/dev/null || sleep 0.2
        reap_suites
    done
fi
# keep the durations of every suite that ran, the older ones of those that did not
if [ -f "$durations.new" ]; then
    [ -f "$durations" ] && awk 'NR == FNR { seen[$1] = 1; next } !($1 in seen)' "$durations.new" "$durations" >>"$durations.new"
    mv "$durations.new" "$durations"
fi

echo
if [ ${#failures[@]} -gt 0 ]; then
    echo "failed suites: ${failures[*]} (logs in $logdir/)"
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
