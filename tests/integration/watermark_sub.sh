#!/usr/bin/env bash
# tests/integration/watermark_sub.sh: incremental runs from a logical replica: the source
# subscribes to a publisher (a third loopback cluster, wal_level logical).
#
# The apply worker commits each publisher transaction when it committed there, in that
# order, with the publisher's ids and stamps; while it is open there, nothing on the
# source holds a lock. An integer watermark took the exact bound of a primary (lag 0): a
# publisher transaction that took id 21 and committed after the one that took 22 landed
# on the source after a run read 22, and was never read (deletes: none), whatever the
# source role could see (the subscriber's own sequence is never used; a role without
# SELECT on it saw nothing). Now such a table is treated like a foreign table: the lag
# defaults to 15min, the first runs reload until a mark is that old, window_held and
# check --source say why.
set -u
cd "$(dirname "$0")/../.."
. tests/lib/tap.sh
. tests/lib/pgcluster.sh

ANONETL=${ANONETL:-./anonetl}
pgc_pair || { echo "not ok 1 - clusters did not start"; exit 1; }
pgc_init "$work/pub" >/dev/null &&
    echo "wal_level = logical" | pgc__as_owner tee -a "$work/pub/data/postgresql.conf" >/dev/null &&
    pgc_start "$work/pub" >/dev/null || { echo "not ok 1 - the publisher did not start"; exit 1; }
P() { pgc_psql "$work/pub" -d postgres "$@"; }
export ANONETL_HASH_KEY=$(openssl rand -hex 32)
export SOURCE_DATABASE_URL="$(pgc_dsn "$work/src" postgres app)"
export TARGET_DATABASE_URL="$(pgc_dsn "$work/tgt" postgres postgres)"

P >/dev/null <<'SQL'
CREATE TABLE lev (id bigserial PRIMARY KEY, v int NOT NULL);
CREATE TABLE tev (id bigint PRIMARY KEY, v int NOT NULL, wm timestamptz NOT NULL DEFAULT clock_timestamp());
INSERT INTO lev (v) SELECT g FROM generate_series(1, 20) g;
INSERT INTO tev (id, v) SELECT g, g FROM generate_series(1, 20) g;
CREATE PUBLICATION pub FOR TABLE lev, tev;
SQL
# the source role reads the tables, not the subscriber's sequence (which is never used)
S >/dev/null <<SQL
SET client_min_messages = warning;
CREATE ROLE app LOGIN;
CREATE TABLE lev (id bigserial PRIMARY KEY, v int NOT NULL);
CREATE TABLE tev (id bigint PRIMARY KEY, v int NOT NULL, wm timestamptz NOT NULL DEFAULT clock_timestamp());
CREATE TABLE local_only (id bigserial PRIMARY KEY, v int NOT NULL);
GRANT SELECT ON lev, tev, local_only TO app;
CREATE SUBSCRIPTION sub
    CONNECTION 'host=$(cd "$work/pub" && pwd -P) port=$(pgc_port "$work/pub") dbname=postgres user=postgres'
    PUBLICATION pub;
SQL
replicated() { # SQL-CONDITION on lev: poll the source (the apply is asynchronous), 30 s at most
    local deadline=$((SECONDS + 30))
    while [ "$SECONDS" -lt "$deadline" ]; do
        [ "$(S -tAc "SELECT count(*) > 0 FROM lev WHERE $1")" = t ] && return 0
        sleep 0.2
    done
    return 1
}
check "the subscription copied the publisher's rows" replicated "id = 20"

config() { # NAME SCHEMA LAG-ITEM
    cat >"$work/$1.yaml" <<YAML
version: 1
source: { dsn: { env: SOURCE_DATABASE_URL } }
target: { dsn: { env: TARGET_DATABASE_URL }, schema: $2 }
secrets: { hash_key: { env: ANONETL_HASH_KEY } }
tables:
  - { name: public.lev, mode: incremental, key: [id], watermark: id$3, columns: { id: keep, v: keep } }
  - { name: public.tev, mode: incremental, key: [id], watermark: wm$3, columns: { id: keep, v: keep, wm: keep } }
  - { name: public.local_only, mode: incremental, key: [id], watermark: id$3, columns: { id: keep, v: keep } }
YAML
}
config sub sub ""
config zero zero ", watermark_lag: 0s"
config short short ", watermark_lag: 2s"
run() { "$ANONETL" run -c "$work/$1.yaml" --skip-preflight >"$work/$1.log" 2>&1; }
published() { T -tAc "SELECT count(*) || ':' || coalesce(string_agg(id::text || '=' || v, ',' ORDER BY id), '') FROM $1.lev"; }
source_rows() { S -tAc "SELECT count(*) || ':' || coalesce(string_agg(id::text || '=' || v, ',' ORDER BY id), '') FROM lev"; }

# --- check --source ---------------------------------------------------------------------
"$ANONETL" check -c "$work/sub.yaml" --source >"$work/check.out" 2>&1
grep -q 'warning: public.lev: reads public.lev, which a logical replication subscription writes: .*only watermark_lag (900 s, the default here)' "$work/check.out"
check "check --source: a subscribed table, the default lag (15min for ids) named" test $? -eq 0
grep -q 'warning: public.local_only: reads .*subscription' "$work/check.out"
check "check --source: nothing said of a table no subscription writes" test $? -ne 0
"$ANONETL" check -c "$work/zero.yaml" --source >"$work/check0.out" 2>&1
grep -q 'warning: public.lev: reads public.lev, which a logical replication subscription writes, and watermark_lag is 0: .*is missed for good' "$work/check0.out"
check "check --source: watermark_lag 0 on a subscribed table: a late row is missed for good" test $? -eq 0

# --- a publisher transaction holding an id across a run ----------------------------------
run sub; expect_eq "first run exits 0" 0 $?
grep -q '"event":"window_held","run":"[0-9]*","table":"public.lev","msg":"the next run starts again after id (none: the next run reloads): a logical replication subscription writes public.lev' "$work/sub.log"
check "window_held: an integer watermark keeps no mark younger than the lag, naming the subscription" test $? -eq 0
grep -q '"event":"window_held","run":"[0-9]*","table":"public.tev","msg":"a logical replication subscription writes public.tev' "$work/sub.log"
check "window_held: a timestamptz watermark says only the lag protects it" test $? -eq 0
grep -q '"event":"window_held","run":"[0-9]*","table":"public.local_only"' "$work/sub.log"
check "window_held: nothing said of a table no subscription writes" test $? -ne 0
run zero; expect_eq "watermark_lag 0s: first run exits 0" 0 $?
run short; expect_eq "watermark_lag 2s: first run exits 0" 0 $?

# the publisher: A takes id 21 and stays open; B takes 22 and commits; a run; A commits
coproc PUBA { P -tA 2>&1; }
puba_in=${PUBA[1]} puba_out=${PUBA[0]} puba_pid=$PUBA_PID
printf 'BEGIN;\nINSERT INTO lev (v) VALUES (-21) RETURNING id;\n' >&"$puba_in"
read -r -t 30 held <&"$puba_out"
expect_eq "publisher: the open transaction holds id 21" 21 "$held"
P -c "INSERT INTO lev (v) VALUES (-22)" >/dev/null
check "id 22 reached the source (A still open on the publisher)" replicated "id = 22"
sleep 2.5 # past the short lag: the runs' marks may serve
for n in sub zero short; do run $n; expect_eq "$n: a run while A is open exits 0" 0 $?; done
printf 'COMMIT;\n\\q\n' >&"$puba_in"
wait "$puba_pid" 2>/dev/null
check "id 21 reached the source after the runs" replicated "id = 21"
for n in sub short; do
    run $n; expect_eq "$n: the next run exits 0" 0 $?
    expect_eq "$n: id 21, committed on the publisher after a run read 22, is published" "$(source_rows)" "$(published $n)"
done
sleep 2.5
run short; expect_eq "short: a run past the lag exits 0" 0 $?
grep -q '"event":"incremental","run":"[0-9]*","table":"public.lev"' "$work/short.log"
check "short: a mark the lag old serves: the run merges" test $? -eq 0
# explicit 0: the user's choice to trust the source's locks alone (check --source warned)
run zero; expect_eq "zero: the next run exits 0" 0 $?
grep -q '"event":"window_held","run":"[0-9]*","table":"public.lev"' "$work/zero.log"
check "zero: an explicit 0s takes the exact bound (what check --source warned about)" test $? -ne 0

done_testing
