/* lib/mcap/recorder_schemas.c: every well-known stream has a topic and a JSON
 * Schema that is valid JSON, titled with its schema name. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <cmocka.h>
#include <scentience/recorder.h>

static void test_schemas_are_json(void **state)
{
    (void)state;
    for (int i = 0; i < SCN_RECORD_STREAM_COUNT; i++) {
        scn_record_stream s = (scn_record_stream)i;
        cJSON *doc = cJSON_Parse(scn_record_stream_schema(s));
        const cJSON *title = cJSON_GetObjectItemCaseSensitive(doc, "title");
        const cJSON *type = cJSON_GetObjectItemCaseSensitive(doc, "type");

        assert_non_null(doc);
        assert_true(cJSON_IsString(title));
        assert_string_equal(title->valuestring,
                            scn_record_stream_schema_name(s));
        assert_true(cJSON_IsString(type));
        assert_string_equal(type->valuestring, "object");
        /* Open to new keys: a protocol addition must not invalidate old
         * viewers' checks. */
        assert_null(
            cJSON_GetObjectItemCaseSensitive(doc, "additionalProperties"));
        assert_int_equal(scn_record_stream_topic(s)[0], '/');
        cJSON_Delete(doc);
    }
}

static void test_topics(void **state)
{
    (void)state;
    assert_string_equal(scn_record_stream_topic(SCN_RECORD_OLFACTION),
                        "/olfaction");
    assert_string_equal(scn_record_stream_topic(SCN_RECORD_EVENTS), "/events");
    assert_string_equal(scn_record_stream_topic(SCN_RECORD_CLOUD_RECORD),
                        "/cloud/record");
    assert_null(scn_record_stream_schema((scn_record_stream)-1));
    assert_null(scn_record_stream_schema_name(SCN_RECORD_STREAM_COUNT));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_schemas_are_json),
        cmocka_unit_test(test_topics),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
