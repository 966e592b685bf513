/*
 * WebSocket frames from clients (lib/server/ws_frame.c), what a dashboard, or
 * anyone reaching the live listener, sends after the upgrade. The first
 * byte sets the longest message allowed, the second the size of the
 * pieces the bytes are fed in: the messages, control frames and verdict
 * must not depend on it. What is delivered keeps the limits (length,
 * UTF-8 text, short and well-formed control frames), and framed again as
 * a client would, it reads the same.
 */
#include "fuzz.h"

#include "utf8.h"
#include "ws_frame.h"

/* What a reader delivered: complete messages and control frames, each
 * "D"/"C", its binary flag or opcode, 8 bytes of length, the bytes. */
typedef struct events {
    unsigned char *log;
    size_t len, cap;
    unsigned char *msg; /* the message being assembled */
    size_t msg_len, msg_cap;
    bool in_msg;
    uint64_t max_message;
} events;

static void put(unsigned char **buf, size_t *len, size_t *cap, const void *p,
                size_t n)
{
    if (*len + n > *cap) {
        size_t c = *cap ? *cap : 256;
        while (c < *len + n)
            c *= 2;
        *buf = realloc(*buf, c);
        FUZZ_CHECK(*buf != NULL, "out of memory");
        *cap = c;
    }
    if (n)
        memcpy(*buf + *len, p, n);
    *len += n;
}

static void log_event(events *e, char kind, int what, const unsigned char *p,
                      size_t n)
{
    unsigned char head[10] = {(unsigned char)kind, (unsigned char)what};

    for (int i = 0; i < 8; i++)
        head[2 + i] = (unsigned char)((uint64_t)n >> (8 * i));
    put(&e->log, &e->len, &e->cap, head, sizeof head);
    put(&e->log, &e->len, &e->cap, p, n);
}

static int on_data(void *user, unsigned char *p, size_t n, bool binary,
                   bool first, bool last)
{
    events *e = user;

    FUZZ_CHECK(first != e->in_msg, "first piece out of order");
    if (first)
        e->msg_len = 0;
    e->in_msg = !last;
    put(&e->msg, &e->msg_len, &e->msg_cap, p, n);
    FUZZ_CHECK(e->msg_len <= e->max_message, "message of %zu bytes, max %llu",
               e->msg_len, (unsigned long long)e->max_message);
    if (last) {
        FUZZ_CHECK(binary || scn__utf8_check(e->msg, e->msg_len),
                   "text that is not UTF-8 delivered");
        log_event(e, 'D', binary, e->msg, e->msg_len);
    }
    return 0;
}

static int on_control(void *user, int opcode, const unsigned char *p, size_t n)
{
    int code;

    FUZZ_CHECK(n <= SCN_WS_CONTROL_MAX, "control frame of %zu bytes", n);
    FUZZ_CHECK(
        opcode == SCN_WS_PING || opcode == SCN_WS_PONG ||
            (opcode == SCN_WS_CLOSE && scn__ws_close_payload(p, n, &code) == 0),
        "control opcode %d", opcode);
    log_event(user, 'C', opcode, p, n);
    return 0;
}

static const scn_ws_events callbacks = {on_data, on_control};

/* Feeds a copy of data (the reader unmasks in place) in pieces of step
 * bytes (0: at once) into a fresh reader; returns its verdict. */
static int read_all(events *e, uint64_t max, const uint8_t *data, size_t size,
                    size_t step)
{
    unsigned char *copy = malloc(size ? size : 1);
    scn_ws_reader r;
    int rc = 0;

    FUZZ_CHECK(copy != NULL, "out of memory");
    if (size)
        memcpy(copy, data, size);
    memset(e, 0, sizeof *e);
    e->max_message = max;
    scn__ws_reader_init(&r, max);
    for (size_t at = 0; at < size && rc == 0;) {
        size_t n = step && size - at > step ? step : size - at;
        rc = scn__ws_reader_feed(&r, copy + at, n, &callbacks, e);
        at += n;
    }
    free(copy);
    return rc;
}

/* The complete events of e framed again as a client does: one masked
 * final frame each. */
static unsigned char *reframe(const events *e, size_t *out_len)
{
    static const unsigned char mask[4] = {0x37, 0xfa, 0x21, 0x3d};
    unsigned char *out = NULL, h[14];
    size_t len = 0, cap = 0;

    for (size_t at = 0; at < e->len;) {
        const unsigned char *ev = e->log + at;
        uint64_t n = 0;
        size_t hn;
        for (int i = 0; i < 8; i++)
            n |= (uint64_t)ev[2 + i] << (8 * i);
        hn = scn__ws_header(
            h, ev[0] == 'D' ? (ev[1] ? SCN_WS_BINARY : SCN_WS_TEXT) : ev[1], n);
        h[1] |= 0x80; /* masked */
        memcpy(h + hn, mask, 4);
        put(&out, &len, &cap, h, hn + 4);
        for (uint64_t i = 0; i < n; i++) {
            unsigned char b = ev[10 + i] ^ mask[i % 4];
            put(&out, &len, &cap, &b, 1);
        }
        at += 10 + (size_t)n;
    }
    *out_len = len;
    return out;
}

static void events_free(events *e)
{
    free(e->log);
    free(e->msg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_in in = {data, size};
    uint64_t max = fuzz_take(&in, 1) * 4;
    size_t step = (size_t)fuzz_take(&in, 1) % 17, rn;
    events whole, pieces, again;
    unsigned char *re;
    int rc, rc2;

    rc = read_all(&whole, max, in.p, in.n, 0);
    rc2 = read_all(&pieces, max, in.p, in.n, step);
    FUZZ_CHECK(rc == rc2, "verdict %d at once, %d in pieces of %zu", rc, rc2,
               step);
    FUZZ_CHECK(rc == 0 || rc == SCN_WS_PROTOCOL_ERROR ||
                   rc == SCN_WS_INVALID_DATA || rc == SCN_WS_TOO_BIG,
               "verdict %d", rc);
    FUZZ_CHECK(
        whole.len == pieces.len &&
            (whole.len == 0 || memcmp(whole.log, pieces.log, whole.len) == 0),
        "other messages in pieces of %zu", step);
    re = reframe(&whole, &rn);
    rc = read_all(&again, max, re, rn, 0);
    FUZZ_CHECK(
        rc == 0 && again.len == whole.len &&
            (whole.len == 0 || memcmp(again.log, whole.log, whole.len) == 0),
        "framed again, read differently (%d)", rc);
    free(re);
    events_free(&again);
    events_free(&pieces);
    events_free(&whole);
    return 0;
}
