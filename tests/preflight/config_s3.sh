#!/usr/bin/env bash
# tests/preflight/config_s3.sh: the config read from S3 (`-c s3://bucket/key`,
# ANONETL_CONFIG=s3://...) through the real binary, against moto on loopback with SigV4
# signature checking on (an IAM user made by moto_create_user; the bucket, versioned, and
# the objects made with botocore).
#
#   - check, preview and run with the config from S3: a key with spaces and '~' (path-style through
#     AWS_ENDPOINT_URL_S3, the key encoded once and signed as S3 wants; moto miscomputes
#     the signature of keys with '+', '(' or non-ASCII letters, even botocore's, so
#     tests/unit/test_sigv4.c checks those against botocore's S3 signer instead);
#   - the run record (anonetl.runs.config_source) and the log (config_loaded) carry the
#     object's version id and ETag (compared with what botocore's PutObject returned) and
#     the config fingerprint; a new version of the object shows as a new version id;
#   - errors are exit 2 and say which: NoSuchKey, NoSuchBucket, AccessDenied (a user whose
#     policy does not allow s3:GetObject), a wrong secret (SignatureDoesNotMatch); a
#     parse error names s3://bucket/key:line:column; S3 unreachable or no AWS
#     credentials is exit 3 (the environment's, as for a secret);
#   - the secret key never appears in any output.
set -u
cd "$(dirname "$0")/../.."
. tests/lib/tap.sh
. tests/lib/pgcluster.sh
. tests/preflight/lib/moto.sh

ANONETL=${ANONETL:-./anonetl}
TMP=$(pgc_mktemp)
trap 'moto_stop; pgc_stop_all; rm -rf "$TMP"' EXIT
aws_env_isolate "$TMP"
export AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_CONFIG_FILE=/dev/null AWS_REGION=eu-west-2
ALL_OUT=$TMP/all-output.txt

if ! moto_find_python 2>/dev/null; then
    skip "config from S3" "$(moto_skip_reason)"
    done_testing
    exit 0
fi
[ -x "$ANONETL" ] || make --no-print-directory anonetl >/dev/null 2>&1
if ! moto_start 6 2>"$TMP/moto.err" || ! moto_create_user anonetl-config; then
    not_ok "start moto with signature checking" "$(tail -3 "$TMP/moto.err")"
    done_testing
    exit 1
fi
READER_AKID=$MOTO_AKID READER_SECRET=$MOTO_SECRET
# A second user whose policy does not allow s3:GetObject (3 more unsigned IAM calls).
out=$(MOTO_URL=$MOTO_URL "$MOTO_PYTHON" - <<'PY'
import json, os
import botocore.session
iam = botocore.session.get_session().create_client(
    "iam", region_name="us-east-1", endpoint_url=os.environ["MOTO_URL"],
    aws_access_key_id="testing", aws_secret_access_key="testing")
iam.create_user(UserName="no-read")
policy = {"Version": "2012-10-17",
          "Statement": [{"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*"}]}
iam.put_user_policy(UserName="no-read", PolicyName="list-only", PolicyDocument=json.dumps(policy))
k = iam.create_access_key(UserName="no-read")["AccessKey"]
print(k["AccessKeyId"], k["SecretAccessKey"])
PY
)
NOREAD_AKID=${out%% *} NOREAD_SECRET=${out#* }
export AWS_ACCESS_KEY_ID=$READER_AKID AWS_SECRET_ACCESS_KEY=$READER_SECRET
export AWS_ENDPOINT_URL_S3=$MOTO_URL
DEAD_URL="http://127.0.0.1:$(_moto_free_port)"
export AWS_ENDPOINT_URL=$DEAD_URL # a request that ignored AWS_ENDPOINT_URL_S3 fails here

pgc_init "$TMP/src" >/dev/null && pgc_start "$TMP/src" >/dev/null
pgc_init "$TMP/tgt" >/dev/null && pgc_start "$TMP/tgt" >/dev/null
SPORT=$(pgc_port "$TMP/src")
TPORT=$(pgc_port "$TMP/tgt")
pgc_psql "$TMP/src" <<'SQL' >/dev/null
CREATE TABLE public.people (id int PRIMARY KEY, email text NOT NULL);
INSERT INTO public.people VALUES (1, 'a@example.com'), (2, 'b@example.com');
SQL
export ANONETL_HASH_KEY=$(openssl rand -hex 32)
cat >"$TMP/good.yaml" <<YAML
version: 1
source:
  dsn: "host=$TMP/src port=$SPORT dbname=postgres user=postgres"
target:
  dsn: "host=$TMP/tgt port=$TPORT dbname=postgres user=postgres"
secrets:
  hash_key: { env: ANONETL_HASH_KEY }
tables:
  - name: public.people
    columns:
      id: keep
      email: { hash: {} }
YAML
sed 's/email: { hash: {} }/email: { hash: { nope: 1 } }/' "$TMP/good.yaml" >"$TMP/bad.yaml"

KEY="prod/anon etl/v2 final~1.yaml"
BUCKET=anonetl-config
# put NAME FILE -> "VERSION_ID ETAG" of the new object version (signed, checked)
put() {
    MOTO_URL=$MOTO_URL "$MOTO_PYTHON" - "$BUCKET" "$1" "$2" <<'PY'
import os, sys
import botocore.session
s3 = botocore.session.get_session().create_client(
    "s3", region_name="eu-west-2", endpoint_url=os.environ["MOTO_URL"])
bucket, key, path = sys.argv[1:4]
try:
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-2"})
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
except s3.exceptions.BucketAlreadyOwnedByYou:
    pass
r = s3.put_object(Bucket=bucket, Key=key, Body=open(path, "rb").read())
print(r["VersionId"], r["ETag"].strip('"'))
PY
}
if v1=$(put "$KEY" "$TMP/good.yaml") && put bad.yaml "$TMP/bad.yaml" >/dev/null; then
    ok "bucket (versioned) and configs put with botocore (signature checking on)"
else
    not_ok "bucket and configs put with botocore"
    done_testing
    exit 1
fi
URL="s3://$BUCKET/$KEY"

run_anonetl() { OUT=$("$ANONETL" "$@" 2>&1); RC=$?; printf '%s\n' "$OUT" >>"$ALL_OUT"; }
expect_err() { # name, code, patterns...
    local name=$1 code=$2 p bad=""; shift 2
    [ "$RC" = "$code" ] || bad="exit $RC (want $code)"
    for p in "$@"; do printf '%s' "$OUT" | grep -qF -- "$p" || bad="$bad; missing: $p"; done
    if [ -z "$bad" ]; then ok "$name"; else not_ok "$name" "$bad
$OUT"; fi
}

run_anonetl check -c "$URL" --log-format json
expect_err "check -c s3://bucket/key (a key with spaces and '~')" 0 "ok (1 tables"
expect_err "the log names the object's version id and ETag" 0 "\"version_id\":\"${v1% *}\"" \
    "\"etag\":\"${v1#* }\"" '"event":"config_loaded"'
ANONETL_CONFIG=$URL run_anonetl check
expect_err "ANONETL_CONFIG=s3://..." 0 "ok (1 tables"

# preview read -c as a file path ("s3://...: cannot open"), though its help offers s3://
run_anonetl preview -c "$URL" --table public.people --json
expect_err "preview -c s3://bucket/key" 0 '"table": "public.people"' '"email": "a@example.com"'

run_anonetl run -c "$URL" --skip-preflight --log-format json
expect_err "run with the config from S3: exit 0" 0 '"event":"run_done"'
fp=$(printf '%s\n' "$OUT" | sed -n 's/.*"event":"config_loaded".*"fingerprint":"\([0-9a-f]*\)".*/\1/p')
rec=$(pgc_psql "$TMP/tgt" -tAc "SELECT config_source || ' ' || config_fingerprint FROM anonetl.runs ORDER BY run_id DESC LIMIT 1")
expect_eq "the run record has the object, its version id and ETag, and the fingerprint" \
    "$URL version_id=${v1% *} etag=${v1#* } $fp" "$rec"
v2=$(put "$KEY" "$TMP/good.yaml")
run_anonetl run -c "$URL" --skip-preflight --log-format json
rec=$(pgc_psql "$TMP/tgt" -tAc "SELECT config_source FROM anonetl.runs ORDER BY run_id DESC LIMIT 1")
if [ "$RC" = 0 ] && [ "${v2% *}" != "${v1% *}" ] && [ "$rec" = "$URL version_id=${v2% *} etag=${v2#* }" ]; then
    ok "a new upload is a new version id in the next run's record"
else not_ok "a new upload is a new version id in the next run's record" "rc=$RC v1=$v1 v2=$v2 rec=$rec"; fi
run_anonetl run -c "$TMP/good.yaml" --skip-preflight --log-format json
rec=$(pgc_psql "$TMP/tgt" -tAc "SELECT config_source FROM anonetl.runs ORDER BY run_id DESC LIMIT 1")
expect_eq "a config file is recorded by its path" "$TMP/good.yaml" "$rec"

run_anonetl check -c "s3://$BUCKET/prod/missing.yaml"
expect_err "missing key: exit 2, NoSuchKey, the URL" 2 "NoSuchKey" "s3://$BUCKET/prod/missing.yaml" "(no-such-key)"
run_anonetl check -c "s3://anonetl-no-such-bucket/x.yaml"
expect_err "missing bucket: exit 2, NoSuchBucket" 2 "NoSuchBucket" "(no-such-bucket)"
AWS_ACCESS_KEY_ID=$NOREAD_AKID AWS_SECRET_ACCESS_KEY=$NOREAD_SECRET run_anonetl check -c "$URL"
expect_err "a user without s3:GetObject: exit 2, AccessDenied, what to grant" 2 "AccessDenied" \
    "(access-denied)" "s3:GetObject"
AWS_SECRET_ACCESS_KEY=wrong$READER_SECRET run_anonetl check -c "$URL"
expect_err "a wrong secret: exit 2, the signature is refused" 2 "SignatureDoesNotMatch" "(auth)"
run_anonetl check -c "s3://$BUCKET/bad.yaml"
if [ "$RC" = 2 ] && printf '%s' "$OUT" | grep -qE "^s3://$BUCKET/bad.yaml:[0-9]+:[0-9]+: "; then
    ok "a config error names s3://bucket/key:line:column"
else not_ok "a config error names s3://bucket/key:line:column" "rc=$RC $OUT"; fi
run_anonetl check -c "s3://Bad_Bucket/x.yaml"
expect_err "a malformed s3:// URL: exit 2" 2 "bucket name"
run_anonetl check -c "s3://$BUCKET/"
expect_err "s3://bucket/ without a key: exit 2" 2 "expected s3://BUCKET/KEY"
AWS_ENDPOINT_URL_S3=$DEAD_URL run_anonetl check -c "$URL"
expect_err "S3 unreachable: exit 3 (the environment's, as for a secret) after the retries" 3 "(transport)" "after 3 attempts"
OUT=$(env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_SESSION_TOKEN -u AWS_PROFILE \
    AWS_SHARED_CREDENTIALS_FILE=/nonexistent AWS_CONFIG_FILE=/nonexistent AWS_EC2_METADATA_DISABLED=true \
    "$ANONETL" check -c "$URL" 2>&1); RC=$?
expect_err "no AWS credentials for the S3 config: exit 3" 3 "$URL"
run_anonetl preview -c "s3://$BUCKET/prod/missing.yaml" --table public.t
expect_err "preview, a missing S3 config: exit 2, NoSuchKey" 2 "NoSuchKey"

leaked=
for s in "$READER_SECRET" "$NOREAD_SECRET" "$ANONETL_HASH_KEY"; do
    grep -qF -- "$s" "$ALL_OUT" && leaked="$leaked x"
done
expect_eq "no secret in any output" "" "$leaked"
done_testing
