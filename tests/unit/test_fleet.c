/* lib/fleet/: the ground station's fleet model (fleet.c, envelope.c,
 * fleet_row.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <scentience/error.h>
#include <scentience/fleet.h>

#include "envelope.h"

static int put(scn_fleet *f, const char *topic, const char *json, uint64_t now,
               scn_fleet_message *m)
{
    return scn_fleet_ingest(f, topic, json, strlen(json), now, m);
}

/* An envelope (docs/PROTOCOL.md 12.2); seq < 0: none. */
static int putd(scn_fleet *f, const char *topic, const char *run, int seq,
                const char *data, uint64_t now, scn_fleet_message *m)
{
    char json[1024];

    if (seq >= 0)
        snprintf(json, sizeof(json),
                 "{\"run\":\"%s\",\"seq\":%d,\"ts\":1733552400123456789,"
                 "\"data\":%s}",
                 run, seq, data);
    else
        snprintf(json, sizeof(json), "{\"run\":\"%s\",\"data\":%s}", run, data);
    return put(f, topic, json, now, m);
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
    assert_int_equal(putd(f, "scentience/v1/d-1/olfaction", "r1", 1,
                          "{\"UID\":\"u\"}", 100, &m),
                     SCN_FLEET_NEW);
    assert_string_equal(m.drone_id, "d-1");
    assert_int_equal(m.stream, SCN_FLEET_OLFACTION);
    assert_int_equal(m.seq, 1);
    assert_int_equal(m.ts_ns, 1733552400123456789LL);
    assert_string_equal(m.run, "r1");
    assert_int_equal(m.new_drone, 1);
    assert_int_equal(m.drone_index, 0);
    assert_int_equal(m.data_len, strlen("{\"UID\":\"u\"}"));
    assert_memory_equal(m.data, "{\"UID\":\"u\"}", m.data_len);
    assert_int_equal(putd(f, "scentience/v1/d-1/state", "r1", 1, "{}", 101, &m),
                     SCN_FLEET_NEW);
    assert_int_equal(m.stream, SCN_FLEET_STATE);
    assert_int_equal(m.new_drone, 0);
    assert_int_equal(put(f, "scentience/v1/D_2/events",
                         "{\"data\":{\"event\":\"x\"}}", 102, &m),
                     SCN_FLEET_NEW);
    assert_int_equal(m.seq, -1);
    assert_int_equal(m.ts_ns, -1);
    assert_string_equal(m.run, "");
    assert_int_equal(m.drone_index, 1);
    assert_int_equal(scn_fleet_count(f), 2);
    for (int s = 0; s < SCN_FLEET_STREAM_COUNT; s++) {
        char topic[64];

        snprintf(topic, sizeof(topic), "scentience/v1/d-1/%s",
                 scn_fleet_stream_name((scn_fleet_stream)s));
        assert_int_equal(putd(f, topic, "r1", -1, "{}", 103, &m),
                         SCN_FLEET_NEW);
        assert_int_equal(m.stream, s);
    }
    assert_null(scn_fleet_stream_name(SCN_FLEET_STREAM_COUNT));
    scn_fleet_get_stats(f, &st);
    assert_int_equal(st.accepted, 3 + SCN_FLEET_STREAM_COUNT);
    assert_int_equal(st.drones, 2);
    scn_fleet_free(f);
}

/* data is handed on byte for byte, whatever its members hold and
 * wherever it stands in the envelope. */
static void test_data_span_exact(void **state)
{
    static const char *const payloads[] = {
        "{\"seq\":1,\"data\":{\"a\":\"}\\\"],{\",\"b\":[1,{\"c\":[]}],"
        "\"n\":-1.5e3,\"t\":true} }",
        " { \"data\" : {\"x\":null}\n, \"seq\" : 2 }",
        "{\"datum\":{\"no\":1},\"data\":{\"yes\":\"d\\u00e9j\\u00e0\"},"
        "\"seq\":3}",
    };
    static const char *const spans[] = {
        "{\"a\":\"}\\\"],{\",\"b\":[1,{\"c\":[]}],\"n\":-1.5e3,\"t\":true}",
        "{\"x\":null}",
        "{\"yes\":\"d\\u00e9j\\u00e0\"}",
    };
    scn_fleet *f;
    scn_fleet_message m;

    (void)state;
    assert_int_equal(scn_fleet_new(NULL, &f), 0);
    for (size_t i = 0; i < sizeof(payloads) / sizeof(*payloads); i++) {
        assert_int_equal(put(f, "scentience/v1/a/events", payloads[i], 1, &m),
                         SCN_FLEET_NEW);
        assert_int_equal(m.data_len, strlen(spans[i]));
        assert_memory_equal(m.data, spans[i], m.data_len);
    }
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
    static const char *const bad_payloads[] = {
        "[1]",
        "{\"a\":",
        "",
        "{\"seq\":1}",
        "{\"data\":[1]}",
        "{\"data\":{},\"seq\":-1}",
        "{\"data\":{},\"seq\":1.5}",
        "{\"data\":{},\"seq\":\"1\"}",
        "{\"data\":{},\"ts\":-5}",
        "{\"data\":{},\"run\":7}",
        "{\"data\":{},\"run\":\"012345678901234567890123456789012\"}",
    };
    scn_fleet *f;
    scn_fleet_stats st;
    const size_t n_topics = sizeof(bad_topics) / sizeof(*bad_topics);
    const size_t n_payloads = sizeof(bad_payloads) / sizeof(*bad_payloads);

    (void)state;
    assert_int_equal(scn_fleet_new(NULL, &f), 0);
    for (size_t i = 0; i < n_topics; i++)
        assert_int_equal(put(f, bad_topics[i], "{\"data\":{}}", 1, NULL),
                         SCN_ERR_NOT_FOUND);
    assert_int_equal(
        put(f, "scentience/v1/d1/unknown", "{\"data\":{}}", 1, NULL),
        SCN_ERR_UNKNOWN_TYPE);
    assert_int_equal(
        put(f, "scentience/v1/d1/command/reply", "{\"data\":{}}", 1, NULL),
        SCN_ERR_UNKNOWN_TYPE);
    for (size_t i = 0; i < n_payloads; i++)
        assert_int_equal(
            put(f, "scentience/v1/d1/state", bad_payloads[i], 1, NULL),
            SCN_ERR_MALFORMED);
    assert_int_equal(scn_fleet_ingest(f, NULL, "{}", 2, 1, NULL),
                     SCN_ERR_INVALID_ARG);
    scn_fleet_get_stats(f, &st);
    assert_int_equal(st.bad_topic, n_topics + 2);
    assert_int_equal(st.bad_payload, n_payloads);
    assert_int_equal(st.accepted, 0);
    assert_int_equal(scn_fleet_count(f), 0);
    /* The longest id that is allowed. */
    assert_int_equal(
        put(f,
            "scentience/v1/"
            "a12345678901234567890123456789012345678901234567890123456789012/"
            "state",
            "{\"data\":{}}", 1, NULL),
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

    (void)state;
    assert_int_equal(scn_fleet_new(NULL, &f), 0);
    for (int s = 1; s <= 10; s++)
        assert_int_equal(putd(f, "scentience/v1/a/events", "r", s,
                              "{\"event\":\"e\"}", 10, NULL),
                         SCN_FLEET_NEW);
    for (int s = 8; s <= 10; s++)
        assert_int_equal(putd(f, "scentience/v1/a/events", "r", s,
                              "{\"event\":\"e\"}", 20, NULL),
                         SCN_FLEET_DUPLICATE);
    /* The same seqs on another stream, or another drone, are new. */
    assert_int_equal(
        putd(f, "scentience/v1/a/inference", "r", 9, "{}", 21, NULL),
        SCN_FLEET_NEW);
    assert_int_equal(putd(f, "scentience/v1/b/events", "r", 9, "{}", 21, NULL),
                     SCN_FLEET_NEW);
    assert_int_equal(
        putd(f, "scentience/v1/a/olfaction", "r", 1, "{}", 22, NULL),
        SCN_FLEET_NEW);
    assert_int_equal(
        putd(f, "scentience/v1/a/olfaction", "r", 4, "{}", 23, NULL),
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
        putd(f, "scentience/v1/a/olfaction", "r", 3, "{}", 24, NULL),
        SCN_FLEET_NEW);
    d = get(f, "a");
    assert_int_equal(d.gaps, 1);
    assert_int_equal(d.streams[SCN_FLEET_OLFACTION].late, 1);
    scn_fleet_get_stats(f, &st);
    assert_int_equal(st.duplicates, 3);
    assert_int_equal(st.accepted, 15);
    scn_fleet_free(f);
}

/* A companion restarted: a new run counts from 1 again, and the old run's
 * spooled messages still come, some of them twice. */
static void test_runs(void **state)
{
    scn_fleet *f;
    scn_fleet_drone d;

    (void)state;
    assert_int_equal(scn_fleet_new(NULL, &f), 0);
    for (int s = 1; s <= 5; s++)
        assert_int_equal(
            putd(f, "scentience/v1/a/events", "old", s, "{}", 1, NULL),
            SCN_FLEET_NEW);
    for (int s = 1; s <= 3; s++)
        assert_int_equal(
            putd(f, "scentience/v1/a/events", "new", s, "{}", 2, NULL),
            SCN_FLEET_NEW);
    d = get(f, "a");
    assert_string_equal(d.run, "new");
    assert_int_equal(d.runs, 2);
    /* The old run's spool: 4 and 5 again, then 6 it had not sent. */
    assert_int_equal(putd(f, "scentience/v1/a/events", "old", 4, "{}", 3, NULL),
                     SCN_FLEET_DUPLICATE);
    assert_int_equal(putd(f, "scentience/v1/a/events", "old", 5, "{}", 3, NULL),
                     SCN_FLEET_DUPLICATE);
    assert_int_equal(putd(f, "scentience/v1/a/events", "old", 6, "{}", 3, NULL),
                     SCN_FLEET_NEW);
    assert_int_equal(putd(f, "scentience/v1/a/events", "new", 3, "{}", 3, NULL),
                     SCN_FLEET_DUPLICATE);
    d = get(f, "a");
    assert_int_equal(d.gaps, 0);
    assert_int_equal(d.streams[SCN_FLEET_EVENTS].restarts, 0);
    /* Three runs kept: a fourth forgets the least recently used. */
    assert_int_equal(
        putd(f, "scentience/v1/a/events", "third", 1, "{}", 4, NULL),
        SCN_FLEET_NEW);
    assert_int_equal(putd(f, "scentience/v1/a/events", "new", 3, "{}", 4, NULL),
                     SCN_FLEET_DUPLICATE);
    assert_int_equal(
        putd(f, "scentience/v1/a/events", "fourth", 1, "{}", 5, NULL),
        SCN_FLEET_NEW);
    assert_int_equal(putd(f, "scentience/v1/a/events", "new", 3, "{}", 5, NULL),
                     SCN_FLEET_DUPLICATE);
    assert_int_equal(
        putd(f, "scentience/v1/a/events", "third", 1, "{}", 5, NULL),
        SCN_FLEET_DUPLICATE);
    assert_int_equal(get(f, "a").runs, 4);
    scn_fleet_free(f);
}

static void test_status_birth_and_will(void **state)
{
    scn_fleet *f;
    scn_fleet_drone d;

    (void)state;
    assert_int_equal(scn_fleet_new(NULL, &f), 0);
    assert_int_equal(putd(f, "scentience/v1/a/state", "r", 1, "{}", 5, NULL),
                     SCN_FLEET_NEW);
    d = get(f, "a");
    assert_int_equal(d.online, -1);
    assert_int_equal(putd(f, "scentience/v1/a/status", "r", 1,
                          "{\"online\":true,\"version\":\"1.2.3\"}", 10, NULL),
                     SCN_FLEET_NEW);
    d = get(f, "a");
    assert_int_equal(d.online, 1);
    assert_int_equal(d.online_changed_ms, 10);
    assert_string_equal(d.version, "1.2.3");
    /* The retained birth again (a resubscribe): a duplicate. */
    assert_int_equal(putd(f, "scentience/v1/a/status", "r", 1,
                          "{\"online\":true,\"version\":\"1.2.3\"}", 20, NULL),
                     SCN_FLEET_DUPLICATE);
    assert_int_equal(get(f, "a").online_changed_ms, 10);
    /* The will (seq 0), then a birth of the same run after a reconnect,
     * then the same will again: each one counts. */
    for (int i = 0; i < 2; i++) {
        assert_int_equal(putd(f, "scentience/v1/a/status", "r", 0,
                              "{\"online\":false,\"reason\":\"lost\"}",
                              30 + 10 * i, NULL),
                         SCN_FLEET_NEW);
        d = get(f, "a");
        assert_int_equal(d.online, 0);
        assert_int_equal(d.online_changed_ms, 30 + 10 * i);
        assert_int_equal(putd(f, "scentience/v1/a/status", "r", 2 + i,
                              "{\"online\":true}", 35 + 10 * i, NULL),
                         SCN_FLEET_NEW);
        assert_int_equal(get(f, "a").online, 1);
    }
    assert_string_equal(get(f, "a").version, "1.2.3");
    scn_fleet_free(f);
}

static void test_latest_values_and_row(void **state)
{
    scn_fleet *f;
    scn_fleet_drone d;
    char row[256], head[256];

    (void)state;
    assert_int_equal(scn_fleet_new(NULL, &f), 0);
    assert_int_equal(
        putd(f, "scentience/v1/alpha/state", "r", 3,
             "{\"pitch\":0,\"h\":1250,\"bat\":87,\"x\":-300,\"y\":420}", 1000,
             NULL),
        SCN_FLEET_NEW);
    assert_int_equal(
        putd(f, "scentience/v1/alpha/inference", "r", 1,
             "{\"model\":\"m\",\"seq\":7,\"labels\":[{\"label\":\"ethanol\","
             "\"score\":0.25},{\"label\":\"ammonia\",\"score\":0.75}]}",
             2000, NULL),
        SCN_FLEET_NEW);
    assert_int_equal(putd(f, "scentience/v1/alpha/status", "r", 1,
                          "{\"online\":true}", 2500, NULL),
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
    assert_int_equal(putd(f, "scentience/v1/beta/inference", "r", 1,
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
    assert_int_equal(putd(f, "scentience/v1/beta/status", "r", 0,
                          "{\"online\":false}", 11, NULL),
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
        assert_int_equal(putd(f, topic, "r", 1, "{}", 1, NULL), SCN_FLEET_NEW);
    }
    assert_int_equal(
        putd(f, "scentience/v1/one-more/state", "r", 1, "{}", 2, NULL),
        SCN_ERR_OUT_OF_RANGE);
    for (int i = 0; i < 300; i++) {
        snprintf(topic, sizeof(topic), "scentience/v1/drone%03d/state", i);
        assert_int_equal(putd(f, topic, "r", 1, "{}", 3, NULL),
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

static void test_member_span_edges(void **state)
{
    const char *v;
    size_t n;

    (void)state;
    assert_int_equal(scn__json_member_span("{}", 2, "data", &v, &n), -1);
    assert_int_equal(scn__json_member_span("[]", 2, "data", &v, &n), -1);
    /* An escaped spelling of the key is not the key. */
    assert_int_equal(
        scn__json_member_span("{\"d\\u0061ta\":1}", 15, "data", &v, &n), -1);
    assert_int_equal(
        scn__json_member_span("{\"a\":1,\"data\":22}", 17, "data", &v, &n), 0);
    assert_int_equal(n, 2);
    assert_memory_equal(v, "22", 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_routes_by_topic),
        cmocka_unit_test(test_data_span_exact),
        cmocka_unit_test(test_bad_input_counted_model_unchanged),
        cmocka_unit_test(test_dedup_and_gaps_per_stream),
        cmocka_unit_test(test_runs),
        cmocka_unit_test(test_status_birth_and_will),
        cmocka_unit_test(test_latest_values_and_row),
        cmocka_unit_test(test_max_drones_and_many_ids),
        cmocka_unit_test(test_member_span_edges),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
