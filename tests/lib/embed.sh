#!/bin/sh
# embed.sh NAME FILE: prints a C header holding FILE as a NUL-terminated string NAME,
# so the SQL the project ships is the SQL the binary runs (no second copy to drift).
set -eu
name=$1; file=$2
echo "/* generated from $file by tests/lib/embed.sh: do not edit */"
echo "static const char ${name}[] = {"
od -An -v -tx1 "$file" | sed -e 's/ \([0-9a-f][0-9a-f]\)/0x\1,/g' -e 's/^/    /'
echo "    0x00};"
