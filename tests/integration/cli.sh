#!/usr/bin/env bash
# tests/integration/cli.sh: the command line, as a user meets it (issues 11.17, 14).
#   - `anonetl help COMMAND` lists every option of the command, and every option it
#     lists is one the command accepts (tests/unit/test_cli.c checks the same from the
#     parser's own table);
#   - a bad value of a closed list says so (`--log-format xml`: unknown log format,
#     known: text, json), an option without its value says so, an unknown option says
#     so; a stray argument (`run -c f.yaml extra`) is refused: exit 2 for every command.
# No database is needed: every case stops before connecting.
set -u
cd "$(dirname "$0")/../.."
. tests/lib/tap.sh

ANONETL=${ANONETL:-./anonetl}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat >"$work/f.yaml" <<'YAML'
version: 1
source: { dsn: "host=/nonexistent dbname=x" }
target: { dsn: "host=/nonexistent dbname=y" }
secrets: { hash_key: { env: ANONETL_TEST_NO_SUCH_KEY } }
tables:
  - name: public.t
    columns: { a: keep }
YAML

commands=$("$ANONETL" help | awk '/^commands:/ {on=1; next} /^$/ {on=0} on {print $1}')
check "anonetl help lists the commands" test -n "$commands"

# --- 14: help preflight lists every option ---------------------------------------------
"$ANONETL" help preflight >"$work/pf.help" 2>&1
for o in --json "--only GROUP" --repair --yes --config --log-format --verbose; do
    check "help preflight lists $o" grep -q -- "$o" "$work/pf.help"
done
check "help preflight lists the --only groups" grep -q 'dns,tcp,tls,login' "$work/pf.help"

# --- every option a help lists is accepted by its command ------------------------------
bad=""
for cmd in $commands; do
    [ "$cmd" = help ] && continue
    "$ANONETL" help "$cmd" >"$work/$cmd.help" 2>&1 || bad="$bad [help $cmd failed]"
    "$ANONETL" "$cmd" --help >"$work/$cmd.help2" 2>&1 || bad="$bad [$cmd --help failed]"
    cmp -s "$work/$cmd.help" "$work/$cmd.help2" || bad="$bad [$cmd --help differs from help $cmd]"
    # "  -c, --config FILE   ..." / "      --json   ...": the option and its value name
    while read -r opt arg; do
        [ "$opt" = --help ] && continue
        if [ -n "$arg" ]; then set -- "$opt" VALUE; else set -- "$opt"; fi
        "$ANONETL" "$cmd" "$@" >"$work/out" 2>&1
        if grep -q "unknown option\|needs a value\|unexpected argument" "$work/out"; then
            bad="$bad [$cmd $*: $(head -1 "$work/out")]"
        fi
    done < <(sed -n 's/^  \(-., \|    \)\(--[a-z-]*\)\( [A-Z.,]*\)\?  .*/\2\3/p' "$work/$cmd.help")
done
expect_eq "every option listed by a command's help is accepted by it" "" "$bad"
check "run's help lists --jobs N" grep -q -- '-j, --jobs N' "$work/run.help"
check "preview's help lists --random-key" grep -q -- '--random-key' "$work/preview.help"

# --- 11.17: bad values, missing values, unknown options, stray arguments ---------------
"$ANONETL" run -c "$work/f.yaml" --log-format xml >"$work/lf" 2>&1; rc=$?
expect_eq "--log-format xml exits 2" 2 "$rc"
check "and says: unknown log format, known: text, json" grep -q "unknown log format 'xml' (known: text, json)" "$work/lf"
"$ANONETL" run --jobs >"$work/mv" 2>&1; rc=$?
expect_eq "--jobs without a value exits 2" 2 "$rc"
check "and says the option needs a value" grep -q "option '--jobs' needs a value" "$work/mv"
"$ANONETL" check --bogus >"$work/uo" 2>&1; rc=$?
expect_eq "an unknown option exits 2" 2 "$rc"
check "and names it" grep -q "unknown option '--bogus'" "$work/uo"
bad=""
for cmd in $commands; do
    case "$cmd" in
    help) args=(run extra) ;;
    init) args=(--source-dsn "host=/nonexistent" extra) ;;
    preview) args=(-c "$work/f.yaml" --table public.t extra) ;;
    db-token) args=(--host h --user u extra) ;;
    schema) args=(extra) ;;
    *) args=(-c "$work/f.yaml" extra) ;;
    esac
    "$ANONETL" "$cmd" "${args[@]}" >"$work/out" 2>&1; rc=$?
    [ "$rc" -eq 2 ] && grep -q "unexpected argument 'extra'" "$work/out" || bad="$bad [$cmd: exit $rc: $(head -1 "$work/out")]"
done
expect_eq "a stray argument is refused (exit 2, named) by every command" "" "$bad"
"$ANONETL" version extra >"$work/ve" 2>&1; rc=$?
expect_eq "version with a stray argument exits 2" 2 "$rc"

# --- an empty config path: -c "" is named, ANONETL_CONFIG set to nothing is no config ---
# (both said ": cannot open: No such file or directory" and "1 problem in " with no name)
bad=""
for cmd in check explain status; do
    "$ANONETL" "$cmd" -c "" >"$work/out" 2>&1; rc=$?
    [ "$rc" -eq 2 ] && grep -q "anonetl $cmd: -c: the config's path is empty" "$work/out" || bad="$bad [$cmd -c '': exit $rc: $(head -1 "$work/out")]"
    ANONETL_CONFIG= "$ANONETL" "$cmd" >"$work/out" 2>&1; rc=$?
    [ "$rc" -eq 2 ] && grep -q "anonetl $cmd: no config: give -c FILE (or set ANONETL_CONFIG)" "$work/out" || bad="$bad [ANONETL_CONFIG= $cmd: exit $rc: $(head -1 "$work/out")]"
done
"$ANONETL" preview -c "" --table public.t >"$work/out" 2>&1; rc=$?
[ "$rc" -eq 2 ] && grep -q "anonetl preview: -c: the config's path is empty" "$work/out" || bad="$bad [preview -c '': exit $rc: $(head -1 "$work/out")]"
ANONETL_CONFIG= "$ANONETL" preview --table public.t >"$work/out" 2>&1; rc=$?
[ "$rc" -eq 2 ] && grep -q "anonetl preview: -c FILE and --table T are required" "$work/out" || bad="$bad [ANONETL_CONFIG= preview: exit $rc: $(head -1 "$work/out")]"
expect_eq "an empty config path is a usage error that says so (exit 2)" "" "$bad"

# --- empty or impossible values of init and db-token are usage errors that say which ----
# (init --schema '' said the DSN was missing, -o '' ": No such file or directory";
# db-token --host '' or a socket directory exited 1, an internal error)
bad=""
while IFS='|' read -r want args; do
    # shellcheck disable=SC2086 # args holds the words
    eval "set -- $args"
    "$ANONETL" "$@" >"$work/out" 2>&1; rc=$?
    [ "$rc" -eq 2 ] && grep -qF "$want" "$work/out" || bad="$bad [$args: exit $rc: $(head -1 "$work/out")]"
done <<'CASES'
anonetl init: --schema: the schema's name is empty|init --source-dsn "host=/nonexistent" --schema ""
anonetl init: -o: the file's path is empty|init --source-dsn "host=/nonexistent" -o ""
anonetl init: --schema: a system schema (pg_*, information_schema): anonetl copies user tables|init --source-dsn "host=/nonexistent" --schema pg_catalog
anonetl db-token: --host: expected one TCP host name, got ''|db-token --host "" --user u --region eu-west-2
anonetl db-token: --host: expected one TCP host name, got '/tmp'|db-token --host /tmp --user u --region eu-west-2
anonetl db-token: --user: the user name is empty|db-token --host db.example --user "" --region eu-west-2
CASES
expect_eq "init and db-token: an empty or impossible value is exit 2, named" "" "$bad"

# --- a file past the config size limit: said as such ------------------------------------
# (it said "larger than 4194304 bytes or out of memory")
"$ANONETL" check -c /dev/zero >"$work/out" 2>&1; rc=$?
expect_eq "check -c /dev/zero: exit 2, not a config, refused at 4 MiB" \
    "2 /dev/zero: larger than 4194304 bytes (4 MiB): not a config (a config of 5,000 tables of 20 columns takes about 2 MB)" \
    "$rc $(head -1 "$work/out")"

# --- an unknown command: the nearest one, or that the command comes first ----------------
bad=""
while IFS='|' read -r want args; do
    eval "set -- $args"
    "$ANONETL" "$@" >"$work/out" 2>&1; rc=$?
    [ "$rc" -eq 2 ] && [ "$(head -1 "$work/out")" = "$want" ] || bad="$bad [$args: exit $rc: $(head -1 "$work/out")]"
done <<CASES
anonetl: unknown command 'Check' (did you mean check?)|Check -c $work/f.yaml
anonetl: unknown command 'preveiw' (did you mean preview?)|preveiw
anonetl: unknown command 'db_token' (did you mean db-token?)|db_token
anonetl: unknown command '-c' (the command comes first: anonetl COMMAND [OPTIONS])|-c $work/f.yaml check
anonetl: unknown command 'xyzzy'|xyzzy
anonetl help: unknown command 'chek' (did you mean check?)|help chek
CASES
expect_eq "an unknown command: exit 2, the nearest command or where options go" "" "$bad"

# --- an option given twice with two values is refused, naming it, never its values -----
# (`run -c a.yaml -c b.yaml` ran b.yaml; --source-dsn's value may hold a password)
bad=""
while IFS='|' read -r want args; do
    eval "set -- $args"
    "$ANONETL" "$@" >"$work/out" 2>&1; rc=$?
    [ "$rc" -eq 2 ] && grep -qxF "$want" "$work/out" && ! grep -q "pw0rd" "$work/out" ||
        bad="$bad [$args: exit $rc: $(head -1 "$work/out")]"
done <<CASES
anonetl run: --config given twice, with two values: give one|run -c $work/f.yaml --config=$work/other.yaml
anonetl init: --source-dsn given twice, with two values: give one|init --source-dsn postgresql://u:pw0rd@h/db -d x
anonetl db-token: --hostname given twice, with two values: give one|db-token --host a --hostname b --user u
CASES
"$ANONETL" check -c "$work/f.yaml" -c "$work/f.yaml" >"$work/out" 2>&1; rc=$?
[ "$rc" -eq 0 ] || bad="$bad [check -c f -c f: exit $rc: $(head -1 "$work/out")]"
expect_eq "an option given twice with two values: exit 2, named; the same value twice passes" "" "$bad"

# --- preview --table: which table, said before any connection -------------------------
# (a bare name two schemas share took the first one's rows silently; --json --text took
# the last; --table '' said " is not a table"; a typo got no suggestion)
cat >"$work/two.yaml" <<'YAML'
version: 1
source: { dsn: "host=/nonexistent dbname=x" }
target: { dsn: "host=/nonexistent dbname=y" }
secrets: { hash_key: { env: ANONETL_TEST_NO_SUCH_KEY } }
tables:
  - name: odd.users
    columns: { a: keep }
  - name: public.users
    publish_as: users_public
    columns: { a: keep }
  - name: public.parties
    columns: { a: keep }
YAML
bad=""
while IFS='|' read -r want args; do
    eval "set -- $args"
    "$ANONETL" preview -c "$work/two.yaml" "$@" >"$work/out" 2>&1; rc=$?
    [ "$rc" -eq 2 ] && grep -qxF "$want" "$work/out" || bad="$bad [$args: exit $rc: $(head -1 "$work/out")]"
done <<CASES
anonetl preview: --table users: 2 tables of $work/two.yaml have that name (odd.users, public.users): write SCHEMA.TABLE|--table users
anonetl preview: --table odd.usres is not a table of $work/two.yaml (did you mean odd.users?)|--table odd.usres
anonetl preview: --table partys is not a table of $work/two.yaml (did you mean public.parties?)|--table partys
anonetl preview: --table xyz is not a table of $work/two.yaml|--table xyz
anonetl preview: --table: the table name is empty|--table ""
anonetl preview: --json and --text: give one of them|--table parties --json --text
anonetl preview: --json and --text: give one of them|--table parties --text --json
CASES
expect_eq "preview --table: ambiguous, unknown (with the nearest), empty; --json with --text: exit 2, said" "" "$bad"
# a bare name one schema has, and --json twice, still pass the option checks (then, with
# --real-key, the key: exit 2 naming its variable, not the table)
"$ANONETL" preview -c "$work/two.yaml" --table parties --json --json --real-key >"$work/out" 2>&1; rc=$?
check "preview --table parties (one schema has it) gets past the table: the key is next" \
    grep -q ANONETL_TEST_NO_SUCH_KEY "$work/out"

# --- output that cannot be written is not a success ----------------------------------
# explain > f on a full disk, status --json | a consumer that died: exit 0 with the
# output cut (SIGPIPE is ignored). Now exit 1, saying the output is incomplete; init and
# schema did so already.
bad=""
for args in "help" "--help" "version" "help run" "run --help" "schema" "check -c $work/f.yaml" "explain -c $work/f.yaml"; do
    # shellcheck disable=SC2086 # the words of args are the arguments
    "$ANONETL" $args >/dev/full 2>"$work/out"; rc=$?
    [ "$rc" -eq 1 ] && grep -q "writing stdout failed" "$work/out" || bad="$bad [$args >/dev/full: exit $rc: $(head -1 "$work/out")]"
    [ "$(grep -c "writing stdout failed" "$work/out")" -le 1 ] || bad="$bad [$args: said twice]"
done
expect_eq "a full stdout: exit 1, the output named incomplete, by every command" "" "$bad"
# a pipe whose reader is gone (EPIPE, deterministic: the read end is closed first)
OUT=$work/epipe python3 -c 'import os, subprocess, sys
r, w = os.pipe(); os.close(r)
sys.exit(subprocess.run(sys.argv[1:], stdout=w, stderr=open(os.environ["OUT"], "w")).returncode)' \
    "$ANONETL" explain -c "$work/f.yaml"; rc=$?
expect_eq "explain into a closed pipe exits 1" 1 "$rc"
check "and says why" grep -q "anonetl explain: writing stdout failed (Broken pipe): the output is incomplete" "$work/epipe"

# --- a key in the environment ending with a line end: kept, and said ------------------
# (a { file: } key drops it, so the same key from a file hashed differently, unsaid)
sed 's/ANONETL_TEST_NO_SUCH_KEY/ANONETL_TEST_NL_KEY/' "$work/f.yaml" >"$work/nl.yaml"
ANONETL_TEST_NL_KEY="$(openssl rand -hex 32)"$'\n' "$ANONETL" run -c "$work/nl.yaml" --skip-preflight \
    --log-format json >"$work/nl.log" 2>&1
check "an environment key ending with a line end is warned about, named" \
    grep -q '"level":"warn","event":"secret_line_end","msg":"secrets.hash_key: environment variable ANONETL_TEST_NL_KEY ends with a line end' "$work/nl.log"
ANONETL_TEST_NL_KEY="$(openssl rand -hex 32)" "$ANONETL" run -c "$work/nl.yaml" --skip-preflight \
    --log-format json >"$work/nl.log" 2>&1
check "and not without one" bash -c "! grep -q secret_line_end '$work/nl.log'"
# a connection string's line end: what it does there, not the hash key's pseudonyms
sed 's|source: { dsn: "host=/nonexistent dbname=x" }|source: { dsn: { env: ANONETL_TEST_NL_DSN } }|' "$work/f.yaml" >"$work/nl_dsn.yaml"
ANONETL_TEST_NL_DSN=$'postgresql://u:pw0rd@localhost:1/db\n' "$ANONETL" check -c "$work/nl_dsn.yaml" --source \
    --log-format json >"$work/nl_dsn.log" 2>&1
check "a connection string ending with a line end: warned about as one (not as a hash key), never shown" \
    bash -c "grep -q '\"event\":\"secret_line_end\",\"msg\":\"source: environment variable ANONETL_TEST_NL_DSN ends with a line end, which is part of the value: a password holding it' '$work/nl_dsn.log' && ! grep -q 'pseudonyms\|pw0rd' '$work/nl_dsn.log'"

# --- -v: debug events only when asked (every command used to log at debug level) -------
"$ANONETL" status -c "$work/f.yaml" --log-format json >"$work/quiet" 2>&1
check "without -v: no debug event (status)" bash -c "! grep -q '\"level\":\"debug\"' '$work/quiet'"
"$ANONETL" status -c "$work/f.yaml" --log-format json -v >"$work/verbose" 2>&1
check "with -v: the debug event of the connection" grep -q '"level":"debug","event":"connect"' "$work/verbose"
done_testing
