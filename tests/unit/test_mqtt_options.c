/* scn_mqtt_new's option checks (lib/mqtt/mqtt.c): every number has a
 * range, and 0 is refused where it would not work; it no longer stands
 * for "the default" (scn_mqtt_options_init gives the defaults). The client
 * is only made, never run: no broker is needed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <scentience/error.h>
#include <scentience/loop.h>
#include <scentience/mqtt.h>

static int setup(void **state)
{
    scn_loop *loop;

    if (scn_loop_new(NULL, &loop) != 0)
        return -1;
    *state = loop;
    return 0;
}

static int teardown(void **state)
{
    scn_loop_free(*state);
    return 0;
}

static void base(scn_mqtt_options *o)
{
    scn_mqtt_options_init(o);
    o->url = "mqtt://127.0.0.1:1";
    o->client_id = "unit-options";
}

/* What scn_mqtt_new says of o (the client freed when made). */
static int made(scn_loop *loop, const scn_mqtt_options *o)
{
    scn_mqtt *m = NULL;
    int rc = scn_mqtt_new(loop, o, &m);

    if (rc == 0) {
        assert_non_null(m);
        scn_mqtt_free(m);
    } else {
        assert_null(m);
    }
    return rc;
}

static void test_defaults_are_accepted(void **state)
{
    scn_mqtt_options o;

    base(&o);
    assert_int_equal(o.keepalive_s, 10);
    assert_int_equal(o.max_inflight, 32);
    assert_int_equal(o.backoff_min_ms, 250);
    assert_int_equal(o.backoff_max_ms, 10000);
    assert_int_equal(made(*state, &o), 0);
}

static void test_ranges(void **state)
{
    scn_mqtt_options o;

#define REFUSED(field, value)                                                  \
    do {                                                                       \
        base(&o);                                                              \
        o.field = value;                                                       \
        assert_int_equal(made(*state, &o), SCN_ERR_INVALID_ARG);               \
    } while (0)
#define ACCEPTED(field, value)                                                 \
    do {                                                                       \
        base(&o);                                                              \
        o.field = value;                                                       \
        assert_int_equal(made(*state, &o), 0);                                 \
    } while (0)
    REFUSED(keepalive_s, 0);
    REFUSED(keepalive_s, 4);
    ACCEPTED(keepalive_s, 5);
    ACCEPTED(keepalive_s, 65535);
    REFUSED(keepalive_s, 65536);
    REFUSED(max_inflight, 0);
    ACCEPTED(max_inflight, 1);
    REFUSED(max_inflight, 65536);
    REFUSED(spool_cap_bytes, 0);
    REFUSED(spool_cap_bytes, 1023);
    ACCEPTED(spool_cap_bytes, 1024);
    REFUSED(backoff_min_ms, 0);
    REFUSED(backoff_max_ms, 249); /* below the default minimum */
    ACCEPTED(backoff_max_ms, 250);
    REFUSED(will_qos, 2);
    REFUSED(will_qos, -1);
    REFUSED(client_id, "");
    REFUSED(client_id, "two words");
    REFUSED(password_file, "/nonexistent"); /* without a username */
#undef REFUSED
#undef ACCEPTED
}

static void test_zeroed_options_are_refused(void **state)
{
    scn_mqtt_options o;

    memset(&o, 0, sizeof(o));
    o.url = "mqtt://127.0.0.1:1";
    o.client_id = "unit-options";
    assert_int_equal(made(*state, &o), SCN_ERR_OPTIONS_SIZE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_defaults_are_accepted, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_ranges, setup, teardown),
        cmocka_unit_test_setup_teardown(test_zeroed_options_are_refused, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
