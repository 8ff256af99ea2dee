# shellcheck shell=bash
# tests/lib/poll.sh: wait for a state instead of sleeping and hoping (sourced).
#
#   poll_until SECONDS command...   true as soon as the command succeeds (tried every
#                                   0.1 s), false once SECONDS have passed without it
#   gate_sql FILE                   SQL that waits, in the session running it, until FILE
#                                   exists: a transaction held open until the test says
#                                   (touch FILE), however slow the machine. It reads FILE
#                                   with pg_stat_file: run it as a superuser, with FILE in
#                                   a directory the server's user can enter.
#   reload_conf PSQL                pg_reload_conf() through PSQL (a function: S, T), then
#                                   wait until new sessions run with the reloaded files
#
# Tests run on a loaded 2-core machine next to other suites: a fixed sleep is no proof
# that a background session reached a state, and a window of a few seconds may close
# before a slow run gets there. Deadlines here are generous: a broken product still fails
# them (it never reaches the state), a slow one no longer does.

poll_until() { # SECONDS command...
    local deadline=$((SECONDS + $1))
    shift
    while :; do
        "$@" && return 0
        [ "$SECONDS" -le "$deadline" ] || return 1
        sleep 0.1
    done
}

gate_sql() { # FILE
    printf "DO \$gate\$ BEGIN WHILE pg_catalog.pg_stat_file('%s', true) IS NULL LOOP PERFORM pg_catalog.pg_sleep(0.05); END LOOP; END \$gate\$;\n" "$1"
}

# pg_reload_conf() only signals the postmaster, which rereads the files on its own time:
# a session opened right after may still start with the old settings. A new session's
# pg_conf_load_time() is the postmaster's, so once it moves, every later session has them.
reload_conf() { # PSQL
    local before
    before=$("$1" -tAc "SELECT pg_conf_load_time()") || return 1
    "$1" -c "SELECT pg_reload_conf()" >/dev/null || return 1
    poll_until 60 reload__seen "$1" "$before"
}
reload__seen() { [ "$("$1" -tAc "SELECT pg_conf_load_time() > '$2'::timestamptz")" = t ]; }
