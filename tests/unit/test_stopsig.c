/* test_stopsig.c: the stop flag and its watcher (etl/stopsig): before a signal no
 * statement is refused; after SIGTERM the run is stopping (pgconn starts no new statement)
 * until its work ends, when the watcher thread is joined and the statements that record the
 * failed run may run again; the signal stays known. Nothing here connects: a session that
 * is not connected has nothing to cancel and is not watched. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <signal.h>
#include <string.h>

#include "etl/stopsig.h"

static void test_stop_lifecycle(void **state)
{
    PGconn *idle;

    (void)state;
    /* before install: nothing watched, nothing refused */
    stopsig_watch(NULL, "source");
    assert_int_equal(stopsig_received(), 0);
    assert_false(stopsig_cancelling());

    stopsig_install();
    stopsig_install(); /* once: a second call starts no second watcher */
    idle = PQconnectStart("host=/nonexistent-socket-dir connect_timeout=1");
    stopsig_watch(idle, "source"); /* not connected: no cancel key, not kept */
    assert_false(stopsig_cancelling());

    /* the handler runs before raise returns on this thread */
    assert_int_equal(raise(SIGTERM), 0);
    assert_int_equal(stopsig_received(), SIGTERM);
    assert_string_equal(stopsig_name(stopsig_received()), "SIGTERM");
    assert_true(stopsig_cancelling());

    /* the work ends: the watcher (cancelling every second meanwhile) is joined */
    stopsig_work_done();
    assert_false(stopsig_cancelling());
    assert_int_equal(stopsig_received(), SIGTERM);
    stopsig_work_done();                /* twice: a no-op */
    assert_null(stopsig_unreachable()); /* no cancel went unanswered: nothing was cut */

    stopsig_unwatch(idle);
    PQfinish(idle);
}

static void test_names(void **state)
{
    (void)state;
    assert_string_equal(stopsig_name(SIGINT), "SIGINT");
    assert_string_equal(stopsig_name(SIGTERM), "SIGTERM");
    assert_string_equal(stopsig_name(SIGHUP), "a signal");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_stop_lifecycle),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
