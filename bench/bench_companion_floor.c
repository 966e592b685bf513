/*
 * bench-companion-floor: the least that scn-companion's bench workload
 * (device at 100 Hz, drone state, cloud; no dashboards) can cost on this
 * host. One libwebsockets context does the companion's I/O and nothing
 * else: it receives the device's frames and the drone's states and counts
 * them (no parsing), appends one spool record per frame, sends one cloud
 * record per frame (the device's text copied in, no JSON work) and writes
 * one line per cloud answer to stdout. bench/companion-syscalls runs it in
 * the companion's place (it takes the companion's flags), so what the
 * companion spends above this is what its own code costs.
 *
 * Left out, since none of it is per frame: reconnection and keepalive
 * (the companion pings the drone once a second), the spool's checksum,
 * acks, segment files and fsyncs, the video and live servers (no client
 * connects to them in this workload).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <libwebsockets.h>

#include "bench_common.h"

#define P "bench-companion-floor"

/* The companion's spool record: a 12-byte header (length, seq), the JSON
 * record and a 4-byte checksum (left zero here). */
#define REC_HEAD 12
#define REC_TAIL 4
#define REC_MAX  4096
/* The spool file starts over past this, so long runs stay bounded. */
#define SPOOL_WRAP (64L << 20)

/* A drone state as the companion puts it in a record (section 8.5's JSON
 * form), fixed: making it from the drone's text would be parsing. It
 * brings the record to the companion's size and carries x/y/yaw, so the
 * cloud's answers are the companion's size too (they add a bearing). */
#define STATE_JSON                                                             \
    "{\"pitch\":0,\"roll\":1,\"yaw\":0,\"vgx\":0,\"vgy\":0,\"vgz\":0,"         \
    "\"templ\":40,\"temph\":43,\"tof\":0,\"h\":0,\"bat\":100,\"baro\":-1.02,"  \
    "\"time\":0,\"agx\":1.15,\"agy\":-2.79,\"agz\":-1001.67,\"olfa\":2455.31," \
    "\"olfb\":2461.55,\"x\":0,\"y\":0,\"z\":0}"

/* Mask keys drawn per getrandom() call. */
#define MASK_POOL 64

enum {
    OPT_NO_SPOOL = 256,
    OPT_NO_STDOUT,
    OPT_LWS_MASK,
    OPT_IGNORED,
    OPT_IGNORED_FLAG
};

typedef struct floor_run {
    const char *key;
    char stream_id[33];
    int rate;
    bool spool, out, lws_mask;
    unsigned char keys[MASK_POOL * 4];
    unsigned key_next;
    int spool_fd;
    off_t spool_off;
    struct lws *cloud; /* set once the cloud's hello came */
    uint64_t frames, states, answers, seq, unsent;
    bool failed, stopping;
    char msg[8192]; /* device reassembly, only when lws splits a frame */
    size_t msglen;
    unsigned char rec[LWS_PRE + REC_HEAD + REC_MAX + REC_TAIL];
} floor_run;

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
    (void)sig;
    interrupted = 1;
}

static floor_run *run_of(struct lws *wsi)
{
    return lws_context_user(lws_get_context(wsi));
}

/* Every client link carries the key; the cloud also the stream id. */
static int append_headers(floor_run *r, struct lws *wsi, void *in, size_t len,
                          bool cloud)
{
    unsigned char **p = in, *end = *p + len;
    char bearer[300];
    int n = snprintf(bearer, sizeof(bearer), "Bearer %s", r->key), bad;

    bad = n < 0 || (size_t)n >= sizeof(bearer) ||
          lws_add_http_header_by_name(wsi,
                                      (const unsigned char *)"authorization:",
                                      (const unsigned char *)bearer, n, p, end);
    explicit_bzero(bearer, sizeof(bearer));
    if (bad)
        return -1;
    if (cloud && lws_add_http_header_by_name(
                     wsi, (const unsigned char *)"x-scentience-stream:",
                     (const unsigned char *)r->stream_id, 32, p, end))
        return -1;
    return 0;
}

static int link_failed(floor_run *r, const char *what, void *in)
{
    if (r->stopping) /* closed by lws_context_destroy() */
        return -1;
    fprintf(stderr, P ": %s link: %s\n", what,
            in ? (const char *)in : "closed");
    r->failed = true;
    interrupted = 1;
    return -1;
}

/* Frames and masks the client message at p in place (lws 4.1.6 would
 * read() 4 bytes of /dev/urandom per message for the mask: a system call
 * per frame that a pool of keys avoids, as the companion does) and returns
 * where the frame starts: the header goes into the bytes before p. */
static unsigned char *mask_frame(floor_run *r, unsigned char *p, size_t n,
                                 size_t *framed)
{
    unsigned char *h, *key;
    uint64_t k8, w;
    size_t i, hs = n < 126 ? 6 : n < 65536 ? 8 : 14;

    if (r->key_next == 0 &&
        getrandom(r->keys, sizeof(r->keys), 0) != (ssize_t)sizeof(r->keys))
        return NULL;
    key = r->keys + 4 * r->key_next;
    r->key_next = (r->key_next + 1) % MASK_POOL;
    h = p - hs;
    h[0] = 0x81; /* FIN, text */
    if (hs == 6) {
        h[1] = (unsigned char)(0x80 | n);
    } else if (hs == 8) {
        h[1] = 0x80 | 126;
        h[2] = (unsigned char)(n >> 8);
        h[3] = (unsigned char)n;
    } else {
        h[1] = 0x80 | 127;
        for (i = 0; i < 8; i++)
            h[2 + i] = (unsigned char)((uint64_t)n >> (56 - 8 * i));
    }
    memcpy(p - 4, key, 4);
    /* Eight bytes at a time: the key repeats every four. */
    memcpy(&k8, key, 4);
    memcpy((unsigned char *)&k8 + 4, key, 4);
    for (i = 0; i + 8 <= n; i += 8) {
        memcpy(&w, p + i, 8);
        w ^= k8;
        memcpy(p + i, &w, 8);
    }
    for (; i < n; i++)
        p[i] ^= key[i & 3];
    *framed = hs + n;
    return h;
}

/* One device frame: a spool append, then the same record to the cloud.
 * The record is built where lws wants it (LWS_PRE before the payload) with
 * the spool header in front; sending masks it in place, so the pwrite goes
 * first. */
static void on_frame(floor_run *r, const char *data, size_t len)
{
    unsigned char *head = r->rec + LWS_PRE, *json = head + REC_HEAD;
    unsigned char *frame;
    uint32_t n32;
    uint64_t seq = ++r->seq;
    size_t framed;
    int n;

    r->frames++;
    n = snprintf((char *)json, REC_MAX,
                 "{\"type\":\"frame\",\"seq\":%llu,\"frame\":%.*s,\"state\":"
                 "%s,\"state_age_ms\":0}",
                 (unsigned long long)seq, (int)len, data, STATE_JSON);
    if (n < 0 || n >= REC_MAX) {
        r->unsent++;
        return;
    }
    if (r->spool) {
        size_t total = REC_HEAD + (size_t)n + REC_TAIL;

        n32 = (uint32_t)n;
        memcpy(head, &n32, 4);
        memcpy(head + 4, &seq, 8);
        memset(json + n, 0, REC_TAIL);
        if (r->spool_off + (off_t)total > SPOOL_WRAP)
            r->spool_off = 0;
        if (pwrite(r->spool_fd, head, total, r->spool_off) != (ssize_t)total) {
            fprintf(stderr, P ": spool: %s\n", strerror(errno));
            r->failed = true;
            interrupted = 1;
            return;
        }
        r->spool_off += (off_t)total;
    }
    /* Straight from the device's callback, as the companion sends (no
     * writeable callback: that is a poll() and a loop turn more). lws
     * keeps what the socket does not take; a record that finds such a
     * rest still waiting is counted, not queued (never seen on loopback
     * at 100 Hz). */
    if (!r->cloud || lws_partial_buffered(r->cloud)) {
        r->unsent++;
        return;
    }
    if (r->lws_mask) {
        if (lws_write(r->cloud, json, (size_t)n, LWS_WRITE_TEXT) < n)
            r->unsent++;
        return;
    }
    /* LWS_WRITE_HTTP: lws writes the bytes as they are. */
    frame = mask_frame(r, json, (size_t)n, &framed);
    if (!frame ||
        lws_write(r->cloud, frame, framed, LWS_WRITE_HTTP) < (int)framed)
        r->unsent++;
}

static int device_cb(struct lws *wsi, enum lws_callback_reasons reason,
                     void *user, void *in, size_t len)
{
    floor_run *r;
    unsigned char buf[LWS_PRE + 64];
    int n;

    (void)user;
    switch (reason) {
    case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER:
        return append_headers(run_of(wsi), wsi, in, len, false);
    case LWS_CALLBACK_CLIENT_ESTABLISHED:
        if (run_of(wsi)->rate)
            lws_callback_on_writable(wsi);
        break;
    case LWS_CALLBACK_CLIENT_WRITEABLE: /* the companion's --rate request */
        n = snprintf((char *)buf + LWS_PRE, 64,
                     "{\"type\":\"stream\",\"on\":true,\"rate_hz\":%d}",
                     run_of(wsi)->rate);
        if (lws_write(wsi, buf + LWS_PRE, (size_t)n, LWS_WRITE_TEXT) < n)
            return -1;
        break;
    case LWS_CALLBACK_CLIENT_RECEIVE:
        r = run_of(wsi);
        if (lws_is_first_fragment(wsi) && lws_is_final_fragment(wsi)) {
            on_frame(r, in, len);
            break;
        }
        if (lws_is_first_fragment(wsi))
            r->msglen = 0;
        if (r->msglen + len <= sizeof(r->msg)) {
            memcpy(r->msg + r->msglen, in, len);
            r->msglen += len;
        }
        if (lws_is_final_fragment(wsi))
            on_frame(r, r->msg, r->msglen);
        break;
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
    case LWS_CALLBACK_CLIENT_CLOSED:
        return link_failed(run_of(wsi), "device", in);
    default:
        break;
    }
    return 0;
}

/* One inference line per answer, unbuffered like the companion's. */
static void on_answer(floor_run *r, const char *data, size_t len)
{
    static const char inf[] = "{\"type\":\"inference\"";
    char line[64];
    int n;

    if (len < sizeof(inf) - 1 || memcmp(data, inf, sizeof(inf) - 1))
        return; /* an ack */
    r->answers++;
    if (!r->out)
        return;
    n = snprintf(line, sizeof(line), "inference seq %lld\n",
                 (long long)bench_find_int(data, len, "seq"));
    if (write(STDOUT_FILENO, line, (size_t)n) < 0)
        r->failed = true;
}

static int cloud_cb(struct lws *wsi, enum lws_callback_reasons reason,
                    void *user, void *in, size_t len)
{
    floor_run *r;

    (void)user;
    switch (reason) {
    case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER:
        return append_headers(run_of(wsi), wsi, in, len, true);
    case LWS_CALLBACK_CLIENT_RECEIVE:
        r = run_of(wsi);
        /* Records go out once the cloud has said hello (9.1). */
        if (!r->cloud && len > 15 && !memcmp(in, "{\"type\":\"hello\"", 15)) {
            r->cloud = wsi;
            break;
        }
        on_answer(r, in, len);
        break;
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
    case LWS_CALLBACK_CLIENT_CLOSED:
        run_of(wsi)->cloud = NULL;
        return link_failed(run_of(wsi), "cloud", in);
    default:
        break;
    }
    return 0;
}

/* The drone's command link: hello_scentience, or no states come. */
static int drone_cb(struct lws *wsi, enum lws_callback_reasons reason,
                    void *user, void *in, size_t len)
{
    static const char hello[] = "hello_scentience";
    unsigned char buf[LWS_PRE + sizeof(hello)];

    (void)user;
    switch (reason) {
    case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER:
        return append_headers(run_of(wsi), wsi, in, len, false);
    case LWS_CALLBACK_CLIENT_ESTABLISHED:
        lws_callback_on_writable(wsi);
        break;
    case LWS_CALLBACK_CLIENT_WRITEABLE:
        memcpy(buf + LWS_PRE, hello, sizeof(hello) - 1);
        if (lws_write(wsi, buf + LWS_PRE, sizeof(hello) - 1, LWS_WRITE_TEXT) <
            (int)sizeof(hello) - 1)
            return -1;
        break;
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
    case LWS_CALLBACK_CLIENT_CLOSED:
        return link_failed(run_of(wsi), "drone", in);
    default:
        break;
    }
    return 0;
}

/* The state server the drone connects to: count, nothing else. */
static int state_cb(struct lws *wsi, enum lws_callback_reasons reason,
                    void *user, void *in, size_t len)
{
    (void)user;
    (void)in;
    if (reason == LWS_CALLBACK_RECEIVE && lws_is_final_fragment(wsi) && len)
        run_of(wsi)->states++;
    return 0;
}

/* The state server's protocol comes first: the drone offers none. */
static const struct lws_protocols protocols[] = {
    {"state", state_cb, 0, 4096, 0, NULL, 0},
    {"scentience.v1", device_cb, 0, 4096, 0, NULL, 0},
    {"scentience.cloud.v1", cloud_cb, 0, 4096, 0, NULL, 0},
    {"scentience.uav.v1", drone_cb, 0, 4096, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0}};

typedef struct link_url {
    char buf[256];
    const char *prot, *addr, *path;
    int port;
    char path_buf[300];
} link_url;

static int connect_link(struct lws_context *ctx, link_url *u, const char *url,
                        const char *protocol, const char *query)
{
    struct lws_client_connect_info ci;

    snprintf(u->buf, sizeof(u->buf), "%s", url);
    if (lws_parse_uri(u->buf, &u->prot, &u->addr, &u->port, &u->path) ||
        strcmp(u->prot, "ws")) {
        fprintf(stderr, P ": %s: only ws://HOST:PORT/PATH\n", url);
        return -1;
    }
    snprintf(u->path_buf, sizeof(u->path_buf), "/%s%s", u->path,
             query ? query : "");
    memset(&ci, 0, sizeof(ci));
    ci.context = ctx;
    ci.address = u->addr;
    ci.port = u->port;
    ci.path = u->path_buf;
    ci.host = u->addr;
    ci.origin = u->addr;
    ci.protocol = protocol;
    ci.local_protocol_name = protocol;
    return lws_client_connect_via_info(&ci) ? 0 : -1;
}

static void usage(FILE *f)
{
    fputs("usage: " P " --device-url URL --drone-url URL --cloud-url URL\n"
          "       --spool-dir DIR --state-port N [--listen ADDR] [--rate HZ]\n"
          "       [--no-spool] [--no-stdout] [--lws-mask]\n"
          "  scn-companion's flags for its bench workload; the others it\n"
          "  takes (--video-port, --live-*, --no-status) are ignored.\n"
          "  --no-spool   no spool append per frame\n"
          "  --no-stdout  no inference line per answer\n"
          "  --lws-mask   let lws mask the cloud records (a read() of\n"
          "               /dev/urandom per record)\n"
          "The key comes from $SCENTIENCE_API_KEY. SIGINT ends the run;\n"
          "the counts go to stderr as the companion's do.\n",
          f);
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"device-url", required_argument, NULL, 'd'},
        {"drone-url", required_argument, NULL, 'u'},
        {"cloud-url", required_argument, NULL, 'c'},
        {"spool-dir", required_argument, NULL, 's'},
        {"state-port", required_argument, NULL, 'p'},
        {"listen", required_argument, NULL, 'l'},
        {"rate", required_argument, NULL, 'r'},
        {"no-spool", no_argument, NULL, OPT_NO_SPOOL},
        {"no-stdout", no_argument, NULL, OPT_NO_STDOUT},
        {"lws-mask", no_argument, NULL, OPT_LWS_MASK},
        {"video-port", required_argument, NULL, OPT_IGNORED},
        {"live-port", required_argument, NULL, OPT_IGNORED},
        {"live-max-per-address", required_argument, NULL, OPT_IGNORED},
        {"live-max-subscribers", required_argument, NULL, OPT_IGNORED},
        {"no-status", no_argument, NULL, OPT_IGNORED_FLAG},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    static floor_run r; /* big: the record buffer */
    const char *device = NULL, *drone = NULL, *cloud = NULL, *spool = NULL;
    const char *listen = "127.0.0.1";
    int state_port = 0, c, fd;
    struct lws_context_creation_info info;
    struct lws_context *ctx;
    static link_url du, uu, cu;
    char query[64], path[4096];
    struct sigaction sa;

    r.spool = r.out = true;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            device = optarg;
            break;
        case 'u':
            drone = optarg;
            break;
        case 'c':
            cloud = optarg;
            break;
        case 's':
            spool = optarg;
            break;
        case 'p':
            state_port = atoi(optarg);
            break;
        case 'l':
            listen = optarg;
            break;
        case 'r':
            r.rate = atoi(optarg);
            break;
        case OPT_NO_SPOOL:
            r.spool = false;
            break;
        case OPT_NO_STDOUT:
            r.out = false;
            break;
        case OPT_LWS_MASK:
            r.lws_mask = true;
            break;
        case OPT_IGNORED:
        case OPT_IGNORED_FLAG:
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 64;
        }
    }
    r.key = getenv("SCENTIENCE_API_KEY");
    if (!device || !drone || !cloud || !spool || state_port <= 0 || !r.key ||
        optind != argc) {
        usage(stderr);
        return 64;
    }
    /* A new stream per run, so the cloud starts at seq 1: the clock and
     * the pid are unique enough for a benchmark. */
    snprintf(r.stream_id, sizeof(r.stream_id), "%016llx%016llx",
             (unsigned long long)bench_mono_ns(), (unsigned long long)getpid());
    snprintf(query, sizeof(query), "?stream=%s", r.stream_id);
    if (mkdir(spool, 0700) && errno != EEXIST) {
        fprintf(stderr, P ": %s: %s\n", spool, strerror(errno));
        return 73;
    }
    snprintf(path, sizeof(path), "%s/floor.log", spool);
    fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        fprintf(stderr, P ": %s: %s\n", path, strerror(errno));
        return 73;
    }
    r.spool_fd = fd;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    lws_set_log_level(LLL_ERR, NULL);
    memset(&info, 0, sizeof(info));
    info.port = state_port;
    info.iface = listen;
    info.protocols = protocols;
    info.user = &r;
    /* lws 4.1.6 binds an IPv6 socket to :: whatever iface says. */
    info.options = LWS_SERVER_OPTION_DISABLE_IPV6;
    ctx = lws_create_context(&info);
    if (!ctx) {
        close(fd);
        return 70;
    }
    if (connect_link(ctx, &uu, drone, "scentience.uav.v1", NULL) ||
        connect_link(ctx, &cu, cloud, "scentience.cloud.v1", query) ||
        connect_link(ctx, &du, device, "scentience.v1", NULL)) {
        lws_context_destroy(ctx);
        close(fd);
        return 69;
    }
    while (!interrupted)
        if (lws_service(ctx, 0) < 0)
            break;
    r.stopping = true;
    lws_context_destroy(ctx);
    close(fd);
    fprintf(stderr,
            P ": %llu frames, %llu states, %llu answers, %llu not sent\n",
            (unsigned long long)r.frames, (unsigned long long)r.states,
            (unsigned long long)r.answers, (unsigned long long)r.unsent);
    return r.failed ? 1 : 0;
}
