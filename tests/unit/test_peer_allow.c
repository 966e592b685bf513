/* The server's allow list: literals, prefixes at their edges, IPv4-mapped
 * addresses, malformed entries, sockaddr conversion and formatting. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <scentience/error.h>
#include "peer_allow.h"

static scn_ip_addr ip(const char *text)
{
    scn_ip_addr a;

    assert_int_equal(scn__ip_parse(text, &a), 0);
    return a;
}

static bool allowed(const scn_peer_allow *al, const char *peer)
{
    scn_ip_addr a = ip(peer);

    return scn__peer_allow_match(al, &a);
}

static void test_parse_literals(void **state)
{
    scn_ip_addr a;
    char text[SCN_IP_TEXT_MAX];

    (void)state;
    a = ip("192.168.10.1");
    assert_int_equal(a.family, 4);
    assert_memory_equal(a.b, "\xc0\xa8\x0a\x01", 4);
    a = ip("::1");
    assert_int_equal(a.family, 6);
    assert_int_equal(a.b[15], 1);
    /* The form an IPv4 peer takes on an IPv6 socket is IPv4 here. */
    a = ip("::ffff:127.0.0.2");
    assert_int_equal(a.family, 4);
    scn__ip_format(&a, text, sizeof(text));
    assert_string_equal(text, "127.0.0.2");
    a = ip("fe80::1:2");
    scn__ip_format(&a, text, sizeof(text));
    assert_string_equal(text, "fe80::1:2");
    /* Too small a buffer gives "", never a cut address. */
    a = ip("10.0.0.1");
    scn__ip_format(&a, text, 8);
    assert_string_equal(text, "");

    const char *bad[] = {"",          "localhost",      "1.2.3",
                         "1.2.3.4.5", "256.1.1.1",      " 1.2.3.4",
                         "1.2.3.4 ",  "01.2.3.4x",      "::g",
                         "1::2::3",   "192.168.10.1/24"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(scn__ip_parse(bad[i], &a), SCN_ERR_INVALID_ARG);
    assert_int_equal(scn__ip_parse(NULL, &a), SCN_ERR_INVALID_ARG);
}

static void test_empty_list_allows_everyone(void **state)
{
    scn_peer_allow al;

    (void)state;
    assert_int_equal(scn__peer_allow_init(&al, NULL, 0), 0);
    assert_true(allowed(&al, "203.0.113.9"));
    assert_true(allowed(&al, "2001:db8::1"));
    scn__peer_allow_free(&al);
}

static void test_single_addresses(void **state)
{
    const char *entries[] = {"127.0.0.1", "::1"};
    scn_peer_allow al;

    (void)state;
    assert_int_equal(scn__peer_allow_init(&al, entries, 2), 0);
    assert_true(allowed(&al, "127.0.0.1"));
    assert_true(allowed(&al, "::ffff:127.0.0.1"));
    assert_true(allowed(&al, "::1"));
    assert_false(allowed(&al, "127.0.0.2"));
    assert_false(allowed(&al, "::2"));
    /* The IPv4 loopback is not the IPv6 one. */
    scn__peer_allow_free(&al);
    assert_int_equal(scn__peer_allow_init(&al, entries, 1), 0);
    assert_false(allowed(&al, "::1"));
    scn__peer_allow_free(&al);
}

static void test_ipv4_prefix_edges(void **state)
{
    const char *entries[] = {"192.168.10.0/24", "10.1.2.3/31", "172.16.0.0/12"};
    scn_peer_allow al;

    (void)state;
    assert_int_equal(scn__peer_allow_init(&al, entries, 3), 0);
    assert_true(allowed(&al, "192.168.10.0"));
    assert_true(allowed(&al, "192.168.10.255"));
    assert_false(allowed(&al, "192.168.11.0"));
    assert_false(allowed(&al, "192.168.9.255"));
    /* /31 with host bits set in the entry: they are ignored. */
    assert_true(allowed(&al, "10.1.2.2"));
    assert_true(allowed(&al, "10.1.2.3"));
    assert_false(allowed(&al, "10.1.2.4"));
    /* /12 cuts inside a byte. */
    assert_true(allowed(&al, "172.16.0.1"));
    assert_true(allowed(&al, "172.31.255.255"));
    assert_false(allowed(&al, "172.32.0.0"));
    assert_false(allowed(&al, "172.15.255.255"));
    assert_true(allowed(&al, "::ffff:172.20.1.1"));
    scn__peer_allow_free(&al);
}

static void test_whole_ranges(void **state)
{
    const char *v4all[] = {"0.0.0.0/0"}, *host[] = {"8.8.8.8/32"};
    scn_peer_allow al;

    (void)state;
    assert_int_equal(scn__peer_allow_init(&al, v4all, 1), 0);
    assert_true(allowed(&al, "255.255.255.255"));
    assert_true(allowed(&al, "0.0.0.0"));
    assert_false(allowed(&al, "::1"));
    scn__peer_allow_free(&al);
    assert_int_equal(scn__peer_allow_init(&al, host, 1), 0);
    assert_true(allowed(&al, "8.8.8.8"));
    assert_false(allowed(&al, "8.8.8.9"));
    scn__peer_allow_free(&al);
}

static void test_ipv6_prefixes(void **state)
{
    const char *entries[] = {"fd00::/8", "2001:db8:1::/48",
                             "::ffff:10.0.0.0/104"};
    scn_peer_allow al;

    (void)state;
    assert_int_equal(scn__peer_allow_init(&al, entries, 3), 0);
    assert_true(allowed(&al, "fd12:3456::1"));
    assert_false(allowed(&al, "fe00::1"));
    assert_true(allowed(&al, "2001:db8:1:ffff::1"));
    assert_false(allowed(&al, "2001:db8:2::1"));
    /* A mapped prefix of 96 bits or more is an IPv4 prefix (here /8). */
    assert_true(allowed(&al, "10.200.0.1"));
    assert_true(allowed(&al, "::ffff:10.0.0.1"));
    assert_false(allowed(&al, "11.0.0.1"));
    scn__peer_allow_free(&al);
}

static void test_malformed_entries(void **state)
{
    const char *bad[] = {"10.0.0.0/33",
                         "10.0.0.0/",
                         "10.0.0.0/-1",
                         "10.0.0.0/+8",
                         "10.0.0.0/8 ",
                         "10.0.0.0/08x",
                         "::/129",
                         "/8",
                         "10.0.0.0/0008",
                         "host.example",
                         ""};
    const char *with_null[] = {"127.0.0.1", NULL};
    scn_peer_allow al;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(scn__peer_allow_init(&al, &bad[i], 1),
                         SCN_ERR_INVALID_ARG);
        /* A failed init leaves nothing to free; scn_server_new fails
         * with it, so its empty (allow-all) list is never used. */
        assert_int_equal(al.count, 0);
        scn__peer_allow_free(&al);
    }
    assert_int_equal(scn__peer_allow_init(&al, with_null, 2),
                     SCN_ERR_INVALID_ARG);
    scn__peer_allow_free(&al);
    assert_int_equal(scn__peer_allow_init(&al, NULL, 1), SCN_ERR_INVALID_ARG);
    scn__peer_allow_free(&al);
}

static void test_from_sockaddr(void **state)
{
    struct sockaddr_in in4;
    struct sockaddr_in6 in6;
    struct sockaddr_storage other;
    scn_ip_addr a;
    char text[SCN_IP_TEXT_MAX];

    (void)state;
    memset(&in4, 0, sizeof(in4));
    in4.sin_family = AF_INET;
    inet_pton(AF_INET, "127.0.0.2", &in4.sin_addr);
    assert_int_equal(
        scn__ip_from_sockaddr((struct sockaddr *)&in4, sizeof(in4), &a), 0);
    scn__ip_format(&a, text, sizeof(text));
    assert_string_equal(text, "127.0.0.2");

    memset(&in6, 0, sizeof(in6));
    in6.sin6_family = AF_INET6;
    inet_pton(AF_INET6, "::ffff:192.0.2.7", &in6.sin6_addr);
    assert_int_equal(
        scn__ip_from_sockaddr((struct sockaddr *)&in6, sizeof(in6), &a), 0);
    assert_int_equal(a.family, 4);
    scn__ip_format(&a, text, sizeof(text));
    assert_string_equal(text, "192.0.2.7");

    inet_pton(AF_INET6, "::1", &in6.sin6_addr);
    assert_int_equal(
        scn__ip_from_sockaddr((struct sockaddr *)&in6, sizeof(in6), &a), 0);
    assert_int_equal(a.family, 6);

    /* Short lengths and other families are refused, never read past. */
    assert_int_equal(
        scn__ip_from_sockaddr((struct sockaddr *)&in6, sizeof(in4), &a),
        SCN_ERR_UNSUPPORTED);
    memset(&other, 0, sizeof(other));
    other.ss_family = AF_UNIX;
    assert_int_equal(
        scn__ip_from_sockaddr((struct sockaddr *)&other, sizeof(other), &a),
        SCN_ERR_UNSUPPORTED);
    assert_int_equal(scn__ip_from_sockaddr(NULL, 0, &a), SCN_ERR_UNSUPPORTED);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_literals),
        cmocka_unit_test(test_empty_list_allows_everyone),
        cmocka_unit_test(test_single_addresses),
        cmocka_unit_test(test_ipv4_prefix_edges),
        cmocka_unit_test(test_whole_ranges),
        cmocka_unit_test(test_ipv6_prefixes),
        cmocka_unit_test(test_malformed_entries),
        cmocka_unit_test(test_from_sockaddr),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
