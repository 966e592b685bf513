/* lib/codec/url.c: endpoint URLs and the device-selection query. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>
#include <scentience/error.h>
#include <scentience/session.h>

#include "url.h"

static void test_defaults_and_ports(void **state)
{
    scn_url u;

    (void)state;
    assert_int_equal(scn__url_parse("ws://192.168.10.1:9000", &u), 0);
    assert_false(u.tls);
    assert_string_equal(u.host, "192.168.10.1");
    assert_int_equal(u.port, 9000);
    assert_string_equal(u.path, "/");
    assert_int_equal(scn__url_parse("wss://api.scentience.ai/v1/stream", &u),
                     0);
    assert_true(u.tls);
    assert_int_equal(u.port, 443);
    assert_string_equal(u.path, "/v1/stream");
    assert_int_equal(scn__url_parse("ws://h", &u), 0);
    assert_int_equal(u.port, 80);
    assert_int_equal(scn__url_parse("ws://h?x=1", &u), 0);
    assert_string_equal(u.path, "/?x=1");
    assert_int_equal(scn__url_parse("ws://[::1]:9000/a?b=c", &u), 0);
    assert_string_equal(u.host, "::1");
    assert_int_equal(u.port, 9000);
    assert_string_equal(u.path, "/a?b=c");
}

static void test_rejects(void **state)
{
    static const char *const bad[] = {
        "http://h",      "ws:/h",        "ws://",      "ws://:90",
        "ws://h:0",      "ws://h:65536", "ws://h:9x",  "ws://h:",
        "ws://u@h",      "ws://h/#frag", "ws://h/a b", "ws://[::1",
        "ws://[::1]x",   "ws://h\n",     "WS://h",     "",
        "ws://h:123456",
    };
    scn_url u;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(scn__url_parse(bad[i], &u), SCN_ERR_URL);
    assert_int_equal(scn__url_parse(NULL, &u), SCN_ERR_URL);
}

/* Brackets belong around an IPv6 address only (a fuzz find: the host "["
 * was accepted, and written back as a URL it did not parse). */
static void test_rejects_stray_brackets(void **state)
{
    static const char *const bad[] = {"ws://[[]", "ws://[a[b]:1", "ws://a]b/",
                                      "ws://a[b:80", "ws://[]:80"};
    scn_url u;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(scn__url_parse(bad[i], &u), SCN_ERR_URL);
    assert_int_equal(scn__url_parse("ws://[fe80::1]:8889/", &u), 0);
    assert_string_equal(u.host, "fe80::1");
}

static void test_query_encoding(void **state)
{
    scn_url u;

    (void)state;
    assert_int_equal(scn__url_parse("ws://h:1/dev", &u), 0);
    assert_int_equal(scn__url_add_query(&u, "uid", "SCN001"), 0);
    assert_string_equal(u.path, "/dev?uid=SCN001");
    assert_int_equal(scn__url_add_query(&u, "x", "a b&c/é"), 0);
    assert_string_equal(u.path, "/dev?uid=SCN001&x=a%20b%26c%2F%C3%A9");
}

static void test_query_too_long_leaves_path_intact(void **state)
{
    char big[SCN_URL_PATH_MAX];
    scn_url u;

    (void)state;
    assert_int_equal(scn__url_parse("ws://h/p", &u), 0);
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    assert_int_equal(scn__url_add_query(&u, "uid", big), SCN_ERR_URL);
    assert_string_equal(u.path, "/p");
}

/* The public form uav/ uses: the host alone, IPv6 without brackets. */
static void test_public_host(void **state)
{
    char host[64];

    (void)state;
    assert_int_equal(
        scn_url_host("ws://192.168.10.1:8889/x", host, sizeof(host)), 0);
    assert_string_equal(host, "192.168.10.1");
    assert_int_equal(scn_url_host("wss://[::1]:9/", host, sizeof(host)), 0);
    assert_string_equal(host, "::1");
    assert_int_equal(scn_url_host("http://h/", host, sizeof(host)),
                     SCN_ERR_URL);
    assert_string_equal(host, "");
    assert_int_equal(scn_url_host("ws://drone.local", host, 5),
                     SCN_ERR_INVALID_ARG);
    assert_string_equal(host, "");
    assert_int_equal(scn_url_host("ws://drone", host, 6), 0);
    assert_string_equal(host, "drone");
    assert_int_equal(scn_url_host(NULL, host, sizeof(host)),
                     SCN_ERR_INVALID_ARG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_and_ports),
        cmocka_unit_test(test_rejects),
        cmocka_unit_test(test_rejects_stray_brackets),
        cmocka_unit_test(test_query_encoding),
        cmocka_unit_test(test_query_too_long_leaves_path_intact),
        cmocka_unit_test(test_public_host),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
