/* Outbound lanes: control never dropped, telemetry drop-oldest, and the
 * watermarks at their exact edges. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <scentience/error.h>
#include "outq.h"

static const scn_outq_limits small = {
    3,  100, /* control: 3 messages, 100 bytes */
    3,  10,  /* telemetry: 3 messages, 10 bytes */
    10, 4,   /* high, low */
};

/* The next message comes from want_lane and holds want. */
static void assert_head(scn_outq *q, scn_lane want_lane, const char *want)
{
    scn_lane lane = (scn_lane)-1;
    scn_msg *m = scn__outq_peek(q, &lane);

    assert_non_null(m);
    assert_int_equal(lane, want_lane);
    assert_int_equal(m->len, strlen(want));
    assert_memory_equal(m->buf + 4, want, m->len); /* headroom 4 */
}

static void test_init_validation(void **state)
{
    scn_outq_limits l;
    scn_outq q;
    size_t i;

    (void)state;
    assert_int_equal(scn__outq_init(&q, NULL, 0), SCN_ERR_INVALID_ARG);
    scn__outq_free(&q);
    for (i = 0; i < 5; i++) {
        size_t *f[] = {&l.control_msgs, &l.control_bytes, &l.telemetry_msgs,
                       &l.telemetry_bytes, &l.high_water};

        l = small;
        *f[i] = 0;
        assert_int_equal(scn__outq_init(&q, &l, 0), SCN_ERR_INVALID_ARG);
        scn__outq_free(&q);
    }
    l = small;
    l.low_water = l.high_water;
    assert_int_equal(scn__outq_init(&q, &l, 0), SCN_ERR_INVALID_ARG);
    l.low_water = 0; /* resume only when empty: allowed */
    assert_int_equal(scn__outq_init(&q, &l, 0), 0);
    scn__outq_free(&q);
}

static void test_control_first(void **state)
{
    scn_outq q;
    scn_lane lane;
    int wm;

    (void)state;
    assert_int_equal(scn__outq_init(&q, &small, 4), 0);
    assert_null(scn__outq_peek(&q, &lane));
    assert_int_equal(
        scn__outq_push(&q, SCN_LANE_TELEMETRY, "t1", 2, NULL, NULL), 0);
    assert_int_equal(scn__outq_push(&q, SCN_LANE_CONTROL, "c1", 2, NULL, NULL),
                     0);
    assert_int_equal(
        scn__outq_push(&q, SCN_LANE_TELEMETRY, "t2", 2, NULL, NULL), 0);
    assert_int_equal(scn__outq_push(&q, SCN_LANE_CONTROL, "c2", 2, NULL, NULL),
                     0);
    assert_int_equal(scn__outq_count(&q), 4);
    assert_int_equal(scn__outq_bytes(&q), 8);
    assert_head(&q, SCN_LANE_CONTROL, "c1");
    scn__outq_pop(&q, SCN_LANE_CONTROL, &wm);
    assert_head(&q, SCN_LANE_CONTROL, "c2");
    scn__outq_pop(&q, SCN_LANE_CONTROL, &wm);
    assert_head(&q, SCN_LANE_TELEMETRY, "t1");
    scn__outq_pop(&q, SCN_LANE_TELEMETRY, &wm);
    /* Control that arrives later still goes first. */
    assert_int_equal(scn__outq_push(&q, SCN_LANE_CONTROL, "c3", 2, NULL, NULL),
                     0);
    assert_head(&q, SCN_LANE_CONTROL, "c3");
    scn__outq_pop(&q, SCN_LANE_CONTROL, &wm);
    assert_head(&q, SCN_LANE_TELEMETRY, "t2");
    scn__outq_pop(&q, SCN_LANE_TELEMETRY, &wm);
    assert_null(scn__outq_peek(&q, &lane));
    scn__outq_free(&q);
}

static void test_control_never_dropped(void **state)
{
    scn_outq q;
    size_t dropped = 99;
    int wm;

    (void)state;
    assert_int_equal(scn__outq_init(&q, &small, 4), 0);
    assert_int_equal(
        scn__outq_push(&q, SCN_LANE_CONTROL, "a", 1, &dropped, &wm), 0);
    assert_int_equal(dropped, 0);
    assert_int_equal(scn__outq_push(&q, SCN_LANE_CONTROL, "b", 1, NULL, NULL),
                     0);
    assert_int_equal(scn__outq_push(&q, SCN_LANE_CONTROL, "c", 1, NULL, NULL),
                     0);
    assert_int_equal(
        scn__outq_push(&q, SCN_LANE_CONTROL, "d", 1, &dropped, &wm),
        SCN_ERR_QUEUE_FULL);
    assert_int_equal(dropped, 0);
    assert_int_equal(q.rejected_control, 1);
    assert_int_equal(scn__outq_push(&q, SCN_LANE_CONTROL, "e", 1, NULL, NULL),
                     SCN_ERR_QUEUE_FULL);
    assert_int_equal(q.rejected_control, 2);
    assert_int_equal(q.dropped_telemetry, 0);
    /* The queued ones are intact and in order. */
    assert_head(&q, SCN_LANE_CONTROL, "a");
    scn__outq_pop(&q, SCN_LANE_CONTROL, &wm);
    assert_head(&q, SCN_LANE_CONTROL, "b");
    scn__outq_pop(&q, SCN_LANE_CONTROL, &wm);
    assert_head(&q, SCN_LANE_CONTROL, "c");
    scn__outq_free(&q);
}

static void test_telemetry_drops_oldest(void **state)
{
    static const char *const names[] = {"t1", "t2", "t3", "t4", "t5"};
    static const size_t expect_dropped[] = {0, 0, 0, 1, 1};
    scn_outq q;
    size_t i, dropped;
    int wm;

    (void)state;
    assert_int_equal(scn__outq_init(&q, &small, 4), 0);
    for (i = 0; i < 5; i++) {
        dropped = 99;
        assert_int_equal(
            scn__outq_push(&q, SCN_LANE_TELEMETRY, names[i], 2, &dropped, &wm),
            0);
        assert_int_equal(dropped, expect_dropped[i]);
    }
    assert_int_equal(q.dropped_telemetry, 2);
    assert_int_equal(q.rejected_control, 0);
    assert_int_equal(scn__outq_count(&q), 3);
    assert_head(&q, SCN_LANE_TELEMETRY, "t3");
    scn__outq_pop(&q, SCN_LANE_TELEMETRY, &wm);
    assert_head(&q, SCN_LANE_TELEMETRY, "t4");
    scn__outq_pop(&q, SCN_LANE_TELEMETRY, &wm);
    assert_head(&q, SCN_LANE_TELEMETRY, "t5");
    scn__outq_free(&q);
}

static void test_telemetry_drops_by_bytes(void **state)
{
    scn_outq q;
    size_t dropped;

    (void)state;
    assert_int_equal(scn__outq_init(&q, &small, 4), 0);
    assert_int_equal(
        scn__outq_push(&q, SCN_LANE_TELEMETRY, "aaaa", 4, &dropped, NULL), 0);
    assert_int_equal(
        scn__outq_push(&q, SCN_LANE_TELEMETRY, "bbbb", 4, &dropped, NULL), 0);
    /* 8 + 2 = 10: exactly at the cap, nothing dropped. */
    assert_int_equal(
        scn__outq_push(&q, SCN_LANE_TELEMETRY, "cc", 2, &dropped, NULL), 0);
    assert_int_equal(dropped, 0);
    /* 10 + 4: the oldest (4) goes, 6 + 4 = 10 fits. */
    assert_int_equal(
        scn__outq_push(&q, SCN_LANE_TELEMETRY, "dddd", 4, &dropped, NULL), 0);
    assert_int_equal(dropped, 1);
    assert_head(&q, SCN_LANE_TELEMETRY, "bbbb");
    /* A full-lane message pushes everything else out. */
    assert_int_equal(scn__outq_push(&q, SCN_LANE_TELEMETRY, "eeeeeeeeee", 10,
                                    &dropped, NULL),
                     0);
    assert_int_equal(dropped, 3);
    assert_int_equal(q.dropped_telemetry, 4);
    assert_int_equal(scn__outq_count(&q), 1);
    assert_head(&q, SCN_LANE_TELEMETRY, "eeeeeeeeee");
    scn__outq_free(&q);
}

static void test_too_big_per_lane(void **state)
{
    char big[101];
    scn_outq q;
    size_t dropped = 99;
    int wm = 99;

    (void)state;
    memset(big, 'x', sizeof(big));
    assert_int_equal(scn__outq_init(&q, &small, 0), 0);
    assert_int_equal(scn__outq_push(&q, SCN_LANE_TELEMETRY, "t", 1, NULL, NULL),
                     0);
    assert_int_equal(
        scn__outq_push(&q, SCN_LANE_TELEMETRY, big, 11, &dropped, &wm),
        SCN_ERR_MESSAGE_TOO_BIG);
    assert_int_equal(dropped, 0);
    assert_int_equal(wm, SCN_WM_NONE);
    assert_int_equal(q.dropped_telemetry, 0); /* nothing dropped for it */
    assert_int_equal(scn__outq_count(&q), 1);
    assert_int_equal(scn__outq_push(&q, SCN_LANE_CONTROL, big, 101, NULL, NULL),
                     SCN_ERR_MESSAGE_TOO_BIG);
    assert_int_equal(q.rejected_control, 0);
    assert_int_equal(scn__outq_push(&q, SCN_LANE_CONTROL, big, 100, NULL, NULL),
                     0);
    assert_int_equal(scn__outq_push(&q, (scn_lane)2, "x", 1, NULL, NULL),
                     SCN_ERR_INVALID_ARG);
    scn__outq_free(&q);
}

static void test_watermarks_exact(void **state)
{
    scn_outq q;
    int wm;

    (void)state;
    assert_int_equal(scn__outq_init(&q, &small, 0), 0);
    /* Up to 9 bytes over both lanes: below high. */
    assert_int_equal(scn__outq_push(&q, SCN_LANE_CONTROL, "ccc", 3, NULL, &wm),
                     0);
    assert_int_equal(wm, SCN_WM_NONE);
    assert_int_equal(
        scn__outq_push(&q, SCN_LANE_TELEMETRY, "tttttt", 6, NULL, &wm), 0);
    assert_int_equal(wm, SCN_WM_NONE);
    assert_false(q.above);
    /* 10 == high: crossed. */
    assert_int_equal(scn__outq_push(&q, SCN_LANE_CONTROL, "d", 1, NULL, &wm),
                     0);
    assert_int_equal(wm, SCN_WM_HIGH);
    assert_true(q.above);
    /* Reported once, not on every push above. */
    assert_int_equal(scn__outq_push(&q, SCN_LANE_CONTROL, "e", 1, NULL, &wm),
                     0);
    assert_int_equal(wm, SCN_WM_NONE);
    /* 11 -> 8 -> 7 -> 6: all above low (4). */
    scn__outq_pop(&q, SCN_LANE_CONTROL, &wm); /* ccc */
    assert_int_equal(wm, SCN_WM_NONE);
    assert_int_equal(scn__outq_bytes(&q), 8);
    scn__outq_pop(&q, SCN_LANE_CONTROL, &wm); /* d */
    assert_int_equal(wm, SCN_WM_NONE);
    scn__outq_pop(&q, SCN_LANE_CONTROL, &wm); /* e */
    assert_int_equal(wm, SCN_WM_NONE);
    assert_int_equal(scn__outq_bytes(&q), 6);
    /* Pushes while above, even with room to spare, report nothing. */
    assert_int_equal(scn__outq_push(&q, SCN_LANE_CONTROL, "ff", 2, NULL, &wm),
                     0);
    assert_int_equal(wm, SCN_WM_NONE);
    scn__outq_pop(&q, SCN_LANE_CONTROL, &wm); /* ff: 6 */
    assert_int_equal(wm, SCN_WM_NONE);
    assert_true(q.above);
    scn__outq_pop(&q, SCN_LANE_TELEMETRY, &wm); /* 0 */
    assert_int_equal(wm, SCN_WM_LOW);
    scn__outq_free(&q);

    assert_int_equal(scn__outq_init(&q, &small, 0), 0);
    assert_int_equal(
        scn__outq_push(&q, SCN_LANE_CONTROL, "aaaaa", 5, NULL, &wm), 0);
    assert_int_equal(scn__outq_push(&q, SCN_LANE_CONTROL, "b", 1, NULL, &wm),
                     0);
    assert_int_equal(scn__outq_push(&q, SCN_LANE_CONTROL, "cccc", 4, NULL, &wm),
                     0);
    assert_int_equal(wm, SCN_WM_HIGH);
    scn__outq_pop(&q, SCN_LANE_CONTROL, &wm); /* 10 -> 5 */
    assert_int_equal(wm, SCN_WM_NONE);
    scn__outq_pop(&q, SCN_LANE_CONTROL, &wm); /* 5 -> 4 == low */
    assert_int_equal(wm, SCN_WM_LOW);
    assert_false(q.above);
    scn__outq_pop(&q, SCN_LANE_CONTROL, &wm); /* 4 -> 0: already low */
    assert_int_equal(wm, SCN_WM_NONE);
    /* A second cycle reports again. */
    assert_int_equal(
        scn__outq_push(&q, SCN_LANE_TELEMETRY, "tttttttttt", 10, NULL, &wm), 0);
    assert_int_equal(wm, SCN_WM_HIGH);
    scn__outq_pop(&q, SCN_LANE_TELEMETRY, &wm);
    assert_int_equal(wm, SCN_WM_LOW);
    scn__outq_free(&q);
}

static void test_urgent_overtakes_everything(void **state)
{
    scn_outq q;
    int wm;
    size_t dropped;
    scn_lane lane;

    (void)state;
    assert_int_equal(scn__outq_init(&q, &small, 4), 0);
    assert_int_equal(
        scn__outq_push(&q, SCN_LANE_TELEMETRY, "t", 1, &dropped, &wm), 0);
    assert_int_equal(
        scn__outq_push(&q, SCN_LANE_CONTROL, "up 50", 5, &dropped, &wm), 0);
    assert_int_equal(scn__outq_push_urgent(&q, "emergency", 9, &wm), 0);
    assert_head(&q, SCN_LANE_CONTROL, "emergency");
    scn__outq_pop(&q, SCN_LANE_CONTROL, &wm);
    assert_head(&q, SCN_LANE_CONTROL, "up 50");
    scn__outq_pop(&q, SCN_LANE_CONTROL, &wm);
    assert_head(&q, SCN_LANE_TELEMETRY, "t");
    scn__outq_pop(&q, SCN_LANE_TELEMETRY, &wm);
    assert_null(scn__outq_peek(&q, &lane));
    /* A full control lane refuses an urgent message too, and says so. */
    for (int i = 0; i < 3; i++)
        assert_int_equal(
            scn__outq_push(&q, SCN_LANE_CONTROL, "c", 1, &dropped, &wm), 0);
    assert_int_equal(scn__outq_push_urgent(&q, "emergency", 9, &wm),
                     SCN_ERR_QUEUE_FULL);
    assert_int_equal(q.rejected_control, 1);
    /* Wrapping the ring backwards keeps order: pop one, push urgent. */
    scn__outq_pop(&q, SCN_LANE_CONTROL, &wm);
    assert_int_equal(scn__outq_push_urgent(&q, "e", 1, &wm), 0);
    assert_head(&q, SCN_LANE_CONTROL, "e");
    assert_int_equal(scn__outq_count(&q), 3);
    scn__outq_free(&q);
}

static void test_clear(void **state)
{
    scn_outq q;
    int wm;

    (void)state;
    assert_int_equal(scn__outq_init(&q, &small, 0), 0);
    assert_int_equal(
        scn__outq_push(&q, SCN_LANE_CONTROL, "aaaaaa", 6, NULL, &wm), 0);
    assert_int_equal(
        scn__outq_push(&q, SCN_LANE_TELEMETRY, "tttt", 4, NULL, &wm), 0);
    assert_int_equal(wm, SCN_WM_HIGH);
    assert_int_equal(scn__outq_clear(&q), 2);
    assert_int_equal(scn__outq_count(&q), 0);
    assert_int_equal(scn__outq_bytes(&q), 0);
    assert_false(q.above);
    assert_int_equal(scn__outq_clear(&q), 0);
    scn__outq_free(&q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init_validation),
        cmocka_unit_test(test_control_first),
        cmocka_unit_test(test_control_never_dropped),
        cmocka_unit_test(test_telemetry_drops_oldest),
        cmocka_unit_test(test_telemetry_drops_by_bytes),
        cmocka_unit_test(test_too_big_per_lane),
        cmocka_unit_test(test_watermarks_exact),
        cmocka_unit_test(test_urgent_overtakes_everything),
        cmocka_unit_test(test_clear),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
