/*
 * bench-server: the load side of bench/. Serves pre-built device frames on
 * loopback over WebSocket, as fast as the client reads (flood) or at a
 * fixed rate, and reports whether it met backpressure.
 *
 * It is separate from scn-sim on purpose: per frame it only writes the SEQ
 * and the send stamp into a fixed template (numbers padded with spaces,
 * which JSON allows, so the length never changes), so that what a run
 * measures is the client, not the server.
 *
 *   bench-server [--host A] [--port N] [--rate HZ] [--batch N]
 *                [--kill-after N] [--duration S]
 *
 * stdout: "bench-server: listening on HOST:PORT" once the listening socket
 * is up, then at exit one JSON line of statistics.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <linux/sockios.h>
#include <sys/ioctl.h>

#include <libwebsockets.h>

#include "bench_common.h"

/* The published example frame with a SEQ and all fourteen compounds (so
 * that it is 400-600 bytes like a busy device's), plus the two stamps. */
#define PAD "                    " /* 20 columns: any uint64 fits */
static const char frame_template[] =
    "{\"UID\":\"SCN001\",\"TIMESTAMP\":\"2025-08-29T21:00:00.000Z\","
    "\"SEQ\":" PAD ",\"ENV_temperatureC\":21.5,\"ENV_humidity\":40.2,"
    "\"ENV_pressureHpa\":1010,\"STATUS_opuA\":0,\"BATT_health\":98,"
    "\"BATT_v\":4.5,\"BATT_charge\":83,\"BATT_time\":2,\"CO2\":412.5,"
    "\"NH3\":270,\"NO\":3.25,\"NO2\":12.5,\"CO\":1275,\"C2H5OH\":18.75,"
    "\"H2\":52.5,\"CH4\":1890.25,\"C3H8\":4.5,\"C4H10\":2.25,\"H2S\":0.75,"
    "\"HCHO\":8.5,\"SO2\":1.5,\"VOC\":2917,\"_sim_units\":\"ppb\","
    "\"" BENCH_SENT_KEY "\":" PAD ",\"" BENCH_LISTEN_KEY "\":" PAD "}";
#define FRAME_LEN (sizeof(frame_template) - 1)
#define PAD_LEN   20

/* Backpressure probes that cost a syscall run every this many frames. */
#define SAMPLE_EVERY 64
/* A wait for WRITEABLE longer than this counts as time blocked. */
#define BLOCKED_NS 1000000

typedef struct conn {
    uint64_t seq;
    uint64_t sent;
    uint64_t tick_done; /* rate mode: last tick served */
    int64_t asked_ns;   /* when we asked for WRITEABLE */
} conn;

static struct {
    const char *host;
    int port;
    double rate_hz; /* 0: flood */
    uint64_t kill_after;
    double duration_s;

    unsigned batch; /* frames per lws_write in flood mode */

    struct lws_context *ctx;
    unsigned char *buf; /* LWS_PRE, then batch frames */
    size_t off_seq, off_sent, off_listen;

    pthread_t ticker;
    atomic_bool ticker_on;
    atomic_uint_fast64_t ticks;
    atomic_bool stop;

    /* statistics */
    uint64_t frames, bytes, writeables, partial, choked, samples, skipped;
    uint64_t connections;
    int64_t blocked_ns, max_wait_ns, first_ns, last_ns;
    long peak_sndq;
} S;

static size_t offset_after(const char *key)
{
    char pat[64];
    const char *p;

    snprintf(pat, sizeof(pat), "\"%s\":", key);
    p = strstr(frame_template, pat);
    return (size_t)(p - frame_template) + strlen(pat);
}

/* With --batch, frames go out as whole WebSocket frames (4-byte header,
 * server frames are not masked) back to back in one raw write. */
#define WS_HDR    4
#define STRIDE    (WS_HDR + FRAME_LEN)
#define BATCH_MAX 64

static unsigned char *frame_at(unsigned i)
{
    return S.buf + LWS_PRE + (S.batch > 1 ? i * STRIDE + WS_HDR : 0);
}

/* Writes v left-aligned into a PAD_LEN-column slot of frame i. */
static void put_number(unsigned i, size_t off, uint64_t v)
{
    char digits[PAD_LEN + 1];
    int n = snprintf(digits, sizeof(digits), "%llu", (unsigned long long)v);
    unsigned char *slot = frame_at(i) + off;

    memcpy(slot, digits, (size_t)n);
    memset(slot + n, ' ', (size_t)(PAD_LEN - n));
}

static void on_signal(int sig)
{
    (void)sig;
    atomic_store(&S.stop, true);
    if (S.ctx)
        lws_cancel_service(S.ctx); /* a write to a pipe: signal-safe */
}

static void *ticker_main(void *arg)
{
    int64_t period = (int64_t)(1e9 / S.rate_hz);
    struct timespec next;

    (void)arg;
    clock_gettime(CLOCK_MONOTONIC, &next);
    while (atomic_load(&S.ticker_on)) {
        /* Absolute deadlines: the rate does not drift with wakeup lag. */
        next.tv_nsec += period;
        while (next.tv_nsec >= 1000000000) {
            next.tv_nsec -= 1000000000;
            next.tv_sec++;
        }
        clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
        atomic_fetch_add(&S.ticks, 1);
        lws_cancel_service(S.ctx);
    }
    return NULL;
}

static void sample_backpressure(struct lws *wsi)
{
    int fd = lws_get_socket_fd(wsi);
    int unsent = 0;

    S.samples++;
    if (lws_send_pipe_choked(wsi))
        S.choked++;
    if (fd >= 0 && ioctl(fd, SIOCOUTQ, &unsent) == 0 && unsent > S.peak_sndq)
        S.peak_sndq = unsent;
}

static void ask_writeable(struct lws *wsi, conn *c)
{
    c->asked_ns = bench_mono_ns();
    lws_callback_on_writable(wsi);
}

static int on_writeable(struct lws *wsi, conn *c)
{
    int64_t now = bench_mono_ns(), wait = now - c->asked_ns;
    uint64_t stamp;
    size_t n;

    S.writeables++;
    if (S.rate_hz > 0) {
        uint64_t ticks = atomic_load(&S.ticks), due = ticks - c->tick_done;

        if (due == 0)
            return 0;
        /* A frame not written when due is skipped but uses up its SEQ,
         * as a device does (PROTOCOL.md 3.1). */
        S.skipped += due - 1;
        c->seq += due - 1;
        c->tick_done = ticks;
    } else if (c->asked_ns) {
        if (wait > BLOCKED_NS)
            S.blocked_ns += wait;
        if (wait > S.max_wait_ns)
            S.max_wait_ns = wait;
    }
    stamp = (uint64_t)bench_mono_ns();
    for (unsigned i = 0; i < S.batch; i++) {
        put_number(i, S.off_seq, ++c->seq);
        put_number(i, S.off_sent, stamp);
    }
    /* One lws_write per WRITEABLE: a partial write is buffered by lws,
     * which then calls us only once it has drained. */
    n = S.batch > 1 ? S.batch * STRIDE : FRAME_LEN;
    if (lws_write(wsi, S.buf + LWS_PRE, n,
                  S.batch > 1 ? LWS_WRITE_RAW : LWS_WRITE_TEXT) < (int)n)
        return -1;
    if (!S.first_ns)
        S.first_ns = now;
    S.last_ns = now;
    if (lws_partial_buffered(wsi))
        S.partial++;
    for (unsigned i = 0; i < S.batch; i++) {
        S.frames++;
        S.bytes += FRAME_LEN;
        c->sent++;
        if (S.frames % SAMPLE_EVERY == 0)
            sample_backpressure(wsi);
    }
    if (S.kill_after && c->sent >= S.kill_after)
        raise(SIGKILL); /* the reconnect workload: die like a crash */
    if (S.rate_hz <= 0)
        ask_writeable(wsi, c);
    return 0;
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason,
                    void *user, void *in, size_t len)
{
    conn *c = user;

    (void)in;
    (void)len;
    switch (reason) {
    case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
        if (S.rate_hz > 0 && S.ctx)
            lws_callback_on_writable_all_protocol(S.ctx, lws_get_protocol(wsi));
        break;
    case LWS_CALLBACK_ESTABLISHED:
        memset(c, 0, sizeof(*c));
        c->tick_done = atomic_load(&S.ticks);
        S.connections++;
        if (S.rate_hz <= 0)
            ask_writeable(wsi, c);
        break;
    case LWS_CALLBACK_SERVER_WRITEABLE:
        return on_writeable(wsi, c);
    default:
        break;
    }
    return 0;
}

static const struct lws_protocols protocols[] = {
    /* The name clients offer; a client that offers none gets it too. */
    {"scentience.v1", callback, sizeof(conn), 4096, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0}};

static void duration_over(lws_sorted_usec_list_t *sul)
{
    (void)sul;
    atomic_store(&S.stop, true);
}

static void print_stats(void)
{
    double secs = S.last_ns > S.first_ns ? (S.last_ns - S.first_ns) / 1e9 : 0;
    int bp = S.partial > 0 || S.choked > 0 || S.blocked_ns > 0;

    printf("{\"server\":\"bench-server\",\"frame_bytes\":%zu,"
           "\"rate_hz\":%g,\"connections\":%llu,\"frames\":%llu,"
           "\"bytes\":%llu,\"seconds\":%.6f,\"skipped\":%llu,"
           "\"writeables\":%llu,\"partial_writes\":%llu,"
           "\"choked\":%llu,\"choked_samples\":%llu,\"blocked_s\":%.6f,"
           "\"max_wait_ms\":%.3f,\"peak_sndq_bytes\":%ld,"
           "\"backpressure\":%s}\n",
           FRAME_LEN, S.rate_hz, (unsigned long long)S.connections,
           (unsigned long long)S.frames, (unsigned long long)S.bytes, secs,
           (unsigned long long)S.skipped, (unsigned long long)S.writeables,
           (unsigned long long)S.partial, (unsigned long long)S.choked,
           (unsigned long long)S.samples, S.blocked_ns / 1e9,
           S.max_wait_ns / 1e6, S.peak_sndq, bp ? "true" : "false");
    fflush(stdout);
}

static int parse(int argc, char **argv)
{
    S.host = "127.0.0.1";
    S.batch = 1;
    for (int i = 1; i + 1 < argc; i += 2) {
        const char *o = argv[i], *a = argv[i + 1];
        char *end;
        double v;

        errno = 0;
        v = strtod(a, &end);
        if (!strcmp(o, "--host")) {
            S.host = a;
            continue;
        }
        if (errno || end == a || *end || v < 0)
            return -1;
        if (!strcmp(o, "--port") && v <= 65535)
            S.port = (int)v;
        else if (!strcmp(o, "--rate") && v <= 100000)
            S.rate_hz = v;
        else if (!strcmp(o, "--kill-after"))
            S.kill_after = (uint64_t)v;
        else if (!strcmp(o, "--duration"))
            S.duration_s = v;
        else if (!strcmp(o, "--batch") && v >= 1 && v <= BATCH_MAX)
            S.batch = (unsigned)v;
        else
            return -1;
    }
    return argc % 2 == 1 ? 0 : -1;
}

int main(int argc, char **argv)
{
    struct lws_context_creation_info info;
    struct lws_vhost *vh;
    lws_sorted_usec_list_t sul_duration;
    struct sigaction sa;
    uint64_t listen_ns;
    int port;

    if (parse(argc, argv)) {
        fprintf(stderr, "usage: bench-server [--host A] [--port N] "
                        "[--rate HZ (0: flood)] [--batch N (flood: frames "
                        "per write)] [--kill-after FRAMES] [--duration S]\n");
        return 64;
    }
    if (S.rate_hz > 0)
        S.batch = 1; /* one frame per tick */
    S.buf = calloc(1, LWS_PRE + (size_t)S.batch * STRIDE);
    if (!S.buf)
        return 71;
    S.off_seq = offset_after("SEQ");
    S.off_sent = offset_after(BENCH_SENT_KEY);
    S.off_listen = offset_after(BENCH_LISTEN_KEY);
    for (unsigned i = 0; i < S.batch; i++) {
        unsigned char *f = frame_at(i);

        if (S.batch > 1) {
            /* FIN + text; 126: 16-bit length follows. */
            f[-4] = 0x81;
            f[-3] = 126;
            f[-2] = (unsigned char)(FRAME_LEN >> 8);
            f[-1] = (unsigned char)(FRAME_LEN & 0xff);
        }
        memcpy(f, frame_template, FRAME_LEN);
        put_number(i, S.off_seq, 0);
        put_number(i, S.off_sent, 0);
        put_number(i, S.off_listen, 0);
    }

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    lws_set_log_level(LLL_ERR, NULL);
    memset(&info, 0, sizeof(info));
    info.options =
        LWS_SERVER_OPTION_EXPLICIT_VHOSTS | LWS_SERVER_OPTION_DISABLE_IPV6;
    S.ctx = lws_create_context(&info);
    if (!S.ctx)
        return 70;
    info.vhost_name = "bench";
    info.port = S.port;
    info.iface = S.host;
    info.protocols = protocols;
    vh = lws_create_vhost(S.ctx, &info);
    port = vh ? lws_get_vhost_listen_port(vh) : -1;
    if (port <= 0) {
        fprintf(stderr, "bench-server: cannot listen on %s:%d\n", S.host,
                S.port);
        lws_context_destroy(S.ctx);
        return 71;
    }
    /* The listening socket is up: the reconnect workload measures from
     * here to the client's first frame. */
    listen_ns = (uint64_t)bench_mono_ns();
    for (unsigned i = 0; i < S.batch; i++)
        put_number(i, S.off_listen, listen_ns);
    printf("bench-server: listening on %s:%d\n", S.host, port);
    fflush(stdout);

    memset(&sul_duration, 0, sizeof(sul_duration));
    if (S.duration_s > 0)
        lws_sul_schedule(S.ctx, 0, &sul_duration, duration_over,
                         (lws_usec_t)(S.duration_s * 1e6));
    if (S.rate_hz > 0) {
        atomic_store(&S.ticker_on, true);
        if (pthread_create(&S.ticker, NULL, ticker_main, NULL)) {
            lws_context_destroy(S.ctx);
            return 71;
        }
    }
    while (!atomic_load(&S.stop))
        if (lws_service(S.ctx, 0) < 0)
            break;
    if (S.rate_hz > 0) {
        atomic_store(&S.ticker_on, false);
        pthread_join(S.ticker, NULL);
    }
    lws_sul_cancel(&sul_duration);
    print_stats();
    lws_context_destroy(S.ctx);
    free(S.buf);
    return 0;
}
