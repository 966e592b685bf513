/* apps/common/json_obj.c: JSON objects grown on the heap up to a limit,
 * nothing cut and nothing left out without a trace. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <scentience/error.h>

#include "json_obj.h"

/* A member far longer than the 4 KiB stack buffer scn-record once used is
 * kept whole, byte for byte, and nothing is said to be left out. */
static void test_long_member_kept_whole(void **state)
{
    size_t n = 600 * 1024;
    char *msg = malloc(n + 1), *want = malloc(n + 64);
    json_obj o;
    size_t len;

    (void)state;
    assert_non_null(msg);
    assert_non_null(want);
    msg[0] = '{';
    memcpy(msg + 1, "\"k\":\"", 5);
    memset(msg + 6, 'x', n - 8);
    memcpy(msg + n - 2, "\"}", 3);
    json_obj_begin(&o, 2 * n);
    json_obj_str(&o, "event", "message");
    json_obj_raw(&o, "message", msg, n);
    json_obj_int(&o, "n", -42);
    len = json_obj_end(&o);
    snprintf(want, n + 64, "{\"event\":\"message\",\"message\":%s,\"n\":-42}",
             msg);
    assert_int_equal(len, strlen(want));
    assert_string_equal(o.buf, want);
    assert_int_equal(o.err, 0);
    assert_int_equal(o.left_out_count, 0);
    assert_null(o.left_out);
    json_obj_free(&o);
    assert_null(o.buf);
    free(msg);
    free(want);
}

/* Strings are escaped as the library writes them (control characters,
 * quotes, invalid UTF-8), however much longer that makes them. */
static void test_escaped_strings_grow(void **state)
{
    char value[3000];
    json_obj o;
    size_t len;

    (void)state;
    memset(value, '\x01', sizeof(value) - 1);
    value[sizeof(value) - 1] = '\0';
    json_obj_begin(&o, 1 << 20);
    json_obj_str(&o, "detail", value);
    json_obj_str(&o, "q", "a\"b\\c\xff");
    len = json_obj_end(&o);
    /* {"detail":"<2999 x \u0001>","q":"a\"b\\c\ufffd"} */
    assert_int_equal(len, 11 + 2999 * 6 + 1 + 5 + 15 + 1);
    assert_memory_equal(o.buf, "{\"detail\":\"\\u0001\\u0001", 23);
    assert_string_equal(o.buf + len - 22, "\",\"q\":\"a\\\"b\\\\c\\ufffd\"}");
    assert_int_equal(o.err, 0);
    json_obj_free(&o);
}

/* Over the limit: the member is left out whole (never cut), the first one
 * left out is named with its length, later members that fit still go in,
 * and the object stays valid and closed. */
static void test_over_limit_left_out_and_named(void **state)
{
    char big[101];
    json_obj o;

    (void)state;
    memset(big, 'y', 100);
    big[100] = '\0';
    json_obj_begin(&o, 64);
    json_obj_str(&o, "event", "x");
    json_obj_str(&o, "message", big);
    json_obj_raw(&o, "raw", big, 100);
    json_obj_int(&o, "after", 1);
    assert_int_equal(json_obj_end(&o), strlen("{\"event\":\"x\",\"after\":1}"));
    assert_string_equal(o.buf, "{\"event\":\"x\",\"after\":1}");
    assert_int_equal(o.err, SCN_ERR_MESSAGE_TOO_BIG);
    assert_string_equal(o.left_out, "message");
    assert_int_equal(o.left_out_bytes, 102);
    assert_int_equal(o.left_out_count, 2);
    json_obj_free(&o);
}

/* The member left out is named in the object itself (its key, length
 * and reason), after the members that went in; nothing when none was. */
static void test_left_out_named_in_the_object(void **state)
{
    char big[101];
    json_obj o;

    (void)state;
    memset(big, 'y', 100);
    big[100] = '\0';
    json_obj_begin(&o, 110);
    json_obj_str(&o, "event", "x");
    json_obj_str(&o, "detail", big);
    json_obj_name_left_out(&o);
    json_obj_end(&o);
    assert_string_equal(o.buf, "{\"event\":\"x\",\"left_out\":\"detail\","
                               "\"left_out_bytes\":102,\"left_out_reason\":"
                               "\"MESSAGE_TOO_BIG\"}");
    json_obj_free(&o);

    json_obj_begin(&o, 160);
    json_obj_str(&o, "event", "x");
    json_obj_name_left_out(&o);
    json_obj_end(&o);
    assert_string_equal(o.buf, "{\"event\":\"x\"}");
    json_obj_free(&o);
}

/* The line the apps print for a record not kept whole names the record,
 * the member, its length, the reason and the count. */
static void test_incomplete_said_on_a_line(void **state)
{
    char line[256] = "";
    char big[101];
    FILE *f = tmpfile();
    json_obj o;

    (void)state;
    assert_non_null(f);
    memset(big, 'y', 100);
    big[100] = '\0';
    json_obj_begin(&o, 110);
    json_obj_str(&o, "event", "x");
    json_obj_str(&o, "detail", big);
    json_obj_say_incomplete(&o, f, "error", 3, 0);
    json_obj_say_incomplete(&o, f, "error", 4, 2);
    rewind(f);
    assert_non_null(fgets(line, sizeof(line), f));
    assert_string_equal(line, "\"error\" record lost its \"detail\" (102 "
                              "bytes): message larger than the configured "
                              "maximum; 3 records "
                              "incomplete\n");
    assert_non_null(fgets(line, sizeof(line), f));
    assert_non_null(strstr(line, "; 4 records incomplete (2 lines held "
                                 "back)\n"));
    fclose(f);
    json_obj_free(&o);
}

/* The limit is the text's length: exactly at it fits, one byte over does
 * not, and the closing brace always has its room. */
static void test_limit_is_exact(void **state)
{
    const char *want = "{\"a\":\"bc\"}";
    json_obj o;

    (void)state;
    json_obj_begin(&o, strlen(want));
    json_obj_str(&o, "a", "bc");
    assert_int_equal(json_obj_end(&o), strlen(want));
    assert_string_equal(o.buf, want);
    assert_int_equal(o.err, 0);
    json_obj_free(&o);

    json_obj_begin(&o, strlen(want) - 1);
    json_obj_str(&o, "a", "bc");
    assert_int_equal(json_obj_end(&o), 2);
    assert_string_equal(o.buf, "{}");
    assert_int_equal(o.err, SCN_ERR_MESSAGE_TOO_BIG);
    assert_string_equal(o.left_out, "a");
    assert_int_equal(o.left_out_bytes, 4);
    json_obj_free(&o);
}

/* No limit to speak of (SIZE_MAX) is no overflow either. */
static void test_unbounded_limit(void **state)
{
    json_obj o;

    (void)state;
    json_obj_begin(&o, SIZE_MAX);
    for (int i = 0; i < 1000; i++)
        json_obj_int(&o, "k", i);
    assert_true(json_obj_end(&o) > 1000 * 5);
    assert_int_equal(o.err, 0);
    assert_int_equal(o.members, 1000);
    json_obj_free(&o);
}

/* Pieces: text as it is, strings escaped, null for NULL and "". */
static void test_pieces(void **state)
{
    char answer[200];
    json_obj o;

    (void)state;
    memset(answer, '\xfe', sizeof(answer) - 1);
    answer[sizeof(answer) - 1] = '\0';
    json_obj_init(&o, 64 * 1024);
    assert_int_equal(json_obj_text(&o, "{\"id\":"), 0);
    assert_int_equal(json_obj_string(&o, "op-1"), 0);
    assert_int_equal(json_obj_text(&o, ",\"e\":"), 0);
    assert_int_equal(json_obj_string(&o, NULL), 0);
    assert_int_equal(json_obj_text(&o, ",\"d\":"), 0);
    assert_int_equal(json_obj_string(&o, ""), 0);
    /* 199 bytes that are not UTF-8: \ufffd each, past any 1 KiB buffer. */
    assert_int_equal(json_obj_text(&o, ",\"answer\":"), 0);
    assert_int_equal(json_obj_string(&o, answer), 0);
    assert_int_equal(json_obj_text(&o, "}"), 0);
    assert_int_equal(o.len, 40 + 199 * 6 + 2 + 1);
    assert_memory_equal(o.buf, "{\"id\":\"op-1\",\"e\":null,\"d\":null,", 31);
    assert_string_equal(o.buf + o.len - 8, "\\ufffd\"}");
    assert_int_equal(o.err, 0);
    json_obj_free(&o);
}

/* Pieces over the limit: nothing more is added after the first that did
 * not fit (the text would not be JSON), and err says why. */
static void test_pieces_stop_at_first_failure(void **state)
{
    json_obj o;

    (void)state;
    json_obj_init(&o, 8);
    assert_int_equal(json_obj_text(&o, "{\"a\":"), 0);
    assert_int_equal(json_obj_string(&o, "long"), SCN_ERR_MESSAGE_TOO_BIG);
    assert_int_equal(json_obj_text(&o, "}"), SCN_ERR_MESSAGE_TOO_BIG);
    assert_int_equal(o.len, 5);
    assert_string_equal(o.buf, "{\"a\":");
    json_obj_free(&o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_long_member_kept_whole),
        cmocka_unit_test(test_escaped_strings_grow),
        cmocka_unit_test(test_over_limit_left_out_and_named),
        cmocka_unit_test(test_left_out_named_in_the_object),
        cmocka_unit_test(test_incomplete_said_on_a_line),
        cmocka_unit_test(test_limit_is_exact),
        cmocka_unit_test(test_unbounded_limit),
        cmocka_unit_test(test_pieces),
        cmocka_unit_test(test_pieces_stop_at_first_failure),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
