#!/usr/bin/env bash
# tests/integration/kanon.sh: k_anonymity enforced on the published rows, end to end on
# two real clusters: on_violation suppress, drop and fail. Each published table is
# checked with a GROUP BY over the quasi-identifiers (every class has >= k rows), the
# exact rows that were suppressed or dropped, and the run record (anonetl.run_tables
# rows_suppressed / rows_dropped). `fail` exits 6 and publishes nothing. The published rows lie
# in the published key's order (or a random one), never by quasi-identifier (9).
#
# The quasi-identifiers are the published values: postcode goes through
# `truncate: { outward_code: true }`, so "SW1A 1AA" and "sw1a 2aa" are one class.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/tap.sh
. tests/lib/pgcluster.sh
. tests/lib/poll.sh

ANONETL=${ANONETL:-./anonetl}
pgc_pair || { echo "not ok 1 - clusters did not start"; exit 1; }

ANONETL_HASH_KEY=$(openssl rand -hex 32)
export ANONETL_HASH_KEY
SOURCE_DATABASE_URL=$(pgc_dsn "$work/src")
TARGET_DATABASE_URL=$(pgc_dsn "$work/tgt")
export SOURCE_DATABASE_URL TARGET_DATABASE_URL

# people, k = 5 over (postcode outward code, birth_year, sex):
#   SW1A 1980 F   6 rows   ok
#   EC1A 1990 M   5 rows   ok (postcodes spelled differently, one class after the rule)
#   M1   1975 F   2 rows   too small
#   B33  1960 M   1 row    too small
#   NULL 1985 F   3 rows   too small, with a NULL quasi-identifier (NULL-safe grouping)
# 6 violating rows: suppressing them makes an all-NULL class of 6 >= 5.
# birth_year is NOT NULL in the source (and so in the target): suppression must cope.
S <<'SQL' >/dev/null
CREATE TABLE public.people (
    id bigint PRIMARY KEY, postcode text, birth_year integer NOT NULL, sex text, note text);
INSERT INTO public.people
SELECT g, 'SW1A ' || g || 'AA', 1980, 'F', 'n' || g FROM generate_series(1, 6) g;
INSERT INTO public.people VALUES
 (7, 'EC1A 1BB', 1990, 'M', 'x'), (8, 'ec1a 1bb', 1990, 'M', 'x'), (9, 'EC1A1BB', 1990, 'M', 'x'),
 (10, ' EC1A 2BB ', 1990, 'M', 'x'), (11, 'EC1A 3BB', 1990, 'M', 'x'),
 (12, 'M1 1AE', 1975, 'F', 'x'), (13, 'M1 2AE', 1975, 'F', 'x'),
 (14, 'B33 8TH', 1960, 'M', 'x'),
 (15, NULL, 1985, 'F', 'x'), (16, NULL, 1985, 'F', 'x'), (17, NULL, 1985, 'F', 'x');
-- small: 2 violating rows only; suppressing them would leave an all-NULL class of 2 < 5,
-- so they are dropped instead (the safe residual).
CREATE TABLE public.small (id bigint PRIMARY KEY, region text, band text);
INSERT INTO public.small SELECT g, 'north', 'a' FROM generate_series(1, 7) g;
INSERT INTO public.small VALUES (8, 'south', 'a'), (9, 'east', 'b');
SQL

cfg=$work/anonetl.yaml
write_config() { # ON_VIOLATION
    cat >"$cfg" <<YAML
version: 1
source:
  dsn: { env: SOURCE_DATABASE_URL }
target:
  dsn: { env: TARGET_DATABASE_URL }
  schema: anonymised
secrets:
  hash_key: { env: ANONETL_HASH_KEY }
tables:
  - name: public.people
    columns:
      id: keep
      postcode: { truncate: { outward_code: true } }
      birth_year: { keep: { reviewed: "a year, a quasi-identifier k-anonymity covers" } }
      sex: keep
      note: suppress
    k_anonymity:
      quasi_identifiers: [postcode, birth_year, sex]
      k: 5
      on_violation: $1
  - name: public.small
    columns: { id: keep, region: keep, band: keep }
    k_anonymity:
      quasi_identifiers: [region, band]
      k: 5
      on_violation: $1
YAML
}
log=$work/run.log
run() { "$ANONETL" run -c "$cfg" --skip-preflight >>"$log" 2>&1; }

# Classes of the published table with fewer than k rows (must be 0).
small_classes() { # TABLE QI-LIST K
    T -tAc "SELECT count(*) FROM (SELECT 1 FROM anonymised.$1 GROUP BY $2 HAVING count(*) < $3) s"
}
last_run_counts() { # TABLE: "suppressed|dropped" of the latest succeeded run
    T -tAc "SELECT rows_suppressed || '|' || rows_dropped FROM anonetl.run_tables
            WHERE table_name = 'public.$1' AND run_id = (SELECT max(run_id) FROM anonetl.runs
            WHERE status = 'succeeded')"
}
published_md5() {
    T -tAc "SELECT md5(coalesce(string_agg(p::text, '|' ORDER BY p.id), '')) FROM anonymised.$1 p"
}

# --- 1. fail, first run: exit 6, nothing published -----------------------------------------
write_config fail
run; rc=$?
expect_eq "fail: a violating table exits 6" 6 "$rc"
expect_eq "fail: nothing published on the first run" "" \
    "$(T -tAc "SELECT to_regclass('anonymised.people')::text || to_regclass('anonymised.small')::text" 2>/dev/null)"
grep -q 'k-anonymity' "$log"
check "fail: the log names k-anonymity" test $? -eq 0

# --- 2. suppress -------------------------------------------------------------------------
: >"$log"
write_config suppress
run; rc=$?
expect_eq "suppress: run exits 0" 0 "$rc"
expect_eq "suppress: no class below k in people (GROUP BY)" 0 "$(small_classes people 'postcode, birth_year, sex' 5)"
expect_eq "suppress: no class below k in small (GROUP BY)" 0 "$(small_classes small 'region, band' 5)"
expect_eq "suppress: every row kept" 17 "$(T -tAc 'SELECT count(*) FROM anonymised.people')"
expect_eq "suppress: exactly the violating rows have all quasi-identifiers NULL" "12,13,14,15,16,17" \
    "$(T -tAc "SELECT string_agg(id::text, ',' ORDER BY id) FROM anonymised.people WHERE postcode IS NULL AND birth_year IS NULL AND sex IS NULL")"
expect_eq "suppress: rows in large classes untouched (outward codes)" "EC1A:5 SW1A:6" \
    "$(T -tAc "SELECT string_agg(postcode || ':' || n, ' ' ORDER BY postcode) FROM (SELECT postcode, count(*) n FROM anonymised.people WHERE postcode IS NOT NULL GROUP BY 1) s")"
expect_eq "suppress: run record for people (suppressed|dropped)" "6|0" "$(last_run_counts people)"
expect_eq "suppress: residual all-NULL class of 2 < k is dropped, not kept (small)" "1,2,3,4,5,6,7" \
    "$(T -tAc "SELECT string_agg(id::text, ',' ORDER BY id) FROM anonymised.small")"
expect_eq "suppress: small run record says 0 suppressed, 2 dropped" "0|2" "$(last_run_counts small)"
expect_eq "suppress: non-QI columns of suppressed rows unchanged" "x" \
    "$(T -tAc "SELECT DISTINCT coalesce(note, 'x') FROM anonymised.people WHERE id >= 12")"
suppressed_md5=$(published_md5 people)

# --- 3. fail again: exit 6, the previous publish stays as it was ---------------------------
: >"$log"
write_config fail
# Were the violation ignored, rows 12-17 would be published with their quasi-identifiers
# (they are NULL in the suppressed version), so the checksum would change.
run; rc=$?
expect_eq "fail: exits 6 with published data present" 6 "$rc"
expect_eq "fail: published people unchanged" "$suppressed_md5" "$(published_md5 people)"
expect_eq "fail: the failed run is recorded with exit code 6" "failed|6" \
    "$(T -tAc "SELECT status || '|' || exit_code FROM anonetl.runs ORDER BY run_id DESC LIMIT 1")"
expect_eq "fail: no run_tables rows for the failed run" 0 \
    "$(T -tAc "SELECT count(*) FROM anonetl.run_tables WHERE run_id = (SELECT max(run_id) FROM anonetl.runs)")"

# --- 4. drop -------------------------------------------------------------------------------
: >"$log"
write_config drop
run; rc=$?
expect_eq "drop: run exits 0" 0 "$rc"
expect_eq "drop: no class below k in people (GROUP BY)" 0 "$(small_classes people 'postcode, birth_year, sex' 5)"
expect_eq "drop: violating rows deleted, the rest kept" "1,2,3,4,5,6,7,8,9,10,11" \
    "$(T -tAc "SELECT string_agg(id::text, ',' ORDER BY id) FROM anonymised.people")"
expect_eq "drop: no quasi-identifier suppressed" 0 "$(T -tAc 'SELECT count(*) FROM anonymised.people WHERE postcode IS NULL')"
expect_eq "drop: run record for people (suppressed|dropped)" "0|6" "$(last_run_counts people)"
expect_eq "drop: run record for small" "0|2" "$(last_run_counts small)"

# --- 5. fail with data that is k-anonymous: exit 0 ------------------------------------------
: >"$log"
S -c "DELETE FROM public.people WHERE id >= 12; DELETE FROM public.small WHERE id >= 8" >/dev/null
write_config fail
run; rc=$?
expect_eq "fail: k-anonymous data publishes (exit 0)" 0 "$rc"
expect_eq "fail: all 11 rows published" 11 "$(T -tAc 'SELECT count(*) FROM anonymised.people')"
expect_eq "fail: run record, nothing suppressed or dropped" "0|0" "$(last_run_counts people)"

# --- 6. an all-NULL class alone below k: suppress drops it ---------------------------------
: >"$log"
S -c "INSERT INTO public.small VALUES (20, NULL, NULL), (21, NULL, NULL)" >/dev/null
write_config suppress
run; rc=$?
expect_eq "suppress: run exits 0 with a small all-NULL class" 0 "$rc"
expect_eq "suppress: the all-NULL class of 2 is dropped" "0|2" "$(last_run_counts small)"
expect_eq "suppress: no class below k in small (GROUP BY, NULLs grouped)" 0 "$(small_classes small 'region, band' 5)"

# --- 7. incremental tables publish what a full refresh publishes (issue 11.6) -------------
# Rows suppressed or dropped while their class is small come back when it grows, and rows
# whose class shrinks are suppressed, as a full refresh of the same source would do.
S >/dev/null <<'SQL'
CREATE TABLE public.visits (id bigint PRIMARY KEY, region text, band text NOT NULL, note text,
                            updated_at timestamptz NOT NULL DEFAULT clock_timestamp());
INSERT INTO public.visits (id, region, band, note)
SELECT g, CASE WHEN g <= 10 THEN 'north' WHEN g <= 14 THEN 'south' ELSE 'east' END,
       CASE WHEN g <= 14 THEN 'a' ELSE 'b' END, 'n' || g FROM generate_series(1, 16) g;
SQL
visits_config() { # FILE SCHEMA MODE ON_VIOLATION
    cat >"$1" <<YAML
version: 1
source: { dsn: { env: SOURCE_DATABASE_URL } }
target: { dsn: { env: TARGET_DATABASE_URL }, schema: $2 }
secrets: { hash_key: { env: ANONETL_HASH_KEY } }
tables:
  - name: public.visits
    mode: $3
    key: [id]
$([ "$3" = incremental ] && printf '    watermark: updated_at\n    watermark_lag: 0s\n    deletes: key_scan\n')
    columns: { id: { hash_int: {} }, region: keep, band: keep, note: { hash: {} }, updated_at: keep }
    k_anonymity: { quasi_identifiers: [region, band], k: 5, on_violation: $4 }
YAML
}
digest_of() { T -tAc "SELECT count(*) || ':' || md5(coalesce(string_agg(v::text, '|' ORDER BY v.id), '')) FROM $1.visits v"; }
for action in suppress drop; do
    visits_config "$work/vinc.yaml" "vinc_$action" incremental "$action"
    visits_config "$work/vref.yaml" "vref_$action" full "$action"
    bad=""
    for step in 1 2 3 4 5; do
        case $step in
        2) S -c "INSERT INTO public.visits (id, region, band, note) SELECT 100 + g, 'south', 'a', 'grown' FROM generate_series(1, 2) g" >/dev/null ;; # south/a: 4 -> 6 rows
        3) S -c "UPDATE public.visits SET band = 'c', updated_at = clock_timestamp() WHERE id IN (1, 2, 3, 4, 5, 6)" >/dev/null ;;        # north/a: 10 -> 4
        4) S -c "DELETE FROM public.visits WHERE id IN (101, 102)" >/dev/null ;;                                                          # south/a back to 4
        5) S -c "UPDATE public.visits SET note = 'late', updated_at = clock_timestamp() WHERE id = 12" >/dev/null ;;                     # a change inside a small class
        esac
        "$ANONETL" run -c "$work/vinc.yaml" --skip-preflight >"$work/vinc.log" 2>&1 || bad="$bad step$step:exit$?"
        "$ANONETL" run -c "$work/vref.yaml" --skip-preflight >"$work/vref.log" 2>&1 || bad="$bad step$step:ref-exit$?"
        [ "$step" -gt 1 ] && ! grep -q '"event":"incremental"' "$work/vinc.log" && bad="$bad step$step:not-incremental"
        [ "$(digest_of "vinc_$action")" = "$(digest_of "vref_$action")" ] || bad="$bad step$step"
    done
    expect_eq "incremental with $action: after every change, equals a full refresh (classes grow and shrink)" "" "$bad"
    expect_eq "incremental with $action: no class below k" 0 \
        "$(T -tAc "SELECT count(*) FROM (SELECT 1 FROM vinc_$action.visits GROUP BY region, band HAVING count(*) < 5) s")"
done

# --- 8. a reader whose snapshot predates the publish never sees rows before k-anonymity ----
# The new version is written already k-anonymous (COPY FREEZE): a change made after the
# frozen load would be invisible to that reader, who would see the rows unprotected.
S -c "UPDATE public.visits SET band = 'a', updated_at = clock_timestamp() WHERE id IN (1, 2, 3, 4, 5, 6)" >/dev/null
vsnap_reader_waits() { [ "$(T -tAc "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'vsnap_reader' AND wait_event = 'PgSleep'")" = 1 ]; }
for mode in full incremental; do
    visits_config "$work/vsnap.yaml" "vsnap_$mode" "$mode" suppress
    "$ANONETL" run -c "$work/vsnap.yaml" --skip-preflight >"$work/vsnap.log" 2>&1
    # The reader takes its snapshot (SELECT 1), then waits at a gate the test opens once
    # the republish has ended: one that slept 0.7 s before the run and 2.5 s in all could
    # take its snapshot after a slow run's publish, or read before it, and prove nothing.
    printf "BEGIN ISOLATION LEVEL REPEATABLE READ;\nSELECT 1;\n%s\nSELECT 'small=' || count(*) FROM (SELECT 1 FROM vsnap_%s.visits GROUP BY region, band HAVING count(*) < 5) s;\nSELECT 'rows=' || count(*) FROM vsnap_%s.visits;\nCOMMIT;\n" "$(gate_sql "$work/vsnap_$mode.gate")" "$mode" "$mode" |
        PGAPPNAME=vsnap_reader T -tA -q >"$work/vsnap.reader" 2>&1 &
    rd=$!
    poll_until 60 vsnap_reader_waits || not_ok "$mode: the reader took its snapshot"
    "$ANONETL" run -c "$work/vsnap.yaml" --skip-preflight --full-refresh >>"$work/vsnap.log" 2>&1
    expect_eq "$mode: republish with a reader holding an older snapshot exits 0" 0 $?
    touch "$work/vsnap_$mode.gate"
    wait $rd
    expect_eq "$mode: that reader sees no class below k ($(grep '^rows=' "$work/vsnap.reader"))" small=0 \
        "$(grep '^small=' "$work/vsnap.reader")"
done

# --- 9. the published rows' physical order says nothing of a suppressed value -------------
# The data team reads a view over the version, in its physical order when a query has no
# ORDER BY. That version was written in the window's order (sorted by the quasi-
# identifiers): a suppressed row sat between the classes its own values fall between
# (the HIV patient's NULL postcode between AB1 and CD2: BZ9). It is now written in the
# published key's order (a hashed id: no order of the source), or a random one without
# a key. Ten patients in each of AB1, CD2, EF3; one each in BZ9, DX7, GZ5 (suppressed).
S >/dev/null <<'SQL'
CREATE TABLE public.patients (id serial PRIMARY KEY, full_name text, postcode text, diagnosis text);
INSERT INTO public.patients (full_name, postcode, diagnosis)
SELECT 'Patient ' || g || pc, pc || ' ' || (g % 10) || 'AA', 'flu'
  FROM generate_series(1, 10) g, unnest(ARRAY['EF3', 'AB1', 'CD2']) pc;
INSERT INTO public.patients (full_name, postcode, diagnosis)
VALUES ('Zoe Rare', 'BZ9 4QQ', 'HIV'), ('Yan Rare', 'GZ5 1AB', 'TB'), ('Xia Rare', 'DX7 9ZZ', 'flu');
CREATE TABLE public.patients_nokey AS SELECT full_name, postcode, diagnosis FROM public.patients;
SQL
cat >"$work/order.yaml" <<'YAML'
version: 1
source: { dsn: { env: SOURCE_DATABASE_URL } }
target: { dsn: { env: TARGET_DATABASE_URL }, schema: ordered }
secrets: { hash_key: { env: ANONETL_HASH_KEY } }
tables:
  - name: public.patients
    columns:
      id: { hash_int: {} }
      full_name: { hash: {} }
      postcode: { truncate: { outward_code: true } }
      diagnosis: { keep: { reviewed: "coarse categories" } }
    k_anonymity: { quasi_identifiers: [postcode], k: 3, on_violation: suppress }
  - name: public.patients_nokey
    columns:
      full_name: { hash: {} }
      postcode: { truncate: { outward_code: true } }
      diagnosis: { keep: { reviewed: "coarse categories" } }
    k_anonymity: { quasi_identifiers: [postcode], k: 3, on_violation: suppress }
YAML
"$ANONETL" run -c "$work/order.yaml" --skip-preflight >"$work/order.log" 2>&1
expect_eq "order: run exits 0" 0 $?
expect_eq "order: the 3 rare postcodes are suppressed" 3 \
    "$(T -tAc "SELECT count(*) FROM ordered.patients WHERE postcode IS NULL")"
# scan order, as a reader without ORDER BY gets it
expect_eq "order: the published rows lie in the published key's order" \
    "$(T -tAc "SELECT string_agg(id::text, ',' ORDER BY id) FROM ordered.patients")" \
    "$(T -tAc "SELECT string_agg(id::text, ',') FROM ordered.patients")"
changes() { # TABLE: neighbours in scan order with another postcode (laid out by class: 5)
    T -tAc "SELECT count(*) FILTER (WHERE p IS DISTINCT FROM lag) FROM (SELECT postcode p,
            lag(postcode, 1, 'start') OVER () FROM $1) s"
}
for t in patients patients_nokey; do
    n=$(changes "ordered.$t")
    check "order: $t is not laid out by class ($n changes of postcode along 33 rows)" test "$n" -gt 10
done
# A key that does not become the primary key (it can be NULL after its rule) may be of a
# type without an order: a random order then, not a failed run.
S >/dev/null <<'SQL'
CREATE TABLE public.spots (loc point NOT NULL, region text);
INSERT INTO public.spots SELECT point(g, g), CASE WHEN g <= 12 THEN 'r' || (g % 3) ELSE 'rare' || g END
  FROM generate_series(1, 15) g;
SQL
cat >"$work/spots.yaml" <<'YAML'
version: 1
source: { dsn: { env: SOURCE_DATABASE_URL } }
target: { dsn: { env: TARGET_DATABASE_URL }, schema: ordered }
secrets: { hash_key: { env: ANONETL_HASH_KEY } }
tables:
  - name: public.spots
    key: [loc]
    columns: { loc: suppress, region: keep }
    k_anonymity: { quasi_identifiers: [region], k: 3, on_violation: suppress }
YAML
"$ANONETL" run -c "$work/spots.yaml" --skip-preflight >"$work/spots.log" 2>&1
expect_eq "order: a suppressed key of type point (no primary key, no order): run exits 0" 0 $?
expect_eq "order: its 3 rare regions are suppressed" 3 "$(T -tAc "SELECT count(*) FROM ordered.spots WHERE region IS NULL")"

done_testing
