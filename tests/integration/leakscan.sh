#!/usr/bin/env bash
# tests/integration/leakscan.sh: after a demo run, no personal value of the source can be
# found anywhere in a dump of the target database: names, e-mails, phones, postcodes,
# dates of birth, addresses, IBANs (every column whose rule is not keep), the client IPs
# in payments.metadata (a json key no path names), and every e-mail or phone number that
# appears inside free text (subjects, bodies, descriptions). Then three more paths a value
# could take: json documents with keys no path names (nested, in arrays, odd keys, big
# numbers, documents that are arrays or strings), failing runs (a where: failing on a
# value, a duplicated key, k-anonymity with fail: nothing in the log or anonetl.runs), and
# incremental runs after a consent is withdrawn (the row leaves where:) or a row deleted
# (key_scan): the row must be gone from the target after the next run.
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

# Needles in a file: none may appear in it (fixed strings, bytes).
no_leak() { # name needles file
    local found
    found=$(LC_ALL=C grep -F -o -f "$2" "$3" | sort -u | wc -l)
    [ "$found" -eq 0 ] || echo "# $found needle(s) found in $(basename "$3")"
    expect_eq "$1" 0 "$found"
}
SRC_SU=$(pgc_dsn "$work/src" odr postgres)
TGT_SU=$(pgc_dsn "$work/tgt" odr_anon postgres)
dump() { # file: the whole target (views, versioned tables, run history), as pg_dump sees it
    runuser -u postgres -- /usr/lib/postgresql/15/bin/pg_dump -h "$work/tgt" -p "$(pgc_port "$work/tgt")" \
        -d odr_anon >"$1" 2>>"$work/dump.err"
}

# --- json: keys no path names, nested, in arrays, odd keys, big numbers -----------------
# A jsonb column whose documents hold a party's name, e-mail, phones, address and a note
# quoting them; only the e-mail (hashed) and two preferences are named. Whatever else a
# document holds (any depth, arrays, a key that is not a plain word, an integer past 64
# bits, documents that are an array or a bare string) must not reach the target.
pgc_psql "$work/src" -d odr >/dev/null <<'SQL'
CREATE TABLE public.profiles (id bigint PRIMARY KEY, doc jsonb NOT NULL);
INSERT INTO public.profiles
SELECT id, jsonb_build_object(
           'name', full_name,
           'contact', jsonb_build_object('email', email,
                                         'phones', jsonb_build_array(phone, '020 7946 1' || lpad(id::text, 3, '0'))),
           'prefs', jsonb_build_object('newsletter', id % 2 = 0, 'lang', 'en'),
           'history', jsonb_build_array(jsonb_build_object('at', created_at,
                                                           'note', 'Called ' || full_name || ' on ' || phone)),
           'big', CASE WHEN id % 4 = 0 THEN 123456789012345678901234567000 + id ELSE id END,
           'Adresse postale', address_line)
FROM public.parties WHERE id <= 400 AND email IS NOT NULL AND phone IS NOT NULL AND address_line IS NOT NULL;
INSERT INTO public.profiles SELECT 100000 + id, jsonb_build_array(email, full_name) FROM public.parties
 WHERE id BETWEEN 401 AND 420 AND email IS NOT NULL;
INSERT INTO public.profiles SELECT 200000 + id, to_jsonb(full_name) FROM public.parties WHERE id BETWEEN 421 AND 440;
SQL
cat >"$work/json.yaml" <<YAML
version: 1
source: { dsn: "$SRC_SU" }
target: { dsn: "$TGT_SU", schema: json_scan }
secrets: { hash_key: { env: ANONETL_HASH_KEY } }
tables:
  - name: public.profiles
    columns:
      id: keep
      doc:
        json:
          paths:
            "\$.contact.email": hash
            "\$.prefs.newsletter": keep
            "\$.prefs.lang": keep
          on_invalid: "null"               # a document read as invalid would lose the count below
YAML
"$ANONETL" run -c "$work/json.yaml" --skip-preflight >"$work/json.log" 2>&1
rc=$?
expect_eq "json: a run over documents with keys no path names exits 0" 0 "$rc"
[ "$rc" -eq 0 ] || tail -5 "$work/json.log" | sed 's/^/# /'
objects=$(pgc_psql "$work/src" -d odr -At -c "SELECT count(*) FROM public.profiles WHERE jsonb_typeof(doc) = 'object'")
expect_eq "json: the named paths are published (hashed e-mail, preferences)" "$objects|$objects" \
    "$(pgc_psql "$work/tgt" -d odr_anon -At -c "SELECT count(*) FILTER (WHERE doc #>> '{contact,email}' ~ '^[0-9a-f]{32}\$'), count(*) FILTER (WHERE doc #> '{prefs,lang}' = '\"en\"') FROM json_scan.profiles")"
pgc_psql "$work/src" -d odr -At -c "SELECT v FROM public.profiles p, LATERAL (
      SELECT jsonb_path_query(p.doc, 'strict \$.**') #>> '{}' AS v) l
    WHERE jsonb_typeof(jsonb_path_query_first(p.doc, 'strict \$')) IS NOT NULL
      AND length(v) >= 6 AND v NOT IN ('true', 'false', 'en')" | grep -v '^[{[]' | sort -u >"$work/json-needles.txt"
check "json: needles taken from every leaf of the source documents" test "$(wc -l <"$work/json-needles.txt")" -gt 1000
dump "$work/json-target.sql"
no_leak "json: no value at a key no path names (nested, in arrays, odd keys, big numbers) reaches the target" \
    "$work/json-needles.txt" "$work/json-target.sql"

# --- errors: a failing run never writes a source value to its log or anonetl.runs -------
# A where: that fails on a value (the server quotes it), a key whose values are not unique
# (the server's DETAIL quotes the duplicated key), k-anonymity with on_violation: fail.
cat "$work/needles.txt" >"$work/error-needles.txt"
pgc_psql "$work/src" -d odr -At -c "SELECT DISTINCT category FROM cases" >>"$work/error-needles.txt"
errorrun() { # name expected-exit config
    "$ANONETL" run -c "$3" --skip-preflight --log-format json -v >"$work/$1.log" 2>&1
    local rc=$?
    expect_eq "error path $1: exit $2" "$2" "$rc"
    [ "$rc" -eq "$2" ] || tail -3 "$work/$1.log" | sed 's/^/# /'
    pgc_psql "$work/tgt" -d odr_anon -At -c "SELECT error FROM anonetl.runs ORDER BY run_id DESC LIMIT 1" >"$work/$1.error"
    check "error path $1: the failure is recorded in anonetl.runs.error" test -s "$work/$1.error"
    no_leak "error path $1: no source value in the log" "$work/error-needles.txt" "$work/$1.log"
    no_leak "error path $1: no source value in anonetl.runs.error" "$work/error-needles.txt" "$work/$1.error"
}
sed 's/^\(    where: \)"NOT is_test_account".*/\1"NOT is_test_account AND email::int > 0"/' deploy/demo.yaml >"$work/err-where.yaml"
errorrun where_cast 4 "$work/err-where.yaml"
awk '{ print } /^  - name: public.cases/ { print "    key: [category]" }' deploy/demo.yaml >"$work/err-key.yaml"
errorrun duplicate_key 6 "$work/err-key.yaml"
sed 's/^\(      k: \)5/\11000000/; s/^\(      on_violation: \)suppress.*/\1fail/' deploy/demo.yaml >"$work/err-kanon.yaml"
errorrun kanon_fail 6 "$work/err-kanon.yaml"
dump "$work/target-after-errors.sql"
no_leak "error paths: no source value anywhere in the target afterwards" "$work/needles.txt" "$work/target-after-errors.sql"

# --- incremental: rows that leave where: (a withdrawn consent) or are deleted -------------
# parties incremental with where: "NOT is_test_account". After a first run, 40 parties
# become test accounts (their consent withdrawn: they leave the filter) and, with
# deletes: key_scan, 20 more are deleted. After the next incremental run none of them may
# remain in the target: their pseudonyms (id, e-mail) are computed from the key, as the
# README documents, and looked for (present after the first run: the check can fail).
inc_config() { # deletes
    cat <<YAML
version: 1
source: { dsn: "$SRC_SU" }
target: { dsn: "$TGT_SU", schema: inc_$1 }
secrets: { hash_key: { env: ANONETL_HASH_KEY } }
tables:
  - name: public.parties
    mode: incremental
    key: [id]
    watermark: updated_at
    watermark_lag: 0s
    deletes: $1
    where: "NOT is_test_account"
    columns:
      id: { hash_int: { namespace: inc_$1 } }
      case_id: { hash_int: { namespace: case } }
      role: keep
      full_name: hash
      email: { hash: { namespace: inc_$1 } }
      phone: { mask: { keep_last: 3, char: "*" } }
      postcode: { truncate: { outward_code: true } }
      date_of_birth: { generalise: { to: age_band, width: 10 } }
      address_line: suppress
      created_at: keep
      updated_at: keep
      is_test_account: keep
YAML
}
pseudonyms() { # namespace; "id email" lines on stdin -> "id-pseudonym email-pseudonym" lines
    python3 -c '
import hmac, hashlib, os, sys
key, ns = os.environ["ANONETL_HASH_KEY"].encode(), sys.argv[1].encode()
for line in sys.stdin:
    i, _, e = line.rstrip("\n").partition("\t")
    m = hmac.new(key, ns + b"\x00" + i.encode(), hashlib.sha256).digest()
    h = hmac.new(key, ns + b"\x00" + e.encode(), hashlib.sha256).hexdigest()[:32]
    print(int.from_bytes(m[:8], "big") & 0x7fffffffffffffff, h)' "$1"
}
# parties whose e-mail no other party has (companies share theirs), from id $1 on
unique_parties() { # first-id count
    echo "SELECT id, email FROM parties WHERE id >= $1 AND NOT is_test_account
          AND email IN (SELECT email FROM parties GROUP BY email HAVING count(*) = 1) ORDER BY id LIMIT $2"
}
published() { # deletes, pseudonym file: how many of those ids and e-mails are published
    local ids emails
    ids=$(awk '{ printf "%s%s", (NR > 1 ? "," : ""), $1 }' "$2")
    emails=$(awk '{ printf "%s%s", (NR > 1 ? "," : ""), $2 }' "$2")
    pgc_psql "$work/tgt" -d odr_anon -At -c "SELECT count(*) FILTER (WHERE id = ANY('{$ids}'::bigint[])) || '|' ||
        count(*) FILTER (WHERE email = ANY('{$emails}'::text[])) FROM inc_$1.parties"
}
for d in none key_scan; do
    inc_config "$d" >"$work/inc-$d.yaml"
    # withdrawn: 40 parties not referenced by messages or payments (representatives)
    if [ "$d" = none ]; then first=20001; else first=21001; fi
    pgc_psql "$work/src" -d odr -At -c "COPY ($(unique_parties "$first" 40)) TO STDOUT" |
        pseudonyms "inc_$d" >"$work/withdrawn-$d.txt"
    : >"$work/deleted-$d.txt"
    if [ "$d" = key_scan ]; then
        pgc_psql "$work/src" -d odr -At -c "COPY ($(unique_parties 22001 20)) TO STDOUT" |
            pseudonyms "inc_$d" >"$work/deleted-$d.txt"
    fi
    "$ANONETL" run -c "$work/inc-$d.yaml" --skip-preflight >"$work/inc-$d-1.log" 2>&1
    expect_eq "incremental ($d): first run exits 0" 0 $?
    expect_eq "incremental ($d): the parties about to withdraw are published (ids|e-mails)" "40|40" \
        "$(published "$d" "$work/withdrawn-$d.txt")"
    pgc_psql "$work/src" -d odr -c "UPDATE parties SET is_test_account = true, updated_at = clock_timestamp()
        WHERE id IN (SELECT id FROM ($(unique_parties "$first" 40)) w)" >/dev/null
    if [ "$d" = key_scan ]; then
        expect_eq "incremental ($d): the parties about to be deleted are published" "20|20" \
            "$(published "$d" "$work/deleted-$d.txt")"
        pgc_psql "$work/src" -d odr -c "DELETE FROM parties WHERE id IN (SELECT id FROM ($(unique_parties 22001 20)) d)" >/dev/null
    fi
    "$ANONETL" run -c "$work/inc-$d.yaml" --skip-preflight --log-format json >"$work/inc-$d-2.log" 2>&1
    expect_eq "incremental ($d): the run after the withdrawals exits 0" 0 $?
    check "incremental ($d): that run was incremental, not a reload" \
        bash -c "! grep -q '\"event\":\"full_reload\"' '$work/inc-$d-2.log'"
    expect_eq "incremental ($d): no withdrawn party remains published (ids|e-mails)" "0|0" \
        "$(published "$d" "$work/withdrawn-$d.txt")"
    if [ "$d" = key_scan ]; then
        expect_eq "incremental ($d): no deleted party remains published" "0|0" \
            "$(published "$d" "$work/deleted-$d.txt")"
    fi
    awk '{ print $2 }' "$work/withdrawn-$d.txt" "$work/deleted-$d.txt" >"$work/inc-needles-$d.txt"
    dump "$work/inc-target-$d.sql"
    no_leak "incremental ($d): no pseudonym of a withdrawn or deleted party anywhere in the target" \
        "$work/inc-needles-$d.txt" "$work/inc-target-$d.sql"
done
done_testing
