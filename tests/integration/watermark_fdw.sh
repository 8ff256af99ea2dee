#!/usr/bin/env bash
# tests/integration/watermark_fdw.sh: incremental runs of tables that read foreign tables
# (postgres_fdw), on a loopback server: the source cluster holds the "remote" database too.
#
# Writers on the foreign table's server hold no lock the source shows and take ids from
# their own sequence: a run sees none of them in flight. Integer watermarks used to take
# the exact bound of a primary (lag 0): an id a remote transaction took before a larger
# one committed, and committed after a run read past it, was never read (deletes: none).
# Now such a table is treated like a standby source: watermark_lag defaults to 15min there,
# the first runs reload until a mark is that old, window_held and check --source say why.
# Two layouts: a foreign table as the source table (ev), and a partitioned table with a
# local and a foreign partition (pev).
set -u
cd "$(dirname "$0")/../.."
. tests/lib/tap.sh
. tests/lib/pgcluster.sh

ANONETL=${ANONETL:-./anonetl}
pgc_pair || { echo "not ok 1 - clusters did not start"; exit 1; }
export ANONETL_HASH_KEY=$(openssl rand -hex 32)
export SOURCE_DATABASE_URL="$(pgc_dsn "$work/src" postgres postgres)"
export TARGET_DATABASE_URL="$(pgc_dsn "$work/tgt" postgres postgres)"
R() { pgc_psql "$work/src" -d remote "$@"; }

S -c "CREATE DATABASE remote" >/dev/null
R >/dev/null <<'SQL'
CREATE TABLE events (id bigserial PRIMARY KEY, v int NOT NULL, wm timestamptz NOT NULL DEFAULT now());
CREATE SEQUENCE pev_b_ids START 1001;
CREATE TABLE pev_b (id bigint PRIMARY KEY DEFAULT nextval('pev_b_ids'), v int NOT NULL);
INSERT INTO events (v) SELECT g FROM generate_series(1, 20) g;
INSERT INTO pev_b (v) SELECT g FROM generate_series(1, 10) g;
SQL
S >/dev/null <<SQL
CREATE EXTENSION postgres_fdw;
CREATE SERVER remote FOREIGN DATA WRAPPER postgres_fdw
    OPTIONS (host '$(cd "$work/src" && pwd -P)', port '$(pgc_port "$work/src")', dbname 'remote');
CREATE USER MAPPING FOR postgres SERVER remote OPTIONS (user 'postgres');
CREATE FOREIGN TABLE ev (id bigint NOT NULL, v int NOT NULL, wm timestamptz NOT NULL)
    SERVER remote OPTIONS (table_name 'events');
-- ids of the local partition come from the application (a local sequence, below the
-- remote range, would make every run reload: "ids at or below the last run's mark")
CREATE TABLE pev (id bigint NOT NULL, v int NOT NULL) PARTITION BY RANGE (id);
CREATE TABLE pev_a PARTITION OF pev FOR VALUES FROM (0) TO (1000);
CREATE FOREIGN TABLE pev_b PARTITION OF pev FOR VALUES FROM (1000) TO (2000)
    SERVER remote OPTIONS (table_name 'pev_b');
INSERT INTO pev_a SELECT g, g FROM generate_series(1, 10) g;
SQL

config() { # NAME SCHEMA WATERMARK LAG-ITEM: ev (key_scan: required of a foreign table) and pev
    # (deletes: none), incremental
    cat >"$work/$1.yaml" <<YAML
version: 1
source: { dsn: { env: SOURCE_DATABASE_URL } }
target: { dsn: { env: TARGET_DATABASE_URL }, schema: $2 }
secrets: { hash_key: { env: ANONETL_HASH_KEY } }
tables:
  - { name: public.ev, mode: incremental, key: [id], watermark: $3$4, deletes: key_scan, columns: { id: keep, v: keep, wm: keep } }
  - { name: public.pev, mode: incremental, key: [id], watermark: id$4, columns: { id: keep, v: keep } }
YAML
}
config inc inc id ""
config zero zero id ", watermark_lag: 0s"
config tinc tinc wm ""
config lag2 lag2 id ", watermark_lag: 2s"
run() { # NAME: one run, its log in NAME.last
    "$ANONETL" run -c "$work/$1.yaml" --skip-preflight >"$work/$1.last" 2>&1 && return
    local rc=$?
    tail -3 "$work/$1.last" | sed 's/^/# /'
    return $rc
}
published() { T -tAc "SELECT count(*) FROM $1 WHERE id = $2"; }
mark() { T -tAc "SELECT high_water_mark FROM anonetl.published WHERE target_schema = '$1' AND table_name = '$2'"; }

# --- check --source names the foreign member and what protects its writes -----------------
"$ANONETL" check -c "$work/inc.yaml" --source >"$work/check.out" 2>&1
check "check --source: the foreign source table, the default lag" \
    grep -q 'public.ev: reads the foreign table public.ev: .*watermark_lag (900 s, the default here)' "$work/check.out"
check "check --source: the foreign partition is named" \
    grep -q 'public.pev: reads the foreign table public.pev_b: .*(900 s, the default here)' "$work/check.out"
"$ANONETL" check -c "$work/zero.yaml" --source >"$work/checkz.out" 2>&1
check "check --source: an explicit 0s: remote rows committed late are missed for good (deletes: none)" \
    grep -q 'public.pev: reads the foreign table public.pev_b, and watermark_lag is 0: .*missed for good' "$work/checkz.out"
check "check --source: an explicit 0s: ... or published a run later (key_scan)" \
    grep -q 'public.ev: reads the foreign table public.ev, and watermark_lag is 0: .*a run later' "$work/checkz.out"

# --- a remote transaction holds ids below a committed one across a run --------------------
# ids 21 and 1011 are taken and wait; 22 and 1012 commit; the runs read; then 21 and 1011
# commit, below the marks a lag-0 run would store (22, 1012).
# bash unsets RW and RW_PID when it reaps the coprocess, which may happen before the wait
# below: keep copies (set -u would end the suite on the unset name)
coproc RW { R -qtA 2>&1; }
rw_pid=$RW_PID rw_in=${RW[1]} rw_out=${RW[0]}
echo "BEGIN; INSERT INTO events (v) VALUES (-1) RETURNING id; INSERT INTO pev_b (v) VALUES (-1) RETURNING id;" >&"$rw_in"
read -r -t 20 late_ev <&"$rw_out"; read -r -t 20 late_pev <&"$rw_out"
expect_eq "the remote writer holds ids 21 and 1011" "21 1011" "${late_ev:-} ${late_pev:-}"
R -c "INSERT INTO events (v) VALUES (-2); INSERT INTO pev_b (v) VALUES (-2)" >/dev/null
run inc; expect_eq "a run while a remote writer holds ids exits 0" 0 $?
run zero; expect_eq "a run with watermark_lag: 0s exits 0" 0 $?
check "window_held: the foreign table, the lag (ev)" \
    grep -q '"window_held".*public.ev is a foreign table.*watermark_lag (900 s)' "$work/inc.last"
check "window_held: the foreign partition, the lag (pev)" \
    grep -q '"window_held".*public.pev_b is a foreign table.*watermark_lag (900 s)' "$work/inc.last"
expect_eq "no mark younger than the lag: the next run reloads" "|" "$(mark inc ev)|$(mark inc pev)"
expect_eq "watermark_lag: 0s trusts the local locks alone: marks at 22 and 1012" "22|1012" \
    "$(mark zero ev)|$(mark zero pev)"
printf 'COMMIT;\n\\q\n' >&"$rw_in"
wait "$rw_pid" 2>/dev/null
expect_eq "the late remote rows are committed" "-1 -1" \
    "$(R -tAc "SELECT v FROM events WHERE id = 21") $(R -tAc "SELECT v FROM pev_b WHERE id = 1011")"
run inc; expect_eq "the run after the remote commit exits 0" 0 $?
expect_eq "a remote id committed after a run read past it is published (foreign table)" 1 "$(published inc.ev 21)"
expect_eq "a remote id committed after a run read past it is published (foreign partition)" 1 "$(published inc.pev 1011)"
expect_eq "every row of both tables is published" "22|22" \
    "$(T -tAc "SELECT count(*) FROM inc.ev")|$(T -tAc "SELECT count(*) FROM inc.pev")"

# --- an explicit lag: a run's premark serves once it is that old ---------------------------
run lag2; expect_eq "a first run with watermark_lag: 2s exits 0" 0 $?
expect_eq "a first run takes no exact bound (remote writers may hold ids below it)" "|" \
    "$(mark lag2 ev)|$(mark lag2 pev)"
sleep 2.2
run lag2; expect_eq "a run 2 s later exits 0" 0 $?
expect_eq "then the first run's largest ids are the marks" "22|1012" "$(mark lag2 ev)|$(mark lag2 pev)"

# --- a time watermark on a foreign table: the lag applied, and said -----------------------
run tinc; expect_eq "a run of a timestamptz watermark on a foreign table exits 0" 0 $?
check "window_held: the foreign table, the lag (timestamptz)" \
    grep -q '"window_held".*public.ev is a foreign table.*watermark_lag (900 s)' "$work/tinc.last"
expect_eq "the timestamptz mark is 15 minutes back" t \
    "$(S -tAc "SELECT '$(mark tinc ev)'::timestamptz <= now() - interval '15 minutes'")"
done_testing
