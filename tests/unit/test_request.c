/* lib/codec/request.c: the v1 requests, parsed back with cJSON to check them.
 */
#include <cjson/cJSON.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>
#include <scentience/error.h>

#include "request.h"

static cJSON *parse(const char *buf, size_t len)
{
    cJSON *root = cJSON_ParseWithLength(buf, len);
    assert_non_null(root);
    return root;
}

static void test_sample(void **state)
{
    char buf[SCN_REQUEST_MAX];
    size_t len;
    cJSON *r;

    (void)state;
    assert_int_equal(scn__request_sample(buf, sizeof(buf), 0, &len), 0);
    assert_string_equal(buf, "{\"type\":\"sample\"}");
    assert_int_equal(len, strlen(buf));
    assert_int_equal(scn__request_sample(buf, sizeof(buf), 7, &len), 0);
    r = parse(buf, len);
    assert_string_equal(cJSON_GetObjectItem(r, "type")->valuestring, "sample");
    assert_int_equal(cJSON_GetObjectItem(r, "id")->valueint, 7);
    cJSON_Delete(r);
}

static void test_stream_on_off_rate(void **state)
{
    char buf[SCN_REQUEST_MAX];
    size_t len;
    cJSON *r;

    (void)state;
    assert_int_equal(scn__request_stream(buf, sizeof(buf), 1, 0.1, 3, &len), 0);
    r = parse(buf, len);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(r, "on")));
    assert_true(cJSON_GetObjectItem(r, "rate_hz")->valuedouble == 0.1);
    assert_int_equal(cJSON_GetObjectItem(r, "id")->valueint, 3);
    cJSON_Delete(r);

    assert_int_equal(scn__request_stream(buf, sizeof(buf), 0, 0, 0, &len), 0);
    assert_string_equal(buf, "{\"type\":\"stream\",\"on\":false}");
    assert_int_equal(scn__request_stream(buf, sizeof(buf), 1, 0, 0, &len), 0);
    assert_string_equal(buf, "{\"type\":\"stream\",\"on\":true}");
}

static void test_stream_rate_limits(void **state)
{
    char buf[SCN_REQUEST_MAX];
    size_t len;

    (void)state;
    assert_int_equal(scn__request_stream(buf, sizeof(buf), 1, 1000, 0, &len),
                     0);
    assert_int_equal(scn__request_stream(buf, sizeof(buf), 1, 1000.5, 0, &len),
                     SCN_ERR_OUT_OF_RANGE);
    assert_int_equal(scn__request_stream(buf, sizeof(buf), 1, 0.09, 0, &len),
                     SCN_ERR_OUT_OF_RANGE);
    assert_int_equal(scn__request_stream(buf, sizeof(buf), 1, -1, 0, &len),
                     SCN_ERR_OUT_OF_RANGE);
    assert_int_equal(scn__request_stream(buf, sizeof(buf), 1, NAN, 0, &len),
                     SCN_ERR_OUT_OF_RANGE);
    assert_int_equal(scn__request_stream(buf, 8, 1, 10, 0, &len),
                     SCN_ERR_NOMEM);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sample),
        cmocka_unit_test(test_stream_on_off_rate),
        cmocka_unit_test(test_stream_rate_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
