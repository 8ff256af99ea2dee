# tests/preflight/lib/moto.sh: start and stop a local moto server (fake AWS APIs) for the
# preflight suites (sourced). Only loopback: moto listens on 127.0.0.1.
#
#   moto_find_python              -> sets MOTO_PYTHON (a python3 that can `import moto`),
#                                    returns 1 with a message on stderr if there is none;
#                                    MOTO_PYTHON set by the caller is the only one tried
#   moto_skip_reason              -> the SKIP reason: moto missing, and the one command
#                                    that installs it (./deploy/install-deps.sh)
#   moto_start [NO_AUTH_COUNT]    -> starts moto on a free port; sets MOTO_PID, MOTO_PORT,
#                                    MOTO_URL (http://127.0.0.1:PORT), MOTO_LOG. The first
#                                    NO_AUTH_COUNT actions are accepted unsigned; after that
#                                    moto checks SigV4 signatures and IAM policies (default:
#                                    never, i.e. signature checking off)
#   moto_set_auth_count N         -> change that count at run time and restart counting
#                                    (POST /moto-api/reset-auth); N=0 turns checking on now
#   moto_create_user NAME         -> IAM user + access key + an allow-all inline policy via
#                                    botocore (3 actions: call it inside the no-auth window);
#                                    sets MOTO_AKID and MOTO_SECRET
#   moto_stop                     -> stops the server by its pid
#
# Callers usually: trap 'moto_stop' EXIT. The region used is us-east-1.

MOTO_PID=
MOTO_PORT=
MOTO_URL=
MOTO_LOG=
MOTO_PYTHON=${MOTO_PYTHON:-} # set by the caller: the only interpreter tried
MOTO_FOUND=
ANONETL_VENV=${ANONETL_VENV:-/opt/anonetl-venv}
# The one command that makes moto available (see deploy/install-deps.sh).
MOTO_ENABLE_CMD="./deploy/install-deps.sh"

moto_find_python() {
    local c
    [ -n "$MOTO_FOUND" ] && return 0
    if [ -n "$MOTO_PYTHON" ]; then
        if "$MOTO_PYTHON" -c 'import moto.server, botocore' >/dev/null 2>&1; then
            MOTO_FOUND=1
            return 0
        fi
        echo "moto.sh: MOTO_PYTHON=$MOTO_PYTHON cannot import moto and botocore" >&2
        return 1
    fi
    for c in "${PYTHON:-}" python3 "$ANONETL_VENV/bin/python3" "$HOME/.pyenv/shims/python3" \
        /root/.pyenv/shims/python3 python3.11 python3.12 /usr/bin/python3; do
        [ -n "$c" ] || continue
        command -v "$c" >/dev/null 2>&1 || continue
        if "$c" -c 'import moto.server, botocore' >/dev/null 2>&1; then
            MOTO_PYTHON=$(command -v "$c")
            MOTO_FOUND=1
            return 0
        fi
    done
    echo "moto.sh: no python3 with moto and botocore found (tried \$PYTHON, python3, $ANONETL_VENV, pyenv)" >&2
    return 1
}

# The reason a suite gives when it skips for want of moto, with the command that fixes it.
moto_skip_reason() {
    echo "moto not installed (no python3 that imports moto and botocore${MOTO_PYTHON:+; MOTO_PYTHON=$MOTO_PYTHON}); to run these tests: $MOTO_ENABLE_CMD"
}

_moto_free_port() {
    "$MOTO_PYTHON" -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# _moto_http METHOD URL BODY: succeeds on a 2xx answer (python, so no curl binary is needed).
_moto_http() {
    "$MOTO_PYTHON" - "$1" "$2" "$3" <<'EOF' >/dev/null 2>&1
import sys, urllib.request
m, url, body = sys.argv[1], sys.argv[2], sys.argv[3]
req = urllib.request.Request(url, method=m, data=body.encode() if m == "POST" else None,
                             headers={"Content-Type": "application/octet-stream"})
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback: no proxy
with opener.open(req, timeout=2) as r:
    sys.exit(0 if 200 <= r.status < 300 else 1)
EOF
}

# The port is picked free, then bound by moto seconds later (its imports are slow): on a
# machine where other suites start clusters and servers, something may take it first.
# moto then exits at start saying so, and is started again on another port.
moto_start() {
    local count=${1:-inf} try
    for try in 1 2 3; do
        moto__start_once "$count"
        case $? in
        0) return 0 ;;
        2) [ "$try" -lt 3 ] && echo "moto.sh: port $MOTO_PORT was taken meanwhile: another one" >&2 ;;
        *) return 1 ;;
        esac
    done
    return 1
}

moto__start_once() { # COUNT: 0 up, 2 its port was taken meanwhile, 1 any other failure
    local count=$1 i
    moto_find_python || return 1
    MOTO_PORT=$(_moto_free_port) || return 1
    MOTO_URL="http://127.0.0.1:$MOTO_PORT"
    MOTO_LOG=$(mktemp "${TMPDIR:-/tmp}/moto.XXXXXX.log")
    INITIAL_NO_AUTH_ACTION_COUNT=$count \
        "$MOTO_PYTHON" -m moto.server -H 127.0.0.1 -p "$MOTO_PORT" >"$MOTO_LOG" 2>&1 &
    MOTO_PID=$!
    for i in $(seq 1 150); do
        if ! kill -0 "$MOTO_PID" 2>/dev/null; then
            MOTO_PID=
            if grep -qi 'address already in use' "$MOTO_LOG"; then
                rm -f "$MOTO_LOG"
                return 2
            fi
            echo "moto.sh: moto exited at start; log:" >&2
            tail -20 "$MOTO_LOG" >&2
            return 1
        fi
        if _moto_http GET "$MOTO_URL/moto-api/data.json" ""; then
            return 0
        fi
        sleep 0.1
    done
    echo "moto.sh: moto did not answer on $MOTO_URL within 15 s" >&2
    moto_stop
    return 1
}

moto_set_auth_count() {
    _moto_http POST "$MOTO_URL/moto-api/reset-auth" "$1"
}

moto_create_user() {
    local name=${1:-anonetl-test} out
    out=$(MOTO_URL=$MOTO_URL MOTO_USER=$name "$MOTO_PYTHON" - <<'EOF'
import json, os
import botocore.session
s = botocore.session.get_session()
iam = s.create_client("iam", region_name="us-east-1", endpoint_url=os.environ["MOTO_URL"],
                      aws_access_key_id="testing", aws_secret_access_key="testing")
name = os.environ["MOTO_USER"]
iam.create_user(UserName=name)
policy = {"Version": "2012-10-17",
          "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
iam.put_user_policy(UserName=name, PolicyName="allow-all", PolicyDocument=json.dumps(policy))
k = iam.create_access_key(UserName=name)["AccessKey"]
print(k["AccessKeyId"], k["SecretAccessKey"])
EOF
    ) || { echo "moto.sh: could not create IAM user $name" >&2; return 1; }
    MOTO_AKID=${out%% *}
    MOTO_SECRET=${out#* }
    [ -n "$MOTO_AKID" ] && [ -n "$MOTO_SECRET" ]
}

moto_stop() {
    if [ -n "$MOTO_PID" ]; then
        kill "$MOTO_PID" 2>/dev/null
        wait "$MOTO_PID" 2>/dev/null
        MOTO_PID=
    fi
    if [ -n "$MOTO_LOG" ]; then
        rm -f "$MOTO_LOG"
        MOTO_LOG=
    fi
    return 0
}

# aws_env_isolate DIR: a clean AWS environment for a test. Nothing from the caller leaks
# in (AWS_* variables, proxies, ~/.aws: HOME becomes DIR/home), and instance metadata is
# off, so no credential lookup can leave loopback.
aws_env_isolate() {
    local v
    for v in $(env | sed -n 's/^\(AWS_[A-Z0-9_]*\)=.*/\1/p') ANONETL_ECS_CREDENTIALS_HOST \
        ECS_CONTAINER_METADATA_URI_V4 ECS_CONTAINER_METADATA_URI \
        http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy; do
        unset "$v"
    done
    export HOME=$1/home
    mkdir -p "$HOME/.aws"
    export AWS_EC2_METADATA_DISABLED=true
}
