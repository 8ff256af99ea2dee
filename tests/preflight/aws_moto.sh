#!/usr/bin/env bash
# tests/preflight/aws_moto.sh: the AWS preflight checks and --repair against a local moto
# server (127.0.0.1 only) with SigV4 signature checking on, through the real transport
# (infra/aws_http, infra/aws_creds from the environment) and build/asan/aws_check_probe.
#
# Each test builds a fresh copy of the seed topology (tests/preflight/lib/aws_topology.py:
# main VPC <-> isolated VPC accepted with DNS both ways; isolated VPC -> data team VPC in
# another moto account and region, pending) with at most one fault, then checks the
# report. moto never marks a route "blackhole" by itself, so the blackhole case is a route
# whose peering was deleted (the check reads the peering's state); the cross-account
# peering is created from our account into account 222222222222 (moto models that), but
# its acceptance by the other account is not exercised.
set -u
cd "$(dirname "$0")/../.."
. tests/lib/tap.sh
. tests/preflight/lib/moto.sh

PROBE=build/asan/aws_check_probe
REGION=us-east-1
TOPO=tests/preflight/lib/aws_topology.py

if ! moto_find_python 2>/dev/null; then
    skip "moto" "no python3 with moto and botocore"
    done_testing
    exit 0
fi
if [ ! -x "$PROBE" ]; then
    make --no-print-directory "$PROBE" >/dev/null 2>&1 || { not_ok "build $PROBE"; done_testing; exit 1; }
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/aws_moto.XXXXXX")
cleanup() { moto_stop; rm -rf "$tmp"; }
trap cleanup EXIT

# 3 unsigned actions for our IAM user, 3 for the data team's; then signatures are checked.
if ! moto_start 6 || ! moto_create_user anonetl; then
    not_ok "moto starts with signature checking"
    done_testing
    exit 1
fi
data_user=$(MOTO_URL=$MOTO_URL "$MOTO_PYTHON" "$TOPO" data-user) || data_user=
export AWS_ACCESS_KEY_ID=$MOTO_AKID AWS_SECRET_ACCESS_KEY=$MOTO_SECRET
unset AWS_SESSION_TOKEN AWS_PROFILE AWS_WEB_IDENTITY_TOKEN_FILE \
    AWS_CONTAINER_CREDENTIALS_RELATIVE_URI AWS_CONTAINER_CREDENTIALS_FULL_URI
export AWS_EC2_METADATA_DISABLED=true AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_CONFIG_FILE=/dev/null

# build FAULT: a fresh topology; sets PCX_MAIN PCX_DATA RTB_ISO RTB_MAIN SG_DB IGW
build() {
    local out
    out=$(MOTO_URL=$MOTO_URL DATA_AWS_ACCESS_KEY_ID=${data_user%% *} \
        DATA_AWS_SECRET_ACCESS_KEY=${data_user#* } "$MOTO_PYTHON" "$TOPO" "$1" 2>"$tmp/topo.err") || {
        cat "$tmp/topo.err" >&2
        return 1
    }
    eval "$out"
}

# probe [extra args]: the seed config's aws: section; output in $tmp/out, status in $rc
probe() {
    "$PROBE" -r "$REGION" -e "$MOTO_URL" \
        -p "$PCX_MAIN:both:required" -p "$PCX_DATA:requester:optional" \
        -t "$RTB_ISO:10.10.0.0/16:$PCX_MAIN" -t "$RTB_MAIN:10.20.0.0/16:$PCX_MAIN" \
        -t "$RTB_ISO:10.30.0.0/16:$PCX_DATA" \
        -s "$SG_DB:5432:10.10.1.0/24" "$@" >"$tmp/out" 2>"$tmp/err"
    rc=$?
}

# line STATUS GROUP SUBJECT_PART: the first result line matching
line() { awk -F'\t' -v s="$1" -v g="$2" -v j="$3" '$1==s && $2==g && index($3,j) {print; exit}' "$tmp/out"; }

# expect_line NAME STATUS GROUP SUBJECT_PART DETAIL_PART [FIX_PART]
expect_line() {
    local l
    l=$(line "$2" "$3" "$4")
    if [ -z "$l" ]; then
        not_ok "$1" "no $2 $3 result for $4 in:
$(cat "$tmp/out" "$tmp/err")"
        return
    fi
    case "$l" in *"$5"*) ;; *) not_ok "$1" "detail lacks '$5': $l"; return ;; esac
    if [ -n "${6:-}" ]; then
        case "$l" in *"$6"*) ;; *) not_ok "$1" "remediation lacks '$6': $l"; return ;; esac
    fi
    ok "$1"
}

fails() { awk -F'\t' '$1=="FAIL"' "$tmp/out" | wc -l | tr -d ' '; }

# ---- healthy ----
if build none; then
    probe
    expect_eq "healthy topology: exit 0" 0 "$rc"
    expect_eq "healthy topology: no FAIL" 0 "$(fails)"
    expect_line "healthy: main peering active" PASS peering "$PCX_MAIN" "active: vpc-"
    expect_line "healthy: DNS both sides" PASS dns-option "$PCX_MAIN" "requester and accepter"
    expect_line "healthy: route via the peering" PASS route "$RTB_ISO -> 10.10.0.0/16" "via $PCX_MAIN"
    expect_line "healthy: security group" PASS sg "$SG_DB" "tcp 5432-5432"
    if [ "$DATA_CROSS_ACCOUNT" = yes ]; then
        expect_line "data team peering (other account, not required): WARN naming the accepter" \
            WARN peering "$PCX_DATA" "account 222222222222 must accept it in region eu-west-1" \
            "accept-vpc-peering-connection --vpc-peering-connection-id $PCX_DATA --region eu-west-1"
    else
        expect_line "data team peering (not required): WARN" WARN peering "$PCX_DATA" "pending-acceptance"
    fi
else
    not_ok "build the healthy topology"
fi

# ---- one fault each ----
if build pending; then
    probe
    expect_eq "pending peering: exit 3" 3 "$rc"
    expect_line "pending peering: FAIL naming account and region" FAIL peering "$PCX_MAIN" \
        "pending-acceptance: account 123456789012 must accept it in region us-east-1" \
        "anonetl preflight --repair --yes"
else not_ok "build pending"; fi

if build dns_off; then
    probe
    expect_line "DNS option off: FAIL" FAIL dns-option "$PCX_MAIN" \
        "off on the requester and accepter sides" "anonetl preflight --repair --yes"
    expect_line "DNS option off: aws CLI remediation" FAIL dns-option "$PCX_MAIN" "off" \
        "modify-vpc-peering-connection-options --vpc-peering-connection-id $PCX_MAIN"
else not_ok "build dns_off"; fi

if build missing_route; then
    probe
    expect_line "missing route: FAIL" FAIL route "$RTB_ISO -> 10.10.0.0/16" \
        "no route in $RTB_ISO covers 10.10.0.0/16" \
        "create-route --route-table-id $RTB_ISO --destination-cidr-block 10.10.0.0/16 --vpc-peering-connection-id $PCX_MAIN"
else not_ok "build missing_route"; fi

if build blackhole; then
    probe
    expect_line "route to a deleted peering: FAIL blackhole" FAIL route "$RTB_ISO -> 10.10.0.0/16" \
        "peering is deleted: traffic is dropped (blackhole)"
    expect_line "deleted peering: FAIL" FAIL peering "$PCX_MAIN" "deleted" "create a new one"
else not_ok "build blackhole"; fi

if build igw; then
    probe
    expect_line "route via the internet gateway: FAIL naming it" FAIL route "$RTB_ISO -> 10.10.0.0/16" \
        "via $IGW, not $PCX_MAIN" "replace-route --route-table-id $RTB_ISO"
else not_ok "build igw"; fi

if build sg_missing; then
    probe
    expect_line "missing security group ingress: FAIL" FAIL sg "$SG_DB" \
        "no ingress rule of $SG_DB allows tcp/5432 from 10.10.1.0/24" \
        "authorize-security-group-ingress --group-id $SG_DB --protocol tcp --port 5432 --cidr 10.10.1.0/24"
else not_ok "build sg_missing"; fi

# ---- authentication ----
AWS_SECRET_ACCESS_KEY=wrong-secret-key-0000000000000000000000 probe
expect_eq "wrong secret key: exit 1 (EC2 API unusable)" 1 "$rc"
expect_line "wrong secret key: authentication failure" FAIL peering "EC2 API" "authentication failure" \
    "check the AWS credentials"
if grep -q "$MOTO_SECRET\|wrong-secret-key" "$tmp/out" "$tmp/err"; then
    not_ok "no secret in the output"
else
    ok "no secret in the output"
fi

# ---- repair ----
if build repairable; then
    probe
    expect_eq "repairable faults: FAIL before repair" 3 "$rc"
    probe --repair
    if grep -q "^plan	accept peering $PCX_MAIN" "$tmp/out" &&
        grep -q "^plan	enable remote VPC DNS resolution on the requester and accepter sides of peering $PCX_MAIN" "$tmp/out" &&
        grep -q "^plan	create route 10.10.0.0/16 -> $PCX_MAIN in $RTB_ISO" "$tmp/out"; then
        ok "--repair plans accept, DNS and route"
    else
        not_ok "--repair plans accept, DNS and route" "$(cat "$tmp/out" "$tmp/err")"
    fi
    probe
    expect_eq "--repair without --yes changes nothing" 3 "$rc"
    probe --repair --yes
    expect_eq "--repair --yes applies every action" 0 "$rc"
    expect_eq "--repair --yes: three actions done" 3 "$(grep -c '^applied	.*	done$' "$tmp/out")"
    probe
    expect_eq "after repair: exit 0" 0 "$rc"
    expect_eq "after repair: no FAIL" 0 "$(fails)"
    expect_line "after repair: DNS enabled" PASS dns-option "$PCX_MAIN" "requester and accepter"
    probe --repair
    expect_eq "after repair: nothing left to plan" 0 "$(grep -c '^plan' "$tmp/out")"
else not_ok "build repairable"; fi

# the igw route is drift --repair must not touch (it would replace a route)
if build igw; then
    probe --repair --yes
    if grep -q "^note	route $RTB_ISO 10.10.0.0/16 goes via $IGW" "$tmp/out" && ! grep -q '^plan' "$tmp/out"; then
        ok "--repair never replaces a route"
    else
        not_ok "--repair never replaces a route" "$(cat "$tmp/out")"
    fi
    probe
    expect_line "igw route still reported" FAIL route "$RTB_ISO -> 10.10.0.0/16" "via $IGW"
else not_ok "build igw (repair)"; fi

done_testing
