/* The bounded message FIFO: limits at their exact edges, order, headroom. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <scentience/error.h>
#include "msgq.h"

static void test_init_rejects_zero(void **state)
{
    scn_msgq q;

    (void)state;
    assert_int_equal(scn__msgq_init(&q, 0, 10, 0), SCN_ERR_INVALID_ARG);
    scn__msgq_free(&q); /* safe after a failed init */
    assert_int_equal(scn__msgq_init(&q, 10, 0, 0), SCN_ERR_INVALID_ARG);
    scn__msgq_free(&q);
    assert_int_equal(scn__msgq_init(&q, SIZE_MAX / 2, 10, 0), SCN_ERR_NOMEM);
    scn__msgq_free(&q);
}

static void test_fifo_and_headroom(void **state)
{
    scn_msgq q;
    scn_msg *m;

    (void)state;
    assert_int_equal(scn__msgq_init(&q, 4, 100, 16), 0);
    assert_null(scn__msgq_peek(&q));
    assert_int_equal(scn__msgq_push(&q, "one", 3), 0);
    assert_int_equal(scn__msgq_push(&q, "two!", 4), 0);
    assert_int_equal(q.count, 2);
    assert_int_equal(q.bytes, 7);
    m = scn__msgq_peek(&q);
    assert_non_null(m);
    assert_int_equal(m->len, 3);
    assert_memory_equal(m->buf + q.headroom, "one", 3);
    /* The headroom is ours to write (the adapter puts frame headers
     * there); ASan would catch a short allocation. */
    memset(m->buf, 0xAA, q.headroom);
    scn__msgq_pop(&q);
    m = scn__msgq_peek(&q);
    assert_int_equal(m->len, 4);
    assert_memory_equal(m->buf + 16, "two!", 4);
    scn__msgq_pop(&q);
    assert_null(scn__msgq_peek(&q));
    assert_int_equal(q.bytes, 0);
    scn__msgq_pop(&q); /* no-op when empty */
    assert_int_equal(q.count, 0);
    scn__msgq_free(&q);
}

static void test_count_limit_edge(void **state)
{
    scn_msgq q;

    (void)state;
    assert_int_equal(scn__msgq_init(&q, 3, 1000, 0), 0);
    assert_int_equal(scn__msgq_push(&q, "a", 1), 0);
    assert_int_equal(scn__msgq_push(&q, "b", 1), 0);
    assert_true(scn__msgq_fits(&q, 1));
    assert_int_equal(scn__msgq_push(&q, "c", 1), 0);
    assert_false(scn__msgq_fits(&q, 0));
    assert_int_equal(scn__msgq_push(&q, "d", 1), SCN_ERR_QUEUE_FULL);
    assert_int_equal(scn__msgq_push(&q, "", 0), SCN_ERR_QUEUE_FULL);
    assert_int_equal(q.count, 3);
    scn__msgq_pop(&q);
    assert_int_equal(scn__msgq_push(&q, "d", 1), 0);
    scn__msgq_free(&q);
}

static void test_byte_limit_edge(void **state)
{
    char big[11];
    scn_msgq q;

    (void)state;
    memset(big, 'x', sizeof(big));
    assert_int_equal(scn__msgq_init(&q, 10, 10, 0), 0);
    assert_int_equal(scn__msgq_push(&q, big, 11), SCN_ERR_MESSAGE_TOO_BIG);
    assert_int_equal(scn__msgq_push(&q, big, 4), 0);
    assert_false(scn__msgq_fits(&q, 7));
    assert_true(scn__msgq_fits(&q, 6));
    assert_int_equal(scn__msgq_push(&q, big, 7), SCN_ERR_QUEUE_FULL);
    assert_int_equal(scn__msgq_push(&q, big, 6), 0); /* exactly 10 */
    assert_int_equal(q.bytes, 10);
    assert_int_equal(scn__msgq_push(&q, big, 1), SCN_ERR_QUEUE_FULL);
    /* TOO_BIG wins over FULL: the message could never fit. */
    assert_int_equal(scn__msgq_push(&q, big, 11), SCN_ERR_MESSAGE_TOO_BIG);
    /* An empty message costs no bytes, only a slot. */
    assert_int_equal(scn__msgq_push(&q, NULL, 0), 0);
    assert_int_equal(q.count, 3);
    assert_true(scn__msgq_fits(&q, 0));
    assert_false(scn__msgq_fits(&q, SIZE_MAX));
    scn__msgq_free(&q);

    assert_int_equal(scn__msgq_init(&q, 1, 10, 0), 0);
    assert_int_equal(scn__msgq_push(&q, big, 10), 0); /* len == cap */
    scn__msgq_free(&q);
}

static void test_wraparound_keeps_order(void **state)
{
    scn_msgq q;
    unsigned next_in = 0, next_out = 0;
    int round;

    (void)state;
    assert_int_equal(scn__msgq_init(&q, 3, 100, 2), 0);
    for (round = 0; round < 50; round++) {
        while (scn__msgq_fits(&q, sizeof(next_in)) && round % 7 != 6) {
            assert_int_equal(scn__msgq_push(&q, &next_in, sizeof(next_in)), 0);
            next_in++;
            if (next_in % 2)
                break;
        }
        if (q.count) {
            scn_msg *m = scn__msgq_peek(&q);
            unsigned v;

            memcpy(&v, m->buf + 2, sizeof(v));
            assert_int_equal(v, next_out);
            next_out++;
            scn__msgq_pop(&q);
        }
    }
    assert_int_equal(q.count, next_in - next_out);
    assert_int_equal(q.bytes, q.count * sizeof(unsigned));
    scn__msgq_free(&q);
}

static void test_take_transfers_ownership(void **state)
{
    scn_msgq q;
    scn_msg m;

    (void)state;
    assert_int_equal(scn__msgq_init(&q, 2, 100, 8), 0);
    assert_false(scn__msgq_take(&q, &m));
    assert_int_equal(scn__msgq_push(&q, "hello", 5), 0);
    assert_true(scn__msgq_take(&q, &m));
    assert_int_equal(q.count, 0);
    assert_int_equal(q.bytes, 0);
    assert_int_equal(m.len, 5);
    assert_memory_equal(m.buf + 8, "hello", 5);
    scn__msgq_free(&q); /* must not free m.buf */
    assert_memory_equal(m.buf + 8, "hello", 5);
    free(m.buf);
}

static void test_clear(void **state)
{
    scn_msgq q;

    (void)state;
    assert_int_equal(scn__msgq_init(&q, 5, 100, 0), 0);
    assert_int_equal(scn__msgq_clear(&q), 0);
    assert_int_equal(scn__msgq_push(&q, "a", 1), 0);
    assert_int_equal(scn__msgq_push(&q, "bb", 2), 0);
    assert_int_equal(scn__msgq_push(&q, "ccc", 3), 0);
    assert_int_equal(scn__msgq_clear(&q), 3);
    assert_int_equal(q.count, 0);
    assert_int_equal(q.bytes, 0);
    assert_null(scn__msgq_peek(&q));
    assert_int_equal(scn__msgq_push(&q, "d", 1), 0);
    assert_memory_equal(scn__msgq_peek(&q)->buf, "d", 1);
    scn__msgq_free(&q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init_rejects_zero),
        cmocka_unit_test(test_fifo_and_headroom),
        cmocka_unit_test(test_count_limit_edge),
        cmocka_unit_test(test_byte_limit_edge),
        cmocka_unit_test(test_wraparound_keeps_order),
        cmocka_unit_test(test_take_transfers_ownership),
        cmocka_unit_test(test_clear),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
