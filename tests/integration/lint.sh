#!/usr/bin/env bash
# tests/integration/lint.sh: the house rules that a compiler does not check.
#   - formatting (.clang-format)
#   - layering: anonymise/ and infra/ never include each other or etl/
#   - libraries never print, log or exit (only etl/ does)
#   - no strcpy/sprintf/strtok/atoi/sscanf/gets anywhere in the program
#   - files stay under ~1,500 lines
set -u
cd "$(dirname "$0")/../.."
. tests/lib/tap.sh

if command -v clang-format >/dev/null; then
    check "sources are formatted (make format-check)" make -s format-check
else
    skip "formatting" "clang-format is not installed"
fi

bad=$(grep -nE '#include "(etl|infra)/' anonymise/*.[ch] 2>/dev/null)
expect_eq "anonymise/ includes neither etl/ nor infra/" "" "$bad"
bad=$(grep -nE '#include "(etl|anonymise)/' infra/*.[ch] 2>/dev/null)
expect_eq "infra/ includes neither etl/ nor anonymise/" "" "$bad"

# printf-family to a stream, exit, abort: only etl/ may (snprintf into buffers is fine).
bad=$(grep -nE '\b(printf|fprintf|puts|fputs|perror|exit|abort)[[:space:]]*\(' anonymise/*.c infra/*.c |
      grep -vE '^\S+:\s*(\*|//)' )
expect_eq "anonymise/ and infra/ never print or exit" "" "$bad"

bad=$(grep -nE '\b(strcpy|strcat|sprintf|vsprintf|strtok|atoi|atol|sscanf|gets)[[:space:]]*\(' \
      anonymise/*.c infra/*.c etl/*.c | grep -vE '^\S+:\s*(\*|//)')
expect_eq "no strcpy/sprintf/strtok/atoi/sscanf/gets" "" "$bad"

long=$(wc -l anonymise/*.c infra/*.c etl/*.c | awk '$2 != "total" && $1 > 1500 {print $2 " (" $1 " lines)"}')
expect_eq "no source file over 1,500 lines" "" "$long"
done_testing
