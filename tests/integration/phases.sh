#!/usr/bin/env bash
# tests/integration/phases.sh: where a table's time goes is in the run record
# (anonetl.run_tables: copy_ms, index_ms, analyze_ms, publish_ms; the table_done log event;
# status --json), and the ANALYZE after the load samples what target.statistics_target
# says (10 by default: 10-bucket histograms; 100 when configured).
set -u
cd "$(dirname "$0")/../.."
. tests/lib/tap.sh
. tests/lib/pgcluster.sh

ANONETL=${ANONETL:-./anonetl}
pgc_pair || { echo "not ok 1 - clusters did not start"; exit 1; }
export ANONETL_HASH_KEY=$(openssl rand -hex 32)

S <<'SQL' >/dev/null
CREATE TABLE events (id bigint PRIMARY KEY, who text NOT NULL, amount numeric(10,2), at timestamptz);
INSERT INTO events SELECT g, 'person ' || g, (g * 7919 % 100000) / 100.0,
       timestamptz '2020-01-01 00:00+00' + g * interval '37 minutes' FROM generate_series(1, 60000) g;
ANALYZE events;
SQL

config() { # FILE SCHEMA [statistics_target]
    cat >"$1" <<YAML
version: 1
source:
  dsn: "$(pgc_dsn "$work/src" postgres postgres)"
target:
  dsn: "$(pgc_dsn "$work/tgt" postgres postgres)"
  schema: $2
${3:+  statistics_target: $3}
secrets:
  hash_key: { env: ANONETL_HASH_KEY }
tables:
  - name: public.events
    columns:
      id: keep
      who: { hash: {} }
      amount: { bucket: { width: 10 } }
      at: { date_shift: { by: id } }
YAML
}

config "$work/a.yaml" published
rc=0
"$ANONETL" run -c "$work/a.yaml" --skip-preflight >"$work/a.log" 2>&1 || rc=$?
expect_eq "run succeeds" 0 "$rc"

row=$(T -Atc "SELECT copy_ms >= 0 AND index_ms >= 0 AND analyze_ms >= 0 AND publish_ms >= 0,
                     copy_ms = elapsed_ms, copy_ms > 0
              FROM anonetl.run_tables ORDER BY run_id DESC LIMIT 1")
expect_eq "run record: copy_ms, index_ms, analyze_ms, publish_ms recorded (copy_ms = elapsed_ms)" "t|t|t" "$row"
check "table_done log event carries the phases" \
    grep -qE '"event":"table_done".*"copy_ms":[0-9]+.*"index_ms":[0-9]+.*"analyze_ms":[0-9]+' "$work/a.log"
"$ANONETL" status -c "$work/a.yaml" --json >"$work/status.json" 2>"$work/status.err"
check "status --json shows the phases" python3 -c '
import json, sys
doc = json.load(open(sys.argv[1]))
runs = doc["runs"] if isinstance(doc, dict) else doc
t = runs[0]["tables"][0]
assert all(k in t and t[k] >= 0 for k in ("copy_ms", "index_ms", "analyze_ms", "publish_ms")), t
' "$work/status.json"

# statistics_target: the default samples 300 x 10 rows and keeps 10-bucket histograms;
# 100 keeps up to 101 bounds.
bounds() { # schema
    T -Atc "SELECT array_length(histogram_bounds::text::text[], 1) FROM pg_stats
            WHERE schemaname = 'anonetl_data' AND attname = 'who'
              AND tablename = (SELECT version_table FROM anonetl.published WHERE target_schema = '$1')"
}
expect_eq "default statistics_target 10: an 11-bound histogram" 11 "$(bounds published)"
config "$work/b.yaml" detailed 100
rc=0
"$ANONETL" run -c "$work/b.yaml" --skip-preflight >"$work/b.log" 2>&1 || rc=$?
expect_eq "run with statistics_target: 100 succeeds" 0 "$rc"
expect_eq "statistics_target 100: a 101-bound histogram" 101 "$(bounds detailed)"

done_testing
