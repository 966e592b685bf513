/* Request heads: fed in pieces, parsed in place, fields and lists looked
 * up; every refusal with its status. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "http_request.h"

static const char upgrade[] =
    "GET /live?uid=SCN001&token=abc%2Ddef HTTP/1.1\r\n"
    "Host: 10.0.0.2:8765\r\n"
    "Upgrade: websocket\r\n"
    "Connection: keep-alive, Upgrade\r\n"
    "Sec-WebSocket-Protocol: x.v2\r\n"
    "sec-websocket-protocol:  scentience.live.v1 , foxglove.sdk.v1\r\n"
    "Cookie: a=1; scn_token_8765=TOKEN; b\r\n"
    "\r\n";

static void test_parse_in_pieces(void **state)
{
    for (size_t step = 1; step <= sizeof(upgrade); step += 7) {
        scn_http_request r;
        size_t at = 0, used;
        int rc = 0;
        char out[32];

        (void)state;
        scn__http_request_init(&r);
        while (at < sizeof(upgrade) - 1) {
            size_t n = sizeof(upgrade) - 1 - at < step
                           ? sizeof(upgrade) - 1 - at
                           : step;

            rc = scn__http_request_feed(&r, upgrade + at, n, &used);
            at += used;
            if (rc)
                break;
            assert_int_equal(used, n);
        }
        assert_int_equal(rc, 1);
        assert_int_equal(at, sizeof(upgrade) - 1);
        assert_string_equal(r.method, "GET");
        assert_string_equal(r.path, "/live");
        assert_string_equal(r.query, "uid=SCN001&token=abc%2Ddef");
        assert_int_equal(r.minor, 1);
        assert_string_equal(scn__http_field_get(&r, "HOST"), "10.0.0.2:8765");
        assert_true(scn__http_field_has(&r, "connection", "upgrade"));
        assert_true(scn__http_field_has(&r, "sec-websocket-protocol",
                                        "foxglove.sdk.v1"));
        assert_false(
            scn__http_field_has(&r, "sec-websocket-protocol", "foxglove"));
        assert_int_equal(
            scn__http_query_get(r.query, "token", out, sizeof(out)), 7);
        assert_string_equal(out, "abc-def");
        assert_int_equal(scn__http_query_get(r.query, "uid", out, 3), -1);
        assert_int_equal(scn__http_query_get(r.query, "none", out, sizeof(out)),
                         -1);
        assert_int_equal(scn__http_cookie_get(scn__http_field_get(&r, "cookie"),
                                              "scn_token_8765", out,
                                              sizeof(out)),
                         5);
        assert_string_equal(out, "TOKEN");
        scn__http_request_free(&r);
    }
}

/* What follows the head is left to the caller; reset reads the next. */
static void test_pipelined_and_reset(void **state)
{
    const char two[] =
        "GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.0\r\n\r\n";
    scn_http_request r;
    size_t used;

    (void)state;
    scn__http_request_init(&r);
    assert_int_equal(scn__http_request_feed(&r, two, sizeof(two) - 1, &used),
                     1);
    assert_string_equal(r.path, "/a");
    assert_int_equal(used, strlen("GET /a HTTP/1.1\r\nHost: x\r\n\r\n"));
    scn__http_request_reset(&r);
    assert_int_equal(
        scn__http_request_feed(&r, two + used, sizeof(two) - 1 - used, &used),
        1);
    assert_string_equal(r.path, "/b");
    assert_int_equal(r.minor, 0);
    assert_null(r.query);
    scn__http_request_free(&r);
}

static int status_of(const char *head)
{
    scn_http_request r;
    size_t used;
    int rc;

    scn__http_request_init(&r);
    rc = scn__http_request_feed(&r, head, strlen(head), &used);
    scn__http_request_free(&r);
    return rc;
}

static void test_refusals(void **state)
{
    char big[SCN_HTTP_HEAD_MAX + 64];

    (void)state;
    assert_int_equal(status_of("GET / HTTP/1.1\r\n"), 0); /* not yet */
    assert_int_equal(status_of("GET /\r\n\r\n"), 400);
    assert_int_equal(status_of("GET / HTTP/2.0\r\n\r\n"), 505);
    assert_int_equal(status_of("GET / FTP/1.0\r\n\r\n"), 400);
    assert_int_equal(status_of("GET x HTTP/1.1\r\n\r\n"), 400);
    assert_int_equal(status_of("G(T / HTTP/1.1\r\n\r\n"), 400);
    assert_int_equal(status_of("GET / HTTP/1.1\r\nNo colon\r\n\r\n"), 400);
    assert_int_equal(status_of("GET / HTTP/1.1\r\nA: b\r\n folded\r\n\r\n"),
                     400);
    assert_int_equal(status_of("GET / HTTP/1.1\r\nA b: c\r\n\r\n"), 400);
    assert_int_equal(status_of("GET / HTTP/1.1\r\nA: \x01\r\n\r\n"), 400);
    assert_int_equal(status_of("POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\n"),
                     413);
    assert_int_equal(
        status_of("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"),
        413);
    assert_int_equal(status_of("GET / HTTP/1.1\r\nContent-Length: 0\r\n\r\n"),
                     1);
    memset(big, 'a', sizeof(big));
    memcpy(big, "GET /", 5);
    big[sizeof(big) - 1] = '\0';
    assert_int_equal(status_of(big), 431);
    {
        char many[4096];
        size_t at = (size_t)snprintf(many, sizeof(many), "GET / HTTP/1.1\r\n");

        for (int i = 0; i < SCN_HTTP_FIELDS_MAX + 1; i++)
            at +=
                (size_t)snprintf(many + at, sizeof(many) - at, "X%d: y\r\n", i);
        snprintf(many + at, sizeof(many) - at, "\r\n");
        assert_int_equal(status_of(many), 431);
    }
}

static void test_lists(void **state)
{
    (void)state;
    assert_true(scn__http_list_has("a, B ,c", "b"));
    assert_true(scn__http_list_has(",,c,", "C"));
    assert_false(scn__http_list_has("abc", "ab"));
    assert_false(scn__http_list_has("", "a"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_in_pieces),
        cmocka_unit_test(test_pipelined_and_reset),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_lists),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
