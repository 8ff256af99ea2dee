#!/usr/bin/env bash
# tests/preflight/aws_rds.sh: the path analysis of an RDS endpoint's every instance
# (infra/aws_failover.h): `anonetl preflight --only dns,path --json` against a local moto
# server (127.0.0.1 only) with SigV4 signature checking on, the DSN naming an Aurora
# cluster's writer or reader endpoint or an instance endpoint, the names resolved from a
# private hosts file (unshare -m: no packet is sent to resolve them). Layouts:
# tests/preflight/lib/aws_rds_topology.py.
#   - a cluster whose writer (the name's address now) sits in a routed subnet and a reader in
#     another zone's subnet whose route table lacks the peering route: the writer PASSes
#     every hop, the reader is a WARN naming it, its subnet and the missing route (exit 0:
#     only the instance the name points at now can FAIL);
#   - the reader endpoint of the same cluster resolving to the reader: its missing route is
#     the FAIL, the writer's line a PASS;
#   - every member routed: a PASS line per other member;
#   - dual-stack VPCs, the reader's zone routing the job back for IPv4 only: its IPv6 leg is
#     the WARN;
#   - an instance endpoint (no cluster, single-AZ): no failover line, the path as before; a
#     Multi-AZ one whose standby's zone moto does not give: a WARN saying so;
#   - credentials without rds:Describe*: a WARN naming the missing permission, the path of
#     the name's address still judged.
# No request may leave loopback: AWS_EC2_METADATA_DISABLED=true, static keys, and
# AWS_ENDPOINT_URL points at a closed loopback port.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/tap.sh
. tests/preflight/lib/moto.sh

ANONETL=${ANONETL:-./anonetl}
TOPO=tests/preflight/lib/aws_rds_topology.py

if ! moto_find_python 2>/dev/null; then
    skip "RDS endpoints against moto" "$(moto_skip_reason)"
    done_testing
    exit 0
fi
if ! unshare -m sh -c 'mount --bind /dev/null /etc/hosts' 2>/dev/null; then
    skip "RDS endpoints against moto" "unshare -m unavailable (names resolved from a private hosts file)"
    done_testing
    exit 0
fi
PY=$("$MOTO_PYTHON" -c 'import sys; print(sys.executable)') || PY=$MOTO_PYTHON
if [ ! -x "$ANONETL" ]; then
    make --no-print-directory anonetl >/dev/null 2>&1 || { not_ok "build $ANONETL"; done_testing; exit 1; }
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/aws_rds.XXXXXX")
cleanup() {
    moto_stop
    rm -rf "$tmp"
}
trap cleanup EXIT

aws_env_isolate "$tmp"
export AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_CONFIG_FILE=/dev/null
if ! moto_start 3 || ! moto_create_user anonetl; then
    not_ok "moto starts with signature checking"
    done_testing
    exit 1
fi
export AWS_ACCESS_KEY_ID=$MOTO_AKID AWS_SECRET_ACCESS_KEY=$MOTO_SECRET
DEAD_URL="http://127.0.0.1:$(_moto_free_port)" # nothing listens there
export AWS_ENDPOINT_URL=$DEAD_URL AWS_ENDPOINT_URL_EC2=$DEAD_URL AWS_ENDPOINT_URL_RDS=$DEAD_URL

LABELS="r_reader_unrouted r_all_routed r_instance r_dual"
# shellcheck disable=SC2086 # word splitting of LABELS is wanted
if ids=$(MOTO_URL=$MOTO_URL "$PY" "$TOPO" build $LABELS 2>"$tmp/topo.err") &&
    deny=$(MOTO_URL=$MOTO_URL "$PY" "$TOPO" deny-user ec2-only 2>>"$tmp/topo.err"); then
    eval "$ids"
    ok "RDS layouts built with botocore (signature checking on)"
else
    not_ok "build the RDS layouts" "$(cat "$tmp/topo.err")"
    done_testing
    exit 1
fi
DENY_AKID=${deny%% *}
DENY_SECRET=${deny#* }

# rconfig LABEL HOST: $tmp/LABEL.yaml, the source's DSN naming HOST (DATAPCX: the data
# team's peering, required: false)
rconfig() {
    local r=${1}_REGION peers=
    [ -z "${DATAPCX:-}" ] || peers="  peerings: [{ id: $DATAPCX, required: false }]"
    cat >"$tmp/$1.yaml" <<YAML
version: 1
source:
  dsn: "host=$2 port=5432 dbname=src user=reader"
target:
  dsn: "host=$tmp port=5432 dbname=tgt user=writer"
secrets:
  hash_key: { env: ANONETL_HASH_KEY }
aws:
  region: ${!r}
  endpoint: $MOTO_URL
  job: { ip: 10.20.2.15 }
$peers
tables:
  - name: public.people
    columns:
      id: keep
YAML
}

# rpf LABEL HOSTS_LINES: preflight --only dns,path --json with /etc/hosts replaced in a
# private mount namespace, and /etc/resolv.conf naming only a closed loopback resolver (a
# name missing from the hosts file is never asked of a real DNS server); stdout in
# $tmp/out, status in $rc
printf 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n' >"$tmp/resolv.conf"
rpf() {
    printf '127.0.0.1 localhost\n%s\n' "$2" >"$tmp/hosts"
    unshare -m sh -c 'mount --bind "$1" /etc/hosts && mount --bind "$2" /etc/resolv.conf &&
        shift 2 && exec "$@"' sh "$tmp/hosts" "$tmp/resolv.conf" \
        "${BIN:-$ANONETL}" preflight -c "$tmp/$1.yaml" --only dns,path --json >"$tmp/out" 2>"$tmp/err"
    rc=$?
    cat "$tmp/out" "$tmp/err" >>"$tmp/all"
}

# find STATUS GROUP SUBJECT_PART DETAIL_PART [FIX_PART...] in $tmp/out
PFQ='
import json, sys
doc = json.load(open(sys.argv[1]))
what, args = sys.argv[2], sys.argv[3:]
checks = doc["checks"]
if what == "find":
    status, group, subject, detail, fixes = args[0], args[1], args[2], args[3], args[4:]
    for c in checks:
        if (c["status"] == status and c["group"] == group and subject in c["subject"]
                and detail in c["detail"] and all(f in c["remediation"] for f in fixes)):
            sys.exit(0)
    print("no %s %s %r / %r / %r; %s checks:" % (status, group, subject, detail, fixes, group))
    for c in checks:
        if c["group"].startswith("path."):
            print("  %(status)s %(group)s %(subject)s: %(detail)s | %(remediation)s" % c)
    sys.exit(1)
elif what == "failing":
    print(",".join(sorted({c["group"] for c in checks if c["status"] == "FAIL"})))
elif what == "lines":  # GROUP: "STATUS SUBJECT" of each, sorted
    print(",".join(sorted("%s %s" % (c["status"], c["subject"]) for c in checks
                          if c["group"] == args[0])))
elif what == "schema":  # every path.failover line: endpoint, object; a fix unless PASS/INFO
    bad = ["%(status)s %(subject)s" % c for c in checks if c["group"] == "path.failover" and (
        c.get("endpoint") != c["subject"].split(" ")[0] or not c.get("object")
        or (c["status"] in ("WARN", "FAIL") and not c["remediation"])
        or (c["status"] == "PASS" and not c.get("rule")))]
    if not any(c["group"] == "path.failover" for c in checks):
        bad = ["no path.failover line"]
    print("\n".join(bad) if bad else "ok")
elif what == "path":
    print(",".join("%s=%s" % (c["group"][5:], c["status"]) for c in checks
                   if c["group"].startswith("path.") and c["group"] != "path.failover"
                   and args[0] in c["subject"]))
'
pfq() { "$PY" -c "$PFQ" "$tmp/out" "$@"; }
expect_check() {
    local name=$1 why
    shift
    if why=$(pfq find "$@" 2>&1); then ok "$name"; else not_ok "$name" "$why"; fi
}

ALL_PASS="database=PASS,route=PASS,sg-egress=PASS,job-nacl-out=PASS,db-nacl-in=PASS,sg-ingress=PASS,db-nacl-out=PASS,route-back=PASS,job-nacl-in=PASS"

# ---- a cluster: the writer routed, the reader's zone without the route back --------------
L=r_reader_unrouted
eval "CL=\$${L}_CLUSTER_HOST RD=\$${L}_READER_HOST H1=\$${L}_HOST_1 H2=\$${L}_HOST_2"
eval "SB=\$${L}_SUBNET_B RTB_B=\$${L}_RTB_B REG=\$${L}_REGION PCX=\$${L}_PCX"
HOSTS="10.10.5.20 $H1 $CL
10.10.6.20 $H2 $RD"
rconfig $L "$CL"
rpf $L "$HOSTS"
expect_eq "cluster endpoint, reader unrouted: exit 0 (the writer, where the name points, passes)" \
    "0 " "$rc $(pfq failing 2>&1)"
expect_eq "... the writer's path (the name's address now) judged as before" "$ALL_PASS" \
    "$(pfq path source 2>&1)"
expect_check "... path.database: the writer's interface, not its RDS subnet" PASS path.database \
    "source eni-" "10.10.5.20:5432 (resolved via $H1) on eni-"
expect_check "... the reader: WARN naming it, its subnet and zone, and the missing route back" \
    WARN path.failover "source orders-2" \
    "after a failover $CL would point at orders-2 (reader, $SB in ${REG}b, 10.10.6.20)" \
    "create-route --route-table-id $RTB_B"
expect_check "... which hop refuses: the route back from the reader's subnet" \
    WARN path.failover "source orders-2" "route-back FAIL: no route in $RTB_B (associated with $SB) covers 10.20.2.15"
expect_eq "... one failover line, for the reader only (the writer is the path.* lines)" \
    "WARN source orders-2" "$(pfq lines path.failover 2>&1)"
expect_eq "... --json: the line has its endpoint, object and fix" "ok" "$(pfq schema 2>&1)"

# the data team (its peering in the config): the writer's zone has no route to them, the
# reader's zone routes them back over a direct peering: the reader, running now, is theirs
# to reach (path.isolation judges every member from its RDS subnet)
DATAPCX=$(eval echo "\$${L}_PCX_DATA") rconfig $L "$CL"
rpf $L "$HOSTS"
expect_eq "data team: the reader's zone routes them over a direct peering: exit 3, isolation FAILs" \
    "3 path.isolation" "$rc $(pfq failing 2>&1)"
expect_eq "... the writer (the name's address) PASSes, the reader (a member) FAILs" \
    "FAIL data-team source 10.10.6.20,PASS data-team source 10.10.5.20" \
    "$(pfq lines path.isolation 2>&1)"
expect_check "... naming the reader's zone table and the direct peering" FAIL path.isolation \
    "data-team source 10.10.6.20" \
    "$RTB_B ($SB's table) sends replies by route 10.30.0.0/16 via $(eval echo "\$${L}_PCX_DIRECT")"

# the reader endpoint resolving to the reader, whose interface moto does not make: the
# path.* lines judge it from its RDS subnet (zone b's, without the route back: the job
# cannot connect now, a FAIL); the writer, a reader after a failover or the instance the
# endpoint falls back to without readers, is the other one
rconfig $L "$RD"
rpf $L "$HOSTS"
expect_eq "reader endpoint, the reader without an interface, its subnet unrouted: exit 3, route-back FAILs" \
    "3 path.route-back" "$rc $(pfq failing 2>&1)"
expect_check "... path.database: the reader judged from its RDS subnet" PASS path.database \
    "source orders-2" \
    "10.10.6.20:5432 (resolved via $H2) is orders-2 (reader) of the RDS API: no interface holding it is visible, so it is judged from its RDS subnet $SB in ${REG}b"
expect_check "... path.route-back: FAIL naming the reader's subnet, its table and the fix" FAIL \
    path.route-back "source" "no route in $RTB_B (associated with $SB) covers 10.20.2.15" \
    "create-route --route-table-id $RTB_B"
expect_eq "... every other hop judged from that subnet and the reader's groups" \
    "database=PASS,route=PASS,sg-egress=PASS,job-nacl-out=PASS,db-nacl-in=PASS,sg-ingress=PASS,db-nacl-out=PASS,route-back=FAIL,job-nacl-in=PASS" \
    "$(pfq path source 2>&1)"
expect_eq "reader endpoint: one failover line, for the writer" "PASS source orders-1" \
    "$(pfq lines path.failover 2>&1)"
expect_check "... every hop of the writer passes" PASS path.failover "source orders-1" \
    "after a failover $RD can point at orders-1 (writer, "
expect_eq "... --json: the PASS line names what decided" "ok" "$(pfq schema 2>&1)"

# an instance endpoint resolving to an address no interface holds (moto makes none): the
# instance is judged from its RDS subnet, zone b's, without the route back: a FAIL
eval "LH=\$${L}_LONE_HOST"
rconfig $L "$LH"
rpf $L "10.10.6.40 $LH"
expect_eq "instance endpoint without an interface, its subnet unrouted: exit 3, route-back FAILs" \
    "3 path.route-back" "$rc $(pfq failing 2>&1)"
expect_check "... path.database: judged from its RDS subnet" PASS path.database "source lone" \
    "10.10.6.40:5432 (resolved) is lone (instance) of the RDS API: no interface holding it is visible, so it is judged from its RDS subnet $SB in ${REG}b"
expect_check "... path.route-back: FAIL naming its subnet and the fix" FAIL path.route-back \
    "source" "no route in $RTB_B (associated with $SB) covers 10.20.2.15" \
    "create-route --route-table-id $RTB_B"
expect_eq "... no failover line (a single-AZ instance)" "" "$(pfq lines path.failover 2>&1)"

# ---- every member routed ----------------------------------------------------------------------
L=r_all_routed
eval "CL=\$${L}_CLUSTER_HOST RD=\$${L}_READER_HOST H1=\$${L}_HOST_1 H2=\$${L}_HOST_2"
eval "SB=\$${L}_SUBNET_B REG=\$${L}_REGION"
rconfig $L "$CL"
rpf $L "10.10.5.20 $H1 $CL
10.10.6.20 $H2 $RD"
expect_eq "cluster endpoint, every member routed: exit 0, nothing fails" "0 " "$rc $(pfq failing 2>&1)"
expect_check "... the reader: PASS, every hop judged from its subnet and groups" PASS \
    path.failover "source orders-2" \
    "orders-2 (reader, $SB in ${REG}b, 10.10.6.20): every hop judged passes (route,sg-egress,job-nacl-out,db-nacl-in,sg-ingress,db-nacl-out,route-back,job-nacl-in)"
expect_eq "... no WARN among the path lines" "" \
    "$(pfq path source 2>&1 | tr ',' '\n' | grep -v '=PASS$')"
# the reader endpoint there: the reader, without an interface, judged from its routed subnet
rconfig $L "$RD"
rpf $L "10.10.5.20 $H1 $CL
10.10.6.20 $H2 $RD"
expect_eq "reader endpoint, the reader without an interface, its subnet routed: every hop passes" \
    "0 $ALL_PASS" "$rc $(pfq path source 2>&1)"
expect_check "... path.database says it was judged from its RDS subnet" PASS path.database \
    "source orders-2" "is orders-2 (reader) of the RDS API: no interface holding it is visible, so it is judged from its RDS subnet $SB in ${REG}b"

# ---- dual-stack: the reader's IPv6 address (libpq tries it too) has no route back ------------
L=r_dual
eval "CL=\$${L}_CLUSTER_HOST H1=\$${L}_HOST_1 H2=\$${L}_HOST_2 SB=\$${L}_SUBNET_B RTB_B=\$${L}_RTB_B"
eval "R6=\$${L}_READER_IP6 J6=\$${L}_JOB_IP6 REG=\$${L}_REGION"
rconfig $L "$CL"
rpf $L "10.10.5.20 $H1 $CL
10.10.6.20 $H2
$R6 $H2"
expect_eq "dual-stack cluster: exit 0, nothing fails" "0 " "$rc $(pfq failing 2>&1)"
expect_check "... the reader's IPv6 leg: WARN, no IPv6 route back from its zone's table" \
    WARN path.failover "source orders-2" \
    "orders-2 (reader, $SB in ${REG}b, 10.10.6.20 and $R6), and the job could not reach it: route-back FAIL: no route in $RTB_B (associated with $SB) covers $J6" \
    "--destination-ipv6-cidr-block"
# the reader endpoint resolving to the reader's two addresses (no interface: its RDS
# subnet): its IPv6 leg has no route back from zone b's table, a FAIL (libpq tries it)
eval "RD=\$${L}_READER_HOST"
rconfig $L "$RD"
rpf $L "10.10.5.20 $H1 $CL
10.10.6.20 $H2 $RD
$R6 $H2 $RD"
expect_eq "dual-stack reader endpoint, the reader without an interface: exit 3, route-back FAILs" \
    "3 path.route-back" "$rc $(pfq failing 2>&1)"
expect_check "... its IPv6 leg judged from its RDS subnet" PASS path.database "source orders-2" \
    "[$R6]:5432 (resolved via $H2) is orders-2 (reader) of the RDS API: no interface holding it is visible, so it is judged from its RDS subnet $SB"
expect_check "... the IPv6 route back FAILs in zone b's table" FAIL path.route-back "source" \
    "no route in $RTB_B (associated with $SB) covers $J6" "--destination-ipv6-cidr-block"

# ---- an instance endpoint (no cluster, single-AZ): unchanged -------------------------------
L=r_instance
eval "IH=\$${L}_INSTANCE_HOST"
rconfig $L "$IH"
rpf $L "10.10.5.20 $IH"
expect_eq "instance endpoint: exit 0, the path of its address as before" "0 $ALL_PASS" \
    "$rc $(pfq path "source" 2>&1)"
expect_eq "... no failover line" "" "$(pfq lines path.failover 2>&1)"
expect_check "... path.database: its interface, as before" PASS path.database "source eni-" \
    "10.10.5.20:5432 (resolved) on eni-"
# one in zone b without an interface: judged from its RDS subnet, routed there
eval "LH=\$${L}_LONE_HOST SB=\$${L}_SUBNET_B REG=\$${L}_REGION"
rconfig $L "$LH"
rpf $L "10.10.6.40 $LH"
expect_eq "instance endpoint without an interface, its subnet routed: every hop passes" \
    "0 $ALL_PASS" "$rc $(pfq path "source" 2>&1)"
expect_check "... path.database: judged from its RDS subnet" PASS path.database "source lone" \
    "is lone (instance) of the RDS API: no interface holding it is visible, so it is judged from its RDS subnet $SB in ${REG}b"
expect_eq "... no failover line" "" "$(pfq lines path.failover 2>&1)"
# a Multi-AZ instance: its standby is the other instance; moto does not say in which zone
# (no SecondaryAvailabilityZone), so its subnet is unknown: a WARN saying so
eval "MH=\$${L}_MULTI_AZ_HOST"
rconfig $L "$MH"
rpf $L "10.10.5.20 $MH"
expect_eq "Multi-AZ instance endpoint: exit 0, its address judged as before" "0 $ALL_PASS" \
    "$rc $(pfq path "source" 2>&1)"
expect_check "... its standby's zone unknown: WARN" WARN path.failover "source rds" \
    "is an RDS Multi-AZ instance endpoint: which instances it can point to after a failover is not known (DescribeDBInstances gives no SecondaryAvailabilityZone for duo"

# ---- RDS denied --------------------------------------------------------------------------------
H1=$r_reader_unrouted_HOST_1 CL=$r_reader_unrouted_CLUSTER_HOST
rconfig r_reader_unrouted "$CL"
AWS_ACCESS_KEY_ID=$DENY_AKID AWS_SECRET_ACCESS_KEY=$DENY_SECRET rpf r_reader_unrouted "10.10.5.20 $H1 $CL"
expect_eq "rds:Describe* denied: exit 0, the name's address still judged" "0 $ALL_PASS" \
    "$rc $(pfq path source 2>&1)"
expect_check "... a WARN naming the missing permission" WARN path.failover "source rds" \
    "allow rds:DescribeDBClusters" "rds:DescribeDBClusters and rds:DescribeDBInstances"

# ---- the same under ASan+UBSan: a cluster with a reader judged, and denied -----------------
if [ -x build/asan/anonetl ]; then
    for creds in "$MOTO_AKID $MOTO_SECRET" "$DENY_AKID $DENY_SECRET"; do
        AWS_ACCESS_KEY_ID=${creds%% *} AWS_SECRET_ACCESS_KEY=${creds#* } BIN=build/asan/anonetl \
            ASAN_OPTIONS=detect_leaks=1:exitcode=99 \
            UBSAN_OPTIONS=halt_on_error=1:exitcode=99:print_stacktrace=1 \
            rpf r_reader_unrouted "10.10.5.20 $H1 $CL
10.10.6.20 $r_reader_unrouted_HOST_2"
        if grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$tmp/err"; then
            not_ok "ASan: no sanitizer report" "$(grep -E -A12 'Sanitizer|runtime error' "$tmp/err" | head -30)"
        else
            expect_eq "ASan: exit 0, a failover line, no sanitizer report" "0 1" \
                "$rc $(pfq lines path.failover 2>&1 | grep -c 'WARN source')"
        fi
    done
else
    skip "ASan+UBSan runs" "build/asan/anonetl not built (make build/asan/anonetl)"
fi

# ---- no secret in any output ---------------------------------------------------------------
if grep -qF -e "$MOTO_SECRET" -e "$DENY_SECRET" "$tmp/all"; then
    not_ok "no secret key in any output"
else
    ok "no secret key in any output"
fi

done_testing
