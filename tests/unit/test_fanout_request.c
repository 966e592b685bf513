/* lib/live/fanout_request.c: live fan-out requests, every answer code of
 * docs/PROTOCOL.md 10.3, and strict JSON (escapes, trailing bytes). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "fanout_request.h"

static const char *parse(const char *text, scn_fanout_request *req)
{
    const char *why = NULL;
    const char *code =
        scn__fanout_request_parse(text, strlen(text), false, req, &why);

    /* An error always says why; success never does. */
    assert_true((code == NULL) == (why == NULL));
    return code;
}

static void test_requests(void **state)
{
    scn_fanout_request req;

    (void)state;
    assert_null(parse("{\"type\":\"subscribe\",\"streams\":[\"olfaction\","
                      "\"inference\",\"olfaction\",\"*\"]}",
                      &req));
    assert_true(req.subscribe);
    assert_true(req.all);
    assert_int_equal(req.n, 2);
    assert_string_equal(req.streams[0], "olfaction");
    assert_string_equal(req.streams[1], "inference");

    assert_null(parse(" {\"streams\":[],\"type\":\"unsubscribe\"}\n", &req));
    assert_false(req.subscribe);
    assert_int_equal(req.n, 0);
}

static void test_refusals(void **state)
{
    static const struct {
        const char *text, *code;
    } cases[] = {
        {"", "malformed"},
        {"[]", "malformed"},
        {"{\"type\":\"subscribe\",\"streams\":[]", "malformed"},
        {"{\"type\":1,\"streams\":[]}", "bad_request"},
        {"{\"streams\":[]}", "bad_request"},
        {"{\"type\":\"sub\",\"streams\":[]}", "unknown_type"},
        {"{\"type\":\"subscribe\"}", "bad_request"},
        {"{\"type\":\"subscribe\",\"streams\":\"a\"}", "bad_request"},
        {"{\"type\":\"subscribe\",\"streams\":[1]}", "bad_request"},
        {"{\"type\":\"subscribe\",\"streams\":[\"a b\"]}", "bad_request"},
        {"{\"type\":\"subscribe\",\"streams\":[\"\"]}", "bad_request"},
        /* Strict JSON: a lenient parse took these for "subscribe" to
         * "olfaction" (bad hex read as the end of the string, bytes
         * after the object ignored). */
        {"{\"type\":\"subscribe\\uZZZZjunk\",\"streams\":[\"olfaction\"]}",
         "malformed"},
        {"{\"type\":\"subscribe\",\"streams\":[\"olfaction\"]} trailing",
         "malformed"},
        {"{\"type\":\"subscribe\",\"streams\":[\"olfaction\",]}", "malformed"},
    };
    scn_fanout_request req;
    const char *why;
    char many[2048];

    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *code = parse(cases[i].text, &req);
        if (code == NULL || strcmp(code, cases[i].code) != 0)
            fail_msg("%s: %s, want %s", cases[i].text, code ? code : "accepted",
                     cases[i].code);
        assert_int_equal(req.n, 0);
        assert_false(req.all);
    }
    /* 33 distinct names are one too many; a binary frame is malformed. */
    strcpy(many, "{\"type\":\"subscribe\",\"streams\":[\"s0\"");
    for (int i = 1; i <= SCN_FANOUT_MAX_STREAMS; i++)
        snprintf(many + strlen(many), sizeof many - strlen(many), ",\"s%d\"",
                 i);
    strcat(many, "]}");
    assert_string_equal(parse(many, &req), "bad_request");
    assert_string_equal(scn__fanout_request_parse("{}", 2, true, &req, &why),
                        "malformed");
}

static void test_stream_names(void **state)
{
    char longest[SCN_FANOUT_STREAM_MAX + 2];

    (void)state;
    memset(longest, 'a', sizeof longest);
    assert_true(scn__fanout_stream_name_ok(longest, SCN_FANOUT_STREAM_MAX));
    assert_false(
        scn__fanout_stream_name_ok(longest, SCN_FANOUT_STREAM_MAX + 1));
    assert_true(scn__fanout_stream_name_ok("uav.state-2_x", 13));
    assert_false(scn__fanout_stream_name_ok("a\"", 2));
    assert_false(scn__fanout_stream_name_ok("", 0));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_requests),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_stream_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
