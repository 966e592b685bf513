/*
 * The live fan-out against real dashboards: Python websockets subscribers
 * (fanout_peer.py) as separate processes on loopback. Each subscriber gets
 * exactly its streams, in order and complete; a stalled one is cut off
 * while a fast one beside it gets everything; a lagging one is told what it
 * lost; garbage gets error answers on a connection that stays usable; a
 * late subscription sees only later messages. The loop runs on the test
 * thread; every wait is bounded; every process is killed and reaped in the
 * teardown.
 */
#include <cjson/cJSON.h>
#include <inttypes.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <scentience/fanout.h>

#include "harness.h"
#include "py_peer.h"

#define MAX_PEERS 8
#define NSTREAMS  5

/* Message i goes to STREAMS[i % NSTREAMS]: the four named streams and one
 * the library has never heard of. */
static const char *const STREAMS[NSTREAMS] = {
    "olfaction", "uav.state", "inference", "events", "x.custom"};

typedef py_peer peer;

typedef struct fixture {
    scn_loop *loop;
    scn_fanout *fo;
    FILE *log;
    peer peers[MAX_PEERS];
    char records[MAX_PEERS][512]; /* what peer i received, a line each */
    int npeers;
    int peer_port;   /* nonzero: peers connect here instead */
    scn_server *srv; /* a second server on the loop, for the free test */
    atomic_bool freed;
} fixture;

/* ------------------------------------------------------------------ */
/* Peers                                                               */
/* ------------------------------------------------------------------ */

/* Starts fanout_peer.py MODE PORT [a1 [a2]]; "@" as an argument stands
 * for the peer's record file. */
static peer *peer_start(fixture *f, const char *mode, const char *a1,
                        const char *a2)
{
    char portbuf[16], name[96];
    const char *args[] = {mode, portbuf, a1, a2, NULL};
    char *record;
    int i;

    assert_true(f->npeers < MAX_PEERS);
    i = f->npeers++;
    record = f->records[i];
    snprintf(name, sizeof(name), "fanout-rec-%d-%d.jsonl", (int)getpid(),
             i + 1);
    test_log_path(name, record, sizeof(f->records[i]));
    unlink(record);
    for (int k = 2; k < 4; k++)
        if (args[k] && strcmp(args[k], "@") == 0)
            args[k] = record;
    snprintf(portbuf, sizeof(portbuf), "%d",
             f->peer_port ? f->peer_port : scn_fanout_port(f->fo));
    snprintf(name, sizeof(name), "fanout-peer-%d.log", (int)getpid());
    return py_peer_start(&f->peers[i], "fanout_peer.py", name, args) == 0
               ? &f->peers[i]
               : NULL;
}

static const char *record_of(const fixture *f, const peer *p)
{
    return f->records[p - f->peers];
}

static void pump_all(fixture *f, uint32_t ms)
{
    py_peers_pump(f->loop, f->peers, f->npeers, ms);
}

static bool peer_wait(fixture *f, peer *p, const char *needle,
                      uint32_t timeout_ms)
{
    return py_peer_wait(f->loop, f->peers, f->npeers, p, needle, timeout_ms);
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    scn_loop_options lo;
    char path[512], name[96];

    *state = f;
    if (!f)
        return -1;
    snprintf(name, sizeof(name), "fanout-%d.log", (int)getpid());
    f->log = fopen(test_log_path(name, path, sizeof(path)), "a");
    scn_loop_options_init(&lo);
    lo.log = harness_log_to_file;
    lo.log_user = f->log;
    lo.log_level = SCN_LOG_DEBUG;
    return scn_loop_new(&lo, &f->loop) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
    fixture *f = *state;

    for (int i = 0; i < f->npeers; i++) {
        py_peer_stop(&f->peers[i]);
        if (f->records[i][0])
            unlink(f->records[i]);
    }
    scn_fanout_free(f->fo);
    scn_server_free(f->srv);
    scn_loop_free(f->loop);
    if (f->log)
        fclose(f->log);
    free(f);
    return 0;
}

static void start_fanout(fixture *f, scn_fanout_options *o)
{
    assert_int_equal(scn_fanout_new(f->loop, o, &f->fo), 0);
    assert_true(scn_fanout_port(f->fo) > 0);
}

/* ------------------------------------------------------------------ */
/* Publishing and checking                                             */
/* ------------------------------------------------------------------ */

static int publish_seq(fixture *f, int i, size_t pad)
{
    static char buf[96 * 1024];
    int n = snprintf(buf, sizeof(buf), "{\"seq\":%d,\"pad\":\"", i);

    assert_true(pad + (size_t)n + 3 < sizeof(buf));
    memset(buf + n, 'p', pad);
    n += (int)pad;
    n += snprintf(buf + n, sizeof(buf) - (size_t)n, "\"}");
    return scn_fanout_publish(f->fo, STREAMS[i % NSTREAMS], buf, (size_t)n);
}

static void publish_end(fixture *f, const char *stream)
{
    static const char end[] = "{\"end\":true}";

    assert_true(scn_fanout_publish(f->fo, stream, end, sizeof(end) - 1) >= 0);
}

static bool wants(const char *want, const char *stream)
{
    char list[256], *save = NULL;

    if (strcmp(want, "*") == 0)
        return true;
    snprintf(list, sizeof(list), "%s", want);
    for (char *t = strtok_r(list, ",", &save); t;
         t = strtok_r(NULL, ",", &save))
        if (strcmp(t, stream) == 0)
            return true;
    return false;
}

/* The record holds exactly the messages seq first..last-1 whose stream is
 * in want (comma-separated, or "*"), in order, then an end marker. */
static bool check_record(const fixture *f, const peer *p, const char *want,
                         int first, int last)
{
    FILE *in = fopen(record_of(f, p), "r");
    char *line = NULL;
    size_t cap = 0;
    int i = first;
    bool ok = in != NULL, ended = false;

    while (ok && !ended && getline(&line, &cap, in) > 0) {
        cJSON *m = cJSON_Parse(line);
        cJSON *data = cJSON_GetObjectItemCaseSensitive(m, "data");
        const char *type, *stream;

        type =
            cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(m, "type"));
        stream =
            cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(m, "stream"));
        while (i < last && !wants(want, STREAMS[i % NSTREAMS]))
            i++;
        if (!type || strcmp(type, "message") != 0 || !stream) {
            print_message("not a message: %s", line);
            ok = false;
        } else if (cJSON_GetObjectItemCaseSensitive(data, "end")) {
            ended = true;
        } else if (i >= last ||
                   cJSON_GetNumberValue(
                       cJSON_GetObjectItemCaseSensitive(data, "seq")) != i ||
                   strcmp(stream, STREAMS[i % NSTREAMS]) != 0) {
            print_message("expected seq %d on %s, got: %.100s\n", i,
                          i < last ? STREAMS[i % NSTREAMS] : "-", line);
            ok = false;
        } else {
            i++;
        }
        cJSON_Delete(m);
    }
    while (ok && i < last && !wants(want, STREAMS[i % NSTREAMS]))
        i++;
    if (ok && (!ended || i != last)) {
        print_message("record ended at seq %d of %d (end marker: %d)\n", i,
                      last, ended);
        ok = false;
    }
    free(line);
    if (in)
        fclose(in);
    return ok;
}

/* ------------------------------------------------------------------ */
/* Tests                                                               */
/* ------------------------------------------------------------------ */

typedef struct pub_thread {
    fixture *f;
    int n;
    atomic_bool done;
    int failures;
} pub_thread;

static void *publisher(void *arg)
{
    pub_thread *t = arg;

    for (int i = 0; i < t->n; i++)
        if (publish_seq(t->f, i, 16) < 0)
            t->failures++;
    t->done = true;
    return NULL;
}

/* Two subscribers with different sets; 2000 messages published from
 * another thread while the loop runs here. The queues hold them all, so
 * nothing may be missing. */
static void test_streams_exact(void **state)
{
    enum { N = 2000 };
    fixture *f = *state;
    scn_fanout_options o;
    scn_fanout_stats st;
    pub_thread t = {.f = f, .n = N};
    pthread_t th;
    peer *a, *b;

    scn_fanout_options_init(&o);
    o.queue_msgs = 4096;
    start_fanout(f, &o);
    a = peer_start(f, "fast", "@", "olfaction,inference");
    b = peer_start(f, "fast", "@", "*");
    assert_non_null(a);
    assert_non_null(b);
    assert_true(peer_wait(f, a, "SUBSCRIBED olfaction,inference", 20000));
    assert_true(peer_wait(f, b, "SUBSCRIBED *", 20000));

    assert_int_equal(pthread_create(&th, NULL, publisher, &t), 0);
    assert_true(run_until_flag(f->loop, &t.done, 60000));
    pthread_join(th, NULL);
    assert_int_equal(t.failures, 0);
    for (int s = 0; s < NSTREAMS; s++)
        publish_end(f, STREAMS[s]);

    assert_true(peer_wait(f, a, "DONE 800", 30000));
    assert_true(peer_wait(f, b, "DONE 2000", 30000));
    assert_true(check_record(f, a, "olfaction,inference", 0, N));
    assert_true(check_record(f, b, "*", 0, N));

    scn_fanout_get_stats(f->fo, &st);
    assert_int_equal(st.published_olfaction, N / NSTREAMS + 1);
    assert_int_equal(st.published_uav_state, N / NSTREAMS + 1);
    assert_int_equal(st.published_inference, N / NSTREAMS + 1);
    assert_int_equal(st.published_events, N / NSTREAMS + 1);
    assert_int_equal(st.published_other, N / NSTREAMS + 1);
    assert_true(st.delivered >= 800 + 2000 + 2);
    assert_int_equal(st.dropped, 0);
    assert_int_equal(st.dropped_notices, 0);
    assert_int_equal(st.disconnected_slow, 0);
    assert_int_equal(st.bad_requests, 0);
}

static bool wait_stats(fixture *f, bool (*cond)(const scn_fanout_stats *),
                       uint32_t timeout_ms)
{
    uint64_t end = deadline_ms(f->loop, timeout_ms);
    scn_fanout_stats st;

    for (;;) {
        scn_fanout_get_stats(f->fo, &st);
        if (cond(&st))
            return true;
        if (scn_loop_now_ms(f->loop) >= end)
            return false;
        pump_all(f, 10);
    }
}

static bool one_cut(const scn_fanout_stats *st)
{
    return st->disconnected_slow >= 1 && st->subscribers == 0;
}

/* A subscriber that stops reading is cut off; the fast one beside it,
 * published to at its own pace, gets every message. */
static void test_stalled_cut_fast_complete(void **state)
{
    enum { N = 200, PAD = 32 * 1024 };
    fixture *f = *state;
    scn_fanout_options o;
    scn_fanout_stats st;
    scn_fanout_subscriber_info info[2];
    uint64_t end;
    peer *stall, *fast;
    size_t n;
    int sent = 0;

    scn_fanout_options_init(&o);
    o.queue_msgs = 16;
    o.queue_bytes = 1u << 20;
    o.slow_disconnect_ms = 500;
    start_fanout(f, &o);
    stall = peer_start(f, "stall", "5", "olfaction");
    assert_true(peer_wait(f, stall, "SUBSCRIBED", 20000));
    fast = peer_start(f, "fast", "@", "*");
    assert_true(peer_wait(f, fast, "SUBSCRIBED *", 20000));
    assert_int_equal(scn_fanout_subscribers(f->fo, info, 2), 2);

    /* Every message on olfaction (seq multiple of NSTREAMS), so that both
     * want all of them; at the fast one's pace. */
    end = deadline_ms(f->loop, 60000);
    while (sent < N && scn_loop_now_ms(f->loop) < end) {
        size_t queued;

        n = scn_fanout_subscribers(f->fo, info, 2);
        queued = info[n - 1].queued_msgs;

        while (queued < 8 && sent < N) {
            assert_true(publish_seq(f, sent * NSTREAMS, PAD) >= 1);
            sent++;
            queued++;
        }
        pump_all(f, 2);
    }
    assert_int_equal(sent, N);
    /* The fast one lost nothing. It is last in connection order, whether
     * the stalled one is still there or (on a slow run) already cut. */
    n = scn_fanout_subscribers(f->fo, info, 2);
    assert_true(n >= 1);
    assert_int_equal(info[n - 1].dropped, 0);
    assert_int_equal(info[n - 1].delivered, N);
    publish_end(f, "olfaction");
    assert_true(peer_wait(f, fast, "DONE 200", 30000));
    assert_true(check_record(f, fast, "olfaction", 0, N * NSTREAMS));

    assert_true(wait_stats(f, one_cut, 10000));
    scn_fanout_get_stats(f->fo, &st);
    assert_true(st.dropped > 0);
    assert_true(st.dropped_notices >= 1);
    assert_int_equal(st.disconnected_slow, 1);
    /* The cut-off one sees its connection end. */
    assert_true(peer_wait(f, stall, "CLOSE", 20000));
}

static bool notice_queued(const scn_fanout_stats *st)
{
    return st->dropped_notices >= 1;
}

/* A subscriber that falls behind once and then reads again loses its
 * oldest messages, is told so, and stays. */
static void test_lagging_told(void **state)
{
    enum { N = 100, PAD = 32 * 1024 };
    fixture *f = *state;
    scn_fanout_options o;
    scn_fanout_stats st;
    char line[128];
    unsigned got = 0, notices = 0;
    const char *s;
    peer *lag;

    scn_fanout_options_init(&o);
    o.queue_msgs = 16;
    o.queue_bytes = 1u << 20;
    o.slow_disconnect_ms = 20000;
    start_fanout(f, &o);
    lag = peer_start(f, "stall", "1", "olfaction");
    assert_true(peer_wait(f, lag, "SUBSCRIBED", 20000));
    /* A burst with the loop not running: the queue overflows at once. */
    for (int i = 0; i < N; i++)
        assert_int_equal(publish_seq(f, i * NSTREAMS, PAD), 1);
    /* The notice is queued from the loop; the end marker must come after
     * it, or the peer would stop reading before the notice. */
    assert_true(wait_stats(f, notice_queued, 10000));
    publish_end(f, "olfaction");
    assert_true(peer_wait(f, lag, "END", 30000));
    s = strstr(lag->out, "END");
    assert_non_null(s);
    snprintf(line, sizeof(line), "%s", s);
    assert_int_equal(sscanf(line, "END %u DROPPED %u", &got, &notices), 2);
    assert_true(notices >= 1);
    assert_true(got < N);
    scn_fanout_get_stats(f->fo, &st);
    assert_true(st.dropped > 0);
    assert_int_equal(st.dropped_notices, notices);
    assert_int_equal(st.disconnected_slow, 0);
}

/* Malformed and unknown requests are answered with errors and counted; the
 * subscriber stays and subscribes properly afterwards. */
static void test_garbage_answered(void **state)
{
    enum { N = 500 };
    fixture *f = *state;
    scn_fanout_options o;
    scn_fanout_stats st;
    peer *g;

    scn_fanout_options_init(&o);
    start_fanout(f, &o);
    g = peer_start(f, "garbage", "@", NULL);
    assert_true(peer_wait(f, g,
                          "ERRORS 11 malformed malformed malformed "
                          "bad_request bad_request unknown_type bad_request "
                          "bad_request bad_request bad_request bad_request",
                          20000));
    assert_true(peer_wait(f, g, "SUBSCRIBED events", 20000));
    for (int i = 0; i < N; i++) {
        assert_true(publish_seq(f, i, 8) >= 0);
        if (i % 64 == 0)
            pump_all(f, 1);
    }
    publish_end(f, "events");
    assert_true(peer_wait(f, g, "DONE 100", 20000));
    assert_true(check_record(f, g, "events", 0, N));
    scn_fanout_get_stats(f->fo, &st);
    assert_int_equal(st.bad_requests, 11);
}

static bool two_streams(fixture *f)
{
    scn_fanout_subscriber_info i;

    return scn_fanout_subscribers(f->fo, &i, 1) == 1 && i.nstreams == 2;
}

/* A subscription made after some messages sees only later ones. */
static void test_late_subscriber(void **state)
{
    enum { N = 2000, HALF = 1000 };
    fixture *f = *state;
    scn_fanout_options o;
    uint64_t end;
    peer *p;

    scn_fanout_options_init(&o);
    o.queue_msgs = 4096;
    start_fanout(f, &o);
    p = peer_start(f, "late", "@", NULL);
    assert_true(peer_wait(f, p, "SUBSCRIBED events", 20000));
    /* Only olfaction: the peer listens on events for its cue. */
    for (int i = 0; i < HALF; i++)
        assert_int_equal(publish_seq(f, i * NSTREAMS, 8), 0);
    assert_int_equal(scn_fanout_publish(f->fo, "events", "{\"go\":1}", 8), 1);
    end = deadline_ms(f->loop, 20000);
    while (!two_streams(f) && scn_loop_now_ms(f->loop) < end)
        pump_all(f, 10);
    assert_true(two_streams(f));
    for (int i = HALF; i < N; i++)
        assert_int_equal(publish_seq(f, i * NSTREAMS, 8), 1);
    publish_end(f, "events");
    assert_true(peer_wait(f, p, "DONE 1000", 20000));
    assert_true(check_record(f, p, "olfaction", HALF * NSTREAMS, N * NSTREAMS));
}

/* Payload sizes around every WebSocket length form (7-bit, 16-bit, 64-bit)
 * and the 64 KiB a write takes. */
static const size_t BURST_PADS[] = {0,     60,    70,    90,   1000,
                                    65400, 65480, 65600, 70000};
#define NPADS (sizeof(BURST_PADS) / sizeof(BURST_PADS[0]))

/* Many messages queued before the loop writes anything go out several per
 * write, each still one complete message: the peer (an independent
 * WebSocket parser) gets every one intact and in order, whatever its
 * size. */
static void test_coalesced_burst(void **state)
{
    enum { N = 600 };
    fixture *f = *state;
    scn_fanout_options o;
    scn_fanout_stats st;
    peer *p;

    scn_fanout_options_init(&o);
    o.queue_msgs = 4096;
    o.queue_bytes = 32u << 20;
    start_fanout(f, &o);
    p = peer_start(f, "fast", "@", "*");
    assert_non_null(p);
    assert_true(peer_wait(f, p, "SUBSCRIBED *", 20000));
    /* The loop is not running: all of it waits in the queue. */
    for (int i = 0; i < N; i++)
        assert_int_equal(publish_seq(f, i, BURST_PADS[(size_t)i % NPADS]), 1);
    for (int s = 0; s < NSTREAMS; s++)
        publish_end(f, STREAMS[s]);
    assert_true(peer_wait(f, p, "DONE 600", 60000));
    assert_true(check_record(f, p, "*", 0, N));
    scn_fanout_get_stats(f->fo, &st);
    assert_int_equal(st.dropped, 0);
    /* The answer, N messages and one end marker (the peer stops at it). */
    assert_true(st.written >= N + 2);
    /* Every small run between the large ones shares a write. */
    assert_true(st.writes < st.written);
}

/* With writes at most every 200 ms, messages published one at a time
 * while the loop runs go out together: no more writes than 200 ms spans
 * in the time it took (counted, not timed: the bound comes from the time
 * the run actually took), where writing at once would take one per
 * message. They arrive complete and in order, on two streams. */
static void test_flush_interval(void **state)
{
    enum { N = 50, INTERVAL = 200 };
    fixture *f = *state;
    scn_fanout_options o;
    scn_fanout_stats st;
    uint64_t start, elapsed, writes0, written0, max_writes;
    peer *p;

    scn_fanout_options_init(&o);
    o.flush_interval_ms = INTERVAL;
    start_fanout(f, &o);
    p = peer_start(f, "fast", "@", "olfaction,uav.state");
    assert_non_null(p);
    assert_true(peer_wait(f, p, "SUBSCRIBED olfaction,uav.state", 20000));
    scn_fanout_get_stats(f->fo, &st);
    writes0 = st.writes;
    written0 = st.written;
    start = scn_loop_now_ms(f->loop);
    for (int i = 0; i < N; i++) {
        assert_true(publish_seq(f, i, 10) >= 0);
        pump_all(f, 20); /* about a second in all */
    }
    publish_end(f, "olfaction");
    assert_true(peer_wait(f, p, "DONE 20", 20000));
    elapsed = scn_loop_now_ms(f->loop) - start;
    assert_true(check_record(f, p, "olfaction,uav.state", 0, N));
    scn_fanout_get_stats(f->fo, &st);
    assert_int_equal(st.dropped, 0);
    /* 20 messages and the end marker; writes at least 150 ms apart (the
     * server writes a quarter interval early to keep connections in
     * step), the first one at once. */
    assert_int_equal(st.written - written0, 21);
    max_writes = 1 + elapsed / (INTERVAL - INTERVAL / 4);
    print_message("%" PRIu64 " writes in %" PRIu64 " ms (at most %" PRIu64
                  ")\n",
                  st.writes - writes0, elapsed, max_writes);
    assert_true(st.writes - writes0 <= max_writes);
    assert_true(st.writes - writes0 < 21);
}

/* Bad publishes are refused before they reach anyone; a client without
 * the subprotocol is refused. */
static void test_publish_args_and_refusal(void **state)
{
    fixture *f = *state;
    scn_fanout_options o;
    scn_fanout_stats st;
    peer *p;

    scn_fanout_options_init(&o);
    start_fanout(f, &o);
    assert_int_equal(scn_fanout_publish(f->fo, "olfaction", "{}", 2), 0);
    assert_int_equal(scn_fanout_publish(f->fo, "olfaction", " 5 \n", 4), 0);
    assert_int_equal(scn_fanout_publish(f->fo, "olfaction", "{", 1),
                     SCN_ERR_MALFORMED);
    assert_int_equal(scn_fanout_publish(f->fo, "olfaction", "{} x", 4),
                     SCN_ERR_MALFORMED);
    assert_int_equal(scn_fanout_publish(f->fo, "olfaction", "", 0),
                     SCN_ERR_MALFORMED);
    assert_int_equal(scn_fanout_publish(f->fo, "olfaction", "{}\0{}", 5),
                     SCN_ERR_MALFORMED);
    assert_int_equal(scn_fanout_publish(f->fo, "bad\"name", "{}", 2),
                     SCN_ERR_INVALID_ARG);
    assert_int_equal(scn_fanout_publish(f->fo, "*", "{}", 2),
                     SCN_ERR_INVALID_ARG);
    assert_int_equal(scn_fanout_publish(f->fo, "", "{}", 2),
                     SCN_ERR_INVALID_ARG);
    assert_int_equal(scn_fanout_publish(NULL, "olfaction", "{}", 2),
                     SCN_ERR_INVALID_ARG);
    scn_fanout_get_stats(f->fo, &st);
    assert_int_equal(st.published_olfaction, 2);

    p = peer_start(f, "noproto", NULL, NULL);
    assert_true(peer_wait(f, p, "STATUS 400", 20000));
}

/* Another server's callback frees the fan-out: scn_server_free() is then
 * deferred, and the fan-out's server calls back after the fan-out is gone
 * (ASan watches). Its subscriber sees its connection end. */
static int free_fanout(scn_server *srv, scn_server_conn *conn, const char *addr,
                       const char *path, void *user)
{
    fixture *f = user;

    scn_fanout_free(f->fo);
    f->fo = NULL;
    f->freed = true;
    return 1;
}

static void test_free_inside_callback(void **state)
{
    fixture *f = *state;
    scn_fanout_options o;
    scn_server_options so;
    uint64_t end;
    peer *sub, *trigger;

    scn_fanout_options_init(&o);
    start_fanout(f, &o);
    sub = peer_start(f, "fast", "@", "*");
    assert_true(peer_wait(f, sub, "SUBSCRIBED *", 20000));
    assert_int_equal(scn_fanout_publish(f->fo, "events", "{\"seq\":0}", 9), 1);

    scn_server_options_init(&so);
    so.path = SCN_FANOUT_PATH;
    so.subprotocol = SCN_FANOUT_SUBPROTOCOL;
    so.callbacks.on_connect = free_fanout;
    so.user = f;
    assert_int_equal(scn_server_new(f->loop, &so, &f->srv), 0);
    f->peer_port = scn_server_port(f->srv);
    trigger = peer_start(f, "fast", "@", "*");
    assert_true(run_until_flag(f->loop, &f->freed, 20000));
    /* Both peers' connections end: bounded waits for their exits. */
    end = deadline_ms(f->loop, 20000);
    while ((!sub->exited || !trigger->exited) && scn_loop_now_ms(f->loop) < end)
        pump_all(f, 10);
    assert_true(sub->exited);
    assert_true(trigger->exited);
    assert_null(strstr(sub->out, "DONE"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_streams_exact, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stalled_cut_fast_complete, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_lagging_told, setup, teardown),
        cmocka_unit_test_setup_teardown(test_garbage_answered, setup, teardown),
        cmocka_unit_test_setup_teardown(test_late_subscriber, setup, teardown),
        cmocka_unit_test_setup_teardown(test_publish_args_and_refusal, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_coalesced_burst, setup, teardown),
        cmocka_unit_test_setup_teardown(test_flush_interval, setup, teardown),
        cmocka_unit_test_setup_teardown(test_free_inside_callback, setup,
                                        teardown),
    };

    return test_exit_code(cmocka_run_group_tests(tests, NULL, NULL));
}
