/* lib/codec/json_check.c: the fast pass vouches for plain JSON, says
 * "don't know" for everything unusual, and never vouches for a text the
 * full checks (cJSON's parse, scn__frame_json_parse() and the duplicate and
 * UTF-8 checks on its tree) refuse. */
#include <cjson/cJSON.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "frame_internal.h"
#include "json_check.h"
#include "rng.h"

static bool check(const char *s, scn_json_shape *shape)
{
    return scn__json_check(s, strlen(s), shape);
}

/* The texts the companion and the drone produce pass, with their shape. */
static void test_vouches_for_plain_json(void **state)
{
    scn_json_shape sh;

    (void)state;
    assert_true(check("{\"UID\":\"SCN-1\",\"NH3\":6.23,\"SEQ\":17,"
                      "\"TIMESTAMP\":\"2025-08-29T21:00:00Z\"}",
                      &sh));
    assert_true(sh.object && sh.flat_scalars);
    assert_true(check(" {\"pitch\":-1,\"bat\":87,\"baro\":0.25}\r\n", &sh));
    assert_true(sh.object && sh.flat_scalars);
    assert_true(check("{\"a\":{\"a\":[1,2,{\"a\":null}]},\"b\":[]}", &sh));
    assert_true(sh.object && !sh.flat_scalars);
    assert_true(check("{\"ok\":true}", &sh));
    assert_true(sh.object && !sh.flat_scalars);
    assert_true(check("[1,\"x\",false,null,{}]", &sh));
    assert_false(sh.object);
    assert_true(check("\"caf\xc3\xa9 \\\"q\\\" \\n\\t\\/\"", &sh));
    assert_true(check("-0.5", NULL));
    assert_true(check("{}", &sh));
    assert_true(sh.object && sh.flat_scalars);
    /* Eight levels, SCN_FRAME_MAX_DEPTH. */
    assert_true(check("[[[[[[[[1]]]]]]]]", NULL));
}

/* Everything unusual is left to the full check. */
static void test_leaves_the_unusual_to_the_full_check(void **state)
{
    static const char *const texts[] = {
        "",
        " ",
        "{",
        "}",
        "[1,]",
        "{\"a\":1,}",
        "{\"a\" 1}",
        "{1:2}",
        "1e5",         /* exponent: finiteness not judged */
        "\"\\u0041\"", /* \u escapes: the full check's */
        "\"\\x\"",
        "\"a\x01\"", /* bad escape, control byte */
        "\"\xc3\"",
        "\"\xed\xa0\x80\"", /* cut and surrogate UTF-8 */
        "01",
        "+1",
        ".5",
        "1.",
        "-",
        "--1",
        "0x10",
        "NaN",
        "tru",
        "nul",
        "{\"a\":1,\"a\":2}", /* repeated name (cJSON takes it) */
        "{\"a\\/\":1}",      /* escaped name */
        "1 2",
        "{}x",
        "\xef\xbb\xbf{}",
        "\f{}",
        "{\"a\":1}\v",
        "[[[[[[[[[1]]]]]]]]]", /* nine levels */
        "[}",
        "{]",
        "\"open",
        "1234567890123456789012345678901234567890123456789012345678901234",
    };

    (void)state;
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
        if (check(texts[i], NULL))
            fail_msg("vouched for [%s]", texts[i]);
    assert_false(scn__json_check("{\"a\":1}\0", 8, NULL));
    assert_false(scn__json_check(NULL, 0, NULL));
}

/* Names are unique per object, not across objects. */
static void test_names_per_object(void **state)
{
    char big[2048];
    size_t n = 0;

    (void)state;
    assert_true(check("{\"a\":{\"a\":1,\"b\":2},\"b\":{\"a\":1}}", NULL));
    assert_false(check("{\"a\":{\"b\":1,\"b\":2}}", NULL));
    assert_false(check("{\"a\":1,\"b\":{},\"a\":3}", NULL));
    /* More names than it remembers: the full check's. */
    n += (size_t)snprintf(big + n, sizeof(big) - n, "{");
    for (int i = 0; i < 70; i++)
        n += (size_t)snprintf(big + n, sizeof(big) - n, "%s\"k%d\":%d",
                              i ? "," : "", i, i);
    snprintf(big + n, sizeof(big) - n, "}");
    assert_false(check(big, NULL));
}

/* A heap copy of exactly len bytes, so that ASan sees any read past the
 * text (the word-at-a-time paths must stop at its end). */
static bool check_exact(const char *s, size_t len)
{
    char *copy = malloc(len ? len : 1);
    bool ok;

    memcpy(copy, s, len);
    ok = scn__json_check(copy, len, NULL);
    free(copy);
    return ok;
}

/* A special byte at every offset of a string value or a name, on both
 * sides of the eight-byte words the scan reads: the verdict is the one
 * for that byte wherever it is. */
static void test_special_bytes_at_every_offset(void **state)
{
    static const struct {
        const char *ins;
        bool in_value, in_name;
    } cases[] = {
        {"\\\"", true, false}, /* an escape: names must have none */
        {"\\\\", true, false},
        {"\\n", true, false},
        {"\\/", true, false},
        {"\\u0041", false, false}, /* the full check's */
        {"\\x", false, false},
        {"\x01", false, false},
        {"\x1f", false, false},
        {"\x7f", true, true},
        {"\xc3\xa9", true, true},
        {"\xe2\x82\xac", true, true},
        {"\xf0\x9f\x98\x80", true, true},
        {"\x80", false, false},
        {"\xc3", false, false},
        {"\xff", false, false},
        {"\xed\xa0\x80", false, false},
    };
    char text[128], body[64];

    (void)state;
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        for (size_t len = 0; len <= 20; len++) {
            for (size_t at = 0; at <= len; at++) {
                int n;
                memset(body, 'k', len);
                body[len] = '\0';
                snprintf(body + at, sizeof(body) - at, "%s%.*s", cases[c].ins,
                         (int)(len - at), "kkkkkkkkkkkkkkkkkkkkk");
                n = snprintf(text, sizeof(text), "{\"v\":\"%s\"}", body);
                if (check_exact(text, (size_t)n) != cases[c].in_value)
                    fail_msg("value [%s]", text);
                n = snprintf(text, sizeof(text), "\"%s\"", body);
                if (check_exact(text, (size_t)n) != cases[c].in_value)
                    fail_msg("string [%s]", text);
                n = snprintf(text, sizeof(text), "{\"%s\":1}", body);
                if (check_exact(text, (size_t)n) != cases[c].in_name)
                    fail_msg("name [%s]", text);
                /* Cut before the closing quote: never vouched for. */
                n = snprintf(text, sizeof(text), "{\"%s", body);
                assert_false(check_exact(text, (size_t)n));
            }
        }
    }
}

/* Repeated names of every length around the eight bytes kept whole in
 * a key, repeated or differing in any one byte; short texts leave no
 * room for a whole word after the name. */
static void test_repeated_names_of_every_length(void **state)
{
    char a[32], b[32], text[128];

    (void)state;
    for (size_t len = 0; len <= 20; len++) {
        memset(a, 'n', len);
        a[len] = '\0';
        for (int sep = 0; sep < 2; sep++) {
            const char *fmt =
                sep ? "{ \"%s\" : 1 , \"%s\" : 2 }" : "{\"%s\":1,\"%s\":2}";
            int n = snprintf(text, sizeof(text), fmt, a, a);
            assert_false(check_exact(text, (size_t)n));
            for (size_t at = 0; at < len; at++) {
                memcpy(b, a, len + 1);
                b[at] = 'm';
                n = snprintf(text, sizeof(text), fmt, a, b);
                if (!check_exact(text, (size_t)n))
                    fail_msg("refused [%s]", text);
                /* The same name again, further on. */
                n = snprintf(text, sizeof(text), "{\"%s\":1,\"%s\":2,\"%s\":3}",
                             a, b, b);
                assert_false(check_exact(text, (size_t)n));
            }
            /* A prefix is another name. */
            if (len > 0) {
                n = snprintf(text, sizeof(text), fmt, a, a + 1);
                assert_true(check_exact(text, (size_t)n));
            }
        }
    }
}

/* Many names in one object (so that several meet another's hash bit):
 * each repeat is found, whichever it repeats. */
static void test_many_names(void **state)
{
    char text[2048];
    size_t n;

    (void)state;
    for (int dup = -1; dup < 60; dup++) {
        n = (size_t)snprintf(text, sizeof(text), "{");
        for (int i = 0; i < 60; i++)
            n += (size_t)snprintf(text + n, sizeof(text) - n, "%s\"%c%d\":%d",
                                  i ? "," : "", "agvxyz"[i % 6], i, i);
        if (dup >= 0)
            n += (size_t)snprintf(text + n, sizeof(text) - n, ",\"%c%d\":0",
                                  "agvxyz"[dup % 6], dup);
        n += (size_t)snprintf(text + n, sizeof(text) - n, "}");
        if (check_exact(text, n) != (dup < 0))
            fail_msg("repeat of name %d", dup);
    }
}

/* The full checks, as lib/ runs them: cJSON alone (the fan-out), and the
 * strict parse plus duplicate and UTF-8 checks (cloud records). */
static bool tree_ok(const cJSON *item)
{
    if (cJSON_IsString(item) && !scn__utf8_valid(item->valuestring))
        return false;
    for (const cJSON *c = item->child; c; c = c->next) {
        if (cJSON_IsObject(item)) {
            if (!scn__utf8_valid(c->string))
                return false;
            for (const cJSON *d = item->child; d != c; d = d->next)
                if (strcmp(d->string, c->string) == 0)
                    return false;
        }
        if (!tree_ok(c))
            return false;
    }
    return true;
}

/* Returns whether the fast pass vouched for s. */
static bool agree(const char *s, size_t len)
{
    scn_json_shape sh;
    const char *end = NULL;
    cJSON *v;

    if (!scn__json_check(s, len, &sh))
        return false;
    v = cJSON_ParseWithLengthOpts(s, len, &end, 0);
    if (v == NULL)
        fail_msg("vouched for [%.*s], cJSON refuses it", (int)len, s);
    cJSON_Delete(v);
    if (scn__frame_json_parse(s, len, &v) != 0)
        fail_msg("vouched for [%.*s], the strict parse refuses it", (int)len,
                 s);
    assert_true(tree_ok(v));
    assert_int_equal(sh.object, cJSON_IsObject(v));
    if (sh.flat_scalars)
        for (const cJSON *c = v->child; c; c = c->next)
            assert_true(cJSON_IsNumber(c) || cJSON_IsString(c));
    cJSON_Delete(v);
    return true;
}

/* Random edits of plain texts: whatever it vouches for, the full checks
 * accept. */
static void test_agrees_with_the_full_checks(void **state)
{
    static const char *const seeds[] = {
        "{\"UID\":\"SCN-1\",\"NH3\":6.23,\"SEQ\":17,\"x\":[1,{\"y\":null}]}",
        "{\"pitch\":-1,\"bat\":87,\"baro\":0.25,\"s\":\"caf\xc3\xa9\"}",
        "[true,false,null,\"a\\\"b\",-0.0,[[]],{\"k\":{}}]",
    };
    static const char alphabet[] = "{}[]\":,.-+0123456789eEtrufalsn \\u\x01"
                                   "\xc3\xa9\xff/abk";
    scn_rng rng;
    char buf[256];
    int vouched = 0;

    (void)state;
    scn__rng_seed(&rng, 4242);
    for (int i = 0; i < 300000; i++) {
        const char *seed = seeds[scn__rng_upto(&rng, 2)];
        size_t len = strlen(seed);
        int edits = 1 + (int)scn__rng_upto(&rng, 2);

        memcpy(buf, seed, len);
        for (int e = 0; e < edits && len > 0; e++) {
            size_t at = scn__rng_upto(&rng, (uint32_t)len - 1);
            char ch = alphabet[scn__rng_upto(&rng, sizeof(alphabet) - 2)];
            switch (scn__rng_upto(&rng, 2)) { /* bounds are inclusive */
            case 0:                           /* replace */
                buf[at] = ch;
                break;
            case 1: /* delete */
                memmove(buf + at, buf + at + 1, len - at - 1);
                len--;
                break;
            default: /* insert */
                if (len + 1 < sizeof(buf)) {
                    memmove(buf + at + 1, buf + at, len - at);
                    buf[at] = ch;
                    len++;
                }
            }
        }
        vouched += agree(buf, len);
    }
    /* Edits that keep the text plain JSON (a digit for a digit) are
     * common: the comparison is not empty. */
    printf("vouched for %d of 300000\n", vouched);
    assert_true(vouched > 10000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vouches_for_plain_json),
        cmocka_unit_test(test_leaves_the_unusual_to_the_full_check),
        cmocka_unit_test(test_names_per_object),
        cmocka_unit_test(test_special_bytes_at_every_offset),
        cmocka_unit_test(test_repeated_names_of_every_length),
        cmocka_unit_test(test_many_names),
        cmocka_unit_test(test_agrees_with_the_full_checks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
