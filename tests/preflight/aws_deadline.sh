#!/usr/bin/env bash
# tests/preflight/aws_deadline.sh: every AWS call anonetl makes is bounded (infra/aws_http.h
# AWS_CALL_*: 3 s to connect, 10 s an attempt, 20 s for the whole call with its retries).
#
# Without the bound, an endpoint that accepts and never answers held a Secrets Manager
# call for 3 attempts x 30 s plus backoff (over 90 s), and AWS_MAX_ATTEMPTS=10 made the
# credential chain's STS and container calls wait 10 x 5 s plus backoff; a blackholed
# endpoint (SYN dropped) cost attempts x the connect timeout. Each case here must end,
# with the exit code of its kind, within the deadline plus slack:
#   - a silent loopback endpoint (tests/preflight/lib/fault_server.py, step "hang") for
#     Secrets Manager (check --source and run), EC2 (preflight), S3 (config from s3://),
#     STS AssumeRoleWithWebIdentity and the ECS container credentials endpoint;
#   - a blackholed address: inside a network namespace of its own (unshare -n) with a
#     veth pair whose far end drops everything (a static neighbour entry, nobody behind
#     it), 192.0.2.2 (TEST-NET-1) never answers a SYN. Nothing leaves the namespace.
# The cases run side by side (they only wait), so the suite takes about one deadline.
# No moto: nothing here is ever answered.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/tap.sh
. tests/lib/poll.sh
. tests/preflight/lib/moto.sh # aws_env_isolate

ANONETL=${ANONETL:-./anonetl}
BOUND_S=26 # AWS_CALL_DEADLINE_MS (20 s) + process start, credentials and slack
PY=$(command -v python3)
[ -n "$PY" ] || { skip "AWS call deadlines" "no python3"; done_testing; exit 0; }
[ -x "$ANONETL" ] || { skip "AWS call deadlines" "$ANONETL not built"; done_testing; exit 0; }
TMP=$(mktemp -d "${TMPDIR:-/tmp}/anonetl-deadline.XXXXXX")
SERVER_PID=
CASE_PIDS=()
cleanup() {
    local p
    for p in "${CASE_PIDS[@]}"; do kill "$p" 2>/dev/null; done
    [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null
    rm -rf "$TMP"
}
trap cleanup EXIT
aws_env_isolate "$TMP"
export AWS_ACCESS_KEY_ID=AKIADEADLINETEST0001 AWS_SECRET_ACCESS_KEY=deadline-test-secret
export AWS_REGION=us-east-1
export ANONETL_HASH_KEY=$(openssl rand -hex 32)

# One endpoint that accepts every connection and never answers (each request's thread
# sleeps for --hang seconds).
"$PY" tests/preflight/lib/fault_server.py --port-file "$TMP/silent.port" --log "$TMP/silent.log" \
    --script hang --hang 300 --lifetime 300 2>"$TMP/silent.err" &
SERVER_PID=$!
poll_until 60 test -s "$TMP/silent.port"
SILENT="http://127.0.0.1:$(cat "$TMP/silent.port" 2>/dev/null)"
[ "$SILENT" != "http://127.0.0.1:" ] || { not_ok "start the silent endpoint" "$(cat "$TMP/silent.err")"; done_testing; exit 1; }
export AWS_ENDPOINT_URL=http://127.0.0.1:1 # a safety net: nothing else may be asked

ARN="arn:aws:secretsmanager:us-east-1:123456789012:secret:anonetl/source-dsn-AbCdEf"
config() { # FILE SOURCE-DSN-YAML [extra YAML]
    cat >"$1" <<YAML
version: 1
source: { dsn: $2 }
target: { dsn: "host=127.0.0.1 port=1 dbname=postgres user=postgres", schema: anonymised }
secrets: { hash_key: { env: ANONETL_HASH_KEY } }
${3:-}
tables:
  - name: public.people
    columns: { id: keep, email: { hash: {} } }
YAML
}
config "$TMP/secret.yaml" "{ aws_secret: $ARN }"
config "$TMP/plain.yaml" '"host=127.0.0.1 port=1 dbname=postgres user=postgres"' \
    "aws: { region: us-east-1, endpoint: \"$SILENT\", peerings: [ { id: pcx-0aaa1111bbbb2222c } ] }"
printf 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ0ZXN0In0.c2lnbmF0dXJl' >"$TMP/web-identity.token"

# start NAME COMMAND...: run in the background, record rc and elapsed seconds
start() {
    local name=$1
    shift
    (
        t0=$(date +%s.%N)
        "$@" >"$TMP/$name.out" 2>&1
        rc=$?
        t1=$(date +%s.%N)
        echo "$rc $(echo "$t1 - $t0" | bc)" >"$TMP/$name.res"
    ) &
    CASE_PIDS+=($!)
}
# judge CASE DESCRIPTION WANT-RC PATTERN...: CASE ended with WANT-RC within BOUND_S, its
# output has each pattern
judge() {
    local c=$1 name=$2 want=$3 rc el p
    shift 3
    read -r rc el <"$TMP/$c.res" 2>/dev/null || { not_ok "$name" "did not finish"; return; }
    if [ "$rc" != "$want" ] || [ "$(echo "$el > $BOUND_S" | bc)" = 1 ]; then
        not_ok "$name" "rc=$rc (want $want) after ${el}s (bound ${BOUND_S}s): $(head -c 600 "$TMP/$c.out")"
        return
    fi
    for p in "$@"; do
        if ! grep -qF -- "$p" "$TMP/$c.out"; then
            not_ok "$name" "no '$p' in: $(head -c 600 "$TMP/$c.out")"
            return
        fi
    done
    ok "$name (exit $rc after ${el%.*} s)"
}

# A network namespace where 192.0.2.2 is blackholed: the veth's far end has no address and
# the neighbour entry names a MAC nobody has, so a SYN goes out and nothing ever comes back.
blackholed() {
    unshare -n -- sh -c 'ip link set lo up &&
        ip link add bh0 type veth peer name bh1 && ip addr add 192.0.2.1/24 dev bh0 &&
        ip link set bh0 up && ip link set bh1 up &&
        ip neigh add 192.0.2.2 lladdr 02:00:00:00:00:02 dev bh0 && exec "$@"' sh "$@"
}

start sm_silent env AWS_ENDPOINT_URL_SECRETSMANAGER="$SILENT" \
    "$ANONETL" check -c "$TMP/secret.yaml" --source
start sm_silent_10 env AWS_ENDPOINT_URL_SECRETSMANAGER="$SILENT" AWS_MAX_ATTEMPTS=10 \
    "$ANONETL" run -c "$TMP/secret.yaml" --skip-preflight
start ec2_silent "$ANONETL" preflight -c "$TMP/plain.yaml" --only peering
start s3_silent env AWS_ENDPOINT_URL_S3="$SILENT" "$ANONETL" check -c s3://anonetl-config/anonetl.yaml
start sts_silent env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY AWS_MAX_ATTEMPTS=10 \
    AWS_ROLE_ARN=arn:aws:iam::123456789012:role/anonetl \
    AWS_WEB_IDENTITY_TOKEN_FILE="$TMP/web-identity.token" AWS_ENDPOINT_URL_STS="$SILENT" \
    "$ANONETL" check -c "$TMP/secret.yaml" --source
start ecs_silent env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY AWS_MAX_ATTEMPTS=10 \
    AWS_CONTAINER_CREDENTIALS_FULL_URI="$SILENT/v2/credentials/task" \
    "$ANONETL" check -c "$TMP/secret.yaml" --source
if unshare -n true 2>/dev/null && blackholed true 2>"$TMP/netns.err"; then
    HAVE_NETNS=1
    start sm_blackholed blackholed env AWS_ENDPOINT_URL_SECRETSMANAGER=https://192.0.2.2 \
        AWS_MAX_ATTEMPTS=10 "$ANONETL" check -c "$TMP/secret.yaml" --source
else
    HAVE_NETNS=
fi
wait "${CASE_PIDS[@]}" 2>/dev/null
CASE_PIDS=()

judge sm_silent "Secrets Manager silent: check --source exit 3 within the deadline" 3 "$ARN" "timed out" "gave up: deadline"
judge sm_silent_10 "Secrets Manager silent, AWS_MAX_ATTEMPTS=10: run exit 3 within the deadline" 3 "$ARN" "timed out" "gave up: deadline"
judge ec2_silent "EC2 silent: preflight exit 3 within the deadline" 3 "timed out" "gave up: deadline"
judge s3_silent "S3 silent: a config from s3:// fails (exit 3, the environment's) within the deadline" 3 "s3://anonetl-config/anonetl.yaml" "timed out" "gave up: deadline"
judge sts_silent "STS silent (web identity), AWS_MAX_ATTEMPTS=10: exit 3 within the deadline" 3 "$ARN" "timed out" "gave up: deadline"
judge ecs_silent "ECS credentials endpoint silent, AWS_MAX_ATTEMPTS=10: exit 3 within the deadline" 3 "$ARN" "timed out" "gave up: deadline"
if [ -n "$HAVE_NETNS" ]; then
    judge sm_blackholed "Secrets Manager blackholed (no SYN-ACK), AWS_MAX_ATTEMPTS=10: exit 3 within the deadline" 3 "$ARN" "timeout: POST https://192.0.2.2" "gave up: deadline"
else
    skip "a blackholed endpoint" "no network namespace with a veth pair here: $(head -c 200 "$TMP/netns.err")"
fi
done_testing
