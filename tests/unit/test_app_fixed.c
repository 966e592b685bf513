/* apps/common/fixed.c: byte for byte what printf's "%.Nf" writes. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "fixed.h"
#include "rng.h"

static void same_as_printf(double x, unsigned digits)
{
    char want[512], got[512];
    size_t n = fixed_text(got, sizeof got, x, digits);

    snprintf(want, sizeof want, "%.*f", (int)digits, x);
    if (strcmp(got, want) != 0 || n != strlen(want))
        fail_msg("%.17g with %u digits: \"%s\", printf \"%s\"", x, digits, got,
                 want);
}

static void test_edges(void **state)
{
    static const double xs[] = {
        0.0,     -0.0,    0.5,    1.5,      2.5,
        -2.5,    0.25,    0.35,   0.0625,   0.0005,
        0.0015,  -0.0004, 1e-300, -5e-324,  999999999.9999,
        1e9,     -1e9,    1e300,  0.1,      0.295,
        133.512, 359.95,  0.9995, INFINITY, -INFINITY,
        NAN,
    };

    (void)state;
    for (size_t i = 0; i < sizeof(xs) / sizeof(xs[0]); i++)
        for (unsigned d = 0; d <= 5; d++)
            same_as_printf(xs[i], d);
}

/* Random values: short decimals (ties and near-ties), scores and
 * bearings as the cloud sends them, any bit pattern. */
static void test_random(void **state)
{
    scn_rng rng;

    (void)state;
    scn__rng_seed(&rng, 2024);
    for (int i = 0; i < 300000; i++) {
        uint64_t bits = scn__rng_next(&rng);
        double x;
        switch (i % 4) {
        case 0: /* halves of the last digit: 0.0005, 12.25, ... */
            x = (double)(bits % 20000001) / 20000.0;
            break;
        case 1:
            x = (double)(bits % 1000001) / 1000000.0;
            break;
        case 2:
            x = ldexp((double)(bits >> 11), -(int)(bits % 80));
            break;
        default:
            memcpy(&x, &bits, sizeof x);
        }
        if (bits & 1)
            x = -x;
        same_as_printf(x, (unsigned)(i % 4));
    }
}

/* A short buffer gets what snprintf gives: cut, NUL-terminated, and the
 * whole length returned. */
static void test_short_buffer(void **state)
{
    char buf[4];

    (void)state;
    assert_int_equal(fixed_text(buf, sizeof buf, -12.345, 3), 7);
    assert_string_equal(buf, "-12");
    assert_int_equal(fixed_text(NULL, 0, 0.5, 1), 3);
}

/* "%llu": the edges and random values of every length. */
static void test_uint(void **state)
{
    static const uint64_t edges[] = {0, 9, 10, 99, 100, UINT64_MAX};
    char want[32], got[32];
    scn_rng rng;

    (void)state;
    scn__rng_seed(&rng, 7);
    for (int i = 0; i < 100000; i++) {
        uint64_t u = i < 6 ? edges[i] : scn__rng_next(&rng) >> (i % 64);
        size_t n = uint_text(got, u);
        got[n] = '\0';
        snprintf(want, sizeof want, "%llu", (unsigned long long)u);
        assert_string_equal(got, want);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_edges),
        cmocka_unit_test(test_random),
        cmocka_unit_test(test_short_buffer),
        cmocka_unit_test(test_uint),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
