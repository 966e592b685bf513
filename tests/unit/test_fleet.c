/* lib/fleet/fleet.c and fleet_row.c: the ground station's fleet model. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <scentience/error.h>
#include <scentience/fleet.h>

static int put(scn_fleet *f, const char *topic, const char *json, uint64_t now,
               scn_fleet_message *m)
{
    return scn_fleet_ingest(f, topic, json, strlen(json), now, m);
}

static scn_fleet_drone get(const scn_fleet *f, const char *id)
{
    scn_fleet_drone d;
    size_t i;

    assert_int_equal(scn_fleet_find(f, id, &i), 0);
    assert_int_equal(scn_fleet_drone_get(f, i, &d), 0);
    return d;
}

static void test_routes_by_topic(void **state)
{
    scn_fleet *f;
    scn_fleet_message m;
    scn_fleet_stats st;

    (void)state;
    assert_int_equal(scn_fleet_new(NULL, &f), 0);
    assert_int_equal(put(f, "scentience/v1/d-1/olfaction",
                         "{\"UID\":\"u\",\"seq\":1}", 100, &m),
                     SCN_FLEET_NEW);
    assert_string_equal(m.drone_id, "d-1");
    assert_int_equal(m.stream, SCN_FLEET_OLFACTION);
    assert_int_equal(m.seq, 1);
    assert_int_equal(m.new_drone, 1);
    assert_int_equal(m.drone_index, 0);
    assert_int_equal(put(f, "scentience/v1/d-1/state", "{\"seq\":1}", 101, &m),
                     SCN_FLEET_NEW);
    assert_int_equal(m.stream, SCN_FLEET_STATE);
    assert_int_equal(m.new_drone, 0);
    assert_int_equal(
        put(f, "scentience/v1/D_2/events", "{\"event\":\"x\"}", 102, &m),
        SCN_FLEET_NEW);
    assert_int_equal(m.seq, -1);
    assert_int_equal(m.drone_index, 1);
    assert_int_equal(scn_fleet_count(f), 2);
    for (int s = 0; s < SCN_FLEET_STREAM_COUNT; s++) {
        char topic[64];

        snprintf(topic, sizeof(topic), "scentience/v1/d-1/%s",
                 scn_fleet_stream_name((scn_fleet_stream)s));
        assert_int_equal(put(f, topic, "{}", 103, &m), SCN_FLEET_NEW);
        assert_int_equal(m.stream, s);
    }
    assert_null(scn_fleet_stream_name(SCN_FLEET_STREAM_COUNT));
    scn_fleet_get_stats(f, &st);
    assert_int_equal(st.accepted, 3 + SCN_FLEET_STREAM_COUNT);
    assert_int_equal(st.drones, 2);
    scn_fleet_free(f);
}

static void test_bad_input_counted_model_unchanged(void **state)
{
    static const char *const bad_topics[] = {
        "scentience/v2/d1/olfaction",
        "scentience/v1//olfaction",
        "scentience/v1/d1",
        "scentience/v1/d.1/olfaction",
        "scentience/v1/d+1/state",
        "other/d1/state",
        "scentience/v1/d 1/state",
        "scentience/v1/"
        "a123456789012345678901234567890123456789012345678901234567890123/"
        "state",
    };
    scn_fleet *f;
    scn_fleet_stats st;

    (void)state;
    assert_int_equal(scn_fleet_new(NULL, &f), 0);
    for (size_t i = 0; i < sizeof(bad_topics) / sizeof(*bad_topics); i++)
        assert_int_equal(put(f, bad_topics[i], "{}", 1, NULL),
                         SCN_ERR_NOT_FOUND);
    assert_int_equal(put(f, "scentience/v1/d1/unknown", "{}", 1, NULL),
                     SCN_ERR_UNKNOWN_TYPE);
    assert_int_equal(put(f, "scentience/v1/d1/command/reply", "{}", 1, NULL),
                     SCN_ERR_UNKNOWN_TYPE);
    assert_int_equal(put(f, "scentience/v1/d1/state", "[1]", 1, NULL),
                     SCN_ERR_MALFORMED);
    assert_int_equal(put(f, "scentience/v1/d1/state", "{\"a\":", 1, NULL),
                     SCN_ERR_MALFORMED);
    assert_int_equal(put(f, "scentience/v1/d1/state", "", 1, NULL),
                     SCN_ERR_MALFORMED);
    assert_int_equal(put(f, "scentience/v1/d1/state", "{\"seq\":-1}", 1, NULL),
                     SCN_ERR_MALFORMED);
    assert_int_equal(put(f, "scentience/v1/d1/state", "{\"seq\":1.5}", 1, NULL),
                     SCN_ERR_MALFORMED);
    assert_int_equal(
        put(f, "scentience/v1/d1/state", "{\"seq\":\"1\"}", 1, NULL),
        SCN_ERR_MALFORMED);
    assert_int_equal(scn_fleet_ingest(f, NULL, "{}", 2, 1, NULL),
                     SCN_ERR_INVALID_ARG);
    scn_fleet_get_stats(f, &st);
    assert_int_equal(st.bad_topic,
                     sizeof(bad_topics) / sizeof(*bad_topics) + 2);
    assert_int_equal(st.bad_payload, 6);
    assert_int_equal(st.accepted, 0);
    assert_int_equal(scn_fleet_count(f), 0);
    /* The longest id that is allowed. */
    assert_int_equal(
        put(f,
            "scentience/v1/"
            "a12345678901234567890123456789012345678901234567890123456789012/"
            "state",
            "{}", 1, NULL),
        SCN_FLEET_NEW);
    scn_fleet_free(f);
}

/* A broker restart: the QoS 1 messages not yet acknowledged come again;
 * a QoS 0 one was lost. */
static void test_dedup_and_gaps_per_stream(void **state)
{
    scn_fleet *f;
    scn_fleet_drone d;
    scn_fleet_stats st;
    char json[64];

    (void)state;
    assert_int_equal(scn_fleet_new(NULL, &f), 0);
    for (int s = 1; s <= 10; s++) {
        snprintf(json, sizeof(json), "{\"event\":\"e\",\"seq\":%d}", s);
        assert_int_equal(put(f, "scentience/v1/a/events", json, 10, NULL),
                         SCN_FLEET_NEW);
    }
    for (int s = 8; s <= 10; s++) {
        snprintf(json, sizeof(json), "{\"event\":\"e\",\"seq\":%d}", s);
        assert_int_equal(put(f, "scentience/v1/a/events", json, 20, NULL),
                         SCN_FLEET_DUPLICATE);
    }
    /* The same seqs on another stream, or another drone, are new. */
    assert_int_equal(
        put(f, "scentience/v1/a/inference", "{\"seq\":9}", 21, NULL),
        SCN_FLEET_NEW);
    assert_int_equal(put(f, "scentience/v1/b/events", "{\"seq\":9}", 21, NULL),
                     SCN_FLEET_NEW);
    assert_int_equal(
        put(f, "scentience/v1/a/olfaction", "{\"seq\":1}", 22, NULL),
        SCN_FLEET_NEW);
    assert_int_equal(
        put(f, "scentience/v1/a/olfaction", "{\"seq\":4}", 23, NULL),
        SCN_FLEET_NEW);
    d = get(f, "a");
    assert_int_equal(d.streams[SCN_FLEET_EVENTS].received, 10);
    assert_int_equal(d.streams[SCN_FLEET_EVENTS].duplicates, 3);
    assert_int_equal(d.streams[SCN_FLEET_EVENTS].gaps, 0);
    assert_int_equal(d.streams[SCN_FLEET_EVENTS].last_seq, 10);
    assert_int_equal(d.streams[SCN_FLEET_OLFACTION].gaps, 2);
    assert_int_equal(d.gaps, 2);
    assert_int_equal(d.duplicates, 3);
    assert_int_equal(d.messages, 13);
    assert_int_equal(d.last_ms, 23);
    assert_int_equal(d.first_ms, 10);
    /* One of the missing arrives late: its gap is filled. */
    assert_int_equal(
        put(f, "scentience/v1/a/olfaction", "{\"seq\":3}", 24, NULL),
        SCN_FLEET_NEW);
    d = get(f, "a");
    assert_int_equal(d.gaps, 1);
    assert_int_equal(d.streams[SCN_FLEET_OLFACTION].late, 1);
    scn_fleet_get_stats(f, &st);
    assert_int_equal(st.duplicates, 3);
    assert_int_equal(st.accepted, 15);
    scn_fleet_free(f);
}

static void test_status_birth_and_will(void **state)
{
    scn_fleet *f;
    scn_fleet_drone d;

    (void)state;
    assert_int_equal(scn_fleet_new(NULL, &f), 0);
    assert_int_equal(put(f, "scentience/v1/a/state", "{\"seq\":1}", 5, NULL),
                     SCN_FLEET_NEW);
    d = get(f, "a");
    assert_int_equal(d.online, -1);
    assert_int_equal(put(f, "scentience/v1/a/status",
                         "{\"online\":true,\"version\":\"1.2.3\",\"seq\":1}",
                         10, NULL),
                     SCN_FLEET_NEW);
    d = get(f, "a");
    assert_int_equal(d.online, 1);
    assert_int_equal(d.online_changed_ms, 10);
    assert_string_equal(d.version, "1.2.3");
    /* The retained birth again (a resubscribe): not a duplicate. */
    assert_int_equal(put(f, "scentience/v1/a/status",
                         "{\"online\":true,\"version\":\"1.2.3\",\"seq\":1}",
                         20, NULL),
                     SCN_FLEET_NEW);
    assert_int_equal(get(f, "a").online_changed_ms, 10);
    /* The will. */
    assert_int_equal(
        put(f, "scentience/v1/a/status", "{\"online\":false}", 30, NULL),
        SCN_FLEET_NEW);
    d = get(f, "a");
    assert_int_equal(d.online, 0);
    assert_int_equal(d.online_changed_ms, 30);
    assert_string_equal(d.version, "1.2.3");
    scn_fleet_free(f);
}

static void test_latest_values_and_row(void **state)
{
    scn_fleet *f;
    scn_fleet_drone d;
    char row[256], head[256];
    const char *state_json =
        "{\"pitch\":0,\"h\":1250,\"bat\":87,\"x\":-300,\"y\":420,\"seq\":3}";
    const char *inference_json =
        "{\"model\":\"m\",\"seq\":7,\"labels\":[{\"label\":\"ethanol\","
        "\"score\":0.25},{\"label\":\"ammonia\",\"score\":0.75}]}";

    (void)state;
    assert_int_equal(scn_fleet_new(NULL, &f), 0);
    assert_int_equal(
        put(f, "scentience/v1/alpha/state", state_json, 1000, NULL),
        SCN_FLEET_NEW);
    assert_int_equal(
        put(f, "scentience/v1/alpha/inference", inference_json, 2000, NULL),
        SCN_FLEET_NEW);
    assert_int_equal(
        put(f, "scentience/v1/alpha/status", "{\"online\":true}", 2500, NULL),
        SCN_FLEET_NEW);
    d = get(f, "alpha");
    assert_true(d.has_battery);
    assert_true(d.battery_pct == 87);
    assert_true(d.has_position);
    assert_true(d.x_m == -3.0 && d.y_m == 4.2 && d.h_m == 12.5);
    assert_string_equal(d.inference, "ammonia");
    assert_true(d.inference_score == 0.75);
    assert_int_equal(d.inference_ms, 2000);
    scn_fleet_format_header(head, sizeof(head));
    assert_non_null(strstr(head, "DRONE"));
    assert_non_null(strstr(head, "GAPS"));
    scn_fleet_format_row(&d, 4000, row, sizeof(row));
    assert_non_null(strstr(row, "alpha "));
    assert_non_null(strstr(row, " yes "));
    assert_non_null(strstr(row, " 87% "));
    assert_non_null(strstr(row, " -3.0,4.2,12.5 "));
    assert_non_null(strstr(row, " ammonia 0.75 "));
    assert_non_null(strstr(row, " 1.5s "));
    assert_int_equal(row[strlen(row) - 1], '0');
    /* The columns line up with the header. */
    assert_int_equal(strlen(row), strlen(head));
    /* Offline, unknown and missing values; a label from a peer escaped. */
    assert_int_equal(put(f, "scentience/v1/beta/inference",
                         "{\"labels\":[{\"label\":\"x\\u001b[2Jy\","
                         "\"score\":1}]}",
                         10, NULL),
                     SCN_FLEET_NEW);
    d = get(f, "beta");
    scn_fleet_format_row(&d, 30000, row, sizeof(row));
    assert_null(strchr(row, '\033'));
    assert_non_null(strstr(row, "x\\x1b[2Jy 1.00"));
    assert_non_null(strstr(row, " ? "));
    assert_non_null(strstr(row, " 29s "));
    assert_int_equal(
        put(f, "scentience/v1/beta/status", "{\"online\":false}", 11, NULL),
        SCN_FLEET_NEW);
    d = get(f, "beta");
    scn_fleet_format_row(&d, 11 + 700000, row, sizeof(row));
    assert_non_null(strstr(row, " NO "));
    assert_non_null(strstr(row, " 11m "));
    /* Cut to the buffer, NUL-terminated. */
    assert_int_equal(scn_fleet_format_row(&d, 11, row, 8), 7);
    assert_int_equal(strlen(row), 7);
    scn_fleet_free(f);
}

/* A stranger publishing ids cannot grow the model past max_drones; the
 * drones it has keep working; lookups stay right across many ids. */
static void test_max_drones_and_many_ids(void **state)
{
    scn_fleet_options o;
    scn_fleet *f;
    scn_fleet_stats st;
    char topic[64];
    size_t idx;

    (void)state;
    scn_fleet_options_init(&o);
    o.max_drones = 300;
    assert_int_equal(scn_fleet_new(&o, &f), 0);
    for (int i = 0; i < 300; i++) {
        snprintf(topic, sizeof(topic), "scentience/v1/drone%03d/state", i);
        assert_int_equal(put(f, topic, "{\"seq\":1}", 1, NULL), SCN_FLEET_NEW);
    }
    assert_int_equal(put(f, "scentience/v1/one-more/state", "{}", 2, NULL),
                     SCN_ERR_OUT_OF_RANGE);
    for (int i = 0; i < 300; i++) {
        snprintf(topic, sizeof(topic), "scentience/v1/drone%03d/state", i);
        assert_int_equal(put(f, topic, "{\"seq\":1}", 3, NULL),
                         SCN_FLEET_DUPLICATE);
        snprintf(topic, sizeof(topic), "drone%03d", i);
        assert_int_equal(scn_fleet_find(f, topic, &idx), 0);
        assert_int_equal(idx, (size_t)i);
    }
    assert_int_equal(scn_fleet_find(f, "one-more", &idx), SCN_ERR_NOT_FOUND);
    assert_int_equal(scn_fleet_find(f, "drone00", &idx), SCN_ERR_NOT_FOUND);
    scn_fleet_get_stats(f, &st);
    assert_int_equal(st.refused_full, 1);
    assert_int_equal(st.drones, 300);
    assert_int_equal(st.duplicates, 300);
    scn_fleet_free(f);
    o.max_drones = 0;
    assert_int_equal(scn_fleet_new(&o, &f), SCN_ERR_INVALID_ARG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_routes_by_topic),
        cmocka_unit_test(test_bad_input_counted_model_unchanged),
        cmocka_unit_test(test_dedup_and_gaps_per_stream),
        cmocka_unit_test(test_status_birth_and_will),
        cmocka_unit_test(test_latest_values_and_row),
        cmocka_unit_test(test_max_drones_and_many_ids),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
