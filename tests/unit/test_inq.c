/* Inbound queue: pause at the soft limits, resume at half, hard cap. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <scentience/error.h>
#include "inq.h"

static void take_expect(scn_inq *q, size_t len, int want_event)
{
    scn_msg m;
    int ev = 99;

    assert_true(scn__inq_take(q, &m, &ev));
    assert_int_equal(m.len, len);
    assert_int_equal(ev, want_event);
    free(m.buf);
}

static void test_init(void **state)
{
    scn_inq q;

    (void)state;
    assert_int_equal(scn__inq_init(&q, 0, 100, 10), SCN_ERR_INVALID_ARG);
    scn__inq_free(&q);
    assert_int_equal(scn__inq_init(&q, 4, 0, 10), SCN_ERR_INVALID_ARG);
    scn__inq_free(&q);
    assert_int_equal(scn__inq_init(&q, 4, SIZE_MAX, 10), SCN_ERR_INVALID_ARG);
    scn__inq_free(&q);
    assert_int_equal(scn__inq_init(&q, 4, 100, 50), 0);
    assert_int_equal(q.soft_msgs, 4);
    assert_int_equal(q.soft_bytes, 100);
    assert_int_equal(q.low_msgs, 2);
    assert_int_equal(q.low_bytes, 50);
    assert_int_equal(q.q.cap_msgs, 20);
    assert_int_equal(q.q.cap_bytes, 150);
    assert_false(q.paused);
    scn__inq_free(&q);
}

static void test_pause_on_count_and_resume(void **state)
{
    scn_inq q;
    int i;

    (void)state;
    assert_int_equal(scn__inq_init(&q, 4, 100, 50), 0);
    assert_int_equal(scn__inq_push(&q, "a", 1), SCN_INQ_NONE);
    assert_int_equal(scn__inq_push(&q, "b", 1), SCN_INQ_NONE);
    assert_int_equal(scn__inq_push(&q, "c", 1), SCN_INQ_NONE);
    assert_int_equal(scn__inq_push(&q, "d", 1), SCN_INQ_PAUSE); /* at 4 */
    assert_true(q.paused);
    /* Messages already read by the socket layer still land, once. */
    assert_int_equal(scn__inq_push(&q, "e", 1), SCN_INQ_NONE);
    assert_int_equal(scn__inq_count(&q), 5);
    /* 5 -> 4 -> 3: above the low mark of 2. */
    take_expect(&q, 1, SCN_INQ_NONE);
    take_expect(&q, 1, SCN_INQ_NONE);
    assert_true(q.paused);
    take_expect(&q, 1, SCN_INQ_RESUME); /* exactly 2 */
    assert_false(q.paused);
    take_expect(&q, 1, SCN_INQ_NONE);
    take_expect(&q, 1, SCN_INQ_NONE);
    {
        scn_msg m;
        int ev = 99;

        assert_false(scn__inq_take(&q, &m, &ev));
        assert_int_equal(ev, SCN_INQ_NONE);
    }
    /* Pause and resume repeat. */
    for (i = 0; i < 3; i++)
        assert_int_equal(scn__inq_push(&q, "x", 1), SCN_INQ_NONE);
    assert_int_equal(scn__inq_push(&q, "x", 1), SCN_INQ_PAUSE);
    scn__inq_free(&q);
}

static void test_pause_on_bytes(void **state)
{
    char buf[50];
    scn_inq q;

    (void)state;
    memset(buf, 'z', sizeof(buf));
    assert_int_equal(scn__inq_init(&q, 100, 100, 50), 0);
    assert_int_equal(scn__inq_push(&q, buf, 50), SCN_INQ_NONE);
    assert_int_equal(scn__inq_push(&q, buf, 49), SCN_INQ_NONE); /* 99 */
    assert_int_equal(scn__inq_push(&q, buf, 1), SCN_INQ_PAUSE); /* 100 */
    /* The hard cap is 100 + 50 bytes. */
    assert_int_equal(scn__inq_push(&q, buf, 50), SCN_INQ_NONE); /* 150 */
    assert_int_equal(scn__inq_push(&q, buf, 1), SCN_ERR_QUEUE_FULL);
    assert_int_equal(scn__inq_push(&q, NULL, 0), SCN_INQ_NONE);
    assert_int_equal(scn__inq_count(&q), 5);
    /* Resume needs bytes <= 50 (and count <= 50): 150 -> 100 -> 51 -> 50. */
    take_expect(&q, 50, SCN_INQ_NONE);
    take_expect(&q, 49, SCN_INQ_NONE);
    assert_int_equal(q.q.bytes, 51);
    take_expect(&q, 1, SCN_INQ_RESUME);
    assert_int_equal(q.q.bytes, 50);
    scn__inq_free(&q);
}

static void test_resume_needs_both_low(void **state)
{
    char buf[40];
    scn_inq q;

    (void)state;
    memset(buf, 'y', sizeof(buf));
    assert_int_equal(scn__inq_init(&q, 4, 100, 40), 0);
    /* Paused by count while bytes stay small... */
    assert_int_equal(scn__inq_push(&q, buf, 1), SCN_INQ_NONE);
    assert_int_equal(scn__inq_push(&q, buf, 1), SCN_INQ_NONE);
    assert_int_equal(scn__inq_push(&q, buf, 40), SCN_INQ_NONE);
    assert_int_equal(scn__inq_push(&q, buf, 40), SCN_INQ_PAUSE);
    assert_int_equal(scn__inq_push(&q, buf, 40), SCN_INQ_NONE); /* 122 */
    /* ... count reaches 2 only with 80 bytes left: still paused. */
    take_expect(&q, 1, SCN_INQ_NONE);
    take_expect(&q, 1, SCN_INQ_NONE);
    take_expect(&q, 40, SCN_INQ_NONE);
    assert_int_equal(scn__inq_count(&q), 2);
    assert_true(q.paused);
    take_expect(&q, 40, SCN_INQ_RESUME); /* 1 message, 40 bytes */
    scn__inq_free(&q);
}

static void test_hard_cap_messages(void **state)
{
    scn_inq q;
    int i;

    (void)state;
    assert_int_equal(scn__inq_init(&q, 2, 1000, 10), 0);
    assert_int_equal(scn__inq_push(&q, "a", 1), SCN_INQ_NONE);
    assert_int_equal(scn__inq_push(&q, "a", 1), SCN_INQ_PAUSE);
    for (i = 0; i < 16; i++)
        assert_int_equal(scn__inq_push(&q, "a", 1), SCN_INQ_NONE);
    assert_int_equal(scn__inq_count(&q), 18);
    assert_int_equal(scn__inq_push(&q, "a", 1), SCN_ERR_QUEUE_FULL);
    assert_int_equal(scn__inq_count(&q), 18);
    scn__inq_free(&q);
}

static void test_oversize_is_full(void **state)
{
    char buf[200];
    scn_inq q;

    (void)state;
    memset(buf, 'q', sizeof(buf));
    assert_int_equal(scn__inq_init(&q, 4, 100, 50), 0);
    assert_int_equal(scn__inq_push(&q, buf, 151), SCN_ERR_QUEUE_FULL);
    assert_int_equal(scn__inq_count(&q), 0);
    scn__inq_free(&q);
}

static void test_clear_unpauses(void **state)
{
    scn_inq q;
    int ev = 99;
    scn_msg m;

    (void)state;
    assert_int_equal(scn__inq_init(&q, 2, 100, 50), 0);
    assert_int_equal(scn__inq_push(&q, "a", 1), SCN_INQ_NONE);
    assert_int_equal(scn__inq_push(&q, "b", 1), SCN_INQ_PAUSE);
    assert_int_equal(scn__inq_clear(&q), 2);
    assert_false(q.paused);
    assert_int_equal(scn__inq_count(&q), 0);
    assert_false(scn__inq_take(&q, &m, &ev));
    assert_int_equal(scn__inq_push(&q, "c", 1), SCN_INQ_NONE);
    scn__inq_free(&q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init),
        cmocka_unit_test(test_pause_on_count_and_resume),
        cmocka_unit_test(test_pause_on_bytes),
        cmocka_unit_test(test_resume_needs_both_low),
        cmocka_unit_test(test_hard_cap_messages),
        cmocka_unit_test(test_oversize_is_full),
        cmocka_unit_test(test_clear_unpauses),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
