#!/usr/bin/env bash
# tests/preflight/aws_client.sh: the retry behaviour of the AWS client (infra/aws_http.c,
# infra/aws_retry.c) against a misbehaving loopback endpoint, driven through
# build/asan/aws_probe sts (a signed STS GetCallerIdentity).
#
# tests/preflight/lib/fault_server.py answers each request with the next step of a script
# (throttling in the STS, EC2 and JSON styles, 5xx, a reset connection, a hang, a request
# refused as expired with a skewed Date header) and logs each request with a monotonic
# time stamp, so the suite counts attempts and checks the backoff gaps against generous
# upper bounds (full jitter has no lower bound but 0; the C unit test test_aws_retry
# checks the exact delays with an injected random source). Where moto is available the
# server forwards its "ok" steps to moto with SigV4 checking on, so a clock-skew
# correction must produce a signature moto accepts, and a wrong secret must still fail.
# Everything listens on 127.0.0.1.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/tap.sh
. tests/lib/poll.sh
. tests/preflight/lib/moto.sh

if ! make -s build/asan/aws_probe >/dev/null 2>build/aws_probe.build.log; then
    not_ok "build aws_probe" "$(tail -20 build/aws_probe.build.log)"
    done_testing
    exit 1
fi
PROBE=$PWD/build/asan/aws_probe
PY=$(command -v python3)
TMP=$(mktemp -d "${TMPDIR:-/tmp}/anonetl-awsclient.XXXXXX")
SERVER_PIDS=()
cleanup() {
    local p
    for p in "${SERVER_PIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
    moto_stop
    rm -rf "$TMP"
}
trap cleanup EXIT
export ASAN_OPTIONS=detect_leaks=1
aws_env_isolate "$TMP"
export AWS_SHARED_CREDENTIALS_FILE=$TMP/none AWS_CONFIG_FILE=$TMP/config AWS_REGION=us-east-1
DEAD_URL="http://127.0.0.1:$("$PY" -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
export AWS_ENDPOINT_URL=$DEAD_URL # a request that ignored -e would fail here, on loopback

UPSTREAM=""
if moto_start 3 2>"$TMP/moto.err" && moto_create_user anonetl-client 2>>"$TMP/moto.err"; then
    UPSTREAM=$MOTO_URL
    AKID=$MOTO_AKID SECRET=$MOTO_SECRET
else
    AKID=AKIAFAULTSERVER00001 SECRET=fault-server-secret-never-printed
fi
export AWS_ACCESS_KEY_ID=$AKID AWS_SECRET_ACCESS_KEY=$SECRET

# serve NAME SCRIPT [fault_server options] -> URL (the endpoint), LOG
serve() {
    local name=$1 script=$2; shift 2
    LOG=$TMP/$name.log; : >"$LOG"
    "$PY" tests/preflight/lib/fault_server.py --port-file "$TMP/$name.port" --log "$LOG" \
        --script "$script" --upstream "$UPSTREAM" --lifetime 240 "$@" 2>"$TMP/$name.err" &
    SERVER_PIDS+=($!)
    poll_until 60 test -s "$TMP/$name.port"
    URL="http://127.0.0.1:$(cat "$TMP/$name.port" 2>/dev/null)"
}
# probe ARGS... -> OUT (stdout+stderr), RC
probe() { OUT=$("$PROBE" sts "$@" 2>&1); RC=$?; printf '%s\n' "$OUT" >>"$TMP/all-output.txt"; }
field() { printf '%s\n' "$OUT" | sed -n "s/^$1=//p" | tail -1; }
requests() { wc -l <"$LOG" | tr -d ' '; }
expect_field() { # name, field, expected
    expect_eq "$1" "$3" "$(field "$2")"
}
# gaps_within NAME CAP_MS...: the gap before retry n is below CAP_n + 400 ms of slack
gaps_within() {
    local name=$1; shift
    local bad
    bad=$(awk -v caps="$*" 'BEGIN { n = split(caps, c, " ") }
        NR > 1 { gap = ($2 - prev) * 1000; if (gap > c[NR - 1] + 400) printf "retry %d waited %d ms > %d; ", NR - 1, gap, c[NR - 1] }
        { prev = $2 }' "$LOG")
    expect_eq "$name" "" "$bad"
}

# ---- throttling, standard mode (default 3 attempts) ----
serve throttle "throttle*2,ok"
probe -e "$URL" -b 200
expect_field "throttling (Throttling, STS style) retried: the third attempt succeeds" status 200
expect_eq "three requests reached the server" 3 "$(requests)"
expect_field "attempts reported" attempts 3
gaps_within "backoff: full jitter within base*2^(n-1) (200, 400 ms)" 200 400

serve limit "limit"
probe -e "$URL" -b 50
expect_field "RequestLimitExceeded (EC2, HTTP 503): still throttled after the retries" error "RequestLimitExceeded kind=throttle"
expect_eq "default AWS_MAX_ATTEMPTS: 3 attempts, no more" 3 "$(requests)"
expect_field "the client says why it stopped" gave_up "max attempts"

serve json "throttle-json*1,ok"
probe -e "$URL" -b 50
expect_eq "ThrottlingException (JSON protocol, HTTP 400) is retried" "2 200" "$(requests) $(field status)"

for e in e500 e502 e503 e504; do
    serve "$e" "$e*1,ok"
    probe -e "$URL" -b 50
    expect_eq "HTTP ${e#e} is retried" "2 200" "$(requests) $(field status)"
done
serve e501 "e501"
probe -e "$URL" -b 50
expect_eq "HTTP 501 is not retried" "1 501" "$(requests) $(field status)"
serve denied "denied"
probe -e "$URL" -b 50
expect_eq "AccessDenied is not retried" "1 403" "$(requests) $(field status)"

# ---- AWS_MAX_ATTEMPTS, AWS_RETRY_MODE and the config file ----
serve attempts "throttle"
AWS_MAX_ATTEMPTS=5 probe -e "$URL" -b 1
expect_eq "AWS_MAX_ATTEMPTS=5" 5 "$(requests)"
: >"$LOG"; AWS_MAX_ATTEMPTS=1 probe -e "$URL" -b 1
expect_eq "AWS_MAX_ATTEMPTS=1: no retry" 1 "$(requests)"
printf '[default]\nmax_attempts = 4\nretry_mode = standard\n' >"$AWS_CONFIG_FILE"
: >"$LOG"; probe -e "$URL" -b 1
expect_eq "max_attempts = 4 in the config file" 4 "$(requests)"
: >"$LOG"; AWS_MAX_ATTEMPTS=2 probe -e "$URL" -b 1
expect_eq "AWS_MAX_ATTEMPTS wins over the config file" 2 "$(requests)"
printf '[default]\nretry_mode = legacy\n' >"$AWS_CONFIG_FILE"
: >"$LOG"; probe -e "$URL" -b 1
expect_eq "retry_mode = legacy in the config file: 5 attempts" 5 "$(requests)"
printf '[default]\nretry_mode = adaptive\n' >"$AWS_CONFIG_FILE"
: >"$LOG"; probe -e "$URL" -b 1
expect_eq "retry_mode = adaptive: runs as standard (3 attempts)" 3 "$(requests)"
: >"$AWS_CONFIG_FILE"
: >"$LOG"; AWS_RETRY_MODE=legacy probe -e "$URL" -b 1
expect_eq "AWS_RETRY_MODE=legacy: 5 attempts" 5 "$(requests)"
: >"$LOG"; AWS_RETRY_MODE=turbo probe -e "$URL"
if [ "$RC" -ne 0 ] && [ "$(requests)" = 0 ] && printf '%s' "$OUT" | grep -q "AWS_RETRY_MODE=turbo: expected standard, legacy or adaptive"; then
    ok "AWS_RETRY_MODE=turbo: refused before any request, naming the variable"
else not_ok "AWS_RETRY_MODE=turbo: refused before any request, naming the variable" "$OUT"; fi
AWS_MAX_ATTEMPTS=0 probe -e "$URL"
if [ "$RC" -ne 0 ] && printf '%s' "$OUT" | grep -q "AWS_MAX_ATTEMPTS=0: expected a number"; then
    ok "AWS_MAX_ATTEMPTS=0 is refused"; else not_ok "AWS_MAX_ATTEMPTS=0 is refused" "$OUT"; fi
printf '[default]\nmax_attempts = many\n' >"$AWS_CONFIG_FILE"
probe -e "$URL"
if [ "$RC" -ne 0 ] && printf '%s' "$OUT" | grep -q "max_attempts of profile default"; then
    ok "a bad max_attempts in the config file is refused"; else not_ok "a bad max_attempts in the config file is refused" "$OUT"; fi
: >"$AWS_CONFIG_FILE"

# ---- backoff grows, capped: 4 retries with a 100 ms base and a 250 ms cap ----
serve growth "throttle"
AWS_MAX_ATTEMPTS=5 probe -e "$URL" -b 100 -M 250
gaps_within "backoff capped at the maximum (100, 200, 250, 250 ms)" 100 200 250 250
serve slow "throttle"
AWS_MAX_ATTEMPTS=3 probe -e "$URL"
elapsed=$(field elapsed_ms)
if [ "${elapsed:-99999}" -le 3600 ]; then ok "SDK backoff (1 s base): 3 attempts within 1 s + 2 s (+ slack)"
else not_ok "SDK backoff (1 s base): 3 attempts within 1 s + 2 s (+ slack)" "elapsed_ms=$elapsed"; fi

# ---- transient network errors, timeouts, an unreachable endpoint ----
serve reset "reset*2,ok"
probe -e "$URL" -b 50
expect_eq "a reset connection is retried (2 resets, then 200)" "3 200" "$(requests) $(field status)"
serve resetall "reset"
probe -e "$URL" -b 50
expect_eq "resets only: classified unreachable after 3 attempts" "unreachable 3" "$(field failure) $(field attempts)"
probe -e "$DEAD_URL" -b 50
expect_eq "nothing listening: unreachable after 3 attempts" "unreachable 3" "$(field failure) $(field attempts)"
serve hang "hang" --hang 20
probe -e "$URL" -b 50 -T 300
expect_eq "an endpoint that never answers: timeout after 3 attempts" "timeout 3" "$(field failure) $(field attempts)"
: >"$LOG"; AWS_MAX_ATTEMPTS=10 probe -e "$URL" -b 50 -T 300 -D 1000
elapsed=$(field elapsed_ms)
if [ "$(field failure)" = timeout ] && [ "$(field gave_up)" = deadline ] && [ "${elapsed:-99999}" -le 1600 ]; then
    ok "a 1 s deadline bounds the whole call (10 attempts allowed; ${elapsed} ms)"
else not_ok "a 1 s deadline bounds the whole call" "$OUT"; fi

# ---- the retry quota: 500 tokens, 5 per retry, refunded on success ----
serve quota "throttle"
probe -e "$URL" -b 1 -n 51
calls=$(printf '%s\n' "$OUT" | awk '/^call=/ { c = $0 } /^gave_up=retry quota/ { print c; exit }')
expect_eq "failing calls spend the quota: 50 calls x 2 retries x 5 = 500, the 51st gives up at once" \
    "call=51" "$calls"
expect_eq "the 51st call made one attempt" 1 "$(field attempts)"
script=$(for _ in $(seq 1 110); do printf 'throttle,ok,'; done)ok
serve refund "$script"
probe -e "$URL" -b 1 -n 110
expect_eq "successes refund the quota: 110 calls that each needed a retry all succeed" \
    110 "$(printf '%s\n' "$OUT" | grep -c '^status=200$')"

# ---- clock skew ----
if [ -n "$UPSTREAM" ]; then
    serve skew "clock" --skew 3600
    probe -e "$URL" -n 2
    if [ "$(printf '%s\n' "$OUT" | grep -c '^arn=')" = 2 ] &&
        printf '%s\n' "$OUT" | grep -q '^clock_corrected=yes$'; then
        ok "RequestExpired, server clock +1 h: re-signed with its Date, moto checks the signature"
    else not_ok "RequestExpired, server clock +1 h: re-signed with its Date, moto checks the signature" "$OUT"; fi
    off=$(field clock_offset)
    if [ "${off:-0}" -ge 3595 ] && [ "${off:-0}" -le 3605 ]; then ok "the clock offset learnt is +3600 s"
    else not_ok "the clock offset learnt is +3600 s" "clock_offset=$off"; fi
    expect_eq "the second call is signed with the corrected clock at once (3 requests)" 3 "$(requests)"
    serve skewneg "clock" --skew -1800 --skew-code RequestTimeTooSkewed
    probe -e "$URL"
    expect_eq "RequestTimeTooSkewed, server clock -30 min: corrected" "200 yes" "$(field status) $(field clock_corrected)"
    serve skewsig "clock" --skew 900 --skew-code SignatureDoesNotMatch
    probe -e "$URL"
    expect_eq "SignatureDoesNotMatch with a 15 min skew: corrected" "200 yes" "$(field status) $(field clock_corrected)"
    serve skewbad "clock" --skew 3600
    AWS_SECRET_ACCESS_KEY=wrong$SECRET probe -e "$URL"
    expect_eq "a wrong secret behind a skewed clock still fails (auth, after the correction)" \
        "403 SignatureDoesNotMatch kind=auth" "$(field status) $(field error)"
    AWS_SECRET_ACCESS_KEY=wrong$SECRET probe -e "$UPSTREAM"
    expect_eq "a wrong secret without skew: one attempt, authentication error" \
        "1 SignatureDoesNotMatch kind=auth" "$(field attempts) $(field error)"
else
    for t in "clock skew corrected against moto" "clock offset learnt" "second call signed at once" \
        "RequestTimeTooSkewed corrected" "SignatureDoesNotMatch with skew corrected" \
        "wrong secret behind a skewed clock fails" "wrong secret without skew fails"; do
        skip "$t" "$(moto_skip_reason)"
    done
fi
serve badsig "badsig"
probe -e "$URL" -b 50
expect_eq "SignatureDoesNotMatch with the true Date is not a skew: not retried" "1 auth" \
    "$(requests) $(field error | sed 's/.*kind=//')"
serve skewsmall "expired" --skew 200
probe -e "$URL" -b 50
expect_eq "a refusal with a 200 s difference (under 240 s) is not taken as skew: 1 attempt" \
    "1 no 0" "$(requests) $(field clock_corrected) $(field clock_offset)"
serve skewstill "expired" --skew 3600
probe -e "$URL" -b 50
expect_eq "still refused after the correction: one correction, then the error is returned" \
    "2 yes RequestExpired kind=auth" "$(requests) $(field clock_corrected) $(field error)"

leaked=""
for s in "$SECRET" "wrong$SECRET"; do grep -qF -- "$s" "$TMP/all-output.txt" && leaked="$leaked secret"; done
expect_eq "no secret in any output" "" "$leaked"
done_testing
