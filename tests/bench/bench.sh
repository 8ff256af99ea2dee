#!/usr/bin/env bash
# tests/bench/bench.sh: anonetl throughput against the two things it replaces, in one run.
#
#   (a) raw pipe:   psql -c "COPY parties TO STDOUT" | psql -c "COPY ... FROM STDIN"
#                   (no anonymisation at all: the ceiling)
#   (b) in-database: postgres_fdw from target to source + pgcrypto, one INSERT ... SELECT
#                   applying the same rules as (c) in SQL
#   (c) anonetl:    ./anonetl run -c bench.yaml --skip-preflight
#
# Two throwaway PostgreSQL 15 clusters (source, target) on unix sockets under a mktemp
# dir, the same settings for both and for all three contenders (fsync stays on). The
# source gets BENCH_ROWS rows of a realistic `parties` table. Contenders run in rotated
# order for BENCH_ROUNDS rounds; the median time of each gives rows/s and the ratios
# (c)/(a) and (c)/(b). anonetl's peak RSS comes from /usr/bin/time -v; with
# BENCH_SCALE_CHECK=1 anonetl also runs at 4x the rows, to show memory stays flat.
# After the runs, anonetl's published rows are compared with (b)'s, which computes the
# documented hash construction in SQL: a mismatch fails the bench. The COPY codec alone
# is timed on the source's real COPY output, which it must reproduce byte for byte
# (tests/bench/codec_bench.c).
#
# Two more parts measure issue 5, on the same clusters (each in its own database):
#
#   incremental: `parties` (plus is_deleted, an index on updated_at) in two shapes: wide
#                (BENCH_INC_ROWS rows as generated) and narrow (BENCH_INC_NARROW_ROWS rows,
#                notes cut to 16 characters: about 150 bytes a row), `mode: incremental`,
#                key [id], watermark updated_at, watermark_lag 0s. Per round, shape and
#                delete mode (none, soft, key_scan; BENCH_INC_SHAPES and BENCH_INC_MODES
#                narrow them): a timed `--full-refresh`, then 1% of the rows changed
#                (UPDATE ... SET updated_at = clock_timestamp(), notes, email,
#                claim_amount; soft marks a tenth of them deleted, key_scan deletes a tenth
#                of them), then the timed incremental run. Ratio incremental/full per round
#                (the two runs back to back), median over the rounds (issue 13's target:
#                <= 5% for both shapes, `none` and `soft`; key_scan streams every source
#                key, so its figure is informative). After the last round of each case
#                the published table must equal a fresh full refresh (mode: full, same
#                rules, same key) into another schema: count + md5 of the rows' md5s in
#                key order.
#   jobs:        four tables of BENCH_JOBS_ROWS rows each (identical content), full
#                refresh with --jobs 1 and --jobs 2 into two schemas, in rotated order;
#                speed-up = median(--jobs 1) / median(--jobs 2) (aim >= 1.4x on 2
#                cores); both schemas must hold identical data.
#   json:        the json rule alone on PostgreSQL-written jsonb documents, three path
#                sets, ns per document (tests/bench/json_bench.sh, its own cluster).
#
# One more part measures the leak audit (issue 10), in its own database:
#
#   audit:       a BENCH_AUDIT_ROWS-row `parties` (default BENCH_ROWS), the reference
#                rules, full refresh with and without `run.audit` at its default sample
#                size, back to back in rotated order per round; cost = audited/plain - 1
#                per round, median over the rounds (issue 10's target: under 10%). The
#                audited run must log 0 hits and publish the same rows as the plain one.
#
# Two more parts measure issue 13 (binary COPY for every rule, the phases after the copy):
#
#   realistic:   a BENCH_REAL_ROWS-row `parties` shaped as a real policy sees it (id,
#                case_id, full_name and email to 64-hex digests, postcode to its outward
#                code, date of birth to its month, created_at timestamptz date-shifted by
#                case, claim_amount numeric bucketed, a jsonb with one path hashed, free
#                text kept), three methods in rotated order per round: (a) the raw text
#                pipe (psql COPY TO | psql COPY FROM, no anonymisation), (c) the ceiling:
#                the target alone loading the already-anonymised rows from a file
#                (binary COPY FREEZE into a new table with the columns and NOT NULLs
#                of anonetl's version, primary key, ANALYZE, the previous table dropped,
#                with anonetl's session settings and statistics target: the same end
#                state as an anonetl run, without the source or anonetl), and
#                (r) anonetl. Reports (r)/(a) and (r)/(c) as rates, medians of the rounds
#                (issue 13's targets: >= 1.0 and >= 0.9), anonetl's peak RSS (< 50 MB) and
#                its phases from the run record (copy, index, analyze, publish).
#   rules:       every rule's cost per value on the realistic table's own values, on the
#                text form (COPY text field decoded, rule, encoded) and on the binary form
#                (codec to the rule's form, rule, codec to the target's), in ns per value
#                (tests/bench/rule_bench.c).
#
# The machine may be shared: the load average is printed before and after each part, and
# each timed run of these parts shows the machine's CPU use (every process) and anonetl's
# own split between copy and publish; incremental runs also show the target's WAL volume
# (the checkpoint before each timed run makes the merge log whole pages, as a run
# following a checkpoint does in production).
#
# Env: BENCH_PARTS (copy,incremental,jobs,json,audit,realistic,rules: any comma-separated
#      subset; default all), BENCH_AUDIT_ROWS (default BENCH_ROWS), BENCH_REAL_ROWS (default
#      BENCH_ROWS),
#      BENCH_QUICK=1 (small defaults: 20000 / 200000 / 50000 rows),
#      BENCH_ROWS (default 1000000; 20000 for a quick check), BENCH_ROUNDS (3),
#      BENCH_INC_ROWS (4000000), BENCH_INC_NARROW_ROWS (2000000), BENCH_INC_SHAPES
#      (wide,narrow), BENCH_INC_MODES (none,soft,key_scan), BENCH_JOBS_ROWS (1000000 per table),
#      BENCH_SCALE_CHECK (0), ANONETL (./anonetl), BENCH_KEEP=1 keeps the temp dir and
#      every part's databases, BENCH_SKIP_ANONETL=1 runs (a) and (b) only (and neither
#      of the anonetl-only parts), BENCH_HUGE_PAGES (auto: the clusters' shared memory in
#      2 MB pages, as RDS for PostgreSQL runs every instance class above medium; as root,
#      the pages are reserved for the bench (vm.nr_hugepages) and given back at its end;
#      off: 4 kB pages, a new session then faults on every shared buffer it touches).
# Exit: 0 when every contender ran, anonetl's output matched and the codec reproduced
#       PostgreSQL's output, and the incremental and jobs parts ran and published the
#       same data as their references; 1 otherwise. Missing a performance target is
#       reported, not failed.
set -euo pipefail
export LC_ALL=C
cd "$(dirname "$0")/../.."
root=$PWD

QUICK=${BENCH_QUICK:-0}
if [ "$QUICK" = 1 ]; then
    ROWS=${BENCH_ROWS:-20000}
    INC_ROWS=${BENCH_INC_ROWS:-200000}
    INC_NARROW_ROWS=${BENCH_INC_NARROW_ROWS:-100000}
    JOBS_ROWS=${BENCH_JOBS_ROWS:-50000}
else
    ROWS=${BENCH_ROWS:-1000000}
    INC_ROWS=${BENCH_INC_ROWS:-4000000}
    INC_NARROW_ROWS=${BENCH_INC_NARROW_ROWS:-2000000}
    JOBS_ROWS=${BENCH_JOBS_ROWS:-1000000}
fi
ROUNDS=${BENCH_ROUNDS:-3}
SCALE_CHECK=${BENCH_SCALE_CHECK:-0}
ANONETL=${ANONETL:-$root/anonetl}
SKIP_ANONETL=${BENCH_SKIP_ANONETL:-0}
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
SRC_PORT=5433
DST_PORT=5434

case ${BENCH_HUGE_PAGES:-auto} in auto | off) ;; *) echo "bench: BENCH_HUGE_PAGES must be auto or off" >&2; exit 2 ;; esac
for v in ROWS ROUNDS INC_ROWS INC_NARROW_ROWS JOBS_ROWS; do
    case "${!v}" in '' | *[!0-9]* | 0) echo "bench: BENCH_$v must be a positive integer" >&2; exit 2 ;; esac
done
if [ "$INC_ROWS" -lt 1000 ]; then echo "bench: BENCH_INC_ROWS must be at least 1000" >&2; exit 2; fi
if [ "$SKIP_ANONETL" = 1 ]; then PARTS=${BENCH_PARTS:-copy}; else PARTS=${BENCH_PARTS:-copy,incremental,jobs,json,audit,realistic,rules}; fi
AUDIT_ROWS=${BENCH_AUDIT_ROWS:-$ROWS}
REAL_ROWS=${BENCH_REAL_ROWS:-$ROWS}
IFS=, read -ra part_list <<<"$PARTS"
[ "${#part_list[@]}" -gt 0 ] || { echo "bench: BENCH_PARTS is empty" >&2; exit 2; }
for p in "${part_list[@]}"; do
    case $p in
    copy | json) ;;
    incremental | jobs | audit | realistic | rules)
        if [ "$SKIP_ANONETL" = 1 ]; then
            echo "bench: part $p needs anonetl (BENCH_SKIP_ANONETL=1)" >&2
            exit 2
        fi
        ;;
    *) echo "bench: unknown part '$p' in BENCH_PARTS (copy, incremental, jobs, json, audit, realistic, rules)" >&2; exit 2 ;;
    esac
done
has_part() { case ",$PARTS," in *",$1,"*) return 0 ;; esac; return 1; }
[ -x "$PGBIN/initdb" ] || { echo "bench: no PostgreSQL 15 in $PGBIN" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "bench: /usr/bin/time is needed (apt-get install time)" >&2; exit 2; }
if [ "$SKIP_ANONETL" != 1 ] && [ ! -x "$ANONETL" ]; then
    echo "bench: $ANONETL not built (make anonetl), or set BENCH_SKIP_ANONETL=1" >&2
    exit 2
fi

# --- clusters -------------------------------------------------------------------------
as_pg() {
    if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

dir=$(mktemp -d "${TMPDIR:-/tmp}/anonetl-bench.XXXXXX")
chmod 755 "$dir"
[ "$(id -u)" -eq 0 ] && chown postgres: "$dir"
pids=()

# Huge pages for the clusters' shared memory (BENCH_HUGE_PAGES): HUGE_PAGES = on|off, what
# the clusters run with; HUGE_RESERVED = pages this bench added to vm.nr_hugepages.
HUGE_PAGES=off HUGE_RESERVED=0 HUGE_WHY=""
reserve_huge_pages() { # pages wanted by both clusters
    local want=$1 free total
    free=$(awk '/^HugePages_Free:/ { print $2 }' /proc/meminfo)
    [ "${free:-0}" -ge "$want" ] && { HUGE_PAGES=on; return 0; }
    if [ "$(id -u)" -ne 0 ] || [ ! -w /proc/sys/vm/nr_hugepages ]; then
        HUGE_WHY="not root: $free of the $want huge pages free (sysctl vm.nr_hugepages)"
        return 0
    fi
    total=$(cat /proc/sys/vm/nr_hugepages)
    echo $((total + want - free)) >/proc/sys/vm/nr_hugepages 2>/dev/null || true
    HUGE_RESERVED=$(($(cat /proc/sys/vm/nr_hugepages) - total))
    free=$(awk '/^HugePages_Free:/ { print $2 }' /proc/meminfo)
    if [ "${free:-0}" -ge "$want" ]; then
        HUGE_PAGES=on
    else
        HUGE_WHY="the kernel found $free of the $want huge pages asked for"
        release_huge_pages
    fi
}
release_huge_pages() {
    [ "$HUGE_RESERVED" -gt 0 ] || return 0
    echo $(($(cat /proc/sys/vm/nr_hugepages) - HUGE_RESERVED)) >/proc/sys/vm/nr_hugepages 2>/dev/null || true
    HUGE_RESERVED=0
}
server_settings_text() {
    if [ "$HUGE_PAGES" = on ]; then
        echo "huge pages: on (2 MB pages for shared memory, as RDS runs instance classes above medium); target wal_buffers 128 MB (the anonymised-db module's)"
    else
        echo "huge pages: off (${HUGE_WHY:-BENCH_HUGE_PAGES=off}; a new session faults on every 4 kB of shared buffers it touches, which incremental merges feel most); target wal_buffers 128 MB (the anonymised-db module's)"
    fi
}

stop_clusters() {
    local pid
    for pid in "${pids[@]}"; do
        kill -INT "$pid" 2>/dev/null || true
    done
    for pid in "${pids[@]}"; do
        for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    done
    pids=()
}
cleanup() {
    stop_clusters
    release_huge_pages
    if [ "${BENCH_KEEP:-0}" = 1 ]; then echo "bench: kept $dir"; else rm -rf "$dir"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

init_cluster() { # name port
    local data="$dir/$1"
    as_pg "$PGBIN/initdb" -D "$data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$dir/$1-initdb.log" 2>&1 \
        || { cat "$dir/$1-initdb.log" >&2; return 1; }
    cat >>"$data/postgresql.conf" <<EOF
listen_addresses = ''
unix_socket_directories = '$dir'
port = $2
shared_buffers = 256MB
max_wal_size = 4GB
checkpoint_timeout = 30min
maintenance_work_mem = 256MB
wal_buffers = 16MB
max_connections = 50
logging_collector = off
log_min_messages = warning
EOF
}
huge_pages_needed() { # name: 2 MB pages the cluster's shared memory takes (PostgreSQL 15+)
    as_pg "$PGBIN/postgres" -D "$dir/$1" -C shared_memory_size_in_huge_pages 2>/dev/null | grep -E '^[0-9]+$' || echo 0
}
start_cluster() { # name
    local data="$dir/$1"
    echo "huge_pages = $HUGE_PAGES" >>"$data/postgresql.conf"
    as_pg "$PGBIN/pg_ctl" -D "$data" -l "$dir/$1.log" -w -t 60 start >/dev/null \
        || { cat "$dir/$1.log" >&2; return 1; }
    pids+=("$(head -1 "$data/postmaster.pid")")
}

psql_at() { # port, psql args...
    local port=$1; shift
    psql -X -q -v ON_ERROR_STOP=1 -h "$dir" -p "$port" -U postgres "$@"
}
src() { psql_at "$SRC_PORT" -d bench "$@"; }
dst() { psql_at "$DST_PORT" -d bench "$@"; }

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
rate() { awk -v n="$1" -v s="$2" 'BEGIN { printf "%.0f", (s > 0 ? n / s : 0) }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }

# --- data -----------------------------------------------------------------------------
# Deterministic (hash of the row number, no random()), so every run sees the same data.
# Notes are 50-300 characters of claim-handling prose, some with a newline, a tab or a
# backslash, so the COPY codec has escapes to handle.
generate_rows() { # first last [database [table]]: rows first..last into table (parties)
    psql_at "$SRC_PORT" -d "${3:-bench}" -v first="$1" -v last="$2" -v tbl="${4:-parties}" <<'SQL'
INSERT INTO :"tbl"
SELECT g,
       1 + h1 % greatest(:last / 4, 1),
       fn || ' ' || ln,
       CASE WHEN h2 % 10 <> 0 THEN lower(fn) || '.' || lower(ln) || (h3 % 1000) || '@'
            || (ARRAY['example.com','mail.example.org','example.co.uk','law.example.net'])[1 + h4 % 4] END,
       CASE WHEN h3 % 5 <> 0 THEN '+44 7' || lpad((h5 % 1000000000)::text, 9, '0') END,
       CASE WHEN h4 % 20 <> 0 THEN
            (ARRAY['SW1A','EC1A','W1A','M1','B33','CR2','DN55','LS1','BS1','EH1','CF10','G1',
                   'NE1','L1','OX1','CB2','BT1','PL1','EX4','YO1'])[1 + h1 % 20]
            || ' ' || (h2 % 10) || chr(65 + (h3 % 26)::int) || chr(65 + (h5 % 26)::int) END,
       CASE WHEN h5 % 8 <> 0 THEN date '1935-01-01' + (h2 % 27000)::int END,
       ts,
       ts + (h4 % (400 * 86400)) * interval '1 second',
       (ARRAY['claimant','respondent','witness','solicitor','insurer','expert','mediator'])[1 + h2 % 7],
       left(s1 || ' ' || s2 || ' ' || s3 || ' ' || s4, 50 + (h5 % 251)::int),
       round(((h1 % 10000000) / 100.0)::numeric, 2)
FROM generate_series(:first::bigint, :last::bigint) AS g,
LATERAL (SELECT hashint8extended(g, 1) & 9223372036854775807 AS h1,
                hashint8extended(g, 2) & 9223372036854775807 AS h2,
                hashint8extended(g, 3) & 9223372036854775807 AS h3,
                hashint8extended(g, 4) & 9223372036854775807 AS h4,
                hashint8extended(g, 5) & 9223372036854775807 AS h5) AS h,
LATERAL (SELECT
    (ARRAY['Oliver','Amelia','George','Isla','Harry','Ava','Noah','Mia','Jack','Ivy','Leo',
           'Lily','Arthur','Freya','Muhammad','Grace','Oscar','Sophia','Charlie','Florence',
           'Jacob','Willow','Thomas','Evie','Zoë','Siân','Józef','Aoife','Mohammed','Priya'])[1 + h1 % 30] AS fn,
    (ARRAY['Smith','Jones','Taylor','Brown','Williams','Wilson','Johnson','Davies','Patel',
           'Robinson','Wright','Thompson','Evans','Walker','White','Roberts','Green','Hall',
           'Wood','Jackson','O''Brien','Nowak','Kowalski','Müller','Ahmed','Khan','Singh',
           'Murphy','MacDonald','Clarke'])[1 + h2 % 30] AS ln,
    timestamptz '2016-01-01 00:00:00+00' + (h3 % (8 * 365 * 86400)) * interval '1 second' AS ts,
    (ARRAY['Claimant reports the parcel arrived damaged and the seller refused a refund.',
           'Respondent disputes the amount; photos of the item were uploaded on the portal.',
           'Call back requested after 5pm. Prefers email for all further correspondence.',
           E'Mediator notes:\nparties agreed to a partial refund subject to return of goods.',
           'Invoice INV-2023-00417 attached; payment was made by card ending in the usual way.',
           E'Witness statement received.\tAwaiting signed copy from the solicitor.',
           'Expert report confirms the defect existed at the time of sale, see section 4.2.',
           E'Documents saved under C:\\claims\\2023\\ by the previous case handler.',
           'Insurer has accepted liability for the excess only; balance remains in dispute.',
           'Hearing adjourned at the request of both parties; new date to be confirmed.'])[1 + (h1 + g) % 10] AS s1,
    (ARRAY['No further action needed this week.','Escalated to a senior case officer.',
           'Both parties were reminded of the deadline for evidence.',
           'The claimant has asked for the decision to be reviewed.',
           'Translation of the supporting letter was requested.'])[1 + h2 % 5] AS s2,
    (ARRAY['The respondent did not reply within 14 days, so a reminder was sent by post.',
           'A without-prejudice offer was made and rejected by the claimant on the phone.',
           'Evidence bundle paginated and shared with the mediator and both parties today.',
           'The amount claimed includes postage, the cost of repair and a loss of use claim.'])[1 + h3 % 4] AS s3,
    (ARRAY['Case remains open pending the outcome of the mediation session next month.',
           'Decision letter drafted; awaiting approval before it is sent to the parties.',
           'Claimant confirmed receipt of the refund and asked for the case to be closed.'])[1 + h4 % 3] AS s4
    WHERE g IS NOT NULL) AS v;
SQL
}

TABLE_DDL='(
    id bigint PRIMARY KEY,
    case_id bigint NOT NULL,
    full_name text NOT NULL,
    email text,
    phone text,
    postcode text,
    date_of_birth date,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    role text NOT NULL,
    notes text,
    claim_amount numeric(12,2)
)'

start_clusters() {
    local want
    init_cluster source "$SRC_PORT"
    init_cluster target "$DST_PORT"
    # The target as the anonymised-db Terraform module sets it up (wal_buffers_mb); the
    # source keeps RDS's default (16 MB): it is production's server, not ours to tune.
    echo "wal_buffers = 128MB" >>"$dir/target/postgresql.conf"
    case ${BENCH_HUGE_PAGES:-auto} in
    off) ;;
    auto)
        want=$(($(huge_pages_needed source) + $(huge_pages_needed target)))
        if [ "$want" -gt 0 ]; then reserve_huge_pages "$want"; else HUGE_WHY="no huge page size known"; fi
        ;;
    esac
    start_cluster source
    start_cluster target
    server_settings_text
}

setup() {
    psql_at "$SRC_PORT" -d postgres -c "CREATE DATABASE bench"
    psql_at "$DST_PORT" -d postgres -c "CREATE DATABASE bench"
    src -c "CREATE TABLE parties $TABLE_DDL"
    local t0; t0=$(now)
    generate_rows 1 "$ROWS"
    src -c "VACUUM ANALYZE parties"
    echo "source: $ROWS rows, $(src -Atc "SELECT pg_size_pretty(pg_table_size('parties'))") (generated in $(elapsed "$t0" "$(now)") s)"

    # Shapes for (a) and (b) in the target; anonetl makes its own schema.
    # (b) reads the source through postgres_fdw (fetch_size raised from its default 100,
    # as anyone running this for real would) and hashes with pgcrypto.
    dst <<SQL
CREATE SCHEMA raw;
CREATE SCHEMA fdw;
CREATE SCHEMA fdw_src;
CREATE TABLE raw.parties $TABLE_DDL;
CREATE TABLE fdw.parties $TABLE_DDL;
ALTER TABLE fdw.parties ALTER COLUMN full_name DROP NOT NULL;
CREATE EXTENSION pgcrypto;
CREATE EXTENSION postgres_fdw;
CREATE SERVER source_db FOREIGN DATA WRAPPER postgres_fdw
    OPTIONS (host '$dir', port '$SRC_PORT', dbname 'bench', fetch_size '10000');
CREATE USER MAPPING FOR postgres SERVER source_db OPTIONS (user 'postgres');
IMPORT FOREIGN SCHEMA public LIMIT TO (parties) FROM SERVER source_db INTO fdw_src;
SQL
}

# --- contenders -------------------------------------------------------------------------
# Each prints nothing and returns the command's status; the caller times it.
checkpoint_both() {
    psql_at "$SRC_PORT" -d postgres -c CHECKPOINT
    psql_at "$DST_PORT" -d postgres -c CHECKPOINT
}

run_raw() {
    dst -c "TRUNCATE raw.parties"
    checkpoint_both
    local t0 t1
    cpu_begin
    t0=$(now)
    /usr/bin/time -f "%U %S" -o "$dir/time-raw.txt" bash -c \
        "psql -X -q -h '$dir' -p $SRC_PORT -U postgres -d bench -c 'COPY parties TO STDOUT' |
         psql -X -q -h '$dir' -p $DST_PORT -U postgres -d bench -c 'COPY raw.parties FROM STDIN'"
    t1=$(now)
    LAST=$(elapsed "$t0" "$t1")
    cpu_end "$(awk '{ print $1 + $2 }' "$dir/time-raw.txt")"
}

# The documented construction: hex(HMAC-SHA256(key, namespace || 0x00 || value)) cut to
# 32; namespace is empty, value the text of the column; NULL stays NULL.
FDW_SQL="INSERT INTO fdw.parties
SELECT id, case_id,
       left(encode(hmac('\\x00'::bytea || convert_to(full_name, 'UTF8'), convert_to(:'key', 'UTF8'), 'sha256'), 'hex'), 32),
       left(encode(hmac('\\x00'::bytea || convert_to(email, 'UTF8'), convert_to(:'key', 'UTF8'), 'sha256'), 'hex'), 32),
       left(encode(hmac('\\x00'::bytea || convert_to(phone, 'UTF8'), convert_to(:'key', 'UTF8'), 'sha256'), 'hex'), 32),
       postcode, NULL, created_at, updated_at, role, notes, claim_amount
FROM fdw_src.parties"

run_fdw() {
    dst -c "TRUNCATE fdw.parties"
    checkpoint_both
    local t0 t1
    cpu_begin
    t0=$(now)
    printf '%s\n' "$FDW_SQL;" | dst -v key="$ANONETL_HASH_KEY"
    t1=$(now)
    LAST=$(elapsed "$t0" "$t1")
    cpu_end 0
}

write_config() {
    cat >"$dir/bench.yaml" <<EOF
# anonetl bench config (tests/bench/bench.sh): the reference rules.
version: 1
source:
  dsn: "host=$dir port=$SRC_PORT dbname=bench user=postgres"
target:
  dsn: "host=$dir port=$DST_PORT dbname=bench user=postgres"
  schema: anonymised
secrets:
  hash_key: { env: ANONETL_HASH_KEY }
tables:
  - name: public.parties
    columns:
      id: keep
      case_id: keep
      full_name: { hash: { length: 32 } }
      email: { hash: { length: 32 } }
      phone: { hash: { length: 32 } }
      postcode: { keep: { reviewed: "bench: generated postcodes, no one lives there" } }
      date_of_birth: suppress
      created_at: keep
      updated_at: keep
      role: keep
      notes: keep
      claim_amount: keep
EOF
}

ANON_FAILED=0
run_anonetl() { # label
    checkpoint_both
    local t0 t1 rc=0 log="$dir/anonetl-$1.log"
    cpu_begin
    t0=$(now)
    /usr/bin/time -v -o "$dir/time-$1.txt" "$ANONETL" run -c "$dir/bench.yaml" --skip-preflight \
        >"$log" 2>&1 || rc=$?
    t1=$(now)
    LAST=$(elapsed "$t0" "$t1")
    cpu_end "$(awk -F': ' '/User time|System time/ { s += $2 } END { print s }' "$dir/time-$1.txt")"
    LAST_RSS=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$dir/time-$1.txt")
    if [ "$rc" -ne 0 ]; then
        echo "anonetl ($1) failed with exit $rc; last lines of its log:" >&2
        tail -20 "$log" | sed 's/^/    /' >&2
        ANON_FAILED=1
        return 1
    fi
}

# The codec alone, on the source's real COPY output (and checked against it: every row
# must come back byte for byte after split + decode + encode).
CODEC_FAILED=0
codec_check() {
    local cc=${CC:-cc}
    $cc -std=c11 -D_GNU_SOURCE -O2 -I. -o "$dir/codec_bench" tests/bench/codec_bench.c \
        etl/copytext.c anonymise/abuf.c anonymise/anon_error.c -lcrypto
    src -c "COPY parties TO STDOUT" >"$dir/parties.copy"
    CODEC_LINE=$("$dir/codec_bench" "$dir/parties.copy" 12 2>&1) || CODEC_FAILED=1
    rm -f "$dir/parties.copy"
}

# --- part: copy ((a), (b), (c)) --------------------------------------------------------------
declare -A times copy_cpus
rss_n="""" rss_4n="" rate_4n="" CHECK=skipped CODEC_LINE=""
part_copy() {
    setup
    write_config
    codec_check

    contenders=(raw fdw)
    [ "$SKIP_ANONETL" = 1 ] || contenders+=(anonetl)
    rss_n=""
    for ((r = 0; r < ROUNDS; r++)); do
        n=${#contenders[@]}
        for ((i = 0; i < n; i++)); do
            c=${contenders[$(((i + r) % n))]}
            case $c in
            raw) run_raw ;;
            fdw) run_fdw ;;
            anonetl)
                [ "$ANON_FAILED" = 0 ] || continue
                run_anonetl "r$r" || continue
                if [ -z "$rss_n" ] || [ "$LAST_RSS" -gt "$rss_n" ]; then rss_n=$LAST_RSS; fi
                ;;
            esac
            times[$c]="${times[$c]:-} $LAST"
            copy_cpus[$c]="${copy_cpus[$c]:-}${copy_cpus[$c]:+,}$LAST_CPU"
            printf '  round %d  %-8s %8.3f s\n' $((r + 1)) "$c" "$LAST"
        done
    done

    # --- correctness: anonetl's published rows against the SQL reference -------------------
    CHECK=skipped
    if [ "$SKIP_ANONETL" != 1 ] && [ "$ANON_FAILED" = 0 ]; then
        digest() { # relation
            dst -Atc "SELECT count(*) || ' ' || md5(string_agg(concat_ws('|', id, case_id, full_name,
                        email, phone, postcode, coalesce(date_of_birth::text, 'NULL'), created_at,
                        updated_at, role, notes, claim_amount), E'\n' ORDER BY id)) FROM $1"
        }
        want=$(digest fdw.parties)
        got=$(digest anonymised.parties 2>&1) || true
        if [ "$want" = "$got" ]; then
            CHECK="identical to the SQL reference ($ROWS rows)"
        else
            CHECK="MISMATCH: reference '$want', anonetl '$got'"
            ANON_FAILED=1
        fi
    fi

    # --- 4N: memory must stay flat ----------------------------------------------------------
    rss_4n="" rate_4n=""
    if [ "$SCALE_CHECK" = 1 ] && [ "$SKIP_ANONETL" != 1 ] && [ "$ANON_FAILED" = 0 ]; then
        generate_rows $((ROWS + 1)) $((ROWS * 4))
        src -c "VACUUM ANALYZE parties"
        if run_anonetl 4n; then
            rss_4n=$LAST_RSS
            rate_4n=$(rate $((ROWS * 4)) "$LAST")
        fi
    fi
}

report_copy() {
    declare -A floor
    echo
    echo "anonetl bench: $ROWS rows of parties, median of $ROUNDS rounds, $(nproc) cores"
    declare -A rates
    for c in raw fdw anonetl; do
        [ -n "${times[$c]:-}" ] || continue
        # shellcheck disable=SC2086
        med=$(median ${times[$c]})
        rates[$c]=$(rate "$ROWS" "$med")
        case $c in
        raw) label="(a) raw COPY pipe" ;;
        fdw) label="(b) postgres_fdw + pgcrypto" ;;
        anonetl) label="(c) anonetl run" ;;
        esac
        printf '%-30s %9s rows/s  (median %.3f s; runs:%s)\n' "$label" "${rates[$c]}" "$med" "${times[$c]}"
        floor[$c]=$(cpu_medians "${copy_cpus[$c]}")
        printf '%-30s %s (medians)\n' "" "$(cpu_text "${floor[$c]}")"
        floor[$c]=$(awk -v c="${floor[$c]}" -v n="$(nproc)" 'BEGIN { split(c, x, " ");
            f = (x[1] + x[2] + x[3]) / n; for (k = 1; k <= 3; k++) if (x[k] > f) f = x[k]; print f }')
    done
    if [ -n "${rates[anonetl]:-}" ]; then
        echo "ratio (c)/(a): $(ratio "${rates[anonetl]}" "${rates[raw]}")   (1.00 = as fast as a raw copy)"
        echo "  on free cores, from the CPU used (max(busiest process, total / $(nproc) cores)): (c)/(a) $(ratio "${floor[raw]}" "${floor[anonetl]}")"
        echo "ratio (c)/(b): $(ratio "${rates[anonetl]}" "${rates[fdw]}")   (> 1 = faster than doing it in the database)"
        echo "anonetl peak RSS at N=$ROWS: $((rss_n / 1024)) MiB"
    fi
    if [ -n "$rss_4n" ]; then
        echo "anonetl peak RSS at 4N=$((ROWS * 4)): $((rss_4n / 1024)) MiB  (4N/N = $(ratio "$rss_4n" "$rss_n"); $rate_4n rows/s)"
    fi
    echo "anonetl output check: $CHECK"
    echo "$CODEC_LINE"
}

# --- shared by the incremental and jobs parts ----------------------------------------------
load_avg() { cut -d' ' -f1-3 /proc/loadavg; }
pct() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1f", 100 * a / b; else print "n/a" }'; }

# bench.yaml's rules for one parties-shaped table (a `tables:` item's columns).
rules_yaml() { # extra column lines (already indented)...
    cat <<EOF
    columns:
      id: keep
      case_id: keep
      full_name: { hash: { length: 32 } }
      email: { hash: { length: 32 } }
      phone: { hash: { length: 32 } }
      postcode: { keep: { reviewed: "bench: generated postcodes, no one lives there" } }
      date_of_birth: suppress
      created_at: keep
      updated_at: keep
      role: keep
      notes: keep
      claim_amount: keep
EOF
    local line
    for line in "$@"; do printf '%s\n' "$line"; done
}

config_head() { # database schema
    cat <<EOF
# anonetl bench config (tests/bench/bench.sh)
version: 1
source:
  dsn: "host=$dir port=$SRC_PORT dbname=$1 user=postgres"
target:
  dsn: "host=$dir port=$DST_PORT dbname=$1 user=postgres"
  schema: $2
secrets:
  hash_key: { env: ANONETL_HASH_KEY }
tables:
EOF
}

# Where WAL is inserted, not where it was written up to: anonetl's target sessions commit
# asynchronously, so at a run's end much of its WAL may still wait in wal_buffers.
target_lsn() { psql_at "$DST_PORT" -d postgres -Atc "SELECT pg_current_wal_insert_lsn()"; }
cpu_ticks() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9, $5 + $6; exit }' /proc/stat; } # busy idle
cpu_busy() { # "busy0 idle0" "busy1 idle1": % of all cores busy in between (every process)
    awk -v a="$1" -v b="$2" 'BEGIN { split(a, x, " "); split(b, y, " "); t = (y[1] - x[1]) + (y[2] - x[2]);
                                    printf "%.0f", (t > 0 ? 100 * (y[1] - x[1]) / t : 0) }'
}
# Seconds from the start of the run to its last table_done event, and from there to
# run_done (the publish transaction), from anonetl's JSON log.
run_phases() { # log
    python3 - "$1" <<'PY'
import json, sys
from datetime import datetime
ts = lambda e: datetime.strptime(e["ts"], "%Y-%m-%dT%H:%M:%S.%fZ").timestamp()
ev = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
start = [ts(e) for e in ev if e.get("event") == "run_start"]
copied = [ts(e) for e in ev if e.get("event") == "table_done"]
done = [ts(e) for e in ev if e.get("event") == "run_done"]
if start and copied and done:
    print("copy %.2f s, publish %.2f s" % (max(copied) - start[0], done[0] - max(copied)))
else:
    print("phases n/a")
PY
}

# Runs anonetl once after a checkpoint; LAST = wall seconds, LAST_LOG = its log, LAST_CPU =
# % of the machine's CPU busy meanwhile (anything running on it), LAST_WAL =
# MB of WAL the target wrote meanwhile (after a checkpoint, the first change to each page
# logs the whole page: this is what a merge spread over a big table costs). Returns 1
# (with the log's tail on stderr) when anonetl fails or its log lacks the expected event.
time_anonetl() { # label config expected-event("" = any) [anonetl args...]
    local label=$1 config=$2 event=$3 t0 t1 rc=0 lsn0 cpu0 cpu1
    shift 3
    LAST_LOG="$dir/anonetl-$label.log"
    checkpoint_both
    lsn0=$(target_lsn)
    cpu0=$(cpu_ticks)
    t0=$(now)
    "$ANONETL" run -c "$config" --skip-preflight "$@" >"$LAST_LOG" 2>&1 || rc=$?
    t1=$(now)
    cpu1=$(cpu_ticks)
    LAST=$(elapsed "$t0" "$t1")
    LAST_CPU=$(cpu_busy "$cpu0" "$cpu1")
    LAST_WAL=$(psql_at "$DST_PORT" -d postgres -Atc "SELECT round(pg_wal_lsn_diff(pg_current_wal_insert_lsn(), '$lsn0') / 1048576)")
    if [ "$rc" -ne 0 ]; then
        echo "anonetl ($label) failed with exit $rc; last lines of its log:" >&2
    elif [ -n "$event" ] && ! grep -q "\"event\":\"$event\"" "$LAST_LOG"; then
        echo "anonetl ($label): no '$event' event in its log; last lines:" >&2
        rc=1
    fi
    [ "$rc" -eq 0 ] && return 0
    tail -20 "$LAST_LOG" | sed 's/^/    /' >&2
    return 1
}

drop_database() { # name: on both clusters, unless BENCH_KEEP=1
    [ "${BENCH_KEEP:-0}" = 1 ] && return 0
    psql_at "$SRC_PORT" -d postgres -c "DROP DATABASE IF EXISTS $1"
    psql_at "$DST_PORT" -d postgres -c "DROP DATABASE IF EXISTS $1"
}

# count + md5 over the md5 of every row in key order (a string_agg of whole rows would
# pass PostgreSQL's 1 GB limit at 4M rows).
digest_rows() { # port database relation
    psql_at "$1" -d "$2" -Atc "SELECT count(*) || ' ' || md5(string_agg(md5(t::text), '' ORDER BY t.id)) FROM $3 t"
}

# --- part: incremental -----------------------------------------------------------------------
# Two shapes of the same table, each a case of its own (key: shape/deletes):
#   wide    parties as generated (notes of 50-300 characters): BENCH_INC_ROWS rows
#   narrow  parties with notes cut to 16 characters, about 150 bytes a row:
#           BENCH_INC_NARROW_ROWS rows (more rows per page, so 1% of the rows scattered
#           over the table touches a larger share of its pages)
IFS=, read -ra INC_MODES <<<"${BENCH_INC_MODES:-none,soft,key_scan}"
IFS=, read -ra INC_SHAPES <<<"${BENCH_INC_SHAPES:-wide,narrow}"
declare -A inc_full inc_incr inc_check inc_changed inc_bad inc_size inc_wal
INC_FAILED=0 INC_LOAD=""
inc_src() { psql_at "$SRC_PORT" -d inc "$@"; }
inc_table() { [ "$1" = narrow ] && echo narrow || echo parties; } # shape -> source table

inc_config() { # file schema mode(incremental|full) deletes shape
    {
        config_head inc "$2"
        echo "  - name: public.$(inc_table "$5")"
        echo "    key: [id]"
        if [ "$3" = incremental ]; then
            echo "    mode: incremental"
            echo "    watermark: updated_at"
            echo "    watermark_lag: 0s"
            echo "    deletes: $4"
            [ "$4" = soft ] && echo "    deleted_column: is_deleted"
        else
            echo "    mode: full"
            [ "$4" = soft ] && echo '    where: "NOT is_deleted"'
        fi
        rules_yaml "      is_deleted: keep"
    } >"$1"
}

inc_setup() {
    local t0 m sh rows
    psql_at "$SRC_PORT" -d postgres -c "CREATE DATABASE inc"
    psql_at "$DST_PORT" -d postgres -c "CREATE DATABASE inc"
    for sh in "${INC_SHAPES[@]}"; do
        t0=$(now)
        rows=$INC_ROWS
        [ "$sh" = narrow ] && rows=$INC_NARROW_ROWS
        inc_src -c "CREATE TABLE $(inc_table "$sh") $TABLE_DDL"
        inc_src -c "ALTER TABLE $(inc_table "$sh") ADD COLUMN is_deleted boolean NOT NULL DEFAULT false"
        if [ "$sh" = narrow ]; then
            inc_src -c "CREATE UNLOGGED TABLE narrow_gen $TABLE_DDL"
            generate_rows 1 "$rows" inc narrow_gen
            inc_src -c "INSERT INTO narrow SELECT id, case_id, full_name, email, phone, postcode, date_of_birth,
                               created_at, updated_at, role, left(notes, 16), claim_amount FROM narrow_gen;
                        DROP TABLE narrow_gen"
        else
            generate_rows 1 "$rows" inc
        fi
        inc_src -c "CREATE INDEX ON $(inc_table "$sh") (updated_at)"
        inc_src -c "VACUUM ANALYZE $(inc_table "$sh")"
        inc_size[$sh]="$rows rows, $(inc_src -Atc "SELECT pg_size_pretty(pg_table_size('$(inc_table "$sh")')) || ', '
            || round(pg_table_size('$(inc_table "$sh")')::numeric / greatest(count(*), 1)) || ' bytes a row' FROM $(inc_table "$sh")")"
        echo "incremental source ($sh): ${inc_size[$sh]} (generated in $(elapsed "$t0" "$(now)") s)"
        for m in "${INC_MODES[@]}"; do
            inc_config "$dir/inc-$sh-$m.yaml" "inc_${sh}_$m" incremental "$m" "$sh"
            inc_config "$dir/ref-$sh-$m.yaml" "ref_${sh}_$m" full "$m" "$sh"
        done
    done
}

# 1% of the rows (id % 100 = slot) change: updated_at, notes, email, claim_amount. With
# deletes: soft a tenth of them are also marked deleted; with key_scan a tenth of them
# are deleted instead. Prints the number of rows changed.
inc_change() { # deletes slot shape
    local mark=false deleted=0 updated tbl
    tbl=$(inc_table "$3")
    [ "$1" = soft ] && mark="(id / 100) % 10 = 0"
    if [ "$1" = key_scan ]; then
        deleted=$(inc_src -Atc "WITH d AS (DELETE FROM $tbl WHERE id % 100 = $2 AND (id / 100) % 10 = 0 RETURNING 1)
                                SELECT count(*) FROM d")
    fi
    updated=$(inc_src -Atc "WITH u AS (UPDATE $tbl SET updated_at = clock_timestamp(),
                                   notes = left('Revised in change set $2. ' || coalesce(notes, ''),
                                                CASE WHEN '$3' = 'narrow' THEN 16 ELSE 300 END),
                                   email = 'cs$2.' || email, claim_amount = claim_amount + 1,
                                   is_deleted = is_deleted OR $mark
                                 WHERE id % 100 = $2 RETURNING 1)
                           SELECT count(*) FROM u")
    echo $((updated + deleted))
}

# The published table against a fresh full refresh (mode: full, same rules and key; with
# soft, `where: NOT is_deleted`) into schema ref_<shape>_<deletes>.
inc_verify() { # shape deletes
    local want got c="$1/$2" tbl
    tbl=$(inc_table "$1")
    if ! "$ANONETL" run -c "$dir/ref-$1-$2.yaml" --skip-preflight >"$dir/anonetl-ref-$1-$2.log" 2>&1; then
        inc_check[$c]="FAILED: the reference full refresh failed: $(tail -1 "$dir/anonetl-ref-$1-$2.log")"
        INC_FAILED=1
        return
    fi
    got=$(digest_rows "$DST_PORT" inc "inc_$1_$2.$tbl" 2>&1) || true
    want=$(digest_rows "$DST_PORT" inc "ref_$1_$2.$tbl" 2>&1) || true
    if [ "$got" = "$want" ] && [ -n "$got" ]; then
        inc_check[$c]="identical to a fresh full refresh (${got%% *} rows, md5 ${got#* })"
    else
        inc_check[$c]="MISMATCH: full refresh '$want', incremental '$got'"
        INC_FAILED=1
    fi
}

# One case in one round: a timed full refresh, 1% of the rows changed, the timed
# incremental run, back to back (their ratio is the figure: the machine may be shared).
inc_round() { # round shape deletes slot
    local r=$1 sh=$2 m=$3 slot=$4 full changed c="$2/$3"
    [ -z "${inc_bad[$c]:-}" ] || return 0
    if ! time_anonetl "inc-$sh-$m-full-r$r" "$dir/inc-$sh-$m.yaml" full_reload --full-refresh; then
        inc_bad[$c]=1 INC_FAILED=1 inc_check[$c]="FAILED: the full refresh failed"
        return 0
    fi
    full=$LAST
    changed=$(inc_change "$m" "$slot" "$sh")
    if ! time_anonetl "inc-$sh-$m-r$r" "$dir/inc-$sh-$m.yaml" incremental; then
        inc_bad[$c]=1 INC_FAILED=1 inc_check[$c]="FAILED: the incremental run failed"
        return 0
    fi
    if grep -q '"event":"full_reload"' "$LAST_LOG"; then
        echo "anonetl (inc-$sh-$m-r$r): the run after the change was a full reload, not incremental" >&2
        inc_bad[$c]=1 INC_FAILED=1 inc_check[$c]="FAILED: the second run was not incremental"
        return 0
    fi
    inc_full[$c]="${inc_full[$c]:-} $full"
    inc_incr[$c]="${inc_incr[$c]:-} $LAST"
    inc_wal[$c]="${inc_wal[$c]:-} $LAST_WAL"
    inc_changed[$c]=$changed
    printf '  round %d  %-6s deletes: %-8s  full %8.3f s  %6d rows changed  incremental %7.3f s  (%s; target WAL %s MB; CPU %s%%)\n' \
        $((r + 1)) "$sh" "$m" "$full" "$changed" "$LAST" "$(run_phases "$LAST_LOG")" "$LAST_WAL" "$LAST_CPU"
    [ "$r" -ne $((ROUNDS - 1)) ] || inc_verify "$sh" "$m"
}

part_incremental() {
    local r k n cases=() c
    INC_LOAD=$(load_avg)
    inc_setup
    for sh in "${INC_SHAPES[@]}"; do for m in "${INC_MODES[@]}"; do cases+=("$sh/$m"); done; done
    n=${#cases[@]}
    for ((r = 0; r < ROUNDS; r++)); do
        for ((k = 0; k < n; k++)); do # rotated order, a fresh slot (1% of the ids) each time
            c=${cases[$(((k + r) % n))]}
            inc_round "$r" "${c%/*}" "${c#*/}" $(((1 + r * n + k) % 100))
        done
    done
    INC_LOAD="$INC_LOAD -> $(load_avg)"
    drop_database inc
}

report_incremental() {
    local c sh m fm im rm verdict
    echo
    echo "incremental: 1% of the rows changed (scattered, id % 100) before each incremental run, a"
    echo "  checkpoint before every timed run; median of $ROUNDS rounds, $(nproc) cores, load average $INC_LOAD"
    for sh in "${INC_SHAPES[@]}"; do
        echo "  $sh: ${inc_size[$sh]:-not set up}"
        for m in "${INC_MODES[@]}"; do
            c="$sh/$m"
            if [ -z "${inc_incr[$c]:-}" ]; then
                printf '    deletes: %-8s  %s\n' "$m" "${inc_check[$c]:-no result}"
                continue
            fi
            # shellcheck disable=SC2086
            fm=$(median ${inc_full[$c]})
            # shellcheck disable=SC2086
            im=$(median ${inc_incr[$c]})
            # Each incremental run against the full refresh timed just before it, in the
            # same round: on a shared machine whose speed drifts, the median of these ratios
            # is the figure to judge (the medians of the two columns may come from
            # different rounds).
            # shellcheck disable=SC2086
            rm=$(paste -d' ' <(printf '%s\n' ${inc_incr[$c]}) <(printf '%s\n' ${inc_full[$c]}) |
                 awk '{ printf "%.2f\n", 100 * $1 / $2 }' | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
            if [ "$m" = key_scan ]; then
                verdict="(informative: streams every source key)"
            elif awk -v r="$rm" 'BEGIN { exit !(r <= 5) }'; then
                verdict="(target <= 5%: met)"
            else
                verdict="(target <= 5%: NOT met)"
            fi
            printf '    deletes: %-8s  full refresh %8.3f s  incremental %7.3f s  (%s rows changed)  incremental/full %s%% (median of the rounds) %s\n' \
                "$m" "$fm" "$im" "${inc_changed[$c]}" "$rm" "$verdict"
            printf '        runs: full%s; incremental%s; incremental target WAL (MB)%s\n' "${inc_full[$c]}" "${inc_incr[$c]}" "${inc_wal[$c]}"
            printf '        check: %s\n' "${inc_check[$c]:-not run}"
        done
    done
}

# --- part: jobs ------------------------------------------------------------------------------
declare -A jobs_times
JOBS_FAILED=0 JOBS_LOAD="" JOBS_CHECK="not run" JOBS_SIZE=""

jobs_config() { # file schema
    local t
    {
        config_head jobs "$2"
        for t in 1 2 3 4; do
            echo "  - name: public.parties_$t"
            rules_yaml
        done
    } >"$1"
}

part_jobs() {
    local t0 t r k j order
    JOBS_LOAD=$(load_avg)
    psql_at "$SRC_PORT" -d postgres -c "CREATE DATABASE jobs"
    psql_at "$DST_PORT" -d postgres -c "CREATE DATABASE jobs"
    t0=$(now)
    for t in 1 2 3 4; do psql_at "$SRC_PORT" -d jobs -c "CREATE TABLE parties_$t $TABLE_DDL"; done
    generate_rows 1 "$JOBS_ROWS" jobs parties_1
    for t in 2 3 4; do psql_at "$SRC_PORT" -d jobs -c "INSERT INTO parties_$t SELECT * FROM parties_1"; done
    psql_at "$SRC_PORT" -d jobs -c "VACUUM ANALYZE"
    JOBS_SIZE=$(psql_at "$SRC_PORT" -d jobs -Atc "SELECT pg_size_pretty(pg_table_size('parties_1'))")
    echo "jobs source: 4 tables x $JOBS_ROWS rows, $JOBS_SIZE each (generated in $(elapsed "$t0" "$(now)") s)"
    jobs_config "$dir/jobs-1.yaml" jobs1
    jobs_config "$dir/jobs-2.yaml" jobs2
    for ((r = 0; r < ROUNDS; r++)); do
        if ((r % 2)); then order=(2 1); else order=(1 2); fi
        for j in "${order[@]}"; do
            [ "$JOBS_FAILED" = 0 ] || break 2
            if ! time_anonetl "jobs$j-r$r" "$dir/jobs-$j.yaml" "" --jobs "$j"; then
                JOBS_FAILED=1 JOBS_CHECK="FAILED: the --jobs $j run failed"
                break 2
            fi
            jobs_times[$j]="${jobs_times[$j]:-} $LAST"
            printf '  round %d  --jobs %d  %8.3f s  (%s; machine CPU busy %s%%)\n' \
                $((r + 1)) "$j" "$LAST" "$(run_phases "$LAST_LOG")" "$LAST_CPU"
        done
    done
    if [ "$JOBS_FAILED" = 0 ]; then
        JOBS_CHECK="--jobs 1 and --jobs 2 published identical data (4 x $JOBS_ROWS rows)"
        for t in 1 2 3 4; do
            k=$(digest_rows "$DST_PORT" jobs "jobs1.parties_$t" 2>&1) || true
            j=$(digest_rows "$DST_PORT" jobs "jobs2.parties_$t" 2>&1) || true
            if [ "$k" != "$j" ] || [ "${k%% *}" != "$JOBS_ROWS" ]; then
                JOBS_CHECK="MISMATCH on parties_$t: --jobs 1 '$k', --jobs 2 '$j'"
                JOBS_FAILED=1
                break
            fi
        done
    fi
    JOBS_LOAD="$JOBS_LOAD -> $(load_avg)"
    drop_database jobs
}

report_jobs() {
    local m1 m2 up verdict
    echo
    echo "parallel: 4 tables x $JOBS_ROWS rows ($JOBS_SIZE each), full refresh, median of $ROUNDS rounds,"
    echo "  $(nproc) cores, load average $JOBS_LOAD"
    if [ -n "${jobs_times[1]:-}" ] && [ -n "${jobs_times[2]:-}" ]; then
        # shellcheck disable=SC2086
        m1=$(median ${jobs_times[1]})
        # shellcheck disable=SC2086
        m2=$(median ${jobs_times[2]})
        up=$(ratio "$m1" "$m2")
        if awk -v u="$up" 'BEGIN { exit !(u >= 1.4) }'; then verdict="aim >= 1.4x: met"; else verdict="aim >= 1.4x: NOT met"; fi
        printf '  --jobs 1  %8.3f s  %9s rows/s  (runs:%s)\n' "$m1" "$(rate $((JOBS_ROWS * 4)) "$m1")" "${jobs_times[1]}"
        printf '  --jobs 2  %8.3f s  %9s rows/s  (runs:%s)\n' "$m2" "$(rate $((JOBS_ROWS * 4)) "$m2")" "${jobs_times[2]}"
        echo "  speed-up --jobs 2 / --jobs 1: ${up}x  ($verdict)"
    fi
    echo "  check: $JOBS_CHECK"
}

# --- part: audit -----------------------------------------------------------------------------
declare -A audit_times
AUDIT_FAILED=0 AUDIT_LOAD="" AUDIT_CHECK="not run" AUDIT_RATIOS="" AUDIT_SAMPLED=""

audit_config() { # file schema with-audit(0|1)
    {
        config_head audit "$2"
        echo "  - name: public.parties"
        rules_yaml
        if [ "$3" = 1 ]; then printf 'run:\n  audit: {}\n'; fi
    } >"$1"
}

part_audit() {
    local t0 r k c ratio got want
    AUDIT_LOAD=$(load_avg)
    psql_at "$SRC_PORT" -d postgres -c "CREATE DATABASE audit"
    psql_at "$DST_PORT" -d postgres -c "CREATE DATABASE audit"
    t0=$(now)
    psql_at "$SRC_PORT" -d audit -c "CREATE TABLE parties $TABLE_DDL"
    generate_rows 1 "$AUDIT_ROWS" audit
    psql_at "$SRC_PORT" -d audit -c "VACUUM ANALYZE parties"
    echo "audit source: $AUDIT_ROWS rows (generated in $(elapsed "$t0" "$(now)") s)"
    audit_config "$dir/audit-0.yaml" plain 0
    audit_config "$dir/audit-1.yaml" audited 1
    for ((r = 0; r < ROUNDS; r++)); do
        local -A this=()
        for ((k = 0; k < 2; k++)); do
            c=$(((k + r) % 2))
            if ! time_anonetl "audit$c-r$r" "$dir/audit-$c.yaml" run_done; then
                AUDIT_FAILED=1 AUDIT_CHECK="FAILED: the run $([ $c = 1 ] && echo with || echo without) the audit failed"
                break 2
            fi
            if [ "$c" = 1 ] && ! grep -q '"event":"audit_done".*"hits":0' "$LAST_LOG"; then
                AUDIT_FAILED=1 AUDIT_CHECK="FAILED: the audited run did not log audit_done with 0 hits"
                break 2
            fi
            [ "$c" = 1 ] && AUDIT_SAMPLED=$(sed -n 's/.*"event":"audit_sampled".*"sampled":\([0-9]*\).*/\1/p' "$LAST_LOG")
            this[$c]=$LAST
            audit_times[$c]="${audit_times[$c]:-} $LAST"
            printf '  round %d  %-9s %8.3f s  (%s; machine CPU busy %s%%)\n' $((r + 1)) \
                "$([ $c = 1 ] && echo audited || echo plain)" "$LAST" "$(run_phases "$LAST_LOG")" "$LAST_CPU"
        done
        ratio=$(awk -v a="${this[1]}" -v b="${this[0]}" 'BEGIN { printf "%.1f", 100 * (a / b - 1) }')
        AUDIT_RATIOS="$AUDIT_RATIOS $ratio"
    done
    if [ "$AUDIT_FAILED" = 0 ]; then
        got=$(digest_rows "$DST_PORT" audit audited.parties 2>&1) || true
        want=$(digest_rows "$DST_PORT" audit plain.parties 2>&1) || true
        if [ "$got" = "$want" ] && [ "${got%% *}" = "$AUDIT_ROWS" ]; then
            AUDIT_CHECK="0 hits; the audited run published the same rows ($AUDIT_ROWS) as the plain one"
        else
            AUDIT_CHECK="MISMATCH: plain '$want', audited '$got'"
            AUDIT_FAILED=1
        fi
    fi
    AUDIT_LOAD="$AUDIT_LOAD -> $(load_avg)"
    drop_database audit
}

report_audit() {
    local m0 m1 cost verdict
    echo
    echo "leak audit: $AUDIT_ROWS rows of parties, reference rules, full refresh, default sample size"
    echo "  (${AUDIT_SAMPLED:-?} values searched), median of $ROUNDS rounds, $(nproc) cores, load average $AUDIT_LOAD"
    if [ -n "${audit_times[0]:-}" ] && [ -n "${audit_times[1]:-}" ]; then
        # shellcheck disable=SC2086
        m0=$(median ${audit_times[0]})
        # shellcheck disable=SC2086
        m1=$(median ${audit_times[1]})
        # shellcheck disable=SC2086
        cost=$(median $AUDIT_RATIOS)
        if awk -v c="$cost" 'BEGIN { exit !(c < 10) }'; then verdict="target < 10%: met"; else verdict="target < 10%: NOT met"; fi
        printf '  plain    %8.3f s  (runs:%s)\n' "$m0" "${audit_times[0]}"
        printf '  audited  %8.3f s  (runs:%s)\n' "$m1" "${audit_times[1]}"
        echo "  audit cost: ${cost}% of the run (median of the per-round ratios:$AUDIT_RATIOS) ($verdict)"
    fi
    echo "  check: $AUDIT_CHECK"
}

# --- part: realistic (issue 13) -------------------------------------------------------------
declare -A real_times real_cpus
REAL_FAILED=0 REAL_LOAD="" REAL_CHECK="not run" REAL_SIZE="" REAL_RSS="" REAL_PHASES=""
REAL_RATIO_RAW="" REAL_RATIO_CEIL=""
real_src() { psql_at "$SRC_PORT" -d real "$@"; }
real_dst() { psql_at "$DST_PORT" -d real "$@"; }

REAL_DDL='(
    id bigint PRIMARY KEY,
    case_id bigint NOT NULL,
    full_name text NOT NULL,
    email text,
    postcode text,
    date_of_birth date,
    created_at timestamptz NOT NULL,
    claim_amount numeric(12,2),
    details jsonb,
    notes text
)'

real_config() { # file
    {
        config_head real anonymised
        cat <<'EOF'
  - name: public.parties
    columns:
      id: keep
      case_id: keep
      full_name: { hash: { length: 64 } }
      email: { hash: { length: 64 } }
      postcode: { truncate: { outward_code: true } }
      date_of_birth: { generalise: { to: month } }
      created_at: { date_shift: { by: case_id } }
      claim_amount: { bucket: { width: 100 } }
      details: { json: { paths: { "$.phone": { hash: {} } }, others: { keep: { reviewed: "bench: a json rule that copies the rest" } } } }
      notes: keep
EOF
    } >"$1"
}

# The parties of the copy part, reshaped: the phone, role and last update go into a jsonb
# document, as a case system keeps them. Once for both parts (realistic, rules).
REAL_READY=0
real_setup() {
    local t0
    [ "$REAL_READY" = 0 ] || return 0
    REAL_READY=1
    psql_at "$SRC_PORT" -d postgres -c "CREATE DATABASE real"
    psql_at "$DST_PORT" -d postgres -c "CREATE DATABASE real"
    t0=$(now)
    real_src -c "CREATE TABLE gen $TABLE_DDL"
    generate_rows 1 "$REAL_ROWS" real gen
    real_src <<SQL
CREATE TABLE parties $REAL_DDL;
INSERT INTO parties
SELECT id, case_id, full_name, email, postcode, date_of_birth, created_at, claim_amount,
       jsonb_build_object('phone', phone, 'role', role, 'channel',
                          (ARRAY['portal', 'phone', 'letter', 'email'])[1 + id % 4],
                          'updated_at', updated_at, 'flags', jsonb_build_array(id % 3 = 0, id % 7)),
       notes
FROM gen ORDER BY id;
DROP TABLE gen;
VACUUM ANALYZE parties;
SQL
    REAL_SIZE=$(real_src -Atc "SELECT pg_size_pretty(pg_table_size('parties')) || ', ' ||
                                      round(pg_table_size('parties')::numeric / count(*)) || ' bytes a row' FROM parties")
    echo "realistic source: $REAL_ROWS rows, $REAL_SIZE (generated in $(elapsed "$t0" "$(now)") s)"
    real_dst -c "CREATE SCHEMA raw; CREATE TABLE raw.parties $REAL_DDL; CREATE SCHEMA ceiling"
    real_config "$dir/real.yaml"
}

# CPU seconds a cluster has used so far: its postmaster's reaped children plus the live
# ones (backends, parallel workers, walwriter...). Read from /proc: robust to a shared
# machine's load, unlike wall times.
cluster_cpu() { # name
    local pm hz c
    pm=$(head -1 "$dir/$1/postmaster.pid") hz=$(getconf CLK_TCK)
    { awk '{ print $16 + $17 }' "/proc/$pm/stat"
      for c in $(pgrep -P "$pm"); do awk '{ print $14 + $15 }' "/proc/$c/stat" 2>/dev/null; done; } |
        awk -v hz="$hz" '{ s += $1 } END { printf "%.2f", s / hz }'
}
cpu_begin() { CPU0="$(cluster_cpu source) $(cluster_cpu target)"; }
cpu_end() { # client CPU seconds: LAST_CPU = "source client target"
    sleep 1 # exited backends are reaped, their time accounted
    LAST_CPU=$(awk -v a="$CPU0" -v s="$(cluster_cpu source)" -v t="$(cluster_cpu target)" -v c="$1" \
        'BEGIN { split(a, x, " "); printf "%.2f %.2f %.2f", s - x[1], c, t - x[2] }')
}
cpu_medians() { # "s c t,s c t,...": the median of each of the three
    local k out=""
    for k in 1 2 3; do
        # shellcheck disable=SC2046
        out="$out $(median $(printf '%s\n' "$1" | tr ',' '\n' | cut -d' ' -f"$k"))"
    done
    echo "$out"
}
cpu_text() { awk -v c="$1" 'BEGIN { split(c, x, " "); printf "CPU source %.2f s, client %.2f s, target %.2f s", x[1], x[2], x[3] }'; }

real_raw() {
    real_dst -c "TRUNCATE raw.parties"
    checkpoint_both
    local t0
    cpu_begin
    t0=$(now)
    /usr/bin/time -f "%U %S" -o "$dir/time-raw.txt" bash -c \
        "psql -X -q -h '$dir' -p $SRC_PORT -U postgres -d real -c 'COPY parties TO STDOUT' |
         psql -X -q -h '$dir' -p $DST_PORT -U postgres -d real -c 'COPY raw.parties FROM STDIN'"
    LAST=$(elapsed "$t0" "$(now)")
    cpu_end "$(awk '{ print $1 + $2 }' "$dir/time-raw.txt")"
}

# What anonetl's target does, alone: the same table (its columns and NOT NULLs, from the
# version anonetl published), the rows already anonymised (in the binary COPY file written
# from anonetl's first result), the same session settings and statistics target
# (target.statistics_target's default, 10), and the previous table dropped at the end as
# an anonetl run drops the version it replaced (150-200 ms for 1 M rows: the files'
# pages leave the page cache).
real_ceiling() {
    local t0 like
    like=$(real_dst -Atc "SELECT format('anonetl_data.%I', version_table) FROM anonetl.published
                          WHERE target_schema = 'anonymised' AND table_name = 'parties'")
    real_dst -c "SET client_min_messages = warning" -c "CREATE TABLE IF NOT EXISTS ceiling.parties (LIKE $like)"
    checkpoint_both
    cpu_begin
    t0=$(now)
    PGOPTIONS="-c synchronous_commit=off -c jit=off" real_dst <<SQL
BEGIN;
DROP TABLE ceiling.parties;
CREATE TABLE ceiling.parties (LIKE $like);
COPY ceiling.parties FROM '$dir/real-anonymised.bin' (FORMAT binary, FREEZE);
ALTER TABLE ceiling.parties ADD PRIMARY KEY (id);
SET default_statistics_target = 10;
ANALYZE ceiling.parties;
COMMIT;
SQL
    LAST=$(elapsed "$t0" "$(now)")
    cpu_end 0
}

real_anonetl() { # label
    checkpoint_both
    local t0 rc=0 log="$dir/anonetl-real-$1.log"
    cpu_begin
    t0=$(now)
    /usr/bin/time -v -o "$dir/time-real.txt" "$ANONETL" run -c "$dir/real.yaml" --skip-preflight >"$log" 2>&1 || rc=$?
    LAST=$(elapsed "$t0" "$(now)")
    cpu_end "$(awk -F': ' '/User time|System time/ { s += $2 } END { print s }' "$dir/time-real.txt")"
    if [ "$rc" -ne 0 ]; then
        echo "anonetl (realistic, $1) failed with exit $rc; last lines of its log:" >&2
        tail -20 "$log" | sed 's/^/    /' >&2
        return 1
    fi
    LAST_RSS=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$dir/time-real.txt")
    # where the time went, from the run record
    LAST_PHASES=$(real_dst -Atc "SELECT format('copy %s ms, index %s ms, analyze %s ms, publish %s ms',
                                              copy_ms, index_ms, analyze_ms, publish_ms)
                                 FROM anonetl.run_tables ORDER BY run_id DESC LIMIT 1")
}

part_realistic() {
    local r i n c methods=(raw ceiling anonetl) got want copy this_raw this_ceiling this_anonetl
    REAL_LOAD=$(load_avg)
    real_setup
    copy=$("$ANONETL" explain -c "$dir/real.yaml" 2>&1 | grep 'copy:' | sed 's/^ *//')
    # anonetl once, untimed: its result is the ceiling's input (and warms both servers)
    if ! real_anonetl warmup; then
        REAL_FAILED=1 REAL_CHECK="FAILED: anonetl failed"
        return
    fi
    real_dst -c "COPY (SELECT * FROM anonymised.parties) TO '$dir/real-anonymised.bin' (FORMAT binary)"
    real_ceiling # untimed too: each timed ceiling drops a full table, as anonetl drops a version
    n=${#methods[@]}
    for ((r = 0; r < ROUNDS; r++)); do
        for ((i = 0; i < n; i++)); do
            c=${methods[$(((i + r) % n))]}
            case $c in
            raw) real_raw ;;
            ceiling) real_ceiling ;;
            anonetl)
                if ! real_anonetl "r$r"; then
                    REAL_FAILED=1 REAL_CHECK="FAILED: anonetl failed"
                    break 2
                fi
                if [ -z "$REAL_RSS" ] || [ "$LAST_RSS" -gt "$REAL_RSS" ]; then REAL_RSS=$LAST_RSS; fi
                REAL_PHASES="$REAL_PHASES
      round $((r + 1)): $LAST_PHASES"
                ;;
            esac
            real_times[$c]="${real_times[$c]:-} $LAST"
            real_cpus[$c]="${real_cpus[$c]:-}${real_cpus[$c]:+,}$LAST_CPU"
            eval "this_$c=\$LAST"
            printf '  round %d  %-8s %8.3f s  (%s)%s\n' $((r + 1)) "$c" "$LAST" "$(cpu_text "$LAST_CPU")" \
                "$([ "$c" = anonetl ] && echo "
                      ($LAST_PHASES; peak RSS $((LAST_RSS / 1024)) MiB)")"
        done
        # the same round's times against each other: drift of a shared machine cancels
        REAL_RATIO_RAW="$REAL_RATIO_RAW $(ratio "$this_raw" "$this_anonetl")"
        REAL_RATIO_CEIL="$REAL_RATIO_CEIL $(ratio "$this_ceiling" "$this_anonetl")"
    done
    if [ "$REAL_FAILED" = 0 ]; then
        got=$(digest_rows "$DST_PORT" real anonymised.parties 2>&1) || true
        want=$(digest_rows "$DST_PORT" real ceiling.parties 2>&1) || true
        if [ "$got" = "$want" ] && [ "${got%% *}" = "$REAL_ROWS" ]; then
            REAL_CHECK="anonetl's last run published the ceiling's rows ($REAL_ROWS); $copy"
        else
            REAL_CHECK="MISMATCH: ceiling '$want', anonetl '$got'"
            REAL_FAILED=1
        fi
    fi
    REAL_LOAD="$REAL_LOAD -> $(load_avg)"
}

report_realistic() {
    local c med ra rc verdict label
    declare -A rates floors
    echo
    echo "realistic policy: $REAL_ROWS rows of parties ($REAL_SIZE), median of $ROUNDS rounds,"
    echo "  $(nproc) cores, load average $REAL_LOAD"
    for c in raw ceiling anonetl; do
        [ -n "${real_times[$c]:-}" ] || continue
        # shellcheck disable=SC2086
        med=$(median ${real_times[$c]})
        rates[$c]=$(rate "$REAL_ROWS" "$med")
        case $c in
        raw) label="(a) raw text pipe" ;;
        ceiling) label="(c) ceiling (target alone)" ;;
        anonetl) label="(r) anonetl run" ;;
        esac
        printf '  %-28s %9s rows/s  (median %.3f s; runs:%s)\n' "$label" "${rates[$c]}" "$med" "${real_times[$c]}"
        # median CPU split over the rounds: the work each method makes every process do
        floors[$c]=$(cpu_medians "${real_cpus[$c]}")
        printf '  %-28s %s (medians)\n' "" "$(cpu_text "${floors[$c]}")"
        # the least wall time that work allows on this machine's cores, if they were free:
        # each process runs on one core at a time, and all of them share the cores
        floors[$c]=$(awk -v c="${floors[$c]}" -v n="$(nproc)" 'BEGIN { split(c, x, " ");
            f = (x[1] + x[2] + x[3]) / n; for (k = 1; k <= 3; k++) if (x[k] > f) f = x[k]; print f }')
    done
    if [ -n "${rates[anonetl]:-}" ] && [ -n "${rates[raw]:-}" ] && [ -n "${rates[ceiling]:-}" ]; then
        ra=$(ratio "${rates[anonetl]}" "${rates[raw]}")
        rc=$(ratio "${rates[anonetl]}" "${rates[ceiling]}")
        verdict=$(awk -v a="$ra" -v c="$rc" 'BEGIN { print (a >= 1.0 ? "met" : "NOT met") ", " (c >= 0.9 ? "met" : "NOT met") }')
        echo "  (r)/(a): $ra   (r)/(c): $rc   (targets >= 1.00 and >= 0.90: $verdict)"
        # shellcheck disable=SC2086
        echo "  same-round ratios: (r)/(a)$REAL_RATIO_RAW (median $(median $REAL_RATIO_RAW)); (r)/(c)$REAL_RATIO_CEIL (median $(median $REAL_RATIO_CEIL))"
        echo "  on free cores, from the CPU each method used (floor = max(busiest process, total / $(nproc) cores)):"
        echo "    (r)/(a) $(ratio "${floors[raw]}" "${floors[anonetl]}")   (r)/(c) $(ratio "${floors[ceiling]}" "${floors[anonetl]}")   (the figures a quiet machine approaches)"
        echo "  anonetl peak RSS: $((REAL_RSS / 1024)) MiB (target < 50 MiB)"
        echo "  anonetl phases (run record):$REAL_PHASES"
    fi
    echo "  check: $REAL_CHECK"
}

# --- part: rules (issue 13) -------------------------------------------------------------------
RULES_FAILED=0 RULES_OUT="" RULES_LOAD=""
part_rules() {
    local n
    RULES_LOAD=$(load_avg)
    real_setup
    n=$((REAL_ROWS < 200000 ? REAL_ROWS : 200000))
    real_src -c "COPY (SELECT * FROM parties ORDER BY id LIMIT $n) TO STDOUT" >"$dir/rules.txt"
    real_src -c "COPY (SELECT * FROM parties ORDER BY id LIMIT $n) TO STDOUT (FORMAT binary)" >"$dir/rules.bin"
    if [ ! -x "$root/build/rel/rule_bench" ]; then
        RULES_OUT="rule_bench not built (make build/rel/rule_bench)"
        RULES_FAILED=1
    elif ! RULES_OUT=$("$root/build/rel/rule_bench" "$dir/rules.txt" "$dir/rules.bin" "$n" 2>&1); then
        RULES_FAILED=1
    fi
    rm -f "$dir/rules.txt" "$dir/rules.bin"
    RULES_LOAD="$RULES_LOAD -> $(load_avg)"
}

report_rules() {
    echo
    echo "rules: CPU per value, load average $RULES_LOAD"
    printf '%s\n' "$RULES_OUT" | sed 's/^rules: /  /'
}

# --- main ------------------------------------------------------------------------------------
ANONETL_HASH_KEY=$(openssl rand -hex 32)
export ANONETL_HASH_KEY
echo "bench parts: $PARTS; $(nproc) cores; load average $(load_avg)"
start_clusters
if has_part copy; then
    part_copy
    drop_database bench
fi
if has_part incremental; then part_incremental; fi
if has_part jobs; then part_jobs; fi
if has_part audit; then part_audit; fi
if has_part realistic; then part_realistic; fi
if has_part rules; then part_rules; fi
if has_part realistic || has_part rules; then drop_database real; fi

status=0
echo
echo "servers: PostgreSQL 15, both on this machine; $(server_settings_text)"
if has_part copy; then
    report_copy
    [ "$ANON_FAILED" = 0 ] && [ "$CODEC_FAILED" = 0 ] || status=1
fi
if has_part incremental; then
    report_incremental
    [ "$INC_FAILED" = 0 ] || status=1
fi
if has_part audit; then
    report_audit
    [ "$AUDIT_FAILED" = 0 ] || status=1
fi
if has_part jobs; then
    report_jobs
    [ "$JOBS_FAILED" = 0 ] || status=1
fi
if has_part json; then
    echo
    echo "json rule alone, ns per document (tests/bench/json_bench.sh):"
    "$root/tests/bench/json_bench.sh" || status=1
fi
if has_part realistic; then
    report_realistic
    [ "$REAL_FAILED" = 0 ] || status=1
fi
if has_part rules; then
    report_rules
    [ "$RULES_FAILED" = 0 ] || status=1
fi
[ "$status" = 0 ]
