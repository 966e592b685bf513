/* apps/common/fleet_topic.c: the fleet's topic tree, seqs and envelope. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "fleet_topic.h"

static void test_topics_and_qos(void **state)
{
    char buf[FLEET_TOPIC_MAX], id[FLEET_DRONE_ID_MAX + 1];
    fleet_stream s;

    (void)state;
    assert_int_equal(fleet_topic(buf, sizeof(buf), "d7", FLEET_OLFACTION),
                     strlen("scentience/v1/d7/olfaction"));
    assert_string_equal(buf, "scentience/v1/d7/olfaction");
    fleet_topic(buf, sizeof(buf), "d7", FLEET_REQUEST);
    assert_string_equal(buf, "scentience/v1/d7/command/request");
    /* The longest id and stream fit the documented maximum. */
    assert_true(fleet_topic(buf, sizeof(buf), "abcdefghijklmnopqrstuvw",
                            FLEET_REQUEST) > 0);
    for (int i = 0; i < FLEET_STREAM_COUNT; i++) {
        assert_true(fleet_topic(buf, sizeof(buf), "x-1_Z", (fleet_stream)i));
        assert_int_equal(fleet_topic_parse(buf, id, sizeof(id), &s), 0);
        assert_string_equal(id, "x-1_Z");
        assert_int_equal(s, i);
        assert_int_equal(fleet_stream_qos((fleet_stream)i, 0),
                         i == FLEET_OLFACTION || i == FLEET_STATE ? 0 : 1);
        assert_int_equal(fleet_stream_qos((fleet_stream)i, 1), 1);
        assert_int_equal(fleet_stream_retained((fleet_stream)i),
                         i == FLEET_STATUS);
    }
    /* Ids that would break the tree or a client id: refused. */
    assert_int_equal(fleet_topic(buf, sizeof(buf), "a/b", FLEET_STATE), 0);
    assert_int_equal(fleet_topic(buf, sizeof(buf), "+", FLEET_STATE), 0);
    assert_int_equal(fleet_topic(buf, sizeof(buf), "#", FLEET_STATE), 0);
    assert_int_equal(fleet_topic(buf, sizeof(buf), "", FLEET_STATE), 0);
    assert_int_equal(
        fleet_topic(buf, sizeof(buf), "abcdefghijklmnopqrstuvwx", FLEET_STATE),
        0);
    assert_int_equal(fleet_topic(buf, 10, "d7", FLEET_STATE), 0);
    assert_int_equal(fleet_topic(buf, sizeof(buf), "d7", FLEET_STREAM_COUNT),
                     0);
    /* Parsing takes only the tree. */
    assert_int_equal(
        fleet_topic_parse("scentience/v2/d7/state", id, sizeof(id), &s), -1);
    assert_int_equal(
        fleet_topic_parse("scentience/v1/d7/bogus", id, sizeof(id), &s), -1);
    assert_int_equal(
        fleet_topic_parse("scentience/v1/d7/state/x", id, sizeof(id), &s), -1);
    assert_int_equal(fleet_topic_parse("scentience/v1/d7", id, sizeof(id), &s),
                     -1);
    assert_int_equal(
        fleet_topic_parse("scentience/v1/d+7/state", id, sizeof(id), &s), -1);
    assert_int_equal(fleet_topic_parse("scentience/v1/d7/state", id, 2, &s),
                     -1);
}

static void test_seq_per_topic(void **state)
{
    fleet_seqs q = {{0}};

    (void)state;
    assert_int_equal(fleet_seq_next(&q, FLEET_OLFACTION), 1);
    assert_int_equal(fleet_seq_next(&q, FLEET_OLFACTION), 2);
    assert_int_equal(fleet_seq_next(&q, FLEET_EVENTS), 1);
    assert_int_equal(fleet_seq_next(&q, FLEET_OLFACTION), 3);
    assert_int_equal(fleet_seq_next(&q, FLEET_EVENTS), 2);
}

static void test_envelope(void **state)
{
    const uint8_t rnd[8] = {0x5f, 0x0c, 0x2a, 0x9d, 0x81, 0xe4, 0xb7, 0xc3};
    char run[FLEET_RUN_LEN + 1], buf[256];
    const char *doc = "{\"a\":[1,2]}";
    size_t n;
    cJSON *j;

    (void)state;
    fleet_run_id(run, rnd);
    assert_string_equal(run, "5f0c2a9d81e4b7c3");
    n = fleet_envelope(buf, sizeof(buf), run, 42, 1733552400123456789LL, doc,
                       strlen(doc));
    assert_string_equal(buf, "{\"run\":\"5f0c2a9d81e4b7c3\",\"seq\":42,"
                             "\"ts\":1733552400123456789,\"data\":"
                             "{\"a\":[1,2]}}");
    assert_int_equal(n, strlen(buf));
    j = cJSON_Parse(buf);
    assert_non_null(j);
    assert_true(cJSON_IsArray(
        cJSON_GetObjectItem(cJSON_GetObjectItem(j, "data"), "a")));
    cJSON_Delete(j);
    /* The will's form: no time. */
    fleet_envelope(buf, sizeof(buf), run, 0, -1, "{}", 2);
    assert_string_equal(buf, "{\"run\":\"5f0c2a9d81e4b7c3\",\"seq\":0,"
                             "\"data\":{}}");
    /* Too small: nothing written, the length needed returned. */
    memset(buf, 'X', sizeof(buf));
    assert_int_equal(fleet_envelope(buf, n, run, 42, 1733552400123456789LL, doc,
                                    strlen(doc)),
                     n);
    assert_int_equal(buf[0], 'X');
    assert_int_equal(fleet_envelope(buf, n + 1, run, 42, 1733552400123456789LL,
                                    doc, strlen(doc)),
                     n);
    assert_int_equal(buf[n], '\0');
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_topics_and_qos),
        cmocka_unit_test(test_seq_per_topic),
        cmocka_unit_test(test_envelope),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
