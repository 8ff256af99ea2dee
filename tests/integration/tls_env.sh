#!/usr/bin/env bash
# tests/integration/tls_env.sh: TLS is required wherever libpq will really connect
# (issue 10.5), and secret references resolve before the preflight (issue 14).
#
# A DSN without host used to count as local, so PGHOST=db.internal, PGHOSTADDR or a
# service file (PGSERVICE) sent the run to another host without TLS. Now the host comes
# from libpq's own defaults, and anything that is not loopback or a unix socket needs
# verify-full (verify-ca, which skips the host name, is weaker): anything less is refused
# before connecting (exit 2). The remote cases run in a network namespace of their own
# (unshare -n: no interface but a downed loopback), so nothing leaves this machine even on
# a build that would connect;
# the positive controls connect to the two loopback clusters through PGHOST (socket and
# 127.0.0.1) and PGHOSTADDR.
set -u
cd "$(dirname "$0")/../.."
. tests/lib/tap.sh
. tests/lib/pgcluster.sh

ANONETL=${ANONETL:-./anonetl}
if ! unshare -n true 2>/dev/null; then
    skip "TLS from the environment" "unshare -n is not permitted here (needs root or user namespaces)"
    done_testing
    exit 0
fi
pgc_pair || { echo "not ok 1 - clusters did not start"; exit 1; }
export ANONETL_HASH_KEY=$(openssl rand -hex 32)
PW="Tls-$(openssl rand -hex 8)"
T -c "CREATE ROLE tls_user LOGIN SUPERUSER PASSWORD '$PW'" >/dev/null
S -c "CREATE ROLE tls_user LOGIN SUPERUSER PASSWORD '$PW'" >/dev/null
S -c "CREATE TABLE people (id bigint PRIMARY KEY, email text); INSERT INTO people SELECT g, 'u' || g FROM generate_series(1, 100) g" >/dev/null
unset PGHOST PGHOSTADDR PGPORT PGSERVICE PGSERVICEFILE PGSSLMODE PGUSER PGDATABASE PGPASSWORD
export PGSYSCONFDIR=/nonexistent

config() { # FILE SOURCE-DSN TARGET-DSN (literal libpq strings: no secret in them)
    cat >"$1" <<YAML
version: 1
source: { dsn: "$2" }
target: { dsn: "$3", schema: anonymised }
secrets: { hash_key: { env: ANONETL_HASH_KEY } }
tables:
  - name: public.people
    columns: { id: keep, email: { hash: {} } }
YAML
}
SRC="$(pgc_dsn "$work/src" postgres postgres)"
isolated() { unshare -n -- "$@"; } # no network at all but a downed loopback

# --- positive controls: the host from the environment, loopback or socket ----------------
config "$work/sock.yaml" "$SRC" "dbname=postgres user=postgres"
PGHOST="$work/tgt" PGPORT=$(pgc_port "$work/tgt") "$ANONETL" run -c "$work/sock.yaml" --skip-preflight >"$work/sock.log" 2>&1
expect_eq "PGHOST = the target's socket directory: the run exits 0 (no TLS on a socket)" 0 $?
config "$work/lo.yaml" "$SRC" "dbname=postgres user=tls_user"
PGHOST=127.0.0.1 PGPORT=$(pgc_port "$work/tgt") PGPASSWORD=$PW "$ANONETL" run -c "$work/lo.yaml" --skip-preflight >"$work/lo.log" 2>&1
expect_eq "PGHOST = 127.0.0.1: the run exits 0 (loopback needs no TLS)" 0 $?
# PGHOSTADDR applies to both sides: each names its own port
config "$work/addr.yaml" "host=localhost port=$(pgc_port "$work/src") dbname=postgres user=tls_user" \
    "host=localhost port=$(pgc_port "$work/tgt") dbname=postgres user=tls_user sslmode=disable"
PGHOSTADDR=127.0.0.1 PGPASSWORD=$PW "$ANONETL" run -c "$work/addr.yaml" --skip-preflight >"$work/addr.log" 2>&1
expect_eq "PGHOSTADDR = 127.0.0.1 with sslmode=disable: the run exits 0" 0 $?

# --- the host comes from the environment or a service file: refused before connecting ----
refused() { # NAME EXPECTED-TEXT env... -- config: exit 2, the host named, no connection
    local name=$1 text=$2
    shift 2
    isolated env "$@" "$ANONETL" run -c "$work/r.yaml" --skip-preflight >"$work/r.log" 2>&1
    local rc=$?
    expect_eq "$name: exit 2 before connecting" 2 "$rc"
    if grep -q -- "$text" "$work/r.log"; then ok "$name: names $text"; else
        not_ok "$name: names $text" "$(tail -2 "$work/r.log")"; fi
}
config "$work/r.yaml" "$SRC" "dbname=postgres user=postgres sslmode=disable"
refused "PGHOST=db.internal, sslmode=disable" "host db.internal (from PGHOST" PGHOST=db.internal
config "$work/r.yaml" "$SRC" "host=localhost dbname=postgres user=postgres sslmode=prefer"
refused "PGHOSTADDR=192.0.2.10 under host=localhost, sslmode=prefer" "hostaddr 192.0.2.10" PGHOSTADDR=192.0.2.10
printf '[prod]\nhost=db.internal\nport=5432\n' >"$work/pg_service.conf"
config "$work/r.yaml" "$SRC" "dbname=postgres user=postgres sslmode=allow"
refused "PGSERVICE=prod (a service file naming db.internal), sslmode=allow" "db.internal" PGSERVICEFILE="$work/pg_service.conf" PGSERVICE=prod
config "$work/r.yaml" "$SRC" "service=prod dbname=postgres sslmode=disable"
refused "service=prod in the DSN, sslmode=disable" 'prod.\{0,3\} named in the connection string' PGSERVICEFILE="$work/pg_service.conf"
# the source side too
config "$work/r.yaml" "dbname=postgres user=postgres sslmode=disable" "$(pgc_dsn "$work/tgt" postgres postgres)"
refused "source: PGHOST=db.internal, sslmode=disable" "source: sslmode=disable for host db.internal" PGHOST=db.internal

# verify-ca checks the CA, not the host name: any server holding a certificate of that CA
# (every RDS instance of a region shares one) would get the password and the rows.
config "$work/r.yaml" "$SRC" "host=db.internal dbname=postgres user=postgres sslmode=verify-ca"
refused "host=db.internal, sslmode=verify-ca" "sslmode=verify-ca for host db.internal"
# GSSAPI encryption, when libpq gets it (a Kerberos ticket at hand), replaces TLS and its
# certificate check whatever sslmode says: asked for outside loopback, it is refused.
for mode in prefer require; do
    config "$work/r.yaml" "$SRC" "host=db.internal dbname=postgres user=postgres sslmode=verify-full gssencmode=$mode"
    refused "host=db.internal, sslmode=verify-full, gssencmode=$mode" "gssencmode=$mode for host db.internal"
done
config "$work/r.yaml" "host=db.internal dbname=postgres user=postgres gssencmode=prefer" "$(pgc_dsn "$work/tgt" postgres postgres)"
refused "source: host=db.internal, gssencmode=prefer" "source: gssencmode=prefer for host db.internal"

# --- no sslmode: verify-full is chosen for the host from PGHOST ---------------------------
config "$work/v.yaml" "$SRC" "dbname=postgres user=postgres"
isolated env PGHOST=db.internal "$ANONETL" run -c "$work/v.yaml" --skip-preflight -v --log-format text >"$work/v.log" 2>&1
rc=$?
check "PGHOST=db.internal without sslmode: the run fails (exit $rc: nothing to reach)" test "$rc" -ne 0
check "and it connects with sslmode verify-full to the host PGHOST names" grep -q 'target: connecting to host db.internal (from PGHOST.*sslmode verify-full' "$work/v.log"
# PGGSSENCMODE=require (or a ticket with libpq's default, prefer) would have libpq skip TLS
isolated env PGHOST=db.internal PGGSSENCMODE=require "$ANONETL" run -c "$work/v.yaml" --skip-preflight -v --log-format text >"$work/g.log" 2>&1
check "PGGSSENCMODE=require: the remote host is still reached with verify-full and gssencmode disable" \
    grep -q 'target: connecting to host db.internal (from PGHOST.*sslmode verify-full, gssencmode disable' "$work/g.log"

# --- 14: a missing variable or file is a config error (exit 2), before the preflight --------
cat >"$work/m.yaml" <<YAML
version: 1
source: { dsn: { env: ANONETL_TEST_MISSING_SOURCE_URL } }
target: { dsn: { env: TGT_URL }, schema: anonymised }
secrets: { hash_key: { env: ANONETL_HASH_KEY } }
tables:
  - name: public.people
    columns: { id: keep, email: { hash: {} } }
YAML
TGT_URL="host=127.0.0.1 port=$(pgc_port "$work/tgt") dbname=postgres user=tls_user password=$PW" \
    "$ANONETL" run -c "$work/m.yaml" >"$work/m.log" 2>&1; rc=$?
expect_eq "a missing environment variable for the source DSN: exit 2 (not 3)" 2 "$rc"
check "the variable is named" grep -q 'ANONETL_TEST_MISSING_SOURCE_URL is not set' "$work/m.log"
if grep -q -- "$PW" "$work/m.log"; then not_ok "no secret value in the output"; else ok "no secret value in the output"; fi
# preflight too: exit 2 naming the variable before any probe (it used to be one of its
# own FAIL lines: exit 3, which pages ops for a config problem)
TGT_URL="host=127.0.0.1 port=$(pgc_port "$work/tgt") dbname=postgres user=tls_user password=$PW" \
    "$ANONETL" preflight -c "$work/m.yaml" >"$work/pf.log" 2>&1; rc=$?
expect_eq "preflight with the source DSN's variable missing: exit 2 (not 3)" 2 "$rc"
check "preflight names the variable" grep -q 'ANONETL_TEST_MISSING_SOURCE_URL is not set' "$work/pf.log"
check "before any probe (no PASS, FAIL or SKIP line, the target not probed)" \
    bash -c "! grep -Eq '(^|[^a-z])(PASS|FAIL|SKIP)' '$work/pf.log'"
TGT_URL="host=127.0.0.1 port=$(pgc_port "$work/tgt") dbname=postgres user=tls_user password=$PW" \
    "$ANONETL" preflight -c "$work/m.yaml" --json --only tcp >"$work/pfj.log" 2>&1; rc=$?
expect_eq "preflight --json --only tcp: exit 2 as well" 2 "$rc"
sed -i 's/source: { dsn: { env: ANONETL_TEST_MISSING_SOURCE_URL } }/source: { host: 127.0.0.1, dbname: postgres, user: tls_user, password: { file: \/nonexistent\/anonetl-pw } }/' "$work/m.yaml"
TGT_URL="host=127.0.0.1 port=$(pgc_port "$work/tgt") dbname=postgres user=tls_user password=$PW" \
    "$ANONETL" run -c "$work/m.yaml" >"$work/f.log" 2>&1; rc=$?
expect_eq "a missing password file: exit 2" 2 "$rc"
check "the file is named" grep -q '/nonexistent/anonetl-pw' "$work/f.log"
"$ANONETL" check -c "$work/m.yaml" --source >"$work/c.log" 2>&1; rc=$?
expect_eq "check --source with a missing password file: exit 2" 2 "$rc"
"$ANONETL" status -c "$work/m.yaml" >"$work/st.log" 2>&1; rc=$?
expect_eq "status with the target's variable missing: exit 2" 2 "$rc"
check "and names it" grep -q 'TGT_URL is not set' "$work/st.log"
# --- a password in a DSN that libpq cannot read, or reads into the host: never printed -----
# libpq's parse errors quote the part they choke on (`invalid percent-encoded token:
# "<password>"`), and a URI's first '@' ends the user info, so p@ss... puts the rest of
# the password in the host, which connection errors and the TLS check name. Every command
# that runs unattended, and the preflight's report.
SECRETPW="pw$(openssl rand -hex 6)"
bad_dsn() { # NAME DSN: run, check --source, status, preflight: exit 2, the secret never shown
    local name=$1
    : >"$work/bad.out"
    for cmd in "run --skip-preflight" "check --source" "status" "preflight"; do
        # shellcheck disable=SC2086 # the command and its option are two words
        BAD_URL="$2" isolated "$ANONETL" $cmd -c "$work/bad.yaml" >>"$work/bad.out" 2>&1
        expect_eq "$name: $cmd exits 2" 2 $?
    done
    if grep -q "${SECRETPW:4}" "$work/bad.out"; then not_ok "$name: no part of the password in any output" "$(grep "${SECRETPW:4}" "$work/bad.out" | head -2)"
    else ok "$name: no part of the password in any output"; fi
}
sed -e 's/source: { dsn: "[^"]*" }/source: { dsn: { env: BAD_URL } }/' \
    -e 's/target: { dsn: "[^"]*",/target: { dsn: { env: BAD_URL },/' "$work/v.yaml" >"$work/bad.yaml"
bad_dsn "a '%' not followed by hex in the password" "postgresql://app:${SECRETPW:0:4}%zz${SECRETPW:4}@127.0.0.1/postgres"
bad_dsn "an '@' in the password of a URI" "postgresql://app:${SECRETPW:0:2}@${SECRETPW:2}@db.internal/postgres"
bad_dsn "a '/' in the password of a URI" "postgresql://app:${SECRETPW:0:2}/${SECRETPW:2}@db.internal/postgres"
bad_dsn "a password without quotes around its space (keyword form)" "host=127.0.0.1 dbname=postgres password=${SECRETPW:0:2} ${SECRETPW:2}"
done_testing
