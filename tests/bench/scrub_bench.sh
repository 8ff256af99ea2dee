#!/usr/bin/env bash
# tests/bench/scrub_bench.sh: the scrub rule alone (tests/bench/scrub_bench.c) on the demo's
# messages (sql/demo: 50,000 bodies of 60-400 characters, a quarter quoting the sender's
# phone or e-mail), with the sender's full_name, email and phone from the same row.
#
#   detectors   scrub: [email, phone, postcode, card_number, nino, iban]
#   row values  the same, plus row_values: [full_name, email, phone]
#
# Prints the best CPU time per value of BENCH_SCRUB_ROUNDS rounds; with
# BENCH_SCRUB_CALLGRIND=1 (and valgrind), also instructions per value (callgrind over the
# first 2,000 messages, 2 rounds minus 1 round, so start-up is not counted): robust on a
# shared machine, where times are not.
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/lib/pgcluster.sh

ROUNDS=${BENCH_SCRUB_ROUNDS:-3}
CALLGRIND=${BENCH_SCRUB_CALLGRIND:-0}

dir=$(pgc_mktemp)
trap 'pgc_stop_all; rm -rf "$dir"' EXIT
pgc_init "$dir/pg" >/dev/null
pgc_start "$dir/pg" >/dev/null
pgc_psql "$dir/pg" -f sql/demo/schema.sql >/dev/null
pgc_psql "$dir/pg" -f sql/demo/data.sql >/dev/null
pgc_psql "$dir/pg" -c "COPY (SELECT m.body, p.full_name, p.email, p.phone FROM public.messages m
                              LEFT JOIN public.parties p ON p.id = m.sender_party_id ORDER BY m.id)
                       TO STDOUT" >"$dir/messages.copy"
head -2000 "$dir/messages.copy" >"$dir/messages2k.copy"

make --no-print-directory -s build/rel/libetl.a build/rel/libanonymise.a
# shellcheck disable=SC2046 # pkg-config's flags are words
${CC:-cc} -std=c11 -D_GNU_SOURCE -O2 -I. -o "$dir/scrub_bench" tests/bench/scrub_bench.c \
    build/rel/libetl.a build/rel/libanonymise.a \
    $(pkg-config --libs yaml-0.1 jansson libpcre2-8 openssl libpq) -lm

run() { # NAME RULE
    local line ir=""
    line=$("$dir/scrub_bench" "$dir/messages.copy" "$2" "$ROUNDS")
    if [ "$CALLGRIND" = 1 ] && command -v valgrind >/dev/null; then
        local one two
        one=$(valgrind --tool=callgrind --callgrind-out-file=/dev/null "$dir/scrub_bench" "$dir/messages2k.copy" "$2" 1 2>&1 |
              awk '/Collected/ { print $NF }')
        two=$(valgrind --tool=callgrind --callgrind-out-file=/dev/null "$dir/scrub_bench" "$dir/messages2k.copy" "$2" 2 2>&1 |
              awk '/Collected/ { print $NF }')
        ir=", $(( (two - one) / 2000 )) instructions/value"
    fi
    printf '%-12s %s%s\n' "$1:" "${line#scrub: }" "$ir"
}

run "detectors" '{ scrub: [email, phone, postcode, card_number, nino, iban] }'
if [ "${BENCH_SCRUB_ROW_VALUES:-1}" = 1 ]; then
    run "row values" '{ scrub: { detectors: [email, phone, postcode, card_number, nino, iban], row_values: [full_name, email, phone] } }'
fi
