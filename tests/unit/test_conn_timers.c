/* One connection's deadlines: request head, idle, ping and dead peer,
 * closing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "conn_timers.h"

static const scn_conn_limits limits = {
    .request_ms = 10000, .ping_ms = 1000, .pong_ms = 2000, .close_ms = 5000};

static void test_request_deadline(void **state)
{
    scn_conn_clock c = {0};
    uint64_t next;

    (void)state;
    scn__conn_clock_phase(&c, SCN_PHASE_HTTP, 100);
    assert_int_equal(scn__conn_timers_check(&c, &limits, 5000, &next),
                     SCN_DUE_NONE);
    assert_int_equal(next, 10100);
    /* Bytes trickling in do not extend it. */
    scn__conn_clock_rx(&c, 9000);
    assert_int_equal(scn__conn_timers_check(&c, &limits, 10100, &next),
                     SCN_DUE_REQUEST_TIME);
}

static void test_ping_then_dead(void **state)
{
    scn_conn_clock c = {0};
    uint64_t next;

    (void)state;
    scn__conn_clock_phase(&c, SCN_PHASE_WS, 0);
    assert_int_equal(scn__conn_timers_check(&c, &limits, 999, &next),
                     SCN_DUE_NONE);
    assert_int_equal(next, 1000);
    assert_int_equal(scn__conn_timers_check(&c, &limits, 1000, &next),
                     SCN_DUE_PING);
    c.ping_ms = 1000;
    assert_int_equal(scn__conn_timers_check(&c, &limits, 2999, &next),
                     SCN_DUE_NONE);
    assert_int_equal(next, 3000);
    assert_int_equal(scn__conn_timers_check(&c, &limits, 3000, &next),
                     SCN_DUE_DEAD);
    /* An answer (any byte) in time: alive, and the next ping is a full
     * interval later. */
    c.ping_ms = 1000;
    scn__conn_clock_rx(&c, 2500);
    assert_int_equal(c.ping_ms, 0);
    assert_int_equal(scn__conn_timers_check(&c, &limits, 3000, &next),
                     SCN_DUE_NONE);
    assert_int_equal(next, 3500);
}

static void test_idle(void **state)
{
    scn_conn_clock c = {0};
    scn_conn_limits nopings = limits;
    uint64_t next;

    (void)state;
    nopings.ping_ms = 0;
    scn__conn_clock_phase(&c, SCN_PHASE_WS, 0);
    /* No limit: never idle. */
    assert_int_equal(scn__conn_timers_check(&c, &nopings, 1000000, &next),
                     SCN_DUE_NONE);
    assert_int_equal(next, UINT64_MAX);
    c.idle_ms = 10000;
    scn__conn_clock_rx(&c, 9000); /* bytes are not messages */
    assert_int_equal(scn__conn_timers_check(&c, &nopings, 10000, &next),
                     SCN_DUE_IDLE);
    scn__conn_clock_message(&c, 9500);
    assert_int_equal(scn__conn_timers_check(&c, &nopings, 10000, &next),
                     SCN_DUE_NONE);
    assert_int_equal(next, 19500);
    /* A dead peer is the more severe answer. */
    c.ping_ms = 1;
    assert_int_equal(scn__conn_timers_check(&c, &limits, 30000, &next),
                     SCN_DUE_DEAD);
}

static void test_closing(void **state)
{
    scn_conn_clock c = {0};
    uint64_t next;

    (void)state;
    scn__conn_clock_phase(&c, SCN_PHASE_CLOSING, 50);
    assert_int_equal(scn__conn_timers_check(&c, &limits, 5049, &next),
                     SCN_DUE_NONE);
    assert_int_equal(next, 5050);
    assert_int_equal(scn__conn_timers_check(&c, &limits, 5050, NULL),
                     SCN_DUE_CLOSE_TIME);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_request_deadline),
        cmocka_unit_test(test_ping_then_dead),
        cmocka_unit_test(test_idle),
        cmocka_unit_test(test_closing),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
