#!/usr/bin/env bash
# tests/preflight/secrets.sh: `{ aws_secret: ARN, json_key: K }` secrets from AWS Secrets
# Manager, through the real binary, against moto on loopback with signature checking on
# (an IAM user made by moto_create_user; the secrets are created with botocore).
#
#   - a source DSN, and a password picked by json_key, resolved by `anonetl check
#     --source` (which connects to a throwaway cluster with them);
#   - the hash key of a real `anonetl run` (two clusters): the published hash equals
#     HMAC-SHA256 under the secret's exact bytes, for a SecretString and a SecretBinary;
#   - errors, with the exit code that says whose problem each is: the config's (2: unknown
#     ARN, named, the value never is; missing json_key; json_key on a non-JSON or binary
#     secret; an IAM policy without GetSecretValue) or the environment's (3: a wrong
#     secret access key, an unknown key id, a refused session token, no credentials, the
#     endpoint down, throttling and 5xx after the retries, a clock an hour off), the
#     misbehaving endpoint played by tests/preflight/lib/fault_server.py;
#   - endpoint from AWS_ENDPOINT_URL_SECRETSMANAGER or AWS_ENDPOINT_URL; a plain secret
#     name takes its region from AWS_REGION;
#   - no secret value, password or key in any output.
# The chain never reaches instance metadata: AWS_EC2_METADATA_DISABLED=true, static keys.
set -u
cd "$(dirname "$0")/../.."
. tests/lib/tap.sh
. tests/lib/poll.sh
. tests/lib/pgcluster.sh
. tests/preflight/lib/moto.sh

ANONETL=${ANONETL:-./anonetl}
TMP=$(pgc_mktemp)
trap 'moto_stop; pgc_stop_all; rm -rf "$TMP"' EXIT

aws_env_isolate "$TMP"
ALL_OUT=$TMP/all-output.txt

if ! moto_find_python 2>/dev/null; then
    skip "Secrets Manager tests" "$(moto_skip_reason)"
    done_testing
    exit 0
fi
if ! moto_start 3 2>"$TMP/moto.err"; then
    not_ok "start moto" "$(tail -3 "$TMP/moto.err")"
    done_testing
    exit 0
fi
moto_create_user anonetl-secrets || { not_ok "create the moto IAM user"; done_testing; exit 1; }
export AWS_ACCESS_KEY_ID=$MOTO_AKID AWS_SECRET_ACCESS_KEY=$MOTO_SECRET
export AWS_ENDPOINT_URL_SECRETSMANAGER=$MOTO_URL
export AWS_ENDPOINT_URL=$MOTO_URL # a safety net: no request may leave loopback

# --- clusters and the secrets ----------------------------------------------------------
pgc_init "$TMP/src" >/dev/null && pgc_start "$TMP/src" >/dev/null
pgc_init "$TMP/tgt" >/dev/null && pgc_start "$TMP/tgt" >/dev/null
SPORT=$(pgc_port "$TMP/src")
TPORT=$(pgc_port "$TMP/tgt")
SRC_PW="SrcPw-$(openssl rand -hex 10)"
HASH_KEY=$(openssl rand -hex 32)
openssl rand 48 >"$TMP/binary.key"
pgc_psql "$TMP/src" -v pw="$SRC_PW" <<'SQL' >/dev/null
CREATE ROLE reader LOGIN PASSWORD :'pw';
CREATE TABLE public.people (id int PRIMARY KEY, email text NOT NULL);
INSERT INTO public.people VALUES (1, 'a@example.com'), (2, 'b@example.com');
GRANT SELECT ON public.people TO reader;
SQL
SRC_DSN="host=127.0.0.1 port=$SPORT dbname=postgres user=reader password=$SRC_PW"

# create NAME KIND VALUE|FILE -> the ARN on stdout (KIND: string or binary-file)
create_secret() {
    MOTO_URL=$MOTO_URL "$MOTO_PYTHON" - "$@" <<'PY'
import os, sys
import botocore.session
name, kind, value = sys.argv[1:4]
c = botocore.session.get_session().create_client(
    "secretsmanager", region_name="us-east-1", endpoint_url=os.environ["MOTO_URL"],
    aws_access_key_id=os.environ["AWS_ACCESS_KEY_ID"],
    aws_secret_access_key=os.environ["AWS_SECRET_ACCESS_KEY"])
if kind == "binary-file":
    r = c.create_secret(Name=name, SecretBinary=open(value, "rb").read())
else:
    r = c.create_secret(Name=name, SecretString=value)
print(r["ARN"])
PY
}
ARN_DSN=$(create_secret anonetl/source-dsn string "$SRC_DSN")
ARN_RDS=$(create_secret anonetl/source-rds string \
    "{\"username\": \"reader\", \"password\": \"$SRC_PW\", \"port\": $SPORT, \"engine\": \"postgres\"}")
ARN_KEY=$(create_secret anonetl/hash-key string "$HASH_KEY")
ARN_BIN=$(create_secret anonetl/hash-key-binary binary-file "$TMP/binary.key")
if [ -n "$ARN_DSN" ] && [ -n "$ARN_RDS" ] && [ -n "$ARN_KEY" ] && [ -n "$ARN_BIN" ]; then
    ok "secrets created with botocore (signature checking on)"
else
    not_ok "secrets created with botocore"
    done_testing
    exit 1
fi
ARN_GONE=${ARN_DSN/source-dsn/no-such-secret}

# config FILE SOURCE_YAML HASH_KEY_YAML
config() {
    cat >"$1" <<YAML
version: 1
source:
$2
target:
  dsn: "host=$TMP/tgt port=$TPORT dbname=postgres user=postgres"
secrets:
  hash_key: $3
tables:
  - name: public.people
    columns:
      id: keep
      email: { hash: {} }
YAML
}
# anonetl ARGS... -> $OUT (stdout+stderr), $RC; all output kept for the leak check
run_anonetl() {
    OUT=$("$ANONETL" "$@" 2>&1)
    RC=$?
    printf '%s\n' "$OUT" >>"$ALL_OUT"
}
expect_ok() { # name pattern
    if [ "$RC" -eq 0 ] && printf '%s' "$OUT" | grep -q -- "$2"; then ok "$1"; else
        not_ok "$1" "rc=$RC $OUT"; fi
}
expect_err() { # name exit-code pattern...
    local name=$1 code=$2 p
    shift 2
    if [ "$RC" -ne "$code" ]; then not_ok "$name" "rc=$RC (want $code) $OUT"; return; fi
    for p in "$@"; do
        if ! printf '%s' "$OUT" | grep -qF -- "$p"; then not_ok "$name" "no '$p' in: $OUT"; return; fi
    done
    ok "$name"
}
KEY_ENV="{ env: ANONETL_HASH_KEY }"
export ANONETL_HASH_KEY=$HASH_KEY

# --- the source connection from Secrets Manager ----------------------------------------
config "$TMP/dsn.yaml" "  dsn: { aws_secret: $ARN_DSN }" "$KEY_ENV"
run_anonetl check -c "$TMP/dsn.yaml" --source
expect_ok "source dsn from aws_secret: check --source connects" "ok against the source"

config "$TMP/rds.yaml" "  host: 127.0.0.1
  port: $SPORT
  dbname: postgres
  user: reader
  password: { aws_secret: $ARN_RDS, json_key: password }" "$KEY_ENV"
run_anonetl check -c "$TMP/rds.yaml" --source
expect_ok "password from an RDS-style JSON secret (json_key: password)" "ok against the source"

unset AWS_ENDPOINT_URL_SECRETSMANAGER
run_anonetl check -c "$TMP/rds.yaml" --source
expect_ok "endpoint from AWS_ENDPOINT_URL" "ok against the source"
export AWS_ENDPOINT_URL_SECRETSMANAGER=$MOTO_URL

config "$TMP/name.yaml" "  dsn: { aws_secret: anonetl/source-dsn }" "$KEY_ENV"
AWS_REGION=us-east-1 run_anonetl check -c "$TMP/name.yaml" --source
expect_ok "a secret name (not an ARN) with AWS_REGION" "ok against the source"

# --- errors: whose problem is it? ----------------------------------------------------------
# A secret reference that does not resolve is found before any connection (etl/pgconn.h
# pgconn_params_check). What the config names wrongly, or a secret whose content cannot be
# used, is exit 2 (for whoever deploys the job); the state of the network, of AWS or of the
# credentials is exit 3 (for ops): etl/secret.h.
config "$TMP/gone.yaml" "  dsn: { aws_secret: $ARN_GONE }" "$KEY_ENV"
run_anonetl check -c "$TMP/gone.yaml" --source
expect_err "unknown ARN: exit 2, names the ARN and the AWS error" 2 "$ARN_GONE" "ResourceNotFoundException"

config "$TMP/nokey.yaml" "  dsn: { aws_secret: $ARN_RDS, json_key: dsn }" "$KEY_ENV"
run_anonetl check -c "$TMP/nokey.yaml" --source
expect_err "missing json_key: names the key and the ARN" 2 "json_key dsn: no such key" "$ARN_RDS"

config "$TMP/notjson.yaml" "  dsn: { aws_secret: $ARN_DSN, json_key: password }" "$KEY_ENV"
run_anonetl check -c "$TMP/notjson.yaml" --source
expect_err "json_key on a secret that is not JSON" 2 "not a JSON object"

config "$TMP/binkey.yaml" "  dsn: { aws_secret: $ARN_BIN, json_key: password }" "$KEY_ENV"
run_anonetl check -c "$TMP/binkey.yaml" --source
expect_err "json_key on a binary secret" 2 "the secret is binary"

# An IAM user whose policy does not allow secretsmanager:GetSecretValue (moto enforces it).
RO_KEYS=$(MOTO_URL=$MOTO_URL "$MOTO_PYTHON" - <<'PY'
import json, os
import botocore.session
iam = botocore.session.get_session().create_client(
    "iam", region_name="us-east-1", endpoint_url=os.environ["MOTO_URL"],
    aws_access_key_id=os.environ["AWS_ACCESS_KEY_ID"],
    aws_secret_access_key=os.environ["AWS_SECRET_ACCESS_KEY"])
iam.create_user(UserName="no-secrets")
iam.put_user_policy(UserName="no-secrets", PolicyName="identity-only", PolicyDocument=json.dumps(
    {"Version": "2012-10-17",
     "Statement": [{"Effect": "Allow", "Action": "sts:GetCallerIdentity", "Resource": "*"}]}))
k = iam.create_access_key(UserName="no-secrets")["AccessKey"]
print(k["AccessKeyId"], k["SecretAccessKey"])
PY
)
AWS_ACCESS_KEY_ID=${RO_KEYS%% *} AWS_SECRET_ACCESS_KEY=${RO_KEYS#* } \
    run_anonetl check -c "$TMP/rds.yaml" --source
expect_err "IAM policy without GetSecretValue: exit 2 (the role's config), names the ARN and the action" \
    2 "$ARN_RDS" "AccessDenied" "the IAM policy of the job's credentials must allow secretsmanager:GetSecretValue"

AWS_SECRET_ACCESS_KEY="wrong/secret+key/never+printed" run_anonetl check -c "$TMP/rds.yaml" --source
expect_err "wrong secret access key (SignatureDoesNotMatch): exit 3, credentials refused" 3 \
    "SignatureDoesNotMatch" "$ARN_RDS" "credentials were refused"
if printf '%s' "$OUT" | grep -qF "wrong/secret+key"; then
    not_ok "the access key is not in the error"
else
    ok "the access key is not in the error"
fi
AWS_ACCESS_KEY_ID=AKIAUNKNOWNKEY000000 run_anonetl check -c "$TMP/rds.yaml" --source
expect_err "unknown access key id (InvalidClientTokenId): exit 3" 3 "InvalidClientTokenId" "$ARN_RDS"
AWS_SESSION_TOKEN=expired-session-token run_anonetl check -c "$TMP/rds.yaml" --source
expect_err "a session token the endpoint refuses: exit 3" 3 "$ARN_RDS" "credentials were refused"
env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY "$ANONETL" check -c "$TMP/rds.yaml" --source \
    >"$TMP/nocreds.out" 2>&1
RC=$?; OUT=$(cat "$TMP/nocreds.out"); printf '%s\n' "$OUT" >>"$ALL_OUT"
expect_err "no AWS credentials anywhere (metadata off): exit 3" 3 "$ARN_RDS" "credentials"

AWS_ENDPOINT_URL_SECRETSMANAGER=http://127.0.0.1:1 run_anonetl check -c "$TMP/rds.yaml" --source
expect_err "endpoint down: exit 3, a transport error naming the ARN" 3 "$ARN_RDS" "after" "unreachable"

# A loopback endpoint that misbehaves on cue (tests/preflight/lib/fault_server.py); its
# "ok" steps go on to moto.
FAULT_PIDS=()
trap 'for p in "${FAULT_PIDS[@]}"; do kill "$p" 2>/dev/null; done; moto_stop; pgc_stop_all; rm -rf "$TMP"' EXIT
serve() { # NAME SCRIPT [options] -> FAULT_URL
    local name=$1 script=$2
    shift 2
    "$MOTO_PYTHON" tests/preflight/lib/fault_server.py --port-file "$TMP/$name.port" \
        --log "$TMP/$name.log" --script "$script" --upstream "$MOTO_URL" --lifetime 120 "$@" \
        2>"$TMP/$name.err" &
    FAULT_PIDS+=($!)
    poll_until 60 test -s "$TMP/$name.port"
    FAULT_URL="http://127.0.0.1:$(cat "$TMP/$name.port" 2>/dev/null)"
}
serve throttled throttle-json
AWS_MAX_ATTEMPTS=2 AWS_ENDPOINT_URL_SECRETSMANAGER=$FAULT_URL run_anonetl check -c "$TMP/rds.yaml" --source
expect_err "throttled after the retries: exit 3" 3 "$ARN_RDS" "ThrottlingException" "2 attempts"
serve e503 e503
AWS_MAX_ATTEMPTS=2 AWS_ENDPOINT_URL_SECRETSMANAGER=$FAULT_URL run_anonetl check -c "$TMP/rds.yaml" --source
expect_err "HTTP 503 after the retries: exit 3" 3 "$ARN_RDS" "HTTP 503"
serve skewed expired --skew 3600 --skew-code InvalidSignatureException
AWS_ENDPOINT_URL_SECRETSMANAGER=$FAULT_URL run_anonetl check -c "$TMP/rds.yaml" --source
expect_err "request time refused, the endpoint's clock an hour ahead: exit 3 naming the clock" 3 \
    "$ARN_RDS" "InvalidSignatureException" "s from ours" "NTP"
serve later "e503,ok"
AWS_ENDPOINT_URL_SECRETSMANAGER=$FAULT_URL run_anonetl check -c "$TMP/rds.yaml" --source
expect_ok "one 503, then the answer: the retry resolves it" "ok against the source"

config "$TMP/keydown.yaml" "  dsn: { aws_secret: $ARN_DSN }" "{ aws_secret: $ARN_KEY }"
AWS_ENDPOINT_URL_SECRETSMANAGER=http://127.0.0.1:1 \
    run_anonetl run -c "$TMP/keydown.yaml" --skip-preflight --log-format json
expect_err "run, the hash key's endpoint down: exit 3 before anything is touched" 3 \
    "secrets.hash_key" "$ARN_KEY"
ANONETL_HASH_KEY=$HASH_KEY AWS_ENDPOINT_URL_SECRETSMANAGER=http://127.0.0.1:1 \
    run_anonetl run -c "$TMP/dsn.yaml" --skip-preflight --log-format json
expect_err "run, the source DSN's endpoint down: exit 3" 3 "$ARN_DSN" "unreachable"
config "$TMP/tgtgone.yaml" "  dsn: { aws_secret: $ARN_DSN }" "$KEY_ENV"
sed -i "s|^  dsn: \"host=$TMP/tgt.*|  dsn: { aws_secret: $ARN_GONE }|" "$TMP/tgtgone.yaml"
run_anonetl status -c "$TMP/tgtgone.yaml"
expect_err "status, the target's secret does not exist: exit 2" 2 "target" "$ARN_GONE"
AWS_ENDPOINT_URL_SECRETSMANAGER=http://127.0.0.1:1 run_anonetl status -c "$TMP/tgtgone.yaml"
expect_err "status, its endpoint down: exit 3" 3 "target" "$ARN_GONE" "unreachable"

# --- the hash key of a real run ----------------------------------------------------------
# expected_hash KEYFILE VALUE -> HMAC-SHA256(key, "" || 0x00 || value), 32 hex characters
expected_hash() {
    "$MOTO_PYTHON" -c 'import hmac, hashlib, sys
key = open(sys.argv[1], "rb").read()
print(hmac.new(key, b"\0" + sys.argv[2].encode(), hashlib.sha256).hexdigest()[:32])' "$1" "$2"
}
printf '%s' "$HASH_KEY" >"$TMP/string.key"
config "$TMP/run.yaml" "  dsn: { aws_secret: $ARN_DSN }" "{ aws_secret: $ARN_KEY }"
run_anonetl run -c "$TMP/run.yaml" --skip-preflight --log-format json
expect_eq "run with the hash key from Secrets Manager: exit 0" 0 "$RC"
got=$(pgc_psql "$TMP/tgt" -tAc "SELECT email FROM anonymised.people WHERE id = 1")
expect_eq "published hash uses the secret's exact bytes (SecretString)" \
    "$(expected_hash "$TMP/string.key" a@example.com)" "$got"

config "$TMP/runbin.yaml" "  dsn: { aws_secret: $ARN_DSN }" "{ aws_secret: $ARN_BIN }"
run_anonetl run -c "$TMP/runbin.yaml" --skip-preflight --log-format json
expect_eq "run with a binary hash key: exit 0" 0 "$RC"
got=$(pgc_psql "$TMP/tgt" -tAc "SELECT email FROM anonymised.people WHERE id = 2")
expect_eq "published hash uses the decoded SecretBinary" \
    "$(expected_hash "$TMP/binary.key" b@example.com)" "$got"

config "$TMP/rungone.yaml" "  dsn: { aws_secret: $ARN_DSN }" "{ aws_secret: $ARN_GONE }"
run_anonetl run -c "$TMP/rungone.yaml" --skip-preflight --log-format json
expect_err "run with an unknown key ARN: exit 2 before anything is touched" 2 "secrets.hash_key" "$ARN_GONE"

# --- nothing leaked ------------------------------------------------------------------------
leaked=
grep -qF "$SRC_PW" "$ALL_OUT" && leaked="$leaked source-password"
grep -qF "$HASH_KEY" "$ALL_OUT" && leaked="$leaked hash-key"
grep -qF "$MOTO_SECRET" "$ALL_OUT" && leaked="$leaked aws-secret-key"
if [ -z "$leaked" ]; then ok "no secret value in any output"; else
    not_ok "no secret value in any output" "found:$leaked"; fi
done_testing
