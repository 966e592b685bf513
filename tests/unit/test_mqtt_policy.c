/* lib/mqtt/mqtt_policy.c: refusals, fatal failures, broker URLs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
#include <scentience/error.h>

#include "mqtt_policy.h"

static void test_connack_codes(void **state)
{
    (void)state;
    /* Mosquitto refuses a wrong password with "not authorised" (5). */
    assert_int_equal(scn__mqtt_connack_error(5, true), SCN_ERR_MQTT_AUTH);
    assert_int_equal(scn__mqtt_connack_error(5, false),
                     SCN_ERR_MQTT_NOT_AUTHORISED);
    assert_int_equal(scn__mqtt_connack_error(4, true), SCN_ERR_MQTT_AUTH);
    assert_int_equal(scn__mqtt_connack_error(4, false), SCN_ERR_MQTT_AUTH);
    assert_int_equal(scn__mqtt_connack_error(1, true), SCN_ERR_MQTT_REFUSED);
    assert_int_equal(scn__mqtt_connack_error(2, true), SCN_ERR_MQTT_REFUSED);
    assert_int_equal(scn__mqtt_connack_error(3, true), SCN_ERR_TRY_AGAIN);
    /* MQTT 5 reason codes. */
    assert_int_equal(scn__mqtt_connack_error(0x86, true), SCN_ERR_MQTT_AUTH);
    assert_int_equal(scn__mqtt_connack_error(0x87, false),
                     SCN_ERR_MQTT_NOT_AUTHORISED);
    assert_int_equal(scn__mqtt_connack_error(0x8A, true),
                     SCN_ERR_MQTT_NOT_AUTHORISED);
    assert_int_equal(scn__mqtt_connack_error(0x89, true), SCN_ERR_TRY_AGAIN);
    assert_int_equal(scn__mqtt_connack_error(0x85, true), SCN_ERR_MQTT_REFUSED);
    assert_int_equal(scn__mqtt_connack_error(200, true), SCN_ERR_MQTT_REFUSED);
}

static void test_fatal_only_with_fail_fast(void **state)
{
    (void)state;
    assert_true(scn__mqtt_failure_is_fatal(SCN_ERR_MQTT_AUTH, true));
    assert_true(scn__mqtt_failure_is_fatal(SCN_ERR_MQTT_NOT_AUTHORISED, true));
    assert_true(scn__mqtt_failure_is_fatal(SCN_ERR_TLS, true));
    assert_false(scn__mqtt_failure_is_fatal(SCN_ERR_MQTT_AUTH, false));
    assert_false(scn__mqtt_failure_is_fatal(SCN_ERR_TLS, false));
    /* A broker that is down or busy, or that refused the protocol, is
     * retried even with fail_fast_auth. */
    assert_false(scn__mqtt_failure_is_fatal(SCN_ERR_NETWORK, true));
    assert_false(scn__mqtt_failure_is_fatal(SCN_ERR_TRY_AGAIN, true));
    assert_false(scn__mqtt_failure_is_fatal(SCN_ERR_MQTT_REFUSED, true));
    assert_false(scn__mqtt_failure_is_fatal(SCN_ERR_DEAD_PEER, true));
}

static void test_urls(void **state)
{
    char host[64];
    int port;
    bool tls;

    (void)state;
    assert_int_equal(scn__mqtt_url_parse("mqtt://broker.lan", host,
                                         sizeof(host), &port, &tls),
                     0);
    assert_string_equal(host, "broker.lan");
    assert_int_equal(port, 1883);
    assert_false(tls);
    assert_int_equal(scn__mqtt_url_parse("mqtts://10.0.0.2:18883/", host,
                                         sizeof(host), &port, &tls),
                     0);
    assert_string_equal(host, "10.0.0.2");
    assert_int_equal(port, 18883);
    assert_true(tls);
    assert_int_equal(
        scn__mqtt_url_parse("mqtts://[::1]", host, sizeof(host), &port, &tls),
        0);
    assert_string_equal(host, "::1");
    assert_int_equal(port, 8883);
    const char *bad[] = {"ws://h",
                         "mqtt://",
                         "mqtt://h:0",
                         "mqtt://h:65536",
                         "mqtt://h:",
                         "mqtt://h:1x",
                         "mqtt://u@h",
                         "mqtt://h/path",
                         "mqtt://[::1",
                         "http://h:1883",
                         "mqtt://h:99999999999",
                         "mqtt://[a/b]",
                         "mqtt://a]b",
                         "mqtt://h?x",
                         "mqtt://[h]",
                         "mqtt://[::1]x"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(
            scn__mqtt_url_parse(bad[i], host, sizeof(host), &port, &tls),
            SCN_ERR_URL);
    /* A host longer than the buffer. */
    assert_int_equal(
        scn__mqtt_url_parse("mqtt://abcdefgh", host, 8, &port, &tls),
        SCN_ERR_URL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_connack_codes),
        cmocka_unit_test(test_fatal_only_with_fail_fast),
        cmocka_unit_test(test_urls),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
