/* lib/codec/frame_scan.c and lib/codec/frame_number.c, the single-pass frame
 * tokenizer: numbers bit-exact with strtod() and canonical only when the writer
 * agrees; every strictness rule; and a differential test against the
 * reference it replaced (tests/support/frame_ref.c), over generated and
 * mutated frames, for scn_frame_parse() and for the session's routing by
 * "type". */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <scentience/error.h>
#include <scentience/frame.h>

#include "frame_internal.h"
#include "frame_ref.h"
#include "rng.h"

#define HEAD "\"UID\":\"SCN001\",\"TIMESTAMP\":\"2025-08-29T21:00:00Z\""

static uint32_t below(scn_rng *r, uint32_t n)
{
    return n ? scn__rng_upto(r, n - 1) : 0;
}

/* ---- Numbers ----------------------------------------------------------- */

/* Reads text with scn__json_number() from an exact-size heap copy. */
static size_t read_number(const char *text, double *x, bool *canonical)
{
    size_t n = strlen(text);
    char *copy = malloc(n ? n : 1);
    size_t got;

    assert_non_null(copy);
    memcpy(copy, text, n);
    got = scn__json_number(copy, copy + n, x, canonical);
    free(copy);
    return got;
}

static void check_number(const char *text)
{
    double x, want = strtod(text, NULL);
    bool canonical;
    char out[64];
    scn_jw w = {out, 0, sizeof out - 1, false, false};

    if (read_number(text, &x, &canonical) != strlen(text))
        fail_msg("%s: not read whole", text);
    if (memcmp(&x, &want, sizeof x) != 0)
        fail_msg("%s: %.17g, strtod %.17g", text, x, want);
    if (!isfinite(x))
        return;
    scn__jw_number(&w, x);
    out[w.len] = '\0';
    /* Canonical claims must match the writer exactly. */
    if (canonical && strcmp(out, text) != 0)
        fail_msg("%s: claimed canonical, writer prints %s", text, out);
}

/* A random RFC 8259 number: digit counts and exponents around the edges of
 * the fast path (15 and 19 digits, 2^53, exponent 22). */
static void random_number(scn_rng *r, char *out)
{
    size_t n = 0;
    uint32_t nint = 1 + below(r, 20), nfrac = below(r, 4) ? below(r, 12) : 0;

    if (below(r, 3) == 0)
        out[n++] = '-';
    if (below(r, 4) == 0) {
        out[n++] = '0';
    } else {
        out[n++] = (char)('1' + below(r, 9));
        for (uint32_t i = 1; i < nint; i++)
            out[n++] = (char)('0' + (below(r, 3) ? below(r, 10) : 0));
    }
    if (nfrac) {
        out[n++] = '.';
        for (uint32_t i = 0; i < nfrac; i++)
            out[n++] = (char)('0' + (below(r, 3) ? below(r, 10) : 0));
    }
    if (below(r, 3) == 0) {
        out[n++] = below(r, 2) ? 'e' : 'E';
        uint32_t s = below(r, 3);
        if (s)
            out[n++] = s == 1 ? '-' : '+';
        n += (size_t)sprintf(out + n, "%u",
                             below(r, 4) ? below(r, 30) : below(r, 400));
    }
    out[n] = '\0';
}

static void test_numbers_bit_exact(void **state)
{
    static const char *const fixed[] = {
        "0",
        "-0",
        "0.0",
        "-0.0",
        "1",
        "9007199254740991",
        "9007199254740992",
        "9007199254740993",
        "999999999999999",
        "1000000000000000",
        "123456789012345",
        "0.1",
        "0.0001",
        "0.00009",
        "0.00012",
        "6.23",
        "4.5",
        "999999.123456789",
        "1000000.5",
        "123456.123456789",
        "12.50",
        "1e22",
        "1e23",
        "9e22",
        "8.98846567431158e307",
        "1.7976931348623157e308",
        "2.2250738585072014e-308",
        "5e-324",
        "1e-400",
        "0e999",
        "1e999",
        "-1e999",
        "4.9406564584124654e-324",
        "123456789012345678901234567890",
        "0.30000000000000004",
        "0.000000000000000000000000000001",
        "1.00000000000000011102230246251565",
        "9007199254740993e-22",
        "12345678901234567e-5",
        "3.14159265358979",
    };
    scn_rng r;
    char buf[96];

    (void)state;
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        check_number(fixed[i]);
    scn__rng_seed(&r, 7);
    for (int i = 0; i < 300000; i++) {
        random_number(&r, buf);
        check_number(buf);
    }
    /* Sensor readings as the writer prints them are copied as received. */
    for (int i = 0; i < 100000; i++) {
        double x = (double)(int64_t)(scn__rng_next(&r) % 200000000) /
                   pow(10, (double)below(&r, 9));
        scn_jw w = {buf, 0, sizeof buf - 1, false, false};
        double y;
        bool canonical;
        scn__jw_number(&w, x);
        buf[w.len] = '\0';
        assert_int_equal(read_number(buf, &y, &canonical), w.len);
        assert_true(y == x);
        /* The flag may be conservative, but not for readings. */
        if (!canonical && fabs(x) < 1e6)
            fail_msg("%s not seen as canonical", buf);
    }
}

static void test_number_grammar(void **state)
{
    static const char *const bad[] = {"",     "-",  "+1",  ".5", "-.5", "1.",
                                      "1.e5", "1e", "1e+", "e5", "-e5", "x"};
    double x;
    bool canonical;

    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (read_number(bad[i], &x, &canonical) != 0)
            fail_msg("\"%s\" read as a number", bad[i]);
    /* The longest prefix that is a number; the caller refuses the rest. */
    assert_int_equal(read_number("01", &x, &canonical), 1);
    assert_int_equal(read_number("1.5.3", &x, &canonical), 3);
    assert_int_equal(read_number("-0x1", &x, &canonical), 2);
    assert_int_equal(read_number("12,", &x, &canonical), 2);
    assert_true(x == 12);
}

/* ---- Strictness -------------------------------------------------------- */

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

static void expect(scn_frame *f, const char *json, int err)
{
    int rc = parse_n(f, json, strlen(json));

    if (rc != err)
        fail_msg("%s: got %s, want %s", json, scn_err_name(rc),
                 scn_err_name(err));
    if (err != 0)
        assert_int_equal(scn_frame_key_count(f), 0);
}

static void test_strictness(void **state)
{
    static const struct {
        const char *json;
        int err;
    } cases[] = {
        /* Escapes: every kind, decoded and re-escaped canonically. */
        {"{" HEAD ",\"_s\":\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u0001\\u001f\"}", 0},
        {"{" HEAD ",\"_s\":\"\\uD83D\\uDE00\\u00e9\\u20AC\"}", 0},
        {"{" HEAD ",\"_s\":\"\\ud83d\"}", SCN_ERR_MALFORMED},
        {"{" HEAD ",\"_s\":\"\\ude00\"}", SCN_ERR_MALFORMED},
        {"{" HEAD ",\"_s\":\"\\ud83d\\u0041\"}", SCN_ERR_MALFORMED},
        {"{" HEAD ",\"_s\":\"\\ud83d\\n\"}", SCN_ERR_MALFORMED},
        {"{" HEAD ",\"_s\":\"\\u00zz\"}", SCN_ERR_MALFORMED},
        {"{" HEAD ",\"_s\":\"\\uZZZZ\"}", SCN_ERR_MALFORMED},
        {"{" HEAD ",\"_s\":\"\\u0000\"}", SCN_ERR_MALFORMED},
        {"{" HEAD ",\"_s\":\"\\U0041\"}", SCN_ERR_MALFORMED},
        {"{" HEAD ",\"_s\":\"\\\"}", SCN_ERR_MALFORMED},
        {"{" HEAD ",\"_s\":\"\\", SCN_ERR_MALFORMED},
        /* UTF-8, also in keys and nested values. */
        {"{" HEAD ",\"_\xe2\x82\":1}", SCN_ERR_MALFORMED},
        {"{" HEAD ",\"_x\":[\"ok\",{\"\xc0\x80\":1}]}", SCN_ERR_MALFORMED},
        {"{" HEAD ",\"_x\":[\"\xf0\x9f\x98\"]}", SCN_ERR_MALFORMED},
        {"{" HEAD ",\"_x\":\"\x7f\"}", 0},
        /* Duplicates: after decoding, top level only. */
        {"{" HEAD ",\"A\":1,\"\\u0041\":2}", SCN_ERR_MALFORMED},
        {"{" HEAD ",\"_x\":[{\"a\":1,\"a\":1}]}", 0},
        /* Numbers anywhere, nested non-finite ones too. */
        {"{" HEAD ",\"_x\":[[1e309]]}", SCN_ERR_OUT_OF_RANGE},
        {"{" HEAD ",\"_x\":{\"a\":-1e309}}", SCN_ERR_OUT_OF_RANGE},
        {"{" HEAD ",\"_x\":[01]}", SCN_ERR_MALFORMED},
        {"{" HEAD ",\"_x\":[1.]}", SCN_ERR_MALFORMED},
        {"{" HEAD ",\"_x\":-}", SCN_ERR_MALFORMED},
        /* Long numbers are read whole (strtod on a heap copy). */
        {"{" HEAD ",\"_x\":1.00000000000000000000000000000000000000000000000"
         "000000000000000000000000000000000000000000000000000000000000001}",
         0},
        {"{" HEAD ",\"_x\":1000000000000000000000000000000000000000000000000"
         "000000000000000000000000000000000000000000000000000000000000e-300}",
         0},
        /* Literals and structure. */
        {"{" HEAD ",\"_x\":[true,false,null]}", 0},
        {"{" HEAD ",\"_x\":[True]}", SCN_ERR_MALFORMED},
        {"{" HEAD ",\"_x\":nul}", SCN_ERR_MALFORMED},
        {"{" HEAD ",\"_x\":[1,]}", SCN_ERR_MALFORMED},
        {"{" HEAD ",\"_x\":[,1]}", SCN_ERR_MALFORMED},
        {"{" HEAD ",\"_x\":{\"a\"}}", SCN_ERR_MALFORMED},
        {"{" HEAD ",\"_x\":{1:2}}", SCN_ERR_MALFORMED},
        {"{" HEAD ",\"_x\":[1 2]}", SCN_ERR_MALFORMED},
        {"{" HEAD "\"_x\":1}", SCN_ERR_MALFORMED},
        {"{" HEAD ",\"_x\" 1}", SCN_ERR_MALFORMED},
        {"{" HEAD ",\"_x\":[\x0b]}", SCN_ERR_MALFORMED},
        {"{" HEAD ",\"_x\":[\xc3\xa9]}", SCN_ERR_MALFORMED},
        /* Order of errors, as the cJSON path had it: syntax anywhere
         * first (the pre-scan's own order), then frame rules by key. */
        {"{" HEAD ",\"CO\":\"x\",\"_x\":[[[[[[[[[]]]]]]]]]}", SCN_ERR_TOO_DEEP},
        {"{" HEAD ",\"CO\":\"x\",\"_x\":01}", SCN_ERR_MALFORMED},
        {"{" HEAD ",\"CO\":\"x\",\"_x\":1e999}", SCN_ERR_WRONG_TYPE},
        {"{" HEAD ",\"_x\":1e999,\"CO\":\"x\"}", SCN_ERR_OUT_OF_RANGE},
        {"{\"CO\":1e999,\"CO\":1}", SCN_ERR_OUT_OF_RANGE},
        {"{\"CO\":1,\"CO\":1e999}", SCN_ERR_MALFORMED},
        {"{\"SEQ\":1.5,\"UID\":1}", SCN_ERR_OUT_OF_RANGE},
        {"{\"UID\":\"a\"}", SCN_ERR_MISSING_FIELD},
        {"{}", SCN_ERR_MISSING_FIELD},
    };
    scn_frame *f;

    (void)state;
    assert_int_equal(scn_frame_new(&f), 0);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        expect(f, cases[i].json, cases[i].err);

    assert_int_equal(parse_n(f, cases[0].json, strlen(cases[0].json)), 0);
    assert_string_equal(scn_frame_raw(f, "_s"),
                        "\"\\\"\\\\/\\b\\f\\n\\r\\t\\u0001\\u001f\"");
    assert_int_equal(parse_n(f, cases[1].json, strlen(cases[1].json)), 0);
    assert_string_equal(scn_frame_raw(f, "_s"),
                        "\"\xf0\x9f\x98\x80\xc3\xa9\xe2\x82\xac\"");
    /* Escaped known keys and values are decoded before they are read. */
    expect(f,
           "{\"\\u0055ID\":\"S\\u0043N\",\"TIMESTAMP\":\"2025-08-29T21:00:0"
           "0\\u005a\",\"C\\u004f\":1}",
           0);
    assert_string_equal(scn_frame_uid(f), "SCN");
    assert_string_equal(scn_frame_timestamp(f), "2025-08-29T21:00:00Z");
    assert_true(scn_frame_compound(f, SCN_CO, SCN_CHANNEL_SINGLE) == 1);
    assert_string_equal(scn_frame_raw(f, "UID"), "\"SCN\"");
    scn_frame_free(f);
}

/* Key-slot reuse: a frame's index forgets the keys of the previous one. */
static void test_index_reuse(void **state)
{
    scn_frame *f;
    char json[512];

    (void)state;
    assert_int_equal(scn_frame_new(&f), 0);
    for (int i = 0; i < 5000; i++) {
        snprintf(json, sizeof json, "{" HEAD ",\"k%d\":%d,\"k%d\":%d}", i, i,
                 i + 1, i);
        assert_int_equal(parse_n(f, json, strlen(json)), 0);
        snprintf(json, sizeof json, "k%d", i - 1);
        assert_null(scn_frame_raw(f, json));
        snprintf(json, sizeof json, "k%d", i + 1);
        assert_non_null(scn_frame_raw(f, json));
    }
    scn_frame_free(f);
}

/* ---- The reference: the cJSON path as it was (tests/support) ---------- */

static void show(const char *json, size_t len)
{
    fprintf(stderr, "input (%zu bytes): ", len);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)json[i];
        if (c >= 0x20 && c < 0x7f)
            fputc(c, stderr);
        else
            fprintf(stderr, "\\x%02x", c);
    }
    fputc('\n', stderr);
}

/* Compares the tokenizer with the reference on one text (an exact-size
 * copy, so that ASan sees any read past its end). */
static void differ(scn_frame *f, const char *text, size_t len, bool route)
{
    char *json = malloc(len ? len : 1), why[512];

    assert_non_null(json);
    memcpy(json, text, len);
    if (frame_ref_compare(f, json, len, route, why, sizeof why) != 0) {
        show(json, len);
        fail_msg("%s", why);
    }
    free(json);
}

/* ---- Generated frames -------------------------------------------------- */

typedef struct text {
    char *buf;
    size_t len, cap;
} text;

static void put(text *t, const char *s, size_t n)
{
    if (t->len + n + 1 > t->cap) {
        t->cap = (t->len + n + 1) * 2;
        t->buf = realloc(t->buf, t->cap);
        assert_non_null(t->buf);
    }
    memcpy(t->buf + t->len, s, n);
    t->len += n;
    t->buf[t->len] = '\0';
}

static void puts_(text *t, const char *s)
{
    put(t, s, strlen(s));
}

static void ws(scn_rng *r, text *t)
{
    static const char *const w[] = {" ", "\n", "\t", "\r\n  "};
    if (below(r, 6) == 0)
        puts_(t, w[below(r, 4)]);
}

static void gen_string(scn_rng *r, text *t)
{
    static const char *const pieces[] = {
        "a",
        "SCN",
        "ppb",
        " ",
        "\\\"",
        "\\\\",
        "\\/",
        "\\n",
        "\\t",
        "\\b",
        "\\f",
        "\\r",
        "\\u0041",
        "\\u00e9",
        "\\u20ac",
        "\\ud83d\\ude00",
        "\xc3\xa9",
        "\xe2\x82\xac",
        "\xf0\x9f\x98\x80",
        "\\u001f",
        "\x7f",
        "{[]}:,",
        "\\u0000",
        "\\ud800",
        "\\udc00",
        "\\uzzzz",
        "\xff",
        "\xc3",
        "\xed\xa0\x80",
        "\x01",
    };
    uint32_t n = below(r, 5);

    put(t, "\"", 1);
    for (uint32_t i = 0; i < n; i++) {
        /* Mostly good pieces; the last eight break a rule. */
        uint32_t k = below(r, 10) ? below(r, 22) : below(r, 30);
        puts_(t, pieces[k]);
    }
    put(t, "\"", 1);
}

static void gen_value(scn_rng *r, text *t, int depth);

static void gen_container(scn_rng *r, text *t, int depth)
{
    bool obj = below(r, 2);
    uint32_t n = below(r, 4);

    put(t, obj ? "{" : "[", 1);
    ws(r, t);
    for (uint32_t i = 0; i < n; i++) {
        if (i)
            put(t, ",", 1), ws(r, t);
        if (obj) {
            if (below(r, 8) == 0)
                puts_(t, "\"type\"");
            else
                gen_string(r, t);
            ws(r, t);
            put(t, ":", 1);
            ws(r, t);
        }
        gen_value(r, t, depth + 1);
        ws(r, t);
    }
    put(t, obj ? "}" : "]", 1);
}

static void gen_value(scn_rng *r, text *t, int depth)
{
    static const char *const odd[] = {
        "1e999",
        "-1e400",
        "5e-324",
        "1e-999",
        "-0",
        "-0.0",
        "0.1",
        "1E2",
        "9007199254740993",
        "123456789012345678901234567890",
        "0.30000000000000004",
        "1.000000000000000000000000000000000000000000000000000000000000001",
        "1.0000000000000000000000000000000000000000000000000000000000001",
    };
    char num[96];

    switch (below(r, 12)) {
    case 0:
    case 1:
    case 2:
    case 3:
        random_number(r, num);
        puts_(t, num);
        return;
    case 4:
        puts_(t, odd[below(r, sizeof odd / sizeof odd[0])]);
        return;
    case 5:
    case 6:
        gen_string(r, t);
        return;
    case 7:
        puts_(t, below(r, 2) ? "true" : below(r, 2) ? "false" : "null");
        return;
    default:
        if (depth <= SCN_FRAME_MAX_DEPTH + 1 && below(r, 2))
            gen_container(r, t, depth);
        else
            puts_(t, "42");
        return;
    }
}

static void gen_frame(scn_rng *r, text *t)
{
    static const char *const keys[] = {
        "UID",
        "TIMESTAMP",
        "SEQ",
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
        "NH3_A",
        "NH3_B",
        "CO_A",
        "C4H10_B",
        "VOC_C",
        "NH3_",
        "_sim_units",
        "_",
        "",
        "uid",
        "type",
        "Type",
        "extra",
        "BATT_V",
        "\\u0055ID",
        "C\\u004f",
        "\xc3\xa9",
        "_A",
        "CO2_AB",
    };
    static const char *const stamps[] = {
        "\"2025-08-29T21:00:00Z\"",
        "\"2025-08-29T21:00:00.123456789Z\"",
        "\"2025-08-29T21:00:00+00:00\"",
        "\"2025-02-30T21:00:00Z\"",
        "\"yesterday\"",
        "12",
    };
    uint32_t n = below(r, 12), nk = sizeof keys / sizeof keys[0];
    /* Distinct keys mostly (7 is prime to nk); mutations add repeats. */
    uint32_t start = below(r, nk);

    t->len = 0;
    ws(r, t);
    put(t, "{", 1);
    ws(r, t);
    /* Usually a valid head first, so that most frames get far. */
    if (below(r, 4)) {
        puts_(t, "\"UID\":\"SCN");
        char d[16];
        snprintf(d, sizeof d, "%u\"", below(r, 1000));
        puts_(t, d);
        puts_(t, ",\"TIMESTAMP\":");
        puts_(t, stamps[below(r, 8) ? 0 : below(r, 6)]);
        if (n)
            put(t, ",", 1);
    }
    for (uint32_t i = 0; i < n; i++) {
        if (i)
            put(t, ",", 1), ws(r, t);
        const char *k = keys[(start + 7 * i) % nk];
        put(t, "\"", 1);
        puts_(t, k);
        put(t, "\"", 1);
        ws(r, t);
        put(t, ":", 1);
        ws(r, t);
        if (strcmp(k, "TIMESTAMP") == 0 && below(r, 2))
            puts_(t, stamps[below(r, 6)]);
        else if (strcmp(k, "type") == 0 && below(r, 2))
            puts_(t, below(r, 2) ? "\"hello\"" : "\"error\"");
        else if (i < 6 && below(r, 8)) {
            /* Readings, mostly: known keys then get their right type. */
            char num[96];
            random_number(r, num);
            puts_(t, num);
        } else
            gen_value(r, t, 2);
        ws(r, t);
    }
    put(t, "}", 1);
    ws(r, t);
}

static void mutate(scn_rng *r, text *t)
{
    static const char bytes[] = "\"\\{}[],:0-1e.+u \x00\x01\x80\xff\tEa";
    uint32_t kind = below(r, 5);
    size_t at = t->len ? below(r, (uint32_t)t->len) : 0;
    char b = bytes[below(r, sizeof bytes - 1)];

    switch (kind) {
    case 0: /* replace a byte */
        if (t->len)
            t->buf[at] = b;
        break;
    case 1: /* insert a byte */
        put(t, "", 1);
        memmove(t->buf + at + 1, t->buf + at, t->len - 1 - at);
        t->buf[at] = b;
        break;
    case 2: /* delete a byte */
        if (t->len) {
            memmove(t->buf + at, t->buf + at + 1, t->len - at - 1);
            t->len--;
        }
        break;
    case 3: /* cut */
        t->len = at;
        break;
    default: { /* repeat a slice: duplicates keys, deepens nesting */
        size_t n = below(r, 24);
        if (at + n > t->len)
            n = t->len - at;
        char *slice = malloc(n + 1);
        assert_non_null(slice);
        memcpy(slice, t->buf + at, n);
        size_t tail = t->len - at;
        put(t, slice, n);
        memmove(t->buf + at + n, t->buf + at, tail);
        memcpy(t->buf + at, slice, n);
        free(slice);
        break;
    }
    }
}

static void test_differential(void **state)
{
    scn_frame *f;
    scn_rng r;
    text t = {0};
    int accepted = 0, rejected = 0;

    (void)state;
    assert_int_equal(scn_frame_new(&f), 0);
    scn__rng_seed(&r, 20250829);
    for (int i = 0; i < 60000; i++) {
        gen_frame(&r, &t);
        for (int m = 0; m < 3; m++) {
            if (m > 0)
                for (uint32_t k = below(&r, 3) + 1; k > 0; k--)
                    mutate(&r, &t);
            differ(f, t.buf, t.len, false);
            if (scn_frame_key_count(f) > 0)
                accepted++;
            else
                rejected++;
            differ(f, t.buf, t.len, true);
        }
    }
    print_message("accepted %d, rejected %d\n", accepted, rejected);
    /* Both outcomes were exercised in bulk. */
    assert_true(accepted > 15000);
    assert_true(rejected > 10000);
    free(t.buf);
    scn_frame_free(f);
}

/* Many keys: the limit, and "type" past it. */
static void test_differential_limits(void **state)
{
    scn_frame *f;
    text t = {0};
    char k[64];

    (void)state;
    assert_int_equal(scn_frame_new(&f), 0);
    for (int extra = 250; extra < 262; extra++) {
        for (int typed = 0; typed < 3; typed++) {
            t.len = 0;
            puts_(&t, "{" HEAD);
            for (int i = 0; i < extra; i++) {
                snprintf(k, sizeof k, ",\"k%d\":%d.5", i, i);
                puts_(&t, k);
            }
            if (typed)
                puts_(&t, typed == 1 ? ",\"type\":\"ack\"" : ",\"type\":[]");
            puts_(&t, "}");
            differ(f, t.buf, t.len, false);
            differ(f, t.buf, t.len, true);
        }
    }
    free(t.buf);
    scn_frame_free(f);
}

/* ---- The string scan, eight bytes at a time ---------------------------- */

static size_t plain_ref(const char *s, size_t n)
{
    size_t i = 0;

    while (i < n && scn_json_plain((unsigned char)s[i]))
        i++;
    return i;
}

/* Both ways of locating the byte in a word, and the one the library uses,
 * against a byte loop. */
static void check_span(const char *s, size_t n)
{
    size_t want = plain_ref(s, n);

    assert_int_equal(scn_json_plain_span(s, s + n, false), want);
    assert_int_equal(scn_json_plain_span(s, s + n, true), want);
    assert_int_equal(scn_json_plain_len(s, s + n), want);
}

/* Every alignment, every length up to three words, and each special byte
 * at every position, among plain bytes right next to the special values
 * (0x20, '!', '#', '[', ']', 0x7F), which a borrow from the special byte
 * turns into false flags above it. The text is its own allocation, so
 * ASan sees any read past its end. */
static void test_plain_span_words(void **state)
{
    static const unsigned char special[] = {'"',  '\\', 0x00, 0x01, 0x1F,
                                            0x0A, 0x80, 0xC3, 0xFF};
    static const char filler[] = {' ', '!', '#', '[', ']', 0x7F, 'a', '0'};

    (void)state;
    for (size_t align = 0; align < 8; align++) {
        for (size_t len = 0; len <= 24; len++) {
            char *buf = malloc(align + len + 1);
            char *s = buf + align;
            assert_non_null(buf);
            for (size_t f = 0; f < sizeof filler; f++) {
                for (size_t i = 0; i < len; i++)
                    s[i] = filler[(i + f) % sizeof filler];
                check_span(s, len); /* all plain */
                for (size_t sp = 0; sp < sizeof special; sp++) {
                    for (size_t pos = 0; pos < len; pos++) {
                        for (size_t i = 0; i < len; i++)
                            s[i] = filler[(i + f) % sizeof filler];
                        s[pos] = (char)special[sp];
                        check_span(s, len);
                        /* A second one later: the first still wins. */
                        if (pos + 1 < len) {
                            s[len - 1] =
                                (char)special[(sp + 1) % sizeof special];
                            check_span(s, len);
                        }
                    }
                }
            }
            free(buf);
        }
    }
}

static void test_plain_span_random(void **state)
{
    static const unsigned char odd[] = {'"',  '\\', 0x00, 0x1F, 0x20, 0x21,
                                        0x23, 0x5B, 0x5D, 0x7F, 0x80, 0xFF};
    scn_rng r;
    char *buf = malloc(48);

    (void)state;
    assert_non_null(buf);
    scn__rng_seed(&r, 8);
    for (int it = 0; it < 200000; it++) {
        size_t align = below(&r, 8), len = below(&r, 41);
        for (size_t i = 0; i < len; i++)
            buf[align + i] = below(&r, 6) ? (char)(0x20 + below(&r, 0x60))
                                          : (char)odd[below(&r, sizeof odd)];
        check_span(buf + align, len);
    }
    free(buf);
}

/* ---- The key-order memo ------------------------------------------------ */

/* The index agrees with the keys: each key's slot names it, the probe
 * finds it there, and no other slot is taken. */
static void check_index(const scn_frame *f)
{
    size_t used = 0;

    for (size_t i = 0; i < f->nkeys; i++) {
        const scn_frame_key *k = &f->keys[i];
        assert_int_equal(f->slots[k->slot], i + 1);
        assert_int_equal(
            scn_frame_probe(f, f->names + k->name_off, k->name_len), k->slot);
    }
    for (size_t i = 0; i < SCN_FRAME_SLOTS; i++)
        used += f->slots[i] != 0;
    assert_int_equal(used, f->nkeys);
}

/* Parses the head then "key_i":(i + 1) for each key text (written as
 * is, escapes and all). */
static int parse_keys(scn_frame *f, const char *const *keys, size_t n)
{
    text t = {0};
    char num[32];
    int rc;

    puts_(&t, "{" HEAD);
    for (size_t i = 0; i < n; i++) {
        puts_(&t, ",\"");
        puts_(&t, keys[i]);
        snprintf(num, sizeof num, "\":%zu", i + 1);
        puts_(&t, num);
    }
    puts_(&t, "}");
    rc = parse_n(f, t.buf, t.len);
    free(t.buf);
    return rc;
}

/* The frame holds the head, then the decoded names with values i + 1. */
static void expect_keys(scn_frame *f, const char *const *names, size_t n)
{
    char num[32];

    assert_int_equal(scn_frame_key_count(f), n + 2);
    for (size_t i = 0; i < n; i++) {
        const char *name, *raw;
        assert_int_equal(scn_frame_key_at(f, i + 2, &name, NULL, &raw), 0);
        assert_string_equal(name, names[i]);
        snprintf(num, sizeof num, "%zu", i + 1);
        assert_string_equal(raw, num);
        assert_true(scn_frame_raw(f, names[i]) == raw);
    }
    assert_string_equal(scn_frame_uid(f), "SCN001");
    check_index(f);
}

#define KEYS(...)  ((const char *const[]){__VA_ARGS__})
#define NKEYS(...) (sizeof((const char *const[]){__VA_ARGS__}) / sizeof(char *))
#define PARSE_OK(f, ...)                                                       \
    do {                                                                       \
        assert_int_equal(parse_keys(f, KEYS(__VA_ARGS__), NKEYS(__VA_ARGS__)), \
                         0);                                                   \
        expect_keys(f, KEYS(__VA_ARGS__), NKEYS(__VA_ARGS__));                 \
    } while (0)
/* Escaped key texts, and the names they decode to. */
#define PARSE_AS(f, keys, names)                                               \
    do {                                                                       \
        assert_int_equal(parse_keys(f, keys, sizeof keys / sizeof *keys), 0);  \
        expect_keys(f, names, sizeof names / sizeof *names);                   \
    } while (0)
#define PARSE_ERR(f, err, ...)                                                 \
    do {                                                                       \
        assert_int_equal(parse_keys(f, KEYS(__VA_ARGS__), NKEYS(__VA_ARGS__)), \
                         err);                                                 \
        assert_int_equal(scn_frame_key_count(f), 0);                           \
        check_index(f);                                                        \
    } while (0)

/* A 40-byte name: longer than the memo keeps. */
#define LONG_NAME "a_key_name_longer_than_the_memo_keeps_xx"

static void test_memo_orders(void **state)
{
    scn_frame *f;
    double v;

    (void)state;
    assert_int_equal(scn_frame_new(&f), 0);
    PARSE_OK(f, "CO2", "NH3", "_x", "BATT_v");
    assert_int_equal(f->memo_n, 6);
    PARSE_OK(f, "CO2", "NH3", "_x", "BATT_v"); /* all from the memo */
    assert_int_equal(f->memo_n, 6);
    assert_true(scn_frame_compound(f, SCN_NH3, SCN_CHANNEL_SINGLE) == 2);
    assert_int_equal(scn_frame_field(f, SCN_FIELD_BATT_V, &v), 0);
    assert_true(v == 4);
    /* Reordered: the typed view follows the names, not the positions. */
    PARSE_OK(f, "NH3", "CO2", "BATT_v", "_x");
    assert_true(scn_frame_compound(f, SCN_NH3, SCN_CHANNEL_SINGLE) == 1);
    assert_true(scn_frame_compound(f, SCN_CO2, SCN_CHANNEL_SINGLE) == 2);
    assert_int_equal(scn_frame_field(f, SCN_FIELD_BATT_V, &v), 0);
    assert_true(v == 3);
    assert_false(scn_frame_has_compound(f, SCN_NH3, SCN_CHANNEL_A));
    PARSE_OK(f, "NH3", "CO2", "BATT_v", "_x", "H2S");   /* one added */
    PARSE_OK(f, "NH3", "BATT_v", "_x", "H2S");          /* one removed */
    PARSE_OK(f, "NH3", "BATT_v", "_x", "H2S", "NH3_A"); /* and back */
    assert_true(scn_frame_compound(f, SCN_NH3, SCN_CHANNEL_A) == 5);
    assert_false(scn_frame_has_compound(f, SCN_CO2, SCN_CHANNEL_SINGLE));
    PARSE_OK(f, "BATT_v");
    assert_int_equal(f->memo_n, 3); /* all after the change forgotten */
    expect(f, "{" HEAD "}", 0);
    assert_int_equal(f->memo_n, 3); /* a shorter frame forgets nothing */
    PARSE_OK(f, "NH3", "BATT_v", "_x", "H2S", "NH3_A");
    /* Names that start like a remembered one, or it like them. */
    PARSE_OK(f, "NH3_A", "BATT_", "_x_", "H2", "NH3");
    PARSE_OK(f, "NH", "BATT_v_", "_", "H2S2", "N");
    PARSE_OK(f, "", "\xc3\xa9", "_x", "H2S", "NH3_A");
    PARSE_OK(f, "", "\xc3\xa9", "_x", "H2S", "NH3_A");
    /* UTF-8 that is not valid fails however the name was found. */
    PARSE_ERR(f, SCN_ERR_MALFORMED, "", "\xc3", "_x");
    PARSE_OK(f, "", "\xc3\xa9", "_x", "H2S", "NH3_A");
    scn_frame_free(f);
}

static void test_memo_duplicates(void **state)
{
    scn_frame *f;

    (void)state;
    assert_int_equal(scn_frame_new(&f), 0);
    PARSE_OK(f, "CO2", "NH3", "_x", "VOC");
    PARSE_ERR(f, SCN_ERR_MALFORMED, "CO2", "NH3", "CO2");
    PARSE_ERR(f, SCN_ERR_MALFORMED, "CO2", "CO2");
    PARSE_ERR(f, SCN_ERR_MALFORMED, "CO2", "NH3", "_x", "VOC", "VOC");
    PARSE_ERR(f, SCN_ERR_MALFORMED, "CO2", "NH3", "_x", "VOC", "UID");
    PARSE_ERR(f, SCN_ERR_MALFORMED, "TIMESTAMP", "NH3", "_x", "VOC");
    PARSE_OK(f, "CO2", "NH3", "_x", "VOC");
    /* A repeat where the memo expects another name, after a change. */
    PARSE_ERR(f, SCN_ERR_MALFORMED, "X", "NH3", "_x", "NH3");
    PARSE_ERR(f, SCN_ERR_MALFORMED, "CO2", "NH3", "_x", "VOC", "X", "_x");
    PARSE_OK(f, "CO2", "NH3", "_x", "VOC");
    /* Escaped names are decoded, never remembered, and still repeats. */
    PARSE_AS(f, KEYS("CO2", "\\u004eH3", "_x", "VOC"),
             KEYS("CO2", "NH3", "_x", "VOC"));
    assert_int_equal(f->memo_n, 3);
    assert_true(scn_frame_compound(f, SCN_NH3, SCN_CHANNEL_SINGLE) == 2);
    PARSE_ERR(f, SCN_ERR_MALFORMED, "CO2", "NH3", "N\\u00483");
    PARSE_ERR(f, SCN_ERR_MALFORMED, "CO2", "\\u004eH3", "NH3");
    PARSE_OK(f, "CO2", "NH3", "_x", "VOC");
    PARSE_ERR(f, SCN_ERR_MALFORMED, "CO2", "NH3", "_x", "\\u0043O2");
    PARSE_AS(f, KEYS("C\\u004f2", "NH3", "_x", "VOC"),
             KEYS("CO2", "NH3", "_x", "VOC"));
    PARSE_OK(f, "CO2", "NH3", "_x", "VOC");
    /* A quote and a backslash in names. */
    PARSE_AS(f, KEYS("CO2", "\\\"", "\\\\", "VOC"),
             KEYS("CO2", "\"", "\\", "VOC"));
    PARSE_AS(f, KEYS("CO2", "\\\"", "\\\\", "VOC"),
             KEYS("CO2", "\"", "\\", "VOC"));
    assert_int_equal(f->memo_n, 3);
    /* Names too long to remember. */
    PARSE_OK(f, "CO2", LONG_NAME, "_x", "VOC");
    PARSE_OK(f, "CO2", LONG_NAME, "_x", "VOC");
    assert_int_equal(f->memo_n, 3);
    PARSE_ERR(f, SCN_ERR_MALFORMED, "CO2", LONG_NAME, "_x", LONG_NAME);
    PARSE_OK(f, "CO2", "_x", "VOC", LONG_NAME);
    assert_int_equal(f->memo_n, 5);
    PARSE_ERR(f, SCN_ERR_MALFORMED, "CO2", "_x", "VOC", LONG_NAME, "_x");
    /* Frame rules other than repeats, on remembered names. */
    expect(f, "{" HEAD ",\"CO2\":\"x\",\"_x\":1}", SCN_ERR_WRONG_TYPE);
    expect(f, "{" HEAD ",\"CO2\":1,\"_x\":1e999}", SCN_ERR_OUT_OF_RANGE);
    PARSE_OK(f, "CO2", "_x", "VOC", LONG_NAME);
    scn_frame_free(f);
}

/* Texts that end inside or just after a remembered name, and names close
 * to the end (the memo's short-text path). */
static void test_memo_text_end(void **state)
{
    static const char full[] = "{" HEAD ",\"CO2\":1,\"NH3\":2}";
    scn_frame *f;

    (void)state;
    assert_int_equal(scn_frame_new(&f), 0);
    expect(f, full, 0);
    /* Every proper prefix, each right after the whole text. */
    for (size_t len = 0; len < sizeof full - 1; len++) {
        assert_int_equal(parse_n(f, full, len), SCN_ERR_MALFORMED);
        assert_int_equal(scn_frame_key_count(f), 0);
        check_index(f);
        expect(f, full, 0);
    }
    expect(f, "{\"CO2\":1}", SCN_ERR_MISSING_FIELD);
    expect(f, "{\"CO2\":1,\"CO2\":1}", SCN_ERR_MALFORMED);
    expect(f, full, 0);
    expect(f, "{\"UID\":\"S\",\"TIMESTAMP\":\"2025-08-29T21:00:00Z\"}", 0);
    expect(f, "{\"UID\":\"S\",\"TIMESTAMP\":\"2025-08-29T21:00:00Z\"}", 0);
    expect(f, "{\"UID\":\"S\",\"UID\":\"2025-08-29T21:00:00Z\"}",
           SCN_ERR_MALFORMED);
    expect(f, "{\"UID\":\"S\",\"TIMESTAMP\"", SCN_ERR_MALFORMED);
    expect(f, "{\"UID\":\"S\",\"TIMESTAMP", SCN_ERR_MALFORMED);
    expect(f, "{\"UID\":\"S\",\"TIMESTAMP\":", SCN_ERR_MALFORMED);
    scn_frame_free(f);
}

/* More keys than the memo holds: past it, the probe does the work. */
static void test_memo_many_keys(void **state)
{
    const char *keys[100];
    char names[100][16];
    scn_frame *f;

    (void)state;
    assert_int_equal(scn_frame_new(&f), 0);
    for (int i = 0; i < 100; i++) {
        snprintf(names[i], sizeof names[i], "k%d", i);
        keys[i] = names[i];
    }
    for (int round = 0; round < 3; round++) {
        assert_int_equal(parse_keys(f, keys, 100), 0);
        expect_keys(f, keys, 100);
        assert_int_equal(f->memo_n, SCN_FRAME_MEMO_KEYS);
    }
    keys[80] = names[70];
    assert_int_equal(parse_keys(f, keys, 100), SCN_ERR_MALFORMED);
    keys[80] = names[80];
    keys[70] = names[30];
    assert_int_equal(parse_keys(f, keys, 100), SCN_ERR_MALFORMED);
    keys[70] = names[70];
    keys[30] = names[99];
    assert_int_equal(parse_keys(f, keys, 100), SCN_ERR_MALFORMED);
    keys[30] = names[30];
    assert_int_equal(parse_keys(f, keys, 100), 0);
    expect_keys(f, keys, 100);
    scn_frame_free(f);
}

/* Random edits of one key sequence from frame to frame (swaps, inserts,
 * deletes, repeats, escaped and long names) on a frame with a memo, and
 * on one whose memo is emptied before every parse: the same verdict and
 * the same keys, values and index. */
static void test_memo_random(void **state)
{
    static const char *const pool[] = {
        "CO2",
        "NH3",
        "NO",
        "NO2",
        "CO",
        "H2",
        "_a",
        "_b",
        "x",
        "CO2_A",
        "CO_B",
        "BATT_v",
        "SEQ",
        "type",
        "\\u0078",
        "N\\u004f",
        LONG_NAME,
        "",
        "ENV_temperatureC",
        "_a_very_long_extension_key_30b",
    };
    const char *const decoded[] = {
        "CO2",
        "NH3",
        "NO",
        "NO2",
        "CO",
        "H2",
        "_a",
        "_b",
        "x",
        "CO2_A",
        "CO_B",
        "BATT_v",
        "SEQ",
        "type",
        "x",
        "NO",
        LONG_NAME,
        "",
        "ENV_temperatureC",
        "_a_very_long_extension_key_30b",
    };
    enum { NP = sizeof pool / sizeof pool[0], MAXK = 24 };
    size_t seq[MAXK], n = 0;
    scn_frame *f, *g;
    scn_rng r;
    int ok = 0, bad = 0;

    (void)state;
    assert_int_equal(scn_frame_new(&f), 0);
    assert_int_equal(scn_frame_new(&g), 0);
    scn__rng_seed(&r, 1234);
    for (int it = 0; it < 30000; it++) {
        switch (below(&r, 6)) {
        case 0: /* swap */
            if (n > 1) {
                size_t a = below(&r, (uint32_t)n), b = below(&r, (uint32_t)n);
                size_t t = seq[a];
                seq[a] = seq[b];
                seq[b] = t;
            }
            break;
        case 1: /* insert */
            if (n < MAXK) {
                size_t at = below(&r, (uint32_t)n + 1);
                memmove(seq + at + 1, seq + at, (n - at) * sizeof *seq);
                seq[at] = below(&r, NP);
                n++;
            }
            break;
        case 2: /* delete */
            if (n > 0) {
                size_t at = below(&r, (uint32_t)n);
                memmove(seq + at, seq + at + 1, (n - at - 1) * sizeof *seq);
                n--;
            }
            break;
        case 3: /* replace */
            if (n > 0)
                seq[below(&r, (uint32_t)n)] = below(&r, NP);
            break;
        default: /* the same again */
            break;
        }
        const char *keys[MAXK], *names[MAXK];
        bool dup = false;
        for (size_t i = 0; i < n; i++) {
            keys[i] = pool[seq[i]];
            names[i] = decoded[seq[i]];
            for (size_t j = 0; j < i; j++)
                dup = dup || strcmp(names[i], names[j]) == 0;
        }
        int rc = parse_keys(f, keys, n);
        g->memo_n = 0;
        assert_int_equal(parse_keys(g, keys, n), rc);
        if (dup) {
            assert_int_equal(rc, SCN_ERR_MALFORMED);
            assert_int_equal(scn_frame_key_count(f), 0);
            check_index(f);
            bad++;
            continue;
        }
        assert_int_equal(rc, 0);
        expect_keys(f, names, n);
        for (size_t i = 0; i < n + 2; i++) {
            const char *na, *nb, *ra, *rb;
            scn_key_kind ka, kb;
            assert_int_equal(scn_frame_key_at(f, i, &na, &ka, &ra), 0);
            assert_int_equal(scn_frame_key_at(g, i, &nb, &kb, &rb), 0);
            assert_string_equal(na, nb);
            assert_string_equal(ra, rb);
            assert_int_equal(ka, kb);
        }
        assert_int_equal(f->field_mask, g->field_mask);
        assert_true(f->compound_mask == g->compound_mask);
        assert_memory_equal(f->fields, g->fields, sizeof f->fields);
        assert_memory_equal(f->compounds, g->compounds, sizeof f->compounds);
        assert_int_equal(f->has_seq, g->has_seq);
        assert_true(f->seq == g->seq);
        ok++;
    }
    print_message("memo: %d accepted, %d with repeats\n", ok, bad);
    assert_true(ok > 5000 && bad > 5000);
    scn_frame_free(f);
    scn_frame_free(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_numbers_bit_exact),
        cmocka_unit_test(test_number_grammar),
        cmocka_unit_test(test_strictness),
        cmocka_unit_test(test_index_reuse),
        cmocka_unit_test(test_differential),
        cmocka_unit_test(test_differential_limits),
        cmocka_unit_test(test_plain_span_words),
        cmocka_unit_test(test_plain_span_random),
        cmocka_unit_test(test_memo_orders),
        cmocka_unit_test(test_memo_duplicates),
        cmocka_unit_test(test_memo_text_end),
        cmocka_unit_test(test_memo_many_keys),
        cmocka_unit_test(test_memo_random),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
