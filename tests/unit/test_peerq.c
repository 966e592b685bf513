/* A server connection's outbound queue: drop-oldest at the exact limits,
 * tags and headroom, the slow state and its cut-off deadline. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <scentience/error.h>
#include "peerq.h"

#define HEADROOM 16

static void take_expect(scn_peerq *pq, const char *text, unsigned char tag)
{
    scn_msg m;

    assert_true(scn_peerq_take(pq, &m));
    assert_int_equal(m.len, strlen(text));
    assert_memory_equal(scn_peerq_payload(pq, &m), text, m.len);
    assert_int_equal(scn_peerq_tag(&m), tag);
    /* The writer's headroom sits between the tag and the payload and is
     * its to write; ASan would catch a short allocation. */
    memset(scn_peerq_payload(pq, &m) - HEADROOM, 0xAA, HEADROOM);
    free(m.buf);
}

static void test_fifo_tags_headroom(void **state)
{
    scn_peerq pq;
    scn_msg m;

    (void)state;
    assert_int_equal(scn_peerq_init(&pq, 4, 100, HEADROOM), 0);
    assert_int_equal(scn_peerq_push(&pq, "text", 4, 0, 0, NULL, NULL), 0);
    assert_int_equal(scn_peerq_push(&pq, "\x00\x01", 2, 1, 0, NULL, NULL), 0);
    assert_int_equal(scn_peerq_push(&pq, "", 0, 0, 0, NULL, NULL), 0);
    assert_int_equal(scn_peerq_count(&pq), 3);
    assert_int_equal(scn_peerq_bytes(&pq), 6);
    take_expect(&pq, "text", 0);
    assert_true(scn_peerq_take(&pq, &m));
    assert_int_equal(m.len, 2);
    assert_memory_equal(scn_peerq_payload(&pq, &m), "\x00\x01", 2);
    assert_int_equal(scn_peerq_tag(&m), 1);
    free(m.buf);
    take_expect(&pq, "", 0);
    assert_false(scn_peerq_take(&pq, &m));
    assert_int_equal(pq.dropped, 0);
    assert_false(pq.slow);
    scn_peerq_free(&pq);
    scn_peerq_free(&pq); /* twice is harmless */
}

/* A writer sizes its batch by the next message before taking it. */
static void test_peek_len(void **state)
{
    scn_peerq pq;
    size_t len = 99;

    (void)state;
    assert_int_equal(scn_peerq_init(&pq, 4, 100, HEADROOM), 0);
    assert_false(scn_peerq_peek_len(&pq, &len));
    assert_int_equal(len, 99);
    assert_int_equal(scn_peerq_push(&pq, "abc", 3, 0, 0, NULL, NULL), 0);
    assert_int_equal(scn_peerq_push(&pq, "", 0, 0, 0, NULL, NULL), 0);
    assert_true(scn_peerq_peek_len(&pq, &len));
    assert_int_equal(len, 3);
    assert_int_equal(scn_peerq_count(&pq), 2);
    take_expect(&pq, "abc", 0);
    assert_true(scn_peerq_peek_len(&pq, &len));
    assert_int_equal(len, 0);
    take_expect(&pq, "", 0);
    assert_false(scn_peerq_peek_len(&pq, &len));
    scn_peerq_free(&pq);
}

static void test_drop_oldest_by_count(void **state)
{
    scn_peerq pq;
    size_t dropped;
    bool became;

    (void)state;
    assert_int_equal(scn_peerq_init(&pq, 3, 1000, HEADROOM), 0);
    assert_int_equal(scn_peerq_push(&pq, "a", 1, 0, 10, &dropped, &became), 0);
    assert_int_equal(scn_peerq_push(&pq, "b", 1, 0, 11, &dropped, &became), 0);
    /* Exactly at the limit: nothing dropped yet. */
    assert_int_equal(scn_peerq_push(&pq, "c", 1, 0, 12, &dropped, &became), 0);
    assert_int_equal(dropped, 0);
    assert_false(became);
    assert_false(pq.slow);
    /* One past: the oldest goes, and the peer is slow from now. */
    assert_int_equal(scn_peerq_push(&pq, "d", 1, 0, 13, &dropped, &became), 0);
    assert_int_equal(dropped, 1);
    assert_true(became);
    assert_true(pq.slow);
    assert_int_equal(pq.slow_since_ms, 13);
    /* Still slow: a later drop does not move the start. */
    assert_int_equal(scn_peerq_push(&pq, "e", 1, 0, 20, &dropped, &became), 0);
    assert_int_equal(dropped, 1);
    assert_false(became);
    assert_int_equal(pq.slow_since_ms, 13);
    assert_int_equal(pq.dropped, 2);
    take_expect(&pq, "c", 0);
    take_expect(&pq, "d", 0);
    take_expect(&pq, "e", 0);
    scn_peerq_free(&pq);
}

static void test_drop_oldest_by_bytes(void **state)
{
    scn_peerq pq;
    size_t dropped;

    (void)state;
    assert_int_equal(scn_peerq_init(&pq, 100, 10, HEADROOM), 0);
    assert_int_equal(scn_peerq_push(&pq, "1234", 4, 0, 0, &dropped, NULL), 0);
    assert_int_equal(scn_peerq_push(&pq, "5678", 4, 0, 0, &dropped, NULL), 0);
    assert_int_equal(scn_peerq_push(&pq, "90", 2, 0, 0, &dropped, NULL), 0);
    assert_int_equal(dropped, 0);
    assert_int_equal(scn_peerq_bytes(&pq), 10);
    /* 9 bytes need room for 9: the three queued messages all go. */
    assert_int_equal(scn_peerq_push(&pq, "abcdefghi", 9, 1, 0, &dropped, NULL),
                     0);
    assert_int_equal(dropped, 3);
    assert_int_equal(scn_peerq_count(&pq), 1);
    take_expect(&pq, "abcdefghi", 1);
    scn_peerq_free(&pq);
}

static void test_too_big_drops_nothing(void **state)
{
    scn_peerq pq;
    size_t dropped = 99;
    bool became = true;

    (void)state;
    assert_int_equal(scn_peerq_init(&pq, 4, 8, HEADROOM), 0);
    assert_int_equal(scn_peerq_push(&pq, "keep", 4, 0, 0, NULL, NULL), 0);
    assert_int_equal(
        scn_peerq_push(&pq, "123456789", 9, 0, 0, &dropped, &became),
        SCN_ERR_MESSAGE_TOO_BIG);
    assert_int_equal(dropped, 0);
    assert_false(became);
    assert_int_equal(scn_peerq_count(&pq), 1);
    /* Exactly the byte cap fits, after dropping everything else. */
    assert_int_equal(scn_peerq_push(&pq, "12345678", 8, 0, 0, &dropped, NULL),
                     0);
    assert_int_equal(dropped, 1);
    scn_peerq_free(&pq);
}

static void test_recovers_at_half(void **state)
{
    scn_peerq pq;
    scn_msg m;

    (void)state;
    assert_int_equal(scn_peerq_init(&pq, 4, 1000, HEADROOM), 0);
    for (int i = 0; i < 5; i++)
        assert_int_equal(scn_peerq_push(&pq, "x", 1, 0, 100, NULL, NULL), 0);
    assert_true(pq.slow);
    /* 4 queued: taking one leaves 3 (> 2), still slow. */
    assert_true(scn_peerq_take(&pq, &m));
    free(m.buf);
    assert_true(pq.slow);
    /* 2 queued: half of the count cap, caught up. */
    assert_true(scn_peerq_take(&pq, &m));
    free(m.buf);
    assert_false(pq.slow);
    scn_peerq_free(&pq);

    /* Bytes count too: the message count is low but the bytes are not. */
    assert_int_equal(scn_peerq_init(&pq, 100, 10, HEADROOM), 0);
    assert_int_equal(scn_peerq_push(&pq, "123456", 6, 0, 0, NULL, NULL), 0);
    assert_int_equal(scn_peerq_push(&pq, "123456", 6, 0, 0, NULL, NULL), 0);
    assert_true(pq.slow);
    assert_int_equal(scn_peerq_push(&pq, "1", 1, 0, 0, NULL, NULL), 0);
    /* 6 + 1 queued: taking the 6 leaves 1 byte (<= 5): caught up. */
    assert_true(scn_peerq_take(&pq, &m));
    free(m.buf);
    assert_false(pq.slow);
    scn_peerq_free(&pq);
}

static void test_overdue(void **state)
{
    scn_peerq pq;
    uint64_t deadline;

    (void)state;
    assert_int_equal(scn_peerq_init(&pq, 1, 100, HEADROOM), 0);
    assert_false(scn_peerq_overdue(&pq, 0, 500, &deadline));
    assert_int_equal(deadline, UINT64_MAX);
    assert_int_equal(scn_peerq_push(&pq, "a", 1, 0, 1000, NULL, NULL), 0);
    assert_int_equal(scn_peerq_push(&pq, "b", 1, 0, 1000, NULL, NULL), 0);
    assert_true(pq.slow);
    assert_false(scn_peerq_overdue(&pq, 1499, 500, &deadline));
    assert_int_equal(deadline, 1500);
    assert_true(scn_peerq_overdue(&pq, 1500, 500, &deadline));
    assert_true(scn_peerq_overdue(&pq, 99999, 500, NULL));
    /* A limit of 0 never cuts anyone off. */
    assert_false(scn_peerq_overdue(&pq, 99999, 0, &deadline));
    assert_int_equal(deadline, UINT64_MAX);
    /* Clearing leaves nothing to be behind on. */
    assert_int_equal(scn_peerq_clear(&pq), 1);
    assert_false(pq.slow);
    assert_false(scn_peerq_overdue(&pq, 99999, 500, NULL));
    /* Slow again later: the clock starts again. */
    assert_int_equal(scn_peerq_push(&pq, "c", 1, 0, 5000, NULL, NULL), 0);
    assert_int_equal(scn_peerq_push(&pq, "d", 1, 0, 6000, NULL, NULL), 0);
    assert_false(scn_peerq_overdue(&pq, 6400, 500, &deadline));
    assert_int_equal(deadline, 6500);
    scn_peerq_free(&pq);
}

static void test_init_errors(void **state)
{
    scn_peerq pq;

    (void)state;
    assert_int_equal(scn_peerq_init(&pq, 0, 10, 0), SCN_ERR_INVALID_ARG);
    scn_peerq_free(&pq);
    assert_int_equal(scn_peerq_init(&pq, 10, 0, 0), SCN_ERR_INVALID_ARG);
    scn_peerq_free(&pq);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fifo_tags_headroom),
        cmocka_unit_test(test_peek_len),
        cmocka_unit_test(test_drop_oldest_by_count),
        cmocka_unit_test(test_drop_oldest_by_bytes),
        cmocka_unit_test(test_too_big_drops_nothing),
        cmocka_unit_test(test_recovers_at_half),
        cmocka_unit_test(test_overdue),
        cmocka_unit_test(test_init_errors),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
