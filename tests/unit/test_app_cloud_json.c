/* apps/common/cloud_json.c: the recording's /inference and /cloud/record
 * messages, byte for byte, and whole or not at all. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_inference),
        cmocka_unit_test(test_record),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
