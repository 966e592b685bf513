/* lib/codec/frame_json.c number writer: every double it writes reads back as
 * the same double, and readings come out in their short decimal form. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "frame_internal.h"
#include "rng.h"

static const char *write_number(double x, char *buf, size_t cap)
{
    scn_jw w = {buf, 0, cap - 1, false, false};

    scn__jw_number(&w, x);
    assert_true(w.len < cap);
    buf[w.len] = '\0';
    return buf;
}

static void test_short_forms(void **state)
{
    char buf[64];

    (void)state;
    assert_string_equal(write_number(6.23, buf, sizeof(buf)), "6.23");
    assert_string_equal(write_number(4.5, buf, sizeof(buf)), "4.5");
    assert_string_equal(write_number(-0.5, buf, sizeof(buf)), "-0.5");
    assert_string_equal(write_number(6.05, buf, sizeof(buf)), "6.05");
    assert_string_equal(write_number(0.0001, buf, sizeof(buf)), "0.0001");
    assert_string_equal(write_number(1012.25, buf, sizeof(buf)), "1012.25");
    assert_string_equal(write_number(999999.123456789, buf, sizeof(buf)),
                        "999999.123456789");
    assert_string_equal(write_number(270, buf, sizeof(buf)), "270");
    assert_string_equal(write_number(-3, buf, sizeof(buf)), "-3");
}

static void check_round_trip(double x)
{
    char buf[64];

    write_number(x, buf, sizeof(buf));
    if (strtod(buf, NULL) != x)
        fail_msg("%.17g written as %s", x, buf);
}

static void test_random_round_trips(void **state)
{
    scn_rng rng;

    (void)state;
    scn__rng_seed(&rng, 12345);
    for (int i = 0; i < 200000; i++) {
        uint64_t bits = scn__rng_next(&rng);
        double x;

        /* Half arbitrary bit patterns, half sensor-like decimals. */
        if (i % 2) {
            memcpy(&x, &bits, sizeof(x));
            if (!isfinite(x))
                continue;
        } else {
            x = (double)(int64_t)(bits % 200000000) /
                pow(10, (double)((bits >> 60) % 9));
            if (bits & 1)
                x = -x;
        }
        check_round_trip(x);
    }
    check_round_trip(1e-4);
    check_round_trip(nextafter(1e6, 0));
    check_round_trip(0.1 + 0.2);
    check_round_trip(5e-324);
    check_round_trip(1.7976931348623157e308);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_short_forms),
        cmocka_unit_test(test_random_round_trips),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
