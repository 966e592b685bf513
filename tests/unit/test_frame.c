/* Device frames: the published example, the typed view, unknown and
 * extension keys, every class of bad input, limits, reuse, and the
 * to_json round trip. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "comma_locale.h"
#include "runner.h"

#include <scentience/error.h>
#include <scentience/frame.h>

#include "frame_internal.h"

/* The two keys every frame needs, for building test frames. */
#define HEAD "\"UID\":\"SCN001\",\"TIMESTAMP\":\"2025-08-29T21:00:00Z\""

/* The example frame of the published Sockets API, verbatim. */
static const char published[] =
    "{ \"UID\": \"SCN001\", \"TIMESTAMP\": \"2025-08-29T21:00:00Z\",\n"
    "  \"ENV_temperatureC\": 0, \"ENV_humidity\": 0, \"ENV_pressureHpa\": "
    "1010,\n"
    "  \"STATUS_opuA\": 0,\n"
    "  \"BATT_health\": 98, \"BATT_v\": 4.5, \"BATT_charge\": 83, "
    "\"BATT_time\": 2,\n"
    "  \"CO2\": 0, \"NH3\": 270, \"NO\": 6.23, \"NO2\": 6.23, \"CO\": 1275, "
    "\"C2H5OH\": 409,\n"
    "  \"H2\": 152, \"CH4\": 410, \"C3H8\": 917, \"C4H10\": 917, \"H2S\": "
    "2581,\n"
    "  \"HCHO\": 2584, \"SO2\": 1261, \"VOC\": 2917 }\n";

static int setup(void **state)
{
    scn_frame *f;

    if (scn_frame_new(&f) != 0)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    scn_frame_free(*state);
    return 0;
}

/* Parses from a heap copy of exactly len bytes, with no terminator, so
 * that AddressSanitizer catches any read past the end. */
static int parse_n(scn_frame *f, const char *json, size_t len)
{
    char *copy = malloc(len ? len : 1);
    int rc;

    assert_non_null(copy);
    memcpy(copy, json, len);
    rc = scn_frame_parse(f, copy, len);
    free(copy);
    return rc;
}

static int parse(scn_frame *f, const char *json)
{
    return parse_n(f, json, strlen(json));
}

static void assert_empty(const scn_frame *f)
{
    uint64_t seq;
    double v = -1;
    char buf[8];
    size_t n;

    assert_int_equal(scn_frame_key_count(f), 0);
    assert_null(scn_frame_uid(f));
    assert_null(scn_frame_timestamp(f));
    assert_int_equal(scn_frame_timestamp_ns(f), 0);
    assert_int_equal(scn_frame_seq(f, &seq), SCN_ERR_ABSENT);
    for (int i = 0; i < SCN_FIELD_COUNT; i++)
        assert_int_equal(scn_frame_field(f, (scn_field)i, &v), SCN_ERR_ABSENT);
    for (int c = 0; c < SCN_COMPOUND_COUNT; c++) {
        for (int ch = 0; ch < 3; ch++) {
            assert_false(
                scn_frame_has_compound(f, (scn_compound)c, (scn_channel)ch));
            assert_true(
                scn_frame_compound(f, (scn_compound)c, (scn_channel)ch) == 0.0);
        }
    }
    assert_null(scn_frame_raw(f, "UID"));
    assert_int_equal(scn_frame_key_at(f, 0, NULL, NULL, NULL),
                     SCN_ERR_INVALID_ARG);
    assert_int_equal(scn_frame_to_json(f, buf, sizeof buf, &n), 0);
    assert_string_equal(buf, "{}");
}

static void expect_error(scn_frame *f, const char *json, int err)
{
    /* Fill the frame first: an error must also clear what was there. */
    assert_int_equal(parse(f, "{" HEAD ",\"CO\":1}"), 0);
    int rc = parse(f, json);
    if (rc != err)
        fail_msg("%s: got %s, want %s", json, scn_err_name(rc),
                 scn_err_name(err));
    assert_empty(f);
}

static double field(const scn_frame *f, scn_field which)
{
    double v = -12345;

    assert_int_equal(scn_frame_field(f, which, &v), 0);
    return v;
}

static void test_published_example(void **state)
{
    static const struct {
        scn_compound c;
        double v;
    } want[SCN_COMPOUND_COUNT] = {
        {SCN_CO2, 0},    {SCN_NH3, 270},    {SCN_NO, 6.23},  {SCN_NO2, 6.23},
        {SCN_CO, 1275},  {SCN_C2H5OH, 409}, {SCN_H2, 152},   {SCN_CH4, 410},
        {SCN_C3H8, 917}, {SCN_C4H10, 917},  {SCN_H2S, 2581}, {SCN_HCHO, 2584},
        {SCN_SO2, 1261}, {SCN_VOC, 2917},
    };
    static const char *const order[] = {
        "UID",
        "TIMESTAMP",
        "ENV_temperatureC",
        "ENV_humidity",
        "ENV_pressureHpa",
        "STATUS_opuA",
        "BATT_health",
        "BATT_v",
        "BATT_charge",
        "BATT_time",
        "CO2",
        "NH3",
        "NO",
        "NO2",
        "CO",
        "C2H5OH",
        "H2",
        "CH4",
        "C3H8",
        "C4H10",
        "H2S",
        "HCHO",
        "SO2",
        "VOC",
    };
    scn_frame *f = *state;
    uint64_t seq = 7;

    assert_int_equal(parse_n(f, published, sizeof published - 1), 0);
    assert_string_equal(scn_frame_uid(f), "SCN001");
    assert_string_equal(scn_frame_timestamp(f), "2025-08-29T21:00:00Z");
    assert_int_equal(scn_frame_timestamp_ns(f), INT64_C(1756501200000000000));
    assert_int_equal(scn_frame_seq(f, &seq), SCN_ERR_ABSENT);
    assert_int_equal(seq, 7);

    assert_true(field(f, SCN_FIELD_ENV_TEMPERATURE_C) == 0);
    assert_true(field(f, SCN_FIELD_ENV_HUMIDITY) == 0);
    assert_true(field(f, SCN_FIELD_ENV_PRESSURE_HPA) == 1010);
    assert_true(field(f, SCN_FIELD_STATUS_OPU_A) == 0);
    assert_true(field(f, SCN_FIELD_BATT_HEALTH) == 98);
    assert_true(field(f, SCN_FIELD_BATT_V) == 4.5);
    assert_true(field(f, SCN_FIELD_BATT_CHARGE) == 83);
    assert_true(field(f, SCN_FIELD_BATT_TIME) == 2);

    for (int i = 0; i < SCN_COMPOUND_COUNT; i++) {
        scn_compound c = want[i].c;
        assert_true(scn_frame_has_compound(f, c, SCN_CHANNEL_SINGLE));
        assert_true(scn_frame_compound(f, c, SCN_CHANNEL_SINGLE) == want[i].v);
        assert_false(scn_frame_has_compound(f, c, SCN_CHANNEL_A));
        assert_false(scn_frame_has_compound(f, c, SCN_CHANNEL_B));
        assert_true(scn_frame_compound(f, c, SCN_CHANNEL_A) == 0.0);
    }

    assert_int_equal(scn_frame_key_count(f), 24);
    for (size_t i = 0; i < 24; i++) {
        const char *name, *raw;
        scn_key_kind kind;
        assert_int_equal(scn_frame_key_at(f, i, &name, &kind, &raw), 0);
        assert_string_equal(name, order[i]);
        if (i == 0)
            assert_int_equal(kind, SCN_KEY_UID);
        else if (i == 1)
            assert_int_equal(kind, SCN_KEY_TIMESTAMP);
        else if (i < 10)
            assert_int_equal(kind, SCN_KEY_FIELD);
        else
            assert_int_equal(kind, SCN_KEY_COMPOUND);
        assert_string_equal(raw, scn_frame_raw(f, name));
    }
    assert_string_equal(scn_frame_raw(f, "UID"), "\"SCN001\"");
    assert_string_equal(scn_frame_raw(f, "TIMESTAMP"),
                        "\"2025-08-29T21:00:00Z\"");
    assert_string_equal(scn_frame_raw(f, "BATT_v"), "4.5");
    assert_string_equal(scn_frame_raw(f, "NO"), "6.23");
    assert_string_equal(scn_frame_raw(f, "ENV_pressureHpa"), "1010");
    assert_string_equal(scn_frame_raw(f, "CO2"), "0");
    assert_null(scn_frame_raw(f, "SEQ"));
    assert_null(scn_frame_raw(f, "uid"));
}

static void test_protocol_example_and_omitted(void **state)
{
    static const char json[] =
        "{ \"UID\": \"SCN001\", \"TIMESTAMP\": \"2025-08-29T21:00:00Z\", "
        "\"SEQ\": 41, \"ENV_temperatureC\": 21.5, \"ENV_humidity\": 40.2, "
        "\"ENV_pressureHpa\": 1010, \"STATUS_opuA\": 0, \"BATT_health\": 98, "
        "\"BATT_v\": 4.5, \"BATT_charge\": 83, \"BATT_time\": 2, "
        "\"NH3\": 270, \"CO\": 1275, \"VOC\": 2917 }";
    scn_frame *f = *state;
    uint64_t seq = 0;
    double v = -1;

    assert_int_equal(parse(f, json), 0);
    assert_int_equal(scn_frame_seq(f, &seq), 0);
    assert_int_equal(seq, 41);
    assert_true(field(f, SCN_FIELD_ENV_TEMPERATURE_C) == 21.5);
    assert_true(field(f, SCN_FIELD_ENV_HUMIDITY) == 40.2);
    assert_true(scn_frame_compound(f, SCN_NH3, SCN_CHANNEL_SINGLE) == 270);
    assert_true(scn_frame_compound(f, SCN_VOC, SCN_CHANNEL_SINGLE) == 2917);
    /* Omitted means zero, and is distinguishable from a sent zero. */
    for (int c = 0; c < SCN_COMPOUND_COUNT; c++) {
        if (c == SCN_NH3 || c == SCN_CO || c == SCN_VOC)
            continue;
        assert_false(
            scn_frame_has_compound(f, (scn_compound)c, SCN_CHANNEL_SINGLE));
        assert_true(
            scn_frame_compound(f, (scn_compound)c, SCN_CHANNEL_SINGLE) == 0.0);
    }
    assert_int_equal(scn_frame_key_at(f, 2, NULL, NULL, NULL), 0);

    /* A minimal frame: every field absent, value left untouched. */
    assert_int_equal(parse(f, "{" HEAD "}"), 0);
    assert_int_equal(scn_frame_field(f, SCN_FIELD_BATT_V, &v), SCN_ERR_ABSENT);
    assert_true(v == -1);
    assert_int_equal(scn_frame_seq(f, &seq), SCN_ERR_ABSENT);
    assert_int_equal(scn_frame_key_count(f), 2);
}

static void assert_key(const scn_frame *f, size_t i, const char *name,
                       scn_key_kind kind, const char *raw)
{
    const char *n, *r;
    scn_key_kind k;

    assert_int_equal(scn_frame_key_at(f, i, &n, &k, &r), 0);
    assert_string_equal(n, name);
    assert_int_equal(k, kind);
    assert_string_equal(r, raw);
    assert_string_equal(scn_frame_raw(f, name), raw);
}

static void test_unknown_keys_kept_in_order(void **state)
{
    static const char json[] =
        "{\"zeta\" : { \"b\" : [ 1 , 2.5 , { \"c\" : null } ] , \"a\" : "
        "\"x\" } , " HEAD ", \"alpha\":true, \"nh3\": 5, \"CO2_C\": 1, "
        "\"ENV_new\": [], \"esc\\\"aped\": \"tab\\t q\\\" \\\\ \\/ "
        "\\u00e9\\u20ac\\ud83d\\ude00\", \"\": false, \"type_\": {}, "
        "\"Z\": -0.0}";
    scn_frame *f = *state;

    assert_int_equal(parse(f, json), 0);
    assert_int_equal(scn_frame_key_count(f), 11);
    assert_key(f, 0, "zeta", SCN_KEY_UNKNOWN,
               "{\"b\":[1,2.5,{\"c\":null}],\"a\":\"x\"}");
    assert_key(f, 1, "UID", SCN_KEY_UID, "\"SCN001\"");
    assert_key(f, 2, "TIMESTAMP", SCN_KEY_TIMESTAMP,
               "\"2025-08-29T21:00:00Z\"");
    assert_key(f, 3, "alpha", SCN_KEY_UNKNOWN, "true");
    /* Frame keys are case-sensitive: "nh3" is not the compound. */
    assert_key(f, 4, "nh3", SCN_KEY_UNKNOWN, "5");
    assert_key(f, 5, "CO2_C", SCN_KEY_UNKNOWN, "1");
    assert_key(f, 6, "ENV_new", SCN_KEY_UNKNOWN, "[]");
    /* Escapes come back canonical: only what JSON requires is escaped,
     * everything else as UTF-8. */
    assert_key(f, 7, "esc\"aped", SCN_KEY_UNKNOWN,
               "\"tab\\t q\\\" \\\\ / \xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"");
    assert_key(f, 8, "", SCN_KEY_UNKNOWN, "false");
    assert_key(f, 9, "type_", SCN_KEY_UNKNOWN, "{}");
    assert_key(f, 10, "Z", SCN_KEY_UNKNOWN, "-0");
    assert_false(scn_frame_has_compound(f, SCN_NH3, SCN_CHANNEL_SINGLE));
    assert_false(scn_frame_has_compound(f, SCN_CO2, SCN_CHANNEL_SINGLE));
    assert_null(scn_frame_raw(f, "b"));
    assert_null(scn_frame_raw(f, "ZETA"));
    assert_int_equal(scn_frame_key_at(f, 11, NULL, NULL, NULL),
                     SCN_ERR_INVALID_ARG);
}

static void test_extension_keys(void **state)
{
    scn_frame *f = *state;

    assert_int_equal(parse(f, "{\"_sim_units\":\"ppb\"," HEAD
                              ",\"_\":1,\"_x\":{\"y\":[]},\"_CO2\":\"hi\","
                              "\"_UID\":7}"),
                     0);
    assert_int_equal(scn_frame_key_count(f), 7);
    assert_key(f, 0, "_sim_units", SCN_KEY_EXTENSION, "\"ppb\"");
    assert_key(f, 3, "_", SCN_KEY_EXTENSION, "1");
    assert_key(f, 4, "_x", SCN_KEY_EXTENSION, "{\"y\":[]}");
    /* A '_' prefix is never mistaken for the known key behind it. */
    assert_key(f, 5, "_CO2", SCN_KEY_EXTENSION, "\"hi\"");
    assert_key(f, 6, "_UID", SCN_KEY_EXTENSION, "7");
    assert_string_equal(scn_frame_uid(f), "SCN001");
    assert_false(scn_frame_has_compound(f, SCN_CO2, SCN_CHANNEL_SINGLE));
}

static void test_channels(void **state)
{
    scn_frame *f = *state;

    assert_int_equal(parse(f, "{" HEAD ",\"NH3\":1,\"NH3_A\":2,\"NH3_B\":3,"
                              "\"C2H5OH_B\":4.25,\"NO_A\":5,\"NH3_C\":6,"
                              "\"NH3_a\":7,\"UID_A\":8,\"BATT_v_A\":9,"
                              "\"_A\":10,\"A\":11}"),
                     0);
    assert_true(scn_frame_compound(f, SCN_NH3, SCN_CHANNEL_SINGLE) == 1);
    assert_true(scn_frame_compound(f, SCN_NH3, SCN_CHANNEL_A) == 2);
    assert_true(scn_frame_compound(f, SCN_NH3, SCN_CHANNEL_B) == 3);
    assert_true(scn_frame_compound(f, SCN_C2H5OH, SCN_CHANNEL_B) == 4.25);
    assert_false(scn_frame_has_compound(f, SCN_C2H5OH, SCN_CHANNEL_A));
    assert_false(scn_frame_has_compound(f, SCN_C2H5OH, SCN_CHANNEL_SINGLE));
    assert_true(scn_frame_compound(f, SCN_NO, SCN_CHANNEL_A) == 5);
    assert_false(scn_frame_has_compound(f, SCN_NO, SCN_CHANNEL_SINGLE));
    /* "NO_A" must not be read as NO2 or anything else. */
    assert_false(scn_frame_has_compound(f, SCN_NO2, SCN_CHANNEL_A));
    assert_key(f, 3, "NH3_A", SCN_KEY_COMPOUND, "2");
    assert_key(f, 4, "NH3_B", SCN_KEY_COMPOUND, "3");
    assert_key(f, 7, "NH3_C", SCN_KEY_UNKNOWN, "6");
    assert_key(f, 8, "NH3_a", SCN_KEY_UNKNOWN, "7");
    assert_key(f, 9, "UID_A", SCN_KEY_UNKNOWN, "8");
    assert_key(f, 10, "BATT_v_A", SCN_KEY_UNKNOWN, "9");
    assert_key(f, 11, "_A", SCN_KEY_EXTENSION, "10");
    assert_key(f, 12, "A", SCN_KEY_UNKNOWN, "11");
    /* Out-of-range channel or compound reads as absent. */
    assert_false(scn_frame_has_compound(f, SCN_NH3, (scn_channel)3));
    assert_true(scn_frame_compound(f, SCN_COMPOUND_COUNT, SCN_CHANNEL_SINGLE) ==
                0.0);
}

static void test_negative_compounds_kept(void **state)
{
    scn_frame *f = *state;

    assert_int_equal(parse(f, "{" HEAD ",\"CO\":-3.5,\"H2_A\":0}"), 0);
    assert_true(scn_frame_has_compound(f, SCN_CO, SCN_CHANNEL_SINGLE));
    assert_true(scn_frame_compound(f, SCN_CO, SCN_CHANNEL_SINGLE) == -3.5);
    assert_true(scn_frame_has_compound(f, SCN_H2, SCN_CHANNEL_A));
}

static void test_missing_required(void **state)
{
    scn_frame *f = *state;

    expect_error(f, "{\"TIMESTAMP\":\"2025-08-29T21:00:00Z\",\"CO\":1}",
                 SCN_ERR_MISSING_FIELD);
    expect_error(f, "{\"UID\":\"SCN001\",\"CO\":1}", SCN_ERR_MISSING_FIELD);
    expect_error(f, "{}", SCN_ERR_MISSING_FIELD);
    expect_error(f,
                 "{\"uid\":\"SCN001\",\"timestamp\":\"2025-08-29T21:00:00Z\"}",
                 SCN_ERR_MISSING_FIELD);
    /* An empty UID is still a string: accepted as sent. */
    assert_int_equal(
        parse(f, "{\"UID\":\"\",\"TIMESTAMP\":\"2025-08-29T21:00:00Z\"}"), 0);
    assert_string_equal(scn_frame_uid(f), "");
}

static void test_wrong_types(void **state)
{
    static const struct {
        const char *member;
        int err;
    } cases[] = {
        {"\"CO2\":\"high\"", SCN_ERR_WRONG_TYPE},
        {"\"CO2\":true", SCN_ERR_WRONG_TYPE},
        {"\"CO2\":null", SCN_ERR_WRONG_TYPE},
        {"\"CO2\":[1]", SCN_ERR_WRONG_TYPE},
        {"\"NH3_B\":{}", SCN_ERR_WRONG_TYPE},
        {"\"BATT_v\":\"4.5\"", SCN_ERR_WRONG_TYPE},
        {"\"ENV_humidity\":false", SCN_ERR_WRONG_TYPE},
        {"\"STATUS_opuA\":null", SCN_ERR_WRONG_TYPE},
        {"\"SEQ\":\"1\"", SCN_ERR_WRONG_TYPE},
        {"\"SEQ\":null", SCN_ERR_WRONG_TYPE},
        {"\"SEQ\":-1", SCN_ERR_OUT_OF_RANGE},
        {"\"SEQ\":1.5", SCN_ERR_OUT_OF_RANGE},
        {"\"SEQ\":1e300", SCN_ERR_OUT_OF_RANGE},
        {"\"SEQ\":9007199254740992", SCN_ERR_OUT_OF_RANGE},
        {"\"SEQ\":9007199254740993", SCN_ERR_OUT_OF_RANGE},
    };
    static const char *const bad_head[] = {
        "{\"UID\":5,\"TIMESTAMP\":\"2025-08-29T21:00:00Z\"}",
        "{\"UID\":null,\"TIMESTAMP\":\"2025-08-29T21:00:00Z\"}",
        "{\"UID\":[\"SCN001\"],\"TIMESTAMP\":\"2025-08-29T21:00:00Z\"}",
        "{\"UID\":\"SCN001\",\"TIMESTAMP\":123}",
        "{\"UID\":\"SCN001\",\"TIMESTAMP\":\"yesterday\"}",
        "{\"UID\":\"SCN001\",\"TIMESTAMP\":\"2025-08-29T21:00:00+02:00\"}",
        "{\"UID\":\"SCN001\",\"TIMESTAMP\":\"2025-02-30T21:00:00Z\"}",
        "{\"UID\":\"SCN001\",\"TIMESTAMP\":\"1756501200\"}",
    };
    scn_frame *f = *state;
    char json[256];
    uint64_t seq;

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf(json, sizeof json, "{" HEAD ",%s}", cases[i].member);
        expect_error(f, json, cases[i].err);
    }
    for (size_t i = 0; i < sizeof bad_head / sizeof bad_head[0]; i++)
        expect_error(f, bad_head[i], SCN_ERR_WRONG_TYPE);

    /* The largest exact SEQ, and zero, are fine; so is 5.0. */
    assert_int_equal(parse(f, "{" HEAD ",\"SEQ\":9007199254740991}"), 0);
    assert_int_equal(scn_frame_seq(f, &seq), 0);
    assert_true(seq == UINT64_C(9007199254740991));
    assert_int_equal(parse(f, "{" HEAD ",\"SEQ\":0}"), 0);
    assert_int_equal(scn_frame_seq(f, &seq), 0);
    assert_true(seq == 0);
    assert_int_equal(parse(f, "{" HEAD ",\"SEQ\":5.0}"), 0);
    assert_int_equal(scn_frame_seq(f, &seq), 0);
    assert_true(seq == 5);
}

static void test_duplicate_keys(void **state)
{
    scn_frame *f = *state;

    expect_error(f, "{" HEAD ",\"CO\":1,\"CO\":2}", SCN_ERR_MALFORMED);
    expect_error(f, "{" HEAD ",\"UID\":\"SCN002\"}", SCN_ERR_MALFORMED);
    expect_error(f, "{" HEAD ",\"x\":1,\"y\":1,\"x\":1}", SCN_ERR_MALFORMED);
    /* Nested objects are the application's business. */
    assert_int_equal(parse(f, "{" HEAD ",\"_x\":{\"a\":1,\"a\":2}}"), 0);
    assert_string_equal(scn_frame_raw(f, "_x"), "{\"a\":1,\"a\":2}");
}

static void test_malformed(void **state)
{
    static const char *const cases[] = {
        "",
        " \n\t ",
        "{",
        "}",
        "{\"UID\"",
        "{\"UID\":",
        "{\"UID\":\"SCN001\"",
        "{\"UID\":\"SCN001\",}",
        "[]",
        "[{" HEAD "}]",
        "1",
        "\"frame\"",
        "null",
        "true",
        "{" HEAD "}x",
        "{" HEAD "}{" HEAD "}",
        "{" HEAD "},",
        "{" HEAD ",}",
        "{'UID':'SCN001'}",
        "{" HEAD " /* comment */}",
        "{" HEAD ",\"CO\":+1}",
        "{" HEAD ",\"CO\":01}",
        "{" HEAD ",\"CO\":.5}",
        "{" HEAD ",\"CO\":1.}",
        "{" HEAD ",\"CO\":1e}",
        "{" HEAD ",\"CO\":-}",
        "{" HEAD ",\"CO\":0x10}",
        "{" HEAD ",\"CO\":NaN}",
        "{" HEAD ",\"CO\":Infinity}",
        "{" HEAD ",\"CO\":-Infinity}",
        "{" HEAD ",\"_x\":tru}",
        "{" HEAD ",\"_x\":\"tab\there\"}", /* raw control byte */
        "{" HEAD ",\"_x\":\"line\nbreak\"}",
        "{" HEAD ",\"_x\":\"cut\\u0000here\"}", /* would truncate */
        "{" HEAD ",\"_x\":\"\\ud800\"}",        /* lone surrogate */
        "{" HEAD ",\"_x\":\"\\x41\"}",          /* bad escape */
        "{" HEAD ",\"_x\":\"\\u12\"}",
        "{" HEAD ",\"_x\":\"\xff\"}",             /* invalid UTF-8 */
        "{" HEAD ",\"_x\":\"\xc3\"}",             /* truncated sequence */
        "{" HEAD ",\"_x\":\"\xc0\xaf\"}",         /* overlong '/' */
        "{" HEAD ",\"_x\":\"\xed\xa0\x80\"}",     /* encoded surrogate */
        "{" HEAD ",\"_x\":\"\xf4\x90\x80\x80\"}", /* above U+10FFFF */
        "{" HEAD ",\"\xfe\":1}",                  /* invalid UTF-8 key */
        "\xef\xbb\xbf{" HEAD "}",                 /* byte order mark */
        "\x01{" HEAD "}",
    };
    scn_frame *f = *state;

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        expect_error(f, cases[i], SCN_ERR_MALFORMED);
    /* Whitespace around the object is fine. */
    assert_int_equal(parse(f, " \r\n\t{" HEAD "} \r\n\t"), 0);
    /* Valid UTF-8 of every length passes. */
    assert_int_equal(parse(f, "{" HEAD ",\"_\xc3\xa9\":\"\xe2\x82\xac"
                              "\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf\"}"),
                     0);
}

static void test_nul_bytes(void **state)
{
    static const char in_string[] = "{\"UID\":\"SC\0N001\",\"TIMESTAMP\":"
                                    "\"2025-08-29T21:00:00Z\"}";
    static const char after[] = "{" HEAD "}\0";
    static const char after_junk[] = "{" HEAD "}\0junk";
    static const char in_ws[] = "{" HEAD ",\0\"CO\":1}";
    scn_frame *f = *state;

    assert_int_equal(parse_n(f, in_string, sizeof in_string - 1),
                     SCN_ERR_MALFORMED);
    assert_empty(f);
    /* A terminator counted in len is a trailing byte like any other. */
    assert_int_equal(parse_n(f, after, sizeof after - 1), SCN_ERR_MALFORMED);
    assert_int_equal(parse_n(f, after_junk, sizeof after_junk - 1),
                     SCN_ERR_MALFORMED);
    assert_int_equal(parse_n(f, in_ws, sizeof in_ws - 1), SCN_ERR_MALFORMED);
    /* The same frame without the NUL, and with a len that stops short of
     * the terminator, parses. */
    assert_int_equal(parse_n(f, after, sizeof after - 2), 0);
    assert_int_equal(scn_frame_parse(f, after, sizeof after - 2), 0);
    assert_int_equal(scn_frame_parse(f, NULL, 0), SCN_ERR_MALFORMED);
    assert_int_equal(scn_frame_parse(f, NULL, 5), SCN_ERR_INVALID_ARG);
    assert_int_equal(scn_frame_parse(NULL, after, 3), SCN_ERR_INVALID_ARG);
}

/* Every prefix of a valid frame is rejected, and none crashes. */
static void test_truncated(void **state)
{
    scn_frame *f = *state;
    size_t len = sizeof published - 1;

    /* Up to the closing brace: trailing newline excluded. */
    while (published[len - 1] != '}')
        len--;
    for (size_t n = 0; n < len; n++) {
        int rc = parse_n(f, published, n);
        if (rc != SCN_ERR_MALFORMED)
            fail_msg("prefix %zu: %s", n, scn_err_name(rc));
        assert_empty(f);
    }
    assert_int_equal(parse_n(f, published, len), 0);
}

/* Builds {HEAD,"_x":<n containers>} whose total depth is n + 1. */
static char *nested(size_t n, char open, char close)
{
    size_t head = strlen("{" HEAD ",\"_x\":");
    char *s = malloc(head + 2 * n + 2);

    assert_non_null(s);
    memcpy(s, "{" HEAD ",\"_x\":", head);
    for (size_t i = 0; i < n; i++)
        s[head + i] = open;
    for (size_t i = 0; i < n; i++)
        s[head + n + i] = close;
    s[head + 2 * n] = '}';
    s[head + 2 * n + 1] = '\0';
    return s;
}

static void test_depth(void **state)
{
    scn_frame *f = *state;
    char *s;

    s = nested(SCN_FRAME_MAX_DEPTH - 1, '[', ']');
    assert_int_equal(parse(f, s), 0);
    assert_string_equal(scn_frame_raw(f, "_x"), "[[[[[[[]]]]]]]");
    free(s);
    s = nested(SCN_FRAME_MAX_DEPTH, '[', ']');
    expect_error(f, s, SCN_ERR_TOO_DEEP);
    free(s);

    /* Objects count as levels like arrays. */
    assert_int_equal(parse(f, "{" HEAD ",\"_x\":{\"a\":{\"b\":[{\"c\":[[{"
                              "}]]}]}}}"),
                     0);
    expect_error(f,
                 "{" HEAD ",\"_x\":{\"a\":{\"b\":[{\"c\":[[{\"d\":[]"
                 "}]]}]}}}",
                 SCN_ERR_TOO_DEEP);
    /* Brackets inside strings are not nesting. */
    assert_int_equal(parse(f, "{" HEAD ",\"_x\":\"[[[[[[[[[[[[{{{{{{{{{\"}"),
                     0);

    /* Far beyond cJSON's own limit: refused before cJSON recurses. */
    s = nested(10000, '[', ']');
    expect_error(f, s, SCN_ERR_TOO_DEEP);
    free(s);
    s = nested(10000, '{', '}');
    expect_error(f, s, SCN_ERR_TOO_DEEP);
    free(s);
    s = malloc(100000);
    assert_non_null(s);
    memset(s, '[', 100000);
    /* not even NUL-terminated */
    assert_int_equal(parse_n(f, s, 100000), SCN_ERR_TOO_DEEP);
    assert_empty(f);
    free(s);
}

static void test_numbers(void **state)
{
    static const struct {
        const char *in, *raw;
    } cases[] = {
        {"1e308", "1e+308"},
        {"-1.7976931348623157e308", "-1.7976931348623157e+308"},
        {"5e-324", "4.94065645841247e-324"},
        {"0.1", "0.1"},
        {"12.50", "12.5"},
        {"1E2", "100"},
        {"-0", "-0"},
        {"-0.0", "-0"},
        {"0.30000000000000004", "0.30000000000000004"},
        {"9007199254740991", "9007199254740991"},
        {"-9007199254740991", "-9007199254740991"},
        {"9007199254740992", "9007199254740992"},
        {"1e21", "1e+21"},
        {"123456789012.25", "123456789012.25"},
        {"0.000001", "1e-06"},
        {"100000000000000000000", "1e+20"},
        {"123456789.123456789", "123456789.12345679"},
        {"2.2250738585072014e-308", "2.2250738585072014e-308"},
    };
    scn_frame *f = *state;
    char json[256];

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf(json, sizeof json, "{" HEAD ",\"CO\":%s,\"_n\":[%s]}",
                 cases[i].in, cases[i].in);
        assert_int_equal(parse(f, json), 0);
        double v = scn_frame_compound(f, SCN_CO, SCN_CHANNEL_SINGLE);
        const char *raw = scn_frame_raw(f, "CO");
        /* The printed form reads back as the very same double. */
        assert_true(strtod(raw, NULL) == v);
        assert_true(strtod(cases[i].in, NULL) == v);
        /* Shortest of 15, 16 or 17 digits; no exponent for integers. */
        assert_string_equal(raw, cases[i].raw);
    }
    assert_string_equal(scn_frame_raw(f, "_n"), "[2.2250738585072014e-308]");

    expect_error(f, "{" HEAD ",\"CO\":1e999}", SCN_ERR_OUT_OF_RANGE);
    expect_error(f, "{" HEAD ",\"CO\":-1e999}", SCN_ERR_OUT_OF_RANGE);
    expect_error(f, "{" HEAD ",\"BATT_v\":1e400}", SCN_ERR_OUT_OF_RANGE);
    expect_error(f, "{" HEAD ",\"_x\":{\"y\":[1,1e999]}}",
                 SCN_ERR_OUT_OF_RANGE);
    expect_error(f, "{" HEAD ",\"SEQ\":1e999}", SCN_ERR_OUT_OF_RANGE);
    /* Underflow is finite: it becomes 0 or a denormal. */
    assert_int_equal(parse(f, "{" HEAD ",\"CO\":1e-999}"), 0);
}

static void test_key_limit(void **state)
{
    scn_frame *f = *state;
    size_t cap = 16 * (SCN_FRAME_MAX_KEYS + 2) + 64, n;
    char *s = malloc(cap);

    assert_non_null(s);
    n = (size_t)snprintf(s, cap, "{" HEAD);
    for (int i = 2; i < SCN_FRAME_MAX_KEYS; i++)
        n += (size_t)snprintf(s + n, cap - n, ",\"k%d\":%d", i, i);
    snprintf(s + n, cap - n, "}");
    assert_int_equal(parse(f, s), 0);
    assert_int_equal(scn_frame_key_count(f), SCN_FRAME_MAX_KEYS);
    assert_string_equal(scn_frame_raw(f, "k255"), "255");
    assert_string_equal(scn_frame_raw(f, "k2"), "2");

    snprintf(s + n, cap - n, ",\"one_more\":0}");
    expect_error(f, s, SCN_ERR_OUT_OF_RANGE);
    free(s);
}

static void test_reuse(void **state)
{
    scn_frame *f = *state;
    char json[256];
    size_t big_len = 200000;
    char *big = malloc(big_len + 128);

    for (int i = 0; i < 2000; i++) {
        switch (i % 4) {
        case 0:
            snprintf(
                json, sizeof json,
                "{\"UID\":\"D%d\",\"TIMESTAMP\":\"2025-08-29T21:00:%02dZ\","
                "\"SEQ\":%d,\"NH3_A\":%d.5,\"_k%d\":[%d]}",
                i, i % 60, i, i, i, i);
            assert_int_equal(parse(f, json), 0);
            assert_int_equal(scn_frame_key_count(f), 5);
            assert_true(scn_frame_compound(f, SCN_NH3, SCN_CHANNEL_A) ==
                        i + 0.5);
            assert_false(scn_frame_has_compound(f, SCN_CO, SCN_CHANNEL_SINGLE));
            break;
        case 1:
            expect_error(f, "{\"UID\":1}", SCN_ERR_WRONG_TYPE);
            break;
        case 2:
            assert_int_equal(parse(f, "{" HEAD ",\"CO\":3}"), 0);
            assert_int_equal(scn_frame_key_count(f), 3);
            assert_false(scn_frame_has_compound(f, SCN_NH3, SCN_CHANNEL_A));
            snprintf(json, sizeof json, "_k%d", i - 2);
            assert_null(scn_frame_raw(f, json));
            break;
        case 3:
            expect_error(f, "{" HEAD ",\"CO\":", SCN_ERR_MALFORMED);
            break;
        }
    }

    /* A large value grows the raw buffer; the next small frame is fine. */
    assert_non_null(big);
    size_t n = (size_t)snprintf(big, 128, "{" HEAD ",\"_blob\":\"");
    memset(big + n, 'a', big_len);
    memcpy(big + n + big_len, "\"}", 3);
    assert_int_equal(parse(f, big), 0);
    assert_int_equal(strlen(scn_frame_raw(f, "_blob")), big_len + 2);
    assert_int_equal(parse(f, "{" HEAD ",\"CO\":3}"), 0);
    assert_string_equal(scn_frame_raw(f, "CO"), "3");
    free(big);
}

/* parse(to_json(parse(x))) keeps keys, order, kinds and values. */
static void assert_round_trip(scn_frame *f, const char *json)
{
    scn_frame *g;
    char out1[4096], out2[4096];
    size_t n1, n2;

    assert_int_equal(scn_frame_new(&g), 0);
    assert_int_equal(parse(f, json), 0);
    assert_int_equal(scn_frame_to_json(f, out1, sizeof out1, &n1), 0);
    assert_int_equal(strlen(out1), n1);
    assert_int_equal(parse_n(g, out1, n1), 0);
    assert_int_equal(scn_frame_key_count(g), scn_frame_key_count(f));
    for (size_t i = 0; i < scn_frame_key_count(f); i++) {
        const char *na, *nb, *ra, *rb;
        scn_key_kind ka, kb;
        assert_int_equal(scn_frame_key_at(f, i, &na, &ka, &ra), 0);
        assert_int_equal(scn_frame_key_at(g, i, &nb, &kb, &rb), 0);
        assert_string_equal(na, nb);
        assert_int_equal(ka, kb);
        assert_string_equal(ra, rb);
    }
    for (int c = 0; c < SCN_COMPOUND_COUNT; c++)
        for (int ch = 0; ch < 3; ch++)
            assert_true(
                scn_frame_compound(f, (scn_compound)c, (scn_channel)ch) ==
                scn_frame_compound(g, (scn_compound)c, (scn_channel)ch));
    assert_int_equal(scn_frame_timestamp_ns(f), scn_frame_timestamp_ns(g));
    /* Serialising is a fixed point after the first pass. */
    assert_int_equal(scn_frame_to_json(g, out2, sizeof out2, &n2), 0);
    assert_string_equal(out1, out2);
    scn_frame_free(g);
}

static void test_to_json(void **state)
{
    scn_frame *f = *state;
    char out[512], out2[512];
    size_t n;

    assert_int_equal(parse(f, "{ \"UID\" : \"SCN001\" , \"TIMESTAMP\" : "
                              "\"2025-08-29T21:00:00.5+00:00\", \"NO\": "
                              "6.23, \"_u\" : { \"a\" : [ 1 , \"\\u00e9\" ] }, "
                              "\"k\\n\": null }"),
                     0);
    assert_int_equal(scn_frame_to_json(f, out, sizeof out, &n), 0);
    assert_string_equal(out, "{\"UID\":\"SCN001\",\"TIMESTAMP\":"
                             "\"2025-08-29T21:00:00.5+00:00\",\"NO\":6.23,"
                             "\"_u\":{\"a\":[1,\"\xc3\xa9\"]},\"k\\n\":null}");
    assert_int_equal(n, strlen(out));
    /* Again, with the names known from the first parse (the key-order
     * memo): the same text, escaped names escaped again. */
    assert_int_equal(parse(f, "{\"UID\":\"SCN001\",\"TIMESTAMP\":"
                              "\"2025-08-29T21:00:00.5+00:00\",\"NO\":6.23,"
                              "\"_u\":{\"a\":[1,\"\xc3\xa9\"]},\"k\\n\":null}"),
                     0);
    assert_int_equal(scn_frame_to_json(f, out2, sizeof out2, &n), 0);
    assert_string_equal(out2, out);

    assert_round_trip(f, published);
    assert_round_trip(f, "{" HEAD ",\"SEQ\":3,\"x\":[1.5e-300,{\"y\":\"\\\""
                         "\\\\\\b\\f\\n\\r\\t\\u0001\\u001f\"}],\"NH3_B\":"
                         "0.1,\"_s\":\"\xf0\x9f\x98\x80\",\"z\":-0}");
}

static void test_to_json_buffer(void **state)
{
    scn_frame *f = *state;
    char out[64];
    size_t n = 0, need;

    assert_int_equal(parse(f, "{" HEAD ",\"CO\":12}"), 0);
    assert_int_equal(scn_frame_to_json(f, NULL, 0, &n), SCN_ERR_NOMEM);
    need = n; /* bytes including the NUL */
    assert_int_equal(need, strlen("{" HEAD ",\"CO\":12}") + 1);
    assert_true(need <= sizeof out);

    memset(out, 'x', sizeof out);
    assert_int_equal(scn_frame_to_json(f, out, need - 1, &n), SCN_ERR_NOMEM);
    assert_int_equal(n, need);
    assert_int_equal(out[0], '\0');       /* never a truncated text */
    assert_int_equal(out[need - 1], 'x'); /* nothing written past cap */

    memset(out, 'x', sizeof out);
    assert_int_equal(scn_frame_to_json(f, out, need, &n), 0);
    assert_int_equal(n, need - 1);
    assert_string_equal(out, "{" HEAD ",\"CO\":12}");
    assert_int_equal(out[need], 'x');

    assert_int_equal(scn_frame_to_json(f, out, 1, &n), SCN_ERR_NOMEM);
    assert_int_equal(scn_frame_to_json(NULL, out, sizeof out, &n),
                     SCN_ERR_INVALID_ARG);
    assert_int_equal(scn_frame_to_json(f, out, sizeof out, NULL),
                     SCN_ERR_INVALID_ARG);
    assert_int_equal(scn_frame_to_json(f, NULL, 5, &n), SCN_ERR_INVALID_ARG);
}

/* The session's entry point: one pass that parses a frame and routes a
 * message by its first top-level "type". */
static void expect_route(scn_frame *f, const char *json, scn_frame_route want,
                         int want_rc, const char *want_type)
{
    scn_frame_route route = (scn_frame_route)-1;
    const char *type = "unset";
    char *copy = malloc(strlen(json) + 1);
    int rc;

    assert_non_null(copy);
    memcpy(copy, json, strlen(json));
    /* Fill the frame first: only a good frame may leave it filled. */
    assert_int_equal(parse(f, "{" HEAD ",\"CO\":1}"), 0);
    rc = scn__frame_parse_inbound(f, copy, strlen(json), &route, &type);
    if (rc != want_rc || route != want)
        fail_msg("%s: got %s route %d, want %s route %d", json,
                 scn_err_name(rc), (int)route, scn_err_name(want_rc),
                 (int)want);
    if (want_type)
        assert_string_equal(type, want_type);
    else
        assert_null(type);
    if (want != SCN_ROUTE_FRAME || want_rc != 0)
        assert_empty(f);
    free(copy);
}

static void test_inbound(void **state)
{
    scn_frame *f = *state;
    scn_frame_route route;

    expect_route(f, "{" HEAD ",\"CO\":5}", SCN_ROUTE_FRAME, 0, NULL);
    assert_true(scn_frame_compound(f, SCN_CO, SCN_CHANNEL_SINGLE) == 5);
    expect_route(f, "{" HEAD ",\"CO\":\"x\"}", SCN_ROUTE_FRAME,
                 SCN_ERR_WRONG_TYPE, NULL);
    expect_route(f, "{\"UID\":\"x\"}", SCN_ROUTE_FRAME, SCN_ERR_MISSING_FIELD,
                 NULL);
    expect_route(f, "{" HEAD ",\"CO\":1e999}", SCN_ROUTE_FRAME,
                 SCN_ERR_OUT_OF_RANGE, NULL);
    expect_route(f, "{" HEAD ",\"_s\":\"\xff\"}", SCN_ROUTE_FRAME,
                 SCN_ERR_MALFORMED, NULL);

    /* Not one strict JSON object: the cJSON path's code. */
    expect_route(f, "", SCN_ROUTE_INVALID, SCN_ERR_MALFORMED, NULL);
    expect_route(f, "[1,2]", SCN_ROUTE_INVALID, SCN_ERR_MALFORMED, NULL);
    expect_route(f, "{\"type\":\"hello\"", SCN_ROUTE_INVALID, SCN_ERR_MALFORMED,
                 NULL);
    expect_route(f, "[[[[[[[[[]]]]]]]]]", SCN_ROUTE_INVALID, SCN_ERR_TOO_DEEP,
                 NULL);
    /* The pre-scan's order: a depth problem before a syntax error. */
    expect_route(f, "{\"a\" 1,\"_x\":[[[[[[[[[]]]]]]]]]}", SCN_ROUTE_INVALID,
                 SCN_ERR_TOO_DEEP, NULL);
    expect_route(f, "{\"type\":\"a\\u00zz\"}", SCN_ROUTE_INVALID,
                 SCN_ERR_MALFORMED, NULL);

    /* Typed messages: frame rules do not apply, the first "type" wins. */
    expect_route(f, "{\"type\":\"hello\"}", SCN_ROUTE_MESSAGE, 0, "hello");
    expect_route(f,
                 "{\"a\":1e999,\"b\":\"\xff\",\"a\":1,\"type\":\"ack\","
                 "\"type\":5}",
                 SCN_ROUTE_MESSAGE, 0, "ack");
    expect_route(f, "{\"t\\u0079pe\":\"er\\u0072or\"}", SCN_ROUTE_MESSAGE, 0,
                 "error");
    expect_route(f, "{" HEAD ",\"type\":\"\"}", SCN_ROUTE_MESSAGE, 0, "");
    expect_route(f, "{\"type\":5}", SCN_ROUTE_BAD_TYPE, SCN_ERR_WRONG_TYPE,
                 NULL);
    expect_route(f, "{" HEAD ",\"type\":{\"x\":1},\"type\":\"a\"}",
                 SCN_ROUTE_BAD_TYPE, SCN_ERR_WRONG_TYPE, NULL);
    /* Nested "type" members are not the message's. */
    expect_route(f, "{" HEAD ",\"_x\":{\"type\":\"hello\"}}", SCN_ROUTE_FRAME,
                 0, NULL);

    /* scn_frame_parse() reads "type" as an unknown key. */
    assert_int_equal(parse(f, "{" HEAD ",\"type\":\"hello\"}"), 0);
    assert_string_equal(scn_frame_raw(f, "type"), "\"hello\"");

    assert_int_equal(scn__frame_parse_inbound(NULL, "{}", 2, &route, NULL),
                     SCN_ERR_INVALID_ARG);
    assert_int_equal(route, SCN_ROUTE_INVALID);
    assert_int_equal(scn__frame_parse_inbound(f, NULL, 2, &route, NULL),
                     SCN_ERR_INVALID_ARG);
    assert_empty(f);
}

static void test_json_parse_helper(void **state)
{
    cJSON *root = (cJSON *)1;

    (void)state;
    assert_int_equal(scn__frame_json_parse("[1] ", 4, &root), 0);
    assert_true(cJSON_IsArray(root));
    cJSON_Delete(root);
    assert_int_equal(scn__frame_json_parse("[1] x", 5, &root),
                     SCN_ERR_MALFORMED);
    assert_null(root);
    assert_int_equal(scn__frame_json_parse("{\"type\":\"hello\"}", 4, &root),
                     SCN_ERR_MALFORMED);
    assert_int_equal(scn__frame_json_parse("[[[[[[[[[]]]]]]]]]", 18, &root),
                     SCN_ERR_TOO_DEEP);
    assert_int_equal(scn__frame_json_parse(NULL, 1, &root),
                     SCN_ERR_INVALID_ARG);
    assert_int_equal(scn__frame_json_parse("1", 1, NULL), SCN_ERR_INVALID_ARG);
}

static void test_names(void **state)
{
    static const char *const compounds[SCN_COMPOUND_COUNT] = {
        "CO2", "NH3",  "NO",    "NO2", "CO",   "C2H5OH", "H2",
        "CH4", "C3H8", "C4H10", "H2S", "HCHO", "SO2",    "VOC",
    };
    static const char *const fields[SCN_FIELD_COUNT] = {
        "ENV_temperatureC", "ENV_humidity", "ENV_pressureHpa", "STATUS_opuA",
        "BATT_health",      "BATT_v",       "BATT_charge",     "BATT_time",
    };
    scn_compound c = SCN_VOC;
    char lower[16];

    (void)state;
    for (int i = 0; i < SCN_COMPOUND_COUNT; i++) {
        assert_string_equal(scn_compound_name((scn_compound)i), compounds[i]);
        assert_int_equal(scn_compound_from_name(compounds[i], &c), 0);
        assert_int_equal(c, i);
        size_t j = 0;
        for (; compounds[i][j]; j++)
            lower[j] = (char)(compounds[i][j] >= 'A' && compounds[i][j] <= 'Z'
                                  ? compounds[i][j] + 32
                                  : compounds[i][j]);
        lower[j] = '\0';
        c = SCN_VOC;
        assert_int_equal(scn_compound_from_name(lower, &c), 0);
        assert_int_equal(c, i);
    }
    for (int i = 0; i < SCN_FIELD_COUNT; i++)
        assert_string_equal(scn_field_name((scn_field)i), fields[i]);
    assert_null(scn_field_name(SCN_FIELD_COUNT));
    assert_null(scn_field_name((scn_field)-1));
    assert_null(scn_compound_name(SCN_COMPOUND_COUNT));

    assert_int_equal(scn_compound_from_name("Nh3", &c), 0);
    assert_int_equal(c, SCN_NH3);
    assert_int_equal(scn_compound_from_name("c2H5oh", &c), 0);
    assert_int_equal(c, SCN_C2H5OH);
    c = SCN_CO;
    assert_int_equal(scn_compound_from_name("NH3_A", &c), SCN_ERR_NOT_FOUND);
    assert_int_equal(scn_compound_from_name("NH", &c), SCN_ERR_NOT_FOUND);
    assert_int_equal(scn_compound_from_name("NH33", &c), SCN_ERR_NOT_FOUND);
    assert_int_equal(scn_compound_from_name("", &c), SCN_ERR_NOT_FOUND);
    assert_int_equal(scn_compound_from_name("XYZ", &c), SCN_ERR_NOT_FOUND);
    assert_int_equal(c, SCN_CO);
    assert_int_equal(scn_compound_from_name(NULL, &c), SCN_ERR_INVALID_ARG);
    assert_int_equal(scn_compound_from_name("CO", NULL), SCN_ERR_INVALID_ARG);
}

static void test_null_and_bad_arguments(void **state)
{
    scn_frame *f = *state;
    uint64_t seq;
    double v;

    (void)f;
    assert_int_equal(scn_frame_new(NULL), SCN_ERR_INVALID_ARG);
    scn_frame_free(NULL);
    assert_null(scn_frame_uid(NULL));
    assert_null(scn_frame_timestamp(NULL));
    assert_int_equal(scn_frame_timestamp_ns(NULL), 0);
    assert_int_equal(scn_frame_seq(NULL, &seq), SCN_ERR_INVALID_ARG);
    assert_int_equal(scn_frame_field(NULL, SCN_FIELD_BATT_V, &v),
                     SCN_ERR_INVALID_ARG);
    assert_int_equal(scn_frame_key_count(NULL), 0);
    assert_null(scn_frame_raw(NULL, "UID"));
    assert_false(scn_frame_has_compound(NULL, SCN_CO, SCN_CHANNEL_SINGLE));

    assert_int_equal(parse(f, "{" HEAD ",\"BATT_v\":4}"), 0);
    assert_int_equal(scn_frame_field(f, SCN_FIELD_COUNT, &v),
                     SCN_ERR_INVALID_ARG);
    assert_int_equal(scn_frame_field(f, SCN_FIELD_BATT_V, NULL),
                     SCN_ERR_INVALID_ARG);
    assert_int_equal(scn_frame_seq(f, NULL), SCN_ERR_INVALID_ARG);
    assert_null(scn_frame_raw(f, NULL));
    /* Every output of key_at is optional. */
    assert_int_equal(scn_frame_key_at(f, 0, NULL, NULL, NULL), 0);
    assert_int_equal(scn_frame_key_at(NULL, 0, NULL, NULL, NULL),
                     SCN_ERR_INVALID_ARG);
}

/* The frame, as scn_frame_to_json writes it, into out. */
static void to_json(const scn_frame *f, char *out, size_t cap)
{
    size_t n;

    assert_int_equal(scn_frame_to_json(f, out, cap, &n), 0);
}

/* An application's LC_NUMERIC must change neither parsing nor output.
 * Needs a locale whose decimal point is a comma (scripts/install-deps
 * generates de_DE.UTF-8): without one the comma paths never run, so the
 * test fails rather than passing vacuously. The numbers take the strtod()
 * and printf() paths of lib/codec/frame_number.c and lib/codec/frame_json.c:
 * more digits than the exact fast path holds, and exponents beyond 1e22. */
static void test_locale(void **state)
{
    static const char json[] =
        "{" HEAD ",\"BATT_v\":4.5,\"NO\":6.23,"
        "\"CO\":0.12345678901234567890123,\"H2\":1.5e-30,"
        "\"CH4\":123456789012345678901.25,\"VOC\":2.5e+25}";
    scn_frame *f = *state;
    char c_out[1024], comma_out[1024];
    double co, h2, ch4, voc;

    /* What the C locale reads and writes is the reference. */
    assert_non_null(setlocale(LC_NUMERIC, "C"));
    co = strtod("0.12345678901234567890123", NULL);
    h2 = strtod("1.5e-30", NULL);
    ch4 = strtod("123456789012345678901.25", NULL);
    voc = strtod("2.5e+25", NULL);
    assert_int_equal(parse(f, json), 0);
    to_json(f, c_out, sizeof(c_out));

    test_comma_locale();
    assert_int_equal(parse(f, json), 0);
    to_json(f, comma_out, sizeof(comma_out));
    setlocale(LC_NUMERIC, "C");

    assert_true(field(f, SCN_FIELD_BATT_V) == 4.5);
    assert_string_equal(scn_frame_raw(f, "BATT_v"), "4.5");
    assert_string_equal(scn_frame_raw(f, "NO"), "6.23");
    assert_true(scn_frame_compound(f, SCN_CO, SCN_CHANNEL_SINGLE) == co);
    assert_true(scn_frame_compound(f, SCN_H2, SCN_CHANNEL_SINGLE) == h2);
    assert_true(scn_frame_compound(f, SCN_CH4, SCN_CHANNEL_SINGLE) == ch4);
    assert_true(scn_frame_compound(f, SCN_VOC, SCN_CHANNEL_SINGLE) == voc);
    assert_string_equal(comma_out, c_out);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_published_example),
        T(test_protocol_example_and_omitted),
        T(test_unknown_keys_kept_in_order),
        T(test_extension_keys),
        T(test_channels),
        T(test_negative_compounds_kept),
        T(test_missing_required),
        T(test_wrong_types),
        T(test_duplicate_keys),
        T(test_malformed),
        T(test_nul_bytes),
        T(test_truncated),
        T(test_depth),
        T(test_numbers),
        T(test_key_limit),
        T(test_reuse),
        T(test_to_json),
        T(test_to_json_buffer),
        T(test_inbound),
        T(test_json_parse_helper),
        T(test_names),
        T(test_null_and_bad_arguments),
        T(test_locale),
    };
#undef T
    return test_exit_code(cmocka_run_group_tests(tests, NULL, NULL));
}
