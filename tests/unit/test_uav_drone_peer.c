/* uav/drone_peer.c: the addresses the state and video servers allow. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>
#include <netdb.h>
#include <scentience/error.h>

#include "drone_peer.h"

static int has(const scn_uav_drone_peers *p, const char *addr)
{
    for (size_t i = 0; i < p->count; i++)
        if (strcmp(p->list[i], addr) == 0 && p->list[i] == p->addr[i])
            return 1;
    return 0;
}

static void test_literals(void **state)
{
    scn_uav_drone_peers p;

    (void)state;
    assert_int_equal(scn__uav_drone_peers("ws://192.168.10.1:8889", NULL, &p),
                     0);
    assert_int_equal(p.count, 1);
    assert_true(has(&p, "192.168.10.1"));
    assert_int_equal(scn__uav_drone_peers("ws://[::1]:8889", NULL, &p), 0);
    assert_int_equal(p.count, 1);
    assert_true(has(&p, "::1"));
    /* allow_peer wins over the URL. */
    assert_int_equal(scn__uav_drone_peers("ws://10.0.0.1/", "10.0.0.2", &p), 0);
    assert_int_equal(p.count, 1);
    assert_true(has(&p, "10.0.0.2"));
    assert_int_equal(scn__uav_drone_peers(NULL, NULL, &p), SCN_ERR_INVALID_ARG);
    assert_int_equal(scn__uav_drone_peers("not a url", NULL, &p), SCN_ERR_URL);
}

/* Every address the resolver gives for the name is allowed, not only the
 * first (Debian's /etc/hosts gives localhost ::1 first, and a drone's
 * links from 127.0.0.1 were refused). */
static void test_a_name_allows_every_address(void **state)
{
    struct addrinfo hints, *res = NULL;
    scn_uav_drone_peers p;
    char addr[INET6_ADDRSTRLEN];
    size_t want = 0;

    (void)state;
    assert_int_equal(scn__uav_drone_peers("ws://localhost:8889", NULL, &p), 0);
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    assert_int_equal(getaddrinfo("localhost", NULL, &hints, &res), 0);
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        assert_int_equal(getnameinfo(ai->ai_addr, ai->ai_addrlen, addr,
                                     sizeof(addr), NULL, 0, NI_NUMERICHOST),
                         0);
        assert_true(has(&p, addr));
        want++;
    }
    freeaddrinfo(res);
    assert_true(p.count >= 1 && p.count <= want);
    assert_true(has(&p, "127.0.0.1"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_literals),
        cmocka_unit_test(test_a_name_allows_every_address),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
