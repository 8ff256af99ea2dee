#!/usr/bin/env bash
# tests/integration/metrics.sh: `anonetl run --metrics emf` on two real clusters.
# Every stdout line must be a valid CloudWatch embedded metric format document
# (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html):
# "_aws" with an integer millisecond Timestamp and a CloudWatchMetrics list of
# {Namespace, Dimensions (lists of keys), Metrics [{Name, Unit}]}; every metric a top-level
# number, every dimension key a top-level string. One line per table and one per run, with
# the right numbers; a failed run still reports its outcome; without the flag stdout is
# empty (logs stay on stderr).
set -u
cd "$(dirname "$0")/../.."
. tests/lib/tap.sh
. tests/lib/pgcluster.sh

ANONETL=${ANONETL:-./anonetl}
PY=${PYTHON:-python3}
pgc_pair || { echo "not ok 1 - clusters did not start"; exit 1; }
pgc_psql "$work/src" <<'SQL' >/dev/null
CREATE TABLE public.people (id int PRIMARY KEY, email text, is_test boolean NOT NULL);
INSERT INTO public.people SELECT g, 'u' || g || '@example.com', g % 10 = 0 FROM generate_series(1, 250) g;
CREATE TABLE public.cases (ref text PRIMARY KEY, status text);
INSERT INTO public.cases SELECT 'C-' || g, 'open' FROM generate_series(1, 40) g;
SQL
ANONETL_HASH_KEY=$(openssl rand -hex 32)
export ANONETL_HASH_KEY
SOURCE_DATABASE_URL=$(pgc_dsn "$work/src" postgres postgres)
TARGET_DATABASE_URL=$(pgc_dsn "$work/tgt" postgres postgres)
export SOURCE_DATABASE_URL TARGET_DATABASE_URL

write_config() { # FILE [extra column yaml for people]
    cat >"$1" <<YAML
version: 1
source:
  dsn: { env: SOURCE_DATABASE_URL }
target:
  dsn: { env: TARGET_DATABASE_URL }
secrets:
  hash_key: { env: ANONETL_HASH_KEY }
tables:
  - name: public.people
    where: "NOT is_test"
    columns:
      id: keep
${2:-      email: { hash: {} }}
      is_test: keep
  - name: public.cases
    columns:
      ref: { hash: { length: 12 } }
      status: keep
YAML
}

# validate FILE: the EMF structure of every line; prints one summary per line:
#   table NAME read written filtered   |   run OUTCOME exit rows tables
cat >"$work/emf_check.py" <<'PY'
import json, sys, time
UNITS = {"Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes", "Megabytes",
         "Gigabytes", "Terabytes", "Bits", "Kilobits", "Megabits", "Gigabits", "Terabits",
         "Percent", "Count", "Bytes/Second", "Kilobytes/Second", "Megabytes/Second",
         "Gigabytes/Second", "Terabytes/Second", "Bits/Second", "Kilobits/Second",
         "Megabits/Second", "Gigabits/Second", "Terabits/Second", "Count/Second", "None"}
def fail(n, why):
    sys.exit("line %d: %s" % (n, why))
now_ms = time.time() * 1000
for n, line in enumerate(open(sys.argv[1]), 1):
    doc = json.loads(line)
    if not isinstance(doc, dict): fail(n, "not an object")
    aws = doc.get("_aws")
    if not isinstance(aws, dict): fail(n, "no _aws object")
    ts = aws.get("Timestamp")
    if not isinstance(ts, int) or isinstance(ts, bool): fail(n, "Timestamp is not an integer")
    if abs(ts - now_ms) > 10 * 60 * 1000: fail(n, "Timestamp %r is not milliseconds near now" % ts)
    cwm = aws.get("CloudWatchMetrics")
    if not isinstance(cwm, list) or not cwm: fail(n, "CloudWatchMetrics is not a non-empty list")
    for d in cwm:
        if not isinstance(d.get("Namespace"), str) or not d["Namespace"]: fail(n, "bad Namespace")
        if d["Namespace"] != "anonetl": fail(n, "namespace is not anonetl")
        dims = d.get("Dimensions")
        if not isinstance(dims, list): fail(n, "Dimensions is not a list")
        for ds in dims:
            if not isinstance(ds, list) or len(ds) > 30: fail(n, "a dimension set is not a list")
            for k in ds:
                if not isinstance(k, str): fail(n, "a dimension key is not a string")
                if not isinstance(doc.get(k), str): fail(n, "dimension %s is not a top-level string" % k)
        mets = d.get("Metrics")
        if not isinstance(mets, list) or not mets or len(mets) > 100: fail(n, "bad Metrics list")
        for m in mets:
            name = m.get("Name")
            if not isinstance(name, str) or not name: fail(n, "a metric has no Name")
            if "Unit" in m and m["Unit"] not in UNITS: fail(n, "unit %r" % m["Unit"])
            v = doc.get(name)
            if isinstance(v, bool) or not isinstance(v, (int, float)): fail(n, "metric %s is not a top-level number" % name)
    if "Table" in doc:
        print("table", doc["Table"], doc["RowsRead"], doc["RowsWritten"], doc["RowsFiltered"],
              "dur" if doc["Duration"] >= 0 else "neg")
    else:
        print("run", doc["Outcome"], doc["ExitCode"], doc["RowsWritten"], doc["Tables"], doc["Runs"])
PY

cfg=$work/anonetl.yaml
write_config "$cfg"

# 1. a successful run
"$ANONETL" run -c "$cfg" --skip-preflight --metrics emf >"$work/out1" 2>"$work/err1"
expect_eq "run --metrics emf exits 0" 0 "$?"
if summary=$("$PY" "$work/emf_check.py" "$work/out1" 2>&1); then
    ok "every stdout line is a valid EMF document"
else
    not_ok "every stdout line is a valid EMF document" "$summary
$(head -5 "$work/out1")"
fi
expect_eq "one line per table, then one for the run, with the numbers" \
    "table public.people 225 225 25 dur
table public.cases 40 40 0 dur
run success 0 265 2 1" "$summary"
if grep -q '"event"\|run_start' "$work/out1"; then not_ok "stdout holds only metrics (logs on stderr)"
else ok "stdout holds only metrics (logs on stderr)"; fi
expect_eq "dimension sets: [[\"Table\"]] and [[\"Outcome\"]]" '[["Table"]] [["Table"]] [["Outcome"]]' \
    "$("$PY" -c 'import json, sys
print(" ".join(json.dumps(json.loads(l)["_aws"]["CloudWatchMetrics"][0]["Dimensions"], separators=(",", ":")) for l in open(sys.argv[1])))' "$work/out1")"

# 2. a failed run (policy violation: an uncovered column) reports its outcome
write_config "$work/bad.yaml" "      # email has no rule"
"$ANONETL" run -c "$work/bad.yaml" --skip-preflight --metrics emf >"$work/out2" 2>"$work/err2"
expect_eq "an uncovered column: exit 6" 6 "$?"
if summary=$("$PY" "$work/emf_check.py" "$work/out2" 2>&1); then
    # (Tables counts the tables planned before the failure: not checked)
    expect_eq "a failed run: one run line, Outcome failed, ExitCode 6, no rows" "run failed 6 0 1" \
        "$(printf '%s' "$summary" | awk '{print $1, $2, $3, $4, $6}')"
else
    not_ok "a failed run: one valid EMF line" "$summary"
fi

# 3. without the flag, nothing on stdout; a bad value is a usage error
"$ANONETL" run -c "$cfg" --skip-preflight >"$work/out3" 2>"$work/err3"
expect_eq "without --metrics: exit 0" 0 "$?"
expect_eq "without --metrics: stdout is empty" "" "$(cat "$work/out3")"
"$ANONETL" run -c "$cfg" --skip-preflight --metrics statsd >"$work/out4" 2>"$work/err4"
expect_eq "--metrics statsd: exit 2" 2 "$?"
done_testing
