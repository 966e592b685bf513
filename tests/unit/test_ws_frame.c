/* The WebSocket frame reader against hand-built frames: as a server's
 * (client frames: masking, fragmentation with control frames between,
 * byte-by-byte feeding, every refusal with its close code: 1002, 1007,
 * 1009) and as a client's (server frames: unmasked, text not checked,
 * pausing where a callback asks). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ws_frame.h"

typedef struct seen {
    char msgs[8][256];
    size_t lens[8];
    bool binary[8];
    int nmsgs;
    char cur[256];
    size_t curlen;
    int controls[8];
    char ctl_payload[8][126];
    int ncontrols;
} seen;

static int on_data(void *user, unsigned char *p, size_t n, bool binary,
                   bool first, bool last)
{
    seen *s = user;

    if (first)
        s->curlen = 0;
    assert_true(s->curlen + n <= sizeof(s->cur));
    memcpy(s->cur + s->curlen, p, n);
    s->curlen += n;
    if (last) {
        memcpy(s->msgs[s->nmsgs], s->cur, s->curlen);
        s->lens[s->nmsgs] = s->curlen;
        s->binary[s->nmsgs++] = binary;
    }
    return 0;
}

static int on_control(void *user, int opcode, const unsigned char *p, size_t n)
{
    seen *s = user;

    memcpy(s->ctl_payload[s->ncontrols], p, n);
    s->ctl_payload[s->ncontrols][n] = '\0';
    s->controls[s->ncontrols++] = opcode;
    return 0;
}

static const scn_ws_events events = {on_data, on_control};

/* A client frame: FIN bit, opcode, masked with a fixed key. */
static size_t frame(unsigned char *out, bool fin, int opcode, const void *p,
                    size_t n, bool masked)
{
    static const unsigned char key[4] = {0x12, 0x34, 0x56, 0x78};
    size_t at = 0;

    out[at++] = (unsigned char)((fin ? 0x80 : 0) | opcode);
    if (n < 126) {
        out[at++] = (unsigned char)((masked ? 0x80 : 0) | n);
    } else if (n <= 0xFFFF) {
        out[at++] = (unsigned char)((masked ? 0x80 : 0) | 126);
        out[at++] = (unsigned char)(n >> 8);
        out[at++] = (unsigned char)n;
    } else {
        out[at++] = (unsigned char)((masked ? 0x80 : 0) | 127);
        for (int i = 7; i >= 0; i--)
            out[at++] = (unsigned char)((uint64_t)n >> (8 * i));
    }
    if (masked) {
        memcpy(out + at, key, 4);
        at += 4;
    }
    for (size_t i = 0; i < n; i++)
        out[at + i] = (unsigned char)(((const unsigned char *)p)[i] ^
                                      (masked ? key[i & 3] : 0));
    return at + n;
}

static int feed(scn_ws_reader *r, seen *s, unsigned char *buf, size_t n,
                bool bytewise)
{
    if (!bytewise)
        return scn__ws_reader_feed(r, buf, n, &events, s);
    for (size_t i = 0; i < n; i++) {
        int rc = scn__ws_reader_feed(r, buf + i, 1, &events, s);

        if (rc)
            return rc;
    }
    return 0;
}

static void test_messages_and_control(void **state)
{
    for (int bytewise = 0; bytewise < 2; bytewise++) {
        unsigned char buf[1024];
        size_t n = 0;
        scn_ws_reader r;
        seen s;

        (void)state;
        memset(&s, 0, sizeof(s));
        scn__ws_reader_init(&r, 1000);
        n += frame(buf + n, true, SCN_WS_TEXT, "hello", 5, true);
        n += frame(buf + n, false, SCN_WS_BINARY, "\x00\x01", 2, true);
        n += frame(buf + n, true, SCN_WS_PING, "p", 1, true);
        n += frame(buf + n, false, SCN_WS_CONT, "", 0, true);
        n += frame(buf + n, true, SCN_WS_CONT, "\x02", 1, true);
        n += frame(buf + n, true, SCN_WS_TEXT, "", 0, true);
        /* Split inside a character across frames: still valid. */
        n += frame(buf + n, false, SCN_WS_TEXT, "\xe2\x82", 2, true);
        n += frame(buf + n, true, SCN_WS_CONT, "\xac", 1, true);
        n += frame(buf + n, true, SCN_WS_CLOSE, "\x03\xe8ok", 4, true);
        /* Ignored after the close. */
        n += frame(buf + n, true, SCN_WS_TEXT, "late", 4, true);
        assert_int_equal(feed(&r, &s, buf, n, bytewise), 0);
        assert_int_equal(s.nmsgs, 4);
        assert_int_equal(s.lens[0], 5);
        assert_memory_equal(s.msgs[0], "hello", 5);
        assert_false(s.binary[0]);
        assert_int_equal(s.lens[1], 3);
        assert_memory_equal(s.msgs[1], "\x00\x01\x02", 3);
        assert_true(s.binary[1]);
        assert_int_equal(s.lens[2], 0);
        assert_memory_equal(s.msgs[3], "\xe2\x82\xac", 3);
        assert_int_equal(s.ncontrols, 2);
        assert_int_equal(s.controls[0], SCN_WS_PING);
        assert_string_equal(s.ctl_payload[0], "p");
        assert_int_equal(s.controls[1], SCN_WS_CLOSE);
    }
}

static void test_long_lengths(void **state)
{
    static unsigned char big[70000], buf[70100];
    scn_ws_reader r;
    seen s;
    size_t n;

    (void)state;
    memset(&s, 0, sizeof(s));
    memset(big, 'x', sizeof(big));
    /* 16-bit and 64-bit lengths reach the limit check; the reader does not
     * need to buffer to refuse. */
    scn__ws_reader_init(&r, 69999);
    n = frame(buf, true, SCN_WS_BINARY, big, sizeof(big), true);
    assert_int_equal(scn__ws_reader_feed(&r, buf, 14, &events, &s),
                     SCN_WS_TOO_BIG);
    /* Exactly the limit passes, over fragments too. */
    scn__ws_reader_init(&r, 300);
    n = frame(buf, false, SCN_WS_BINARY, big, 200, true);
    n += frame(buf + n, true, SCN_WS_CONT, big, 100, true);
    assert_int_equal(
        scn__ws_reader_feed(&r, buf, n, &(scn_ws_events){NULL, NULL}, NULL), 0);
    scn__ws_reader_init(&r, 299);
    n = frame(buf, false, SCN_WS_BINARY, big, 200, true);
    n += frame(buf + n, true, SCN_WS_CONT, big, 100, true);
    assert_int_equal(
        scn__ws_reader_feed(&r, buf, n, &(scn_ws_events){NULL, NULL}, NULL),
        SCN_WS_TOO_BIG);
}

/* The client frame writer (the session's sends) makes, in place, the same
 * bytes as the hand-built frame for each length form, and the server's
 * reader takes them back. */
static void test_client_frame_writer(void **state)
{
    static const unsigned char key[4] = {0x12, 0x34, 0x56, 0x78};
    static const size_t lens[] = {0, 5, 125, 126, 300, 65535, 65536, 70000};
    static unsigned char src[70000], want[70100], buf[70100];
    (void)state;
    for (size_t i = 0; i < sizeof(src); i++)
        src[i] = (unsigned char)('a' + i % 26);
    for (size_t k = 0; k < sizeof(lens) / sizeof(lens[0]); k++) {
        size_t len = lens[k], hs = scn__ws_client_header_size(len);
        size_t n = frame(want, true, SCN_WS_TEXT, src, len, true);
        scn_ws_reader r;
        seen *s = calloc(1, sizeof(*s));

        assert_true(hs <= SCN_WS_CLIENT_HDR_MAX);
        memcpy(buf + SCN_WS_CLIENT_HDR_MAX, src, len);
        scn__ws_client_frame(buf + SCN_WS_CLIENT_HDR_MAX, SCN_WS_TEXT, len,
                             key);
        assert_int_equal(hs + len, n);
        assert_memory_equal(buf + SCN_WS_CLIENT_HDR_MAX - hs, want, n);
        if (len <= 255) {
            scn__ws_reader_init(&r, 1000);
            assert_int_equal(
                feed(&r, s, buf + SCN_WS_CLIENT_HDR_MAX - hs, n, false), 0);
            assert_int_equal(s->nmsgs, 1);
            assert_int_equal(s->lens[0], len);
            assert_memory_equal(s->msgs[0], src, len);
        }
        free(s);
    }
}

/* Each refusal: the bytes, and the code the reader must return. */
static void expect_refusal(const unsigned char *bytes, size_t n, int code)
{
    unsigned char buf[256];
    scn_ws_reader r;
    seen s;

    memset(&s, 0, sizeof(s));
    memcpy(buf, bytes, n);
    scn__ws_reader_init(&r, 1000);
    assert_int_equal(scn__ws_reader_feed(&r, buf, n, &events, &s), code);
    /* Done: nothing more is read. */
    assert_int_equal(scn__ws_reader_feed(&r, buf, n, &events, &s), 0);
}

static void test_refusals(void **state)
{
    unsigned char b[256];
    size_t n;

    (void)state;
    n = frame(b, true, SCN_WS_TEXT, "hi", 2, false); /* unmasked */
    expect_refusal(b, n, SCN_WS_PROTOCOL_ERROR);
    n = frame(b, true, SCN_WS_TEXT, "hi", 2, true);
    b[0] |= 0x40; /* RSV1 without an extension */
    expect_refusal(b, n, SCN_WS_PROTOCOL_ERROR);
    n = frame(b, true, 0x3, "hi", 2, true); /* reserved opcode */
    expect_refusal(b, n, SCN_WS_PROTOCOL_ERROR);
    n = frame(b, true, SCN_WS_CONT, "hi", 2, true); /* nothing to continue */
    expect_refusal(b, n, SCN_WS_PROTOCOL_ERROR);
    n = frame(b, false, SCN_WS_TEXT, "a", 1, true);
    n += frame(b + n, true, SCN_WS_TEXT, "b", 1, true); /* not a cont */
    expect_refusal(b, n, SCN_WS_PROTOCOL_ERROR);
    n = frame(b, false, SCN_WS_PING, "", 0, true); /* fragmented control */
    expect_refusal(b, n, SCN_WS_PROTOCOL_ERROR);
    {
        char p[126];

        memset(p, 'p', sizeof(p));
        n = frame(b, true, SCN_WS_PING, p, sizeof(p), true); /* too long */
        expect_refusal(b, n, SCN_WS_PROTOCOL_ERROR);
    }
    n = frame(b, true, SCN_WS_TEXT, "\xc3\x28", 2, true);
    expect_refusal(b, n, SCN_WS_INVALID_DATA);
    n = frame(b, true, SCN_WS_TEXT, "ok\xe2\x82", 4, true); /* cut at end */
    expect_refusal(b, n, SCN_WS_INVALID_DATA);
    n = frame(b, true, SCN_WS_CLOSE, "\x03", 1, true); /* 1-byte close */
    expect_refusal(b, n, SCN_WS_PROTOCOL_ERROR);
    n = frame(b, true, SCN_WS_CLOSE, "\x03\xed", 2, true); /* code 1005 */
    expect_refusal(b, n, SCN_WS_PROTOCOL_ERROR);
    n = frame(b, true, SCN_WS_CLOSE, "\x03\xe8\xff", 3, true); /* reason */
    expect_refusal(b, n, SCN_WS_INVALID_DATA);
}

static void test_header_writer(void **state)
{
    unsigned char h[SCN_WS_HDR_MAX];

    (void)state;
    assert_int_equal(scn__ws_header(h, SCN_WS_TEXT, 125), 2);
    assert_int_equal(h[0], 0x81);
    assert_int_equal(h[1], 125);
    assert_int_equal(scn__ws_header(h, SCN_WS_BINARY, 126), 4);
    assert_int_equal(h[0], 0x82);
    assert_int_equal(h[1], 126);
    assert_int_equal(h[2] << 8 | h[3], 126);
    assert_int_equal(scn__ws_header(h, SCN_WS_BINARY, 65536), 10);
    assert_int_equal(h[1], 127);
    assert_int_equal(h[7], 1);
    assert_int_equal(h[8], 0);
}

/* The word-wise mask equals the byte-wise definition for every length
 * and phase (pieces of a payload start anywhere in the key), and masking
 * twice gives the payload back. */
static void test_mask_word_wise(void **state)
{
    static const unsigned char key[4] = {0x12, 0xa5, 0x7f, 0xc3};
    unsigned char plain[64], got[64];

    (void)state;
    for (size_t i = 0; i < sizeof(plain); i++)
        plain[i] = (unsigned char)(i * 37 + 11);
    for (unsigned phase = 0; phase < 4; phase++) {
        for (size_t n = 0; n <= sizeof(plain); n++) {
            memcpy(got, plain, sizeof(got));
            scn__ws_mask(got, n, key, phase);
            for (size_t i = 0; i < sizeof(got); i++)
                assert_int_equal(got[i], i < n ? plain[i] ^ key[(phase + i) & 3]
                                               : plain[i]);
            scn__ws_mask(got, n, key, phase);
            assert_memory_equal(got, plain, sizeof(plain));
        }
    }
}

/* The client's reader: server frames come unmasked; a masked one is a
 * protocol error. Fragmented text split inside a character, a ping
 * between the fragments, then a close. */
static void test_client_role(void **state)
{
    for (int bytewise = 0; bytewise < 2; bytewise++) {
        unsigned char buf[512];
        size_t n = 0;
        scn_ws_reader r;
        seen s;

        (void)state;
        memset(&s, 0, sizeof(s));
        scn__ws_reader_init_client(&r, 1000);
        n += frame(buf + n, false, SCN_WS_TEXT, "{\"t\":\"\xe2", 7, false);
        n += frame(buf + n, false, SCN_WS_CONT, "\x82", 1, false);
        n += frame(buf + n, true, SCN_WS_PING, "hb", 2, false);
        n += frame(buf + n, true, SCN_WS_CONT, "\xac\"}", 3, false);
        n += frame(buf + n, true, SCN_WS_PONG, "", 0, false);
        n += frame(buf + n, true, SCN_WS_CLOSE,
                   "\x0f\xa4"
                   "bye",
                   5, false);
        assert_int_equal(feed(&r, &s, buf, n, bytewise), 0);
        assert_int_equal(s.nmsgs, 1);
        assert_int_equal(s.lens[0], 11);
        assert_memory_equal(s.msgs[0], "{\"t\":\"\xe2\x82\xac\"}", 11);
        assert_int_equal(s.ncontrols, 3);
        assert_int_equal(s.controls[0], SCN_WS_PING);
        assert_string_equal(s.ctl_payload[0], "hb");
        assert_int_equal(s.controls[1], SCN_WS_PONG);
        assert_int_equal(s.controls[2], SCN_WS_CLOSE);
        assert_string_equal(s.ctl_payload[2] + 2, "bye");
    }
}

static void expect_client_refusal(const unsigned char *bytes, size_t n,
                                  uint64_t max, int code)
{
    unsigned char buf[256];
    scn_ws_reader r;
    seen s;

    memset(&s, 0, sizeof(s));
    memcpy(buf, bytes, n);
    scn__ws_reader_init_client(&r, max);
    assert_int_equal(scn__ws_reader_feed(&r, buf, n, &events, &s), code);
    assert_int_equal(s.nmsgs, 0);
}

static void test_client_refusals(void **state)
{
    unsigned char b[256];
    size_t n;

    (void)state;
    n = frame(b, true, SCN_WS_TEXT, "hi", 2, true); /* masked by a server */
    expect_client_refusal(b, n, 1000, SCN_WS_PROTOCOL_ERROR);
    n = frame(b, true, SCN_WS_PING, "hi", 2, true);
    expect_client_refusal(b, n, 1000, SCN_WS_PROTOCOL_ERROR);
    /* Over the limit: refused at the header, before any payload. */
    n = frame(b, true, SCN_WS_TEXT, "0123456789", 10, false);
    expect_client_refusal(b, 2, 9, SCN_WS_TOO_BIG);
    /* ... and across fragments. */
    n = frame(b, false, SCN_WS_TEXT, "01234", 5, false);
    n += frame(b + n, true, SCN_WS_CONT, "56789", 5, false);
    expect_client_refusal(b, n, 9, SCN_WS_TOO_BIG);
    n = frame(b, true, SCN_WS_TEXT, "0123456789", 10, false);
    {
        scn_ws_reader r;
        seen s;

        memset(&s, 0, sizeof(s));
        scn__ws_reader_init_client(&r, 10);
        assert_int_equal(scn__ws_reader_feed(&r, b, n, &events, &s), 0);
        assert_int_equal(s.nmsgs, 1);
    }
    /* A client delivers text as the server sent it (no 1007), as lws
     * did; a close code no endpoint may send is still a 1002. */
    {
        scn_ws_reader r;
        seen s;

        memset(&s, 0, sizeof(s));
        scn__ws_reader_init_client(&r, 1000);
        n = frame(b, true, SCN_WS_TEXT, "\xc3\x28", 2, false);
        n += frame(b + n, true, SCN_WS_CLOSE, "\x03\xe8\xff", 3, false);
        assert_int_equal(scn__ws_reader_feed(&r, b, n, &events, &s), 0);
        assert_int_equal(s.nmsgs, 1);
        assert_int_equal(s.ncontrols, 1);
    }
    n = frame(b, true, SCN_WS_CLOSE, "\x03\xed", 2, false); /* code 1005 */
    expect_client_refusal(b, n, 1000, SCN_WS_PROTOCOL_ERROR);
}

static int pause_after_each(void *user, unsigned char *p, size_t n, bool binary,
                            bool first, bool last)
{
    on_data(user, p, n, binary, first, last);
    return last ? SCN_WS_PAUSE : 0;
}

/* A callback pauses the reader after each message: the feed stops right
 * after it, says how much it took, and the rest continues later. */
static void test_pause(void **state)
{
    static const scn_ws_events pausing = {pause_after_each, on_control};
    unsigned char buf[64];
    size_t n = 0, at = 0, used;
    scn_ws_reader r;
    seen s;
    int rounds = 0;

    (void)state;
    memset(&s, 0, sizeof(s));
    scn__ws_reader_init_client(&r, 1000);
    n += frame(buf + n, true, SCN_WS_TEXT, "one", 3, false);
    n += frame(buf + n, false, SCN_WS_TEXT, "tw", 2, false);
    n += frame(buf + n, true, SCN_WS_CONT, "o", 1, false);
    n += frame(buf + n, true, SCN_WS_TEXT, "", 0, false);
    while (at < n) {
        int rc =
            scn__ws_reader_feed_some(&r, buf + at, n - at, &pausing, &s, &used);

        rounds++;
        assert_int_equal(rc, SCN_WS_PAUSE);
        assert_int_equal(s.nmsgs, rounds);
        at += used;
    }
    assert_int_equal(at, n);
    assert_int_equal(rounds, 3);
    assert_memory_equal(s.msgs[0], "one", 3);
    assert_memory_equal(s.msgs[1], "two", 3);
    assert_int_equal(s.lens[2], 0);
    /* After the last pause the reader still reads. */
    n = frame(buf, true, SCN_WS_TEXT, "4", 1, false);
    assert_int_equal(scn__ws_reader_feed_some(&r, buf, n, &pausing, &s, &used),
                     SCN_WS_PAUSE);
    assert_int_equal(used, n);
    assert_int_equal(s.nmsgs, 4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_messages_and_control),
        cmocka_unit_test(test_long_lengths),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_header_writer),
        cmocka_unit_test(test_client_frame_writer),
        cmocka_unit_test(test_mask_word_wise),
        cmocka_unit_test(test_client_role),
        cmocka_unit_test(test_client_refusals),
        cmocka_unit_test(test_pause),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
