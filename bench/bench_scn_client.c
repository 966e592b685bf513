/*
 * bench-scn-client: libscentience as an application uses it. Every frame
 * is parsed into the typed view by the session and delivered to on_frame,
 * which reads one compound (and, by mode, the send stamp or SEQ).
 *
 * Inline mode (default) runs the loop on this thread with callbacks as
 * messages arrive; --manual uses the bounded inbound queue, the loop on its
 * own thread and scn_session_dispatch() here, the configuration a slow
 * application would pick.
 */
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <scentience/error.h>
#include <scentience/frame.h>
#include <scentience/loop.h>
#include <scentience/session.h>
#include <scentience/timer.h>

#include "bench_common.h"

#define CHECK_EVERY 64 /* frames between clock reads in ingest mode */

/* Inbound caps of the slow-consumer workload, set explicitly so that the
 * memory bound it checks is the one configured here. */
#define SLOW_QUEUE_MSGS  256
#define SLOW_QUEUE_BYTES (1u << 20)
#define SLOW_MAX_MESSAGE (64u << 10)

static struct {
    bench_args a;
    scn_loop *loop;
    atomic_bool done;
    uint64_t frames;
    int64_t t0_ns, t1_ns;
    double cpu0, cpu1;
    long rss0;
    unsigned connections;
    volatile double touched; /* keeps the read field alive */
    bench_samples lat, rec;
} C;

static void finish(void)
{
    if (atomic_exchange(&C.done, true))
        return;
    C.t1_ns = bench_mono_ns();
    C.cpu1 = bench_cpu_s();
    /* Inline mode: scn_loop_run() returns; manual mode: the dispatch loop
     * sees done. */
    if (!C.a.manual_dispatch)
        scn_loop_stop(C.loop);
}

static int64_t stamp(const scn_frame *f, const char *key)
{
    const char *raw = scn_frame_raw(f, key);

    return raw ? strtoll(raw, NULL, 10) : -1;
}

static void on_frame(scn_session *s, const scn_frame *f, void *user)
{
    int64_t now;
    uint64_t seq;

    (void)s;
    (void)user;
    if (atomic_load(&C.done))
        return;
    C.touched += scn_frame_compound(f, SCN_NH3, SCN_CHANNEL_SINGLE);
    if (C.frames++ == 0) {
        C.t0_ns = bench_mono_ns();
        C.cpu0 = bench_cpu_s();
        C.rss0 = bench_rss_kib();
    }
    switch (C.a.mode) {
    case BENCH_LATENCY:
        now = bench_mono_ns();
        bench_samples_add(&C.lat, now - stamp(f, BENCH_SENT_KEY));
        if (now - C.t0_ns >= (int64_t)(C.a.seconds * 1e9))
            finish();
        return;
    case BENCH_RECONNECT:
        /* SEQ restarts at 1 on every connection: its first frame. The
         * first connection is not a reconnect (the client started after
         * the server). */
        if (scn_frame_seq(f, &seq) == 0 && seq == 1) {
            if (C.connections++ > 0)
                bench_samples_add(&C.rec,
                                  bench_mono_ns() - stamp(f, BENCH_LISTEN_KEY));
            if (C.connections > C.a.reconnects)
                finish();
        }
        return;
    case BENCH_SLOW:
        if (C.a.sleep_us) {
            struct timespec ts = {0, (long)C.a.sleep_us * 1000};

            nanosleep(&ts, NULL);
        }
        break;
    case BENCH_INGEST:
        break;
    }
    if (C.frames % CHECK_EVERY == 0 &&
        bench_mono_ns() - C.t0_ns >= (int64_t)(C.a.seconds * 1e9))
        finish();
}

static void on_state(scn_session *s, const scn_state_event *ev, void *user)
{
    (void)s;
    (void)user;
    /* Without a reconnect policy to measure, a lost link ends the run. */
    if (C.a.mode != BENCH_RECONNECT && ev->state == SCN_STATE_RECONNECTING &&
        C.frames)
        finish();
    if (ev->state == SCN_STATE_FAILED)
        finish();
}

static void time_limit(scn_timer *t, void *user)
{
    (void)t;
    (void)user;
    finish();
}

static void run_manual(scn_session *s, int64_t limit_ns)
{
    struct timespec idle = {0, 100000};

    /* The loop reads on its thread into the bounded queue; this thread is
     * the slow application. */
    scn_loop_start(C.loop);
    while (!atomic_load(&C.done)) {
        if (scn_session_dispatch(s, 1) == 0)
            nanosleep(&idle, NULL);
        if (bench_mono_ns() > limit_ns)
            finish();
    }
    scn_loop_stop(C.loop);
}

int main(int argc, char **argv)
{
    scn_session_options o;
    scn_session_stats st;
    scn_session *s = NULL;
    scn_timer *limit = NULL;
    bench_result r;
    char extra[512];
    double hard_s;
    int rc;

    if (bench_parse_args(argc, argv, "bench-scn-client", &C.a))
        return 64;
    if (scn_loop_new(NULL, &C.loop))
        return 70;
    scn_session_options_init(&o);
    o.url = C.a.url;
    o.no_key = 1;
    o.random_seed = 1;
    o.callbacks.on_frame = on_frame;
    o.callbacks.on_state = on_state;
    if (C.a.mode == BENCH_RECONNECT) {
        /* The smallest schedule the policy takes: 0 means "default", so
         * 1 ms is the floor; full jitter then waits 0 or 1 ms. */
        o.backoff.initial_ms = 1;
        o.backoff.max_ms = 1;
        o.backoff.factor = 1.0;
    }
    if (C.a.mode == BENCH_SLOW) {
        o.inbound_queue_msgs = SLOW_QUEUE_MSGS;
        o.inbound_queue_bytes = SLOW_QUEUE_BYTES;
        o.max_message_bytes = SLOW_MAX_MESSAGE;
    }
    o.manual_dispatch = C.a.manual_dispatch;
    rc = scn_session_new(C.loop, &o, &s);
    if (rc) {
        fprintf(stderr, "bench-scn-client: %s\n", scn_strerror(rc));
        return 70;
    }
    /* The window starts at the first frame; allow for getting there. */
    hard_s = C.a.mode == BENCH_RECONNECT ? C.a.seconds : C.a.seconds + 10;
    if (C.a.manual_dispatch) {
        run_manual(s, bench_mono_ns() + (int64_t)(hard_s * 1e9));
    } else {
        if (scn_timer_new(C.loop, time_limit, NULL, &limit) == 0)
            scn_timer_start(limit, (uint64_t)(hard_s * 1000));
        scn_loop_run(C.loop);
    }
    if (!C.t1_ns)
        finish();

    scn_session_get_stats(s, &st);
    snprintf(
        extra, sizeof(extra),
        ",\"dispatch\":\"%s\",\"frames_in\":%llu,\"malformed_in\":%llu,"
        "\"seq_gaps\":%llu,\"rx_pauses\":%llu,\"dropped_inbound\":%llu,"
        "\"connect_attempts\":%llu,\"caps_bytes\":%zu",
        C.a.manual_dispatch ? "manual" : "inline",
        (unsigned long long)st.frames_in, (unsigned long long)st.malformed_in,
        (unsigned long long)st.seq_gaps, (unsigned long long)st.rx_pauses,
        (unsigned long long)st.dropped_inbound,
        (unsigned long long)st.connect_attempts,
        C.a.mode == BENCH_SLOW ? (size_t)(SLOW_QUEUE_BYTES + SLOW_MAX_MESSAGE)
                               : (size_t)0);
    memset(&r, 0, sizeof(r));
    r.client = "scn";
    r.mode = C.a.mode;
    r.frames = C.frames;
    r.seconds = C.frames ? (C.t1_ns - C.t0_ns) / 1e9 : 0;
    r.cpu_s = C.frames ? C.cpu1 - C.cpu0 : 0;
    r.rss_start_kib = C.rss0;
    r.peak_rss_kib = bench_peak_rss_kib();
    r.connections = C.a.mode == BENCH_RECONNECT ? C.connections : 0;
    r.latency = C.a.mode == BENCH_LATENCY ? &C.lat : NULL;
    r.reconnect = C.a.mode == BENCH_RECONNECT ? &C.rec : NULL;
    r.extra_json = extra;
    bench_print_result(&r);

    scn_timer_free(limit);
    scn_session_free(s);
    scn_loop_free(C.loop);
    bench_samples_free(&C.lat);
    bench_samples_free(&C.rec);
    return C.frames ? 0 : 1;
}
