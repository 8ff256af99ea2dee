#!/usr/bin/env bash
# tests/integration/leakscan.sh: after a demo run, no personal value of the source can be
# found anywhere in a dump of the target database: names, e-mails, phones, postcodes,
# dates of birth, addresses, IBANs (every column whose rule is not keep), the client IPs
# in payments.metadata (a json key no path names), and every e-mail or phone number that
# appears inside free text (subjects, bodies, descriptions).
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

export ANONETL_HASH_KEY=$(openssl rand -hex 32)
export SOURCE_DATABASE_URL="$(pgc_dsn "$work/src" odr anonetl_reader)"
export TARGET_DATABASE_URL="$(pgc_dsn "$work/tgt" odr_anon anonetl_writer)"
"$ANONETL" run -c deploy/demo.yaml --skip-preflight >"$work/run.log" 2>&1
rc=$?
expect_eq "demo run exits 0" 0 "$rc" || true
[ "$rc" -eq 0 ] || sed 's/^/# /' "$work/run.log" | tail -5

# Everything the target holds, as the data team (or an attacker) could read it.
runuser -u postgres -- /usr/lib/postgresql/15/bin/pg_dump -h "$work/tgt" -p "$(pgc_port "$work/tgt")" \
    -d odr_anon >"$work/target.sql" 2>"$work/dump.err"
check "target dump taken" test -s "$work/target.sql"
pgc_psql "$work/src" -d odr -c "COPY (
    SELECT 'name', full_name FROM parties UNION ALL SELECT 'email', email FROM parties
    UNION ALL SELECT 'phone', phone FROM parties UNION ALL SELECT 'postcode', postcode FROM parties
    UNION ALL SELECT 'dob', date_of_birth::text FROM parties
    UNION ALL SELECT 'address', address_line FROM parties
    UNION ALL SELECT 'iban', iban FROM payments
    UNION ALL SELECT 'json key no path names', metadata->>'ip' FROM payments
    UNION ALL SELECT 'reference', reference FROM cases
    UNION ALL SELECT 'text', subject || ' ' || body FROM messages
    UNION ALL SELECT 'text', description FROM cases) TO STDOUT" >"$work/secrets.tsv"

# Needles: every personal value, and every e-mail / phone found inside free text.
python3 - "$work/secrets.tsv" "$work/needles.txt" >"$work/scan.out" <<'PY'
import re, sys
email = re.compile(r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
phone = re.compile(r"(?:\+44\s?(?:\(0\)\s?)?|\(?0)\d[\d\s()-]{8,12}\d")
needles, kinds = {}, {}
for line in open(sys.argv[1], encoding="utf-8"):
    kind, _, value = line.rstrip("\n").partition("\t")
    if value in ("", "\\N"):
        continue
    found = []
    if kind == "text":
        found = [(m, "email in text") for m in email.findall(value)]
        found += [(m.strip(), "phone in text") for m in phone.findall(value)]
    else:
        found = [(value, kind)]
    for v, k in found:
        if len(v) >= 6 and "\\" not in v:
            kinds[k] = kinds.get(k, 0) + 1  # occurrences, also of values seen in columns
            needles.setdefault(v, k)
with open(sys.argv[2], "w", encoding="utf-8") as f:
    f.write("\n".join(needles) + "\n")
print("scanned:", ", ".join(f"{k} {v}" for k, v in sorted(kinds.items())))
PY
# grep -F matches thousands of fixed strings at once (Aho-Corasick style).
LC_ALL=C grep -F -o -f "$work/needles.txt" "$work/target.sql" | sort -u >"$work/leaks.txt"
leaks=$(wc -l <"$work/leaks.txt")
sed 's/^/# /' "$work/scan.out"
[ "$leaks" -eq 0 ] || echo "# $leaks leaked value(s), first characters: $(cut -c1-3 "$work/leaks.txt" | head -5 | tr '\n' ' ')"
rc=$((leaks > 0))
expect_eq "no personal value of the source appears in the target dump" 0 "$rc"
check "scan covered e-mails and phones found inside free text" grep -q "email in text" "$work/scan.out"
check "the hash key appears nowhere in the target" bash -c "! grep -q '$ANONETL_HASH_KEY' '$work/target.sql'"
done_testing
