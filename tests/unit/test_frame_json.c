/* lib/codec/frame_json.c number writer: every double it writes reads back as
 * the same double, and readings come out in their short decimal form. And
 * the frame writer's length bound holds. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <scentience/frame.h>

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

/* scn__frame_write_max() is never below what scn__frame_write() writes,
 * and is exactly that when every name is written as it is. */
static void test_write_max(void **state)
{
    static const struct {
        const char *json;
        bool exact;
    } cases[] = {
        {"{\"UID\":\"S\",\"TIMESTAMP\":\"2025-08-29T21:00:00Z\"}", true},
        {"{\"UID\":\"S\",\"TIMESTAMP\":\"2025-08-29T21:00:00Z\",\"NH3\":1e15,"
         "\"_n\":{\"a\":[1,2,{\"b\":\"\\u00e9\"}]},\"s\":\"x\\ty\"}",
         true},
        {"{\"UID\":\"S\",\"TIMESTAMP\":\"2025-08-29T21:00:00Z\",\"q\\\"\":1,"
         "\"\\u0001\\u001f\":2,\"\\u00e9\\\\\":3}",
         false},
    };
    scn_frame *f;
    char buf[1024];
    (void)state;

    assert_int_equal(scn_frame_new(&f), 0);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        scn_jw w = {buf, 0, sizeof(buf), false, false};
        assert_int_equal(
            scn_frame_parse(f, cases[i].json, strlen(cases[i].json)), 0);
        scn__frame_write(&w, f);
        assert_true(w.len <= sizeof(buf));
        if (cases[i].exact)
            assert_int_equal(scn__frame_write_max(f), w.len);
        else
            assert_true(scn__frame_write_max(f) > w.len);
    }
    scn_frame_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_short_forms),
        cmocka_unit_test(test_random_round_trips),
        cmocka_unit_test(test_write_max),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
