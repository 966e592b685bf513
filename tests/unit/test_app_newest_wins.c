/* apps/common/newest_wins.c: the fleet's newest-wins rate limit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "newest_wins.h"

static void offer(newest_wins *w, uint64_t now, const char *s, int expect)
{
    assert_int_equal(newest_wins_offer(w, now, s, strlen(s), (int64_t)now),
                     expect);
}

static void expect_take(newest_wins *w, uint64_t now, const char *s)
{
    const char *d;
    size_t len;
    int64_t ts;

    assert_int_equal(newest_wins_take(w, now, &d, &len, &ts), 1);
    assert_int_equal(len, strlen(s));
    assert_memory_equal(d, s, len);
}

static void test_burst_sends_first_and_newest(void **state)
{
    newest_wins w;
    const char *d;
    size_t len;
    int64_t ts;

    (void)state;
    newest_wins_init(&w, 100); /* 10 Hz */
    assert_int_equal(newest_wins_wait_ms(&w, 0), UINT64_MAX);
    offer(&w, 1000, "a", 1);
    /* A burst within the interval: only the last survives. */
    offer(&w, 1010, "b", 0);
    offer(&w, 1020, "c", 0);
    offer(&w, 1030, "dd", 0);
    assert_int_equal(w.replaced, 2);
    assert_int_equal(newest_wins_wait_ms(&w, 1030), 70);
    assert_int_equal(newest_wins_take(&w, 1099, &d, &len, &ts), 0);
    assert_int_equal(newest_wins_wait_ms(&w, 1099), 1);
    expect_take(&w, 1100, "dd");
    assert_int_equal(newest_wins_take(&w, 1100, &d, &len, &ts), 0);
    assert_int_equal(newest_wins_wait_ms(&w, 1100), UINT64_MAX);
    /* Its turn counts: the next one waits an interval after it. */
    offer(&w, 1150, "e", 0);
    expect_take(&w, 1200, "e");
    /* A quiet spell: the next goes at once. */
    offer(&w, 5000, "f", 1);
    newest_wins_free(&w);
}

static void test_late_timer_newer_wins(void **state)
{
    newest_wins w;
    const char *d;
    size_t len;
    int64_t ts;

    (void)state;
    newest_wins_init(&w, 100);
    offer(&w, 0 + 1, "a", 1);
    offer(&w, 50, "b", 0);
    /* The turn came, the timer has not run, a newer message arrives: it
     * goes now, the held one is dropped (older than what was sent). */
    offer(&w, 150, "c", 1);
    assert_int_equal(w.replaced, 1);
    assert_int_equal(newest_wins_take(&w, 1000, &d, &len, &ts), 0);
    newest_wins_free(&w);
}

static void test_no_limit(void **state)
{
    newest_wins w;

    (void)state;
    newest_wins_init(&w, 0);
    for (int i = 0; i < 100; i++)
        offer(&w, 5, "x", 1);
    assert_int_equal(w.replaced, 0);
    assert_int_equal(newest_wins_wait_ms(&w, 5), UINT64_MAX);
    newest_wins_free(&w);
}

static void test_held_time_and_growth(void **state)
{
    newest_wins w;
    char big[5000];
    const char *d;
    size_t len;
    int64_t ts;

    (void)state;
    memset(big, 'z', sizeof(big));
    newest_wins_init(&w, 250);
    assert_int_equal(newest_wins_offer(&w, 10, "a", 1, 111), 1);
    assert_int_equal(newest_wins_offer(&w, 20, "b", 1, 222), 0);
    assert_int_equal(newest_wins_offer(&w, 30, big, sizeof(big), 333), 0);
    assert_int_equal(newest_wins_take(&w, 260, &d, &len, &ts), 1);
    assert_int_equal(len, sizeof(big));
    assert_int_equal(ts, 333);
    assert_memory_equal(d, big, len);
    newest_wins_free(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_burst_sends_first_and_newest),
        cmocka_unit_test(test_late_timer_newer_wins),
        cmocka_unit_test(test_no_limit),
        cmocka_unit_test(test_held_time_and_growth),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
