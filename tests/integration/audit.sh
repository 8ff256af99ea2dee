#!/usr/bin/env bash
# tests/integration/audit.sh: the leak audit on the demo data, on real clusters.
#
# A clean demo run with `run.audit` finds nothing (exit 0, counts in anonetl.runs), and
# `anonetl audit` agrees. Then leaks are planted one at a time by changing one rule of
# deploy/demo.yaml to `keep` (a column whose values also sit, hidden by another rule,
# elsewhere: e-mails and phones quoted in message bodies, case references in subjects):
# each run must stop with exit 6 before the publish, name the table, the column and the
# rule that let the values through, leave the published data as it was, and put no
# source value in its log or in anonetl.runs. The same with --jobs 2, and for a json path
# left out (payments.metadata with `others: keep` publishes the client IP no path names).
# Finally a leak published without the audit is found by `anonetl audit` afterwards.
set -u
cd "$(dirname "$0")/../.."
. tests/lib/tap.sh
. tests/lib/pgcluster.sh

ANONETL=${ANONETL:-./anonetl}
pgc_pair || { echo "not ok 1 - clusters did not start"; exit 1; }
pgc_psql "$work/src" -c 'CREATE DATABASE odr' >/dev/null
pgc_psql "$work/tgt" -c 'CREATE DATABASE odr_anon' >/dev/null
pgc_psql "$work/src" -d odr -f sql/demo/schema.sql -f sql/demo/data.sql >/dev/null
pgc_psql "$work/src" -d odr -f sql/roles/source_reader.sql >/dev/null
pgc_psql "$work/tgt" -d odr_anon -f sql/roles/target_writer.sql >/dev/null
pgc_psql "$work/tgt" -d odr_anon -f sql/roles/data_team_reader.sql >/dev/null
TD() { pgc_psql "$work/tgt" -d odr_anon -At "$@"; }

export ANONETL_HASH_KEY=$(openssl rand -hex 32)
export SOURCE_DATABASE_URL="$(pgc_dsn "$work/src" odr anonetl_reader)"
export TARGET_DATABASE_URL="$(pgc_dsn "$work/tgt" odr_anon anonetl_writer)"

# The demo config with the audit on (300 rows per table: quick, and enough to catch the
# leaks below, whose values fill whole columns).
sed 's/^tables:/run:\n  audit: { sample: 300 }\n\ntables:/' deploy/demo.yaml >"$work/clean.yaml"

# Needles: every e-mail, phone and name of the source, and every e-mail/phone found in
# free text, for the "no value in any output" checks.
pgc_psql "$work/src" -d odr -Atc "COPY (SELECT email FROM parties UNION SELECT phone FROM parties
    UNION SELECT full_name FROM parties UNION SELECT reference FROM cases) TO STDOUT" |
    awk 'length($0) >= 8' >"$work/needles.txt"
no_needle_in() { # file
    ! LC_ALL=C grep -F -q -f "$work/needles.txt" "$1"
}
head -1 "$work/needles.txt" >"$work/needle-probe.txt"
if [ -s "$work/needle-probe.txt" ] && ! no_needle_in "$work/needle-probe.txt"; then
    ok "the needle check finds a planted source value"
else
    not_ok "the needle check finds a planted source value" "$(wc -l <"$work/needles.txt") needles"
fi
published_digest() {
    TD -c "SELECT md5(string_agg(d, ',' ORDER BY d)) FROM (
             SELECT md5(string_agg(t::text, '' ORDER BY t::text)) AS d FROM anonymised.cases t
             UNION ALL SELECT md5(string_agg(t::text, '' ORDER BY t::text)) FROM anonymised.parties t
             UNION ALL SELECT md5(string_agg(t::text, '' ORDER BY t::text)) FROM anonymised.messages t
             UNION ALL SELECT md5(string_agg(t::text, '' ORDER BY t::text)) FROM anonymised.payments t) s"
}

# --- a clean run -----------------------------------------------------------------------
"$ANONETL" run -c "$work/clean.yaml" --skip-preflight --log-format json >"$work/clean.log" 2>&1
rc=$?
expect_eq "clean demo run with the audit exits 0" 0 "$rc"
[ "$rc" -eq 0 ] || tail -5 "$work/clean.log" | sed 's/^/# /'
check "the log says the audit found nothing" grep -q '"event":"audit_done".*"hits":0' "$work/clean.log"
row=$(TD -c "SELECT status, audit_sampled > 100, audit_hits FROM anonetl.runs ORDER BY run_id DESC LIMIT 1")
expect_eq "anonetl.runs records the audit (sampled > 100, hits 0)" "succeeded|t|0" "$row"
status=$("$ANONETL" status -c "$work/clean.yaml" --json --limit 1 2>/dev/null |
    python3 -c 'import json,sys; a=json.load(sys.stdin)["runs"][0]["audit"]; print(a["sampled"] > 100, a["hits"])' 2>&1)
expect_eq "anonetl status --json shows the audit of the run" "True 0" "$status"
check "anonetl status shows it as text" grep -q "leak audit: [0-9]* values sampled, 0 hits" \
    <<<"$("$ANONETL" status -c "$work/clean.yaml" --limit 1 2>&1)"
before=$(published_digest)

out=$("$ANONETL" audit -c "$work/clean.yaml" 2>&1)
rc=$?
expect_eq "anonetl audit on the clean publish exits 0" 0 "$rc"
check "anonetl audit says nothing was found" grep -q "no sampled value was found" <<<"$out"
check "anonetl audit searched every published table" test "$(grep -c 'rows searched' <<<"$out")" -eq 4

# --- planted leaks: one rule changed to keep --------------------------------------------
# A reviewed keep: the review of keep on a personal-looking column would stop the run
# before the copy otherwise (that order is tested below).
keep_form='{ keep: { reviewed: "planted leak (test)" } }'

plant() { # name column-regex (a line of clean.yaml) extra-run-args...
    local name=$1 re=$2
    shift 2
    sed "s/^\( *$re:\) .*/\1 $keep_form/" "$work/clean.yaml" >"$work/$name.yaml"
    if cmp -s "$work/clean.yaml" "$work/$name.yaml"; then
        not_ok "$name: the leak was planted" "no line matches $re"
        return 1
    fi
    "$ANONETL" run -c "$work/$name.yaml" --skip-preflight --log-format json "$@" >"$work/$name.log" 2>&1
    echo $? >"$work/$name.rc"
}

expect_caught() { # name table column [rule]
    local name=$1 table=$2 column=$3 rule=${4:-keep} rc msg row
    rc=$(cat "$work/$name.rc")
    expect_eq "$name: the run stops with exit 6" 6 "$rc"
    msg=$(python3 -c 'import json,sys
for l in open(sys.argv[1]):
    if l.startswith("{") and json.loads(l).get("event") == "run_failed": print(json.loads(l)["msg"])' "$work/$name.log")
    check "$name: the audit names $table.$column and its rule $rule" \
        grep -q "leak audit: .*$table\.$column (rule $rule" <<<"$(tr '\n' ' ' <<<"$msg")"
    expect_eq "$name: the published data is unchanged" "$before" "$(published_digest)"
    row=$(TD -c "SELECT status, exit_code, audit_hits > 0 FROM anonetl.runs ORDER BY run_id DESC LIMIT 1")
    expect_eq "$name: anonetl.runs: failed, exit 6, hits recorded" "failed|6|t" "$row"
    TD -c "SELECT error FROM anonetl.runs ORDER BY run_id DESC LIMIT 1" >"$work/$name.error"
    check "$name: no source value in the log" no_needle_in "$work/$name.log"
    check "$name: no source value in anonetl.runs.error" no_needle_in "$work/$name.error"
    check "$name: nothing left in anonetl_data but the published versions" \
        test "$(TD -c "SELECT count(*) FROM pg_tables WHERE schemaname = 'anonetl_data'")" -eq 4
}

plant body_keep body && expect_caught body_keep public.messages body
plant email_keep email && expect_caught email_keep public.parties email
plant phone_keep phone && expect_caught phone_keep public.parties phone
plant reference_keep reference && expect_caught reference_keep public.cases reference
plant subject_keep subject --jobs 2 && expect_caught subject_keep public.messages subject
plant body_keep_jobs body --jobs 2 && expect_caught body_keep_jobs public.messages body

# --- the other order: a keep without review on a personal-looking column is stopped by
# the keep review before the copy (exit 6 too), so the audit never sees it
sed 's/^\( *email:\) .*/\1 keep/' "$work/clean.yaml" >"$work/email_plain.yaml"
"$ANONETL" run -c "$work/email_plain.yaml" --skip-preflight --log-format json >"$work/email_plain.log" 2>&1
expect_eq "plain keep on parties.email: stopped with exit 6" 6 $?
check "plain keep on parties.email: by the keep review, before the copy (no audit ran)" \
    bash -c "grep -q 'reviewed' '$work/email_plain.log' && ! grep -q '\"event\":\"audit_done\"' '$work/email_plain.log'"
expect_eq "plain keep on parties.email: the published data is unchanged" "$before" "$(published_digest)"

# --- a json path left out: payments.metadata with `others: keep` publishes the client IP
# that no path names (reviewed: without the review, the keep review stops the run before the audit)
sed 's/^\( *on_invalid: fail.*\)/\1\n          others: { keep: { reviewed: "planted leak" } }/' "$work/clean.yaml" >"$work/json_others.yaml"
if grep -q '^          others: { keep' "$work/json_others.yaml"; then
    "$ANONETL" run -c "$work/json_others.yaml" --skip-preflight --log-format json >"$work/json_others.log" 2>&1
    echo $? >"$work/json_others.rc"
    pgc_psql "$work/src" -d odr -Atc "SELECT DISTINCT metadata->>'ip' FROM payments" >>"$work/needles.txt"
    expect_caught json_others public.payments metadata json
else
    not_ok "json_others: the leak was planted" "no on_invalid line under payments.metadata"
fi

# --- a leak published without the audit, found afterwards ---------------------------------
sed '/^run:/,/^$/d' "$work/body_keep.yaml" >"$work/body_keep_noaudit.yaml"
"$ANONETL" run -c "$work/body_keep_noaudit.yaml" --skip-preflight >"$work/noaudit.log" 2>&1
rc=$?
expect_eq "without the audit the planted leak is published (exit 0)" 0 "$rc"
out=$("$ANONETL" audit -c "$work/clean.yaml" --sample 300 2>&1)
rc=$?
expect_eq "anonetl audit finds the published leak: exit 6" 6 "$rc"
check "anonetl audit names public.messages.body" grep -q "public.messages.body (rule scrub" <<<"$out"
printf '%s\n' "$out" >"$work/audit-cmd.out"
check "anonetl audit prints no source value" no_needle_in "$work/audit-cmd.out"

# --- a leak written another way: the bodies quote the parties' e-mails and phones with a
# fullwidth at sign and no-break spaces (as pasted from a web page). The sampled values
# are the plain ones: the audit searches both as the text scrub reads them.
pgc_psql "$work/src" -d odr -c "UPDATE messages SET body = translate(body, ' @', U&'\\00A0\\FF20')" >/dev/null
before=$(published_digest)
plant body_folded body && expect_caught body_folded public.messages body
done_testing
