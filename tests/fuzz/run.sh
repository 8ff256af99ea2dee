#!/usr/bin/env bash
# tests/fuzz/run.sh [build/fuzz/fuzz_NAME ...]
#
# Runs each libFuzzer binary for FUZZ_SECONDS (default 60) and prints one line per
# target; exits non-zero when any target crashed, leaked, timed out or ran out of memory.
# With no argument, runs every build/fuzz/fuzz_* binary (`make fuzz` passes them).
#
# Seeds: tests/fuzz/corpus/<target>/ (or tests/fuzz/corpus/<target without fuzz_>/) is
# copied into a scratch directory, so the committed corpus never grows; a dictionary
# tests/fuzz/<target>.dict is used when present. A failing input is kept under
# build/fuzz/artifacts/<target>/ with the libFuzzer log; reproduce it with
#   build/fuzz/<target> build/fuzz/artifacts/<target>/crash-...
#
# Env: FUZZ_SECONDS (per target), FUZZ_TIMEOUT (seconds for one input, default 10),
#      FUZZ_RSS_MB (default 2048), FUZZ_KEEP=1 keeps the scratch corpora,
#      FUZZ_ARTIFACTS (default build/fuzz/artifacts) where failing inputs go.
set -u
cd "$(dirname "$0")/../.."

seconds=${FUZZ_SECONDS:-60}
timeout=${FUZZ_TIMEOUT:-10}
rss_mb=${FUZZ_RSS_MB:-2048}

case "$seconds" in '' | *[!0-9]*) echo "run.sh: FUZZ_SECONDS must be a number of seconds" >&2; exit 2 ;; esac

if [ $# -eq 0 ]; then
    set -- build/fuzz/fuzz_*
    [ -e "$1" ] || { echo "run.sh: no fuzz binaries under build/fuzz (make fuzz builds them)" >&2; exit 2; }
fi

scratch=$(mktemp -d "${TMPDIR:-/tmp}/anonetl-fuzz.XXXXXX")
cleanup() { [ "${FUZZ_KEEP:-0}" = 1 ] && echo "scratch corpora kept in $scratch" || rm -rf "$scratch"; }
trap cleanup EXIT

# Last value of a libFuzzer stat ("cov: 123", "corp: 45/6789b") in a log.
stat_of() { grep -oE "$1: [0-9]+" "$2" | tail -1 | awk '{print $2}'; }

passed=0 failed=0
for bin in "$@"; do
    name=$(basename "$bin")
    if [ ! -x "$bin" ]; then
        printf '%-24s FAIL  not built (%s)\n' "$name" "$bin"
        failed=$((failed + 1))
        continue
    fi
    corpus="$scratch/$name"
    mkdir -p "$corpus"
    for seeds in "tests/fuzz/corpus/$name" "tests/fuzz/corpus/${name#fuzz_}"; do
        [ -d "$seeds" ] && cp -R "$seeds/." "$corpus/"
    done
    nseeds=$(find "$corpus" -type f | wc -l)
    artifacts="${FUZZ_ARTIFACTS:-build/fuzz/artifacts}/$name"
    rm -rf "$artifacts"
    mkdir -p "$artifacts"
    log="$artifacts/fuzz.log"
    dict=()
    [ -f "tests/fuzz/$name.dict" ] && dict=("-dict=tests/fuzz/$name.dict")

    start=$SECONDS
    "$bin" -max_total_time="$seconds" -timeout="$timeout" -rss_limit_mb="$rss_mb" \
        -print_final_stats=1 -artifact_prefix="$artifacts/" "${dict[@]}" "$corpus" >"$log" 2>&1
    rc=$?
    runs=$(grep -oE '^stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$')
    summary=$(printf 'runs %s, cov %s, ft %s, seeds %d, corpus %s (%ds)' "${runs:-?}" \
        "$(stat_of cov "$log")" "$(stat_of ft "$log")" "$nseeds" \
        "$(grep -oE 'corp: [0-9]+' "$log" | tail -1 | awk '{print $2}')" $((SECONDS - start)))
    crash=$(find "$artifacts" -type f ! -name fuzz.log | head -1)
    if [ "$rc" -eq 0 ] && [ -z "$crash" ]; then
        printf '%-24s ok    %s\n' "$name" "$summary"
        passed=$((passed + 1))
        rm -rf "$artifacts"
    else
        what=$(grep -oE 'ERROR: [A-Za-z]+: [a-z-]+|ERROR: libFuzzer: [a-z -]+|SUMMARY: [A-Za-z]+: [^ ]+' \
            "$log" | head -1)
        printf '%-24s FAIL  exit %d: %s; input: %s, log: %s\n' "$name" "$rc" \
            "${what:-see log}" "${crash:-none}" "$log"
        grep -E '^ *#[0-9]+ 0x' "$log" | grep -vE 'fuzzer::|__sanitizer|libc\.so|pthread_kill|libc_start|_start | in (raise|abort|main) ' |
            head -6 | sed 's/^/    /'
        failed=$((failed + 1))
    fi
done

echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
