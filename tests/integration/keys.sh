#!/usr/bin/env bash
# tests/integration/keys.sh: key and secret hygiene of a real run (issue 10.9).
#
#  - an obviously weak hash key (repeated characters, a short pattern, a sequence) is
#    refused before anything happens: exit 2, the reason, never the key;
#  - a `{ file: }` secret readable by group or others, or another user's, is refused as
#    ssh refuses such a private key; 0600 is accepted;
#  - a password in a literal DSN is refused however it is spaced;
#  - while a run is in progress (held on a lock in the source): the raw key is in none of
#    the process's memory (only the prepared HMAC states are), nor in its environment;
#    its core size limit is 0; and run as an ordinary user, another process of the same
#    user cannot read its environment or memory (the process is not dumpable).
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/tap.sh
. tests/lib/pgcluster.sh
. tests/lib/poll.sh

ANONETL=${ANONETL:-./anonetl}
pgc_pair || { echo "not ok 1 - clusters did not start"; exit 1; }
chmod 755 "$work"

S <<'SQL' >/dev/null
CREATE TABLE public.items (id integer PRIMARY KEY, label text);
INSERT INTO public.items SELECT g, 'item ' || g FROM generate_series(1, 1000) g;
SQL
SOURCE_DATABASE_URL=$(pgc_dsn "$work/src")
TARGET_DATABASE_URL=$(pgc_dsn "$work/tgt")
export SOURCE_DATABASE_URL TARGET_DATABASE_URL

config() { # FILE HASH-KEY-REF [SOURCE-DSN]
    cat >"$1" <<YAML
version: 1
source:
  dsn: ${3:-"{ env: SOURCE_DATABASE_URL }"}
target:
  dsn: { env: TARGET_DATABASE_URL }
secrets:
  hash_key: $2
tables:
  - name: public.items
    columns: { id: keep, label: hash }
YAML
}
cfg=$work/keys.yaml
config "$cfg" "{ env: ANONETL_HASH_KEY }"

# --- weak keys -----------------------------------------------------------------------------
for weak in "$(printf 'a%.0s' $(seq 64))" "0123456789abcdef0123456789abcdef" \
    "passwordpasswordpasswordpassword" "abcdefghijklmnopqrstuvwxyzabcdef"; do
    out=$(ANONETL_HASH_KEY=$weak "$ANONETL" run -c "$cfg" --skip-preflight 2>&1); rc=$?
    if [ "$rc" -eq 2 ] && grep -q 'secrets.hash_key: refused: the key looks weak' <<<"$out" &&
        ! grep -qF "$weak" <<<"$out"; then
        ok "weak key ${weak:0:6}...: refused with exit 2 and a reason, the key not shown"
    else
        not_ok "weak key ${weak:0:6}...: refused with exit 2" "exit $rc: $(head -3 <<<"$out")"
    fi
done
expect_eq "weak key: nothing published" "" "$(T -tAc "SELECT to_regclass('anonymised.items')")"

# --- secret files ----------------------------------------------------------------------------
KEY=$(openssl rand -hex 32)
printf '%s\n' "$KEY" >"$work/hash.key"
config "$work/file.yaml" "{ file: $work/hash.key }"
for mode in 644 640 604 660; do
    chmod "$mode" "$work/hash.key"
    out=$("$ANONETL" run -c "$work/file.yaml" --skip-preflight 2>&1); rc=$?
    if [ "$rc" -eq 2 ] && grep -q "secret file $work/hash.key is open to group or others (mode 0$mode)" <<<"$out" &&
        ! grep -qF "$KEY" <<<"$out"; then
        ok "secret file mode $mode: refused (exit 2), path and mode named"
    else
        not_ok "secret file mode $mode: refused (exit 2)" "exit $rc: $(head -3 <<<"$out")"
    fi
done
chown nobody "$work/hash.key" && chmod 600 "$work/hash.key"
out=$("$ANONETL" run -c "$work/file.yaml" --skip-preflight 2>&1); rc=$?
expect_eq "secret file of another user: refused (exit 2)" "2 1" \
    "$rc $(grep -c 'belongs to another user' <<<"$out")"
chown root "$work/hash.key"
"$ANONETL" run -c "$work/file.yaml" --skip-preflight >"$work/run.log" 2>&1
expect_eq "secret file 0600, ours: the run goes ahead" 0 "$?"

# --- a password in a literal DSN, whatever the spacing -----------------------------------------
for dsn in "host=db password = hunter2" "host=db password= 'hunter 2'" \
    "postgresql://u:hunter2@db/app" "postgresql://db/app?password=hunter2"; do
    config "$work/dsn.yaml" "{ env: ANONETL_HASH_KEY }" "\"$dsn\""
    out=$(ANONETL_HASH_KEY=$KEY "$ANONETL" check -c "$work/dsn.yaml" 2>&1); rc=$?
    if [ "$rc" -eq 2 ] && grep -q 'source.dsn: a DSN written in the file must not contain a password' <<<"$out" &&
        ! grep -q hunter <<<"$out"; then
        ok "literal DSN \"$dsn\": refused (exit 2), the DSN not shown"
    else
        not_ok "literal DSN \"$dsn\": refused" "exit $rc: $out"
    fi
done

# --- during a run: no raw key in memory or environment, no core, not dumpable ---------------
# A session holds a lock on the source table, so the run waits in its first read of it,
# long after the key was loaded. The lock is taken before the run starts (polled: a fixed
# sleep let a slow holder lose the race, and the run read the table unblocked) and held
# until the test has looked (a lock of a fixed 8 s could end before a slow run got there).
lock_held() {
    [ "$(S -tAc "SELECT count(*) FROM pg_locks WHERE relation = 'public.items'::regclass AND mode = 'AccessExclusiveLock' AND granted")" = 1 ]
}
hold_lock() {
    PGAPPNAME=lock_holder S -c "BEGIN; LOCK TABLE public.items IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(600); COMMIT;" \
        >/dev/null 2>&1 &
    holder=$!
    poll_until 60 lock_held || not_ok "the lock on public.items was taken"
}
release_lock() { # ends the holder's session: its transaction, and the lock, with it
    S -tAc "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'lock_holder'" >/dev/null
    wait "$holder" 2>/dev/null
}
anonetl_waits() { # prints the pid of the anonetl started by this test once it waits on the lock
    local pid
    pid=$(pgrep -n -f "$ANONETL run -c $cfg") || return 1
    [ -n "$(S -tAc "SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' LIMIT 1")" ] || return 1
    echo "$pid"
}
wait_for_anonetl() { poll_until 60 anonetl_waits; }
KEY=$(openssl rand -hex 32)
hold_lock
# started with core files allowed: the process itself must take them away
(ulimit -c unlimited; ANONETL_HASH_KEY=$KEY exec "$ANONETL" run -c "$cfg" --skip-preflight) \
    >"$work/held.log" 2>&1 &
runner=$!
if pid=$(wait_for_anonetl); then
    found=$(python3 - "$pid" "$KEY" <<'PY'
import re, sys
pid, key = sys.argv[1], sys.argv[2].encode()
hits = 0
with open(f"/proc/{pid}/maps") as maps, open(f"/proc/{pid}/mem", "rb", 0) as mem:
    for line in maps:
        m = re.match(r"([0-9a-f]+)-([0-9a-f]+) (\S+)", line)
        if not m or not m.group(3).startswith("r"):
            continue
        start, end = int(m.group(1), 16), int(m.group(2), 16)
        if end - start > (1 << 30):
            continue
        try:
            mem.seek(start)
            data = mem.read(end - start)
        except OSError:
            continue
        hits += data.count(key) + data.count(key[:32])
print(hits)
PY
)
    expect_eq "during the run: the raw key is nowhere in the process memory" 0 "$found"
    expect_eq "during the run: the key is gone from the process environment" 0 \
        "$(tr '\0' '\n' <"/proc/$pid/environ" | grep -c "$KEY")"
    expect_eq "during the run: no core file (RLIMIT_CORE 0)" "0 0" \
        "$(awk '/^Max core file size/ { print $5, $6 }' "/proc/$pid/limits")"
else
    not_ok "the held run did not start waiting" "$(cat "$work/held.log")"
fi
release_lock
wait "$runner"
expect_eq "the held run finishes once the lock goes" 0 "$?"

# As an ordinary user: another process of that user cannot read the run's environment.
cp "$ANONETL" "$work/anonetl" && chmod 755 "$work/anonetl"
chmod 644 "$cfg"
hold_lock
runuser -u nobody -- env ANONETL_HASH_KEY="$KEY" SOURCE_DATABASE_URL="$SOURCE_DATABASE_URL" \
    TARGET_DATABASE_URL="$TARGET_DATABASE_URL" "$work/anonetl" run -c "$cfg" --skip-preflight \
    >/dev/null 2>&1 &
runner=$!
ANONETL=$work/anonetl
if pid=$(wait_for_anonetl); then
    if runuser -u nobody -- cat "/proc/$pid/environ" >/dev/null 2>&1; then
        not_ok "as the same user, another process cannot read the run's environment (not dumpable)"
    else
        ok "as the same user, another process cannot read the run's environment (not dumpable)"
    fi
else
    not_ok "the run as nobody did not start waiting"
fi
release_lock
wait "$runner"

done_testing
