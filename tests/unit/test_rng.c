/* splitmix64 and the bounded draws built on it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "rng.h"

/* Published splitmix64 outputs for seed 1234567 (the reference C code by
 * Vigna and Java's SplittableRandom agree on them). */
static void test_reference_vector(void **state)
{
    static const uint64_t expect[] = {
        6457827717110365317ull, 3203168211198807973ull, 9817491932198370423ull,
        4593380528125082431ull, 16408922859458223821ull};
    scn_rng r;
    size_t i;

    (void)state;
    scn__rng_seed(&r, 1234567);
    for (i = 0; i < sizeof(expect) / sizeof(expect[0]); i++)
        assert_int_equal(scn__rng_next(&r), expect[i]);
}

static void test_same_seed_same_stream(void **state)
{
    scn_rng a, b, c;
    int i, differ = 0;

    (void)state;
    scn__rng_seed(&a, 42);
    scn__rng_seed(&b, 42);
    scn__rng_seed(&c, 43);
    for (i = 0; i < 100; i++) {
        uint64_t x = scn__rng_next(&a);

        assert_int_equal(x, scn__rng_next(&b));
        differ += x != scn__rng_next(&c);
    }
    assert_int_equal(differ, 100);
}

static void test_upto_zero(void **state)
{
    scn_rng r;
    int i;

    (void)state;
    scn__rng_seed(&r, 7);
    for (i = 0; i < 10; i++)
        assert_int_equal(scn__rng_upto(&r, 0), 0);
}

static void test_upto_bounds_inclusive(void **state)
{
    static const uint32_t bounds[] = {1, 2, 7, 500, 30000, UINT32_MAX};
    scn_rng r;
    size_t b;

    (void)state;
    scn__rng_seed(&r, 99);
    for (b = 0; b < sizeof(bounds) / sizeof(bounds[0]); b++) {
        int i;

        for (i = 0; i < 20000; i++)
            assert_true(scn__rng_upto(&r, bounds[b]) <= bounds[b]);
    }
}

/* Both ends of [0, bound] are reachable: full jitter can reach the
 * ceiling itself. */
static void test_upto_reaches_both_ends(void **state)
{
    scn_rng r;
    int i, lo = 0, hi = 0;

    (void)state;
    scn__rng_seed(&r, 5);
    for (i = 0; i < 1000; i++) {
        uint32_t v = scn__rng_upto(&r, 3);

        lo += v == 0;
        hi += v == 3;
    }
    assert_true(lo > 150);
    assert_true(hi > 150);
}

/* With a small bound the rejection zone (2^64 mod range) is a handful of
 * values, so each draw is next() mod range. */
static void test_upto_is_modulo_of_next(void **state)
{
    scn_rng a, b;
    int i;

    (void)state;
    scn__rng_seed(&a, 2024);
    scn__rng_seed(&b, 2024);
    for (i = 0; i < 1000; i++)
        assert_int_equal(scn__rng_upto(&a, 9), scn__rng_next(&b) % 10);
}

static void test_upto_uniform(void **state)
{
    unsigned counts[10] = {0};
    scn_rng r;
    int i;

    (void)state;
    scn__rng_seed(&r, 31337);
    for (i = 0; i < 100000; i++)
        counts[scn__rng_upto(&r, 9)]++;
    for (i = 0; i < 10; i++) {
        assert_true(counts[i] > 9500);
        assert_true(counts[i] < 10500);
    }
}

static void test_os_seed(void **state)
{
    uint64_t a = scn__rng_os_seed(), b = scn__rng_os_seed();

    (void)state;
    assert_true(a != 0);
    assert_true(b != 0);
    assert_true(a != b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reference_vector),
        cmocka_unit_test(test_same_seed_same_stream),
        cmocka_unit_test(test_upto_zero),
        cmocka_unit_test(test_upto_bounds_inclusive),
        cmocka_unit_test(test_upto_reaches_both_ends),
        cmocka_unit_test(test_upto_is_modulo_of_next),
        cmocka_unit_test(test_upto_uniform),
        cmocka_unit_test(test_os_seed),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
