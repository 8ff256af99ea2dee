#!/bin/sh
# Installs what building, testing and the demo need:
#   1. the Debian packages (does nothing, and needs no network, when all are present);
#   2. moto, the AWS API emulator of the AWS test suites (tests/preflight), which Debian
#      does not package: when no python3 can import moto, botocore and boto3, it tries
#      `python3 -m pip install 'moto[server]' boto3` in a virtual environment
#      ($ANONETL_VENV, default /opt/anonetl-venv; tests/preflight/lib/moto.sh looks there)
#      and says so. Where that is impossible (no access to PyPI) it says so and goes on:
#      the suites that need moto are then reported as skipped, with this command to run.
#
#   --no-moto   skip step 2 (`make demo` needs no moto)
set -eu

with_moto=1
[ "${1:-}" = "--no-moto" ] && with_moto=0

PACKAGES="build-essential pkg-config clang libclang-rt-14-dev \
libpq-dev libyaml-dev libssl-dev libcurl4-openssl-dev libxml2-dev \
libjansson-dev libcmocka-dev libpcre2-dev \
postgresql postgresql-contrib iproute2 openssl procps time python3 python3-venv locales"

missing=""
for p in $PACKAGES; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done

if [ -n "$missing" ]; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "install-deps: missing packages:$missing (run as root, or install them)" >&2
        exit 1
    fi
    echo "install-deps: installing$missing" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

[ "$with_moto" -eq 1 ] || exit 0

VENV=${ANONETL_VENV:-/opt/anonetl-venv}
has_moto() { "$1" -c 'import moto.server, botocore, boto3' >/dev/null 2>&1; }
for py in "${MOTO_PYTHON:-}" "${PYTHON:-}" python3 "$VENV/bin/python3"; do
    [ -n "$py" ] && command -v "$py" >/dev/null 2>&1 && has_moto "$py" && exit 0
done

echo "install-deps: no python3 with moto found; trying: python3 -m pip install 'moto[server]' boto3 (in $VENV)" >&2
if { [ -x "$VENV/bin/python3" ] || python3 -m venv "$VENV"; } &&
    "$VENV/bin/python3" -m pip install --quiet --disable-pip-version-check --timeout 15 \
        --retries 1 'moto[server]' boto3 && has_moto "$VENV/bin/python3"; then
    echo "install-deps: moto installed in $VENV" >&2
else
    echo "install-deps: could not install moto (no access to PyPI?): the AWS test suites" \
        "that need it will be reported as skipped" >&2
fi
exit 0
