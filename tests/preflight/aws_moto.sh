#!/usr/bin/env bash
# tests/preflight/aws_moto.sh: the AWS preflight checks and --repair of the real command
# line (`anonetl preflight -c CONFIG --only peering,dns-option,route,sg [--json]
# [--repair [--yes]]`) against a local moto server (127.0.0.1 only) with SigV4 signature
# checking on: the config's aws: section names moto as aws.endpoint, the credentials are
# an IAM user's keys in the environment.
#
# One copy of the seed topology per case (tests/preflight/lib/aws_topology.py, all built
# at once): main VPC <-> isolated VPC accepted with DNS both ways; isolated VPC -> data
# team VPC in account 222222222222, region eu-west-1, pending. Each copy has at most one
# fault: pending peering, DNS option off, missing route, blackhole route (moto never
# marks a route blackhole itself, so it is a route whose peering was deleted), route via
# the wrong target (internet gateway, a wider internet gateway route, the other
# peering), missing security group ingress. Each must be a FAIL in the right group with a
# remediation naming the fix; the healthy copy exits 0; a wrong secret key is an
# authentication failure (exit 3). --repair prints the plan and changes nothing (the
# state is read back with botocore); --repair --yes applies it and a second preflight
# exits 0. The database is never tried with --only of the AWS groups (a listener on the
# DSN's socket counts connections). Where build/asan/anonetl exists, the repair runs
# once more under ASan+UBSan.
#
# The path analysis (issue 12): one layout per reproduction of the issue, each in its own
# region of the same moto (tests/preflight/lib/aws_path_topology.py: two job subnets, an
# RDS-like interface in the peer VPC, custom network ACLs, a managed prefix list, a transit
# gateway, a database in the data team's account), each with its expected verdict; the job's
# identity from aws.job or the fake ECS v4 / IMDSv2 server (lib/fake_job_metadata.py); the
# number of EC2 API calls compared between a healthy layout and one with many routes and
# rules; the time of a whole AWS preflight of a healthy layout (< 5 s); the DNS option with
# names resolved from a private hosts file (unshare -m, no packet sent).
#
# No request may leave loopback: AWS_EC2_METADATA_DISABLED=true, static keys, and
# AWS_ENDPOINT_URL(_EC2) point at a closed loopback port, so a request that ignored
# aws.endpoint fails here instead of going anywhere.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/tap.sh
. tests/lib/poll.sh
. tests/preflight/lib/moto.sh

ANONETL=${ANONETL:-./anonetl}
ASAN_BIN=build/asan/anonetl
TOPO=tests/preflight/lib/aws_topology.py
AWS_GROUPS=peering,dns-option,route,sg

if ! moto_find_python 2>/dev/null; then
    skip "preflight against moto" "$(moto_skip_reason)"
    done_testing
    exit 0
fi
# the interpreter itself, not a pyenv shim: it runs a few dozen times
PY=$("$MOTO_PYTHON" -c 'import sys; print(sys.executable)') || PY=$MOTO_PYTHON
if [ ! -x "$ANONETL" ]; then
    make --no-print-directory anonetl >/dev/null 2>&1 || { not_ok "build $ANONETL"; done_testing; exit 1; }
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/aws_moto.XXXXXX")
LISTENER_PID=
cleanup() {
    moto_stop
    [ -n "${MD_PID:-}" ] && kill "$MD_PID" 2>/dev/null
    [ -n "${FS_PID:-}" ] && kill "$FS_PID" 2>/dev/null
    [ -n "$LISTENER_PID" ] && kill "$LISTENER_PID" 2>/dev/null && wait "$LISTENER_PID" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT

aws_env_isolate "$tmp"
export AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_CONFIG_FILE=/dev/null

# 3 unsigned actions for our IAM user, 3 for the data team's; then signatures are checked.
if ! moto_start 6 || ! moto_create_user anonetl; then
    not_ok "moto starts with signature checking"
    done_testing
    exit 1
fi
export AWS_ACCESS_KEY_ID=$MOTO_AKID AWS_SECRET_ACCESS_KEY=$MOTO_SECRET
DEAD_URL="http://127.0.0.1:$(_moto_free_port)" # nothing listens there
export AWS_ENDPOINT_URL=$DEAD_URL AWS_ENDPOINT_URL_EC2=$DEAD_URL
WRONG_SECRET=wrong-secret-key-0000000000000000000000

LABELS="none pending dns_off missing_route blackhole igw igw_wide wrong_pcx sg_missing repairable"
if [ -x "$ASAN_BIN" ]; then LABELS="$LABELS asan=repairable"; fi
# the path analysis layouts (issue 12), one region each: tests/preflight/lib/aws_path_topology.py
PATH_LABELS="p_ok p_sg_group p_sg_cidr_cfg_group p_sg_prefix_list p_sg_wrong_subnet
 p_route_specific_pcx p_route_specific_blackhole p_route_other_table p_route_pl p_tgw_allowed
 p_tgw_denied p_no_return p_nacl_no_ephemeral p_nacl_linux_only p_nacl_deny_first p_sg_egress
 p_cross_account p_many p_overlap_db p_overlap_job p_xacct_overlap p_route_pl_inner p_appliance
 p_egress_ref_hidden p_nacl_cis p_tgw_no_route p_tgw_blackhole p_standby p_route_main_table
 p_lab p_rtlab p_xregion"
# (every region is taken: these sit beside a layout of the reference plan, at the netns
# plan's addresses, see aws_topology.py cmd_build)
PATH_BESIDE="p_tgw_zone=n_tgw_zone@p_tgw_allowed p_tgw_zone_back=n_tgw_zone_back@p_tgw_blackhole
 p_tgw_sg_ref=n_tgw_sg_ref@p_tgw_denied p_tgw_sg_pcx=n_tgw_sg_pcx@p_tgw_no_route
 p_tgw_nacl=n_tgw_nacl@p_route_pl"
# shellcheck disable=SC2086 # word splitting of LABELS is wanted
if ids=$(MOTO_URL=$MOTO_URL "$PY" "$TOPO" build --data-user $LABELS $PATH_LABELS $PATH_BESIDE \
    2>"$tmp/topo.err"); then
    eval "$ids"
    ok "topologies built with botocore (signature checking on, data team in its own account)"
else
    not_ok "build the topologies" "$(cat "$tmp/topo.err")"
    done_testing
    exit 1
fi

# ---- the config ------------------------------------------------------------------------
# A listener on the socket of the config's DSNs: it records every connection, so the
# AWS-only runs can be shown never to try the database.
mkdir -p "$tmp/pg"
"$PY" - "$tmp/pg/.s.PGSQL.5432" "$tmp/pg/connections" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1])
s.listen(8)
while True:
    c, _ = s.accept()
    with open(sys.argv[2], "a") as f:
        f.write("connection\n")
    c.close()
PY
LISTENER_PID=$!
: >"$tmp/pg/connections"
poll_until 60 test -S "$tmp/pg/.s.PGSQL.5432"
[ -S "$tmp/pg/.s.PGSQL.5432" ] || not_ok "the socket listener starts"

# use LABEL: PCX_MAIN PCX_DATA RTB_ISO RTB_MAIN SG_DB IGW of LABEL's topology
use() {
    local v n
    for v in PCX_MAIN PCX_DATA RTB_ISO RTB_MAIN SG_DB IGW; do
        n=${1}_$v
        printf -v "$v" '%s' "${!n}"
    done
}

# config LABEL: $tmp/LABEL.yaml, the seed config's aws: section over LABEL's topology
config() {
    use "$1"
    cat >"$tmp/$1.yaml" <<YAML
version: 1
source:
  dsn: "host=$tmp/pg port=5432 dbname=src user=reader"
target:
  dsn: "host=$tmp/pg port=5432 dbname=tgt user=writer"
secrets:
  hash_key: { env: ANONETL_HASH_KEY }
aws:
  region: us-east-1
  endpoint: $MOTO_URL
  peerings:
    - id: $PCX_MAIN                 # main VPC <-> isolated VPC (same account)
      dns_resolution: true
    - id: $PCX_DATA                 # isolated VPC <-> data team VPC (other account)
      dns_resolution: requester
      required: false
  routes:
    - { route_table: $RTB_ISO, destination: 10.10.0.0/16, peering: $PCX_MAIN }
    - { route_table: $RTB_MAIN, destination: 10.20.0.0/16, peering: $PCX_MAIN }
    - { route_table: $RTB_ISO, destination: 10.30.0.0/16, peering: $PCX_DATA }
  security_groups:
    - { group: $SG_DB, port: 5432, from: 10.10.1.0/24 }
tables:
  - name: public.people
    columns:
      id: keep
      email: { hash: {} }
YAML
}
for l in $LABELS; do config "${l%%=*}"; done

# pf LABEL [ARGS...]: `anonetl preflight` on LABEL's config, groups $ONLY (default: the
# AWS groups); stdout in $tmp/out, stderr in $tmp/err, status in $rc; all output is kept
# in $tmp/all for the secret check. BIN overrides the binary.
pf() {
    local l=$1
    shift
    "${BIN:-$ANONETL}" preflight -c "$tmp/$l.yaml" --only "${ONLY:-$AWS_GROUPS}" "$@" \
        >"$tmp/out" 2>"$tmp/err"
    rc=$?
    cat "$tmp/out" "$tmp/err" >>"$tmp/all"
}

# state LABEL: the topology's resources as botocore reads them (aws_topology.py state)
state() {
    use "$1"
    MOTO_URL=$MOTO_URL "$PY" "$TOPO" state "$PCX_MAIN" "$PCX_DATA" "$RTB_ISO" \
        "$RTB_MAIN" "$SG_DB"
}

# Questions about the --json report in $tmp/out:
#   find STATUS GROUP SUBJECT_PART DETAIL_PART [FIX_PART...]   exit 0 when a check matches
#   failing                  the groups with a FAIL, sorted, comma-separated
#   groups                   every group reported, sorted, comma-separated
#   repair                   "applied=BOOL", then "STATE<TAB>ACTION" and "note<TAB>NOTE"
PFQ='
import json, sys
what, args = sys.argv[2], sys.argv[3:]
try:
    doc = json.load(open(sys.argv[1]))
except ValueError as e:
    sys.exit("not JSON (%s): %s" % (e, open(sys.argv[1]).read()[:2000]))
checks = doc["checks"]
if what == "find":
    status, group, subject, detail, fixes = args[0], args[1], args[2], args[3], args[4:]
    for c in checks:
        if (c["status"] == status and c["group"] == group and subject in c["subject"]
                and detail in c["detail"] and all(f in c["remediation"] for f in fixes)):
            sys.exit(0)
    print("no %s %s check for %r with detail %r and remediation %r; %s checks:" % (
        status, group, subject, detail, fixes, group))
    for c in checks:
        if c["group"] == group:
            print("  %(status)s %(subject)s: %(detail)s | %(remediation)s" % c)
    sys.exit(1)
elif what == "failing":
    print(",".join(sorted({c["group"] for c in checks if c["status"] == "FAIL"})))
elif what == "groups":
    print(",".join(sorted({c["group"] for c in checks})))
elif what == "calls":
    print(doc.get("ec2_api_calls", "none"))
elif what == "fix":
    group, subject = args[0], args[1]
    print("\n".join(c["remediation"] for c in checks if c["group"] == group and subject in c["subject"]))
elif what == "detail":
    group, subject = args[0], args[1]
    print("\n".join(c["detail"] for c in checks if c["group"] == group and subject in c["subject"]))
elif what == "status":
    group, subject = args[0], args[1]
    print(" ".join(c["status"] for c in checks if c["group"] == group and subject in c["subject"]))
elif what == "path":
    print(",".join("%s=%s" % (c["group"][5:], c["status"]) for c in checks
                   if c["group"].startswith("path.") and args[0] in c["subject"]))
elif what == "schema":
    # every path.* check: endpoint (first word of the subject), object, rule, status, fix
    bad = []
    for c in checks:
        if not c["group"].startswith("path."):
            continue
        where = "%(status)s %(group)s %(subject)s" % c
        for k in ("group", "subject", "status", "detail", "remediation", "endpoint", "object",
                  "rule"):
            if k not in c:
                bad.append("%s: no %s" % (where, k))
        if c.get("endpoint") != c["subject"].split(" ")[0] or not c.get("object"):
            bad.append("%s: endpoint %r object %r" % (where, c.get("endpoint"), c.get("object")))
        if c["status"] not in ("PASS", "SKIP", "INFO") and not c["remediation"]:
            bad.append("%s: no fix" % where)
        decided = c["status"] == "PASS" and c["group"] not in ("path.job", "path.database")
        if (decided or ("nacl" in c["group"] and c["status"] != "SKIP")) and not c.get("rule"):
            bad.append("%s: no deciding rule" % where)
    print("\n".join(bad) if bad else "ok")
elif what == "repair_calls":
    print((doc.get("repair") or {}).get("ec2_api_calls", "none"))
elif what == "repair":
    r = doc.get("repair") or {}
    print("applied=%s" % str(r.get("applied")).lower())
    for a in r.get("actions", []):
        print("%s\t%s" % (a["state"], a["action"]))
    for n in r.get("notes", []):
        print("note\t%s" % n)
'
pfq() { "$PY" -c "$PFQ" "$tmp/out" "$@"; }

# expect_check NAME STATUS GROUP SUBJECT_PART DETAIL_PART [FIX_PART...]
expect_check() {
    local name=$1 why
    shift
    if why=$(pfq find "$@" 2>&1); then ok "$name"; else not_ok "$name" "$why"; fi
}

# expect_fault NAME LABEL FAILING_GROUPS: `preflight --json` exits 3 and FAILs exactly there
expect_fault() {
    use "$2"
    pf "$2" --json
    expect_eq "$1: exit 3" 3 "$rc"
    expect_eq "$1: FAIL only in $3" "$3" "$(pfq failing 2>&1)"
}

# ---- healthy ---------------------------------------------------------------------------
use none
pf none --json
expect_eq "healthy topology: exit 0" 0 "$rc"
expect_eq "healthy topology: no FAIL" "" "$(pfq failing 2>&1)"
expect_eq "--only the AWS groups: no database check reported" "dns-option,peering,route,sg" \
    "$(pfq groups 2>&1)"
expect_check "healthy: main peering active" PASS peering "$PCX_MAIN" "active: vpc-"
expect_check "healthy: DNS both sides" PASS dns-option "$PCX_MAIN" "requester and accepter"
expect_check "healthy: route to the main VPC via the peering" PASS route \
    "$RTB_ISO -> 10.10.0.0/16" "via $PCX_MAIN"
expect_check "healthy: route back via the peering" PASS route "$RTB_MAIN -> 10.20.0.0/16" \
    "via $PCX_MAIN"
expect_check "healthy: security group" PASS sg "$SG_DB tcp/5432 from 10.10.1.0/24" "tcp 5432-5432"
if [ "$DATA_CROSS_ACCOUNT" = yes ]; then
    expect_check "data team peering (other account, not required): WARN naming the accepter" \
        WARN peering "$PCX_DATA" "account 222222222222 must accept it in region eu-west-1" \
        "accept-vpc-peering-connection --vpc-peering-connection-id $PCX_DATA --region eu-west-1"
else
    expect_check "data team peering (not required): WARN" WARN peering "$PCX_DATA" \
        "pending-acceptance"
fi
expect_check "route over the pending data team peering: WARN, not FAIL" WARN route \
    "$RTB_ISO -> 10.30.0.0/16" "pending-acceptance"

pf none
if [ "$rc" = 0 ] && grep -q '^STATUS  *CHECK  *SUBJECT  *DETAIL$' "$tmp/out" &&
    grep -q "^PASS  *peering  *$PCX_MAIN  *active" "$tmp/out" &&
    grep -q '^[0-9]* passed, [0-9]* warnings, 0 failed' "$tmp/out" &&
    ! grep -q $'\033' "$tmp/out"; then
    ok "healthy topology, table output: exit 0, aligned rows, no colour off a terminal"
else
    not_ok "healthy topology, table output" "rc=$rc $(cat "$tmp/out" "$tmp/err")"
fi

# ---- one fault each ----------------------------------------------------------------------
expect_fault "pending peering" pending peering,route
expect_check "pending peering: FAIL naming the account and region that must accept" \
    FAIL peering "$PCX_MAIN" \
    "pending-acceptance: account 123456789012 must accept it in region us-east-1" \
    "anonetl preflight --repair --yes" \
    "aws ec2 accept-vpc-peering-connection --vpc-peering-connection-id $PCX_MAIN --region us-east-1"
expect_check "pending peering: the routes over it are dropped" FAIL route \
    "$RTB_ISO -> 10.10.0.0/16" "peering is pending-acceptance: traffic is dropped" \
    "fix the peering first"

pf pending
if [ "$rc" = 3 ] && grep -q "^FAIL  *peering  *$PCX_MAIN  *pending-acceptance" "$tmp/out" &&
    grep -q "^  *anonetl preflight --repair --yes, or account 123456789012 accepts" "$tmp/out" &&
    grep -q '^[0-9]* passed, [0-9]* warnings, 3 failed' "$tmp/out"; then
    ok "pending peering, table output: exit 3, FAIL row and its remediation line"
else
    not_ok "pending peering, table output" "rc=$rc $(cat "$tmp/out" "$tmp/err")"
fi

expect_fault "DNS option off" dns_off dns-option
expect_check "DNS option off: FAIL with the repair and the aws CLI command" FAIL dns-option \
    "$PCX_MAIN" "off on the requester and accepter sides" "anonetl preflight --repair --yes" \
    "modify-vpc-peering-connection-options --vpc-peering-connection-id $PCX_MAIN"

expect_fault "missing route" missing_route route
expect_check "missing route: FAIL with create-route" FAIL route "$RTB_ISO -> 10.10.0.0/16" \
    "no route in $RTB_ISO covers 10.10.0.0/16" "anonetl preflight --repair --yes" \
    "create-route --route-table-id $RTB_ISO --destination-cidr-block 10.10.0.0/16 --vpc-peering-connection-id $PCX_MAIN"

expect_fault "blackhole route" blackhole peering,route
expect_check "route to a deleted peering: FAIL blackhole" FAIL route "$RTB_ISO -> 10.10.0.0/16" \
    "peering is deleted: traffic is dropped (blackhole)" "fix the peering first"
expect_check "deleted peering: FAIL, a new one is needed" FAIL peering "$PCX_MAIN" "deleted" \
    "create a new one"

expect_fault "route via the internet gateway" igw route
expect_check "route via the internet gateway: FAIL naming it, replace-route" FAIL route \
    "$RTB_ISO -> 10.10.0.0/16" "via $IGW, not $PCX_MAIN" \
    "replace-route --route-table-id $RTB_ISO --destination-cidr-block 10.10.0.0/16 --vpc-peering-connection-id $PCX_MAIN"

expect_fault "wider route via the internet gateway" igw_wide route
expect_check "longest match 10.0.0.0/8 via the internet gateway: FAIL, add the specific route" \
    FAIL route "$RTB_ISO -> 10.10.0.0/16" "takes route 10.0.0.0/8 via $IGW, not $PCX_MAIN" \
    "add the more specific route" \
    "create-route --route-table-id $RTB_ISO --destination-cidr-block 10.10.0.0/16 --vpc-peering-connection-id $PCX_MAIN"

expect_fault "route via the other peering" wrong_pcx route
expect_check "route via the data team peering: FAIL naming it" FAIL route \
    "$RTB_ISO -> 10.10.0.0/16" "via $PCX_DATA, not $PCX_MAIN" "replace-route --route-table-id $RTB_ISO"

expect_fault "missing security group ingress" sg_missing sg
expect_check "missing security group ingress: FAIL with the authorize command" FAIL sg "$SG_DB" \
    "no ingress rule of $SG_DB allows tcp/5432 from 10.10.1.0/24" \
    "authorize-security-group-ingress --group-id $SG_DB --protocol tcp --port 5432 --cidr 10.10.1.0/24"

# --only picks groups: the sg fault is not seen by --only route, and --only sg sees only it
ONLY=route pf sg_missing --json
expect_eq "--only route: exit 0 past the security group fault" 0 "$rc"
expect_eq "--only route: route checks only" route "$(pfq groups 2>&1)"
ONLY=sg pf sg_missing --json
expect_eq "--only sg: exit 3, sg checks only" "3 sg" "$rc $(pfq groups 2>&1)"

# ---- authentication ----------------------------------------------------------------------
AWS_SECRET_ACCESS_KEY=$WRONG_SECRET pf none --json
expect_eq "wrong secret key: exit 3" 3 "$rc"
expect_check "wrong secret key: FAIL, authentication failure" FAIL peering "EC2 API" \
    "authentication failure" "check the AWS credentials"
AWS_SECRET_ACCESS_KEY=$WRONG_SECRET ONLY=sg pf none --json
expect_eq "wrong secret key, --only sg: exit 3 (an unusable EC2 API is never a pass)" 3 "$rc"
expect_check "wrong secret key, --only sg: the authentication failure is reported" FAIL peering \
    "EC2 API" "authentication failure"
AWS_SECRET_ACCESS_KEY=$WRONG_SECRET pf repairable --repair --yes
if [ "$rc" = 3 ] && grep -q "authentication failure" "$tmp/err" && ! grep -q "^  done" "$tmp/out"; then
    ok "wrong secret key: --repair --yes exits 3 with the authentication failure, nothing done"
else
    not_ok "wrong secret key: --repair --yes" "rc=$rc $(cat "$tmp/out" "$tmp/err")"
fi

# ---- repair ------------------------------------------------------------------------------
before=$(state repairable)
use repairable
expect_fault "repairable faults (pending, DNS off, missing route)" repairable peering,route
expect_check "repairable: missing route reported" FAIL route "$RTB_ISO -> 10.10.0.0/16" \
    "no route in $RTB_ISO covers 10.10.0.0/16"

pf repairable --repair
plan_ok=yes
for want in "Repair plan (3 actions):" \
    "  - accept peering $PCX_MAIN (requester " \
    "  - enable remote VPC DNS resolution on the requester and accepter sides of peering $PCX_MAIN" \
    "  - create route 10.10.0.0/16 -> $PCX_MAIN in $RTB_ISO" \
    "  not repaired here: peering $PCX_DATA: " \
    "Run again with --repair --yes to apply it."; do
    grep -qF -- "$want" "$tmp/out" || plan_ok="no: lacks '$want'"
done
if [ "$rc" = 3 ] && [ "$plan_ok" = yes ]; then
    ok "--repair: exit 3, prints the plan (accept, DNS, route; the data team peering as a note)"
else
    not_ok "--repair prints the plan" "rc=$rc $plan_ok
$(cat "$tmp/out" "$tmp/err")"
fi
pf repairable --repair --json
expect_eq "--repair --json: the plan, not applied" "3 applied=false planned planned planned" \
    "$rc $(pfq repair 2>&1 | grep -v '^note' | cut -f1 | tr '\n' ' ' | sed 's/ $//')"
after=$(state repairable)
if [ -n "$before" ] && [ "$before" = "$after" ]; then
    ok "--repair without --yes changes nothing (state read back with botocore)"
else
    not_ok "--repair without --yes changes nothing" "$(diff <(echo "$before") <(echo "$after"))"
fi

pf repairable --repair --yes
if [ "$rc" = 0 ] && [ "$(grep -c '^  done ' "$tmp/out")" = 3 ] &&
    grep -q '^After the repair:' "$tmp/out" && grep -q '^[0-9]* passed, [0-9]* warnings, 0 failed' "$tmp/out"; then
    ok "--repair --yes: three actions done, exit 0 on the state after the repair"
else
    not_ok "--repair --yes applies the plan" "rc=$rc $(cat "$tmp/out" "$tmp/err")"
fi
after=$(state repairable)
if grep -qx "peering $PCX_MAIN active requester_dns=true accepter_dns=true" <<<"$after" &&
    grep -qx "route $RTB_ISO 10.10.0.0/16 $PCX_MAIN active" <<<"$after"; then
    ok "--repair --yes: peering accepted, DNS on both sides, route created (botocore)"
else
    not_ok "--repair --yes changed the topology" "$after"
fi
# nothing deleted or replaced: every route, rule and the data team peering are as before
kept=$(comm -23 <(grep -v "^peering $PCX_MAIN " <<<"$before" | sort) <(sort <<<"$after"))
expect_eq "--repair --yes: nothing else changed, nothing deleted" "" "$kept"
pf repairable --json
expect_eq "second preflight after the repair: exit 0" 0 "$rc"
expect_eq "second preflight after the repair: no FAIL" "" "$(pfq failing 2>&1)"
pf repairable --repair
if [ "$rc" = 0 ] && grep -q '^  nothing to repair$' "$tmp/out"; then
    ok "after the repair: nothing left to plan"
else
    not_ok "after the repair: nothing left to plan" "rc=$rc $(cat "$tmp/out")"
fi

# the route via the internet gateway is drift --repair must not touch (it would replace it)
before=$(state igw)
use igw
pf igw --repair --yes --json
after=$(state igw)
repair=$(pfq repair 2>&1)
if [ "$rc" = 3 ] && [ "$before" = "$after" ] &&
    grep -q "^note	route $RTB_ISO 10.10.0.0/16 goes via $IGW .*never replaces a route" <<<"$repair" &&
    [ "$(grep -vc '^note\|^applied' <<<"$repair")" = 0 ]; then
    ok "--repair --yes never replaces a route: a note, no action, state unchanged, exit 3"
else
    not_ok "--repair never replaces a route" "rc=$rc $repair
$(diff <(echo "$before") <(echo "$after"))"
fi

# a wider route via the internet gateway: --repair adds the more specific one (longest match)
use igw_wide
pf igw_wide --repair --yes
if [ "$rc" = 0 ] && grep -qF "done    create route 10.10.0.0/16 -> $PCX_MAIN in $RTB_ISO" "$tmp/out" &&
    grep -qx "route $RTB_ISO 10.0.0.0/8 $IGW active" <<<"$(state igw_wide)"; then
    ok "--repair --yes adds the more specific route, keeps the wide one, exit 0"
else
    not_ok "--repair --yes on a wide internet gateway route" "rc=$rc $(cat "$tmp/out" "$tmp/err")"
fi

# --repair plans from one batched fetch, like the checks: the number of EC2 calls does not
# grow with the peerings and routes configured (it was one call per peering, per route and
# per group)
use none
pf none --repair --json
calls_few=$(pfq repair_calls 2>&1)
awk -v rtb="$RTB_ISO" -v pcx="$PCX_MAIN" '{ print }
    /^  routes:$/ { for (i = 1; i <= 6; i++)
        printf "    - { route_table: %s, destination: 10.10.%d.0/24, peering: %s }\n", rtb, i, pcx }' \
    "$tmp/none.yaml" >"$tmp/none_many.yaml"
pf none_many --repair --json
expect_eq "--repair: 9 routes and 2 peerings planned with as many EC2 calls as 3 routes" \
    "3 3" "$calls_few $(pfq repair_calls 2>&1)"
expect_eq "... and the 6 more routes, inside the /16 via the peering, need nothing" \
    "applied=false" "$(pfq repair 2>&1 | grep -v '^note')"

# ---- the path analysis (issue 12) --------------------------------------------------------
# Layouts of tests/preflight/lib/aws_path_topology.py, one region each, with the addresses of
# the config reference: the job at 10.20.2.15 (job subnet b of 10.20.0.0/16), the source
# database's interface at 10.10.5.20 (RDS-like, peer VPC 10.10.0.0/16), the target's at
# 10.20.3.30 (the job's VPC). `--only path` makes no live probe: the job comes from aws.job
# (or the fake metadata server), the databases from network.endpoints[].ip.

# pconfig LABEL: $tmp/LABEL.yaml over LABEL's path layout. Env: NOJOB=1 (no aws.job), JOBIP
# (aws.job.ip, default 10.20.2.15), SRCHOST / TGTHOST (the DSNs' host, a list allowed),
# SRCCIDR (the source's expect_cidr), ROUTE (one more aws.routes entry, its inner text),
# FROM (aws.security_groups[].from, default 10.20.0.0/16), TGWS (aws.transit_gateways),
# DNSOPT (the peering's dns_resolution), NODB=1 (no configured route/group of the database
# side: another account's), SRCIP (the source's network.endpoints[].ip, default 10.10.5.20),
# DATAPCX (the data team's peering, required: false), TGTIP (the target's
# network.endpoints[].ip, default 10.20.3.30).
pconfig() {
    local v n
    for v in REGION PCX RTB_JOB RTB_DB SG_DB SG_JOB TGW RTB_OTHER ACL_DB ACL_JOB PL_JOBS PL_DBS \
        PCX_OTHER SUBNET_B JOB_ENI DB_ENI DB_VPC SG_TGT FW_ENI TGW_RTB TGW_ATT_DB STANDBY_ENI \
        SUBNET_STANDBY; do
        n=${1}_$v
        printf -v "$v" '%s' "${!n:-}"
    done
    {
        cat <<YAML
version: 1
source:
  dsn: "host=${SRCHOST:-db.path.test} port=5432 dbname=src user=reader"
target:
  dsn: "host=${TGTHOST:-tgt.path.test} port=5432 dbname=tgt user=writer"
secrets:
  hash_key: { env: ANONETL_HASH_KEY }
aws:
  region: $REGION
  endpoint: $MOTO_URL
YAML
        [ -n "${NOJOB:-}" ] || echo "  job: { ip: ${JOBIP:-10.20.2.15} }"
        [ -z "${TGWS:-}" ] || echo "  transit_gateways: [$TGWS]"
        echo "  peerings:"
        echo "    - { id: $PCX${DNSOPT:+, dns_resolution: $DNSOPT} }"
        [ -z "${DATAPCX:-}" ] || echo "    - { id: $DATAPCX, required: false }"
        echo "  routes:"
        echo "    - { route_table: $RTB_JOB, destination: 10.10.0.0/16, peering: $PCX }"
        [ -n "${NODB:-}" ] ||
            echo "    - { route_table: $RTB_DB, destination: 10.20.0.0/16, peering: $PCX }"
        [ -z "${ROUTE:-}" ] || echo "    - { $ROUTE }"
        if [ -z "${NODB:-}" ]; then
            echo "  security_groups:"
            echo "    - { group: $SG_DB, port: 5432, from: ${FROM:-10.20.0.0/16} }"
        fi
        cat <<YAML
network:
  endpoints:
    - { name: source, expect_cidr: ${SRCCIDR:-10.10.0.0/16}, ip: ${SRCIP:-10.10.5.20} }
    - { name: target, expect_cidr: 10.20.0.0/16, ip: ${TGTIP:-10.20.3.30} }
tables:
  - name: public.people
    columns:
      id: keep
YAML
    } >"$tmp/$1.yaml"
}
for l in $PATH_LABELS; do pconfig "$l"; done

# pfns HOSTS_LINE LABEL ARGS...: pf with /etc/hosts replaced in a private mount namespace
# (no packet sent to resolve a name); PORTRANGE="LO HI" also replaces this host's
# net.ipv4.ip_local_port_range, the job's client ports as the preflight reads them
# (PORTRANGE=none: an empty file, the range unknown). Only where `unshare -m` works.
HAVE_UNSHARE=
if unshare -m sh -c 'mount --bind /dev/null /proc/sys/net/ipv4/ip_local_port_range' 2>/dev/null; then
    HAVE_UNSHARE=1
fi
pfns() {
    local line=$1 l=$2 range=
    shift 2
    printf '127.0.0.1 localhost\n%s\n10.20.3.30 tgt.path.test\n' "$line" >"$tmp/hosts"
    if [ -n "${PORTRANGE:-}" ]; then
        range=$tmp/portrange
        if [ "$PORTRANGE" = none ]; then : >"$range"; else printf '%s\n' "$PORTRANGE" >"$range"; fi
    fi
    unshare -m sh -c 'mount --bind "$1" /etc/hosts && { [ -z "$2" ] ||
        mount --bind "$2" /proc/sys/net/ipv4/ip_local_port_range; } && shift 2 && exec "$@"' \
        sh "$tmp/hosts" "$range" "${BIN:-$ANONETL}" preflight -c "$tmp/$l.yaml" --only "$ONLY" "$@" \
        >"$tmp/out" 2>"$tmp/err"
    rc=$?
    cat "$tmp/out" "$tmp/err" >>"$tmp/all"
}

# expect_path NAME LABEL ONLY WANT_RC WANT_FAILING: `preflight --only ONLY --json` on LABEL
expect_path() {
    pconfig "$2"
    ONLY=$3 pf "$2" --json
    if [ "$rc" = "$4" ] && [ "$(pfq failing 2>&1)" = "$5" ]; then
        ok "$1: exit $4, FAIL in '${5:-nothing}'"
    else
        not_ok "$1: exit $4, FAIL in '${5:-nothing}'" "rc=$rc failing=$(pfq failing 2>&1)
$(pfq path source 2>&1) $(head -c 3000 "$tmp/out") $(cat "$tmp/err")"
    fi
}

# -- healthy: every hop, both directions, both databases
expect_path "path, healthy layout" p_ok path 0 ""
pconfig p_ok
ONLY=path pf p_ok --json
expect_eq "path, healthy: every hop of the source PASSes, in packet order" \
    "database=PASS,route=PASS,sg-egress=PASS,job-nacl-out=PASS,db-nacl-in=PASS,sg-ingress=PASS,db-nacl-out=PASS,route-back=PASS,job-nacl-in=PASS" \
    "$(pfq path source 2>&1)"
expect_eq "path, healthy: the target in the job's VPC too (local route, group reference)" \
    "database=PASS,route=PASS,sg-egress=PASS,job-nacl-out=PASS,db-nacl-in=PASS,sg-ingress=PASS,db-nacl-out=PASS,route-back=PASS,job-nacl-in=PASS" \
    "$(pfq path target 2>&1)"
expect_eq "--only path: only path.* checks" \
    "path.database,path.db-nacl-in,path.db-nacl-out,path.job,path.job-nacl-in,path.job-nacl-out,path.route,path.route-back,path.sg-egress,path.sg-ingress" \
    "$(pfq groups 2>&1)"
expect_check "path.job: where the job runs, from aws.job" PASS path.job "job 10.20.2.15" \
    "10.20.2.15 on $p_ok_JOB_ENI in $p_ok_SUBNET_B"
expect_check "path.database: the RDS-like interface that owns 10.10.5.20" PASS path.database \
    "source $p_ok_DB_ENI" "\"RDSNetworkInterface\""
expect_check "path.route: the job subnet's table, longest match on the database address" PASS \
    path.route "source $p_ok_RTB_JOB" "to 10.10.5.20 takes route 10.10.0.0/16 via $p_ok_PCX (active"
expect_check "path.job-nacl-out: the ACL rule that decided" PASS path.job-nacl-out \
    "source $p_ok_ACL_JOB" "rule 100 allow tcp 5432 to 10.10.0.0/16"
expect_check "path.db-nacl-out: replies on the job's client ports" PASS path.db-nacl-out \
    "source $p_ok_ACL_DB" "replies to 10.20.2.15 pass on the job's client ports"
expect_check "path.route-back: the database subnet routes the job back via the peering" PASS \
    path.route-back "source $p_ok_RTB_DB" "to 10.20.2.15 takes route 10.20.0.0/16 via $p_ok_PCX"
calls_ok=$(pfq calls 2>&1)
case "$calls_ok" in [1-9] | [1-9][0-9]) ok "--json reports the EC2 API calls ($calls_ok)" ;;
*) not_ok "--json reports the EC2 API calls" "$calls_ok" ;; esac

# -- false FAIL: the group allows each job subnet, the config says 10.20.0.0/16
expect_path "SG allows each job subnet, config says the /16" p_ok sg 0 ""
expect_check "SG judged on the job's real address" PASS sg "$p_ok_SG_DB tcp/5432 from 10.20.0.0/16" \
    "by an ingress rule tcp 5432-5432 from 10.20.2.0/24"
NOJOB=1 expect_path "SG per job subnet, job unknown: a WARN (part of the /16), not a FAIL" p_ok sg 0 ""
expect_check "job unknown: the rules cover only part of from" WARN sg "$p_ok_SG_DB" \
    "cover only part of 10.20.0.0/16" "set aws.job"
expect_path "SG rule names the job's group (peer VPC, over the peering)" p_sg_group sg,path 0 ""
expect_check "SG by group reference" PASS sg "$p_sg_group_SG_DB" \
    "from $p_sg_group_SG_JOB (peer VPC, $p_sg_group_PCX)"
pconfig p_sg_cidr_cfg_group
FROM=$p_sg_cidr_cfg_group_SG_JOB expect_path "SG allows the job's CIDR, config names its group" \
    p_sg_cidr_cfg_group sg 0 ""
expect_path "SG rule is a managed prefix list of the job subnets" p_sg_prefix_list sg,path 0 ""
expect_check "SG by prefix list, expanded with GetManagedPrefixListEntries" PASS path.sg-ingress \
    "source" "$p_sg_prefix_list_PL_JOBS (10.20.2.0/24)"
expect_path "SG allows subnet a, the job runs in b: still a FAIL" p_sg_wrong_subnet sg,path 3 \
    "path.sg-ingress,sg"
expect_check "SG FAIL names the job's address" FAIL sg "$p_sg_wrong_subnet_SG_DB" \
    "from the job (10.20.2.15" "authorize-security-group-ingress"

# -- false PASS: a more specific route sends the database subnet elsewhere
expect_path "10.10.5.0/24 via another peering" p_route_specific_pcx route,path 3 "path.route,route"
expect_check "route check sees the more specific route" FAIL route "$p_route_specific_pcx_RTB_JOB -> 10.10.0.0/16" \
    "more specific route 10.10.5.0/24 goes via $p_route_specific_pcx_PCX_OTHER"
expect_check "path.route: the longest match leads to another VPC" FAIL path.route "source" \
    "takes route 10.10.5.0/24 via $p_route_specific_pcx_PCX_OTHER, which leads to"
# the /16 via the peering exists: creating it again fails (RouteAlreadyExists); the /24 must go
expect_check "path.route: the fix replaces the more specific route, not the /16 that exists" FAIL \
    path.route "source" "takes route 10.10.5.0/24" \
    "aws ec2 replace-route --route-table-id $p_route_specific_pcx_RTB_JOB --destination-cidr-block 10.10.5.0/24 --vpc-peering-connection-id $p_route_specific_pcx_PCX"
expect_path "10.10.5.0/24 via a deleted peering (blackhole)" p_route_specific_blackhole \
    route,path 3 "path.route,route"
expect_check "path.route: blackhole" FAIL path.route "source" "whose peering is deleted"

# -- false PASS: the job's subnet uses another table than the configured one
expect_path "job subnet associated with another table" p_route_other_table route,path 3 "path.route"
expect_check "configured table: WARN, no packet of the job uses it" WARN route \
    "$p_route_other_table_RTB_JOB -> 10.10.0.0/16" \
    "not the table of the job's subnet $p_route_other_table_SUBNET_B, which uses $p_route_other_table_RTB_OTHER"
expect_check "path.route judges the table the packets use" FAIL path.route \
    "source $p_route_other_table_RTB_OTHER" "no route in $p_route_other_table_RTB_OTHER"

# ... or, with no association at all, the VPC's main table
expect_path "job subnet without an association: the main table" p_route_main_table route,path 3 \
    "path.route"
expect_check "configured table: WARN naming the main table the subnet uses" WARN route \
    "$p_route_main_table_RTB_JOB -> 10.10.0.0/16" \
    "uses $p_route_main_table_RTB_OTHER (the VPC's main table)"
expect_check "path.route judges the main table" FAIL path.route \
    "source $p_route_main_table_RTB_OTHER" "main table: $p_route_main_table_SUBNET_B has no association"

# -- not checked before: prefix-list routes, transit gateways, return route, ACLs, egress
expect_path "prefix-list route to the database VPC" p_route_pl route,path 0 ""
expect_check "prefix-list route: PASS (was reported missing)" PASS route \
    "$p_route_pl_RTB_JOB -> 10.10.0.0/16" "prefix list route $p_route_pl_PL_DBS"
# The transit gateway hop goes on into the gateway's own route table (SearchTransitGatewayRoutes
# on the table the attachment is associated with). moto 5.2.1 lists no attachment for a
# gateway route (AWS does), so a healthy hub is "route found, destination unknown": a WARN.
TGWS=$p_tgw_allowed_TGW expect_path "route via an allowed transit gateway" p_tgw_allowed route,path 0 ""
TGWS=$p_tgw_allowed_TGW pconfig p_tgw_allowed
ONLY=route,path pf p_tgw_allowed --json
expect_check "allowed transit gateway: attachment available, the gateway's route found" WARN \
    path.route "source" \
    "$p_tgw_allowed_TGW_RTB (the table of tgw-attach-" \
    "search-transit-gateway-routes --transit-gateway-route-table-id $p_tgw_allowed_TGW_RTB"
expect_check "... whose destination moto does not list" WARN path.route "source" \
    "has route 10.10.0.0/16 (static, active), but it names no attachment"
expect_check "... and back: the database VPC's attachment, the same table" WARN path.route-back \
    "source" "$p_tgw_allowed_TGW_RTB (the table of tgw-attach-"
expect_check "configured route via an allowed transit gateway: PASS (was a wrong target)" PASS route \
    "$p_tgw_allowed_RTB_JOB" "via $p_tgw_allowed_TGW, a transit gateway aws.transit_gateways allows"
# --repair judges routes as the route check does: a prefix-list route or an allowed transit
# gateway is not drift (it planned a duplicate route, or told to replace the gateway's)
pconfig p_route_pl
ONLY=route pf p_route_pl --repair --json
expect_eq "--repair: the prefix-list route to the database VPC needs nothing" \
    "applied=false" "$(pfq repair 2>&1)"
TGWS=$p_tgw_allowed_TGW pconfig p_tgw_allowed
ONLY=route pf p_tgw_allowed --repair --json
expect_eq "--repair: a route via an allowed transit gateway needs nothing" \
    "applied=false" "$(pfq repair 2>&1)"
TGWS=$p_tgw_no_route_TGW expect_path "the gateway's table has no route to the database" \
    p_tgw_no_route route,path 3 "path.route"
expect_check "no route in the transit gateway's table: FAIL (was a PASS), attach and route" FAIL \
    path.route "source" "covers 10.10.5.20: the transit gateway drops" \
    "aws ec2 create-transit-gateway-vpc-attachment --transit-gateway-id $p_tgw_no_route_TGW" \
    "aws ec2 create-transit-gateway-route --transit-gateway-route-table-id tgw-rtb-"
TGWS=$p_tgw_blackhole_TGW expect_path "the gateway's route to the database is a blackhole" \
    p_tgw_blackhole route,path 3 "path.route"
expect_check "blackhole in the transit gateway's table: FAIL (was a PASS)" FAIL path.route \
    "source" "route 10.10.0.0/16 is blackhole" \
    "aws ec2 replace-transit-gateway-route --transit-gateway-route-table-id $p_tgw_blackhole_TGW_RTB --destination-cidr-block 10.10.0.0/16 --transit-gateway-attachment-id $p_tgw_blackhole_TGW_ATT_DB"
# A transit gateway takes packets only from the zones its VPC attachment has a subnet in:
# the route, the attachment and the gateway's table can all be right and the packets still
# lost (each PASSed before: the zones were not read)
# (at the netns plan's addresses)
JOBIP=10.77.18.15 SRCIP=10.77.5.20 TGTIP=10.77.19.30 SRCCIDR=10.77.4.0/22 TGWS=$p_tgw_zone_TGW \
    expect_path "the job's subnet is in a zone the attachment does not cover" \
    p_tgw_zone path 3 "path.route"
expect_check "zone without an attachment subnet: FAIL naming the zone, the subnet, the fix" \
    FAIL path.route "source $p_tgw_zone_RTB_JOB" \
    "but attachment $p_tgw_zone_TGW_ATT_JOB has no subnet in $p_tgw_zone_ZONE_2, the zone of $p_tgw_zone_SUBNET_B (its subnets: $p_tgw_zone_SUBNET_A in $p_tgw_zone_ZONE_1)" \
    "aws ec2 modify-transit-gateway-vpc-attachment --transit-gateway-attachment-id $p_tgw_zone_TGW_ATT_JOB --add-subnet-ids <a subnet of $p_tgw_zone_JOB_VPC in $p_tgw_zone_ZONE_2, e.g. $p_tgw_zone_SUBNET_B> --region $p_tgw_zone_REGION"
expect_check "... the replies' zone is covered: route-back judged on the gateway's table" WARN \
    path.route-back "source" "has route 10.77.16.0/20 (static, active), but it names no attachment"
JOBIP=10.77.18.15 SRCIP=10.77.5.20 TGTIP=10.77.19.30 SRCCIDR=10.77.4.0/22 \
    TGWS=$p_tgw_zone_back_TGW expect_path "the database's subnet is in a zone its VPC's attachment does not cover" \
    p_tgw_zone_back path 3 "path.route-back"
expect_check "replies from a zone without an attachment subnet: FAIL on route-back" FAIL \
    path.route-back "source $p_tgw_zone_back_RTB_DB" \
    "but attachment $p_tgw_zone_back_TGW_ATT_DB has no subnet in $p_tgw_zone_back_ZONE_1, the zone of $p_tgw_zone_back_SUBNET_DB (its subnets: $p_tgw_zone_back_SUBNET_DB2 in $p_tgw_zone_back_ZONE_2)" \
    "--transit-gateway-attachment-id $p_tgw_zone_back_TGW_ATT_DB --add-subnet-ids <a subnet of $p_tgw_zone_back_DB_VPC in $p_tgw_zone_back_ZONE_1"
expect_check "... the request's zone is covered: route judged on the gateway's table" WARN \
    path.route "source" "has route 10.77.4.0/22 (static, active), but it names no attachment"
# ... and when the zones cannot be read (the role lacks the new permissions): never a FAIL,
# the route line says what is unknown and the other hops are judged as before
if zdeny=$(MOTO_URL=$MOTO_URL "$PY" "$TOPO" deny-user no-zones \
    ec2:DescribeTransitGatewayVpcAttachments 2>"$tmp/deny.err"); then
    JOBIP=10.77.18.15 SRCIP=10.77.5.20 TGTIP=10.77.19.30 SRCCIDR=10.77.4.0/22 \
        TGWS=$p_tgw_zone_TGW AWS_ACCESS_KEY_ID=${zdeny%% *} AWS_SECRET_ACCESS_KEY=${zdeny#* } \
        expect_path "zones not readable (ec2:DescribeTransitGatewayVpcAttachments denied)" \
        p_tgw_zone path 0 ""
    expect_check "... the route line says the zone is unknown and why" WARN path.route \
        "source $p_tgw_zone_RTB_JOB" \
        "; unknown: whether $p_tgw_zone_TGW_ATT_JOB has a subnet in the zone of $p_tgw_zone_SUBNET_B (" \
        "search-transit-gateway-routes"
else
    not_ok "an IAM user denied ec2:DescribeTransitGatewayVpcAttachments" "$(cat "$tmp/deny.err")"
fi
# A rule referencing a group of another VPC holds only for packets over the peering it
# names, and over a transit gateway only inbound, with the gateway's referencing on (off by
# default): both were PASSes whatever way the packets took
JOBIP=10.77.18.15 SRCIP=10.77.5.20 TGTIP=10.77.19.30 SRCCIDR=10.77.4.0/22 \
    TGWS=$p_tgw_sg_pcx_TGW expect_path "the database group names the job's group over a peering the packets do not take" \
    p_tgw_sg_pcx path 3 "path.sg-ingress"
expect_check "reference over another way than the packets': FAIL naming both" FAIL \
    path.sg-ingress "source $p_tgw_sg_pcx_SG_DB" \
    "stale reference $p_tgw_sg_pcx_SG_JOB over $p_tgw_sg_pcx_PCX, but the packets take $p_tgw_sg_pcx_TGW" \
    "authorize-security-group-ingress --group-id $p_tgw_sg_pcx_SG_DB"
JOBIP=10.77.18.15 SRCIP=10.77.5.20 TGTIP=10.77.19.30 SRCCIDR=10.77.4.0/22 \
    TGWS=$p_tgw_sg_ref_TGW pconfig p_tgw_sg_ref
ONLY=path pf p_tgw_sg_ref --json
expect_check "outbound reference over a transit gateway: FAIL (they are inbound only)" FAIL \
    path.sg-egress "source $p_tgw_sg_ref_SG_JOB" \
    "stale reference $p_tgw_sg_ref_SG_DB in an outbound rule, but the packets take $p_tgw_sg_ref_TGW (references over a gateway are inbound only)" \
    "authorize-security-group-egress --group-id $p_tgw_sg_ref_SG_JOB"
expect_check "inbound reference over a transit gateway: WARN, the gateway's option to check" \
    WARN path.sg-ingress "source $p_tgw_sg_ref_SG_DB" \
    "unknown: whether the gateway's security group referencing is on for $p_tgw_sg_ref_SG_JOB over $p_tgw_sg_ref_TGW" \
    "aws ec2 describe-transit-gateways --transit-gateway-ids $p_tgw_sg_ref_TGW"
expect_check "... the reference in the job's own VPC still holds (target)" PASS path.sg-ingress \
    "target $p_tgw_sg_ref_SG_TGT" "from $p_tgw_sg_ref_SG_JOB allows tcp/5432"
# Packets enter a transit gateway through its attachment's subnet in their zone, judged by
# that subnet's ACL inbound rules on their source address (the sender's own subnet's ACL
# when the attachment is there): not judged before
JOBIP=10.77.18.15 SRCIP=10.77.5.20 TGTIP=10.77.19.30 SRCCIDR=10.77.4.0/22 \
    TGWS=$p_tgw_nacl_TGW expect_path "the database's own replies may not enter the gateway from its subnet" \
    p_tgw_nacl path 3 "path.tgw-nacl-back"
expect_check "replies into the gateway refused by the attachment subnet's ACL: FAIL, the rule to add" \
    FAIL path.tgw-nacl-back "source $p_tgw_nacl_ACL_DB" \
    "$p_tgw_nacl_ACL_DB ($p_tgw_nacl_SUBNET_DB, the subnet of $p_tgw_nacl_TGW_ATT_DB in $p_tgw_nacl_ZONE_1, the sender's own): packets from 10.77.5.20 enter $p_tgw_nacl_TGW through it, judged by its inbound rules: tcp refused" \
    "aws ec2 create-network-acl-entry --network-acl-id $p_tgw_nacl_ACL_DB --ingress" "--cidr-block 10.77.5.20/32"
expect_check "... the request enters through the job VPC's attachment subnet a: PASS" PASS \
    path.tgw-nacl-in "source $p_tgw_nacl_ACL_JOB" \
    "$p_tgw_nacl_ACL_JOB ($p_tgw_nacl_SUBNET_A, the subnet of $p_tgw_nacl_TGW_ATT_JOB in $p_tgw_nacl_ZONE_1): packets from 10.77.18.15 enter $p_tgw_nacl_TGW through it, judged by its inbound rules: tcp allowed 5432-5432 by rule 110"
TGWS=$p_tgw_allowed_TGW pconfig p_tgw_allowed
ONLY=path pf p_tgw_allowed --json
expect_check "healthy hub: the replies enter the gateway (the subnet's rule for its own VPC)" PASS \
    path.tgw-nacl-back "source $p_tgw_allowed_ACL_DB" "judged by its inbound rules: tcp allowed"
expect_path "route via a transit gateway the config does not allow" p_tgw_denied route,path 3 \
    "path.route,route"
expect_check "transit gateway not allowed: names it" FAIL path.route "source" \
    "a transit gateway the config does not allow" "aws.transit_gateways"
expect_path "no route back from the database subnet" p_no_return path 3 "path.route-back"
expect_check "path.route-back: missing, create-route via the peering" FAIL path.route-back \
    "source $p_no_return_RTB_DB" "no route in $p_no_return_RTB_DB" \
    "create-route --route-table-id $p_no_return_RTB_DB --destination-cidr-block 10.20.0.0/16 --vpc-peering-connection-id $p_no_return_PCX"
expect_path "database ACL lets 5432 in, no reply out" p_nacl_no_ephemeral path 3 "path.db-nacl-out"
expect_check "ACL without the ephemeral range: the final * rule denies" FAIL path.db-nacl-out \
    "source $p_nacl_no_ephemeral_ACL_DB" "by rule * deny"
# Replies go to the port the job's kernel picked as the connection's source, from its
# ephemeral range (net.ipv4.ip_local_port_range; no NAT on a peering changes it): exactly
# that range must pass, known where the preflight runs as the job (a task may set it with
# ECS systemControls). Unknown, the reply hops judge 1024-65535 with Linux's default.
if [ -n "$HAVE_UNSHARE" ]; then
    pconfig p_nacl_linux_only
    ONLY=path PORTRANGE="32768 60999" pfns "" p_nacl_linux_only --json
    expect_eq "job ACL lets replies in on 32768-65535, the job's ports 32768-60999: exit 0, no WARN (it was one)" \
        "0 PASS" "$rc $(pfq status path.job-nacl-in source 2>&1)"
    expect_check "... judged on the job's client ports, read where it runs" PASS path.job-nacl-in \
        "source" "pass on the job's client ports 32768-60999 (net.ipv4.ip_local_port_range"
    ONLY=path PORTRANGE="1024 65535" pfns "" p_nacl_linux_only --json
    expect_eq "the same ACL, the job's ports 1024-65535 (a task's systemControls): exit 3 (it was a WARN)" \
        "3 path.job-nacl-in" "$rc $(pfq failing 2>&1)"
    expect_check "... half of its connections get no answer, the fix opens what is refused" FAIL \
        path.job-nacl-in "source" "31744 of the job's 64512 client ports (1024-65535" \
        "--port-range From=1024,To=32767" "any free number"
    ONLY=path PORTRANGE=none pfns "" p_nacl_linux_only --json
    expect_check "the job's range unknown: Linux's default passes, a WARN (as before)" WARN \
        path.job-nacl-in "source" "pass for ports 32768-60999 (Linux's default client ports" \
        "--port-range From=1024,To=32767" "any free number"
    pconfig p_nacl_cis
    ONLY=path PORTRANGE="32768 60999" pfns "" p_nacl_cis --json
    expect_eq "both ACLs deny 22 and 3389 in from anywhere first (CIS): exit 0" 0 "$rc"
    expect_eq "CIS deny rules outside the job's client ports: replies PASS, no WARN" \
        "database=PASS,route=PASS,sg-egress=PASS,job-nacl-out=PASS,db-nacl-in=PASS,sg-ingress=PASS,db-nacl-out=PASS,route-back=PASS,job-nacl-in=PASS" \
        "$(pfq path source 2>&1)"
    ONLY=path PORTRANGE=none pfns "" p_nacl_cis --json
    expect_check "the job's range unknown: the deny rules are named" PASS path.job-nacl-in "source" \
        "deny rules keep out others: 3389 by rule 60 deny tcp 3389 from 0.0.0.0/0"
else
    skip "reply ports judged on the job's range" "unshare -m unavailable"
fi
expect_path "database ACL denies subnet b (rule 90) before allowing (rule 100)" p_nacl_deny_first \
    path 3 "path.db-nacl-in"
expect_check "ACL rule order: rule 90 decides" FAIL path.db-nacl-in "source" \
    "5432 by rule 90 deny tcp 5432 from 10.20.2.0/24"
expect_path "job's group lets only 443 out" p_sg_egress path 3 "path.sg-egress"
expect_check "egress FAIL with the authorize command" FAIL path.sg-egress "source" \
    "no egress rule of $p_sg_egress_SG_JOB allows tcp/5432 to 10.10.5.20" "authorize-security-group-egress"

# -- the database in another account: not visible, never guessed
if [ "$DATA_CROSS_ACCOUNT" = yes ]; then
    NODB=1 expect_path "database in the data team's account" p_cross_account path 0 ""
    expect_check "not visible from this account: WARN with what to check by hand" WARN \
        path.database "source 10.10.5.20" "not visible from this account" "check by hand"
    expect_eq "the database side is not judged (SKIP), the job side is" \
        "database=WARN,route=PASS,sg-egress=PASS,job-nacl-out=PASS,db-nacl-in=SKIP,sg-ingress=SKIP,db-nacl-out=SKIP,route-back=SKIP,job-nacl-in=PASS" \
        "$(pfq path source 2>&1)"
else
    skip "database in another account" "moto without a second account"
fi

# ---- second shift: neighbours of the issue's reproductions ----------------------------------
# -- VPCs of one region reuse private ranges: an address alone does not name an interface
expect_path "an unrelated VPC holds the database's address too (listed first)" p_overlap_db \
    route,sg,path 0 ""
expect_check "the database: the interface where the job's route leads" PASS path.database \
    "source $p_overlap_db_DB_ENI" "($p_overlap_db_DB_VPC)"
expect_path "an unrelated VPC holds the job's address too, aws.job.ip only" p_overlap_job \
    route,sg,path 0 ""
expect_check "the job's address names two interfaces: a WARN, no guess" WARN path.job \
    "job 10.20.2.15" "2 network interfaces in region $p_overlap_job_REGION hold 10.20.2.15" \
    "set aws.job.network_interface"
expect_eq "... and no hop is judged on the other VPC's interface" "" "$(pfq path source 2>&1)"
expect_check "... while the group is still judged on the job's address (aws.job.ip)" PASS sg \
    "$p_overlap_job_SG_DB" "lets the job in (10.20.2.15) by an ingress rule tcp 5432-5432 from 10.20.2.0/24"
# (with ECS task metadata the MAC tells them apart: see "where the job runs" below)

# -- the route's more specific part through a prefix list; an appliance on the way
expect_path "a prefix-list route sends the database subnet to an internet gateway" \
    p_route_pl_inner route,path 3 "path.route,route"
expect_check "route check sees the prefix list's entry inside the /16 (was a PASS)" FAIL route \
    "$p_route_pl_inner_RTB_JOB -> 10.10.0.0/16" \
    "more specific route $p_route_pl_inner_PL_DBS (entry 10.10.5.0/24) goes via igw-" \
    "aws ec2 create-route --route-table-id $p_route_pl_inner_RTB_JOB --destination-cidr-block 10.10.5.0/24 --vpc-peering-connection-id $p_route_pl_inner_PCX"
expect_check "path.route: a static route for the entry beats the prefix list (the /16 exists)" \
    FAIL path.route "source" "entry 10.10.5.0/24) via igw-" \
    "create-route --route-table-id $p_route_pl_inner_RTB_JOB --destination-cidr-block 10.10.5.0/24"
expect_path "the database subnet goes through a firewall appliance: not followed, WARN" \
    p_appliance route,path 0 ""
expect_check "path.route: through an appliance, what to check by hand" WARN path.route "source" \
    "via $p_appliance_FW_ENI, through a network interface (an appliance" \
    "check by hand that $p_appliance_FW_ENI sends tcp/5432 for 10.10.5.20 on to the peering"
expect_check "route check: the appliance route is a WARN" WARN route \
    "$p_appliance_RTB_JOB -> 10.10.0.0/16" "10.10.5.0/24 goes via $p_appliance_FW_ENI"

# -- a configured table only matters to those whose packets take it
NOJOB=1 pconfig p_ok
ONLY=route,path pf p_ok --json
expect_eq "job unknown: the target beside the job does not send to the peer's /16: no WARN" \
    "PASS" "$(pfq status route "$p_ok_RTB_JOB" 2>&1)"
pconfig p_ok

if [ "$DATA_CROSS_ACCOUNT" = yes ]; then
    NODB=1 expect_path "database in the data team's account, its address reused in ours" \
        p_xacct_overlap path 0 ""
    expect_check "not visible where the route leads; the look-alike is not on the path" WARN \
        path.database "source 10.10.5.20" "not visible from this account in vpc-" \
        "check by hand in the database's account"
    expect_check "... and its groups are not judged as the database's" SKIP path.sg-ingress \
        "source 10.10.5.20" "not checked"
    NODB=1 expect_path "egress only to named groups, the database's groups unknown" \
        p_egress_ref_hidden path 0 ""
    expect_check "egress by group reference, database not visible: WARN, not FAIL" WARN \
        path.sg-egress "source" "unknown: whether 10.10.5.20 is in $p_egress_ref_hidden_SG_TGT" \
        "check by hand whether 10.10.5.20 belongs to $p_egress_ref_hidden_SG_TGT"
    expect_check "the same rule lets the job reach the target, a member of the group" PASS \
        path.sg-egress "target" "to $p_egress_ref_hidden_SG_TGT allows tcp/5432"
else
    skip "database in another account, address reused / egress by reference" \
        "moto without a second account"
fi

# -- --json: every path.* check names its endpoint, object and deciding rule, and a fix when
#    it is not a PASS (here on layouts with a FAIL or a WARN in each kind of hop)
schema_all=
for l in p_ok p_nacl_deny_first p_sg_wrong_subnet p_no_return p_sg_egress p_appliance \
    p_nacl_linux_only; do
    pconfig "$l"
    ONLY=path pf "$l" --json
    schema_all="$schema_all$(pfq schema 2>&1 | grep -v '^ok$')"
done
expect_eq "--json path.* checks: endpoint, object, rule and fix on every hop" "" "$schema_all"

# -- the number of EC2 API calls does not grow with routes and rules
pconfig p_ok
ONLY=peering,route,sg,path pf p_ok --json
calls_ok=$(pfq calls 2>&1)
pconfig p_many
ONLY=peering,route,sg,path pf p_many --json
calls_many=$(pfq calls 2>&1)
expect_eq "150 more routes, 50 more SG rules, 40 more ACL rules: exit 0" 0 "$rc"
expect_eq "same number of EC2 API calls with many routes and rules ($calls_ok)" "$calls_ok" "$calls_many"

# -- pagination: moto pages none of these Describe calls, so a proxy (lib/fault_server.py
#    --script page, the requests unchanged upstream) cuts each answer into pages of one
#    item with a nextToken: the same verdicts, every page followed, one call per page
pconfig p_ok
ONLY=path,route,sg,peering pf p_ok --json
direct_calls=$(pfq calls 2>&1)
direct_verdicts=$(pfq path source 2>&1; pfq path target 2>&1; pfq failing 2>&1)
rm -f "$tmp/fs.port" "$tmp/fs.log"
"$PY" tests/preflight/lib/fault_server.py --port-file "$tmp/fs.port" --log "$tmp/fs.log" \
    --script page --upstream "$MOTO_URL" --lifetime 120 &
FS_PID=$!
poll_until 60 test -s "$tmp/fs.port"
sed "s#endpoint: $MOTO_URL#endpoint: http://127.0.0.1:$(cat "$tmp/fs.port")#" "$tmp/p_ok.yaml" \
    >"$tmp/p_paged.yaml"
ONLY=path,route,sg,peering pf p_paged --json
paged_calls=$(pfq calls 2>&1)
expect_eq "answers in pages of one item: the same verdicts" "$direct_verdicts" \
    "$(pfq path source 2>&1; pfq path target 2>&1; pfq failing 2>&1)"
if [ "$paged_calls" = "$(wc -l <"$tmp/fs.log" | tr -d ' ')" ] && [ "$paged_calls" -gt "$direct_calls" ]; then
    ok "every nextToken followed: ec2_api_calls counts each page ($direct_calls calls, $paged_calls in pages of one)"
else
    not_ok "every nextToken followed, each page counted" "direct $direct_calls, paged $paged_calls, proxy saw $(wc -l <"$tmp/fs.log")"
fi
kill "$FS_PID" 2>/dev/null
wait "$FS_PID" 2>/dev/null
FS_PID=

# -- a healthy topology: the whole AWS preflight under 5 s against moto
pconfig p_ok
start=$(date +%s%N)
ONLY=peering,dns-option,route,sg,path pf p_ok --json
ms=$((($(date +%s%N) - start) / 1000000))
if [ "$rc" = 0 ] && [ "$ms" -lt 5000 ]; then
    ok "healthy topology: every AWS check in ${ms} ms (< 5 s), $(pfq calls) EC2 API calls"
else
    not_ok "healthy topology: every AWS check under 5 s" "rc=$rc ${ms} ms"
fi

# -- where the job runs: ECS task metadata v4, IMDSv2, or nobody says
JOBMD=tests/preflight/lib/fake_job_metadata.py
MD_PID=
md_start() { # MODE ARGS...: the fake metadata server; sets MD_PORT
    local mode=$1
    shift
    rm -f "$tmp/md.port"
    "$PY" "$JOBMD" --mode "$mode" --port-file "$tmp/md.port" --log "$tmp/md.log" "$@" &
    MD_PID=$!
    poll_until 60 test -s "$tmp/md.port"
    MD_PORT=$(cat "$tmp/md.port" 2>/dev/null)
}
md_stop() { [ -n "$MD_PID" ] && kill "$MD_PID" 2>/dev/null && wait "$MD_PID" 2>/dev/null; MD_PID=; }

NOJOB=1 pconfig p_ok
md_start ecs --ip 10.20.2.15 --mac "$p_ok_JOB_MAC"
ECS_CONTAINER_METADATA_URI_V4="http://127.0.0.1:$MD_PORT/v4/0123abcd" ONLY=path pf p_ok --json
expect_eq "job from ECS task metadata v4: exit 0" 0 "$rc"
if [ -x "$ASAN_BIN" ]; then
    ECS_CONTAINER_METADATA_URI_V4="http://127.0.0.1:$MD_PORT/v4/0123abcd" ONLY=path BIN=$ASAN_BIN \
        pf p_ok --json
    expect_eq "... under ASan+UBSan: exit 0 (each metadata answer's headers leaked)" 0 "$rc"
fi
expect_check "job from ECS task metadata v4 (awsvpc address, interface by DescribeNetworkInterfaces)" \
    PASS path.job "job 10.20.2.15" "groups $p_ok_SG_JOB; from ECS task metadata v4"
grep -q "^GET /v4/0123abcd/task 200" "$tmp/md.log" && ok "the task document was read" ||
    not_ok "the task document was read" "$(cat "$tmp/md.log")"
md_stop
# another VPC holds the task's address too: the task's MAC names its interface
NOJOB=1 pconfig p_overlap_job
md_start ecs --ip 10.20.2.15 --mac "$p_overlap_job_JOB_MAC"
ECS_CONTAINER_METADATA_URI_V4="http://127.0.0.1:$MD_PORT/v4/0123abcd" ONLY=path pf p_overlap_job --json
expect_eq "address reused by another VPC, ECS task metadata v4: exit 0" 0 "$rc"
expect_check "the task's MAC names its own interface among the two" PASS path.job "job 10.20.2.15" \
    "10.20.2.15 on $p_overlap_job_JOB_ENI in $p_overlap_job_SUBNET_B"
md_stop
# a task in bridge mode uses the instance's interface: on to IMDSv2
md_start ecs --ip 172.17.0.2 --network-mode bridge
md_pid_ecs=$MD_PID ecs_port=$MD_PORT
MD_PID=
md_start imds --ip 10.20.2.15 --eni "$p_ok_JOB_ENI" --subnet "$p_ok_SUBNET_B" \
    --vpc "$p_ok_JOB_VPC" --groups "$p_ok_SG_JOB"
ECS_CONTAINER_METADATA_URI_V4="http://127.0.0.1:$ecs_port/v4/x" AWS_EC2_METADATA_DISABLED=false AWS_EC2_METADATA_SERVICE_ENDPOINT="http://127.0.0.1:$MD_PORT" \
    ONLY=path pf p_ok --json
expect_check "job from IMDSv2 (local-ipv4, then the interface by MAC)" PASS path.job \
    "job 10.20.2.15" "10.20.2.15 on $p_ok_JOB_ENI in $p_ok_SUBNET_B"
expect_check "job from IMDSv2: named as the source" PASS path.job "job 10.20.2.15" "; from IMDSv2"
if grep -q "^PUT /latest/api/token 200" "$tmp/md.log" &&
    grep -q "^GET /latest/meta-data/local-ipv4 200" "$tmp/md.log"; then
    ok "IMDSv2: a session token first, then local-ipv4"
else
    not_ok "IMDSv2: a session token first, then local-ipv4" "$(cat "$tmp/md.log")"
fi
if [ -x "$ASAN_BIN" ]; then
    ECS_CONTAINER_METADATA_URI_V4="http://127.0.0.1:$ecs_port/v4/x" AWS_EC2_METADATA_DISABLED=false AWS_EC2_METADATA_SERVICE_ENDPOINT="http://127.0.0.1:$MD_PORT" \
        ONLY=path BIN=$ASAN_BIN pf p_ok --json
    expect_eq "job from IMDSv2 under ASan+UBSan: exit 0" 0 "$rc"
fi
md_stop
MD_PID=$md_pid_ecs
md_stop
ONLY=path pf p_ok --json
expect_eq "nobody says where the job runs: exit 0 (a WARN, nothing guessed)" 0 "$rc"
expect_check "job unknown: WARN naming aws.job" WARN path.job "job" \
    "where the job runs is unknown" "set aws.job.ip"
# IMDSv2 whose token answer never comes back (a container behind a hop limit of 1): one
# second, as botocore waits, then the WARN (it took four: 2 s x 2 attempts)
md_start imds --ip 10.20.2.15 --token hang
start=$(date +%s%N)
AWS_EC2_METADATA_DISABLED=false AWS_EC2_METADATA_SERVICE_ENDPOINT="http://127.0.0.1:$MD_PORT" \
    ONLY=path pf p_ok --json
ms=$((($(date +%s%N) - start) / 1000000))
expect_check "IMDSv2 token never answered: WARN, the job unknown" WARN path.job "job" \
    "instance metadata (IMDSv2)" "set aws.job.ip"
if [ "$rc" = 0 ] && [ "$ms" -lt 2500 ]; then
    ok "IMDSv2 token never answered: the preflight waits about a second (${ms} ms in all)"
else
    not_ok "IMDSv2 token never answered: about a second" "rc=$rc ${ms} ms"
fi
md_stop
md_start imds --ip 10.20.2.15 --token 403
AWS_EC2_METADATA_DISABLED=false AWS_EC2_METADATA_SERVICE_ENDPOINT="http://127.0.0.1:$MD_PORT" \
    ONLY=path pf p_ok --json
expect_check "IMDSv2 refused (HTTP 403): WARN naming it" WARN path.job "job" "answered HTTP 403"
md_stop
# IMDSv2 without interface-id nor security-group-ids (404 each): the interface by its address
# and MAC, the groups from it
md_start imds --ip 10.20.2.15 --mac "$p_ok_JOB_MAC" --subnet "$p_ok_SUBNET_B" --vpc "$p_ok_JOB_VPC"
AWS_EC2_METADATA_DISABLED=false AWS_EC2_METADATA_SERVICE_ENDPOINT="http://127.0.0.1:$MD_PORT" \
    ONLY=path pf p_ok --json
expect_check "IMDSv2 404 on interface-id and security-group-ids: groups from the interface" PASS \
    path.job "job 10.20.2.15" "on $p_ok_JOB_ENI in $p_ok_SUBNET_B ($p_ok_JOB_VPC), groups $p_ok_SG_JOB; from IMDSv2"
md_stop
pconfig p_ok

# -- the DNS option, one side at a time: a side's option lets the peer resolve that side's
#    names; the job only resolves its databases' names, in the VPC across the peering
DNSOPT=true pconfig p_lab
ONLY=dns-option pf p_lab --json
expect_eq "DNS option off on the job's side only (on for the database VPC): exit 0" 0 "$rc"
expect_check "the job's own side: not needed (INFO; it was a FAIL without the dns check)" INFO \
    dns-option "$p_lab_PCX" \
    "off on the requester side ($p_lab_JOB_VPC, account $p_lab_OWNER), but not needed: the job runs in this VPC"
pconfig p_lab

# -- the DNS option (names resolved from a private hosts file, no packet sent)
if [ -n "$HAVE_UNSHARE" ]; then
    DNSOPT=true pconfig p_ok
    ONLY=dns,dns-option pfns "10.10.5.20 db.path.test" p_ok --json
    expect_eq "DNS option off, the name already resolves to its private address: exit 0" 0 "$rc"
    expect_check "DNS option off but not needed: INFO" INFO dns-option "$p_ok_PCX" \
        "not needed: db.path.test (source) already resolves to the private address 10.10.5.20"
    ONLY=dns,dns-option pfns "203.0.113.20 db.path.test" p_ok --json
    expect_eq "the name resolves to a public address: exit 3" 3 "$rc"
    expect_check "public address outside expect_cidr: dns FAIL" FAIL dns "source" \
        "public address 203.0.113.20, outside expect_cidr 10.10.0.0/16"
    expect_check "DNS option off and needed: FAIL" FAIL dns-option "$p_ok_PCX" \
        "resolves to the public address 203.0.113.20"
    # the target beside the job resolving privately says nothing of the peer's names (the
    # source's name does not resolve here): not an INFO (it was)
    ONLY=dns,dns-option pfns "" p_ok --json
    expect_check "a name of the job's own VPC is no evidence for the peer's: dns-option FAIL" \
        FAIL dns-option "$p_ok_PCX" "remote VPC DNS resolution is off"
    # the source reached by address (a literal host): no name resolved, the option cannot
    # matter (it was a FAIL: "host names of the peer resolve to public addresses")
    SRCHOST=10.10.5.20 DNSOPT=true pconfig p_ok
    ONLY=dns,dns-option pfns "" p_ok --json
    expect_eq "database reached by address, DNS option off: exit 0" 0 "$rc"
    expect_check "by address: the DNS option is not needed (INFO)" INFO dns-option "$p_ok_PCX" \
        "the job reaches source at 10.10.5.20 by address"
    # the data team's side (accepter, another account): only that account can enable it,
    #    in its region; our side (the job's VPC) does not matter to the job
    if [ "$DATA_CROSS_ACCOUNT" = yes ]; then
        NODB=1 DNSOPT=true pconfig p_cross_account
        ONLY=dns,dns-option pfns "203.0.113.20 db.path.test" p_cross_account --json
        expect_check "the data team's side off, its name public: FAIL, run by that account" FAIL \
            dns-option "$p_cross_account_PCX" "accepter side" \
            "account 222222222222 runs: aws ec2 modify-vpc-peering-connection-options --vpc-peering-connection-id $p_cross_account_PCX --accepter-peering-connection-options AllowDnsResolutionFromRemoteVpc=true --region $p_cross_account_REGION (each account changes its own side)"
        expect_eq "... never --repair, never our side's option (the job's VPC)" 0 \
            "$(pfq fix dns-option "$p_cross_account_PCX" | grep -c -e '--repair' -e '--requester')"
        ONLY=dns,dns-option pfns "10.10.5.20 db.path.test" p_cross_account --json
        expect_check "the data team's name resolves privately: INFO" INFO dns-option \
            "$p_cross_account_PCX" "not needed: db.path.test (source) already resolves to the private address 10.10.5.20"
        NODB=1 pconfig p_cross_account
    fi
    DNSOPT=true pconfig p_ok
    ONLY=dns,path pfns "10.10.5.20 db.path.test" p_ok --json
    expect_check "with the dns check, the path takes the resolved address" PASS path.database \
        "source" "10.10.5.20:5432 (resolved)"
    # a name with two addresses, one private in the peer VPC, one public: the private one's
    # path is judged; the public one FAILs at path.database, and no fix routes a public
    # address over the peering or opens the ACLs to it (it did: create-route .../32)
    ONLY=dns,path pfns "10.10.5.20 db.path.test
203.0.113.20 db.path.test" p_ok --json
    expect_eq "private and public address: exit 3, FAIL in dns and path.database only" \
        "3 dns,path.database" "$rc $(pfq failing 2>&1)"
    expect_check "the public address: FAIL, make the name resolve privately" FAIL path.database \
        "source 203.0.113.20" "is a public address, outside expect_cidr 10.10.0.0/16" \
        "resolve to the database's private address"
    expect_eq "no fix names the public address" 0 "$(grep -c '203.0.113.20/32' "$tmp/out")"
    expect_check "the private address: its path is judged" PASS path.route-back "source" \
        "to 10.20.2.15 takes route 10.20.0.0/16 via $p_ok_PCX"
    # a DSN host list (primary,standby): libpq tries each, so each one's path is analysed
    SRCHOST=db.path.test,db2.path.test pconfig p_standby
    ONLY=dns,path pfns "10.10.5.20 db.path.test
10.10.6.20 db2.path.test" p_standby --json
    expect_eq "DSN host list, the standby's subnet has no route back: exit 3" \
        "3 path.route-back" "$rc $(pfq failing 2>&1)"
    expect_check "the standby (second host) is analysed too" PASS path.database \
        "source $p_standby_STANDBY_ENI" "10.10.6.20:5432 (resolved)"
    expect_check "... and its missing route back named" FAIL path.route-back "source" \
        "main table: $p_standby_SUBNET_STANDBY has no association" \
        "create-route --route-table-id rtb-"
    pconfig p_standby
    pconfig p_ok
else
    skip "DNS option scenarios" "unshare -m unavailable"
fi

# ---- session 3: layouts AWS users run, several side by side per region ----------------------
# (tests/preflight/lib/aws_path_topology.py p_lab, p_xregion, p_secondary, p_rtlab,
# p_lab, p_lab: extra job and database interfaces picked by aws.job.ip and DSN host
# lists of addresses; each finding's test failed with the binary before its fix)

# -- an inter-region peering of our account: the database's region is not described here
NODB=1 expect_path "the database VPC in another region of our account" p_xregion path 0 ""
expect_check "not visible from the job's region, named as such (it said: another account)" WARN \
    path.database "source 10.10.5.20" \
    "not visible from region $p_xregion_REGION: the job's route leads over $p_xregion_PCX to $p_xregion_DB_VPC (account $p_xregion_OWNER) in region $p_xregion_DB_REGION" \
    "check by hand in the database's region $p_xregion_DB_REGION (aws ec2 describe-network-interfaces --region $p_xregion_DB_REGION"
expect_check "path.route: the inter-region peering, active, leads to the database's VPC" PASS \
    path.route "source" "takes route 10.10.0.0/16 via $p_xregion_PCX (active, to $p_xregion_DB_VPC"

# -- secondary blocks: the peer VPC's (the database), the job VPC's (the job)
JOBIP=10.20.2.15 SRCHOST=10.11.5.20 pconfig p_rtlab
ONLY=path pf p_rtlab --json
expect_check "database in the peer's secondary block, routes for the primary only: route its block" \
    FAIL path.route "source" "no route in $p_rtlab_RTB_JOB" \
    "create-route --route-table-id $p_rtlab_RTB_JOB --destination-cidr-block 10.11.0.0/16 --vpc-peering-connection-id $p_rtlab_PCX"
expect_eq "... never the primary block, whose route exists (it was)" 0 \
    "$(pfq fix path.route source | grep -c 'destination-cidr-block 10.10.0.0/16')"
JOBIP=10.20.5.15 SRCHOST=10.11.5.20 \
    ROUTE="route_table: $p_rtlab_RTB_FULL, destination: 10.11.0.0/16, peering: $p_rtlab_PCX" \
    pconfig p_rtlab
ONLY=route,path pf p_rtlab --json
expect_eq "a table routing both blocks: every hop PASSes, exit 0" \
    "0 database=PASS,route=PASS,sg-egress=PASS,job-nacl-out=PASS,db-nacl-in=PASS,sg-ingress=PASS,db-nacl-out=PASS,route-back=PASS,job-nacl-in=PASS" \
    "$rc $(pfq path source 2>&1)"
expect_check "configured route to the secondary block: PASS (was outside the peer's CIDRs)" PASS \
    route "$p_rtlab_RTB_FULL -> 10.11.0.0/16" "via $p_rtlab_PCX"
JOBIP=100.64.2.15 pconfig p_rtlab
ONLY=path pf p_rtlab --json
expect_check "the job in its VPC's secondary block, no route back for it: route that block" FAIL \
    path.route-back "source $p_rtlab_RTB_DB2" "covers 100.64.2.15: packets are dropped" \
    "create-route --route-table-id $p_rtlab_RTB_DB2 --destination-cidr-block 100.64.0.0/16 --vpc-peering-connection-id $p_rtlab_PCX"
pconfig p_rtlab

# -- route tables: an association replaced, routes more specific than local
ONLY=route,path pf p_rtlab --json
expect_check "the database subnet's association replaced: the route back on the new table" FAIL \
    path.route-back "source $p_rtlab_RTB_DB2" "covers 10.20.2.15: packets are dropped" \
    "create-route --route-table-id $p_rtlab_RTB_DB2 --destination-cidr-block 10.20.0.0/16"
expect_check "... the configured table of the route back: WARN, the subnet left it" WARN route \
    "$p_rtlab_RTB_DB -> 10.20.0.0/16" "uses $p_rtlab_RTB_DB2 (explicit association)"
expect_check "the target's subnet over the peering, more specific than local: FAIL, delete it" \
    FAIL path.route "target" "takes route 10.20.3.0/24 via $p_rtlab_PCX" \
    "aws ec2 delete-route --route-table-id $p_rtlab_RTB_JOB --destination-cidr-block 10.20.3.0/24"
expect_eq "... no fix asks for a peering of the job's VPC with itself (it did)" 0 \
    "$(pfq fix path.route target | grep -c 'create-vpc-peering-connection')"
JOBIP=10.20.4.15 pconfig p_rtlab
ONLY=path pf p_rtlab --json
expect_check "the target's subnet through a firewall (middlebox routing): WARN, the route named" \
    WARN path.route "target" "takes route 10.20.3.0/24 via $p_rtlab_FW_ENI" \
    "if the packets must not go through it: aws ec2 delete-route --route-table-id $p_rtlab_RTB_FW --destination-cidr-block 10.20.3.0/24"
pconfig p_rtlab

# -- dual-stack (p_rtlab, _v6lab): the DSN's IPv6 address is judged like its IPv4 one, from the
#    job interface's IPv6 address (it was left out: a database resolving to AAAA and A records
#    was judged on the A record alone, while libpq tries every address, often the IPv6 first)
JOBIP=10.20.6.15 SRCHOST=$p_rtlab_V6DB_IP6,10.10.12.20 pconfig p_rtlab
ONLY=path pf p_rtlab --json
expect_eq "dual-stack database: both addresses judged, the IPv6 one first (DSN order)" \
    "3 database=PASS,route=FAIL,sg-egress=FAIL,job-nacl-out=PASS,db-nacl-in=PASS,sg-ingress=PASS,db-nacl-out=PASS,route-back=FAIL,job-nacl-in=PASS,database=PASS,route=PASS,sg-egress=PASS,job-nacl-out=PASS,db-nacl-in=PASS,sg-ingress=PASS,db-nacl-out=PASS,route-back=PASS,job-nacl-in=PASS" \
    "$rc $(pfq path source 2>&1)"
expect_check "IPv6: ::/0 to an egress-only gateway: FAIL, route the database VPC's IPv6 block" \
    FAIL path.route "source" "to $p_rtlab_V6DB_IP6 takes route ::/0 via $p_rtlab_EIGW" \
    "create-route --route-table-id $p_rtlab_RTB_V6 --destination-ipv6-cidr-block $p_rtlab_DB_V6 --vpc-peering-connection-id $p_rtlab_PCX"
expect_check "IPv6: the job's group lets tcp 5432 out to 10.10.0.0/16 only: FAIL, an IPv6 rule" \
    FAIL path.sg-egress "source $p_rtlab_SG_V4EG" "allows tcp/5432 to $p_rtlab_V6DB_IP6" \
    "Ipv6Ranges=[{CidrIpv6=$p_rtlab_V6DB_IP6/128}]"
expect_check "IPv6: the database's group allows the job subnet's /64, judged on the job's IPv6" \
    PASS path.sg-ingress "source $p_rtlab_SG_DB6" \
    "from $p_rtlab_SUBNET_V6JOB64 allows tcp/5432 from $p_rtlab_V6JOB_IP6"
expect_check "IPv6: ACL rule 101 ::/0 lets the database port in" PASS path.db-nacl-in "source" \
    "tcp 5432 from $p_rtlab_V6JOB_IP6: 5432 by rule 101 allow all from ::/0"
expect_check "IPv6: no IPv6 route back to the job: FAIL, route the job VPC's IPv6 block" \
    FAIL path.route-back "source $p_rtlab_RTB_DB" "covers $p_rtlab_V6JOB_IP6" \
    "--destination-ipv6-cidr-block $p_rtlab_JOB_V6 --vpc-peering-connection-id $p_rtlab_PCX"
expect_check "the IPv4 address of the same database: its route PASSes" PASS path.route "source" \
    "to 10.10.12.20 takes route 10.10.0.0/16 via $p_rtlab_PCX"
expect_check "... and its egress rule" PASS path.sg-egress "source $p_rtlab_SG_V4EG" \
    "allows tcp/5432 to 10.10.12.20"
# a rule for ::/0 alone lets no IPv4 packet in, and the IPv6 one
JOBIP=10.20.6.16 SRCHOST=$p_rtlab_V6DB2_IP6,10.10.12.21 pconfig p_rtlab
ONLY=path pf p_rtlab --json
expect_check "IPv4: the database's group allows ::/0 only: FAIL" FAIL path.sg-ingress \
    "source $p_rtlab_SG_DB6ONLY" "no ingress rule of $p_rtlab_SG_DB6ONLY allows tcp/5432 from 10.20.6.16"
expect_check "IPv6: the same rule allows the job's IPv6 address" PASS path.sg-ingress \
    "source $p_rtlab_SG_DB6ONLY" "from ::/0 allows tcp/5432 from $p_rtlab_V6JOB2_IP6"
expect_check "IPv6: the job's group made before the VPC's IPv6 block (0.0.0.0/0 only): FAIL" \
    FAIL path.sg-egress "source $p_rtlab_SG_JOB" \
    "no egress rule of $p_rtlab_SG_JOB allows tcp/5432 to $p_rtlab_V6DB2_IP6" \
    "Ipv6Ranges=[{CidrIpv6=$p_rtlab_V6DB2_IP6/128}]"
expect_check "... and its IPv4 rule lets the IPv4 packets out" PASS path.sg-egress \
    "source $p_rtlab_SG_JOB" "all protocols to 0.0.0.0/0 allows tcp/5432 to 10.10.12.21"
# a job without an IPv6 address never uses the IPv6 address: its connect fails at once
JOBIP=10.20.6.17 SRCHOST=$p_rtlab_V6DB_IP6,10.10.12.20 pconfig p_rtlab
ONLY=path pf p_rtlab --json
expect_check "a job without IPv6, the database's IPv6 and IPv4 addresses: the IPv6 one not used" \
    INFO path.database "source $p_rtlab_V6DB_IP6" \
    "not used: the job's interface $p_rtlab_V4JOB_ENI has no IPv6 address"
expect_eq "... judged on the IPv4 address: the route PASSes" "PASS" \
    "$(pfq status path.route source 2>&1)"
JOBIP=10.20.6.17 SRCHOST=$p_rtlab_V6DB_IP6 pconfig p_rtlab
ONLY=path pf p_rtlab --json
expect_check "a job without IPv6, the database's IPv6 address only: FAIL (it was a SKIP)" FAIL \
    path.database "source $p_rtlab_V6DB_IP6" \
    "the job cannot reach it: its interface $p_rtlab_V4JOB_ENI has no IPv6 address" \
    "assign-ipv6-addresses --network-interface-id $p_rtlab_V4JOB_ENI"
pconfig p_rtlab

# a name with A and AAAA records (a dual-stack RDS endpoint): the IPv6 address, global
# whoever resolves it, is no sign of the peering's DNS option and not for expect_cidr to judge
if [ -n "$HAVE_UNSHARE" ]; then
    JOBIP=10.20.6.16 pconfig p_rtlab
    ONLY=dns,path pfns "10.10.12.21 db.path.test
$p_rtlab_V6DB2_IP6 db.path.test" p_rtlab --json
    expect_check "dns: A and AAAA records, expect_cidr 10.10.0.0/16: PASS (was a FAIL: public)" \
        PASS dns "source" "to 10.10.12.21, inside 10.10.0.0/16; also $p_rtlab_V6DB2_IP6 (not judged by expect_cidr"
    expect_check "... the path judges the resolved IPv6 address" PASS path.sg-ingress \
        "source $p_rtlab_SG_DB6ONLY" "from ::/0 allows tcp/5432 from $p_rtlab_V6JOB2_IP6"
    ONLY=dns pfns "$p_rtlab_V6DB2_IP6 db.path.test" p_rtlab --json
    expect_check "dns: the AAAA record alone, expect_cidr 10.10.0.0/16: FAIL" FAIL dns "source" \
        "to $p_rtlab_V6DB2_IP6, outside expect_cidr 10.10.0.0/16"
    pconfig p_rtlab
else
    skip "dns of a dual-stack name" "unshare -m unavailable"
fi

# -- security groups: self references, several groups, all protocols, prefix-list egress
SRCHOST=10.10.5.21,10.10.5.22,10.10.5.23,10.10.5.24 pconfig p_lab
ONLY=path pf p_lab --json
expect_check "a self-referencing group only: the job is no member, FAIL" FAIL path.sg-ingress \
    "source $p_lab_SG_SELF" "no ingress rule of $p_lab_SG_SELF allows tcp/5432 from 10.20.2.15"
expect_check "two groups, one allows: PASS" PASS path.sg-ingress "source $p_lab_SG_DB" \
    "$p_lab_SG_DB ingress rule tcp 5432-5432 from 10.20.2.0/24"
expect_check "all protocols (-1) from the job's subnet: PASS" PASS path.sg-ingress \
    "source $p_lab_SG_ALL" "ingress rule all protocols from 10.20.2.0/24"
expect_check "ICMP and ssh only: FAIL" FAIL path.sg-ingress "source $p_lab_SG_ICMP" \
    "no ingress rule of $p_lab_SG_ICMP allows tcp/5432"
sg_lab() { # JOBIP: the source's sg-egress status
    JOBIP=$1 pconfig p_lab
    ONLY=path pf p_lab --json
    pfq status path.sg-egress source 2>&1
}
expect_eq "job egress: a prefix list holding the database VPC passes, one of another block fails, two groups where one allows pass, its own group only fails" \
    "PASS FAIL PASS FAIL" \
    "$(sg_lab 10.20.2.16) $(sg_lab 10.20.2.17) $(sg_lab 10.20.2.18) $(sg_lab 10.20.2.19)"
# an EC2 instance's interface with a secondary address (the job's), named by IMDSv2
NOJOB=1 pconfig p_lab
md_start imds --ip 10.20.2.31 --eni "$p_lab_JOB_EC2" --subnet "$p_lab_SUBNET_B" \
    --vpc "$p_lab_JOB_VPC" --groups "$p_lab_SG_JOB"
AWS_EC2_METADATA_DISABLED=false AWS_EC2_METADATA_SERVICE_ENDPOINT="http://127.0.0.1:$MD_PORT" \
    ONLY=path pf p_lab --json
md_stop
expect_check "the job on an instance interface's secondary address (IMDSv2)" PASS path.job \
    "job 10.20.2.31" "10.20.2.31 on $p_lab_JOB_EC2"
expect_eq "... every hop of the source PASSes" \
    "database=PASS,route=PASS,sg-egress=PASS,job-nacl-out=PASS,db-nacl-in=PASS,sg-ingress=PASS,db-nacl-out=PASS,route-back=PASS,job-nacl-in=PASS" \
    "$(pfq path source 2>&1)"
pconfig p_lab

# -- peering states on the route, a group reference over a deleted peering
SRCHOST=10.41.5.20,10.42.5.20,10.43.5.20,10.10.5.25 pconfig p_lab
ONLY=path pf p_lab --json
for st in pending-acceptance:41 rejected:42 deleted:43; do
    pcx_var=p_lab_PCX${st##*:}
    expect_check "a route over a ${st%%:*} peering: FAIL, dropped" FAIL path.route "source" \
        "to 10.${st##*:}.5.20 takes route 10.${st##*:}.0.0/16 via ${!pcx_var}, whose peering is ${st%%:*}: packets are dropped" \
        "fix the peering"
done
expect_check "a group referencing the job's group over a deleted peering: FAIL, stale" FAIL \
    path.sg-ingress "source $p_lab_SG_STALE" \
    "stale reference $p_lab_SG_JOB over $p_lab_PCX_OLD (deleted)"
pconfig p_lab

# -- network ACLs: the same rules with or without rule 32767 listed, all protocols, ICMP,
#    port ranges, the reply range of another OS
if [ -n "$HAVE_UNSHARE" ]; then
    SRCHOST=10.10.6.20,10.10.7.20,10.10.8.20,10.10.9.20 TGTHOST=10.10.10.20,10.10.11.20 \
        pconfig p_lab
    acl_lab() { # RANGE ADDRESS HOP: the hop's status for that database address
        ONLY=path PORTRANGE=$1 pfns "" p_lab --json
        "$PY" -c 'import json, sys
d = json.load(open(sys.argv[1]))
print(" ".join(c["status"] for c in d["checks"] if c["group"] == "path." + sys.argv[3]
               and sys.argv[2] in c["detail"]))' "$tmp/out" "$2" "$3"
    }
    expect_eq "replies 32768-60999 only, rule 32767 listed (AWS) or not (moto's custom ACL): PASS both (it was PASS, WARN)" \
        "PASS PASS" "$(acl_lab "32768 60999" 10.20.2.15 db-nacl-out | cut -d' ' -f1-2)"
    expect_eq "... the job's range unknown: WARN both (it was PASS, WARN)" \
        "WARN WARN" "$(acl_lab none 10.20.2.15 db-nacl-out | cut -d' ' -f1-2)"
    ONLY=path PORTRANGE="32768 60999" pfns "" p_lab --json
    expect_check "all protocols (-1) in and out, an ICMP rule first: PASS" PASS path.db-nacl-in \
        "source $p_lab_N8_ACL" "5432 by rule 100 allow all from 10.20.0.0/16"
    expect_check "ICMP and ssh only: tcp 5432 meets the * rule, FAIL" FAIL path.db-nacl-in \
        "source $p_lab_N9_ACL" "5432 by rule * deny"
    expect_check "a port range 5400-5500: PASS" PASS path.db-nacl-in "target $p_lab_N10_ACL" \
        "5432 by rule 100 allow tcp 5400-5500 from 10.20.0.0/16"
    expect_check "replies 49152-65535 only (another OS's range): most of the job's refused, FAIL" \
        FAIL path.db-nacl-out "target $p_lab_N10_ACL" \
        "16384 of the job's 28232 client ports (32768-60999" "--port-range From=32768,To=49151"
    expect_check "rule 90 denies all protocols from the job's subnet before 100 allows tcp: FAIL" \
        FAIL path.db-nacl-in "target $p_lab_N11_ACL" "5432 by rule 90 deny all from 10.20.2.0/24"
    pconfig p_lab
else
    skip "network ACL lab" "unshare -m unavailable"
fi

# -- the DNS option on the layouts above, and a Multi-AZ failover
if [ -n "$HAVE_UNSHARE" ]; then
    NODB=1 DNSOPT=true pconfig p_xregion
    ONLY=dns,dns-option pfns "203.0.113.20 db.path.test" p_xregion --json
    expect_check "inter-region: the accepter's side is changed in its region, never by --repair" \
        FAIL dns-option "$p_xregion_PCX" "accepter side ($p_xregion_DB_VPC, account $p_xregion_OWNER, region $p_xregion_DB_REGION)" \
        "in region $p_xregion_DB_REGION: aws ec2 modify-vpc-peering-connection-options --vpc-peering-connection-id $p_xregion_PCX --accepter-peering-connection-options AllowDnsResolutionFromRemoteVpc=true --region $p_xregion_DB_REGION"
    expect_eq "... no --repair, no requester option" 0 \
        "$(pfq fix dns-option "$p_xregion_PCX" | grep -c -e '--repair' -e '--requester')"
    NODB=1 pconfig p_xregion
    JOBIP=10.20.5.15 SRCCIDR=10.11.0.0/16 DNSOPT=true pconfig p_rtlab
    ONLY=dns,dns-option pfns "10.11.5.20 db.path.test" p_rtlab --json
    expect_check "a name resolving privately into the peer's secondary block: INFO (was a FAIL)" \
        INFO dns-option "$p_rtlab_PCX" \
        "not needed: db.path.test (source) already resolves to the private address 10.11.5.20"
    pconfig p_rtlab
    # RDS Multi-AZ failover: the name now resolves to the standby's address, in a subnet with
    # another route table; the pinned address is the old primary's
    pconfig p_standby
    ONLY=dns,path pfns "10.10.6.20 db.path.test" p_standby --json
    expect_check "after a failover the analysis follows the address the name resolves to now" \
        PASS path.database "source $p_standby_STANDBY_ENI" "10.10.6.20:5432 (resolved)"
    expect_check "... and judges its subnet's table" FAIL path.route-back "source" \
        "main table: $p_standby_SUBNET_STANDBY has no association"
    expect_check "... and says the pinned address is stale (--only path would judge it)" WARN \
        path.database "source 10.10.5.20" \
        "network.endpoints[].ip 10.10.5.20 is not an address db.path.test resolves to now (10.10.6.20)" \
        "set network.endpoints[].ip of source to 10.10.6.20"
else
    skip "DNS option on the session 3 layouts, failover" "unshare -m unavailable"
fi

# -- the EC2 API cannot be reached: an unusable API is never a pass without live probes
sed "s#endpoint: $MOTO_URL#endpoint: $DEAD_URL#" "$tmp/p_ok.yaml" >"$tmp/p_dead.yaml"
ONLY=path pf p_dead --json
expect_eq "--only path, no EC2 endpoint: exit 3" 3 "$rc"
expect_check "no EC2 endpoint: FAIL naming the API" FAIL peering "EC2 API" "DescribeNetworkInterfaces"


# ---- path.isolation: the data team cannot reach production -----------------------------------
# p_lab (_isolab): the data team's VPC 10.30.0.0/16 (their account, eu-west-1) is peered with the
# job's (isolated) VPC; production (the database VPC) has a direct peering with it too, and
# each database subnet its own way back to 10.30.0.0/16 (aws_path_topology.py _isolab). A
# TCP connection needs the replies: production's table decides. `--only path` (the data
# team's peering is read for it even without the configured checks).
# iso NAME SRCIP WANT_RC WANT_FAILING: `preflight --only path --json` on the database SRCIP
iso() {
    DATAPCX=$p_lab_PCX_DATA SRCIP=$2 pconfig p_lab
    ONLY=path pf p_lab --json
    if [ "$rc" = "$3" ] && [ "$(pfq failing 2>&1)" = "$4" ]; then
        ok "$1: exit $3, FAIL in '${4:-nothing}'"
    else
        not_ok "$1: exit $3, FAIL in '${4:-nothing}'" "rc=$rc failing=$(pfq failing 2>&1)
$(pfq detail path.isolation data-team 2>&1) $(cat "$tmp/err")"
    fi
}
iso "isolation: production has no route to the data team" 10.10.5.20 0 ""
expect_check "isolation: no route back, so no connection from them" PASS path.isolation \
    "data-team source 10.10.5.20" \
    "no route of $p_lab_RTB_DB (the table of $p_lab_SUBNET_DB) covers 10.30.0.0/16, so replies to them are dropped"
expect_eq "isolation: the target, in the isolated VPC, is theirs to reach: no line" "" \
    "$(pfq status path.isolation "data-team target" 2>&1)"
expect_eq "isolation: the JSON schema of path.* holds for it (endpoint data-team)" ok \
    "$(pfq schema 2>&1)"
iso "isolation: production routes them via the isolated VPC (not transitive)" 10.10.21.20 0 ""
expect_check "isolation: replies over the production peering stop in the isolated VPC" PASS \
    path.isolation "data-team source 10.10.21.20" \
    "route 10.30.0.0/16 via $p_lab_PCX to $p_lab_JOB_VPC, the isolated VPC, which does not send on what arrives over a peering (peering is not transitive)"
iso "isolation: production routes them over a direct peering" 10.10.22.20 3 path.isolation
expect_check "isolation: the direct peering is the FAIL, with the way to undo it" FAIL \
    path.isolation "data-team source 10.10.22.20" \
    "can reach production's 10.10.22.20:5432: $p_lab_RTB_ISO22" \
    "aws ec2 delete-route --route-table-id $p_lab_RTB_ISO22 --destination-cidr-block 10.30.0.0/16" \
    "delete-vpc-peering-connection --vpc-peering-connection-id $p_lab_PCX_DIRECT"
expect_check "isolation: the line names the peering, their VPC, account and region" FAIL \
    path.isolation "data-team source 10.10.22.20" \
    "via $p_lab_PCX_DIRECT, an active peering straight to $p_lab_DATA_VPC (222222222222, eu-west-1)" \
    "delete-route"
expect_check "isolation: ... and that only the database's groups keep them out" FAIL \
    path.isolation "data-team source 10.10.22.20" "only its groups keep them from port 5432"
expect_eq "isolation: the FAIL's object is the direct peering" "$p_lab_PCX_DIRECT" \
    "$("$PY" -c 'import json,sys; print(" ".join(c["object"] for c in json.load(open(sys.argv[1]))["checks"] if c["group"] == "path.isolation"))' "$tmp/out")"
expect_eq "isolation: the job's own path to that database still passes" \
    "database=PASS,route=PASS,sg-egress=PASS,job-nacl-out=PASS,db-nacl-in=PASS,sg-ingress=PASS,db-nacl-out=PASS,route-back=PASS,job-nacl-in=PASS,isolation=FAIL" \
    "$(pfq path "source " 2>&1)"
iso "isolation: a /24 of theirs over the direct peering, the /16 via the isolated VPC" \
    10.10.23.20 3 path.isolation
expect_check "isolation: the more specific route inside their block is found" FAIL \
    path.isolation "data-team source 10.10.23.20" "by route 10.30.1.0/24 via $p_lab_PCX_DIRECT" \
    "--destination-cidr-block 10.30.1.0/24"
iso "isolation: production routes 10.0.0.0/8 to a transit gateway" 10.10.24.20 0 ""
expect_check "isolation: the transit gateway's table has no route to them: PASS" PASS \
    path.isolation "data-team source 10.10.24.20" \
    "by route 10.0.0.0/8 via $p_lab_TGW_ISO, whose table tgw-rtb-"
expect_check "isolation: ... saying so" PASS path.isolation "data-team source 10.10.24.20" \
    "has no route for them: replies are dropped"
iso "isolation: a transit gateway whose table routes them on" 10.10.26.20 0 ""
expect_check "isolation: where it leads is not named (moto): a WARN" WARN path.isolation \
    "data-team source 10.10.26.20" \
    "via $p_lab_TGW_ISO2, a transit gateway the analysis does not follow here (its route leads to an attachment it does not name)" \
    "check by hand that $p_lab_TGW_ISO2 carries nothing between production and $p_lab_DATA_VPC"
iso "isolation: a prefix list of theirs over the direct peering" 10.10.25.20 3 path.isolation
expect_check "isolation: the prefix list's entry, and the group admitting them" FAIL \
    path.isolation "data-team source 10.10.25.20" \
    "route $p_lab_PL_DATA (entry 10.30.0.0/16) via $p_lab_PCX_DIRECT" \
    "--destination-prefix-list-id $p_lab_PL_DATA"
expect_check "isolation: ... $p_lab_SG_OPEN admits them" FAIL path.isolation \
    "data-team source 10.10.25.20" "$p_lab_SG_OPEN admits them (tcp 5432-5432 from 10.30.0.0/16)"
SRCIP=10.10.22.20 pconfig p_lab
ONLY=path pf p_lab --json
expect_eq "isolation: without a data team peering in the config, nothing is judged" "0  " \
    "$rc $(pfq status path.isolation data-team 2>&1) $(pfq status path.data-team data-team 2>&1)"

# ---- path.data-team: their way to the anonymised database (WARN at most: not required) ----
# dt NAME TGTIP: `preflight --only path --json` on the target TGTIP with the data team's peering
dt() {
    DATAPCX=$p_lab_PCX_DATA TGTIP=$2 pconfig p_lab
    ONLY=path pf p_lab --json
    expect_eq "$1: exit 0 (the data team's peering is not required)" 0 "$rc"
}
dt "data team to the base target" 10.20.3.30
expect_check "data team: the target's group admits the job's group only: WARN with the rule to add" \
    WARN path.data-team "data-team target 10.20.3.30" \
    "no ingress rule of the target's groups admits all of 10.30.0.0/16 on tcp/5432" \
    "aws ec2 authorize-security-group-ingress --group-id $p_lab_SG_TGT --ip-permissions IpProtocol=tcp,FromPort=5432,ToPort=5432,IpRanges=[{CidrIp=10.30.0.0/16}]"
dt "data team to a target open to them and routed back" 10.20.7.30
expect_check "data team: every hop lets their block through: PASS naming what decided" PASS \
    path.data-team "data-team target 10.20.7.30" \
    "$p_lab_SG_DT ingress tcp 5432-5432 from 10.30.0.0/16"
expect_check "data team: ... the route back over their peering" PASS path.data-team \
    "data-team target 10.20.7.30" "$p_lab_RTB_DT route 10.30.0.0/16 via $p_lab_PCX_DATA"
expect_eq "data team: its JSON schema holds" ok "$(pfq schema 2>&1)"
dt "data team to a target whose table has no route to them" 10.20.8.30
expect_check "data team: no route back: WARN with the route to create" WARN path.data-team \
    "data-team target 10.20.8.30" "$p_lab_RTB_DT_NONE, the table of" \
    "aws ec2 create-route --route-table-id $p_lab_RTB_DT_NONE --destination-cidr-block 10.30.0.0/16 --vpc-peering-connection-id $p_lab_PCX_DATA"
dt "data team to a target whose ACL denies one of their /24s" 10.20.10.30
expect_check "data team: an ACL rule for part of their block: WARN naming it" WARN path.data-team \
    "data-team target 10.20.10.30" \
    "$p_lab_ACL_DT10 inbound rule 90 deny tcp 5432 from 10.30.1.0/24 applies to part of their block only"

# ---- the same under ASan+UBSan -------------------------------------------------------------
# san NAME WANT_RC ARGS...: pf with the sanitizer build; any sanitizer report fails
san() {
    local name=$1 want=$2
    shift 2
    BIN=$ASAN_BIN ASAN_OPTIONS=detect_leaks=1:exitcode=99 \
        UBSAN_OPTIONS=halt_on_error=1:exitcode=99:print_stacktrace=1 pf "$@"
    if grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$tmp/err"; then
        not_ok "ASan: $name: no sanitizer report" "$(grep -E -A12 'Sanitizer|runtime error' "$tmp/err" | head -30)"
    else
        expect_eq "ASan: $name: exit $want, no sanitizer report" "$want" "$rc"
    fi
}
if [ -x "$ASAN_BIN" ]; then
    san "faults" 3 asan --json
    san "--repair" 3 asan --repair --json
    san "--repair --yes" 0 asan --repair --yes
    san "preflight after the repair" 0 asan
    san "blackhole" 3 blackhole
    ONLY=peering,route,sg,path san "path analysis, every hop" 0 p_ok --json
    TGWS=$p_tgw_allowed_TGW pconfig p_tgw_allowed
    ONLY=route,path san "path analysis, prefix list and transit gateway" 0 p_tgw_allowed --json
    NODB=1 pconfig p_cross_account
    ONLY=path san "path analysis, cross account" 0 p_cross_account --json
    DATAPCX=$p_lab_PCX_DATA SRCIP=10.10.25.20 pconfig p_lab
    ONLY=path san "path.isolation, a prefix list over a direct peering" 3 p_lab --json
    AWS_SECRET_ACCESS_KEY=$WRONG_SECRET san "wrong secret key" 3 none --json
else
    skip "ASan+UBSan runs" "$ASAN_BIN not built (make build/asan/anonetl)"
fi

# ---- the database is never tried -----------------------------------------------------------
expect_eq "--only the AWS groups: no connection to the database socket" 0 \
    "$(wc -l <"$tmp/pg/connections" | tr -d ' ')"
ONLY=tcp pf none --json
# the kernel completes the connect before the listener accepts and writes it down: wait
poll_until 60 test -s "$tmp/pg/connections"
if [ "$(wc -l <"$tmp/pg/connections" | tr -d ' ')" -ge 1 ]; then
    ok "the socket listener sees --only tcp connect (so it would have seen the others)"
else
    not_ok "the socket listener sees --only tcp connect" "$(cat "$tmp/out" "$tmp/err")"
fi

# ---- no secret in any output ---------------------------------------------------------------
if grep -qF -e "$MOTO_SECRET" -e "$WRONG_SECRET" "$tmp/all"; then
    not_ok "no secret key in any output"
else
    ok "no secret key in any output"
fi

done_testing
