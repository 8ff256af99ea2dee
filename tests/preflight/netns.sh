#!/usr/bin/env bash
# tests/preflight/netns.sh: `anonetl preflight` across two network namespaces.
#
# "prod-$$" holds a PostgreSQL listening with TLS (a test CA made with openssl, server
# certificate for db.prod.test) on 10.77.0.1; "iso-$$" runs the preflight. Each case
# changes one thing (hosts file, CA, password, grant, route, server) and checks the
# verdict and exit code. Traffic never leaves the two namespaces and the host loopback:
# the timeout goes to an address routed into prod, which does not forward (a silent
# drop), and names missing from the hosts file go to a resolver on iso's own loopback.
# "Live probes decide" (issue 12): moto, the fault server and the fake ECS task metadata
# endpoint run on iso's loopback; `anonetl run` goes on with a WARN (log and EMF) when the
# EC2 API disagrees or cannot be reached, and exits 3 naming the first blocking hop when
# prod blackholes the replies to the job. An RDS-like endpoint name, a chain of CNAMEs
# served by a DNS server on iso's loopback (lib/fake_dns.py), is followed to its address.
set -u
cd "$(dirname "$0")/../.."
. tests/lib/tap.sh
. tests/lib/poll.sh
. tests/lib/pgcluster.sh
. tests/preflight/lib/netns.sh

PFJSON="python3 tests/preflight/lib/pfjson.py"
PROD="prod-$$"
ISO="iso-$$"
WORK=""
PORT=5432

skip_all() {
    skip "preflight in network namespaces" "$1"
    done_testing
    exit 0
}

why=$(ns_can_run) || skip_all "namespaces unavailable: $why"
[ -x "$(pgc__bin)/initdb" ] || skip_all "PostgreSQL binaries not found in $(pgc__bin)"
command -v openssl >/dev/null 2>&1 || skip_all "no openssl command"
command -v python3 >/dev/null 2>&1 || skip_all "no python3"
[ -x ./anonetl ] || skip_all "./anonetl not built (make anonetl)"

cleanup() {
    [ -n "$WORK" ] && pgc_stop "$WORK/pg" >/dev/null 2>&1
    ns_teardown "$PROD" "$ISO"
    [ -n "$WORK" ] && rm -rf "$WORK"
}
trap cleanup EXIT

WORK=$(pgc_mktemp) || skip_all "cannot make a temp dir"
TLS="$WORK/tls"

# ---- setup ------------------------------------------------------------------------

make_pki() { # a CA, a server certificate for db.prod.test signed by it, an unrelated CA
    mkdir -p "$TLS" && (
        cd "$TLS" &&
            openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 400 \
                -subj "/CN=anonetl test CA" -keyout ca.key -out ca.crt 2>/dev/null &&
            openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 400 \
                -subj "/CN=some other CA" -keyout other.key -out other.crt 2>/dev/null &&
            openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
                -subj "/CN=db.prod.test" -keyout server.key -out server.csr 2>/dev/null &&
            printf 'subjectAltName=DNS:db.prod.test\n' >san.ext &&
            openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 365 \
                -extfile san.ext -out server.crt 2>/dev/null &&
            chown postgres: server.key server.crt && chmod 600 server.key
    )
}

start_cluster() { # inside prod: it listens on prod's veth address
    # registered in this shell's list (pgc__registry), which cleanup empties
    PGC_REGISTRY=$(pgc__registry) ip netns exec "$PROD" bash -c ". tests/lib/pgcluster.sh && pgc_start '$WORK/pg'"
}

make_cluster() {
    pgc_init "$WORK/pg" "$PORT" || return 1
    printf "listen_addresses = '%s'\nssl = on\nssl_cert_file = '%s'\nssl_key_file = '%s'\n" \
        "$NS_PROD_ADDR" "$TLS/server.crt" "$TLS/server.key" |
        pgc__as_owner tee -a "$WORK/pg/data/postgresql.conf" >/dev/null
    echo "hostssl all all 10.77.0.0/16 scram-sha-256" |
        pgc__as_owner tee -a "$WORK/pg/data/pg_hba.conf" >/dev/null
    start_cluster
}

sql() { pgc_psql "$WORK/pg" "$@"; }

make_roles() {
    sql -c "CREATE ROLE reader LOGIN PASSWORD 'reader-pw'" \
        -c "CREATE ROLE writer LOGIN PASSWORD 'writer-pw'" \
        -c "CREATE ROLE data_team NOLOGIN" \
        -c "CREATE DATABASE src" -c "CREATE DATABASE tgt OWNER writer" &&
        sql -d src -c "CREATE TABLE public.people (id int PRIMARY KEY, email text)" \
            -c "REVOKE ALL ON public.people FROM PUBLIC" \
            -c "GRANT SELECT ON public.people TO reader" &&
        sql -d tgt -c "CREATE SCHEMA anonetl AUTHORIZATION writer" \
            -c "REVOKE ALL ON SCHEMA anonetl FROM PUBLIC"
}

# write_config HOST ROOTCERT SOURCE_CIDR [TIMEOUT]
write_config() {
    cat >"$WORK/anonetl.yaml" <<YAML
version: 1
source:
  host: $1
  port: $PORT
  dbname: src
  user: reader
  password: { env: PF_SOURCE_PASSWORD }
  sslmode: verify-full
  sslrootcert: $2
target:
  host: $1
  port: $PORT
  dbname: tgt
  user: writer
  password: { env: PF_TARGET_PASSWORD }
  sslmode: verify-full
  sslrootcert: $2
  grant_select_to: [data_team]
secrets:
  hash_key: { env: ANONETL_HASH_KEY }
network:
  endpoints:
    - name: source
      expect_cidr: $3
    - name: target
      expect_cidr: 10.77.0.0/16
  connect_timeout: ${4:-3s}
tables:
  - name: public.people
    columns:
      id: keep
      email: { hash: {} }
YAML
}

OUT="$WORK/out.json"
RC=0
# preflight ARGS...: run in iso, JSON into $OUT, exit status into $RC
preflight() {
    ip netns exec "$ISO" env PF_SOURCE_PASSWORD="${SRC_PW:-reader-pw}" \
        PF_TARGET_PASSWORD="${TGT_PW:-writer-pw}" \
        ./anonetl preflight -c "$WORK/anonetl.yaml" --json "$@" >"$OUT" 2>"$WORK/err.txt"
    RC=$?
}
status_of() { $PFJSON "$OUT" status "$1" "$2" 2>&1 | sort -u | tr '\n' ' ' | sed 's/ $//'; }
detail_of() { $PFJSON "$OUT" detail "$1" "$2" 2>&1; }
expect_detail() { # name group subject needle
    local d
    d=$(detail_of "$2" "$3")
    case "$d" in
    *"$4"*) ok "$1" ;;
    *) not_ok "$1" "wanted \"$4\" in: $d$(cat "$WORK/err.txt")" ;;
    esac
}

make_pki || skip_all "openssl could not make the test certificates"
ns_setup "$PROD" "$ISO" || skip_all "could not set up the namespaces"
if ! make_cluster; then
    not_ok "start PostgreSQL in $PROD" "$(tail -20 "$WORK/pg/server.log" 2>/dev/null)"
    done_testing
    exit 1
fi
check "roles, databases and a source table" make_roles

# ---- cases ------------------------------------------------------------------------

ns_hosts "$ISO" "$NS_PROD_ADDR db.prod.test"
write_config db.prod.test "$TLS/ca.crt" 10.77.0.0/16

preflight --only dns
expect_eq "dns: private address inside expect_cidr: exit 0" 0 "$RC"
expect_eq "dns: PASS for the source" PASS "$(status_of dns source)"

preflight
expect_eq "everything in place: exit 0" 0 "$RC"
expect_eq "everything in place: no FAIL, no WARN" "pass=11 warn=0 fail=0" "$($PFJSON "$OUT" summary)"
expect_eq "tcp PASS" PASS "$(status_of tcp source)"
expect_eq "tls verify-full with the right CA: PASS" PASS "$(status_of tls source)"
expect_detail "tls names the verified certificate" tls source "db.prod.test verified"
expect_eq "login PASS (source and target)" PASS "$(status_of login '')"
expect_eq "privileges PASS (source and target)" PASS "$(status_of privileges '')"

out=$(ip netns exec "$ISO" env PF_SOURCE_PASSWORD=reader-pw PF_TARGET_PASSWORD=writer-pw \
    ./anonetl preflight -c "$WORK/anonetl.yaml" --only tls)
rc=$?
expect_eq "table output: exit 0" 0 "$rc"
case "$out" in
*STATUS*CHECK*SUBJECT*DETAIL*"PASS   tls"*"passed"*) ok "table output: header, rows, summary" ;;
*) not_ok "table output: header, rows, summary" "$out" ;;
esac
case "$out" in
*$'\033'*) not_ok "no colour when stdout is not a terminal" "$out" ;;
*) ok "no colour when stdout is not a terminal" ;;
esac

write_config db.prod.test "$TLS/other.crt" 10.77.0.0/16
preflight --only tls
expect_eq "tls with the wrong CA: exit 3" 3 "$RC"
expect_eq "tls with the wrong CA: FAIL" FAIL "$(status_of tls source)"
expect_detail "tls with the wrong CA: says verification failed" tls source "certificate verification failed"

write_config db.prod.test "$TLS/ca.crt" 10.77.0.0/16
SRC_PW="not-the-password-xyzzy" preflight --only login
expect_eq "bad password: exit 3" 3 "$RC"
expect_eq "bad password: login FAIL for the source" FAIL "$(status_of login source)"
expect_eq "bad password: target still PASS" PASS "$(status_of login target)"
expect_detail "bad password: names authentication" login source "authentication failed"
if grep -q "xyzzy" "$OUT" "$WORK/err.txt"; then
    not_ok "the password is never printed"
else
    ok "the password is never printed"
fi

sql -d src -c "REVOKE SELECT ON public.people FROM reader" -c "GRANT INSERT ON public.people TO reader"
sql -d tgt -c "GRANT USAGE ON SCHEMA anonetl TO data_team"
preflight --only privileges
expect_eq "privileges broken: exit 3" 3 "$RC"
expect_detail "source role cannot read a table: FAIL" privileges source "cannot SELECT 1 table(s): public.people"
expect_detail "source role can write: WARN" privileges source "can write"
expect_detail "data team can use the private schema: leak path" privileges target \
    "leak path: data team role data_team has USAGE on private schema(s) anonetl"
sql -d src -c "GRANT SELECT ON public.people TO reader" -c "REVOKE INSERT ON public.people FROM reader"
sql -d tgt -c "REVOKE USAGE ON SCHEMA anonetl FROM data_team"
preflight --only privileges
expect_eq "privileges restored: exit 0" 0 "$RC"

ns_hosts "$ISO" "203.0.113.10 db.prod.test"
preflight --only dns # dns only: nothing ever connects to that address
# issue 12: a public address outside expect_cidr means the traffic would leave through an
# internet or NAT gateway, not the peering: a FAIL (it was a WARN)
expect_eq "dns: public address outside expect_cidr: exit 3" 3 "$RC"
expect_eq "dns: public address outside expect_cidr: FAIL" FAIL "$(status_of dns source)"
expect_detail "dns: public address: says the traffic would not take the peering" dns source \
    "outside expect_cidr 10.77.0.0/16: traffic would leave through an internet or NAT gateway"

ns_hosts "$ISO" "$NS_PROD_ADDR db.prod.test"
write_config db.prod.test "$TLS/ca.crt" 10.99.0.0/16
preflight --only dns
expect_eq "dns: private address outside expect_cidr: exit 3" 3 "$RC"
expect_detail "dns: outside expect_cidr: FAIL names the CIDR" dns source "outside expect_cidr 10.99.0.0/16"

write_config nosuch.prod.test "$TLS/ca.crt" 10.77.0.0/16
preflight --only dns
expect_eq "dns: unknown name: exit 3" 3 "$RC"
expect_detail "dns: unknown name: does not resolve" dns source "does not resolve"

write_config "$NS_DROP_ADDR" "$TLS/ca.crt" 10.77.0.0/16 1s
start=$SECONDS
preflight --only tcp
expect_eq "tcp: dropped traffic: exit 3" 3 "$RC"
expect_detail "tcp: dropped traffic: timeout FAIL" tcp source "no answer in 1s: routing, security group or NACL"
if [ $((SECONDS - start)) -le 6 ]; then
    ok "tcp: the timeout is honoured"
else
    not_ok "tcp: the timeout is honoured" "took $((SECONDS - start))s"
fi

write_config "$NS_NOROUTE_ADDR" "$TLS/ca.crt" 10.88.0.0/16
preflight --only tcp
expect_eq "tcp: no route: exit 3" 3 "$RC"
expect_detail "tcp: no route: unreachable FAIL" tcp source "unreachable"

# ---- live probes decide; the API explains (issue 12) ------------------------------------
# The same PostgreSQL, now also at 10.77.5.20 (prod), seen from the job at 10.77.18.15 (iso),
# and an EC2 API on iso's own loopback: moto with the path layouts of
# tests/preflight/lib/aws_path_topology.py on these addresses (n_*), or the fault server of
# tests/preflight/lib/fault_server.py. `anonetl run` goes on when the live probes pass,
# whatever the API says (each disagreement a WARN in the log and an EMF metric), and
# stops with exit 3 naming the first blocking hop when a live probe fails.
live_probes_decide() {
    local py ids port=4566 md_pid= fs_pid= moto_pid= l
    py=$(command -v python3)
    "$py" -c 'import moto.server, botocore' 2>/dev/null || {
        skip "live probes decide" "no python3 with moto and botocore"
        return 0
    }
    ip -n "$PROD" addr add 10.77.5.20/24 dev "vp$$" &&
        ip -n "$ISO" addr add 10.77.18.15/24 dev "vi$$" &&
        ip -n "$ISO" route add 10.77.5.0/24 dev "vi$$" src 10.77.18.15 &&
        ip -n "$PROD" route add 10.77.18.0/24 dev "vp$$" || {
        not_ok "second addresses in the namespaces"
        return 1
    }
    printf "listen_addresses = '%s,10.77.5.20'\n" "$NS_PROD_ADDR" |
        pgc__as_owner tee -a "$WORK/pg/data/postgresql.conf" >/dev/null
    pgc_stop "$WORK/pg" && start_cluster || { not_ok "restart PostgreSQL on 10.77.5.20"; return 1; }
    ns_hosts "$ISO" "10.77.5.20 db.prod.test"

    ip netns exec "$ISO" env INITIAL_NO_AUTH_ACTION_COUNT=inf "$py" -m moto.server \
        -H 127.0.0.1 -p $port >"$WORK/moto.log" 2>&1 &
    moto_pid=$!
    for _ in $(seq 1 150); do
        ip netns exec "$ISO" "$py" -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/moto-api/data.json', timeout=1)" 2>/dev/null && break
        sleep 0.1
    done
    if ! ids=$(ip netns exec "$ISO" env MOTO_URL="http://127.0.0.1:$port" AWS_ACCESS_KEY_ID=testing \
        AWS_SECRET_ACCESS_KEY=testing "$py" tests/preflight/lib/aws_topology.py build \
        n_ok n_no_return n_sg_wrong_subnet n_iso_direct 2>"$WORK/topo.err"); then
        not_ok "path layouts in moto (inside $ISO)" "$(cat "$WORK/topo.err")"
        kill "$moto_pid"
        return 1
    fi
    eval "$ids"

    # run_config LABEL ENDPOINT [NOJOB]: the netns config plus an aws: section over LABEL
    # (DATAPCX: the data team's peering too, required: false)
    run_config() {
        local v n
        for v in REGION PCX RTB_JOB RTB_DB SG_DB; do
            n=${1}_$v
            printf -v "$v" '%s' "${!n}"
        done
        write_config db.prod.test "$TLS/ca.crt" 10.77.4.0/22 2s
        "$py" - "$WORK/anonetl.yaml" "$REGION" "$2" "${3:-}" "$PCX" "$RTB_JOB" "$RTB_DB" "$SG_DB" \
            "${DATAPCX:-}" <<'PY'
import sys
path, region, endpoint, nojob, pcx, rtb_job, rtb_db, sg_db, data_pcx = sys.argv[1:]
text = open(path).read().replace("expect_cidr: 10.77.0.0/16", "expect_cidr: 10.77.4.0/22")
aws = ["aws:", "  region: " + region, "  endpoint: " + endpoint]
if not nojob:
    aws.append("  job: { ip: 10.77.18.15 }")
aws += ["  peerings:", "    - { id: %s }" % pcx]
if data_pcx:
    aws.append("    - { id: %s, required: false }" % data_pcx)
aws += ["  routes:",
        "    - { route_table: %s, destination: 10.77.4.0/22, peering: %s }" % (rtb_job, pcx),
        "    - { route_table: %s, destination: 10.77.16.0/20, peering: %s }" % (rtb_db, pcx),
        "  security_groups:", "    - { group: %s, port: 5432, from: 10.77.16.0/20 }" % sg_db]
text = text.replace("network:\n", "\n".join(aws) + "\nnetwork:\n", 1)
open(path, "w").write(text)
PY
    }
    # run_in_iso ENV...: `anonetl run --metrics emf` in iso; EMF on $WORK/emf, log on
    # $WORK/run.err, status in RC
    run_in_iso() {
        ip netns exec "$ISO" env -i PATH="$PATH" HOME="$WORK" PF_SOURCE_PASSWORD=reader-pw \
            PF_TARGET_PASSWORD=writer-pw ANONETL_HASH_KEY=netns-test-hash-key-0123456789abcdef \
            AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_EC2_METADATA_DISABLED=true \
            AWS_MAX_ATTEMPTS=2 "$@" ./anonetl run -c "$WORK/anonetl.yaml" --metrics emf \
            >"$WORK/emf" 2>"$WORK/run.err"
        RC=$?
    }
    has_emf() { # CHECK: an EMF line PreflightDisagreements with Check=CHECK
        "$py" - "$WORK/emf" "$1" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    d = json.loads(line)
    if "PreflightDisagreements" in d and d.get("Check") == sys.argv[2]:
        sys.exit(0)
sys.exit(1)
PY
    }

    # -- the API disagrees (the job's subnet is not in the database group), the path works;
    #    the job's identity from the ECS task metadata endpoint (fake, on iso's loopback)
    ip netns exec "$ISO" "$py" tests/preflight/lib/fake_job_metadata.py --mode ecs \
        --ip 10.77.18.15 --mac "$n_sg_wrong_subnet_JOB_MAC" --port-file "$WORK/md.port" \
        --log "$WORK/md.log" &
    md_pid=$!
    poll_until 60 test -s "$WORK/md.port"
    run_config n_sg_wrong_subnet "http://127.0.0.1:$port" nojob
    run_in_iso ECS_CONTAINER_METADATA_URI_V4="http://127.0.0.1:$(cat "$WORK/md.port")/v4/t1"
    expect_eq "API says the group blocks the job, the live probes pass: the run goes on (exit 0)" 0 "$RC"
    if grep -q '"preflight_warning"' "$WORK/run.err" &&
        grep -q 'path.sg-ingress.*the live probes pass; the EC2 API says: no ingress rule' "$WORK/run.err"; then
        ok "the disagreement is a WARN in the log, naming the hop"
    else
        not_ok "the disagreement is a WARN in the log" "$(head -c 3000 "$WORK/run.err")"
    fi
    if has_emf path.sg-ingress && has_emf sg; then
        ok "the disagreement is in --metrics emf (PreflightDisagreements, Check=path.sg-ingress)"
    else
        not_ok "the disagreement is in --metrics emf" "$(cat "$WORK/emf")"
    fi
    grep -q "^GET /v4/t1/task 200" "$WORK/md.log" && ok "the job's address came from ECS task metadata" ||
        not_ok "the job's address came from ECS task metadata" "$(cat "$WORK/md.log")"
    kill "$md_pid" 2>/dev/null
    wait "$md_pid" 2>/dev/null

    # -- an instance with two interfaces: IMDSv2 names the primary, 10.77.0.2 (iso's first
    #    address; its group lets only 443 out, its subnet has no route to the database), but
    #    this host's kernel sends to the database from 10.77.18.15, the second interface's:
    #    the path is judged from that one (it was judged from the primary: two false FAILs,
    #    overruled to WARNs by the live probes)
    rm -f "$WORK/md.port"
    ip netns exec "$ISO" "$py" tests/preflight/lib/fake_job_metadata.py --mode imds \
        --ip 10.77.0.2 --mac "$n_ok_PRIMARY_MAC" --eni "$n_ok_PRIMARY_ENI" \
        --subnet "$n_ok_SUBNET_PRIMARY" --vpc "$n_ok_JOB_VPC" --groups "$n_ok_SG_PRIMARY" \
        --port-file "$WORK/md.port" --log "$WORK/md.log" &
    md_pid=$!
    poll_until 60 test -s "$WORK/md.port"
    run_config n_ok "http://127.0.0.1:$port" nojob
    ip netns exec "$ISO" env -i PATH="$PATH" HOME="$WORK" PF_SOURCE_PASSWORD=reader-pw \
        PF_TARGET_PASSWORD=writer-pw AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing \
        AWS_EC2_METADATA_SERVICE_ENDPOINT="http://127.0.0.1:$(cat "$WORK/md.port")" \
        ./anonetl preflight -c "$WORK/anonetl.yaml" --json >"$OUT" 2>"$WORK/err.txt"
    RC=$?
    expect_eq "second interface: exit 0, the job's hops PASS (were WARNs: the primary's)" \
        "0 PASS PASS" "$RC $(status_of path.route source) $(status_of path.sg-egress source)"
    expect_detail "path.job names the interface the packets leave from" path.job \
        "source $n_ok_JOB_ENI" "leave from 10.77.18.15 on $n_ok_JOB_ENI"
    expect_detail "... the metadata's primary still says where the job runs" path.job "job" \
        "10.77.0.2 on $n_ok_PRIMARY_ENI"
    kill "$md_pid" 2>/dev/null
    wait "$md_pid" 2>/dev/null

    # -- the API cannot be reached: no endpoint, throttled, clock skewed
    run_config n_ok "http://127.0.0.1:1"
    run_in_iso
    expect_eq "no EC2 endpoint, live probes pass: exit 0" 0 "$RC"
    if grep -q 'EC2 API: the live probes pass' "$WORK/run.err" && has_emf peering; then
        ok "no EC2 endpoint: a WARN in the log and in EMF"
    else
        not_ok "no EC2 endpoint: a WARN in the log and in EMF" "$(head -c 2000 "$WORK/run.err") $(cat "$WORK/emf")"
    fi
    for script in limit expired; do
        rm -f "$WORK/fs.port"
        ip netns exec "$ISO" "$py" tests/preflight/lib/fault_server.py --port-file "$WORK/fs.port" \
            --log "$WORK/fs.log" --script "$script" --skew 3600 --lifetime 60 &
        fs_pid=$!
        poll_until 60 test -s "$WORK/fs.port"
        run_config n_ok "http://127.0.0.1:$(cat "$WORK/fs.port")"
        run_in_iso
        if [ "$RC" = 0 ] && grep -q 'EC2 API: the live probes pass' "$WORK/run.err"; then
            ok "EC2 API $script (throttled / clock skew), live probes pass: exit 0 with a WARN"
        else
            not_ok "EC2 API $script, live probes pass: exit 0 with a WARN" "rc=$RC $(head -c 2000 "$WORK/run.err")"
        fi
        kill "$fs_pid" 2>/dev/null
        wait "$fs_pid" 2>/dev/null
    done

    # -- the API answers, the path is dropped: replies to the job are blackholed in prod
    ip -n "$PROD" route add blackhole 10.77.18.15/32
    run_config n_no_return "http://127.0.0.1:$port"
    start=$SECONDS
    run_in_iso
    expect_eq "dropped path, the API shows the missing return route: exit 3" 3 "$RC"
    if grep -q 'FAIL tcp source.*path analysis: first blocking hop path.route-back' "$WORK/run.err"; then
        ok "the failed live probe names the first blocking hop (path.route-back)"
    else
        not_ok "the failed live probe names the first blocking hop" "$(head -c 3000 "$WORK/run.err")"
    fi
    [ $((SECONDS - start)) -le 20 ] && ok "dropped path: the run stops within the timeouts" ||
        not_ok "dropped path: the run stops within the timeouts" "$((SECONDS - start)) s"
    run_config n_ok "http://127.0.0.1:$port"
    run_in_iso
    expect_eq "dropped path, healthy API view: exit 3" 3 "$RC"
    grep -q 'path analysis: no hop blocks it in the EC2 view' "$WORK/run.err" &&
        ok "healthy API view: says no hop blocks it (look elsewhere)" ||
        not_ok "healthy API view: says no hop blocks it" "$(head -c 3000 "$WORK/run.err")"
    ip -n "$PROD" route del blackhole 10.77.18.15/32

    run_config n_ok "http://127.0.0.1:$port"
    run_in_iso
    expect_eq "path restored, healthy API: the run succeeds" 0 "$RC"

    # -- the job's path works and the live probes pass, but production also routes the data
    #    team's 10.30.0.0/16 back over a direct peering: path.isolation FAILs and stays a
    #    FAIL (the job's connections say nothing about what the data team can reach)
    DATAPCX=$n_iso_direct_PCX_DATA run_config n_iso_direct "http://127.0.0.1:$port"
    run_in_iso
    expect_eq "production peered with the data team directly: the run stops (exit 3)" 3 "$RC"
    if grep -q "FAIL path.isolation data-team source 10.77.5.20.*$n_iso_direct_PCX_DIRECT" \
        "$WORK/run.err" && ! grep -q 'path.isolation.*the live probes pass' "$WORK/run.err"; then
        ok "path.isolation stays a FAIL naming the direct peering, not overruled by the live probes"
    else
        not_ok "path.isolation stays a FAIL, not overruled" "$(head -c 3000 "$WORK/run.err")"
    fi
    run_config n_ok "http://127.0.0.1:$port" # what the checks below run on

    # -- an RDS endpoint: the DSN's name is a chain of CNAMEs (the cluster endpoint, then the
    #    current instance's) that a DNS server on iso's loopback answers (the hosts file no
    #    longer has it): the live probes and the path analysis follow it to the address
    rm -f "$WORK/dns.port"
    ip netns exec "$ISO" "$py" tests/preflight/lib/fake_dns.py --listen 127.0.0.1 --port 53 \
        --log "$WORK/dns.log" --port-file "$WORK/dns.port" \
        db.prod.test=CNAME:anon.cluster-c1.eu-west-2.rds.amazonaws.test \
        anon.cluster-c1.eu-west-2.rds.amazonaws.test=CNAME:anon-1.c1.eu-west-2.rds.amazonaws.test \
        anon-1.c1.eu-west-2.rds.amazonaws.test=A:10.77.5.20 &
    dns_pid=$!
    poll_until 60 test -s "$WORK/dns.port"
    ns_hosts "$ISO" "127.0.0.1 localhost"
    ip netns exec "$ISO" env -i PATH="$PATH" HOME="$WORK" PF_SOURCE_PASSWORD=reader-pw \
        PF_TARGET_PASSWORD=writer-pw AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing \
        AWS_EC2_METADATA_DISABLED=true ./anonetl preflight -c "$WORK/anonetl.yaml" --json \
        >"$OUT" 2>"$WORK/err.txt"
    RC=$?
    expect_eq "RDS-like CNAME chain: the whole preflight passes (dns, tcp, tls verify-full, login, path)" \
        "0 pass" "$RC $(status_of tls source | tr 'A-Z' 'a-z')"
    expect_detail "the path analysis takes the chain's address and names its end" path.database \
        source "10.77.5.20:5432 (resolved via anon-1.c1.eu-west-2.rds.amazonaws.test)"
    grep -q "^A db.prod.test 0" "$WORK/dns.log" && ok "the name was asked of the DNS server" ||
        not_ok "the name was asked of the DNS server" "$(cat "$WORK/dns.log" 2>/dev/null)"
    kill "$dns_pid" 2>/dev/null
    wait "$dns_pid" 2>/dev/null

    # -- a name whose first address does not answer (a record of a path that drops, such as
    #    a dual-stack endpoint's AAAA without IPv6 rules) before one that does: the probe gets
    #    through, as libpq does, only after the timeout, which each connection then pays
    #    (it was a PASS). Neither address is in a subnet of iso: the hosts file's order stays.
    ns_hosts "$ISO" "$NS_DROP_ADDR db.prod.test
10.77.5.20 db.prod.test"
    write_config db.prod.test "$TLS/ca.crt" 10.77.0.0/16 1s
    preflight --only dns,tcp,tls
    expect_eq "tcp: the first address times out, the next answers: WARN, exit 0 (was a PASS)" \
        "0 WARN" "$RC $(status_of tcp source)"
    expect_detail "tcp: names the address that did not answer and the wait" tcp source \
        "but only after $NS_DROP_ADDR did not answer in 1s"
    expect_eq "tls: still checked on the address that answers" PASS "$(status_of tls source)"
    ns_hosts "$ISO" "10.77.5.20 db.prod.test"
    kill "$moto_pid" 2>/dev/null
    wait "$moto_pid" 2>/dev/null
    ns_hosts "$ISO" "$NS_PROD_ADDR db.prod.test"
    return 0
}
live_probes_decide

pgc_stop "$WORK/pg"
write_config db.prod.test "$TLS/ca.crt" 10.77.0.0/16
preflight
expect_eq "server stopped: exit 3" 3 "$RC"
expect_detail "server stopped: refused FAIL" tcp source "refused: reachable but nothing listening on port $PORT"
expect_eq "server stopped: login not attempted (SKIP)" SKIP "$(status_of login source)"

preflight --only nosuchgroup
expect_eq "unknown --only group: usage error (exit 2)" 2 "$RC"

done_testing
