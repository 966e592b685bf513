/* Names resolved on a thread of their own (lib/core/resolve.c): the
 * result handed to the loop through an eventfd, and the job freed by
 * whichever side lets go last. Threaded: make tsan runs it too. No test
 * here needs a DNS server: addresses resolve without one, and a name with
 * a label over 63 bytes is refused by the stub resolver before it asks. */
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <scentience/error.h>

#include "resolve.h"

#define JOBS 32

/* Waits (without a deadline: ctest's timeout is the bound) until the
 * job's descriptor is readable. */
static void wait_readable(scn_resolve *r)
{
    struct pollfd p = {.fd = scn__resolve_fd(r), .events = POLLIN};

    while (poll(&p, 1, -1) != 1)
        ;
    assert_true(p.revents & POLLIN);
}

static void resolve_one(const char *host, int want_err, const char *want)
{
    scn_addr_text addrs[SCN_RESOLVE_MAX];
    scn_resolve *r;
    size_t n = 99;

    assert_int_equal(scn__resolve_start(host, &r), 0);
    wait_readable(r);
    assert_int_equal(scn__resolve_result(r, addrs, &n), want_err);
    if (want) {
        assert_true(n >= 1);
        assert_string_equal(addrs[0], want);
    } else {
        assert_int_equal(n, 0);
    }
    scn__resolve_free(r);
}

static void test_addresses_come_back_as_text(void **state)
{
    (void)state;
    resolve_one("127.0.0.1", 0, "127.0.0.1");
    resolve_one("::1", 0, "::1");
    assert_true(scn__resolve_is_address("10.1.2.3"));
    assert_true(scn__resolve_is_address("fe80::1"));
    assert_false(scn__resolve_is_address("drone.local"));
    assert_false(scn__resolve_is_address("10.1.2"));
}

static void test_unresolvable_name_is_resolve_error(void **state)
{
    char host[80];

    (void)state;
    memset(host, 'a', 64);
    memcpy(host + 64, ".invalid", sizeof(".invalid"));
    resolve_one(host, SCN_ERR_RESOLVE, NULL);
}

/* Many jobs at once, each read back once its descriptor says so: every
 * thread's result reaches the loop whole. */
static void test_many_jobs_at_once(void **state)
{
    scn_resolve *r[JOBS];
    scn_addr_text addrs[SCN_RESOLVE_MAX], want;
    size_t n;

    (void)state;
    for (int i = 0; i < JOBS; i++) {
        snprintf(want, sizeof(want), "127.0.0.%d", i + 1);
        assert_int_equal(scn__resolve_start(want, &r[i]), 0);
    }
    for (int i = 0; i < JOBS; i++) {
        wait_readable(r[i]);
        assert_int_equal(scn__resolve_result(r[i], addrs, &n), 0);
        assert_int_equal(n, 1);
        snprintf(want, sizeof(want), "127.0.0.%d", i + 1);
        assert_string_equal(addrs[0], want);
        scn__resolve_free(r[i]);
    }
}

/* The loop lets go first (a session closed while its name resolves):
 * neither side waits, and the thread still finishing frees the job. The
 * sanitizer builds see a use after free, a leak or a race here. */
static void test_free_before_the_result(void **state)
{
    scn_resolve *r[JOBS];
    scn_addr_text addrs[SCN_RESOLVE_MAX];
    size_t n;
    int rc;

    (void)state;
    for (int i = 0; i < JOBS; i++)
        assert_int_equal(scn__resolve_start("::1", &r[i]), 0);
    for (int i = 0; i < JOBS; i += 2) {
        /* Either not there yet or there: never anything else. */
        rc = scn__resolve_result(r[i], addrs, &n);
        assert_true(rc == SCN_ERR_STATE || (rc == 0 && n == 1));
        scn__resolve_free(r[i]);
    }
    for (int i = 1; i < JOBS; i += 2) {
        wait_readable(r[i]);
        assert_int_equal(scn__resolve_result(r[i], addrs, &n), 0);
        scn__resolve_free(r[i]);
    }
    scn__resolve_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_addresses_come_back_as_text),
        cmocka_unit_test(test_unresolvable_name_is_resolve_error),
        cmocka_unit_test(test_many_jobs_at_once),
        cmocka_unit_test(test_free_before_the_result),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
