#!/usr/bin/env bash
# tests/integration/sample.sh: the rows `check --source`, `run` (before publishing) and
# `preview` look at are sampled over the whole table (etl/rowsample.h), not taken from
# the first pages of a scan.
#
# The layouts production tables have: rows inserted last, rows moved to the end of the
# heap by UPDATEs (the new version of a row goes where there is room: at the end of a
# full table), a table never analysed (reltuples -1), one analysed before it grew, a
# partitioned table whose last partition holds them, a view, a selective where:. Each
# table has a `keep` column of delivery notes (plain text); in 10% of its rows, all at
# the end of the heap, the note holds an e-mail address, which the keep review must find
# (exit 6). A json column whose "email" key only the last rows carry must show up in the
# survey. The old sampler stopped after 200 rows drawn from the first 10% of the heap
# (a random filter sized to reach the limit there): it passed all of these. A bytea is
# scanned for what it holds, not for the digits of its hex form. The sample is repeatable:
# the same table gives the same rows, so `check --source` and the run agree.
set -u
cd "$(dirname "$0")/../.."
. tests/lib/tap.sh
. tests/lib/poll.sh
. tests/lib/pgcluster.sh

ANONETL=${ANONETL:-./anonetl}
pgc_pair || { echo "not ok 1 - clusters did not start"; exit 1; }
export ANONETL_HASH_KEY=$(openssl rand -hex 32)
export SOURCE_DATABASE_URL="$(pgc_dsn "$work/src")"
export TARGET_DATABASE_URL="$(pgc_dsn "$work/tgt")"

# Notes as a courier's system writes them; NOTE_MAIL ones carry an address.
S <<'SQL' >/dev/null
CREATE FUNCTION note(g int) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT (ARRAY['Left with the neighbour at no. ', 'Delivered to the front desk, ref ',
                'Customer not in, card left, attempt ', 'Signed for at reception, parcel '])
         [1 + g % 4] || g $$;
CREATE FUNCTION note_mail(g int) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT 'Call back before delivery: ' ||
         (ARRAY['jane.doe', 'm.okafor', 'li.wei', 'p.novak'])[1 + g % 4] || g || '@example.co.uk' $$;

-- 1. inserted last, never analysed (autovacuum off for it: reltuples stays -1)
CREATE TABLE appended (id int PRIMARY KEY, note text) WITH (autovacuum_enabled = false);
INSERT INTO appended SELECT g, note(g) FROM generate_series(1, 54000) g;
INSERT INTO appended SELECT g, note_mail(g) FROM generate_series(54001, 60000) g;

-- 2. moved to the end by UPDATEs (every 10th row), then analysed
CREATE TABLE updated (id int PRIMARY KEY, note text) WITH (autovacuum_enabled = false);
INSERT INTO updated SELECT g, note(g) FROM generate_series(1, 60000) g;
UPDATE updated SET note = note_mail(id) WHERE id % 10 = 0;
ANALYZE updated;

-- 3. analysed small, then grown (reltuples says 2,000 rows)
CREATE TABLE grown (id int PRIMARY KEY, note text) WITH (autovacuum_enabled = false);
INSERT INTO grown SELECT g, note(g) FROM generate_series(1, 2000) g;
ANALYZE grown;
INSERT INTO grown SELECT g, note(g) FROM generate_series(2001, 54000) g;
INSERT INTO grown SELECT g, note_mail(g) FROM generate_series(54001, 60000) g;

-- 4. partitioned: the addresses in the last partition
CREATE TABLE parted (id int, note text) PARTITION BY RANGE (id);
CREATE TABLE parted_old PARTITION OF parted FOR VALUES FROM (1) TO (54001);
CREATE TABLE parted_new PARTITION OF parted FOR VALUES FROM (54001) TO (100000);
INSERT INTO parted SELECT g, note(g) FROM generate_series(1, 54000) g;
INSERT INTO parted SELECT g, note_mail(g) FROM generate_series(54001, 60000) g;
ANALYZE parted;

-- 5. a view over the updated table
CREATE VIEW updated_view AS SELECT id, note FROM updated;

-- 6. where: keeps 5% of the rows (active accounts); the addresses are in active rows at
--    the end; and a twin whose addresses are all in rows the where: leaves out
CREATE TABLE filtered (id int PRIMARY KEY, active boolean, note text) WITH (autovacuum_enabled = false);
INSERT INTO filtered SELECT g, g % 20 = 0, note(g) FROM generate_series(1, 60000) g;
UPDATE filtered SET note = note_mail(id) WHERE active AND id > 54000;
ANALYZE filtered;
CREATE TABLE filtered_out (id int PRIMARY KEY, active boolean, note text);
INSERT INTO filtered_out SELECT g, g <= 54000, CASE WHEN g > 54000 THEN note_mail(g) ELSE note(g) END
FROM generate_series(1, 60000) g;
ANALYZE filtered_out;

-- 7. json: the "email" key only in the documents of the last rows
CREATE TABLE events (id int PRIMARY KEY, doc jsonb) WITH (autovacuum_enabled = false);
INSERT INTO events SELECT g, jsonb_build_object('kind', 'delivery', 'depot', 'D' || (g % 40))
FROM generate_series(1, 54000) g;
INSERT INTO events SELECT g, jsonb_build_object('kind', 'delivery', 'depot', 'D' || (g % 40),
                                                'email', note_mail(g))
FROM generate_series(54001, 60000) g;
SQL

config() { # TABLE [WHERE]: id and note kept (and active, when there is a where:)
    cat >"$work/$1.yaml" <<YAML
version: 1
source: { dsn: { env: SOURCE_DATABASE_URL } }
target: { dsn: { env: TARGET_DATABASE_URL } }
secrets: { hash_key: { env: ANONETL_HASH_KEY } }
tables:
  - name: public.$1
    columns: { id: keep, note: keep${2:+, active: keep} }
${2:+    where: $2}
YAML
}
# check_finds NAME TABLE [WHERE]: check --source exits 6 naming TABLE.note and e-mail addresses
check_finds() {
    local name=$1 table=$2 rc
    config "$table" "${3:-}"
    "$ANONETL" check -c "$work/$table.yaml" --source >"$work/$table.out" 2>&1
    rc=$?
    if [ "$rc" = 6 ] && grep -q "public.$table.note.*email" "$work/$table.out"; then
        ok "$name"
    else
        not_ok "$name" "rc=$rc $(head -c 600 "$work/$table.out")"
    fi
}

check_finds "rows inserted last, table never analysed: found" appended
check_finds "rows moved to the end of the heap by UPDATEs: found" updated
check_finds "table analysed small, then grown: found" grown
check_finds "partitioned table, addresses in the last partition: found" parted
check_finds "a view over the updated table: found" updated_view
check_finds "where: keeps 5% of the rows, addresses in active rows at the end: found" filtered active
config filtered_out active
"$ANONETL" check -c "$work/filtered_out.yaml" --source >"$work/filtered_out.out" 2>&1
expect_eq "addresses only in rows the where: leaves out: not a finding (exit 0)" 0 $?

# bytea: its text form (\x and hex) is not what it holds. Binary values whose hex digits
# read as a card number (4111 1111 1111 1111, Luhn-valid) are not a finding; text kept in
# a bytea (UTF-8 notes with addresses) is.
S <<'SQL' >/dev/null
CREATE TABLE blobs (id int PRIMARY KEY, note bytea);
INSERT INTO blobs SELECT g, decode('4111111111111111ff', 'hex') || int4send(g) FROM generate_series(1, 3000) g;
CREATE TABLE texts (id int PRIMARY KEY, note bytea);
INSERT INTO texts SELECT g, convert_to(CASE WHEN g % 10 = 0 THEN note_mail(g) ELSE note(g) END, 'UTF8')
FROM generate_series(1, 3000) g;
SQL
config blobs
"$ANONETL" check -c "$work/blobs.yaml" --source >"$work/blobs.out" 2>&1
rc=$?
if [ "$rc" = 0 ] && ! grep -q "card numbers" "$work/blobs.out"; then
    ok "bytea of binary data whose hex reads as a card number: not a finding"
else
    not_ok "bytea of binary data whose hex reads as a card number: not a finding" "rc=$rc $(head -c 300 "$work/blobs.out")"
fi
check_finds "bytea holding UTF-8 notes with addresses: found" texts

# run refuses before copying anything; the old sampler published the addresses
config updated
"$ANONETL" run -c "$work/updated.yaml" --skip-preflight >"$work/run.out" 2>&1
expect_eq "run over the updated table: exit 6 (keep review)" 6 $?
published=$(T -tAc "SELECT count(*) FROM pg_catalog.pg_class WHERE relname = 'updated'")
expect_eq "nothing published" 0 "$published"

# the json survey sees the key only the last rows carry
cat >"$work/events.yaml" <<YAML
version: 1
source: { dsn: { env: SOURCE_DATABASE_URL } }
target: { dsn: { env: TARGET_DATABASE_URL } }
secrets: { hash_key: { env: ANONETL_HASH_KEY } }
tables:
  - name: public.events
    columns:
      id: keep
      doc: { json: { paths: { "$.kind": keep, "$.depot": keep } } }
YAML
"$ANONETL" check -c "$work/events.yaml" --source >"$work/events.out" 2>&1
check "json survey: the key only the last rows carry is named (no json path names email)" \
    grep -q "public.events.doc: in [0-9]* sampled documents, no json path names .*email" "$work/events.out"

# preview shows rows from the whole table, not its first pages: 100 rows of the updated
# table, some from its last tenth (the moved rows)
"$ANONETL" preview -c "$work/updated.yaml" --table public.updated --limit 100 --random-key \
    >"$work/preview.out" 2>&1
late=$(grep -cE 'Call back before delivery' "$work/preview.out")
if [ "${late:-0}" -ge 1 ]; then ok "preview shows rows from the end of the heap ($late of 100)"; else
    not_ok "preview shows rows from the end of the heap" "$(head -c 400 "$work/preview.out")"; fi
# repeatable: the same table gives the same sample (check --source and the run agree)
"$ANONETL" preview -c "$work/updated.yaml" --table public.updated --limit 100 --random-key \
    >"$work/preview2.out" 2>&1
if cmp -s "$work/preview.out" "$work/preview2.out"; then ok "the same table gives the same sample"; else
    not_ok "the same table gives the same sample" "$(diff "$work/preview.out" "$work/preview2.out" | head -5)"; fi

# the sample is read inside the read-only snapshot, and costs a few pages: a 600,000-row
# table is not read whole (pg_stat: blocks read by the sample, a fresh cluster cache)
S -c "CREATE TABLE big (id int PRIMARY KEY, note text) WITH (autovacuum_enabled = false);
      INSERT INTO big SELECT g, note(g) FROM generate_series(1, 600000) g; ANALYZE big;" >/dev/null
config big
before=$(S -tAc "SELECT heap_blks_read + heap_blks_hit FROM pg_statio_user_tables WHERE relname = 'big'")
"$ANONETL" check -c "$work/big.yaml" --source >"$work/big.out" 2>&1
rc=$?
# A backend sends its statistics as it ends, before it leaves pg_stat_activity: waited
# for (a fixed second, and a backend still there then counted nothing read: the check
# passed whatever the sample read).
check_backends_gone() { [ "$(S -tAc "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'anonetl'")" = 0 ]; }
poll_until 60 check_backends_gone || not_ok "the check's source backend ended"
after=$(S -tAc "SELECT heap_blks_read + heap_blks_hit FROM pg_statio_user_tables WHERE relname = 'big'")
pages=$(S -tAc "SELECT pg_relation_size('big') / 8192")
if [ "$rc" = 0 ] && [ $((after - before)) -lt $((pages / 4)) ]; then
    ok "a 600,000-row table: $((after - before)) of its $pages pages read"
else
    not_ok "a 600,000-row table is sampled, not read whole" "rc=$rc read $((after - before)) of $pages"
fi
done_testing
