#!/usr/bin/env bash
# tests/integration/incremental_cases.sh: incremental runs against what the world does to
# a source between runs (issues 10.3 and 11): rows leaving the `where:` filter, column
# types changing, keys colliding after their rule or repeated in the source, readers
# holding snapshots across a publish. Every incremental result is compared with a fresh
# full refresh (mode: full, same rules and key) of the same source state into schema
# `ref`: count + md5 of the rows in key order.
set -u
cd "$(dirname "$0")/../.."
. tests/lib/tap.sh
. tests/lib/pgcluster.sh

ANONETL=${ANONETL:-./anonetl}
pgc_pair || { echo "not ok 1 - clusters did not start"; exit 1; }
export ANONETL_HASH_KEY=$(openssl rand -hex 32)
export SOURCE_DATABASE_URL="$(pgc_dsn "$work/src" postgres postgres)"
export TARGET_DATABASE_URL="$(pgc_dsn "$work/tgt" postgres postgres)"

# config NAME SCHEMA MODE TABLE-YAML...: a one-table config; with MODE full the
# incremental settings are left out (the reference of the same rules and key).
config() {
    local name=$1 schema=$2 mode=$3
    shift 3
    {
        cat <<YAML
version: 1
source: { dsn: { env: SOURCE_DATABASE_URL } }
target: { dsn: { env: TARGET_DATABASE_URL }, schema: $schema }
secrets: { hash_key: { env: ANONETL_HASH_KEY } }
run: { jobs: ${JOBS:-1} }
tables:
YAML
        printf '%s\n' "$@"
    } >"$work/$name.yaml"
    if [ "$mode" = full ]; then
        sed -i -e 's/mode: incremental/mode: full/' -e '/watermark/d' -e '/deletes:/d' \
            -e '/deleted_column/d' "$work/$name.yaml"
    fi
}
run() { # NAME [args]: exit code of the run; its log in $work/NAME.log
    local name=$1
    shift
    "$ANONETL" run -c "$work/$name.yaml" --skip-preflight "$@" >"$work/$name.log" 2>&1
}
digest() { # SCHEMA.TABLE [key column]
    T -tAc "SELECT count(*) || ':' || coalesce(md5(string_agg(t::text, '|' ORDER BY t.${2:-id})), '') FROM $1 t"
}
same_as_full() { # NAME TABLE: the incremental schema NAME vs a full refresh into ref_NAME
    run "ref_$1" || { not_ok "$3" "reference run failed: $(tail -2 "$work/ref_$1.log")"; return; }
    expect_eq "$3" "$(digest "ref_$1.$2")" "$(digest "$1.$2")"
}
logged() { grep -q "$2" "$work/$1.log"; }

# --- 11.5: a source column changes type between incremental runs ------------------------
S >/dev/null <<'SQL'
CREATE TABLE typed (id bigint PRIMARY KEY, amount int, code varchar(5), updated_at timestamptz NOT NULL DEFAULT clock_timestamp());
INSERT INTO typed (id, amount, code) SELECT g, g, 'c' || g FROM generate_series(1, 20) g;
SQL
typed='  - name: public.typed
    mode: incremental
    key: [id]
    watermark: updated_at
    watermark_lag: 0s
    columns: { id: keep, amount: keep, code: keep, updated_at: keep }'
config typed typed incremental "$typed"
config ref_typed ref_typed full "$typed"
run typed; expect_eq "types: first run exits 0" 0 $?
S -c "ALTER TABLE typed ALTER amount TYPE numeric(10,2); UPDATE typed SET amount = 1.75, updated_at = clock_timestamp() WHERE id = 1" >/dev/null
run typed; expect_eq "int -> numeric(10,2): run exits 0" 0 $?
logged typed '"event":"full_reload".*column amount changed type (published as integer, now numeric(10,2))'
check "int -> numeric(10,2): reloaded, the log says which column and why" test $? -eq 0
expect_eq "int -> numeric(10,2): 1.75 published as 1.75" "1.75" "$(T -tAc "SELECT amount FROM typed.typed WHERE id = 1")"
same_as_full typed typed "int -> numeric(10,2): equals a full refresh"
S -c "ALTER TABLE typed ALTER code TYPE text; UPDATE typed SET code = 'a longer code', updated_at = clock_timestamp() WHERE id = 2" >/dev/null
run typed; expect_eq "varchar(5) -> text: run exits 0" 0 $?
logged typed 'column code changed type (published as character varying(5), now text)'
check "varchar(5) -> text: reloaded with the reason" test $? -eq 0
same_as_full typed typed "varchar(5) -> text: equals a full refresh"
S -c "UPDATE typed SET amount = 2.5, updated_at = clock_timestamp() WHERE id = 3" >/dev/null
run typed; expect_eq "unchanged types: run exits 0" 0 $?
logged typed '"event":"incremental"'
check "unchanged types: the next run merges again" test $? -eq 0
same_as_full typed typed "after the reloads, merges equal a full refresh"

done_testing
