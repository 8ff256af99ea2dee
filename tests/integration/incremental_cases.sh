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

# --- 10.3: rows that leave the `where:` filter leave the published table ----------------
S >/dev/null <<'SQL'
CREATE TABLE consent (id bigint PRIMARY KEY, email text NOT NULL, consent boolean, deleted boolean NOT NULL DEFAULT false,
                      updated_at timestamptz NOT NULL DEFAULT clock_timestamp());
INSERT INTO consent (id, email, consent) SELECT g, 'p' || g || '@x.org', g % 10 <> 0 FROM generate_series(1, 500) g;
SQL
for deletes in none soft; do
    soft=""
    [ "$deletes" = soft ] && soft="
    deleted_column: deleted"
    body="  - name: public.consent
    mode: incremental
    key: [id]
    watermark: updated_at
    watermark_lag: 0s
    deletes: $deletes$soft
    where: \"consent\"
    columns: { id: { hash_int: {} }, email: { hash: {} }, consent: keep, deleted: keep, updated_at: keep }"
    config "where_$deletes" "where_$deletes" incremental "$body"
    ref_where=consent
    [ "$deletes" = soft ] && ref_where="consent AND NOT deleted"
    config "ref_where_$deletes" "ref_where_$deletes" full "$(printf '%s\n' "$body" | sed "s/where: .*/where: \"$ref_where\"/")"
    run "where_$deletes"; expect_eq "where + deletes: $deletes: first run exits 0" 0 $?
    S -c "UPDATE consent SET consent = false, updated_at = clock_timestamp() WHERE id % 7 = 1" >/dev/null   # withdrawn
    S -c "UPDATE consent SET consent = NULL, updated_at = clock_timestamp() WHERE id % 11 = 2" >/dev/null   # unknown
    S -c "UPDATE consent SET consent = true, updated_at = clock_timestamp() WHERE id IN (10, 20)" >/dev/null # given
    S -c "UPDATE consent SET deleted = true, updated_at = clock_timestamp() WHERE id % 13 = 3" >/dev/null
    run "where_$deletes"; expect_eq "where + deletes: $deletes: incremental run exits 0" 0 $?
    logged "where_$deletes" '"event":"incremental"'
    check "where + deletes: $deletes: the run merged" test $? -eq 0
    expect_eq "where + deletes: $deletes: no withdrawn or unknown consent stays published" \
        "$(S -tAc "SELECT count(*) FROM consent WHERE $ref_where")" "$(T -tAc "SELECT count(*) FROM where_$deletes.consent")"
    same_as_full "where_$deletes" consent "where + deletes: $deletes: equals a full refresh with the same where"
    deleted=$(T -tAc "SELECT rows_deleted FROM anonetl.run_tables t JOIN anonetl.runs r USING (run_id) WHERE r.target_schema = 'where_$deletes' ORDER BY run_id DESC LIMIT 1")
    check "where + deletes: $deletes: the rows taken out are counted as deleted ($deleted)" test "$deleted" -ge 100
    # back to the start for the next delete mode
    S -c "UPDATE consent SET consent = id % 10 <> 0, deleted = false, updated_at = clock_timestamp()" >/dev/null
done
"$ANONETL" check -c "$work/where_none.yaml" >"$work/check_where.out" 2>&1
expect_eq "check: where with deletes: none is a warning (exit 0)" 0 $?
grep -q "public.consent: incremental with where: and deletes: none: .*deleted from the source stays published" "$work/check_where.out"
check "check warns that deleted rows stay published with where + deletes: none" test $? -eq 0
"$ANONETL" check -c "$work/where_soft.yaml" >"$work/check_soft.out" 2>&1
grep -q "incremental with where:" "$work/check_soft.out"
check "no such warning with deletes: soft" test $? -ne 0

done_testing
