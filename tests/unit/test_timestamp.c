/* ISO-8601 UTC timestamps: accepted forms, calendar checks, range edges,
 * formatting, and agreement with the C library's own UTC calendar. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include <scentience/error.h>
#include <scentience/frame.h>

#define NS INT64_C(1000000000)

static int64_t parse_ok(const char *text)
{
    int64_t ns = -42;

    if (scn_timestamp_parse(text, &ns) != 0)
        fail_msg("rejected: %s", text);
    return ns;
}

static void assert_rejected(const char *text)
{
    int64_t ns = 0;

    if (scn_timestamp_parse(text, &ns) != SCN_ERR_WRONG_TYPE)
        fail_msg("accepted: %s", text);
}

static void test_known_values(void **state)
{
    (void)state;
    assert_int_equal(parse_ok("1970-01-01T00:00:00Z"), 0);
    assert_int_equal(parse_ok("2025-08-29T21:00:00Z"),
                     INT64_C(1756501200000000000));
    assert_int_equal(parse_ok("2025-08-29T21:00:00+00:00"),
                     INT64_C(1756501200000000000));
    assert_int_equal(parse_ok("2000-01-01T00:00:00Z"), 946684800 * NS);
    assert_int_equal(parse_ok("1969-12-31T23:59:59Z"), -NS);
    assert_int_equal(parse_ok("1900-01-01T00:00:00Z"),
                     INT64_C(-2208988800) * NS);
}

static void test_fractions(void **state)
{
    (void)state;
    assert_int_equal(parse_ok("1970-01-01T00:00:00.5Z"), NS / 2);
    assert_int_equal(parse_ok("1970-01-01T00:00:00.123Z"), 123000000);
    assert_int_equal(parse_ok("1970-01-01T00:00:00.000000001Z"), 1);
    assert_int_equal(parse_ok("2025-08-29T21:00:00.123456789Z"),
                     INT64_C(1756501200123456789));
    assert_int_equal(parse_ok("2025-08-29T21:00:00.123456789+00:00"),
                     INT64_C(1756501200123456789));
    /* Before the epoch the fraction still counts forward in time. */
    assert_int_equal(parse_ok("1969-12-31T23:59:59.75Z"), -NS / 4);
    assert_rejected("2025-08-29T21:00:00.1234567891Z");
    assert_rejected("2025-08-29T21:00:00.Z");
    assert_rejected("2025-08-29T21:00:00,5Z");
}

static void test_leap_days(void **state)
{
    (void)state;
    assert_int_equal(parse_ok("2024-02-29T00:00:00Z"), 1709164800 * NS);
    assert_int_equal(parse_ok("2000-02-29T12:00:00Z"),
                     (951782400 + 43200) * NS);
    assert_rejected("2023-02-29T00:00:00Z");
    assert_rejected("1900-02-29T00:00:00Z"); /* century, not leap */
    assert_rejected("2024-02-30T00:00:00Z");
    assert_int_equal(parse_ok("2024-03-01T00:00:00Z") -
                         parse_ok("2024-02-28T00:00:00Z"),
                     2 * 86400 * NS);
    assert_int_equal(parse_ok("2023-03-01T00:00:00Z") -
                         parse_ok("2023-02-28T00:00:00Z"),
                     86400 * NS);
}

static void test_invalid_dates_and_times(void **state)
{
    (void)state;
    assert_rejected("2025-13-01T00:00:00Z");
    assert_rejected("2025-00-01T00:00:00Z");
    assert_rejected("2025-01-00T00:00:00Z");
    assert_rejected("2025-01-32T00:00:00Z");
    assert_rejected("2025-04-31T00:00:00Z");
    assert_rejected("2025-08-29T24:00:00Z");
    assert_rejected("2025-08-29T23:60:00Z");
    assert_rejected("2025-08-29T23:59:60Z"); /* leap second */
    assert_rejected("2025-8-29T21:00:00Z");
    assert_rejected("25-08-29T21:00:00Z");
    assert_rejected("2025-08-29T21:00Z");
    assert_rejected("2025-08-29");
    assert_rejected("");
    assert_rejected("not a time");
    assert_rejected("+2025-08-29T21:00:00Z");
}

static void test_utc_only(void **state)
{
    (void)state;
    assert_rejected("2025-08-29T21:00:00"); /* local time */
    assert_rejected("2025-08-29T21:00:00+01:00");
    assert_rejected("2025-08-29T21:00:00-05:00");
    assert_rejected("2025-08-29T21:00:00-00:00"); /* "offset unknown" */
    assert_rejected("2025-08-29T21:00:00+0000");
    assert_rejected("2025-08-29T21:00:00+00");
    assert_rejected("2025-08-29T21:00:00z");
    assert_rejected("2025-08-29t21:00:00Z");
    assert_rejected("2025-08-29 21:00:00Z");
    assert_rejected("2025-08-29T21:00:00ZZ");
    assert_rejected("2025-08-29T21:00:00Z ");
    assert_rejected("2025-08-29T21:00:00+00:00:00");
}

static void test_range_edges(void **state)
{
    (void)state;
    assert_int_equal(parse_ok("2262-04-11T23:47:16.854775807Z"), INT64_MAX);
    assert_rejected("2262-04-11T23:47:16.854775808Z");
    assert_rejected("2262-04-11T23:47:17Z");
    assert_rejected("9999-12-31T23:59:59Z");
    assert_int_equal(parse_ok("1677-09-21T00:12:43.145224192Z"), INT64_MIN);
    assert_rejected("1677-09-21T00:12:43.145224191Z");
    assert_rejected("1677-09-21T00:12:42Z");
    assert_rejected("0000-01-01T00:00:00Z");
}

static void test_null_arguments(void **state)
{
    int64_t ns;

    (void)state;
    assert_int_equal(scn_timestamp_parse(NULL, &ns), SCN_ERR_WRONG_TYPE);
    assert_int_equal(scn_timestamp_parse("1970-01-01T00:00:00Z", NULL),
                     SCN_ERR_WRONG_TYPE);
}

static void test_format(void **state)
{
    char buf[32];

    (void)state;
    assert_int_equal(scn_timestamp_format(0, buf, sizeof buf), 0);
    assert_string_equal(buf, "1970-01-01T00:00:00.000Z");
    assert_int_equal(
        scn_timestamp_format(INT64_C(1756501200123456789), buf, sizeof buf), 0);
    assert_string_equal(buf, "2025-08-29T21:00:00.123Z");
    /* Sub-millisecond digits are truncated toward the past. */
    assert_int_equal(scn_timestamp_format(-1, buf, sizeof buf), 0);
    assert_string_equal(buf, "1969-12-31T23:59:59.999Z");
    assert_int_equal(scn_timestamp_format(INT64_MAX, buf, sizeof buf), 0);
    assert_string_equal(buf, "2262-04-11T23:47:16.854Z");
    /* The first millisecond is partial: truncating it would leave the
     * range, so it is written as the first whole one. */
    assert_int_equal(scn_timestamp_format(INT64_MIN, buf, sizeof buf), 0);
    assert_string_equal(buf, "1677-09-21T00:12:43.146Z");
    assert_int_equal(scn_timestamp_format(1709164800 * NS, buf, sizeof buf), 0);
    assert_string_equal(buf, "2024-02-29T00:00:00.000Z");
}

/* Whatever the formatter writes, the parser reads: the millisecond it
 * names, at both ends of the range and around the epoch. */
static void test_format_round_trip(void **state)
{
    static const int64_t edges[] = {
        INT64_MIN,
        INT64_MIN + 1,
        INT64_MIN + 775807, /* last ns of the partial first millisecond */
        INT64_MIN + 775808, /* first whole millisecond */
        INT64_MIN + 775809,
        -1000001,
        -1,
        0,
        1,
        999999,
        INT64_MAX - 854775807,
        INT64_MAX - 1,
        INT64_MAX,
    };
    char buf[32], again[32];
    int64_t back, first_ms = INT64_MIN + 775808;

    (void)state;
    for (size_t i = 0; i < sizeof edges / sizeof edges[0]; i++) {
        int64_t ns = edges[i];
        int64_t ms = ns < first_ms ? first_ms
                                   : ns - ((ns % 1000000) + 1000000) % 1000000;
        assert_int_equal(scn_timestamp_format(ns, buf, sizeof buf), 0);
        if (scn_timestamp_parse(buf, &back) != 0)
            fail_msg("%lld formats as %s, which does not parse", (long long)ns,
                     buf);
        if (back != ms)
            fail_msg("%lld: %s reads as %lld", (long long)ns, buf,
                     (long long)back);
        assert_int_equal(scn_timestamp_format(back, again, sizeof again), 0);
        assert_string_equal(again, buf);
    }
}

static void test_format_buffer(void **state)
{
    char buf[32];

    (void)state;
    assert_int_equal(scn_timestamp_format(0, buf, 25), 0);
    assert_int_equal(strlen(buf), 24);
    assert_int_equal(scn_timestamp_format(0, buf, 24), SCN_ERR_INVALID_ARG);
    assert_int_equal(scn_timestamp_format(0, NULL, 32), SCN_ERR_INVALID_ARG);
}

/* The libc reference below needs every second from 1678 to 2261: a 32-bit
 * time_t (Debian 12 armhf's default) would cut them to 1901-2038 and the
 * reference, not the library, would be wrong. The build sets
 * _TIME_BITS=64. */
_Static_assert(sizeof(time_t) == 8,
               "the gmtime_r reference needs 64-bit time_t");

/* Every day (at a varying time of day) from 1678 to 2261 against gmtime_r,
 * then back through the parser. */
static void test_agrees_with_libc(void **state)
{
    char ours[32], ref[32], msbuf[8];
    int64_t first = INT64_MIN / NS / 86400 + 1;
    int64_t last = INT64_MAX / NS / 86400 - 1;

    (void)state;
    for (int64_t day = first; day <= last; day++) {
        int64_t secs = day * 86400 + (day * 7919) % 86400;
        int64_t ms = (day * 31) % 1000;
        if (ms < 0)
            ms += 1000;
        time_t t = (time_t)secs;
        struct tm tm;
        assert_non_null(gmtime_r(&t, &tm));
        strftime(ref, sizeof ref, "%Y-%m-%dT%H:%M:%S", &tm);
        snprintf(msbuf, sizeof msbuf, ".%03dZ", (int)ms);
        strcat(ref, msbuf);

        int64_t ns = secs * NS + ms * 1000000;
        assert_int_equal(scn_timestamp_format(ns, ours, sizeof ours), 0);
        if (strcmp(ours, ref) != 0)
            fail_msg("day %lld: %s != %s", (long long)day, ours, ref);
        assert_int_equal(parse_ok(ours), ns);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_values),
        cmocka_unit_test(test_fractions),
        cmocka_unit_test(test_leap_days),
        cmocka_unit_test(test_invalid_dates_and_times),
        cmocka_unit_test(test_utc_only),
        cmocka_unit_test(test_range_edges),
        cmocka_unit_test(test_null_arguments),
        cmocka_unit_test(test_format),
        cmocka_unit_test(test_format_round_trip),
        cmocka_unit_test(test_format_buffer),
        cmocka_unit_test(test_agrees_with_libc),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
