/* apps/scn-companion/fuse.c: the nearest drone state to a frame's time,
 * found early when the states' times only grow, and the same entry the
 * whole scan finds in every case, the wall clock stepping back included. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "../../apps/scn-companion/fuse.c"
#include "rng.h"

/* The whole scan, newest first, the newer of two equally near. */
static const fuse_entry *nearest_by_scan(const fuse_ring *r, int64_t t_ns)
{
    const fuse_entry *best = NULL;
    int64_t best_d = 0;

    for (size_t i = 0; i < r->count; i++) {
        size_t slot = (r->head + r->cap - 1 - i) % r->cap;
        int64_t t = r->t_ns[slot], d = t > t_ns ? t - t_ns : t_ns - t;

        if (best == NULL || d < best_d) {
            best = &r->e[slot];
            best_d = d;
        }
    }
    return best && best_d <= r->keep_ns ? best : NULL;
}

static void add(fuse_ring *r, int64_t t_ns, const char *json)
{
    assert_int_equal(fuse_add(r, t_ns, json, strlen(json)), 0);
}

static void test_nearest(void **state)
{
    fuse_ring r;

    (void)state;
    assert_int_equal(fuse_init(&r, 8, 1000), 0);
    assert_null(fuse_nearest(&r, 5));
    add(&r, 100, "{\"a\":1}");
    add(&r, 200, "{\"a\":2}");
    add(&r, 300, "{\"a\":3}");
    add(&r, 300, "{\"a\":4}"); /* the same time: the newer wins */
    assert_string_equal(fuse_nearest(&r, 140)->json, "{\"a\":1}");
    assert_string_equal(fuse_nearest(&r, 150)->json, "{\"a\":2}");
    assert_string_equal(fuse_nearest(&r, 290)->json, "{\"a\":4}");
    assert_string_equal(fuse_nearest(&r, 900)->json, "{\"a\":4}");
    assert_null(fuse_nearest(&r, 1301));
    assert_string_equal(fuse_nearest(&r, -800)->json, "{\"a\":1}");
    assert_null(fuse_nearest(&r, -901));
    /* The clock stepped back: the entry nearest in time, wherever it is
     * in the ring. */
    add(&r, 120, "{\"a\":5}");
    assert_int_equal(r.late_count, 1);
    assert_string_equal(fuse_nearest(&r, 125)->json, "{\"a\":5}");
    assert_string_equal(fuse_nearest(&r, 105)->json, "{\"a\":1}");
    fuse_free(&r);
}

/* Random times (mostly growing, sometimes stepping back), windows and
 * ring sizes: the early stop never changes the answer. */
static void test_same_as_the_whole_scan(void **state)
{
    scn_rng rng;
    int early = 0;

    (void)state;
    scn__rng_seed(&rng, 77);
    for (int run = 0; run < 300; run++) {
        fuse_ring r;
        int64_t now = (int64_t)scn__rng_upto(&rng, 1000);

        assert_int_equal(fuse_init(&r, 1 + scn__rng_upto(&rng, 40),
                                   1 + scn__rng_upto(&rng, 400)),
                         0);
        for (int i = 0; i < 400; i++) {
            char json[32];

            if (scn__rng_upto(&rng, 30) == 0)
                now -= scn__rng_upto(&rng, 300); /* the clock steps back */
            else
                now += scn__rng_upto(&rng, 20);
            snprintf(json, sizeof(json), "{\"i\":%d}", i);
            add(&r, now, json);
            for (int q = 0; q < 4; q++) {
                int64_t t = now - 300 + scn__rng_upto(&rng, 400);

                assert_ptr_equal(fuse_nearest(&r, t), nearest_by_scan(&r, t));
                early += r.late_count == 0;
            }
        }
        fuse_free(&r);
    }
    assert_true(early > 1000); /* the early stop was exercised */
}

/* {"k":"xxx..."} of len bytes, distinct by c. */
static char *long_state(size_t len, char c)
{
    char *s = malloc(len + 1);

    assert_non_null(s);
    memcpy(s, "{\"k\":\"", 6);
    memset(s + 6, c, len - 8);
    memcpy(s + len - 2, "\"}", 3);
    return s;
}

/* A state longer than an entry holds (up to SCN_UAV_STATE_JSON_MAX) is
 * fused whole, beside short ones, as the ring wraps over it, and its
 * copy goes when it leaves the window or its slot is reused (ASan: no
 * leak, no use after free). */
static void test_long_states(void **state)
{
    char *a = long_state(FUSE_JSON_MAX, 'a');
    char *b = long_state(SCN_UAV_STATE_JSON_MAX, 'b');
    char *c = long_state(FUSE_JSON_MAX - 1, 'c');
    const fuse_entry *e;
    fuse_ring r;
    size_t copies = 0;

    (void)state;
    assert_int_equal(fuse_init(&r, 4, 1000), 0);
    add(&r, 100, a);
    add(&r, 200, "{\"s\":1}");
    add(&r, 300, b);
    add(&r, 400, c);
    e = fuse_nearest(&r, 110);
    assert_int_equal(e->len, FUSE_JSON_MAX);
    assert_string_equal(e->json, a);
    e = fuse_nearest(&r, 290);
    assert_int_equal(e->len, SCN_UAV_STATE_JSON_MAX);
    assert_string_equal(e->json, b);
    assert_string_equal(fuse_nearest(&r, 410)->json, c); /* in its entry */
    assert_ptr_equal(fuse_nearest(&r, 410)->json, fuse_nearest(&r, 410)->small);
    /* The ring wraps: a's slot takes a short one, the long b another
     * slot's; every one is still whole. */
    add(&r, 500, "{\"s\":2}");
    add(&r, 600, b);
    assert_string_equal(fuse_nearest(&r, 510)->json, "{\"s\":2}");
    assert_string_equal(fuse_nearest(&r, 590)->json, b);
    assert_string_equal(fuse_nearest(&r, 310)->json, b);
    /* Out of the window (keep 1000): the old copies are given back. */
    add(&r, 5000, a);
    assert_int_equal(r.count, 1);
    for (size_t i = 0; i < r.cap; i++)
        copies += r.e[i].big != NULL;
    assert_int_equal(copies, 1);
    assert_string_equal(fuse_nearest(&r, 5000)->json, a);
    fuse_free(&r);
    free(a);
    free(b);
    free(c);
}

/*
 * Every state of documented fields alone is held in its entry (only
 * unknown keys take one to the heap): each field at its longest, an
 * integer at INT32_MIN and a decimal of 22 fraction digits, and random
 * ones near those edges.
 */
static void test_documented_states_fit(void **state)
{
    char text[SCN_UAV_STATE_MAX + 1], json[SCN_UAV_STATE_JSON_MAX + 1];
    size_t longest = 0;
    scn_rng rng;

    (void)state;
    scn__rng_seed(&rng, 5);
    for (int run = 0; run < 20000; run++) {
        size_t off = 0, jn = 0;
        scn_uav_state st;

        for (int f = 0; f < SCN_UAV_FIELD_COUNT; f++) {
            const char *name = scn_uav_field_name((scn_uav_field)f);
            char v[48];

            if (run == 0) /* the longest of each */
                snprintf(v, sizeof(v), "%s",
                         scn_uav_field_is_integer((scn_uav_field)f)
                             ? "-2147483648"
                             : "-0.0000000000000000000001");
            else if (scn_uav_field_is_integer((scn_uav_field)f))
                snprintf(v, sizeof(v), "%d",
                         (int)(scn__rng_upto(&rng, UINT32_MAX) - 2147483648u));
            else if (scn__rng_upto(&rng, 1))
                /* 0.<up to 21 zeros><up to 15 digits, 22 in all> */
                snprintf(v, sizeof(v), "-0.%0*u",
                         (int)(1 + scn__rng_upto(&rng, 21)),
                         (unsigned)scn__rng_upto(&rng, 999999));
            else { /* 15 significant digits, the point after the k-th */
                int k = 1 + (int)scn__rng_upto(&rng, 14), n = 0;

                v[n++] = '-';
                for (int i = 0; i < 15; i++) {
                    if (i == k)
                        v[n++] = '.';
                    v[n++] = (char)('1' + scn__rng_upto(&rng, 8));
                }
                v[n] = '\0';
            }
            off += (size_t)snprintf(text + off, sizeof(text) - off, "%s:%s;",
                                    name, v);
        }
        assert_int_equal(scn_uav_state_parse(text, off, &st), 0);
        assert_int_equal(scn_uav_state_to_json(&st, json, sizeof(json), &jn),
                         0);
        assert_true(jn < FUSE_JSON_MAX);
        if (jn > longest)
            longest = jn;
    }
    print_message("longest documented-only state JSON: %zu bytes\n", longest);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nearest),
        cmocka_unit_test(test_same_as_the_whole_scan),
        cmocka_unit_test(test_long_states),
        cmocka_unit_test(test_documented_states_fit),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
