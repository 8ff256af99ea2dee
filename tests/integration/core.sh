#!/usr/bin/env bash
# tests/integration/core.sh: the full-refresh job end to end on two real clusters.
# Covers issue 2's integration list: exact keep values, hashes equal to pgcrypto's own
# HMAC over the same construction, suppression, awkward values, schema drift (exit 6,
# nothing published), kill -9 mid-COPY, concurrent runs (exit 7), the data team's views,
# grants, and no secret in any output or in the target.
set -u
cd "$(dirname "$0")/../.."
. tests/lib/tap.sh
. tests/lib/pgcluster.sh
. tests/lib/poll.sh

ANONETL=${ANONETL:-./anonetl}
pgc_pair || { echo "not ok 1 - clusters did not start"; exit 1; }

# Secrets used below; the test proves none of them leaks.
KEY=$(openssl rand -hex 32)
TGT_PASSWORD="Tgt-$(openssl rand -hex 12)"
export ANONETL_HASH_KEY=$KEY

S -c "CREATE EXTENSION pgcrypto" >/dev/null
S <<'SQL' >/dev/null
CREATE TYPE mood AS ENUM ('calm', 'angry');
CREATE TABLE public.people (
    id          bigint PRIMARY KEY,
    email       text NOT NULL,
    name        text,
    secret_note text NOT NULL,
    notes       text,
    tags        text[],
    aliases     text[],
    doc         jsonb,
    blob        bytea,
    amount      numeric(14,4),
    seen_at     timestamptz,
    feeling     mood,
    code        integer,
    is_test     boolean NOT NULL DEFAULT false
);
INSERT INTO public.people VALUES
 (1, 'a@example.com', 'Zoë O''Brien', 's1', E'tab\there', '{a,b}', '{"Zoë", NULL, "x y"}', '{"k": [1, 2]}', '\x00ff', 1.5, '2024-01-02 03:04:05+00', 'calm', 7, false),
 (2, 'b@example.com', 'Łukasz', 's2', E'new\nline and \\ backslash', '{"with space",NULL}', '{}', '{"ü": "\u00e9"}', '\x', -0.0001, '1999-12-31 23:59:59.999999+00', 'angry', NULL, false),
 (3, 'c@example.com', '', 's3', '', '{}', NULL, 'null', NULL, 123456789.1234, NULL, NULL, -1, false),
 (4, 'd@example.com', NULL, 's4', E'cr\r\nand \\N literal', NULL, '{"",q}', NULL, '\x5c6e', NULL, 'infinity', 'calm', 0, false),
 (5, 'test@example.com', 'Test', 's5', 'filtered out', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, true);
INSERT INTO public.people
SELECT g, 'user' || g || '@example.org', 'Name ' || g, 'x', 'note ' || g, ARRAY['t' || g], ARRAY['a' || g], jsonb_build_object('n', g),
       decode(md5(g::text), 'hex'), g / 7.0, '2020-01-01'::timestamptz + g * interval '1 minute', 'calm', g, false
FROM generate_series(6, 3000) g;
CREATE TABLE public.cases (case_ref text PRIMARY KEY, person_id bigint, status text);
INSERT INTO public.cases SELECT 'C-' || g, g, CASE WHEN g % 2 = 0 THEN 'open' ELSE 'closed' END FROM generate_series(1, 2000) g;
-- a large table for the kill -9 and concurrency tests
CREATE TABLE public.bulk (id bigint PRIMARY KEY, payload text);
INSERT INTO public.bulk SELECT g, repeat(md5(g::text), 4) FROM generate_series(1, 1500000) g;
ANALYZE;
SQL

# Least-privilege roles from sql/roles (the same scripts the demo uses).
S -d postgres -v tables='public.people,public.cases,public.bulk' -f sql/roles/source_reader.sql >/dev/null
T -d postgres -v writer_password="$TGT_PASSWORD" -f sql/roles/target_writer.sql >/dev/null
T -d postgres -f sql/roles/data_team_reader.sql >/dev/null
T -c "ALTER ROLE anonetl_writer PASSWORD '$TGT_PASSWORD'" >/dev/null

export SOURCE_DATABASE_URL="$(pgc_dsn "$work/src" postgres anonetl_reader)"
# The target over TCP with a password, so the password really travels and could leak.
export TARGET_DATABASE_URL="postgresql://anonetl_writer:$TGT_PASSWORD@127.0.0.1:$(pgc_port "$work/tgt")/postgres"

write_config() { # FILE [extra table yaml]
    cat >"$1" <<YAML
version: 1
source:
  dsn: { env: SOURCE_DATABASE_URL }
target:
  dsn: { env: TARGET_DATABASE_URL }
  schema: anonymised
  grant_select_to: [data_team]
secrets:
  hash_key: { env: ANONETL_HASH_KEY }
tables:
  - name: public.people
    where: "NOT is_test"
    columns:
      id: { hash_int: {} }
      email: { hash: {} }
      name: { hash: { length: 16, namespace: people } }
      secret_note: suppress
      notes: keep
      tags: keep
      aliases: { hash: {} }
      doc: keep
      blob: keep
      amount: keep
      seen_at: keep
      feeling: keep
      code: { constant: "42" }
      is_test: keep
  - name: public.cases
    columns:
      case_ref: { hash: { length: 12 } }
      person_id: { hash_int: {} }
      status: keep
${2:-}
YAML
}
cfg=$work/anonetl.yaml
write_config "$cfg"
log=$work/run.log

run() { "$ANONETL" run -c "$cfg" --skip-preflight "$@" >>"$log.out" 2>>"$log"; }

# --- 1. a full refresh works and publishes views --------------------------------------
run; rc=$?
expect_eq "first run exits 0" 0 "$rc"
expect_eq "published people rows (test account filtered)" 2999 "$(T -tAc 'SELECT count(*) FROM anonymised.people')"
expect_eq "published names are views" "v v" "$(T -tAc "SELECT string_agg(relkind::text, ' ' ORDER BY relname) FROM pg_class WHERE relnamespace = 'anonymised'::regnamespace")"
grep -q '"event":"table_done"' "$log" && grep -q '"rows_filtered":1' "$log"
check "JSON log lines with table summary (rows read/written/filtered)" test $? -eq 0

# --- 2. keep columns byte-identical to the source ---------------------------------------
KEEP="notes, tags, doc, blob, amount, seen_at, feeling::text, is_test"
src_keep=$(S -c "COPY (SELECT $KEEP FROM public.people WHERE NOT is_test ORDER BY id) TO STDOUT" | md5sum)
tgt_keep=$(T -c "COPY (SELECT p.$KEEP FROM anonymised.people p ORDER BY p.seen_at NULLS FIRST, p.notes) TO STDOUT" 2>/dev/null | md5sum)
# order: join by the hashed id computed in the source instead (same construction)
S -c "CREATE TEMP TABLE x AS SELECT 1" >/dev/null
src_rows=$(S -c "COPY (SELECT ((('x' || substr(encode(hmac(convert_to('', 'UTF8') || '\\x00'::bytea || convert_to(id::text, 'UTF8'), decode('$KEY', 'escape'), 'sha256'), 'hex'), 1, 16))::bit(64)::bigint) & 9223372036854775807), $KEEP FROM public.people WHERE NOT is_test ORDER BY 1) TO STDOUT")
tgt_rows=$(T -c "COPY (SELECT id, $KEEP FROM anonymised.people ORDER BY 1) TO STDOUT")
if [ "$src_rows" = "$tgt_rows" ]; then ok "keep columns byte-identical (COPY of both sides) and hash_int equals pgcrypto"; else
    not_ok "keep columns byte-identical (COPY of both sides) and hash_int equals pgcrypto" "$(diff <(echo "$src_rows") <(echo "$tgt_rows") | head -10)"; fi

# --- 3. hash = encode(hmac(ns || 0x00 || value)) cut to length, checked by pgcrypto -------
src_h=$(S -c "COPY (SELECT substr(encode(hmac(convert_to('', 'UTF8') || '\\x00'::bytea || convert_to(email, 'UTF8'), decode('$KEY', 'escape'), 'sha256'), 'hex'), 1, 32),
                           substr(encode(hmac(convert_to('people', 'UTF8') || '\\x00'::bytea || convert_to(name, 'UTF8'), decode('$KEY', 'escape'), 'sha256'), 'hex'), 1, 16)
                    FROM public.people WHERE NOT is_test ORDER BY 1) TO STDOUT")
tgt_h=$(T -c "COPY (SELECT email, name FROM anonymised.people ORDER BY 1) TO STDOUT")
if [ "$src_h" = "$tgt_h" ]; then ok "hash values equal pgcrypto's HMAC (default and namespaced, NULL stays NULL)"; else
    not_ok "hash values equal pgcrypto's HMAC" "$(diff <(echo "$src_h") <(echo "$tgt_h") | head -6)"; fi
src_a=$(S -c "COPY (SELECT (SELECT array_agg(CASE WHEN e IS NULL THEN NULL ELSE substr(encode(hmac(convert_to('', 'UTF8') || '\\x00'::bytea || convert_to(e, 'UTF8'), decode('$KEY', 'escape'), 'sha256'), 'hex'), 1, 32) END ORDER BY o) FROM unnest(aliases) WITH ORDINALITY u(e, o)) AS a FROM public.people WHERE NOT is_test AND aliases IS NOT NULL AND aliases <> '{}' ORDER BY 1) TO STDOUT")
tgt_a=$(T -c "COPY (SELECT aliases FROM anonymised.people WHERE aliases IS NOT NULL AND aliases <> '{}' ORDER BY 1) TO STDOUT")
expect_eq "hash on a text[] column hashes each element (NULL elements stay NULL)" "$src_a" "$tgt_a"
expect_eq "empty and NULL arrays kept as such" "1 1" "$(T -tAc "SELECT count(*) FILTER (WHERE aliases = '{}') || ' ' || count(*) FILTER (WHERE aliases IS NULL) FROM anonymised.people")"
expect_eq "suppressed column all NULL" 0 "$(T -tAc 'SELECT count(*) FROM anonymised.people WHERE secret_note IS NOT NULL')"
expect_eq "constant column" "42" "$(T -tAc 'SELECT DISTINCT code FROM anonymised.people')"
expect_eq "suppressed NOT NULL column became nullable" "YES" "$(T -tAc "SELECT is_nullable FROM information_schema.columns WHERE table_schema='anonymised' AND table_name='people' AND column_name='secret_note'")"
expect_eq "hash_int key is a bigint primary key in the version table" "bigint" "$(T -tAc "SELECT format_type(a.atttypid, a.atttypmod) FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) JOIN pg_class c ON c.oid = i.indrelid WHERE i.indisprimary AND c.relname LIKE 'public.people@r%'")"
expect_eq "joins survive: cases.person_id hashes match people.id" 1999 "$(T -tAc 'SELECT count(*) FROM anonymised.cases c JOIN anonymised.people p ON p.id = c.person_id')"

# --- 4. the data team: grants, private schemas, a view of their own survives a publish ---
T -c "CREATE ROLE analyst LOGIN IN ROLE data_team" >/dev/null 2>&1
T -c "CREATE SCHEMA IF NOT EXISTS data_team_sandbox AUTHORIZATION data_team; GRANT CREATE, USAGE ON SCHEMA data_team_sandbox TO data_team" >/dev/null 2>&1
A() { pgc_psql "$work/tgt" -d postgres -U analyst "$@"; }
expect_eq "data team reads published tables" 2999 "$(A -tAc 'SELECT count(*) FROM anonymised.people' 2>&1)"
A -tAc 'SELECT count(*) FROM anonetl.runs' >/dev/null 2>&1; rc=$?
check "data team cannot read the private anonetl schema" test "$rc" -ne 0
A -c "SET ROLE data_team; CREATE VIEW data_team_sandbox.open_cases AS SELECT status, count(*) AS n FROM anonymised.cases GROUP BY status" >/dev/null 2>&1
S -c "UPDATE public.cases SET status = 'open' WHERE case_ref = 'C-1'" >/dev/null
# A reader inside an open transaction holds the old version; the publish must not block it.
(A -c "BEGIN; SELECT count(*) FROM anonymised.cases; SELECT pg_sleep(1); SELECT count(*) FROM anonymised.cases; COMMIT" >"$work/reader.out" 2>&1) &
reader=$!
sleep 0.3
run; rc=$?
wait $reader; rrc=$?
expect_eq "second run exits 0 with a data team view on a published table" 0 "$rc"
expect_eq "concurrent reader finished fine" 0 "$rrc"
expect_eq "data team view still works and sees the new data" "1001" "$(A -tAc "SELECT n FROM data_team_sandbox.open_cases WHERE status = 'open'" 2>&1)"
expect_eq "old versions dropped, one table per published view" 2 "$(T -tAc "SELECT count(*) FROM pg_class WHERE relnamespace = 'anonetl_data'::regnamespace AND relkind = 'r'")"
expect_eq "run records and config fingerprint" "succeeded succeeded" "$(T -tAc "SELECT string_agg(status, ' ' ORDER BY run_id) FROM anonetl.runs WHERE length(config_fingerprint) = 64")"

# --- 5. schema drift: a new source column without a rule -> exit 6, nothing published ---
before=$(T -tAc "SELECT md5(string_agg(t::text, '|' ORDER BY t::text)) FROM anonymised.people t")
S -c "ALTER TABLE public.people ADD COLUMN phone text DEFAULT '07700 900123'" >/dev/null
S -c "GRANT SELECT ON public.people TO anonetl_reader" >/dev/null
: >"$log"
run; rc=$?
expect_eq "uncovered source column exits 6" 6 "$rc"
grep -q 'phone: suppress' "$log"
check "the error prints the YAML line to add" test $? -eq 0
expect_eq "published data unchanged after the policy failure" "$before" "$(T -tAc "SELECT md5(string_agg(t::text, '|' ORDER BY t::text)) FROM anonymised.people t")"
S -c "ALTER TABLE public.people DROP COLUMN phone" >/dev/null

# --- 5b. preflight before the run: a FAIL exits 3 and the target is not touched ----------
runs_before=$(T -tAc "SELECT count(*) FROM anonetl.runs")
sed 's/grant_select_to: \[data_team\]/grant_select_to: [data_team, no_such_role]/' "$cfg" >"$work/pf.yaml"
"$ANONETL" run -c "$work/pf.yaml" >"$work/pf.out" 2>&1; rc=$?
expect_eq "run with a failing preflight check exits 3" 3 "$rc"
grep -q 'no_such_role' "$work/pf.out"; check "the failing check is named" test $? -eq 0
expect_eq "the target was not touched (no run recorded)" "$runs_before" "$(T -tAc "SELECT count(*) FROM anonetl.runs")"
"$ANONETL" run -c "$cfg" >"$work/pf2.out" 2>&1; rc=$?
expect_eq "run with preflight passing exits 0" 0 "$rc"

# --- 6. config errors exit 2 -------------------------------------------------------------
printf 'version: 1\nsource: { dsn: x }\ntarget: { dsn: y }\nsecrets: { hash_key: { env: K } }\ntables:\n  - name: t\n    columns: { a: hsah }\n' >"$work/bad.yaml"
"$ANONETL" check -c "$work/bad.yaml" >"$work/bad.out" 2>&1; rc=$?
expect_eq "config error exits 2" 2 "$rc"
grep -q 'bad.yaml:7:.*did you mean .hash.' "$work/bad.out"
check "config error names file:line and suggests" test $? -eq 0
ANONETL_HASH_KEY=short "$ANONETL" run -c "$cfg" --skip-preflight >/dev/null 2>"$work/short.out"; rc=$?
expect_eq "a key under 32 bytes exits 2" 2 "$rc"

# --- 7. kill -9 in the middle of a large COPY: published data intact, next run ok --------
write_config "$cfg" "  - name: public.bulk
    columns: { id: keep, payload: { hash: {} } }"
run; rc=$?
expect_eq "run with the large table exits 0" 0 "$rc"
before=$(T -tAc "SELECT count(*), md5(string_agg(email, '' ORDER BY email)) FROM anonymised.people")
bulk_before=$(T -tAc "SELECT count(*) FROM anonymised.bulk")
S -c "UPDATE public.people SET email = 'changed' || id WHERE id < 100" >/dev/null
"$ANONETL" run -c "$cfg" --skip-preflight >/dev/null 2>&1 &
pid=$!
for _ in $(seq 1 200); do
    [ "$(T -tAc "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'COPY anonetl_data.%bulk%' AND state = 'active'")" = 1 ] && break
    sleep 0.05
done
sleep 0.3
kill -9 $pid; wait $pid 2>/dev/null
expect_eq "after kill -9: published people unchanged" "$before" "$(T -tAc "SELECT count(*), md5(string_agg(email, '' ORDER BY email)) FROM anonymised.people")"
expect_eq "after kill -9: published bulk unchanged" "$bulk_before" "$(T -tAc "SELECT count(*) FROM anonymised.bulk")"
# the killed job's backends end on their own (they read EOF, or check the client every
# second): the next scheduled run is not refused with exit 7 by a dead job's lock
anonetl_backends_gone() { # SECONDS: wait up to that long for no anonetl session on the target
    local i
    for i in $(seq 1 $(($1 * 10))); do
        [ "$(T -tAc "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'anonetl'")" = 0 ] && return 0
        sleep 0.1
    done
    return 1
}
check "after kill -9: the job's target sessions end within 3 s" anonetl_backends_gone 3
run; rc=$?
expect_eq "next run after kill -9 succeeds" 0 "$rc"
expect_eq "no leftover staging after recovery" 3 "$(T -tAc "SELECT count(*) FROM pg_class WHERE relnamespace = 'anonetl_data'::regnamespace AND relkind = 'r'")"
expect_eq "killed run marked abandoned" 1 "$(T -tAc "SELECT count(*) FROM anonetl.runs WHERE status = 'abandoned'")"

# --- 7b. kill -9 while a target statement runs (not reading from the client): the backend
# checks its client every second (client_connection_check_interval) and ends, releasing the
# run lock; before, it held it until the statement ended (here 60 s) and the next run
# exited 7. A DDL event trigger on the target makes anonetl's CREATE TABLE slow.
T -c "CREATE FUNCTION public.slow_ddl() RETURNS event_trigger LANGUAGE plpgsql AS
      \$\$BEGIN IF current_setting('application_name') = 'anonetl' THEN PERFORM pg_sleep(60); END IF; END\$\$" \
  -c "CREATE EVENT TRIGGER slow_ddl ON ddl_command_end EXECUTE FUNCTION public.slow_ddl()" >/dev/null
"$ANONETL" run -c "$cfg" --skip-preflight >/dev/null 2>&1 &
pid=$!
for _ in $(seq 1 200); do
    [ "$(T -tAc "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'anonetl' AND wait_event = 'PgSleep'")" -ge 1 ] && break
    sleep 0.05
done
expect_eq "a run sits in a slow target statement" 1 \
    "$(T -tAc "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'anonetl' AND wait_event = 'PgSleep'")"
kill -9 $pid; wait $pid 2>/dev/null
check "kill -9 mid-statement: the job's target sessions end within 3 s (the lock with them)" anonetl_backends_gone 3
T -c "DROP EVENT TRIGGER slow_ddl" -c "DROP FUNCTION public.slow_ddl()" >/dev/null
run; rc=$?
expect_eq "the next run after it succeeds (not exit 7)" 0 "$rc"

# --- 8. two runs at once: one exits 7 at once ----------------------------------------------
# The first run holds the lock, in its first DDL on the target, until the test opens a gate
# (an event trigger): it ended before a slow second run started, or the second run took a
# few seconds on a loaded machine, and the checks failed with nothing wrong.
T -c "CREATE FUNCTION public.gate_ddl() RETURNS event_trigger LANGUAGE plpgsql SECURITY DEFINER AS
      \$\$BEGIN IF current_setting('application_name') = 'anonetl' THEN
        WHILE pg_catalog.pg_stat_file('$work/ddl.gate', true) IS NULL LOOP PERFORM pg_sleep(0.05); END LOOP;
      END IF; END\$\$" \
  -c "CREATE EVENT TRIGGER gate_ddl ON ddl_command_end EXECUTE FUNCTION public.gate_ddl()" >/dev/null
"$ANONETL" run -c "$cfg" --skip-preflight >/dev/null 2>&1 &
pid=$!
first_holds_lock() {
    [ "$(T -tAc "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted")" -ge 1 ] &&
        [ "$(T -tAc "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'anonetl' AND wait_event = 'PgSleep'")" -ge 1 ]
}
check "the first run holds the lock (held at the gate)" poll_until 60 first_holds_lock
start=$SECONDS
timeout 60 "$ANONETL" run -c "$cfg" --skip-preflight >/dev/null 2>"$work/second.err"; rc=$?
expect_eq "second concurrent run exits 7" 7 "$rc"
check "and it does not wait (the first run still holds the lock; $((SECONDS - start)) s)" \
    test $((SECONDS - start)) -le 10 -a "$(T -tAc "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted")" -ge 1
touch "$work/ddl.gate"
wait $pid; rc=$?
expect_eq "first concurrent run exits 0" 0 "$rc"
T -c "DROP EVENT TRIGGER gate_ddl" -c "DROP FUNCTION public.gate_ddl()" >/dev/null

# A run gives its lock back before it disconnects: its backend ends some time after the
# client has gone, and until then holds the lock (a run right after, a retry or a
# back-to-back schedule, was skipped with exit 7 meanwhile). Seen in the target's
# statement log: the unlock is the run's own statement, not the backend's exit.
T -c "ALTER SYSTEM SET log_statement = 'all'" >/dev/null
reload_conf T # the run's sessions log (a fixed 0.3 s could end before the server reloaded)
: >"$work/tgt/server.log"
run; rc=$?
T -c "ALTER SYSTEM RESET log_statement" -c "SELECT pg_reload_conf()" >/dev/null
expect_eq "a run with the target's statements logged exits 0" 0 "$rc"
check "it gives the run lock back itself before it disconnects (pg_advisory_unlock)" \
    grep -q "pg_advisory_unlock(pg_catalog.hashtextextended('anonetl', 0))" "$work/tgt/server.log"

# --- 8b. run.max_runtime stops a run that takes too long; nothing is published ----------
bulk_before=$(T -tAc "SELECT count(*), md5(string_agg(payload, '' ORDER BY payload)) FROM anonymised.bulk")
S -c "UPDATE public.bulk SET payload = 'changed' WHERE id <= 10" >/dev/null
cp "$cfg" "$work/slow.yaml"
printf 'run:\n  max_runtime: 1s\n' >>"$work/slow.yaml"
"$ANONETL" run -c "$work/slow.yaml" --skip-preflight >/dev/null 2>"$work/slow.err"; rc=$?
check "a run over run.max_runtime fails (exit $rc)" test "$rc" -ne 0 -a "$rc" -ne 7
grep -q 'max_runtime exceeded' "$work/slow.err"; check "and says max_runtime was exceeded" test $? -eq 0
expect_eq "published data unchanged after the timeout" "$bulk_before" "$(T -tAc "SELECT count(*), md5(string_agg(payload, '' ORDER BY payload)) FROM anonymised.bulk")"

# --- 9. hash collision on a key is reported, never merged --------------------------------
S -c "CREATE TABLE public.tiny (k text PRIMARY KEY); INSERT INTO public.tiny SELECT 'k' || g FROM generate_series(1, 200000) g; GRANT SELECT ON public.tiny TO anonetl_reader" >/dev/null
write_config "$cfg" "  - name: public.tiny
    columns: { k: { hash: { length: 8 } } }"
: >"$log"
run; rc=$?
# 200,000 keys into 32 bits: a collision is near certain (birthday bound ~ 0.99)
if grep -q 'collision' "$log"; then ok "8-hex-char hash on 200k keys: collision reported"; expect_eq "collision exits 6" 6 "$rc"
else skip "collision" "no collision occurred with this key"; skip "collision exit" "no collision"; fi

# --- 9b. binary COPY (used when every column allows it) publishes what text COPY does -----
write_config "$cfg" "  - name: public.bulk
    columns: { id: keep, payload: { hash: {} } }"
sed 's/schema: anonymised$/schema: anonymised_text/' "$cfg" >"$work/text.yaml"
ANONETL_TEXT_COPY=1 "$ANONETL" run -c "$work/text.yaml" --skip-preflight >/dev/null 2>&1; rc=$?
expect_eq "text-mode run exits 0" 0 "$rc"
run; rc=$?
expect_eq "binary-mode run exits 0" 0 "$rc"
same=1
for t in people cases bulk; do
    a=$(T -tAc "SELECT count(*), md5(string_agg(t::text, '|' ORDER BY t::text)) FROM anonymised.$t t")
    b=$(T -tAc "SELECT count(*), md5(string_agg(t::text, '|' ORDER BY t::text)) FROM anonymised_text.$t t")
    [ "$a" = "$b" ] || { same=0; echo "# $t differs between binary and text COPY"; }
done
expect_eq "binary and text COPY publish identical tables" 1 "$same"

# --- 10. secrets never leak -------------------------------------------------------------
T -c "SELECT 1" >/dev/null
pg_dump_out=$(runuser -u postgres -- /usr/lib/postgresql/15/bin/pg_dump -h "$work/tgt" -p "$(pgc_port "$work/tgt")" -d postgres 2>/dev/null)
all_output=$(cat "$log" "$log.out" "$work/second.err" "$work/short.out" "$work/bad.out" 2>/dev/null)
leak=0
for s in "$KEY" "$TGT_PASSWORD"; do
    case "$all_output$pg_dump_out" in *"$s"*) leak=1 ;; esac
done
expect_eq "key and DSN password appear in no output and not in the target dump" 0 "$leak"
check "target dump is not empty" test -n "$pg_dump_out"

done_testing
