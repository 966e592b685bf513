/* apps/common/cloud_json.c: the recording's /inference and /cloud/record
 * messages, byte for byte, and whole or not at all. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cloud_json.h"

static const scn_cloud_result_label labels[] = {
    {"ethanol", 0.875},
    {"caf\xc3\xa9 \"q\"", 0.1},
};

/* Each size below the message's gives 0 and an empty buffer; its own
 * size plus the NUL gives the text. */
static void check_whole(size_t (*make)(char *, size_t, void *), void *arg,
                        const char *want)
{
    char buf[1024];
    size_t n = strlen(want);

    for (size_t cap = 0; cap <= n; cap++) {
        memset(buf, 'z', sizeof(buf));
        assert_int_equal(make(buf, cap, arg), 0);
        if (cap > 0)
            assert_string_equal(buf, "");
    }
    assert_int_equal(make(buf, n + 1, arg), n);
    assert_string_equal(buf, want);
}

typedef struct inference_arg {
    const scn_cloud_result *r;
    int64_t age_ms;
} inference_arg;

static size_t make_inference(char *buf, size_t cap, void *arg)
{
    inference_arg *a = arg;

    return cloud_inference_json(buf, cap, a->r, a->age_ms);
}

typedef struct record_arg {
    uint64_t seq;
    const char *state;
    int64_t age_ms;
} record_arg;

static size_t make_record(char *buf, size_t cap, void *arg)
{
    record_arg *a = arg;

    return cloud_record_json(buf, cap, a->seq, "s-1", "SCN001",
                             "2025-08-29T21:00:00Z", a->state, a->age_ms);
}

static void test_inference(void **state)
{
    scn_cloud_result r = {"m1", 42, 2, labels, 1, "NH3", 1, 12.5};
    inference_arg a = {&r, 17};

    (void)state;
    check_whole(make_inference, &a,
                "{\"model\":\"m1\",\"seq\":42,\"labels\":[{\"label\":"
                "\"ethanol\",\"score\":0.875},{\"label\":\"caf\xc3\xa9 "
                "\\\"q\\\"\",\"score\":0.1}],\"target\":\"NH3\","
                "\"bearing_deg\":12.5,\"age_ms\":17}");
    /* No labels, no target, no age; the largest seq and age. */
    r = (scn_cloud_result){"m1", UINT64_MAX, 0, NULL, 0, "", 0, 0};
    a.age_ms = -1;
    check_whole(make_inference, &a,
                "{\"model\":\"m1\",\"seq\":18446744073709551615,"
                "\"labels\":[]}");
    r.seq = 0;
    a.age_ms = INT64_MAX;
    check_whole(make_inference, &a,
                "{\"model\":\"m1\",\"seq\":0,\"labels\":[],"
                "\"age_ms\":9223372036854775807}");
}

static void test_record(void **state)
{
    record_arg a = {7, "{\"x\":1,\"bat\":87}", 40};

    (void)state;
    check_whole(make_record, &a,
                "{\"seq\":7,\"stream\":\"s-1\",\"uid\":\"SCN001\","
                "\"timestamp\":\"2025-08-29T21:00:00Z\",\"state\":{\"x\":1,"
                "\"bat\":87},\"age_ms\":40}");
    a = (record_arg){UINT64_MAX, "{}", INT64_MIN};
    check_whole(make_record, &a,
                "{\"seq\":18446744073709551615,\"stream\":\"s-1\",\"uid\":"
                "\"SCN001\",\"timestamp\":\"2025-08-29T21:00:00Z\",\"state\":"
                "{},\"age_ms\":-9223372036854775808}");
    a = (record_arg){1, NULL, -3};
    check_whole(make_record, &a,
                "{\"seq\":1,\"stream\":\"s-1\",\"uid\":\"SCN001\","
                "\"timestamp\":\"2025-08-29T21:00:00Z\"}");
}

/* The growing variants: from an empty buffer to one that holds the
 * longest input (16 labels of 63 control characters, a 4 KiB UID), the
 * same bytes the fixed-size builders write. */
static void test_grown(void **state)
{
    static char names[16][64], uid[4097], big[16384];
    scn_cloud_result_label many[16];
    scn_cloud_result r = {"m1", 9, 16, many, 0, "", 0, 0};
    cloud_text t = {NULL, 0};
    size_t n;

    (void)state;
    for (int i = 0; i < 16; i++) {
        for (int j = 0; j < 63; j++)
            names[i][j] = (char)(1 + (i + j) % 31);
        many[i] = (scn_cloud_result_label){names[i], 1.0 - i / 32.0};
    }
    n = cloud_inference_text(&t, &r, 5);
    assert_true(n > 4096);
    assert_int_equal(cloud_inference_json(big, sizeof(big), &r, 5), n);
    assert_memory_equal(t.buf, big, n + 1);
    memset(uid, 'U', sizeof(uid) - 1);
    n = cloud_record_text(&t, 1024, 3, "s-1", uid, "2025-08-29T21:00:00Z", NULL,
                          0);
    assert_true(n > 4096 && t.cap > n);
    assert_int_equal(cloud_record_json(big, sizeof(big), 3, "s-1", uid,
                                       "2025-08-29T21:00:00Z", NULL, 0),
                     n);
    assert_memory_equal(t.buf, big, n + 1);
    /* A short one in the grown buffer: no trace of the long one. */
    n = cloud_record_text(&t, 1024, 4, "s", "u", "t", NULL, 0);
    assert_string_equal(t.buf, "{\"seq\":4,\"stream\":\"s\",\"uid\":\"u\","
                               "\"timestamp\":\"t\"}");
    assert_int_equal(n, strlen(t.buf));
    free(t.buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_inference),
        cmocka_unit_test(test_record),
        cmocka_unit_test(test_grown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
