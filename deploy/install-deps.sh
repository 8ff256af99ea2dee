#!/bin/sh
# Installs the Debian packages that building, testing and the demo need.
# Does nothing (and needs no network) when every package is already present.
set -eu

PACKAGES="build-essential pkg-config clang libclang-rt-14-dev \
libpq-dev libyaml-dev libssl-dev libcurl4-openssl-dev libxml2-dev \
libjansson-dev libcmocka-dev libpcre2-dev \
postgresql postgresql-contrib iproute2 openssl procps time"

missing=""
for p in $PACKAGES; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done

[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps: missing packages:$missing (run as root, or install them)" >&2
    exit 1
fi
echo "install-deps: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
