/*
 * UAV state strings: the documented example, every field, any order,
 * unknown keys, every malformed case, and the writers (state string and
 * JSON) with round trips.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <scentience/error.h>
#include <scentience/frame.h>
#include <scentience/uav.h>

#include "cloud_msg.h"
#include "fanout_internal.h"
#include "rng.h"

/* The published format filled with plausible values. */
static const char documented[] =
    "pitch:0;roll:0;yaw:0;vgx:0;vgy:0;vgz:0;templ:0;temph:0;tof:10;h:0;"
    "bat:80;baro:-7.85;time:0;agx:-1.00;agy:0.00;agz:-999.00;";

/* Every field, distinct values, in scn_uav_field order. */
static const char all_fields[] =
    "pitch:-3;roll:4;yaw:-179;vgx:5;vgy:-6;vgz:7;templ:61;temph:63;tof:112;"
    "h:95;bat:87;baro:213.46;time:42;agx:-12.50;agy:3.25;agz:-998.75;"
    "olfa:2000.00;olfb:6.23;x:-150;y:220;z:35;";

static const double all_values[SCN_UAV_FIELD_COUNT] = {
    -3,     4,  -179,  5,    -6,      7,    61,   63,   112, 95, 87,
    213.46, 42, -12.5, 3.25, -998.75, 2000, 6.23, -150, 220, 35};

static int parse(const char *text, scn_uav_state *st)
{
    return scn_uav_state_parse(text, strlen(text), st);
}

static void assert_malformed(const char *text)
{
    scn_uav_state st;
    int rc = parse(text, &st);

    if (rc != SCN_ERR_MALFORMED)
        fail_msg("\"%s\": %s, want MALFORMED", text, scn_err_name(rc));
    /* Never half-filled. */
    assert_int_equal(st.present, 0);
    assert_int_equal(st.pitch, 0);
    assert_int_equal(st.unknown_count, 0);
    assert_int_equal(st.unknown_dropped, 0);
}

static void assert_all_fields(const scn_uav_state *st)
{
    for (int f = 0; f < SCN_UAV_FIELD_COUNT; f++) {
        double v = 0;
        assert_int_equal(scn_uav_state_get(st, (scn_uav_field)f, &v), 0);
        if (v != all_values[f])
            fail_msg("%s: %.17g, want %.17g",
                     scn_uav_field_name((scn_uav_field)f), v, all_values[f]);
    }
    assert_int_equal(st->present, (1u << SCN_UAV_FIELD_COUNT) - 1);
}

static void test_documented(void **state)
{
    scn_uav_state st;
    double v = 123;
    (void)state;
    assert_int_equal(parse(documented, &st), 0);
    assert_int_equal(st.present, (1u << (SCN_UAV_F_AGZ + 1)) - 1);
    assert_int_equal(st.tof, 10);
    assert_int_equal(st.bat, 80);
    assert_true(st.baro == -7.85);
    assert_true(st.agx == -1.0);
    assert_true(st.agz == -999.0);
    assert_int_equal(st.unknown_count, 0);
    assert_int_equal(scn_uav_state_get(&st, SCN_UAV_F_OLFA, &v),
                     SCN_ERR_ABSENT);
    assert_true(v == 123);
    assert_int_equal(scn_uav_state_get(&st, SCN_UAV_F_BAT, &v), 0);
    assert_true(v == 80);
}

static void test_all_fields_any_order(void **state)
{
    char reordered[sizeof all_fields];
    const char *pairs[SCN_UAV_FIELD_COUNT];
    size_t lens[SCN_UAV_FIELD_COUNT], n = 0, off = 0;
    scn_uav_state st;
    (void)state;

    assert_int_equal(parse(all_fields, &st), 0);
    assert_all_fields(&st);

    /* Reversed pair order, the last ';' dropped. */
    for (const char *p = all_fields; *p; n++) {
        const char *semi = strchr(p, ';');
        pairs[n] = p;
        lens[n] = (size_t)(semi - p);
        p = semi + 1;
    }
    assert_int_equal(n, SCN_UAV_FIELD_COUNT);
    for (size_t i = n; i-- > 0;) {
        memcpy(reordered + off, pairs[i], lens[i]);
        off += lens[i];
        if (i > 0)
            reordered[off++] = ';';
    }
    reordered[off] = '\0';
    assert_ptr_equal(strstr(reordered, "z:35;y:220;"), reordered);
    assert_int_equal(parse(reordered, &st), 0);
    assert_all_fields(&st);
}

static void test_endings(void **state)
{
    static const char *ok[] = {
        "pitch:1;roll:2;",    "pitch:1;roll:2",      "pitch:1;roll:2;\r\n",
        "pitch:1;roll:2\r\n", "pitch:1;roll:2;  \t", "pitch:1;roll:2\n",
    };
    scn_uav_state st;
    (void)state;
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        int rc = parse(ok[i], &st);
        if (rc != 0)
            fail_msg("\"%s\": %s", ok[i], scn_err_name(rc));
        assert_int_equal(st.present,
                         (1u << SCN_UAV_F_PITCH) | (1u << SCN_UAV_F_ROLL));
        assert_int_equal(st.roll, 2);
    }
}

static void test_unknown_keys(void **state)
{
    scn_uav_state st;
    char text[2048];
    size_t off = 0;
    (void)state;

    /* Tello-style extras: kept in order, values as text. */
    assert_int_equal(parse("mid:-1;pitch:1;mpry:0,0,0;a:b:c;empty:;", &st), 0);
    assert_int_equal(st.present, 1u << SCN_UAV_F_PITCH);
    assert_int_equal(st.unknown_count, 4);
    assert_string_equal(st.unknown[0].key, "mid");
    assert_string_equal(st.unknown[0].value, "-1");
    assert_string_equal(st.unknown[1].key, "mpry");
    assert_string_equal(st.unknown[1].value, "0,0,0");
    assert_string_equal(st.unknown[2].key, "a");
    assert_string_equal(st.unknown[2].value, "b:c");
    assert_string_equal(st.unknown[3].key, "empty");
    assert_string_equal(st.unknown[3].value, "");
    assert_int_equal(st.unknown_dropped, 0);

    /* Known keys are case-sensitive: "Pitch" is another key. */
    assert_int_equal(parse("pitch:1;Pitch:2", &st), 0);
    assert_int_equal(st.unknown_count, 1);
    assert_string_equal(st.unknown[0].key, "Pitch");

    /* Beyond 16, counted as dropped; not an error. */
    for (int i = 0; i < 20; i++)
        off += (size_t)snprintf(text + off, sizeof text - off, "k%d:%d;", i, i);
    assert_int_equal(parse(text, &st), 0);
    assert_int_equal(st.unknown_count, SCN_UAV_STATE_UNKNOWN_MAX);
    assert_int_equal(st.unknown_dropped, 4);
    assert_string_equal(st.unknown[15].key, "k15");

    /* Key 31 / value 63 bytes kept; 32 / 64 dropped. */
    char k31[32], k32[33], v63[64], v64[65];
    memset(k31, 'k', 31);
    k31[31] = '\0';
    memset(k32, 'k', 32);
    k32[32] = '\0';
    memset(v63, 'v', 63);
    v63[63] = '\0';
    memset(v64, 'v', 64);
    v64[64] = '\0';
    snprintf(text, sizeof text, "%s:1;%s:2;a:%s;b:%s;bat:5", k31, k32, v63,
             v64);
    assert_int_equal(parse(text, &st), 0);
    assert_int_equal(st.unknown_count, 2);
    assert_string_equal(st.unknown[0].key, k31);
    assert_string_equal(st.unknown[1].value, v63);
    assert_int_equal(st.unknown_dropped, 2);
    assert_int_equal(st.bat, 5);

    /* An unknown key twice is kept twice (only known keys must be
     * unique). */
    assert_int_equal(parse("mid:1;mid:2", &st), 0);
    assert_int_equal(st.unknown_count, 2);

    /* Nothing kept at all: nothing to tell, and nothing to write back. */
    snprintf(text, sizeof text, "%s:1;a:%s", k32, v64);
    assert_malformed(text);
}

static void test_malformed(void **state)
{
    (void)state;
    assert_malformed("");
    assert_malformed("  \r\n");
    assert_malformed("pitch:1;ro");
    assert_malformed("pitch");
    assert_malformed(":1");
    assert_malformed("pitch:1;:2");
    assert_malformed("pitch:1;;roll:2");
    assert_malformed(";pitch:1");
    assert_malformed(";");
    assert_malformed("pitch:1;;");
    assert_malformed("pitch:abc");
    assert_malformed("pitch:");
    assert_malformed("pitch:1.5");
    assert_malformed("pitch:+1");
    assert_malformed("pitch:1 ;roll:2");
    assert_malformed("pitch:1; roll:2");
    assert_malformed("pit ch:1");
    assert_malformed("baro:abc");
    assert_malformed("baro:1e3");
    assert_malformed("baro:nan");
    assert_malformed("baro:inf");
    assert_malformed("baro:.5");
    assert_malformed("baro:5.");
    assert_malformed("baro:1,5");
    assert_malformed("agx:1234567890123456.00");
    assert_malformed("pitch:2147483648");
    assert_malformed("pitch:-2147483649");
    assert_malformed("tof:99999999999999999999999999");
    assert_malformed("pitch:1;pitch:1");
    assert_malformed("baro:1.00;pitch:1;baro:2.00");
    assert_malformed("pitch:1\x01;roll:2");
    assert_malformed("mid:\x7f");
    assert_malformed("m\xc3\xa9:1");
    assert_malformed("pitch:1;\troll:2");

    /* Edges that pass. */
    scn_uav_state st;
    assert_int_equal(parse("pitch:2147483647;roll:-2147483648", &st), 0);
    assert_int_equal(st.pitch, INT32_MAX);
    assert_int_equal(st.roll, INT32_MIN);
    assert_int_equal(parse("baro:123456789012345", &st), 0);
    assert_true(st.baro == 123456789012345.0);
    assert_int_equal(parse("baro:12", &st), 0);
    assert_true(st.baro == 12.0);
    assert_int_equal(parse("tof:007", &st), 0);
    assert_int_equal(st.tof, 7);

    /* A NUL inside the length is a control byte. */
    assert_int_equal(scn_uav_state_parse("pitch:1\0;", 9, &st),
                     SCN_ERR_MALFORMED);
    assert_int_equal(scn_uav_state_parse("pitch:1\0;", 7, &st), 0);
}

static void test_length_limit(void **state)
{
    char text[SCN_UAV_STATE_MAX + 2];
    scn_uav_state st;
    (void)state;

    /* "pitch:1;a:xxx...x;" of exactly SCN_UAV_STATE_MAX bytes. */
    memset(text, 'x', sizeof text);
    memcpy(text, "pitch:1;a:", 10);
    text[SCN_UAV_STATE_MAX - 1] = ';';
    text[SCN_UAV_STATE_MAX] = '\0';
    assert_int_equal(parse(text, &st), 0);
    assert_int_equal(st.pitch, 1);
    assert_int_equal(st.unknown_dropped, 1);
    /* One more byte, even trailing whitespace, is refused. */
    text[SCN_UAV_STATE_MAX] = '\n';
    text[SCN_UAV_STATE_MAX + 1] = '\0';
    assert_malformed(text);
}

static void test_bad_arguments(void **state)
{
    scn_uav_state st;
    double v;
    (void)state;
    assert_int_equal(scn_uav_state_parse("pitch:1", 7, NULL),
                     SCN_ERR_INVALID_ARG);
    assert_int_equal(scn_uav_state_parse(NULL, 3, &st), SCN_ERR_INVALID_ARG);
    assert_int_equal(scn_uav_state_parse(NULL, 0, &st), SCN_ERR_MALFORMED);
    assert_int_equal(scn_uav_state_get(&st, SCN_UAV_FIELD_COUNT, &v),
                     SCN_ERR_INVALID_ARG);
    assert_int_equal(scn_uav_state_get(NULL, SCN_UAV_F_H, &v),
                     SCN_ERR_INVALID_ARG);
    assert_null(scn_uav_field_name(SCN_UAV_FIELD_COUNT));
    assert_string_equal(scn_uav_field_name(SCN_UAV_F_TEMPH), "temph");
    assert_true(scn_uav_field_is_integer(SCN_UAV_F_X));
    assert_false(scn_uav_field_is_integer(SCN_UAV_F_OLFB));
    assert_int_equal(scn_uav_state_format(NULL, NULL, 0, NULL),
                     SCN_ERR_INVALID_ARG);
    assert_int_equal(scn_uav_state_to_json(&st, NULL, 4, NULL),
                     SCN_ERR_INVALID_ARG);
}

static void test_format_round_trip(void **state)
{
    scn_uav_state st, again;
    char out[2048];
    size_t n = 0;
    (void)state;

    /* Canonical text comes back byte for byte. */
    assert_int_equal(parse(documented, &st), 0);
    assert_int_equal(scn_uav_state_format(&st, out, sizeof out, &n), 0);
    assert_string_equal(out, documented);
    assert_int_equal(n, strlen(documented));
    assert_int_equal(parse(all_fields, &st), 0);
    assert_int_equal(scn_uav_state_format(&st, out, sizeof out, &n), 0);
    assert_string_equal(out, all_fields);

    /* Any order and missing ';' in, canonical order out; unknown keys
     * follow the fields in the order received. */
    assert_int_equal(
        parse("mid:-1;z:3;baro:1.5;pitch:-2;mpry:0,0,0;olfa:7\r\n", &st), 0);
    assert_int_equal(scn_uav_state_format(&st, out, sizeof out, &n), 0);
    assert_string_equal(out,
                        "pitch:-2;baro:1.50;olfa:7.00;z:3;mid:-1;mpry:0,0,0;");
    assert_int_equal(parse(out, &again), 0);
    assert_int_equal(again.present, st.present);
    assert_int_equal(again.pitch, -2);
    assert_true(again.baro == 1.5);
    assert_true(again.olfa == 7.0);
    assert_int_equal(again.z, 3);
    assert_int_equal(again.unknown_count, 2);
    assert_string_equal(again.unknown[1].value, "0,0,0");

    /* Built with set (as the simulator does), then parsed back. */
    memset(&st, 0, sizeof st);
    for (int f = 0; f < SCN_UAV_FIELD_COUNT; f++)
        assert_int_equal(
            scn_uav_state_set(&st, (scn_uav_field)f, all_values[f]), 0);
    assert_int_equal(scn_uav_state_format(&st, out, sizeof out, &n), 0);
    assert_string_equal(out, all_fields);
    assert_int_equal(parse(out, &again), 0);
    assert_all_fields(&again);

    /* An empty state: no text parses to it, so none is written. */
    memset(&st, 0, sizeof st);
    assert_int_equal(scn_uav_state_format(&st, out, sizeof out, &n),
                     SCN_ERR_INVALID_ARG);
    assert_string_equal(out, "");
}

/* Parses text, writes it, parses that again: the same values, and the
 * same text when written once more. Returns the first text written. */
static const char *round_trip(const char *text, char *out, size_t cap)
{
    scn_uav_state a, b;
    char again[2 * SCN_UAV_STATE_MAX];
    size_t n = 0;
    int rc;

    assert_int_equal(parse(text, &a), 0);
    rc = scn_uav_state_format(&a, out, cap, &n);
    if (rc != 0)
        fail_msg("\"%s\": not written (%s)", text, scn_err_name(rc));
    if (parse(out, &b) != 0)
        fail_msg("\"%s\" written as \"%s\", which does not parse", text, out);
    assert_int_equal(a.present, b.present);
    for (int f = 0; f < SCN_UAV_FIELD_COUNT; f++) {
        double va = 0, vb = 0;
        scn_uav_state_get(&a, (scn_uav_field)f, &va);
        scn_uav_state_get(&b, (scn_uav_field)f, &vb);
        if (va != vb)
            fail_msg("\"%s\" written as \"%s\": %.17g read as %.17g", text, out,
                     va, vb);
    }
    assert_int_equal(a.unknown_count, b.unknown_count);
    assert_int_equal(scn_uav_state_format(&b, again, sizeof again, NULL), 0);
    assert_string_equal(again, out);
    return out;
}

/* head, then unknown keys up to SCN_UAV_STATE_MAX bytes without a last
 * ';', in text (SCN_UAV_STATE_MAX + 1 bytes); returns text. */
static const char *longest_state(char *text, const char *head)
{
    size_t off = (size_t)snprintf(text, SCN_UAV_STATE_MAX + 1, "%s", head);

    for (int i = 0; i < 15; i++)
        off += (size_t)snprintf(text + off, SCN_UAV_STATE_MAX + 1 - off,
                                "k%c:%060d;", 'A' + i, i);
    /* The last key's value fills what is left. */
    off += (size_t)snprintf(text + off, SCN_UAV_STATE_MAX + 1 - off, "kP:%0*d",
                            (int)(SCN_UAV_STATE_MAX - off - 3), 7);
    assert_int_equal(off, SCN_UAV_STATE_MAX);
    return text;
}

/* Everything the parser accepts is written back to a text that parses to
 * the same state (issue 9, item 15). */
static void test_every_accepted_state_round_trips(void **state)
{
    char text[SCN_UAV_STATE_MAX + 1], out[2 * SCN_UAV_STATE_MAX];
    uint64_t x = 88172645463325252u;
    (void)state;

    /* 15 significant digits: two decimals used to round them away
     * ("500000000000000.96" has 17 digits and does not parse). */
    assert_string_equal(round_trip("baro:500000000000001", out, sizeof out),
                        "baro:500000000000001.00;");
    assert_string_equal(round_trip("agx:-0.000000000000001", out, sizeof out),
                        "agx:-0.000000000000001;");
    assert_string_equal(round_trip("olfa:6.230", out, sizeof out),
                        "olfa:6.23;");
    assert_string_equal(round_trip("olfb:12345.6789", out, sizeof out),
                        "olfb:12345.6789;");
    assert_string_equal(round_trip("baro:-0", out, sizeof out), "baro:0.00;");
    round_trip("baro:0.0000000000000000000001", out, sizeof out);
    round_trip("baro:999999999999999", out, sizeof out);
    round_trip("baro:99999999999999.9", out, sizeof out);
    round_trip("baro:0.999999999999999", out, sizeof out);
    /* Random decimals of 1 to 15 digits, the point anywhere. */
    for (int i = 0; i < 100000; i++) {
        char digits[16];
        int nd, point, neg;
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        nd = 1 + (int)(x % 15);
        point = (int)((x >> 8) % (unsigned)(nd + 1));
        neg = (int)((x >> 16) & 1);
        for (int d = 0; d < nd; d++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            digits[d] = (char)('0' + x % 10);
        }
        snprintf(text, sizeof text, "%sbaro:%s%.*s%s%.*s;pitch:1",
                 neg ? "" : "x:1;", neg ? "-" : "", point ? point : 1,
                 point ? digits : "0", point < nd ? "." : "", nd - point,
                 digits + point);
        round_trip(text, out, sizeof out);
    }

    /* Two fraction digits, the drone's own form, up to 15 digits in all
     * (the writer's shortcut for them ends at 1e13): written back as
     * read, with a last 0 kept as padding only. */
    assert_string_equal(round_trip("baro:9999999999999.99", out, sizeof out),
                        "baro:9999999999999.99;");
    assert_string_equal(round_trip("baro:9999999999999.90", out, sizeof out),
                        "baro:9999999999999.90;");
    assert_string_equal(round_trip("baro:10000000000000.5", out, sizeof out),
                        "baro:10000000000000.50;");
    assert_string_equal(round_trip("agz:-0.01", out, sizeof out), "agz:-0.01;");
    for (int i = 0; i < 100000; i++) {
        char want[64];
        unsigned long long whole, cents;
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        whole = (x >> 8) % (i % 2 ? 10000000000000ULL : 100000ULL);
        cents = x % 100;
        snprintf(want, sizeof want, "agx:%s%llu.%02llu;",
                 x >> 63 && (whole || cents) ? "-" : "", whole, cents);
        if (strcmp(round_trip(want, out, sizeof out), want) != 0)
            fail_msg("\"%s\" written as \"%s\"", want, out);
    }

    /* 1024 bytes, all of it kept: six bare decimals, 16 unknown keys, no
     * last ';'. The drone's form (".00" each, a last ';') would be 19
     * bytes too long to parse, so the shortest form is written: here the
     * very text that was read. */
    assert_string_equal(
        round_trip(
            longest_state(text, "baro:1;agx:2;agy:3;agz:4;olfa:5;olfb:6;"), out,
            sizeof out),
        text);
    /* The same with decimals of one and two fraction digits: each in its
     * fewest digits. */
    assert_string_equal(
        round_trip(longest_state(
                       text, "baro:1.5;agx:2.25;agy:-0.1;agz:4;olfa:5;olfb:6;"),
                   out, sizeof out),
        text);
}

static void test_format_limits(void **state)
{
    scn_uav_state st;
    char out[64];
    size_t n = 0;
    (void)state;

    assert_int_equal(parse("pitch:1;bat:80", &st), 0);
    /* "pitch:1;bat:80;" is 15 bytes. */
    assert_int_equal(scn_uav_state_format(&st, out, 16, &n), 0);
    assert_int_equal(n, 15);
    assert_int_equal(scn_uav_state_format(&st, out, 15, &n), SCN_ERR_NOMEM);
    assert_int_equal(n, 16);
    assert_string_equal(out, "");
    assert_int_equal(scn_uav_state_format(&st, NULL, 0, &n), SCN_ERR_NOMEM);
    assert_int_equal(n, 16);

    /* Values that would not parse back are refused. */
    strcpy(st.unknown[0].key, "bad;key");
    strcpy(st.unknown[0].value, "1");
    st.unknown_count = 1;
    assert_int_equal(scn_uav_state_format(&st, out, sizeof out, &n),
                     SCN_ERR_INVALID_ARG);
    assert_string_equal(out, "");
    strcpy(st.unknown[0].key, "bat");
    assert_int_equal(scn_uav_state_format(&st, out, sizeof out, &n),
                     SCN_ERR_INVALID_ARG);
    strcpy(st.unknown[0].key, "ok");
    strcpy(st.unknown[0].value, "a;b");
    assert_int_equal(scn_uav_state_to_json(&st, out, sizeof out, &n),
                     SCN_ERR_INVALID_ARG);
    strcpy(st.unknown[0].value, "ab");
    assert_int_equal(scn_uav_state_format(&st, out, sizeof out, &n), 0);
    assert_string_equal(out, "pitch:1;bat:80;ok:ab;");

    memset(&st, 0, sizeof st);
    st.present = 1u << SCN_UAV_F_BARO;
    st.baro = INFINITY;
    assert_int_equal(scn_uav_state_format(&st, out, sizeof out, &n),
                     SCN_ERR_INVALID_ARG);
    st.baro = 1e16;
    assert_int_equal(scn_uav_state_to_json(&st, out, sizeof out, &n),
                     SCN_ERR_INVALID_ARG);
}

static void test_set(void **state)
{
    scn_uav_state st;
    char out[128];
    (void)state;
    memset(&st, 0, sizeof st);
    assert_int_equal(scn_uav_state_set(&st, SCN_UAV_F_PITCH, 1.6), 0);
    assert_int_equal(st.pitch, 2);
    assert_int_equal(scn_uav_state_set(&st, SCN_UAV_F_ROLL, -1.6), 0);
    assert_int_equal(st.roll, -2);
    assert_int_equal(scn_uav_state_set(&st, SCN_UAV_F_YAW, 2147483647.0), 0);
    assert_int_equal(scn_uav_state_set(&st, SCN_UAV_F_YAW, 2147483648.0),
                     SCN_ERR_OUT_OF_RANGE);
    assert_int_equal(scn_uav_state_set(&st, SCN_UAV_F_YAW, -2147483648.0), 0);
    assert_int_equal(st.yaw, INT32_MIN);
    assert_int_equal(scn_uav_state_set(&st, SCN_UAV_F_YAW, -2147483649.0),
                     SCN_ERR_OUT_OF_RANGE);
    assert_int_equal(scn_uav_state_set(&st, SCN_UAV_F_BARO, NAN),
                     SCN_ERR_OUT_OF_RANGE);
    assert_int_equal(scn_uav_state_set(&st, SCN_UAV_F_BARO, 1e300),
                     SCN_ERR_OUT_OF_RANGE);
    assert_int_equal(scn_uav_state_set(&st, SCN_UAV_F_BARO, -0.001), 0);
    assert_int_equal(scn_uav_state_set(NULL, SCN_UAV_F_BARO, 1),
                     SCN_ERR_INVALID_ARG);
    assert_int_equal(scn_uav_state_set(&st, SCN_UAV_FIELD_COUNT, 1),
                     SCN_ERR_INVALID_ARG);
    assert_int_equal(st.present,
                     (1u << SCN_UAV_F_PITCH) | (1u << SCN_UAV_F_ROLL) |
                         (1u << SCN_UAV_F_YAW) | (1u << SCN_UAV_F_BARO));
    /* Decimals are kept as the drone writes them: two decimals, rounded to
     * nearest either side of zero, never "-0.00" (the simulator's noise
     * goes out like the drone's readings). */
    assert_int_equal(scn_uav_state_set(&st, SCN_UAV_F_AGX, 12.3456), 0);
    assert_int_equal(scn_uav_state_set(&st, SCN_UAV_F_AGY, -2.0 / 3), 0);
    assert_int_equal(scn_uav_state_set(&st, SCN_UAV_F_AGZ, 0.996), 0);
    assert_int_equal(scn_uav_state_set(&st, SCN_UAV_F_OLFA, -1e-30), 0);
    assert_true(st.agx == 12.35 && st.agy == -0.67 && st.agz == 1.0);
    assert_int_equal(scn_uav_state_format(&st, out, sizeof out, NULL), 0);
    assert_non_null(strstr(out, "baro:0.00;agx:12.35;agy:-0.67;agz:1.00;"
                                "olfa:0.00;"));
    /* Fewer decimals where 15 digits leave no room; a decimal field holds
     * what a state string can: below 1e15. */
    assert_int_equal(scn_uav_state_set(&st, SCN_UAV_F_BARO, 1e15),
                     SCN_ERR_OUT_OF_RANGE);
    assert_int_equal(scn_uav_state_set(&st, SCN_UAV_F_BARO, 999999999999999.6),
                     SCN_ERR_OUT_OF_RANGE);
    assert_int_equal(scn_uav_state_set(&st, SCN_UAV_F_BARO, 123456789012345.4),
                     0);
    assert_int_equal(scn_uav_state_format(&st, out, sizeof out, NULL), 0);
    assert_non_null(strstr(out, "baro:123456789012345.00;"));
    assert_int_equal(scn_uav_state_set(&st, SCN_UAV_F_BARO, 1234567890123.456),
                     0);
    assert_int_equal(scn_uav_state_format(&st, out, sizeof out, NULL), 0);
    assert_non_null(strstr(out, "baro:1234567890123.46;"));
    /* Filled by hand with a value no 15-digit decimal equals: written
     * rounded to two decimals, still something the parser reads. */
    st.baro = 2.0 / 3;
    assert_int_equal(scn_uav_state_format(&st, out, sizeof out, NULL), 0);
    assert_non_null(strstr(out, "baro:0.67;"));
}

static void test_json(void **state)
{
    scn_uav_state st;
    char out[1024];
    size_t n = 0;
    (void)state;

    assert_int_equal(parse(documented, &st), 0);
    assert_int_equal(scn_uav_state_to_json(&st, out, sizeof out, &n), 0);
    assert_string_equal(
        out, "{\"pitch\":0,\"roll\":0,\"yaw\":0,\"vgx\":0,\"vgy\":0,\"vgz\":0,"
             "\"templ\":0,\"temph\":0,\"tof\":10,\"h\":0,\"bat\":80,"
             "\"baro\":-7.85,\"time\":0,\"agx\":-1.00,\"agy\":0.00,"
             "\"agz\":-999.00}");
    assert_int_equal(n, strlen(out));

    /* Unknown keys: numbers stay numbers, the rest become strings, a
     * repeated key is written once (first value), quotes are escaped. */
    assert_int_equal(parse("x:1;mid:-1;mpry:0,0,0;v:007;q:say \"hi\" \\o/;"
                           "mid:5;f:2.50",
                           &st),
                     0);
    assert_int_equal(scn_uav_state_to_json(&st, out, sizeof out, &n), 0);
    assert_string_equal(out, "{\"x\":1,\"mid\":-1,\"mpry\":\"0,0,0\","
                             "\"v\":\"007\",\"q\":\"say \\\"hi\\\" \\\\o/\","
                             "\"f\":2.50}");

    memset(&st, 0, sizeof st);
    assert_int_equal(scn_uav_state_to_json(&st, out, sizeof out, &n), 0);
    assert_string_equal(out, "{}");
    assert_int_equal(scn_uav_state_to_json(&st, out, 2, &n), SCN_ERR_NOMEM);
    assert_int_equal(n, 3);
    assert_string_equal(out, "");
}

/* One of the texts in pool, at random. */
static const char *pick(scn_rng *rng, const char *const *pool, size_t n)
{
    return pool[scn__rng_upto(rng, (uint32_t)n - 1)];
}

#define PICK(rng, pool) pick(rng, pool, sizeof(pool) / sizeof(pool[0]))

/* A drone's state string as a fuzzer would send it: known keys in any
 * order (now and then twice, which the parser refuses), values at the
 * edges of each grammar, and unknown keys with quotes, backslashes,
 * number-like and over-long values. */
static size_t random_state(scn_rng *rng, char *out, size_t cap)
{
    static const char *const ints[] = {"0",           "-0",   "1",
                                       "-1",          "007",  "2147483647",
                                       "-2147483648", "-999", "123456"};
    static const char *const decs[] = {
        "0",        "-0",      "-0.00",           "0.5",
        "-7.85",    "2000.00", "999999999999999", "123456789012345.67",
        "0.000001", "-999.00", "-0.0000001",      "1234567890123.456"};
    /* Refused in a known field: the whole state goes. */
    static const char *const bad[] = {
        "+5", "2147483648", "1e3", "", "-", ".5", "5.", "99999999999999999999"};
    static const char *const keys[] = {
        "mid", "mpry", "q\"k", "b\\s",     "{x}", "~",      "olf", "Pitch",
        "x1",  "a,b",  "k]",   "\xc3\xa9", "gps", "pitch2", "h_"};
    static const char *const vals[] = {
        "1",
        "-1",
        "007",
        "-0",
        "0.5",
        "1.50",
        "1e3",
        ".5",
        "5.",
        "-",
        "0,0,0",
        "say \"hi\" \\o/",
        "true",
        "null",
        "{}",
        "[1]",
        "  spaced ",
        "0x10",
        "",
        "-0.00",
        "99999999999999999999999999999999999999999999999999",
        "12345678901234567890123456789012345678901234567890123456789012",
        "123456789012345678901234567890123456789012345678901234567890123x"};
    int order[SCN_UAV_FIELD_COUNT];
    size_t n = 0;
    int pairs = (int)scn__rng_upto(rng, 28), next = 0;

    /* The known fields in a random order, each once. */
    for (int f = 0; f < SCN_UAV_FIELD_COUNT; f++) {
        int j = (int)scn__rng_upto(rng, (uint32_t)f);
        order[f] = order[j];
        order[j] = f;
    }
    for (int i = 0; i < pairs; i++) {
        const char *k, *v;
        if (next < SCN_UAV_FIELD_COUNT && scn__rng_upto(rng, 2) > 0) {
            scn_uav_field f = (scn_uav_field)order[next++];
            k = scn_uav_field_name(f);
            if (scn__rng_upto(rng, 60) == 0)
                v = PICK(rng, bad);
            else
                v = scn_uav_field_is_integer(f) ? PICK(rng, ints)
                                                : PICK(rng, decs);
        } else {
            k = PICK(rng, keys);
            v = PICK(rng, vals);
        }
        n +=
            (size_t)snprintf(out + n, cap - n, "%s:%s%s", k, v,
                             i + 1 < pairs || scn__rng_upto(rng, 1) ? ";" : "");
        assert_true(n < cap);
    }
    /* Now and then a known key twice, which the parser refuses. */
    if (next > 0 && scn__rng_upto(rng, 40) == 0)
        n += (size_t)snprintf(out + n, cap - n, ";%s:1",
                              scn_uav_field_name((scn_uav_field)order[0]));
    return n;
}

/* json passes the /live and Foxglove check (scn_live_publish() then
 * published it verbatim), and the cloud record made with the state check
 * is byte for byte the one made without it. */
static void assert_same_downstream(const scn_frame *frame, const char *json,
                                   size_t len, uint64_t seq, int64_t age)
{
    char *rec_old = NULL, *rec_new = NULL, why[256];
    size_t old_len = 0, new_len = 0;

    if (!scn__json_value_ok(json, len))
        fail_msg("/live would refuse %s", json);
    if (scn__cloud_encode_parsed_why(seq, frame, json, len, age, &rec_old,
                                     &old_len, why, sizeof why) != 0)
        fail_msg("the cloud would refuse %s: %s", json, why);
    assert_int_equal(scn__cloud_encode_parsed_checked(seq, frame, json, len,
                                                      age, &rec_new, &new_len,
                                                      NULL, 0),
                     0);
    assert_int_equal(old_len, new_len);
    assert_memory_equal(rec_old, rec_new, old_len);
    free(rec_old);
    free(rec_new);
}

/*
 * The companion publishes a state's JSON with scn_live_publish_checked()
 * and attaches it to cloud records with scn_cloud_submit_frame_checked(),
 * where it used to go through the checking calls. The same bytes go out
 * only if every JSON scn_uav_state_to_json() writes passes those checks.
 */
static void test_json_meets_downstream_checks(void **state)
{
    static const char frame_json[] =
        "{\"UID\":\"SCN001\",\"TIMESTAMP\":\"2025-08-29T21:00:00.250Z\","
        "\"NH3\":270,\"VOC\":2917}";
    scn_frame *frame = NULL;
    scn_uav_state st;
    scn_rng rng;
    char text[4096], json[8192];
    int accepted = 0, with_unknown = 0;
    (void)state;

    assert_int_equal(scn_frame_new(&frame), 0);
    assert_int_equal(scn_frame_parse(frame, frame_json, sizeof(frame_json) - 1),
                     0);
    scn__rng_seed(&rng, 12);
    for (int i = 0; i < 20000; i++) {
        size_t tn = random_state(&rng, text, sizeof text), jn = 0;
        int64_t age = (int64_t)scn__rng_upto(&rng, 2000) - 1000;

        if (scn_uav_state_parse(text, tn, &st) != 0)
            continue;
        accepted++;
        with_unknown += st.unknown_count > 0;
        assert_int_equal(scn_uav_state_to_json(&st, json, sizeof json, &jn), 0);
        assert_true(jn <= SCN_UAV_STATE_JSON_MAX);
        assert_same_downstream(frame, json, jn, 1 + (uint64_t)i, age);
    }
    /* Enough of both kinds that the loop above decided something. */
    print_message("%d of 20000 states accepted, %d with unknown keys\n",
                  accepted, with_unknown);
    assert_true(accepted > 5000);
    assert_true(with_unknown > 3000);

    /* What cannot be written never reaches them: a NaN is refused when
     * set, and one put in by hand stops the writer. Negative zero (by
     * hand: set() makes it 0) and the edges of each range are written as
     * numbers both checks take. */
    memset(&st, 0, sizeof st);
    assert_int_equal(scn_uav_state_set(&st, SCN_UAV_F_BARO, NAN),
                     SCN_ERR_OUT_OF_RANGE);
    assert_int_equal(scn_uav_state_set(&st, SCN_UAV_F_AGY, 123456789012345.4),
                     0);
    assert_int_equal(scn_uav_state_set(&st, SCN_UAV_F_AGZ, -1e-9), 0);
    assert_int_equal(scn_uav_state_set(&st, SCN_UAV_F_X, -2147483648.0), 0);
    st.agx = -0.0;
    st.present |= 1u << SCN_UAV_F_AGX;
    assert_int_equal(scn_uav_state_to_json(&st, json, sizeof json, NULL), 0);
    assert_string_equal(json, "{\"agx\":0.00,\"agy\":123456789012345.00,"
                              "\"agz\":0.00,\"x\":-2147483648}");
    assert_same_downstream(frame, json, strlen(json), 1, 0);
    st.olfa = NAN;
    st.present |= 1u << SCN_UAV_F_OLFA;
    assert_int_equal(scn_uav_state_to_json(&st, json, sizeof json, NULL),
                     SCN_ERR_INVALID_ARG);
    scn_frame_free(frame);
}

/* The JSON of text, parsed; its length. */
static size_t json_len_of(const char *text, size_t tn, char *json, size_t cap)
{
    scn_uav_state st;
    size_t jn = 0;

    assert_int_equal(scn_uav_state_parse(text, tn, &st), 0);
    assert_int_equal(scn_uav_state_to_json(&st, json, cap, &jn), 0);
    return jn;
}

/*
 * SCN_UAV_STATE_JSON_MAX is reached, and never passed, by what the parser
 * accepts: SCN_UAV_STATE_UNKNOWN_MAX unknown pairs of distinct keys, every
 * byte but their ':' and ';' a '"' or '\\' (two bytes in JSON), fill a
 * SCN_UAV_STATE_MAX string to exactly the bound. Random states of such
 * pairs, documented fields (padded decimals) and repeated keys mixed, all
 * near SCN_UAV_STATE_MAX bytes, stay within it.
 */
static void test_json_bound(void **state)
{
    char text[SCN_UAV_STATE_MAX + 1], json[2 * SCN_UAV_STATE_JSON_MAX];
    size_t off = 0, longest = 0;
    scn_rng rng;
    (void)state;

    for (int i = 0; i < SCN_UAV_STATE_UNKNOWN_MAX; i++) {
        /* Keys of 20 bytes told apart by the bits of i; the values take
         * the rest, the last one byte more. */
        size_t vn = i + 1 < SCN_UAV_STATE_UNKNOWN_MAX ? 42 : 43;
        for (int b = 0; b < 20; b++)
            text[off++] = (i >> (b % 5)) & 1 ? '\\' : '"';
        text[off++] = ':';
        memset(text + off, i & 1 ? '\\' : '"', vn);
        off += vn;
        if (i + 1 < SCN_UAV_STATE_UNKNOWN_MAX)
            text[off++] = ';';
    }
    assert_int_equal(off, SCN_UAV_STATE_MAX);
    assert_int_equal(json_len_of(text, off, json, SCN_UAV_STATE_JSON_MAX + 1),
                     SCN_UAV_STATE_JSON_MAX);

    scn__rng_seed(&rng, 31);
    for (int run = 0; run < 20000; run++) {
        static const char *const known[] = {"agx:0", "olfa:1", "h:0", "baro:-0",
                                            "x:7"};
        int pairs = 0, used = 0;

        off = 0;
        while (pairs < 40) {
            char pair[SCN_UAV_STATE_KEY_MAX + SCN_UAV_STATE_VALUE_MAX + 3];
            size_t pn = 0;
            unsigned pick_known = scn__rng_upto(&rng, 5);

            if (pick_known == 0 && !(used & (1 << pairs % 5))) {
                used |= 1 << pairs % 5;
                pn =
                    (size_t)snprintf(pair, sizeof pair, "%s", known[pairs % 5]);
            } else {
                size_t kn = 1 + scn__rng_upto(&rng, SCN_UAV_STATE_KEY_MAX - 1);
                size_t vn = scn__rng_upto(&rng, SCN_UAV_STATE_VALUE_MAX);
                for (size_t b = 0; b < kn; b++)
                    pair[pn++] = "\"\\k"[scn__rng_upto(&rng, 2)];
                pair[pn++] = ':';
                for (size_t b = 0; b < vn; b++)
                    pair[pn++] = "\"\\v1"[scn__rng_upto(&rng, 3)];
            }
            if (off + (off > 0) + pn > SCN_UAV_STATE_MAX)
                break;
            if (off > 0)
                text[off++] = ';';
            memcpy(text + off, pair, pn);
            off += pn;
            pairs++;
        }
        size_t jn = json_len_of(text, off, json, sizeof json);
        assert_true(jn <= SCN_UAV_STATE_JSON_MAX);
        if (jn > longest)
            longest = jn;
    }
    print_message("longest random state JSON: %zu bytes (bound %d)\n", longest,
                  SCN_UAV_STATE_JSON_MAX);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_documented),
        cmocka_unit_test(test_all_fields_any_order),
        cmocka_unit_test(test_endings),
        cmocka_unit_test(test_unknown_keys),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_length_limit),
        cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_format_round_trip),
        cmocka_unit_test(test_every_accepted_state_round_trips),
        cmocka_unit_test(test_format_limits),
        cmocka_unit_test(test_set),
        cmocka_unit_test(test_json),
        cmocka_unit_test(test_json_meets_downstream_checks),
        cmocka_unit_test(test_json_bound),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
