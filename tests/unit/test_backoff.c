/* Reconnect delays: defaults, ceilings, the jittered schedule, limits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <cmocka.h>

#include "backoff.h"

static void test_defaults(void **state)
{
    scn_backoff b;

    (void)state;
    scn__backoff_init(&b, NULL);
    assert_int_equal(b.policy.initial_ms, 500);
    assert_int_equal(b.policy.max_ms, 30000);
    assert_true(b.policy.factor == 2.0);
    assert_int_equal(b.policy.max_attempts, 0);
    assert_int_equal(b.policy.healthy_ms, 10000);
    assert_int_equal(b.attempt, 0);
}

static void test_zero_fields_get_defaults(void **state)
{
    scn_backoff_policy p = {0, 0, 0.0, 4, 0};
    scn_backoff b;

    (void)state;
    scn__backoff_init(&b, &p);
    assert_int_equal(b.policy.initial_ms, 500);
    assert_int_equal(b.policy.max_ms, 30000);
    assert_true(b.policy.factor == 2.0);
    assert_int_equal(b.policy.max_attempts, 4);
    assert_int_equal(b.policy.healthy_ms, 10000);
}

static void test_odd_policies_are_tamed(void **state)
{
    scn_backoff_policy p = {9000, 1000, 0.5, 0, 1};
    scn_backoff b;

    (void)state;
    scn__backoff_init(&b, &p);
    assert_int_equal(b.policy.initial_ms, 1000); /* initial > max: max */
    assert_true(b.policy.factor == 1.0);         /* factor < 1: 1 */
    assert_int_equal(b.policy.healthy_ms, 1);
    p.factor = NAN;
    scn__backoff_init(&b, &p);
    assert_true(b.policy.factor == 1.0);
    p.factor = -3.0;
    scn__backoff_init(&b, &p);
    assert_true(b.policy.factor == 1.0);
}

/* Ceilings double from 500 and stop at 30000 for good. */
static void test_ceilings_double_and_cap(void **state)
{
    static const uint32_t expect[] = {500,   1000,  2000,  4000,  8000,
                                      16000, 30000, 30000, 30000, 30000};
    scn_backoff b;
    scn_rng r;
    size_t i;

    (void)state;
    scn__backoff_init(&b, NULL);
    scn__rng_seed(&r, 1);
    for (i = 0; i < sizeof(expect) / sizeof(expect[0]); i++) {
        assert_int_equal(scn__backoff_ceiling(&b), expect[i]);
        assert_true(scn__backoff_next(&b, &r) <= expect[i]);
        assert_int_equal(b.attempt, i + 1);
    }
}

static void test_ceiling_huge_attempt_no_overflow(void **state)
{
    scn_backoff_policy p = {1000, UINT32_MAX, 10.0, 0, 0};
    scn_backoff b;

    (void)state;
    scn__backoff_init(&b, NULL);
    b.attempt = UINT32_MAX - 1;
    assert_int_equal(scn__backoff_ceiling(&b), 30000);
    b.attempt = 64; /* 2^64 * 500 would wrap any integer */
    assert_int_equal(scn__backoff_ceiling(&b), 30000);

    scn__backoff_init(&b, &p);
    b.attempt = 5; /* 1000 * 10^5 = 1e8, below UINT32_MAX */
    assert_int_equal(scn__backoff_ceiling(&b), 100000000u);
    b.attempt = 7; /* 1e10 > UINT32_MAX */
    assert_int_equal(scn__backoff_ceiling(&b), UINT32_MAX);
}

static void test_factor_one_and_fraction(void **state)
{
    scn_backoff_policy one = {700, 30000, 1.0, 0, 0};
    scn_backoff_policy half = {500, 30000, 1.5, 0, 0};
    scn_backoff b;

    (void)state;
    scn__backoff_init(&b, &one);
    b.attempt = 1000000;
    assert_int_equal(scn__backoff_ceiling(&b), 700);

    scn__backoff_init(&b, &half);
    b.attempt = 1;
    assert_int_equal(scn__backoff_ceiling(&b), 750);
    b.attempt = 2;
    assert_int_equal(scn__backoff_ceiling(&b), 1125);
    b.attempt = 3; /* 1687.5 */
    assert_int_equal(scn__backoff_ceiling(&b), 1687);
}

/* The exact schedule for a fixed seed: each delay is a uniform draw in
 * [0, ceiling] from the same stream, the ceiling computed here by hand. */
static void test_exact_schedule_for_seed(void **state)
{
    scn_backoff b;
    scn_rng r, ref;
    uint32_t ceiling = 500;
    int i;

    (void)state;
    scn__backoff_init(&b, NULL);
    scn__rng_seed(&r, 0xC0FFEE);
    scn__rng_seed(&ref, 0xC0FFEE);
    for (i = 0; i < 12; i++) {
        uint32_t expect = scn__rng_upto(&ref, ceiling);

        assert_int_equal(scn__backoff_next(&b, &r), expect);
        ceiling = ceiling * 2 > 30000 ? 30000 : ceiling * 2;
    }
}

static void test_delays_never_exceed_ceiling(void **state)
{
    uint64_t seed;

    (void)state;
    for (seed = 1; seed <= 200; seed++) {
        scn_backoff b;
        scn_rng r;
        int i;

        scn__backoff_init(&b, NULL);
        scn__rng_seed(&r, seed);
        for (i = 0; i < 20; i++) {
            uint32_t c = scn__backoff_ceiling(&b);

            assert_true(c <= 30000);
            assert_true(scn__backoff_next(&b, &r) <= c);
        }
    }
}

static void test_reset_restarts_schedule(void **state)
{
    scn_backoff b;
    scn_rng r;
    int i;

    (void)state;
    scn__backoff_init(&b, NULL);
    scn__rng_seed(&r, 3);
    for (i = 0; i < 5; i++)
        scn__backoff_next(&b, &r);
    assert_int_equal(scn__backoff_ceiling(&b), 16000);
    scn__backoff_reset(&b);
    assert_int_equal(b.attempt, 0);
    assert_int_equal(scn__backoff_ceiling(&b), 500);
    assert_true(scn__backoff_next(&b, &r) <= 500);
}

static void test_exhausted(void **state)
{
    scn_backoff_policy p = {0, 0, 0.0, 3, 0};
    scn_backoff b;
    scn_rng r;
    int i;

    (void)state;
    scn__rng_seed(&r, 9);
    scn__backoff_init(&b, &p);
    for (i = 0; i < 3; i++) {
        assert_false(scn__backoff_exhausted(&b));
        scn__backoff_next(&b, &r);
    }
    assert_true(scn__backoff_exhausted(&b));
    scn__backoff_reset(&b);
    assert_false(scn__backoff_exhausted(&b));

    scn__backoff_init(&b, NULL); /* 0: unlimited */
    for (i = 0; i < 1000; i++)
        scn__backoff_next(&b, &r);
    assert_false(scn__backoff_exhausted(&b));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_zero_fields_get_defaults),
        cmocka_unit_test(test_odd_policies_are_tamed),
        cmocka_unit_test(test_ceilings_double_and_cap),
        cmocka_unit_test(test_ceiling_huge_attempt_no_overflow),
        cmocka_unit_test(test_factor_one_and_fraction),
        cmocka_unit_test(test_exact_schedule_for_seed),
        cmocka_unit_test(test_delays_never_exceed_ceiling),
        cmocka_unit_test(test_reset_restarts_schedule),
        cmocka_unit_test(test_exhausted),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
