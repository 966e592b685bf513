/* Dashboard token, Origin and Host checks (docs/PROTOCOL.md 11.4), and
 * the WebSocket handshake helpers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "http_access.h"
#include "http_response.h"
#include "ws_handshake.h"

#define TOKEN "tok-0123456789abcdef"

static scn_access_verdict check_q(const scn_http_access *a, bool loopback,
                                  const char *query, const char *fields)
{
    char head[2048];
    scn_http_request r;
    scn_access_verdict v;
    size_t used;

    snprintf(head, sizeof(head), "GET /x%s%s HTTP/1.1\r\n%s\r\n",
             query ? "?" : "", query ? query : "", fields);
    scn__http_request_init(&r);
    assert_int_equal(scn__http_request_feed(&r, head, strlen(head), &used), 1);
    scn__http_access_check(a, &r, loopback, &v);
    scn__http_request_free(&r);
    return v;
}

static scn_access_verdict check(const scn_http_access *a, bool loopback,
                                const char *fields)
{
    return check_q(a, loopback, NULL, fields);
}

static void test_token(void **state)
{
    scn_http_access a;

    (void)state;
    scn__http_access_init(&a, TOKEN, NULL, 0, false, 8765);
    assert_string_equal(a.cookie_name, "scn_token_8765");
    /* Loopback needs none; off loopback it is required. */
    assert_int_equal(check(&a, true, "Host: 127.0.0.1\r\n").status, 0);
    assert_int_equal(check(&a, false, "Host: 10.0.0.2\r\n").status, 401);
    /* Each place it may come from. */
    assert_int_equal(
        check(&a, false, "Authorization: Bearer " TOKEN "\r\n").token_via,
        SCN_TOKEN_HEADER);
    assert_int_equal(
        check(&a, false, "Cookie: x=1; scn_token_8765=" TOKEN "\r\n").token_via,
        SCN_TOKEN_COOKIE);
    assert_int_equal(check_q(&a, false, "token=" TOKEN, "").token_via,
                     SCN_TOKEN_QUERY);
    /* Wrong anywhere, even from loopback: refused. Another port's cookie
     * is not this one's. */
    assert_int_equal(check(&a, true, "Authorization: Bearer nope\r\n").status,
                     401);
    assert_int_equal(check_q(&a, false, "token=" TOKEN "x", "").status, 401);
    assert_int_equal(
        check(&a, false, "Cookie: scn_token_9999=" TOKEN "\r\n").status, 401);
    /* Without a token configured, nothing is asked. */
    scn__http_access_init(&a, NULL, NULL, 0, false, 8765);
    assert_int_equal(check(&a, false, "Host: 10.0.0.2\r\n").status, 0);
}

static void test_origin_and_host(void **state)
{
    const char *listed[] = {"https://app.foxglove.dev"};
    scn_http_access a;

    (void)state;
    scn__http_access_init(&a, TOKEN, listed, 1, false, 8765);
    /* The page's own origin. */
    assert_int_equal(check(&a, true,
                           "Host: 127.0.0.1:8765\r\n"
                           "Origin: http://127.0.0.1:8765\r\n")
                         .status,
                     0);
    /* Another site, another port, another scheme: refused. */
    assert_int_equal(check(&a, true,
                           "Host: 127.0.0.1:8765\r\n"
                           "Origin: http://evil.example\r\n")
                         .status,
                     403);
    assert_int_equal(check(&a, true,
                           "Host: 127.0.0.1:8765\r\n"
                           "Origin: http://127.0.0.1:9999\r\n")
                         .status,
                     403);
    assert_int_equal(check(&a, true,
                           "Host: 127.0.0.1:8765\r\n"
                           "Origin: https://127.0.0.1:8765\r\n")
                         .status,
                     403);
    assert_int_equal(check(&a, true,
                           "Host: 127.0.0.1:8765\r\n"
                           "Origin: null\r\n")
                         .status,
                     403);
    /* A listed origin. */
    assert_int_equal(check(&a, true,
                           "Host: 127.0.0.1:8765\r\n"
                           "Origin: https://app.foxglove.dev\r\n")
                         .status,
                     0);
    /* DNS rebinding: own origin by a name, no token: refused; with the
     * token (a cookie the real page got): allowed. */
    assert_int_equal(check(&a, true,
                           "Host: evil.example:8765\r\n"
                           "Origin: http://evil.example:8765\r\n")
                         .status,
                     403);
    assert_int_equal(check(&a, false,
                           "Host: board.local:8765\r\n"
                           "Origin: http://board.local:8765\r\n"
                           "Cookie: scn_token_8765=" TOKEN "\r\n")
                         .status,
                     0);
    assert_true(scn__http_host_is_literal("localhost:8765"));
    assert_true(scn__http_host_is_literal("[::1]:8765"));
    assert_true(scn__http_host_is_literal("10.1.2.3"));
    assert_false(scn__http_host_is_literal("10.1.2.3.nip.io"));
    assert_false(scn__http_host_is_literal("[::1"));
    /* Over TLS the own origin is https. */
    scn__http_access_init(&a, TOKEN, NULL, 0, true, 8765);
    assert_int_equal(check(&a, true,
                           "Host: 127.0.0.1:8765\r\n"
                           "Origin: https://127.0.0.1:8765\r\n")
                         .status,
                     0);
}

static void test_token_format(void **state)
{
    (void)state;
    assert_true(scn__token_format_ok(TOKEN, strlen(TOKEN)));
    assert_false(scn__token_format_ok("short", 5));
    assert_false(scn__token_format_ok("has space in it!!", 17));
    assert_false(scn__token_format_ok("semi;colon0123456", 17));
}

/* RFC 6455 section 1.3's example, and the upgrade checks. */
static void test_handshake(void **state)
{
    static const char base[] =
        "GET /chat HTTP/1.1\r\nHost: h\r\n"
        "Upgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n";
    const char *want[] = {"foxglove.sdk.v1", "foxglove.websocket.v1"};
    char out[29], head[512], resp[512];
    scn_http_request r;
    size_t used;
    bool any;

    (void)state;
    scn__ws_accept_value("dGhlIHNhbXBsZSBub25jZQ==", out);
    assert_string_equal(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");

    snprintf(head, sizeof(head),
             "%sSec-WebSocket-Version: 13\r\n"
             "Sec-WebSocket-Protocol: foxglove.websocket.v1, foxglove.sdk.v1"
             "\r\n\r\n",
             base);
    scn__http_request_init(&r);
    assert_int_equal(scn__http_request_feed(&r, head, strlen(head), &used), 1);
    assert_true(scn__ws_is_upgrade(&r));
    assert_int_equal(scn__ws_check_upgrade(&r), 0);
    /* The server's preference wins over the client's order. */
    assert_int_equal(scn__ws_pick_subprotocol(&r, want, 2, &any), 0);
    assert_true(any);
    assert_true(scn__ws_accept_response(resp, sizeof(resp),
                                        "dGhlIHNhbXBsZSBub25jZQ==", want[0]) >
                0);
    assert_non_null(strstr(resp, "Sec-WebSocket-Protocol: foxglove.sdk.v1"));
    scn__http_request_free(&r);

    snprintf(head, sizeof(head), "%sSec-WebSocket-Version: 8\r\n\r\n", base);
    scn__http_request_init(&r);
    assert_int_equal(scn__http_request_feed(&r, head, strlen(head), &used), 1);
    assert_int_equal(scn__ws_check_upgrade(&r), 426);
    assert_int_equal(scn__ws_pick_subprotocol(&r, want, 2, &any), -1);
    assert_false(any);
    scn__http_request_free(&r);

    snprintf(head, sizeof(head),
             "GET / HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
             "Sec-WebSocket-Key: short==\r\nSec-WebSocket-Version: 13\r\n\r\n");
    scn__http_request_init(&r);
    assert_int_equal(scn__http_request_feed(&r, head, strlen(head), &used), 1);
    assert_int_equal(scn__ws_check_upgrade(&r), 400);
    scn__http_request_free(&r);
}

static void test_responses(void **state)
{
    char buf[2048];

    (void)state;
    assert_true(scn__http_error_response(buf, sizeof(buf), 503, "busy",
                                         "Retry-After: 5\r\n", false,
                                         true) > 0);
    assert_non_null(strstr(buf, "HTTP/1.1 503 Service Unavailable\r\n"));
    assert_non_null(strstr(buf, "Retry-After: 5\r\n"));
    assert_non_null(strstr(buf, "Content-Length: 5\r\n"));
    assert_non_null(strstr(buf, "Connection: close\r\n"));
    assert_non_null(strstr(buf, "\r\n\r\nbusy\n"));
    assert_true(scn__http_asset_head(buf, sizeof(buf), 200,
                                     "text/html; charset=utf-8", 10, "abc",
                                     "10.0.0.1:8765", NULL, false) > 0);
    assert_non_null(strstr(buf, "connect-src 'self' ws://10.0.0.1:8765 "
                                "wss://10.0.0.1:8765;"));
    assert_non_null(strstr(buf, "ETag: \"abc\"\r\n"));
    assert_non_null(strstr(buf, "X-Content-Type-Options: nosniff\r\n"));
    /* A hostile Host adds nothing to the policy. */
    assert_true(scn__http_asset_head(buf, sizeof(buf), 200, "text/css", 1, "e",
                                     "x; script-src *", NULL, false) > 0);
    assert_null(strstr(buf, "script-src *"));
    assert_string_equal(scn__http_content_type("/app.js"),
                        "text/javascript; charset=utf-8");
    assert_string_equal(scn__http_content_type("/a.b/noext"),
                        "application/octet-stream");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_token),
        cmocka_unit_test(test_origin_and_host),
        cmocka_unit_test(test_token_format),
        cmocka_unit_test(test_handshake),
        cmocka_unit_test(test_responses),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
