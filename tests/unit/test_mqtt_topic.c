/* lib/mqtt/mqtt_topic.c: topic names, filters and matching. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <scentience/mqtt.h>

#include "mqtt_topic.h"

static void test_names(void **state)
{
    char *long_topic = malloc(65537);

    (void)state;
    assert_true(scn__mqtt_topic_valid("scentience/v1/drone-1/olfaction"));
    assert_true(scn__mqtt_topic_valid("/"));
    assert_true(scn__mqtt_topic_valid("caf\xc3\xa9"));
    assert_false(scn__mqtt_topic_valid(""));
    assert_false(scn__mqtt_topic_valid(NULL));
    assert_false(scn__mqtt_topic_valid("a/+/b"));
    assert_false(scn__mqtt_topic_valid("a/#"));
    assert_false(scn__mqtt_topic_valid("a\nb"));
    assert_false(scn__mqtt_topic_valid("a\x7f"));
    assert_false(scn__mqtt_topic_valid("bad\xc3"));      /* cut UTF-8 */
    assert_false(scn__mqtt_topic_valid("\xed\xa0\x80")); /* surrogate */
    assert_non_null(long_topic);
    memset(long_topic, 'a', 65535);
    long_topic[65535] = '\0';
    assert_true(scn__mqtt_topic_valid(long_topic));
    long_topic[65535] = 'a';
    long_topic[65536] = '\0';
    assert_false(scn__mqtt_topic_valid(long_topic));
    free(long_topic);
}

static void test_filters(void **state)
{
    (void)state;
    assert_true(scn__mqtt_filter_valid("scentience/v1/+/#"));
    assert_true(scn__mqtt_filter_valid("#"));
    assert_true(scn__mqtt_filter_valid("+"));
    assert_true(scn__mqtt_filter_valid("+/+"));
    assert_true(scn__mqtt_filter_valid("a/+"));
    assert_false(scn__mqtt_filter_valid("a/#/b"));
    assert_false(scn__mqtt_filter_valid("a#"));
    assert_false(scn__mqtt_filter_valid("a/b+"));
    assert_false(scn__mqtt_filter_valid("a/+b/c"));
    assert_false(scn__mqtt_filter_valid(""));
}

static void test_matching(void **state)
{
    (void)state;
    assert_true(scn_mqtt_topic_matches("scentience/v1/+/#",
                                       "scentience/v1/d1/olfaction"));
    assert_true(scn_mqtt_topic_matches("scentience/v1/+/#",
                                       "scentience/v1/d1/command/reply"));
    assert_true(
        scn_mqtt_topic_matches("scentience/v1/+/#", "scentience/v1/d1"));
    assert_false(scn_mqtt_topic_matches("scentience/v1/+/#", "scentience/v1"));
    assert_true(scn_mqtt_topic_matches("a/+/c", "a/b/c"));
    assert_true(scn_mqtt_topic_matches("a/+/c", "a//c"));
    assert_false(scn_mqtt_topic_matches("a/+/c", "a/b/c/d"));
    assert_false(scn_mqtt_topic_matches("a/+/c", "a/b"));
    assert_true(scn_mqtt_topic_matches("a/b", "a/b"));
    assert_false(scn_mqtt_topic_matches("a/b", "a/bc"));
    assert_false(scn_mqtt_topic_matches("a/bc", "a/b"));
    assert_false(scn_mqtt_topic_matches("a/b", "a/b/"));
    assert_true(scn_mqtt_topic_matches("#", "a/b"));
    assert_true(scn_mqtt_topic_matches("+/+", "a/b"));
    assert_true(scn_mqtt_topic_matches("+", "a"));
    assert_false(scn_mqtt_topic_matches("+", "a/b"));
    assert_true(scn_mqtt_topic_matches("/+", "/x"));
    /* $ topics are not matched by a leading wildcard. */
    assert_false(scn_mqtt_topic_matches("#", "$SYS/uptime"));
    assert_false(scn_mqtt_topic_matches("+/uptime", "$SYS/uptime"));
    assert_true(scn_mqtt_topic_matches("$SYS/#", "$SYS/uptime"));
    /* Invalid filter or topic: no match. */
    assert_false(scn_mqtt_topic_matches("a/#/b", "a/x/b"));
    assert_false(scn_mqtt_topic_matches("a/#", "a/+"));
    assert_false(scn_mqtt_topic_matches(NULL, "a"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_filters),
        cmocka_unit_test(test_matching),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
