/*
 * bench-lws-client: the ceiling of this stack. A bare libwebsockets client
 * that counts messages and parses nothing (latency mode reads the one
 * stamp with a string search). libscentience is measured against it: what
 * libscentience costs on top is its parsing, policy and callbacks.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libwebsockets.h>

#include "bench_common.h"

#define CHECK_EVERY 64 /* frames between clock reads in ingest mode */

static struct {
    bench_args a;
    bool done, open;
    uint64_t frames;
    int64_t t0_ns, t1_ns;
    double cpu0, cpu1;
    long rss0;
    unsigned connections;
    bench_samples lat;
    char msg[8192]; /* reassembly, only when lws splits a message */
    size_t msglen;
} C;

static void finish(void)
{
    C.t1_ns = bench_mono_ns();
    C.cpu1 = bench_cpu_s();
    C.done = true;
}

static void on_message(const char *data, size_t len)
{
    if (C.frames++ == 0) {
        C.t0_ns = bench_mono_ns();
        C.cpu0 = bench_cpu_s();
        C.rss0 = bench_rss_kib();
    }
    if (C.a.mode == BENCH_LATENCY) {
        int64_t now = bench_mono_ns();
        int64_t sent = bench_find_int(data, len, BENCH_SENT_KEY);

        if (sent > 0)
            bench_samples_add(&C.lat, now - sent);
        if (now - C.t0_ns >= (int64_t)(C.a.seconds * 1e9))
            finish();
        return;
    }
    if (C.a.mode == BENCH_SLOW && C.a.sleep_us) {
        struct timespec ts = {0, (long)C.a.sleep_us * 1000};

        nanosleep(&ts, NULL);
    }
    if (C.frames % CHECK_EVERY == 0 &&
        bench_mono_ns() - C.t0_ns >= (int64_t)(C.a.seconds * 1e9))
        finish();
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason,
                    void *user, void *in, size_t len)
{
    (void)user;
    switch (reason) {
    case LWS_CALLBACK_CLIENT_ESTABLISHED:
        C.open = true;
        C.connections++;
        break;
    case LWS_CALLBACK_CLIENT_RECEIVE:
        if (C.done)
            break;
        if (lws_is_first_fragment(wsi) && lws_is_final_fragment(wsi)) {
            on_message(in, len);
            break;
        }
        /* Split by lws across reads: only now is a copy needed. */
        if (lws_is_first_fragment(wsi))
            C.msglen = 0;
        if (C.msglen + len <= sizeof(C.msg)) {
            memcpy(C.msg + C.msglen, in, len);
            C.msglen += len;
        }
        if (lws_is_final_fragment(wsi))
            on_message(C.msg, C.msglen);
        break;
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
    case LWS_CALLBACK_CLIENT_CLOSED:
        if (!C.done)
            finish();
        break;
    default:
        break;
    }
    return 0;
}

static const struct lws_protocols protocols[] = {
    {"scentience.v1", callback, 0, 4096, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0}};

int main(int argc, char **argv)
{
    struct lws_context_creation_info info;
    struct lws_client_connect_info ci;
    struct lws_context *ctx;
    const char *prot, *addr, *path;
    char url[256], pathbuf[256];
    int port;
    int64_t limit;
    bench_result r;

    if (bench_parse_args(argc, argv, "bench-lws-client", &C.a))
        return 64;
    if (C.a.mode == BENCH_RECONNECT) {
        fprintf(stderr, "bench-lws-client: no reconnect mode (no policy)\n");
        return 64;
    }
    snprintf(url, sizeof(url), "%s", C.a.url);
    if (lws_parse_uri(url, &prot, &addr, &port, &path))
        return 64;
    snprintf(pathbuf, sizeof(pathbuf), "/%s", path);

    lws_set_log_level(LLL_ERR, NULL);
    memset(&info, 0, sizeof(info));
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = protocols;
    ctx = lws_create_context(&info);
    if (!ctx)
        return 70;
    memset(&ci, 0, sizeof(ci));
    ci.context = ctx;
    ci.address = addr;
    ci.port = port;
    ci.path = pathbuf;
    ci.host = addr;
    ci.origin = addr;
    ci.protocol = "scentience.v1";
    if (!lws_client_connect_via_info(&ci)) {
        lws_context_destroy(ctx);
        return 69;
    }
    /* A run that never gets going still ends and says so. */
    limit = bench_mono_ns() + (int64_t)((C.a.seconds + 10) * 1e9);
    while (!C.done && bench_mono_ns() < limit)
        if (lws_service(ctx, 0) < 0)
            break;
    if (!C.done)
        finish();

    memset(&r, 0, sizeof(r));
    r.client = "lws";
    r.mode = C.a.mode;
    r.frames = C.frames;
    r.seconds = C.frames ? (C.t1_ns - C.t0_ns) / 1e9 : 0;
    r.cpu_s = C.frames ? C.cpu1 - C.cpu0 : 0;
    r.rss_start_kib = C.rss0;
    r.peak_rss_kib = bench_peak_rss_kib();
    r.connections = C.connections;
    r.latency = C.a.mode == BENCH_LATENCY ? &C.lat : NULL;
    bench_print_result(&r);
    bench_samples_free(&C.lat);
    lws_context_destroy(ctx);
    return C.frames ? 0 : 1;
}
