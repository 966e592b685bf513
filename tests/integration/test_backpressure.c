/*
 * Backpressure against a real scn-sim: a consumer that stops dispatching
 * keeps memory bounded (reading pauses, then resumes), and many threads
 * sending at once lose nothing on the control lane while the loop runs on
 * its own thread.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "client.h"

#define KEY        "SCN_TEST_backpressure000001"
#define THREADS    8
#define PER_THREAD 400

typedef struct fixture {
    sim_proc sim;
    client c;
    scn_session_options o;
    atomic_uint_fast64_t written; /* on_written calls (loop thread) */
    /* test_run_once_beside_a_dispatch_callback */
    atomic_int inside;   /* the dispatching thread is in its callback */
    atomic_int released; /* ...and may return */
    int inner_rc;        /* scn_loop_run_once from inside that callback */
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    const char *args[] = {"--rate", "1000", NULL};

    *state = f;
    if (!f || sim_start(&f->sim, 0, args) != 0)
        return -1;
    if (client_init(&f->c, "backpressure", &f->o) != 0)
        return -1;
    f->o.url = f->sim.url;
    f->o.api_key = KEY;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    int rc;

    scn_loop_stop(f->c.loop);
    client_free(&f->c);
    rc = sim_stop(&f->sim);
    free(f);
    return rc;
}

static bool reading_paused(void *arg)
{
    scn_session_stats st;

    scn_session_get_stats(((client *)arg)->s, &st);
    return st.rx_pauses >= 1;
}

static void test_slow_consumer_bounded(void **state)
{
    fixture *f = *state;
    scn_session_stats st;
    uint64_t end;
    int delivered = 0;

    f->o.manual_dispatch = 1;
    f->o.inbound_queue_msgs = 64;
    f->o.inbound_queue_bytes = 64 * 1024;
    assert_int_equal(client_connect(&f->c, &f->o), 0);
    /* The application does not dispatch: the queue fills, reading pauses,
     * and stays paused while nobody dispatches. */
    assert_true(run_until(f->c.loop, reading_paused, &f->c, 10000));
    run_for(f->c.loop, 300);
    scn_session_get_stats(f->c.s, &st);
    assert_int_equal(st.rx_pauses, 1);
    assert_true(st.inbound_queued_msgs >= 64);
    assert_true(st.inbound_queued_msgs <= 64 + 16);
    assert_int_equal(st.dropped_inbound, 0);
    assert_int_equal(f->c.frames, 0);

    /* Catching up resumes reading: far more than the queue arrives. */
    end = deadline_ms(f->c.loop, 20000);
    while (delivered <= 300 && scn_loop_now_ms(f->c.loop) < end) {
        int n = scn_session_dispatch(f->c.s, 16);
        assert_true(n >= 0);
        delivered += n;
        run_for(f->c.loop, 10);
    }
    assert_true(delivered > 300);
    /* Everything dispatched reached a callback: frames plus the hello. */
    assert_int_equal((uint64_t)delivered, f->c.frames + f->c.messages);
    scn_session_get_stats(f->c.s, &st);
    assert_int_equal(st.dropped_inbound, 0);
    assert_true(st.inbound_queued_msgs <= 64 + 16);
    assert_int_equal(scn_session_dispatch(NULL, 1), SCN_ERR_INVALID_ARG);
}

/* A control message the simulator logs, numbered by sender and index. */
static int flood_msg(char *buf, size_t cap, int id, int i)
{
    return snprintf(buf, cap, "{\"type\":\"flood\",\"t\":%d,\"i\":%d}", id, i);
}

typedef struct sender {
    scn_session *s;
    int id;
    int accepted;
    int retries;
} sender;

static void *send_many(void *arg)
{
    sender *w = arg;
    char msg[96];

    for (int i = 0; i < PER_THREAD; i++) {
        int len = flood_msg(msg, sizeof(msg), w->id, i);
        int rc;

        /* A full control lane refuses, it never drops: the caller decides
         * to wait and retry. */
        while ((rc = scn_session_send(w->s, SCN_LANE_CONTROL, msg,
                                      (size_t)len)) == SCN_ERR_QUEUE_FULL) {
            w->retries++;
            usleep(500);
        }
        if (rc == 0)
            w->accepted++;
    }
    return NULL;
}

/* Open and reading (scn_session_state() is the loop thread's). */
static bool receiving(scn_session *s)
{
    scn_session_stats st;

    scn_session_get_stats(s, &st);
    return st.messages_in > 0;
}

static void test_flood_from_threads_loses_no_control(void **state)
{
    fixture *f = *state;
    pthread_t th[THREADS];
    sender w[THREADS];
    scn_session_stats st;
    char msg[96];
    int total = 0, len;
    uint64_t retries = 0;

    f->o.control_queue_msgs = 64; /* small, to force refusals */
    assert_int_equal(client_connect(&f->c, &f->o), 0);
    /* With the loop not running yet, the lane takes exactly its 64 and
     * refuses the next one: refused, counted, never dropped. */
    for (int i = 0; i <= 64; i++) {
        len = flood_msg(msg, sizeof(msg), THREADS, i);
        assert_int_equal(
            scn_session_send(f->c.s, SCN_LANE_CONTROL, msg, (size_t)len),
            i < 64 ? 0 : SCN_ERR_QUEUE_FULL);
    }
    total = 64;
    scn_session_get_stats(f->c.s, &st);
    assert_int_equal(st.rejected_control, 1);
    assert_int_equal(scn_loop_start(f->c.loop), 0);
    assert_int_equal(scn_loop_start(f->c.loop), SCN_ERR_STATE);
    assert_int_equal(scn_loop_run_once(f->c.loop, 1), SCN_ERR_STATE);
    for (uint32_t t = 0; t < scaled_ms(10000) && !receiving(f->c.s); t += 50)
        usleep(50 * 1000);
    assert_true(receiving(f->c.s));

    for (int i = 0; i < THREADS; i++) {
        w[i] = (sender){.s = f->c.s, .id = i};
        assert_int_equal(pthread_create(&th[i], NULL, send_many, &w[i]), 0);
    }
    for (int i = 0; i < THREADS; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(w[i].accepted, PER_THREAD);
        total += w[i].accepted;
        retries += (uint64_t)w[i].retries;
    }
    /* Every message reaches the device, once. */
    sim_wait_log(&f->sim, "\"type\\\":\\\"flood", total, 10000);
    assert_int_equal(sim_log_count(&f->sim, "\"type\\\":\\\"flood"), total);
    scn_loop_stop(f->c.loop);
    scn_session_get_stats(f->c.s, &st);
    assert_true(st.messages_out >= (uint64_t)total);
    assert_int_equal(st.dropped_telemetry, 0);
    /* Every refusal a sender met is counted, and only those. */
    assert_int_equal(st.rejected_control, 1 + retries);
}

static void on_written(scn_session *s, uint64_t ticket, void *user)
{
    fixture *f = (fixture *)(void *)((char *)user - offsetof(fixture, c));

    (void)s;
    (void)ticket;
    atomic_fetch_add(&f->written, 1);
}

/* Manual dispatch on this thread while the loop runs on its own: frame
 * callbacks run here while write callbacks run on the loop thread, both
 * through the user-callback guard (build-tsan runs this under
 * ThreadSanitizer, which reports state both touch unsynchronised). */
static void test_dispatch_beside_the_loop_thread(void **state)
{
    fixture *f = *state;
    uint64_t sent = 0, ticket;
    int dispatched = 0;
    char msg[96];

    f->o.manual_dispatch = true;
    f->o.callbacks.on_written = on_written;
    assert_int_equal(client_connect(&f->c, &f->o), 0);
    assert_int_equal(scn_loop_start(f->c.loop), 0);
    for (uint32_t t = 0; t < scaled_ms(10000) && !receiving(f->c.s); t += 50)
        usleep(50 * 1000);
    assert_true(receiving(f->c.s));
    for (int i = 0; i < 300; i++) {
        int len = flood_msg(msg, sizeof(msg), 0, i), n;

        if (scn_session_send_tracked(f->c.s, 0, msg, (size_t)len, &ticket) == 0)
            sent++;
        if ((n = scn_session_dispatch(f->c.s, 64)) > 0)
            dispatched += n;
        usleep(5 * 1000);
    }
    for (uint32_t t = 0;
         t < scaled_ms(10000) && atomic_load(&f->written) < sent; t += 50)
        usleep(50 * 1000);
    scn_loop_stop(f->c.loop);
    assert_true(sent > 0);
    assert_int_equal(atomic_load(&f->written), sent);
    assert_true(dispatched > 0);
    assert_true(f->c.frames > 0);
    /* What was written reached the device. */
    sim_wait_log(&f->sim, "\"type\\\":\\\"flood", (int)sent, 10000);
    assert_int_equal(sim_log_count(&f->sim, "\"type\\\":\\\"flood"), sent);
}

static bool wait_flag(atomic_int *flag, uint32_t timeout_ms)
{
    for (uint32_t t = 0; t < scaled_ms(timeout_ms) && !atomic_load(flag);
         t += 10)
        usleep(10 * 1000);
    return atomic_load(flag) != 0;
}

/* Holds the dispatching thread inside its callback until the test has run
 * the loop on its own thread. */
static void frame_held(scn_session *s, const scn_frame *fr, void *user)
{
    fixture *f = (fixture *)((char *)user - offsetof(fixture, c));

    (void)s;
    (void)fr;
    if (atomic_load(&f->inside))
        return;
    /* This thread is inside a callback: running the loop here recurses. */
    f->inner_rc = scn_loop_run_once(f->c.loop, 0);
    atomic_store(&f->inside, 1);
    wait_flag(&f->released, 10000);
}

static void *dispatch_one(void *arg)
{
    fixture *f = arg;

    /* Typed messages (the hello) go to on_message; the first frame stops. */
    for (uint32_t t = 0; t < scaled_ms(10000) && !atomic_load(&f->inside);
         t += 1)
        if (scn_session_dispatch(f->c.s, 1) == 0)
            usleep(1000);
    return NULL;
}

/* The guard is per thread: while one thread is inside a dispatch
 * callback, the loop still runs on another (it used to be refused with
 * SCN_ERR_RECURSIVE, the guard counting callbacks on every thread). */
static void test_run_once_beside_a_dispatch_callback(void **state)
{
    fixture *f = *state;
    scn_session_stats st;
    pthread_t th;
    int rc;

    f->o.manual_dispatch = true;
    f->o.callbacks.on_frame = frame_held;
    assert_int_equal(client_connect(&f->c, &f->o), 0);
    for (uint32_t t = 0; t < scaled_ms(10000); t += 10) {
        scn_loop_run_once(f->c.loop, 10);
        scn_session_get_stats(f->c.s, &st);
        if (st.inbound_queued_msgs >= 3)
            break;
    }
    assert_true(st.inbound_queued_msgs >= 3);
    assert_int_equal(pthread_create(&th, NULL, dispatch_one, f), 0);
    assert_true(wait_flag(&f->inside, 10000));
    rc = scn_loop_run_once(f->c.loop, 10);
    atomic_store(&f->released, 1);
    pthread_join(th, NULL);
    assert_int_equal(f->inner_rc, SCN_ERR_RECURSIVE);
    assert_int_equal(rc, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_slow_consumer_bounded, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            test_flood_from_threads_loses_no_control, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dispatch_beside_the_loop_thread,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_run_once_beside_a_dispatch_callback, setup, teardown),
    };
    unsetenv("SCENTIENCE_API_KEY");
    return test_exit_code(cmocka_run_group_tests(tests, NULL, NULL));
}
