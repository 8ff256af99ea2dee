#!/usr/bin/env bash
# tests/preflight/rds_token.sh: RDS IAM authentication tokens.
#
#   - `anonetl db-token` is byte-identical to botocore's generate_db_auth_token, run live
#     here, for the same static credentials and signing time (the test hook
#     ANONETL_FIXED_TIME fixes ours, a patched botocore.auth.get_current_datetime
#     botocore's): with and without a session token, odd user names, port 443, the region
#     from --region, from the RDS host name, or from AWS_REGION;
#   - usage errors, no credentials (the chain never reaches instance metadata:
#     AWS_EC2_METADATA_DISABLED=true), and the secret key never in any output;
#   - `iam_auth: true` end to end: a real cluster whose role password IS the token for a
#     fixed time; `anonetl check --source` connects only if pgconn sent exactly that token
#     as the password (and fails with another signing time).
set -u
cd "$(dirname "$0")/../.."
. tests/lib/tap.sh
. tests/lib/pgcluster.sh
. tests/preflight/lib/moto.sh

ANONETL=${ANONETL:-./anonetl}
TMP=$(pgc_mktemp)
trap 'pgc_stop_all; rm -rf "$TMP"' EXIT

aws_env_isolate "$TMP"
export AWS_ACCESS_KEY_ID=AKIDEXAMPLETOKEN01
SECRET="tokenTestSecret/never+printed+$(openssl rand -hex 6)"
export AWS_SECRET_ACCESS_KEY=$SECRET
ALL_OUT=$TMP/all-output.txt

if ! moto_find_python 2>"$TMP/py.err"; then
    skip "botocore comparisons" "$(moto_skip_reason)"
    done_testing
    exit 0
fi

# botocore HOST PORT USER REGION WHEN [SESSION_TOKEN] -> its token on stdout
botocore_token() {
    "$MOTO_PYTHON" - "$@" <<'PY'
import datetime, os, sys
import botocore.auth, botocore.session
host, port, user, region, when = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], int(sys.argv[5])
token = sys.argv[6] if len(sys.argv) > 6 else None
fixed = datetime.datetime.fromtimestamp(when, datetime.timezone.utc).replace(tzinfo=None)
botocore.auth.get_current_datetime = lambda *a, **k: fixed
c = botocore.session.get_session().create_client(
    "rds", region_name=region, aws_access_key_id=os.environ["AWS_ACCESS_KEY_ID"],
    aws_secret_access_key=os.environ["AWS_SECRET_ACCESS_KEY"], aws_session_token=token)
print(c.generate_db_auth_token(DBHostname=host, Port=port, DBUsername=user, Region=region))
PY
}

# ours WHEN [args...] -> stdout+stderr in $OUT, status in $RC
ours() {
    local when=$1; shift
    OUT=$(ANONETL_FIXED_TIME=$when "$ANONETL" db-token "$@" 2>&1)
    RC=$?
    printf '%s\n' "$OUT" >>"$ALL_OUT"
}

HOST_OPT=--host USER_OPT=--user
compare() { # name HOST PORT USER REGION WHEN [more db-token args...]
    local name=$1 host=$2 port=$3 user=$4 region=$5 when=$6
    shift 6
    local want
    want=$(botocore_token "$host" "$port" "$user" "$region" "$when" ${SESSION:+"$SESSION"})
    ours "$when" "$HOST_OPT" "$host" --port "$port" "$USER_OPT" "$user" "$@"
    if [ "$RC" -eq 0 ] && [ -n "$want" ] && [ "$OUT" = "$want" ]; then ok "$name"; else
        not_ok "$name" "rc=$RC
botocore: $want
anonetl:  $OUT"
    fi
}

NOW=$(date +%s)
SESSION=
compare "explicit --region" db.example.internal 5432 anonetl_reader eu-west-2 "$NOW" --region eu-west-2
compare "region from the RDS host name" prod.c9akciq32.eu-central-1.rds.amazonaws.com 5432 app eu-central-1 1700000000
AWS_REGION=ap-south-1 compare "region from AWS_REGION" db.example.internal 6432 u ap-south-1 1600000000
compare "--region beats the host name" prod.abc.eu-west-1.rds.amazonaws.com 5432 u us-west-2 1700000123 --region us-west-2
compare "user with spaces, + and unicode" db.example.internal 5432 "a b+c/é" us-east-1 1700000000 --region us-east-1
compare "port 443 (botocore signs the bare host)" db.example.internal 443 u us-east-1 1700000000 --region us-east-1
HOST_OPT=--hostname USER_OPT=--username compare "--hostname/--username aliases" db.example.internal 5432 u us-east-1 1700000000 --region us-east-1
SESSION="FwoGZXIvYXdzEJr//////////wEaDE+test/session+token=="
AWS_SESSION_TOKEN=$SESSION compare "with a session token (X-Amz-Security-Token)" db.example.internal 5432 u eu-west-2 1700000000 --region eu-west-2
SESSION=

# The real clock is used without the hook.
OUT=$("$ANONETL" db-token --host db.example.internal --user u --region us-east-1 2>&1)
stamp=$(printf '%s' "$OUT" | sed -n 's/.*X-Amz-Date=\([0-9]\{8\}T[0-9]\{6\}Z\).*/\1/p')
now_utc=$(date -u +%s)
tok_s=$(date -u -d "$(printf '%s' "$stamp" | sed 's/\(....\)\(..\)\(..\)T\(..\)\(..\)\(..\)Z/\1-\2-\3 \4:\5:\6/')" +%s 2>/dev/null || echo 0)
if [ $((now_utc - tok_s)) -ge 0 ] && [ $((now_utc - tok_s)) -lt 120 ] && printf '%s' "$OUT" | grep -q 'X-Amz-Expires=900&'; then
    ok "without ANONETL_FIXED_TIME: signed now, valid 900 s"
else
    not_ok "without ANONETL_FIXED_TIME: signed now, valid 900 s" "$OUT"
fi

# Usage errors and failures.
ours 1700000000 --host h.example --region us-east-1
expect_eq "no --user: exit 2" 2 "$RC"
ours 1700000000 --host h.example --user u --port 99999
expect_eq "bad --port: exit 2" 2 "$RC"
# What was asked is the caller's (2), credentials the environment's (3): as a secret's codes
# (docs/operations.md, "Secrets"); 1 would say an internal error.
ours 1700000000 --host h.example --user u
if [ "$RC" -eq 2 ] && printf '%s' "$OUT" | grep -q "no region"; then ok "no region anywhere: exit 2, says so"; else
    not_ok "no region anywhere: exit 2, says so" "rc=$RC $OUT"; fi
for bad in "host must be a DNS name|--host|a b|--region|us-east-1|--user|u" \
    "invalid or missing region|--host|h.example|--region|eu west|--user|u" \
    "user must be 1..255 bytes|--host|h.example|--region|us-east-1|--user|$(printf 'u%.0s' $(seq 256))"; do
    IFS='|' read -r -a part <<<"$bad"
    ours 1700000000 "${part[@]:1}"
    if [ "$RC" -eq 2 ] && printf '%s' "$OUT" | grep -q "${part[0]}"; then ok "no token for it: exit 2, ${part[0]}"; else
        not_ok "no token for it: exit 2, ${part[0]}" "rc=$RC $OUT"; fi
done
OUT=$(env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY "$ANONETL" db-token --host h.example --user u --region us-east-1 2>&1)
RC=$?
if [ "$RC" -eq 3 ] && printf '%s' "$OUT" | grep -q "no AWS credentials" &&
    printf '%s' "$OUT" | grep -q "instance metadata disabled"; then
    ok "no credentials: exit 3, metadata never asked"
else
    not_ok "no credentials: exit 3" "rc=$RC $OUT"
fi

# --- iam_auth through pgconn: the token is the password ---------------------------------
pgc_init "$TMP/db" >/dev/null && pgc_start "$TMP/db" >/dev/null
PORT=$(pgc_port "$TMP/db")
WHEN=1700000000
ours "$WHEN" --host 127.0.0.1 --port "$PORT" --user iam_reader --region eu-west-2
TOKEN=$OUT
pgc_psql "$TMP/db" -v pw="$TOKEN" <<'SQL' >/dev/null
CREATE ROLE iam_reader LOGIN PASSWORD :'pw';
CREATE TABLE public.t (id int PRIMARY KEY, note text);
GRANT SELECT ON public.t TO iam_reader;
SQL
cat >"$TMP/iam.yaml" <<YAML
version: 1
source:
  host: 127.0.0.1
  port: $PORT
  dbname: postgres
  user: iam_reader
  iam_auth: true
target:
  dsn: "host=127.0.0.1 port=$PORT dbname=postgres user=nobody"
secrets:
  hash_key: { env: ANONETL_HASH_KEY }
aws:
  region: eu-west-2
tables:
  - name: public.t
    columns:
      id: keep
      note: suppress
YAML
OUT=$(ANONETL_FIXED_TIME=$WHEN "$ANONETL" check -c "$TMP/iam.yaml" --source 2>&1)
RC=$?
printf '%s\n' "$OUT" >>"$ALL_OUT"
if [ "$RC" -eq 0 ] && printf '%s' "$OUT" | grep -q "ok against the source"; then
    ok "iam_auth: connects with the token as the password (region from aws.region)"
else
    not_ok "iam_auth: connects with the token as the password" "rc=$RC $OUT"
fi
OUT=$(ANONETL_FIXED_TIME=$((WHEN + 1)) "$ANONETL" check -c "$TMP/iam.yaml" --source 2>&1)
RC=$?
printf '%s\n' "$OUT" >>"$ALL_OUT"
if [ "$RC" -eq 4 ] && printf '%s' "$OUT" | grep -q "password authentication failed"; then
    ok "iam_auth: a token for another time is refused (exit 4)"
else
    not_ok "iam_auth: a token for another time is refused" "rc=$RC $OUT"
fi
if printf '%s' "$OUT" | grep -q "X-Amz-Signature"; then
    not_ok "iam_auth: the token is not in the error"
else
    ok "iam_auth: the token is not in the error"
fi
# A host outside loopback (it never resolves: the check fails before any connection).
sed -i 's/^  iam_auth: true/  iam_auth: true\n  sslmode: verify-ca/; s/^  host: 127.0.0.1/  host: db.example.invalid/' "$TMP/iam.yaml"
OUT=$("$ANONETL" check -c "$TMP/iam.yaml" --source 2>&1)
RC=$?
if [ "$RC" -ne 0 ] && printf '%s' "$OUT" | grep -q "sslmode=verify-ca for host db.example.invalid.*verify-full"; then
    ok "iam_auth outside loopback needs verify-full"
else
    not_ok "iam_auth outside loopback needs verify-full" "rc=$RC $OUT"
fi

if grep -qF "$SECRET" "$ALL_OUT"; then
    not_ok "the secret access key never appears in any output"
else
    ok "the secret access key never appears in any output"
fi
done_testing
