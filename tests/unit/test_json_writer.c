/* include/scentience/json_writer.h: the string and number pieces every
 * JSON text of the library and the apps is written with. Each output is
 * also read back with cJSON to show it is the JSON it claims to be. */
#include <float.h>
#include <locale.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <cjson/cJSON.h>
#include <scentience/json_writer.h>

#include "comma_locale.h"

static const char *str(const char *s, size_t len, char *out, size_t cap)
{
    size_t n = scn_json_write_string(out, cap, s, len);

    assert_true(n < cap);
    assert_int_equal(strlen(out), n);
    return out;
}

#define STR(lit, out) str(lit, sizeof(lit) - 1, out, sizeof(out))

/* What cJSON decodes from the literal out. */
static void decodes_to(const char *out, const char *want, size_t want_len)
{
    cJSON *v = cJSON_Parse(out);

    assert_non_null(v);
    assert_true(cJSON_IsString(v));
    assert_memory_equal(v->valuestring, want, want_len);
    cJSON_Delete(v);
}

static void test_plain_and_quotes(void **state)
{
    char out[64];

    (void)state;
    assert_string_equal(STR("CO2", out), "\"CO2\"");
    assert_string_equal(STR("", out), "\"\"");
    assert_string_equal(STR("a\"b\\c/d", out), "\"a\\\"b\\\\c/d\"");
    decodes_to(out, "a\"b\\c/d", 8);
    assert_int_equal(scn_json_write_string(out, sizeof(out), NULL, 0), 2);
    assert_string_equal(out, "\"\"");
}

static void test_control_characters(void **state)
{
    char out[256];
    char all[32];

    (void)state;
    assert_string_equal(STR("\b\f\n\r\t", out), "\"\\b\\f\\n\\r\\t\"");
    assert_string_equal(STR("a\x01z\x1f\x7f", out), "\"a\\u0001z\\u001f\x7f\"");
    /* A NUL inside the text is written, not taken as its end. */
    assert_string_equal(STR("x\0y", out), "\"x\\u0000y\"");
    for (int i = 0; i < 32; i++)
        all[i] = (char)(i + 1 == 32 ? 0 : i + 1);
    str(all, sizeof(all), out, sizeof(out));
    for (const char *p = out; *p; p++)
        assert_true((unsigned char)*p >= 0x20);
    decodes_to(out, all, 31); /* cJSON's strings stop at the NUL */
}

static void test_utf8(void **state)
{
    char out[64];

    (void)state;
    /* Valid UTF-8 of every length is copied as it is. */
    assert_string_equal(STR("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", out),
                        "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"");
    /* A stray continuation byte, an overlong '/', a surrogate, a code
     * point above U+10FFFF and a sequence cut short: one U+FFFD per byte
     * that is not part of a valid sequence. */
    assert_string_equal(STR("a\x80z", out), "\"a\\ufffdz\"");
    assert_string_equal(STR("\xc0\xaf", out), "\"\\ufffd\\ufffd\"");
    assert_string_equal(STR("\xed\xa0\x80", out), "\"\\ufffd\\ufffd\\ufffd\"");
    assert_string_equal(STR("\xf4\x90\x80\x80", out),
                        "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");
    assert_string_equal(STR("ok\xe2\x82", out), "\"ok\\ufffd\\ufffd\"");
    decodes_to(out, "ok\xef\xbf\xbd\xef\xbf\xbd", 8);
    /* The sequence is judged within len, not past it. */
    assert_string_equal(str("\xc3\xa9", 1, out, sizeof(out)), "\"\\ufffd\"");
}

static void test_bounded(void **state)
{
    char out[8];
    size_t n;

    (void)state;
    /* Too small: the needed length, and the empty string, never a cut
     * literal. */
    memset(out, 'X', sizeof(out));
    n = scn_json_write_string(out, sizeof(out), "abc\"def", 7);
    assert_int_equal(n, 10);
    assert_string_equal(out, "");
    /* Exactly the literal and its NUL. */
    n = scn_json_write_string(out, sizeof(out), "abcde", 5);
    assert_int_equal(n, 7);
    assert_string_equal(out, "\"abcde\"");
    /* One byte short of the NUL. */
    n = scn_json_write_string(out, 7, "abcde", 5);
    assert_int_equal(n, 7);
    assert_string_equal(out, "");
    /* Measuring only. */
    assert_int_equal(scn_json_write_string(NULL, 0, "\n", 1), 4);
    assert_int_equal(scn_json_write_number(NULL, 0, 6.23), 4);
    n = scn_json_write_number(out, 3, 6.23);
    assert_int_equal(n, 4);
    assert_string_equal(out, "");
}

static const char *num(double x, char *out)
{
    size_t n = scn_json_write_number(out, SCN_JSON_NUMBER_MAX, x);

    assert_true(n < SCN_JSON_NUMBER_MAX);
    assert_int_equal(strlen(out), n);
    return out;
}

static void test_numbers(void **state)
{
    static const double hard[] = {0.1,    1.0 / 3,       -2.5e-300,
                                  1e300,  DBL_MAX,       -DBL_MIN,
                                  5e-324, 123456789.125, 9007199254740993.0};
    char out[SCN_JSON_NUMBER_MAX];

    (void)state;
    assert_string_equal(num(42, out), "42");
    assert_string_equal(num(-7, out), "-7");
    assert_string_equal(num(6.23, out), "6.23");
    assert_string_equal(num(0, out), "0");
    assert_string_equal(num(NAN, out), "null");
    assert_string_equal(num(INFINITY, out), "null");
    assert_string_equal(num(-INFINITY, out), "null");
    for (size_t i = 0; i < sizeof hard / sizeof hard[0]; i++) {
        cJSON *v = cJSON_Parse(num(hard[i], out));
        assert_non_null(v);
        assert_true(cJSON_IsNumber(v));
        if (v->valuedouble != hard[i])
            fail_msg("%.17g written as %s", hard[i], out);
        cJSON_Delete(v);
    }
}

/* An application's LC_NUMERIC changes nothing (comma_locale.h). */
static void test_numbers_locale(void **state)
{
    static const double xs[] = {6.23, 0.12345678901234567, 1.5e-30, 2.5e25,
                                -1e-7};
    char c_out[5][SCN_JSON_NUMBER_MAX], out[SCN_JSON_NUMBER_MAX];
    const char *set = NULL;

    (void)state;
    assert_non_null(setlocale(LC_NUMERIC, "C"));
    for (size_t i = 0; i < 5; i++)
        num(xs[i], c_out[i]);
    set = test_comma_locale();
    for (size_t i = 0; i < 5; i++) {
        num(xs[i], out);
        if (strcmp(out, c_out[i]) != 0) {
            setlocale(LC_NUMERIC, "C");
            fail_msg("%s under %s, %s in C", out, set, c_out[i]);
        }
    }
    setlocale(LC_NUMERIC, "C");
    assert_non_null(strchr(c_out[1], '.'));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_and_quotes),
        cmocka_unit_test(test_control_characters),
        cmocka_unit_test(test_utf8),
        cmocka_unit_test(test_bounded),
        cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_numbers_locale),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
