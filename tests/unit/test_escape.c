/* scn_escape_text, scn__log escaping every line it hands out, level names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <scentience/log.h>

#include "log.h"

/* The escaped form of text[0..len), in a buffer that always fits. */
static const char *esc(const char *text, size_t len)
{
    static char out[1024];
    size_t need = scn_escape_text(out, sizeof(out), text, len);

    assert_int_equal(need, strlen(out));
    return out;
}

#define ESC(lit) esc(lit, sizeof(lit) - 1)

static void test_printable_text_is_kept(void **state)
{
    (void)state;
    assert_string_equal(ESC("NH3 270 ppb: {\"a\":1} ~!"),
                        "NH3 270 ppb: {\"a\":1} ~!");
    assert_string_equal(ESC(""), "");
    assert_string_equal(esc(NULL, 0), "");
}

static void test_controls_and_backslash_are_escaped(void **state)
{
    (void)state;
    assert_string_equal(ESC("a\nb\r\tc"), "a\\nb\\r\\tc");
    assert_string_equal(ESC("\x1b[31mred\x07"), "\\x1b[31mred\\x07");
    assert_string_equal(ESC("a\\nb"), "a\\\\nb");
    assert_string_equal(ESC("del\x7f"), "del\\x7f");
    assert_string_equal(ESC("nul\0after"), "nul\\x00after");
    /* A forged log line stays on the one line it arrived in. */
    assert_string_equal(ESC("x\n[error] session: forged"),
                        "x\\n[error] session: forged");
}

static void test_valid_utf8_is_kept(void **state)
{
    (void)state;
    assert_string_equal(ESC("caf\xc3\xa9 \xe6\x97\xa5 \xf0\x9f\x91\x83"),
                        "caf\xc3\xa9 \xe6\x97\xa5 \xf0\x9f\x91\x83");
}

static void test_invalid_utf8_is_escaped_byte_by_byte(void **state)
{
    (void)state;
    assert_string_equal(ESC("\xff"), "\\xff");
    assert_string_equal(ESC("\xc0\xaf"), "\\xc0\\xaf");          /* overlong */
    assert_string_equal(ESC("\xe0\x80\xaf"), "\\xe0\\x80\\xaf"); /* overlong */
    assert_string_equal(ESC("\xe6\x97"), "\\xe6\\x97");          /* cut */
    assert_string_equal(ESC("\xed\xa0\x80"), "\\xed\\xa0\\x80"); /* surrogate */
    assert_string_equal(ESC("\xf4\x90\x80\x80"),
                        "\\xf4\\x90\\x80\\x80"); /* above U+10FFFF */
    assert_string_equal(ESC("a\x80z"), "a\\x80z");
}

static void test_terminal_controls_in_utf8_are_escaped(void **state)
{
    (void)state;
    assert_string_equal(ESC("\xc2\x9b"
                            "2J"),
                        "\\u009b2J"); /* 8-bit CSI */
    assert_string_equal(ESC("abc\xe2\x80\xae"
                            "fed"),
                        "abc\\u202efed");
    assert_string_equal(ESC("\xe2\x81\xa6x\xe2\x81\xa9"), "\\u2066x\\u2069");
    assert_string_equal(ESC("l1\xe2\x80\xa8l2"), "l1\\u2028l2");
}

static void test_cut_before_an_escape_never_inside(void **state)
{
    char out[8];

    (void)state;
    /* "ab\ncd" needs 6 bytes; 4 hold "ab" and the NUL, not half of \n. */
    assert_int_equal(scn_escape_text(out, 4, "ab\ncd", 5), 6);
    assert_string_equal(out, "ab");
    assert_int_equal(scn_escape_text(out, 5, "ab\ncd", 5), 6);
    assert_string_equal(out, "ab\\n");
    /* Nothing after a part that did not fit, even if it would. */
    assert_int_equal(scn_escape_text(out, 4,
                                     "a\x1b"
                                     "b",
                                     3),
                     6);
    assert_string_equal(out, "a");
    assert_int_equal(scn_escape_text(out, 1, "abc", 3), 3);
    assert_string_equal(out, "");
    assert_int_equal(scn_escape_text(NULL, 0, "a\nb", 3), 4);
}

static char logged[4096];

static void capture(scn_log_level level, const char *component,
                    const char *message, void *user)
{
    (void)level;
    (void)component;
    (void)user;
    strncpy(logged, message, sizeof(logged) - 1);
}

static void test_every_log_line_is_escaped(void **state)
{
    scn_logger lg = {capture, NULL, SCN_LOG_DEBUG};
    char big[600];

    (void)state;
    scn__log(&lg, SCN_LOG_WARN, "session", "device error: %s",
             "boom\r\n[info] session: OPEN\x1b]0;owned\x07");
    assert_string_equal(logged, "device error: boom\\r\\n[info] session: "
                                "OPEN\\x1b]0;owned\\x07");
    /* A line cut at 511 bytes, escaped: every byte still accounted. */
    memset(big, '\x01', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    scn__log(&lg, SCN_LOG_WARN, "session", "%s", big);
    assert_int_equal(strlen(logged), 511 * 4);
    assert_null(strchr(logged, '\x01'));
}

static void test_level_names(void **state)
{
    (void)state;
    assert_string_equal(scn_log_level_name(SCN_LOG_ERROR), "error");
    assert_string_equal(scn_log_level_name(SCN_LOG_WARN), "warn");
    assert_string_equal(scn_log_level_name(SCN_LOG_INFO), "info");
    assert_string_equal(scn_log_level_name(SCN_LOG_DEBUG), "debug");
    assert_string_equal(scn_log_level_name((scn_log_level)9), "?");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_printable_text_is_kept),
        cmocka_unit_test(test_controls_and_backslash_are_escaped),
        cmocka_unit_test(test_valid_utf8_is_kept),
        cmocka_unit_test(test_invalid_utf8_is_escaped_byte_by_byte),
        cmocka_unit_test(test_terminal_controls_in_utf8_are_escaped),
        cmocka_unit_test(test_cut_before_an_escape_never_inside),
        cmocka_unit_test(test_every_log_line_is_escaped),
        cmocka_unit_test(test_level_names),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
