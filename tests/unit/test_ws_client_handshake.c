/* The client's side of the opening handshake: the key, and the server's
 * answer read from bytes as they arrive (split anywhere, frames right
 * behind it), checked field by field, bounded in size. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "ws_client_handshake.h"

/* RFC 6455 1.3's example: this nonce, its key and the server's accept. */
#define KEY    "dGhlIHNhbXBsZSBub25jZQ=="
#define ACCEPT "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
#define OFFER  "scentience.v1"

static const char good[] = "HTTP/1.1 101 Switching Protocols\r\n"
                           "Upgrade: websocket\r\n"
                           "Connection: Upgrade\r\n"
                           "Sec-WebSocket-Accept: " ACCEPT "\r\n"
                           "Sec-WebSocket-Protocol: scentience.v1\r\n"
                           "\r\n";

/* Feeds text in pieces of step bytes; returns the final result and, for
 * a complete answer, where in text the headers ended. */
static int feed_all(scn_ws_reply *r, const char *text, size_t n, size_t step,
                    size_t *end)
{
    size_t at = 0;

    scn__ws_reply_init(r);
    while (at < n) {
        size_t piece = n - at < step ? n - at : step, used = 0;
        int rc = scn__ws_reply_feed(r, text + at, piece, &used);

        if (rc != 0) {
            *end = at + used;
            return rc;
        }
        assert_int_equal(used, piece);
        at += piece;
    }
    return 0;
}

static void test_key(void **state)
{
    char key[25];

    (void)state;
    scn__ws_client_key((const unsigned char *)"the sample nonce", key);
    assert_string_equal(key, KEY);
}

/* Split at every size, down to one byte per read. */
static void test_accepted_split_anywhere(void **state)
{
    scn_ws_reply r;
    size_t end;

    (void)state;
    for (size_t step = 1; step <= sizeof(good); step++) {
        assert_int_equal(feed_all(&r, good, sizeof(good) - 1, step, &end), 1);
        assert_int_equal(end, sizeof(good) - 1);
        assert_int_equal(r.status, 101);
        assert_null(scn__ws_reply_check(&r, KEY, OFFER));
        assert_string_equal(r.protocol, "scentience.v1");
    }
}

/* The first frames in the same read as the headers are not taken. */
static void test_frames_behind_headers(void **state)
{
    char text[sizeof(good) + 8];
    scn_ws_reply r;
    size_t end;

    (void)state;
    memcpy(text, good, sizeof(good) - 1);
    memcpy(text + sizeof(good) - 1, "\x81\x02{}\x81\x00\x89\x00", 8);
    assert_int_equal(feed_all(&r, text, sizeof(text), sizeof(text), &end), 1);
    assert_int_equal(end, sizeof(good) - 1);
    assert_null(scn__ws_reply_check(&r, KEY, OFFER));
    /* Also when the blank line itself is split. */
    assert_int_equal(feed_all(&r, text, sizeof(text), sizeof(good) - 3, &end),
                     1);
    assert_int_equal(end, sizeof(good) - 1);
}

static void test_refused_status(void **state)
{
    static const char text[] = "HTTP/1.1 401 Unauthorized\r\n"
                               "WWW-Authenticate: Bearer error=\"invalid\"\r\n"
                               "Retry-After:  30 \r\n"
                               "Content-Length: 0\r\n"
                               "\r\n";
    scn_ws_reply r;
    size_t end;

    (void)state;
    assert_int_equal(feed_all(&r, text, sizeof(text) - 1, 7, &end), 1);
    assert_int_equal(r.status, 401);
    assert_string_equal(r.www_authenticate, "Bearer error=\"invalid\"");
    assert_string_equal(r.retry_after, "30");
    assert_non_null(scn__ws_reply_check(&r, KEY, OFFER));
}

/* Replaces the line starting with name in good with line (NULL: drops
 * it), then reads the result and checks it. */
static const char *check_edited(const char *name, const char *line)
{
    static char text[1024];
    const char *at = strstr(good, name), *eol = strstr(at, "\r\n") + 2;
    scn_ws_reply r;
    size_t n = 0, end;

    memcpy(text, good, (size_t)(at - good));
    n = (size_t)(at - good);
    if (line) {
        strcpy(text + n, line);
        n += strlen(line);
    }
    strcpy(text + n, eol);
    n += strlen(eol);
    assert_int_equal(feed_all(&r, text, n, n, &end), 1);
    return scn__ws_reply_check(&r, KEY, OFFER);
}

static void test_bad_upgrades(void **state)
{
    (void)state;
    assert_null(check_edited("Upgrade:", "upgrade:  WebSocket\r\n"));
    assert_non_null(check_edited("Upgrade:", NULL));
    assert_non_null(check_edited("Upgrade:", "Upgrade: h2c\r\n"));
    assert_non_null(check_edited("Connection:", NULL));
    assert_null(
        check_edited("Connection:", "Connection: keep-alive, Upgrade\r\n"));
    assert_non_null(check_edited("Sec-WebSocket-Accept:", NULL));
    assert_non_null(check_edited("Sec-WebSocket-Accept:",
                                 "Sec-WebSocket-Accept: "
                                 "s3pPLMBiTxaQ9kYGzzhZRbK+xOp=\r\n"));
    assert_non_null(check_edited("Sec-WebSocket-Protocol:",
                                 "Sec-WebSocket-Protocol: other.v1\r\n"
                                 "Sec-WebSocket-Extensions: "
                                 "permessage-deflate\r\n"));
    assert_non_null(check_edited("Sec-WebSocket-Protocol:",
                                 "Sec-WebSocket-Extensions: "
                                 "permessage-deflate\r\n"));
    assert_non_null(check_edited("Sec-WebSocket-Protocol:",
                                 "Sec-WebSocket-Protocol: Scentience.v1\r\n"));
    assert_null(check_edited("Sec-WebSocket-Protocol:", NULL));
    assert_non_null(check_edited("HTTP/1.1 101", "HTTP/1.1 200 OK\r\n"));
}

static void test_not_http_or_too_long(void **state)
{
    static char big[SCN_WS_REPLY_MAX + 64];
    scn_ws_reply r;
    size_t end, n;

    (void)state;
    assert_int_equal(feed_all(&r, "SSH-2.0-x\r\n\r\n", 13, 13, &end), -1);
    assert_int_equal(feed_all(&r, "HTTP/1.1 10 x\r\n\r\n", 18, 18, &end), -1);
    assert_int_equal(
        feed_all(&r, "HTTP/1.1 101 x\r\nnocolon\r\n\r\n", 27, 5, &end), -1);
    assert_int_equal(
        feed_all(&r, "HTTP/1.1 101 x\r\nA: \0b\r\n\r\n", 25, 25, &end), -1);
    /* Headers that never end: refused once the bound is reached, however
     * the bytes arrive. */
    n = (size_t)snprintf(big, sizeof(big), "HTTP/1.1 101 x\r\n");
    while (n < sizeof(big) - 8)
        n += (size_t)snprintf(big + n, sizeof(big) - n, "X-Pad: yy\r\n");
    assert_int_equal(feed_all(&r, big, n, 100, &end), -1);
    assert_int_equal(feed_all(&r, big, n, n, &end), -1);
    assert_true(end <= SCN_WS_REPLY_MAX);
    /* Just under the bound is fine. */
    n = (size_t)snprintf(big, sizeof(big), "%s", good);
    n -= 2;
    while (n < SCN_WS_REPLY_MAX - 16)
        n += (size_t)snprintf(big + n, sizeof(big) - n, "X-Pad: yy\r\n");
    n += (size_t)snprintf(big + n, sizeof(big) - n, "\r\n");
    assert_true(n <= SCN_WS_REPLY_MAX);
    assert_int_equal(feed_all(&r, big, n, 64, &end), 1);
    assert_null(scn__ws_reply_check(&r, KEY, OFFER));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_key),
        cmocka_unit_test(test_accepted_split_anywhere),
        cmocka_unit_test(test_frames_behind_headers),
        cmocka_unit_test(test_refused_status),
        cmocka_unit_test(test_bad_upgrades),
        cmocka_unit_test(test_not_http_or_too_long),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
