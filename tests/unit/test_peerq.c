/* A server connection's outbound queue: drop-oldest at the exact limits,
 * tags and prefixes, shared messages held once, the slow state and its
 * cut-off deadline. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <scentience/error.h>
#include "peerq.h"

/* Pushes a fresh shared message (the queue takes its own reference). */
static int push(scn_peerq *pq, const char *data, size_t len, unsigned char tag,
                uint64_t now, size_t *dropped, bool *became)
{
    scn_shmsg *m = scn__shmsg_new(data, len);
    int rc;

    assert_non_null(m);
    rc = scn__peerq_push(pq, m, tag, NULL, 0, now, dropped, became);
    scn__shmsg_unref(m);
    return rc;
}

static void take_expect(scn_peerq *pq, const char *text, unsigned char tag)
{
    scn_peer_item it;

    assert_true(scn__peerq_take(pq, &it));
    assert_int_equal(it.m->len, strlen(text));
    assert_memory_equal(it.m->data, text, it.m->len);
    assert_int_equal(it.tag, tag);
    assert_int_equal(it.plen, 0);
    scn__shmsg_unref(it.m);
}

static void test_fifo_tags(void **state)
{
    scn_peerq pq;
    scn_peer_item m;

    (void)state;
    assert_int_equal(scn__peerq_init(&pq, 4, 100), 0);
    assert_int_equal(push(&pq, "text", 4, 0, 0, NULL, NULL), 0);
    assert_int_equal(push(&pq, "\x00\x01", 2, 1, 0, NULL, NULL), 0);
    assert_int_equal(push(&pq, "", 0, 0, 0, NULL, NULL), 0);
    assert_int_equal(scn__peerq_count(&pq), 3);
    assert_int_equal(scn__peerq_bytes(&pq), 6);
    take_expect(&pq, "text", 0);
    assert_true(scn__peerq_take(&pq, &m));
    assert_int_equal(m.m->len, 2);
    assert_memory_equal(m.m->data, "\x00\x01", 2);
    assert_int_equal(m.tag, 1);
    scn__shmsg_unref(m.m);
    take_expect(&pq, "", 0);
    assert_false(scn__peerq_take(&pq, &m));
    assert_int_equal(pq.dropped, 0);
    assert_false(pq.slow);
    scn__peerq_free(&pq);
    scn__peerq_free(&pq); /* twice is harmless */
}

/* A writer sizes its batch by the next message before taking it. */
static void test_peek(void **state)
{
    scn_peerq pq;
    const scn_peer_item *it;

    (void)state;
    assert_int_equal(scn__peerq_init(&pq, 4, 100), 0);
    assert_null(scn__peerq_peek(&pq));
    assert_int_equal(push(&pq, "abc", 3, 0, 0, NULL, NULL), 0);
    assert_int_equal(push(&pq, "", 0, 0, 0, NULL, NULL), 0);
    it = scn__peerq_peek(&pq);
    assert_non_null(it);
    assert_int_equal(it->m->len, 3);
    assert_memory_equal(it->m->data, "abc", 3);
    assert_int_equal(scn__peerq_count(&pq), 2);
    take_expect(&pq, "abc", 0);
    it = scn__peerq_peek(&pq);
    assert_non_null(it);
    assert_int_equal(it->m->len, 0);
    take_expect(&pq, "", 0);
    assert_null(scn__peerq_peek(&pq));
    scn__peerq_free(&pq);
}

static void test_drop_oldest_by_count(void **state)
{
    scn_peerq pq;
    size_t dropped;
    bool became;

    (void)state;
    assert_int_equal(scn__peerq_init(&pq, 3, 1000), 0);
    assert_int_equal(push(&pq, "a", 1, 0, 10, &dropped, &became), 0);
    assert_int_equal(push(&pq, "b", 1, 0, 11, &dropped, &became), 0);
    /* Exactly at the limit: nothing dropped yet. */
    assert_int_equal(push(&pq, "c", 1, 0, 12, &dropped, &became), 0);
    assert_int_equal(dropped, 0);
    assert_false(became);
    assert_false(pq.slow);
    /* One past: the oldest goes, and the peer is slow from now. */
    assert_int_equal(push(&pq, "d", 1, 0, 13, &dropped, &became), 0);
    assert_int_equal(dropped, 1);
    assert_true(became);
    assert_true(pq.slow);
    assert_int_equal(pq.slow_since_ms, 13);
    /* Still slow: a later drop does not move the start. */
    assert_int_equal(push(&pq, "e", 1, 0, 20, &dropped, &became), 0);
    assert_int_equal(dropped, 1);
    assert_false(became);
    assert_int_equal(pq.slow_since_ms, 13);
    assert_int_equal(pq.dropped, 2);
    take_expect(&pq, "c", 0);
    take_expect(&pq, "d", 0);
    take_expect(&pq, "e", 0);
    scn__peerq_free(&pq);
}

static void test_drop_oldest_by_bytes(void **state)
{
    scn_peerq pq;
    size_t dropped;

    (void)state;
    assert_int_equal(scn__peerq_init(&pq, 100, 10), 0);
    assert_int_equal(push(&pq, "1234", 4, 0, 0, &dropped, NULL), 0);
    assert_int_equal(push(&pq, "5678", 4, 0, 0, &dropped, NULL), 0);
    assert_int_equal(push(&pq, "90", 2, 0, 0, &dropped, NULL), 0);
    assert_int_equal(dropped, 0);
    assert_int_equal(scn__peerq_bytes(&pq), 10);
    /* 9 bytes need room for 9: the three queued messages all go. */
    assert_int_equal(push(&pq, "abcdefghi", 9, 1, 0, &dropped, NULL), 0);
    assert_int_equal(dropped, 3);
    assert_int_equal(scn__peerq_count(&pq), 1);
    take_expect(&pq, "abcdefghi", 1);
    scn__peerq_free(&pq);
}

static void test_too_big_drops_nothing(void **state)
{
    scn_peerq pq;
    size_t dropped = 99;
    bool became = true;

    (void)state;
    assert_int_equal(scn__peerq_init(&pq, 4, 8), 0);
    assert_int_equal(push(&pq, "keep", 4, 0, 0, NULL, NULL), 0);
    assert_int_equal(push(&pq, "123456789", 9, 0, 0, &dropped, &became),
                     SCN_ERR_MESSAGE_TOO_BIG);
    assert_int_equal(dropped, 0);
    assert_false(became);
    assert_int_equal(scn__peerq_count(&pq), 1);
    /* Exactly the byte cap fits, after dropping everything else. */
    assert_int_equal(push(&pq, "12345678", 8, 0, 0, &dropped, NULL), 0);
    assert_int_equal(dropped, 1);
    scn__peerq_free(&pq);
}

static void test_recovers_at_half(void **state)
{
    scn_peerq pq;
    scn_peer_item m;

    (void)state;
    assert_int_equal(scn__peerq_init(&pq, 4, 1000), 0);
    for (int i = 0; i < 5; i++)
        assert_int_equal(push(&pq, "x", 1, 0, 100, NULL, NULL), 0);
    assert_true(pq.slow);
    /* 4 queued: taking one leaves 3 (> 2), still slow. */
    assert_true(scn__peerq_take(&pq, &m));
    scn__shmsg_unref(m.m);
    assert_true(pq.slow);
    /* 2 queued: half of the count cap, caught up. */
    assert_true(scn__peerq_take(&pq, &m));
    scn__shmsg_unref(m.m);
    assert_false(pq.slow);
    scn__peerq_free(&pq);

    /* Bytes count too: the message count is low but the bytes are not. */
    assert_int_equal(scn__peerq_init(&pq, 100, 10), 0);
    assert_int_equal(push(&pq, "123456", 6, 0, 0, NULL, NULL), 0);
    assert_int_equal(push(&pq, "123456", 6, 0, 0, NULL, NULL), 0);
    assert_true(pq.slow);
    assert_int_equal(push(&pq, "1", 1, 0, 0, NULL, NULL), 0);
    /* 6 + 1 queued: taking the 6 leaves 1 byte (<= 5): caught up. */
    assert_true(scn__peerq_take(&pq, &m));
    scn__shmsg_unref(m.m);
    assert_false(pq.slow);
    scn__peerq_free(&pq);
}

static void test_overdue(void **state)
{
    scn_peerq pq;
    uint64_t deadline;

    (void)state;
    assert_int_equal(scn__peerq_init(&pq, 1, 100), 0);
    assert_false(scn__peerq_overdue(&pq, 0, 500, &deadline));
    assert_int_equal(deadline, UINT64_MAX);
    assert_int_equal(push(&pq, "a", 1, 0, 1000, NULL, NULL), 0);
    assert_int_equal(push(&pq, "b", 1, 0, 1000, NULL, NULL), 0);
    assert_true(pq.slow);
    assert_false(scn__peerq_overdue(&pq, 1499, 500, &deadline));
    assert_int_equal(deadline, 1500);
    assert_true(scn__peerq_overdue(&pq, 1500, 500, &deadline));
    assert_true(scn__peerq_overdue(&pq, 99999, 500, NULL));
    /* A limit of 0 never cuts anyone off. */
    assert_false(scn__peerq_overdue(&pq, 99999, 0, &deadline));
    assert_int_equal(deadline, UINT64_MAX);
    /* Clearing leaves nothing to be behind on. */
    assert_int_equal(scn__peerq_clear(&pq), 1);
    assert_false(pq.slow);
    assert_false(scn__peerq_overdue(&pq, 99999, 500, NULL));
    /* Slow again later: the clock starts again. */
    assert_int_equal(push(&pq, "c", 1, 0, 5000, NULL, NULL), 0);
    assert_int_equal(push(&pq, "d", 1, 0, 6000, NULL, NULL), 0);
    assert_false(scn__peerq_overdue(&pq, 6400, 500, &deadline));
    assert_int_equal(deadline, 6500);
    scn__peerq_free(&pq);
}

/* One message on three queues is one allocation: each queue holds a
 * reference, and the bytes go when the last one is taken. A prefix is
 * the queue's own and counts toward its byte cap. */
static void test_shared_and_prefix(void **state)
{
    scn_peerq q[3];
    scn_peer_item it;
    scn_shmsg *m = scn__shmsg_new("payload", 7);
    size_t dropped;

    (void)state;
    assert_non_null(m);
    for (int i = 0; i < 3; i++) {
        unsigned char prefix[5] = {1, (unsigned char)i, 0, 0, 0};

        assert_int_equal(scn__peerq_init(&q[i], 4, 12), 0);
        assert_int_equal(
            scn__peerq_push(&q[i], m, 1, prefix, 5, 0, &dropped, NULL), 0);
        assert_int_equal(scn__peerq_bytes(&q[i]), 12);
    }
    assert_int_equal(atomic_load(&m->refs), 4);
    scn__shmsg_unref(m); /* the publisher's */
    assert_int_equal(atomic_load(&m->refs), 3);
    assert_true(scn__peerq_take(&q[1], &it));
    assert_ptr_equal(it.m, m);
    assert_int_equal(it.plen, 5);
    assert_int_equal(it.prefix[1], 1);
    assert_memory_equal(it.m->data, "payload", 7);
    scn__shmsg_unref(it.m);
    /* One byte more than the cap with its prefix: refused whole. */
    m = scn__shmsg_new("12345678", 8);
    assert_int_equal(scn__peerq_push(&q[0], m, 0, "abcde", 5, 0, NULL, NULL),
                     SCN_ERR_MESSAGE_TOO_BIG);
    assert_int_equal(
        scn__peerq_push(&q[0], m, 0, "abcdefghijklmnop", 16, 0, NULL, NULL),
        SCN_ERR_INVALID_ARG);
    assert_int_equal(atomic_load(&m->refs), 1);
    scn__shmsg_unref(m);
    /* Freed queues drop their references (ASan sees a leak otherwise). */
    for (int i = 0; i < 3; i++)
        scn__peerq_free(&q[i]);
}

/* The ring grows on demand and keeps order across its wrap. */
static void test_ring_grows_in_order(void **state)
{
    scn_peerq pq;
    char text[8];

    (void)state;
    assert_int_equal(scn__peerq_init(&pq, 100, 100000), 0);
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < 40; i++) {
            snprintf(text, sizeof(text), "%d", round * 100 + i);
            assert_int_equal(push(&pq, text, strlen(text), 0, 0, NULL, NULL),
                             0);
        }
        for (int i = 0; i < 40; i++) {
            snprintf(text, sizeof(text), "%d", round * 100 + i);
            take_expect(&pq, text, 0);
        }
    }
    assert_int_equal(pq.dropped, 0);
    scn__peerq_free(&pq);
}

static void test_init_errors(void **state)
{
    scn_peerq pq;

    (void)state;
    assert_int_equal(scn__peerq_init(&pq, 0, 10), SCN_ERR_INVALID_ARG);
    scn__peerq_free(&pq);
    assert_int_equal(scn__peerq_init(&pq, 10, 0), SCN_ERR_INVALID_ARG);
    scn__peerq_free(&pq);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fifo_tags),
        cmocka_unit_test(test_shared_and_prefix),
        cmocka_unit_test(test_peek),
        cmocka_unit_test(test_drop_oldest_by_count),
        cmocka_unit_test(test_drop_oldest_by_bytes),
        cmocka_unit_test(test_too_big_drops_nothing),
        cmocka_unit_test(test_recovers_at_half),
        cmocka_unit_test(test_overdue),
        cmocka_unit_test(test_ring_grows_in_order),
        cmocka_unit_test(test_init_errors),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
