/* lib/mqtt/mqtt_record.c: a spooled QoS 1 message's record. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>
#include <scentience/error.h>

#include "mqtt_record.h"

static void test_round_trip(void **state)
{
    unsigned char buf[64];
    scn_mqtt_record r;
    size_t n;

    (void)state;
    n = scn__mqtt_record_encode(buf, sizeof(buf), "a/b", 3, "xyz\0w", 5, true);
    assert_int_equal(n, scn__mqtt_record_size(3, 5));
    assert_int_equal(n, 4 + 3 + 1 + 5);
    assert_int_equal(scn__mqtt_record_decode(buf, n, &r), 0);
    assert_string_equal(r.topic, "a/b");
    assert_int_equal(r.topic_len, 3);
    assert_int_equal(r.len, 5);
    assert_memory_equal(r.payload, "xyz\0w", 5);
    assert_true(r.retain);
    /* An empty payload. */
    n = scn__mqtt_record_encode(buf, sizeof(buf), "t", 1, NULL, 0, false);
    assert_int_equal(scn__mqtt_record_decode(buf, n, &r), 0);
    assert_int_equal(r.len, 0);
    assert_false(r.retain);
    /* Too small a buffer. */
    assert_int_equal(scn__mqtt_record_encode(buf, 5, "a/b", 3, "x", 1, false),
                     0);
}

static void test_damaged_records_are_refused(void **state)
{
    unsigned char buf[64], bad[64];
    scn_mqtt_record r;
    size_t n;

    (void)state;
    n = scn__mqtt_record_encode(buf, sizeof(buf), "a/b", 3, "xy", 2, false);
    assert_int_equal(scn__mqtt_record_decode(buf, 3, &r), SCN_ERR_MALFORMED);
    memcpy(bad, buf, n);
    bad[0] = 2; /* version */
    assert_int_equal(scn__mqtt_record_decode(bad, n, &r), SCN_ERR_MALFORMED);
    memcpy(bad, buf, n);
    bad[1] = 0x80; /* unknown flag */
    assert_int_equal(scn__mqtt_record_decode(bad, n, &r), SCN_ERR_MALFORMED);
    memcpy(bad, buf, n);
    bad[3] = 60; /* topic past the end */
    assert_int_equal(scn__mqtt_record_decode(bad, n, &r), SCN_ERR_MALFORMED);
    memcpy(bad, buf, n);
    bad[3] = 0; /* empty topic */
    assert_int_equal(scn__mqtt_record_decode(bad, n, &r), SCN_ERR_MALFORMED);
    memcpy(bad, buf, n);
    bad[7] = 'z'; /* the topic's NUL */
    assert_int_equal(scn__mqtt_record_decode(bad, n, &r), SCN_ERR_MALFORMED);
    memcpy(bad, buf, n);
    bad[5] = 0; /* a NUL inside the topic */
    assert_int_equal(scn__mqtt_record_decode(bad, n, &r), SCN_ERR_MALFORMED);
}

static void test_topic_limit(void **state)
{
    (void)state;
    assert_int_not_equal(scn__mqtt_record_size(65535, 10), 0);
    assert_int_equal(scn__mqtt_record_size(65536, 10), 0);
    assert_int_equal(scn__mqtt_record_size(3, SIZE_MAX - 4), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_damaged_records_are_refused),
        cmocka_unit_test(test_topic_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
