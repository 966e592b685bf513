/* lib/mqtt/mqtt_window.c: QoS 1 packet ids to a cumulative spool ack. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
#include <scentience/error.h>

#include "mqtt_window.h"

static void test_in_order_acks_move_the_ack(void **state)
{
    scn_mqtt_window w;
    uint64_t upto;

    (void)state;
    assert_int_equal(scn__mqtt_window_init(&w, 3), 0);
    assert_false(scn__mqtt_window_sent(&w, 1, 101));
    assert_false(scn__mqtt_window_sent(&w, 2, 102));
    assert_false(scn__mqtt_window_sent(&w, 3, 103));
    assert_false(scn__mqtt_window_has_room(&w));
    assert_true(scn__mqtt_window_acked(&w, 101, &upto));
    assert_int_equal(upto, 1);
    assert_true(scn__mqtt_window_has_room(&w));
    assert_true(scn__mqtt_window_acked(&w, 102, &upto));
    assert_int_equal(upto, 2);
    /* The ring wraps. */
    assert_false(scn__mqtt_window_sent(&w, 4, 104));
    assert_false(scn__mqtt_window_sent(&w, 5, 105));
    assert_true(scn__mqtt_window_acked(&w, 103, &upto));
    assert_int_equal(upto, 3);
    assert_true(scn__mqtt_window_acked(&w, 104, &upto));
    assert_true(scn__mqtt_window_acked(&w, 105, &upto));
    assert_int_equal(upto, 5);
    assert_int_equal(w.count, 0);
    scn__mqtt_window_free(&w);
}

static void test_out_of_order_acks_wait_for_the_oldest(void **state)
{
    scn_mqtt_window w;
    uint64_t upto;

    (void)state;
    assert_int_equal(scn__mqtt_window_init(&w, 8), 0);
    for (int i = 1; i <= 4; i++)
        scn__mqtt_window_sent(&w, (uint64_t)(10 + i), i);
    /* 12 and 13 acknowledged first: 11 is still owed. */
    assert_true(scn__mqtt_window_acked(&w, 2, &upto));
    assert_int_equal(upto, 0);
    assert_true(scn__mqtt_window_acked(&w, 3, &upto));
    assert_int_equal(upto, 0);
    /* A repeated PUBACK and an unknown one change nothing. */
    assert_false(scn__mqtt_window_acked(&w, 3, &upto));
    assert_false(scn__mqtt_window_acked(&w, 77, &upto));
    assert_int_equal(upto, 0);
    assert_true(scn__mqtt_window_acked(&w, 1, &upto));
    assert_int_equal(upto, 13); /* the whole run */
    assert_int_equal(w.count, 1);
    scn__mqtt_window_free(&w);
}

static void test_reset_counts_unacked_and_resends_are_told(void **state)
{
    scn_mqtt_window w;
    uint64_t upto;

    (void)state;
    assert_int_equal(scn__mqtt_window_init(&w, 8), 0);
    scn__mqtt_window_sent(&w, 1, 1);
    scn__mqtt_window_sent(&w, 2, 2);
    scn__mqtt_window_sent(&w, 3, 3);
    scn__mqtt_window_acked(&w, 3, &upto);
    /* The link dropped: 1 and 2 unacknowledged, 3 acked but behind them. */
    assert_int_equal(scn__mqtt_window_reset(&w), 2);
    assert_int_equal(w.count, 0);
    /* The next connection writes them again from the spool's rewind:
     * new packet ids, and the window says they are resends. */
    assert_true(scn__mqtt_window_sent(&w, 1, 1));
    assert_true(scn__mqtt_window_sent(&w, 2, 2));
    assert_true(scn__mqtt_window_sent(&w, 3, 5));
    assert_false(scn__mqtt_window_sent(&w, 4, 6));
    /* A PUBACK of the old connection's id 3 now names seq 3? No: id 3
     * is not in flight any more. */
    assert_false(scn__mqtt_window_acked(&w, 3, &upto));
    scn__mqtt_window_free(&w);
}

static void test_forget_dropped_records(void **state)
{
    scn_mqtt_window w;
    uint64_t upto;

    (void)state;
    assert_int_equal(scn__mqtt_window_init(&w, 8), 0);
    for (int i = 1; i <= 5; i++)
        scn__mqtt_window_sent(&w, (uint64_t)i, i);
    assert_true(scn__mqtt_window_acked(&w, 4, &upto));
    assert_int_equal(upto, 0);
    /* The spool's cap dropped 1..3: 4, acknowledged, is at the head now
     * and the ack may move to it. */
    assert_int_equal(scn__mqtt_window_forget_upto(&w, 3), 4);
    assert_int_equal(w.count, 1);
    assert_int_equal(scn__mqtt_window_forget_upto(&w, 2), 0);
    scn__mqtt_window_free(&w);
}

static void test_limits(void **state)
{
    scn_mqtt_window w;

    (void)state;
    assert_int_equal(scn__mqtt_window_init(&w, 0), SCN_ERR_INVALID_ARG);
    assert_int_equal(scn__mqtt_window_init(&w, 65536), SCN_ERR_INVALID_ARG);
    assert_int_equal(scn__mqtt_window_init(&w, 65535), 0);
    scn__mqtt_window_free(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_in_order_acks_move_the_ack),
        cmocka_unit_test(test_out_of_order_acks_wait_for_the_oldest),
        cmocka_unit_test(test_reset_counts_unacked_and_resends_are_told),
        cmocka_unit_test(test_forget_dropped_records),
        cmocka_unit_test(test_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
