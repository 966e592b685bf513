/*
 * Streaming against a real scn-sim: completeness and order, recovery from a
 * killed and restarted device, a stalled (half-open) link, malformed and
 * oversize messages, and the stream request restored after reconnects.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "client.h"

#define KEY "SCN_TEST_stream0000000000001"

typedef struct fixture {
    sim_proc sim;
    client c;
    scn_session_options o;
} fixture;

static int start(void **state, const char *const *args)
{
    fixture *f = calloc(1, sizeof(*f));

    *state = f;
    if (!f || sim_start(&f->sim, 0, args) != 0)
        return -1;
    if (client_init(&f->c, "stream", &f->o) != 0)
        return -1;
    f->o.url = f->sim.url;
    f->o.api_key = KEY;
    f->o.backoff.initial_ms = 100;
    f->o.backoff.max_ms = 300;
    return 0;
}

static int setup_fast(void **state)
{
    const char *args[] = {"--rate", "1000", NULL};
    return start(state, args);
}

static int setup_normal(void **state)
{
    const char *args[] = {"--rate", "50", "--stall-for", "30", NULL};
    return start(state, args);
}

static int setup_faulty(void **state)
{
    const char *args[] = {
        "--rate", "200", "--malformed-every", "7", "--oversize-every",
        "50",     NULL};
    return start(state, args);
}

static int teardown(void **state)
{
    fixture *f = *state;

    client_free(&f->c);
    sim_stop(&f->sim);
    free(f);
    return 0;
}

static void test_thousands_complete_and_in_order(void **state)
{
    fixture *f = *state;
    scn_session_stats st;

    assert_int_equal(client_connect(&f->c, &f->o), 0);
    assert_true(client_wait_frames(&f->c, 3000, 30000));
    scn_session_get_stats(f->c.s, &st);
    assert_int_equal(f->c.seq_errors, 0);
    assert_int_equal(st.seq_gaps, 0);
    assert_int_equal(st.malformed_in, 0);
    assert_int_equal(st.reconnects, 0);
    assert_int_equal(st.discontinuities, 0);
    assert_int_equal(f->c.gaps, 0);
    assert_int_equal(f->c.opens, 1);
    assert_true(f->c.last_seq >= 3000);
}

static void test_device_killed_and_restarted(void **state)
{
    fixture *f = *state;
    scn_session_stats st;
    uint64_t before;
    int i;

    assert_int_equal(client_connect(&f->c, &f->o), 0);
    assert_true(client_wait_frames(&f->c, 20, 5000));
    sim_kill(&f->sim);
    i = client_wait_state(&f->c, SCN_STATE_RECONNECTING, 0, 5000);
    assert_true(i >= 0);
    assert_int_equal(f->c.events[i].reason, SCN_ERR_NETWORK);
    /* A few refused attempts while the device is down. */
    run_for(f->c.loop, 700);
    assert_int_equal(sim_restart(&f->sim), 0);
    before = f->c.frames;
    assert_true(client_wait_state(&f->c, SCN_STATE_OPEN, i, 5000) >= 0);
    assert_true(client_wait_frames(&f->c, before + 20, 5000));
    scn_session_get_stats(f->c.s, &st);
    assert_int_equal(st.reconnects, 1);
    assert_true(st.connect_attempts >= 3);
    assert_int_equal(f->c.seq_errors, 0);
    /* SEQ restarted: no seq gap, but the hole is reported once, just
     * before the first frame after it, with the time it lasted. */
    assert_int_equal(st.seq_gaps, 0);
    assert_int_equal(f->c.gaps, 1);
    assert_int_equal(st.discontinuities, 1);
    assert_int_equal(f->c.last_gap.reconnects, 1);
    assert_true(f->c.last_gap.gap_ms >= 700);
    assert_int_equal(st.discontinuity_ms, f->c.last_gap.gap_ms);
    assert_true(f->c.last_gap.last_seq >= 20);
    assert_true(f->c.last_gap.first_seq < f->c.last_gap.last_seq);
    assert_true(f->c.last_gap.first_ns > f->c.last_gap.last_ns);
    assert_int_equal(f->c.frames_at_gap, before);
}

static void test_stalled_link_detected(void **state)
{
    fixture *f = *state;
    uint64_t before;
    int i;

    f->o.ping_interval_ms = 300;
    f->o.idle_timeout_ms = 1000;
    assert_int_equal(client_connect(&f->c, &f->o), 0);
    assert_true(client_wait_frames(&f->c, 10, 5000));
    /* The device stops reading and writing but keeps TCP up: only the
     * keepalive can tell. */
    assert_int_equal(sim_signal(&f->sim, SIGUSR1), 0);
    i = client_wait_state(&f->c, SCN_STATE_RECONNECTING, 0, 5000);
    assert_true(i >= 0);
    assert_int_equal(f->c.events[i].reason, SCN_ERR_DEAD_PEER);
    before = f->c.frames;
    assert_true(client_wait_state(&f->c, SCN_STATE_OPEN, i, 5000) >= 0);
    assert_true(client_wait_frames(&f->c, before + 10, 5000));
}

static void test_malformed_and_oversize_survived(void **state)
{
    fixture *f = *state;
    scn_session_stats st;

    f->o.max_message_bytes = 64 * 1024;
    assert_int_equal(client_connect(&f->c, &f->o), 0);
    assert_true(client_wait_frames(&f->c, 200, 15000));
    scn_session_get_stats(f->c.s, &st);
    /* Malformed frames are counted and dropped; the session stays. */
    assert_true(st.malformed_in >= 5);
    /* The 2 MiB message is refused (1009) and the session reconnects. */
    assert_true(st.oversize_in >= 1);
    assert_true(st.reconnects >= 1);
    bool saw_too_big = false;
    for (int i = 0; i < f->c.nevents; i++)
        if (f->c.events[i].state == SCN_STATE_RECONNECTING &&
            f->c.events[i].reason == SCN_ERR_MESSAGE_TOO_BIG)
            saw_too_big = true;
    assert_true(saw_too_big);
    /* The device saw the client come back. (Whether it also read our 1009
     * close frame depends on TCP: it is busy writing the 2 MiB message.) */
    assert_true(sim_wait_log(&f->sim, "\"event\":\"connect\"", 2, 2000) >= 2);
}

static void test_stream_request_restored_after_reconnect(void **state)
{
    fixture *f = *state;
    int i;

    f->o.stream_rate_hz = 20;
    assert_int_equal(client_connect(&f->c, &f->o), 0);
    assert_true(client_wait_frames(&f->c, 5, 5000));
    assert_int_equal(sim_signal(&f->sim, SIGUSR2), 0);
    i = client_wait_state(&f->c, SCN_STATE_RECONNECTING, 0, 5000);
    assert_true(i >= 0);
    assert_true(client_wait_state(&f->c, SCN_STATE_OPEN, i, 5000) >= 0);
    run_for(f->c.loop, 500);
    /* One stream request per connection, as the device forgets it. */
    assert_int_equal(sim_log_count(&f->sim, "\\\"rate_hz\\\":20"), 2);
}

/* Manual dispatch: frames of the old connection still queued when the new
 * one opened are dispatched first, and the hole is reported where it is,
 * between them and the new connection's first frame. */
static void test_discontinuity_in_manual_dispatch(void **state)
{
    fixture *f = *state;
    int i;

    f->o.manual_dispatch = 1;
    assert_int_equal(client_connect(&f->c, &f->o), 0);
    for (int k = 0; k < 200 && f->c.frames < 5; k++) {
        run_for(f->c.loop, 20);
        scn_session_dispatch(f->c.s, 100);
    }
    assert_true(f->c.frames >= 5);
    /* Not dispatching from here on: both connections' frames queue. */
    run_for(f->c.loop, 300);
    assert_int_equal(sim_signal(&f->sim, SIGUSR2), 0);
    i = client_wait_state(&f->c, SCN_STATE_RECONNECTING, 0, 5000);
    assert_true(i >= 0);
    assert_true(client_wait_state(&f->c, SCN_STATE_OPEN, i, 5000) >= 0);
    run_for(f->c.loop, 300);
    while (scn_session_dispatch(f->c.s, 100) > 0)
        ;
    assert_int_equal(f->c.gaps, 1);
    assert_int_equal(f->c.last_gap.reconnects, 1);
    assert_true(f->c.last_gap.last_seq >= 5);
    assert_true(f->c.last_gap.first_seq < f->c.last_gap.last_seq);
    assert_true(f->c.frames > f->c.frames_at_gap);
}

static void test_sample_request(void **state)
{
    fixture *f = *state;
    uint64_t before;

    assert_int_equal(client_connect(&f->c, &f->o), 0);
    assert_true(client_wait_state(&f->c, SCN_STATE_OPEN, 0, 5000) >= 0);
    assert_int_equal(scn_session_request_stream(f->c.s, 0, 0), 0);
    run_for(f->c.loop, 300);
    before = f->c.frames;
    run_for(f->c.loop, 300);
    assert_int_equal(f->c.frames, before); /* stream is off */
    assert_int_equal(scn_session_request_sample(f->c.s), 0);
    assert_true(client_wait_frames(&f->c, before + 1, 3000));
    run_for(f->c.loop, 200);
    assert_int_equal(f->c.frames, before + 1);
    /* Requests outside the protocol's range never leave the client. */
    assert_int_equal(scn_session_request_stream(f->c.s, 1, 5000),
                     SCN_ERR_OUT_OF_RANGE);
}

static void test_graceful_close(void **state)
{
    fixture *f = *state;

    assert_int_equal(client_connect(&f->c, &f->o), 0);
    assert_true(client_wait_frames(&f->c, 3, 5000));
    assert_int_equal(scn_session_close(f->c.s), 0);
    assert_int_equal(scn_session_close(f->c.s), SCN_ERR_STATE);
    assert_true(client_wait_state(&f->c, SCN_STATE_CLOSED, 0, 5000) >= 0);
    assert_int_equal(scn_session_send(f->c.s, SCN_LANE_CONTROL, "{}", 2),
                     SCN_ERR_STATE);
    run_for(f->c.loop, 300);
    assert_true(sim_wait_log(&f->sim, "\"code\":1000", 1, 2000) >= 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_thousands_complete_and_in_order,
                                        setup_fast, teardown),
        cmocka_unit_test_setup_teardown(test_device_killed_and_restarted,
                                        setup_normal, teardown),
        cmocka_unit_test_setup_teardown(test_stalled_link_detected,
                                        setup_normal, teardown),
        cmocka_unit_test_setup_teardown(test_malformed_and_oversize_survived,
                                        setup_faulty, teardown),
        cmocka_unit_test_setup_teardown(
            test_stream_request_restored_after_reconnect, setup_normal,
            teardown),
        cmocka_unit_test_setup_teardown(test_discontinuity_in_manual_dispatch,
                                        setup_normal, teardown),
        cmocka_unit_test_setup_teardown(test_sample_request, setup_normal,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_graceful_close, setup_normal,
                                        teardown),
    };
    unsetenv("SCENTIENCE_API_KEY");
    return cmocka_run_group_tests(tests, NULL, NULL);
}
