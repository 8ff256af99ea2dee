#!/usr/bin/env bash
# tests/bench/json_bench.sh: the json rule alone (tests/bench/json_bench.c), on jsonb
# documents PostgreSQL writes: ~545 bytes each, a customer with contact details and an
# address, 1 to 4 order items, tags, a note, 1% with a 30-digit integer.
#
# One throwaway cluster generates the documents (psql -tA: one jsonb text per line),
# then three path sets are timed (CPU time, best of BENCH_JSON_ROUNDS rounds):
#   one path     "$.customer.email" hashed, the rest dropped (others: drop)
#   others keep  the same path, the rest copied as it is (the old default)
#   allow-list   7 paths (hash, keep on scalars inside items[*] and nested objects)
# With BENCH_JSON_CALLGRIND=1 (and valgrind installed) each also gets an instruction
# count per document (callgrind, 2 rounds minus 1 round over 2,000 documents, so
# start-up is not counted): robust on a shared machine, where times are not.
#
# Env: BENCH_JSON_DOCS (default 100000; 20000 with BENCH_QUICK=1), BENCH_JSON_ROUNDS (3),
#      BENCH_JSON_CALLGRIND (0), PGC_BIN (PostgreSQL binaries, see pgcluster.sh).
# Exit 1 when the rule fails on a document or a step fails.
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/lib/pgcluster.sh

if [ "${BENCH_QUICK:-0}" = 1 ]; then DOCS=${BENCH_JSON_DOCS:-20000}; else DOCS=${BENCH_JSON_DOCS:-100000}; fi
ROUNDS=${BENCH_JSON_ROUNDS:-3}
CALLGRIND=${BENCH_JSON_CALLGRIND:-0}

dir=$(pgc_mktemp)
trap 'pgc_stop_all; rm -rf "$dir"' EXIT
pgc_init "$dir/pg" >/dev/null
pgc_start "$dir/pg" >/dev/null

pgc_psql "$dir/pg" -tA -v docs="$DOCS" >"$dir/docs.txt" <<'SQL'
SELECT jsonb_build_object(
  'id', g,
  'customer', jsonb_build_object(
      'id', 100000 + g,
      'name', (ARRAY['Zoë O''Brien', 'Łukasz Wiśniewski', 'Siân Jones', 'Renée D''Souza', 'Tom Smith'])[1 + g % 5],
      'email', 'user' || g || '@example.com',
      'phone', '+44 7700 9' || lpad((g % 100000)::text, 5, '0'),
      'address', jsonb_build_object('line1', g || ' High Street', 'city', 'London', 'postcode', 'SW1A 1AA')),
  'items', (SELECT jsonb_agg(jsonb_build_object('sku', 'SKU-' || (g * k) % 9973, 'name', 'Item ' || k,
                                                'qty', k, 'price', round((k * 7.31 + g % 13)::numeric, 2)))
            FROM generate_series(1, 1 + g % 4) k),
  'tags', jsonb_build_array('priority', 'web'),
  'created_at', '2024-03-0' || (1 + g % 9) || 'T10:11:12Z',
  'notes', 'Call me on 07700 900123 — thanks',
  'ref', CASE WHEN g % 100 = 0 THEN 123456789012345678901234567890 ELSE g END,
  'ratio', 0.1,
  'active', g % 2 = 0)::text
FROM generate_series(1, :docs) g;
SQL
head -2000 "$dir/docs.txt" >"$dir/docs2k.txt"

make --no-print-directory -s build/rel/libanonymise.a
# shellcheck disable=SC2046 # pkg-config's flags are words
${CC:-cc} -std=c11 -D_GNU_SOURCE -O2 -I. -o "$dir/json_bench" tests/bench/json_bench.c \
    build/rel/libanonymise.a $(pkg-config --libs yaml-0.1 jansson libpcre2-8 openssl) -lm

run() { # NAME RULE
    local line ir=""
    line=$("$dir/json_bench" "$dir/docs.txt" "$2" "$ROUNDS")
    if [ "$CALLGRIND" = 1 ] && command -v valgrind >/dev/null; then
        local one two
        one=$(valgrind --tool=callgrind --callgrind-out-file=/dev/null "$dir/json_bench" "$dir/docs2k.txt" "$2" 1 2>&1 |
              awk '/Collected/ { print $NF }')
        two=$(valgrind --tool=callgrind --callgrind-out-file=/dev/null "$dir/json_bench" "$dir/docs2k.txt" "$2" 2 2>&1 |
              awk '/Collected/ { print $NF }')
        ir=", $(( (two - one) / 2000 )) instructions/document"
    fi
    printf '%-12s %s%s\n' "$1:" "${line#json rule: }" "$ir"
}

run "one path" '{ json: { paths: { "$.customer.email": { hash: {} } } } }'
run "others keep" '{ json: { paths: { "$.customer.email": { hash: {} } }, others: keep } }'
run "allow-list" '{ json: { paths: { "$.customer.email": { hash: {} }, "$.customer.address.city": keep, "$.items[*].sku": keep, "$.items[*].qty": keep, "$.items[*].price": keep, "$.created_at": keep, "$.active": keep } } }'
