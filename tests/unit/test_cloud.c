/* scn_cloud_predict_url: the endpoint a predict URL stands for
 * (docs/PROTOCOL.md 9.6). The exchange itself is in
 * tests/integration/test_cloud.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <scentience/cloud.h>
#include <scentience/error.h>

static const char *map(const char *url)
{
    static char out[512];

    assert_int_equal(scn_cloud_predict_url(url, out, sizeof(out)), 0);
    return out;
}

static void test_default_is_the_production_service(void **state)
{
    (void)state;
    assert_string_equal(map(NULL), "https://api.scentience.ai/v1/predict");
}

static void test_stream_urls_are_mapped(void **state)
{
    (void)state;
    assert_string_equal(map("ws://127.0.0.1:8080"),
                        "http://127.0.0.1:8080/v1/predict");
    assert_string_equal(map("ws://127.0.0.1:8080/v1/stream?stream=x"),
                        "http://127.0.0.1:8080/v1/predict");
    assert_string_equal(map("wss://api.scentience.ai/v1/stream"),
                        "https://api.scentience.ai/v1/predict");
    assert_string_equal(map("ws://[::1]:9/"), "http://[::1]:9/v1/predict");
}

static void test_base_urls_get_the_path(void **state)
{
    (void)state;
    assert_string_equal(map("http://127.0.0.1:8080"),
                        "http://127.0.0.1:8080/v1/predict");
    assert_string_equal(map("https://h.example/"),
                        "https://h.example/v1/predict");
    assert_string_equal(map("https://h.example/scentience/"),
                        "https://h.example/scentience/v1/predict");
}

static void test_explicit_endpoints_are_kept(void **state)
{
    (void)state;
    assert_string_equal(map("https://api.scentience.ai/v1/predict"),
                        "https://api.scentience.ai/v1/predict");
    assert_string_equal(map("http://h:1/custom/predict?x=1"),
                        "http://h:1/custom/predict?x=1");
}

static void test_refused(void **state)
{
    char out[64];

    (void)state;
    assert_int_equal(scn_cloud_predict_url("ftp://h/", out, sizeof(out)),
                     SCN_ERR_URL);
    assert_string_equal(out, "");
    assert_int_equal(scn_cloud_predict_url("http://", out, sizeof(out)),
                     SCN_ERR_URL);
    assert_int_equal(scn_cloud_predict_url("http://h:99999/", out, sizeof(out)),
                     SCN_ERR_URL);
    assert_int_equal(
        scn_cloud_predict_url("api.scentience.ai", out, sizeof(out)),
        SCN_ERR_URL);
    assert_int_equal(scn_cloud_predict_url("http://h/", out, 10),
                     SCN_ERR_INVALID_ARG);
    assert_string_equal(out, "");
    assert_int_equal(scn_cloud_predict_url("http://h/", NULL, 0),
                     SCN_ERR_INVALID_ARG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_is_the_production_service),
        cmocka_unit_test(test_stream_urls_are_mapped),
        cmocka_unit_test(test_base_urls_get_the_path),
        cmocka_unit_test(test_explicit_endpoints_are_kept),
        cmocka_unit_test(test_refused),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
