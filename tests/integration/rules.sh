#!/usr/bin/env bash
# tests/integration/rules.sh: rule semantics on two real clusters, where the database
# decides what a value is.
#
#  1. Integer edges (issue 11.9): round and bucket on smallint/integer/bigint columns
#     holding their types' extremes publish values inside the type, the same on the
#     binary COPY path and the text one (ANONETL_TEXT_COPY=1); numeric edges widen.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/tap.sh
. tests/lib/pgcluster.sh

ANONETL=${ANONETL:-./anonetl}
pgc_pair || { echo "not ok 1 - clusters did not start"; exit 1; }

ANONETL_HASH_KEY=$(openssl rand -hex 32)
export ANONETL_HASH_KEY
SOURCE_DATABASE_URL=$(pgc_dsn "$work/src")
TARGET_DATABASE_URL=$(pgc_dsn "$work/tgt")
export SOURCE_DATABASE_URL TARGET_DATABASE_URL
log=$work/run.log

header() { # the config up to `tables:`
    cat <<'YAML'
version: 1
source:
  dsn: { env: SOURCE_DATABASE_URL }
target:
  dsn: { env: TARGET_DATABASE_URL }
  schema: anonymised
secrets:
  hash_key: { env: ANONETL_HASH_KEY }
tables:
YAML
}

# --- 1. integer edges, both COPY paths --------------------------------------------------
S <<'SQL' >/dev/null
CREATE TABLE public.edges (id integer PRIMARY KEY, i2 smallint, i4 integer, i8 bigint);
INSERT INTO public.edges VALUES
 (1, 32767, 2147483647, 9223372036854775807),
 (2, -32768, -2147483648, -9223372036854775808),
 (3, 32766, 2147483646, 9223372036854775806),
 (4, -32767, -2147483647, -9223372036854775807),
 (5, 0, 0, 0), (6, 1234, -1234, 1234), (7, NULL, NULL, NULL);
CREATE TABLE public.edges_numeric (id integer PRIMARY KEY, n numeric, n2 numeric(6,1));
INSERT INTO public.edges_numeric VALUES
 (1, 2147483647, 99999.9), (2, -9223372036854775808, -99999.9), (3, 5, 4.9);
SQL
edges_config() { # FILE
    { header; cat <<'YAML'; } >"$1"
  - name: public.edges
    columns:
      id: keep
      i2: { round: { multiple: 10 } }
      i4: { round: { multiple: 10 } }
      i8: { round: { digits: -2 } }
  - name: public.edges_buckets
    columns:
      id: keep
      i2: { bucket: { width: 500 } }
      i4: { bucket: { width: 500 } }
      i8: { round: { multiple: 3 } }
  - name: public.edges_numeric
    columns:
      id: keep
      n: { round: { multiple: 10 } }
      n2: { round: { digits: -1 } }
YAML
}
S -c "CREATE VIEW public.edges_buckets AS SELECT * FROM public.edges" >/dev/null
edges_config "$work/edges.yaml"
published() { # TABLE
    T -tA -F ' ' -c "SELECT * FROM anonymised.$1 ORDER BY id"
}
"$ANONETL" run -c "$work/edges.yaml" --skip-preflight >"$log" 2>&1
expect_eq "edges: binary COPY run exits 0" 0 "$?"
bin_round=$(published edges) bin_bucket=$(published edges_buckets) bin_num=$(published edges_numeric)
ANONETL_TEXT_COPY=1 "$ANONETL" run -c "$work/edges.yaml" --skip-preflight >"$log" 2>&1
expect_eq "edges: text COPY run exits 0" 0 "$?"
expect_eq "edges: round, both paths publish the same" "$bin_round" "$(published edges)"
expect_eq "edges: bucket, both paths publish the same" "$bin_bucket" "$(published edges_buckets)"
expect_eq "edges: numeric, both paths publish the same" "$bin_num" "$(published edges_numeric)"
expect_eq "edges: round at the integer edges stays inside each type" \
"1 32760 2147483640 9223372036854775800
2 -32760 -2147483640 -9223372036854775800
3 32760 2147483640 9223372036854775800
4 -32760 -2147483640 -9223372036854775800
5 0 0 0
6 1230 -1230 1200
7   " "$bin_round"
expect_eq "edges: bucket lower bounds below the minimum are the minimum" \
"1 32500 2147483500 9223372036854775806
2 -32768 -2147483648 -9223372036854775806
3 32500 2147483500 9223372036854775806
4 -32768 -2147483648 -9223372036854775806
5 0 0 0
6 1000 -1500 1233
7   " "$bin_bucket"
expect_eq "edges: numeric rounds past the integer edges exactly" \
"1 2147483650 100000
2 -9223372036854775810 -100000
3 10 0" "$bin_num"
expect_eq "edges: integer columns keep their types" "smallint integer bigint" \
    "$(T -tAc "SELECT string_agg(data_type, ' ' ORDER BY ordinal_position) FROM information_schema.columns
               WHERE table_schema = 'anonymised' AND table_name = 'edges' AND column_name <> 'id'")"

done_testing
