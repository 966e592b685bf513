/* scn_loop_run: when it returns by itself (nothing left that could make
 * something happen) and when it keeps running (an armed timer); timers'
 * order and turns. No sockets: sessions are covered by
 * test_readme_example.py. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <scentience/error.h>
#include <scentience/loop.h>
#include <scentience/timer.h>

typedef struct ticks {
    int fired;
    int rearm; /* fire this many more times */
    scn_loop *loop;
    scn_timer *other; /* stopped by the first firing, when set */
} ticks;

static void on_tick(scn_timer *t, void *user)
{
    ticks *k = user;

    k->fired++;
    if (k->other)
        scn_timer_stop(k->other);
    if (k->rearm-- > 0)
        scn_timer_start(t, 5);
}

static void on_stop(scn_timer *t, void *user)
{
    ticks *k = user;

    (void)t;
    k->fired++;
    scn_loop_stop(k->loop);
}

/* Runs the loop from inside a timer callback: refused, not recursed. */
static void on_recurse(scn_timer *t, void *user)
{
    ticks *k = user;

    (void)t;
    k->fired++;
    k->rearm = scn_loop_run_once(k->loop, 0);
    k->rearm = k->rearm * 100 + scn_loop_run(k->loop);
}

/* Records when and in which order timers fired. */
typedef struct stamp {
    scn_loop *loop;
    uint64_t fired_at[3];
    int order[3];
    int n;
} stamp;

typedef struct stamped {
    stamp *st;
    int id;
} stamped;

static void on_stamp(scn_timer *t, void *user)
{
    stamped *s = user;

    (void)t;
    s->st->fired_at[s->id] = scn_loop_now_ms(s->st->loop);
    s->st->order[s->st->n++] = s->id;
}

/* Re-armed "as soon as possible" from its own callback; wakes the loop
 * after the last firing. */
static void on_asap(scn_timer *t, void *user)
{
    ticks *k = user;

    k->fired++;
    if (k->rearm-- > 0)
        scn_timer_start(t, 0);
    else
        scn_loop_wakeup(k->loop);
}

static scn_loop *new_loop(void)
{
    scn_loop *loop = NULL;

    assert_int_equal(scn_loop_new(NULL, &loop), 0);
    return loop;
}

static void test_an_empty_loop_returns_at_once(void **state)
{
    scn_loop *loop = new_loop();

    (void)state;
    assert_int_equal(scn_loop_run(loop), 0);
    scn_loop_free(loop);
}

static void test_runs_until_the_last_timer_fired(void **state)
{
    scn_loop *loop = new_loop();
    ticks k = {.rearm = 3};
    scn_timer *t;

    (void)state;
    assert_int_equal(scn_timer_new(loop, on_tick, &k, &t), 0);
    scn_timer_start(t, 20);
    assert_int_equal(scn_loop_run(loop), 0);
    assert_int_equal(k.fired, 4); /* the first firing and three re-arms */
    scn_timer_free(t);
    scn_loop_free(loop);
}

static void test_a_stopped_or_freed_timer_does_not_count(void **state)
{
    scn_loop *loop = new_loop();
    ticks k = {0}, never = {0};
    scn_timer *t, *u, *v;

    (void)state;
    assert_int_equal(scn_timer_new(loop, on_tick, &never, &t), 0);
    assert_int_equal(scn_timer_new(loop, on_tick, &never, &u), 0);
    assert_int_equal(scn_timer_new(loop, on_tick, &k, &v), 0);
    scn_timer_start(t, 60000);
    scn_timer_start(t, 60000); /* re-arming counts once */
    scn_timer_stop(t);
    scn_timer_start(u, 60000);
    scn_timer_free(u);
    assert_int_equal(scn_loop_run(loop), 0);
    assert_int_equal(never.fired, 0);
    /* Stopped from another timer's callback: the loop ends then too. */
    scn_timer_start(t, 60000);
    k.other = t;
    scn_timer_start(v, 5);
    assert_int_equal(scn_loop_run(loop), 0);
    assert_int_equal(k.fired, 1);
    assert_int_equal(never.fired, 0);
    scn_timer_free(t);
    scn_timer_free(v);
    scn_loop_free(loop);
}

/* The loop keeps its timers itself (lib/lws/lws_loop.c): in order of
 * due time, never before it. */
static void test_timers_fire_in_due_order_never_early(void **state)
{
    static const uint64_t delay[3] = {30, 10, 20};
    scn_loop *loop = new_loop();
    stamp st = {.loop = loop};
    stamped s[3];
    scn_timer *t[3];
    uint64_t start = scn_loop_now_ms(loop);

    (void)state;
    for (int i = 0; i < 3; i++) {
        s[i] = (stamped){&st, i};
        assert_int_equal(scn_timer_new(loop, on_stamp, &s[i], &t[i]), 0);
        scn_timer_start(t[i], delay[i]);
    }
    assert_int_equal(scn_loop_run(loop), 0);
    assert_int_equal(st.n, 3);
    assert_int_equal(st.order[0], 1);
    assert_int_equal(st.order[1], 2);
    assert_int_equal(st.order[2], 0);
    for (int i = 0; i < 3; i++) {
        assert_true(st.fired_at[i] >= start + delay[i]);
        scn_timer_free(t[i]);
    }
    scn_loop_free(loop);
}

/* A timer armed with 0 from its own callback fires at a later turn, not
 * in the same one (I/O would starve), and no turn waits for the other
 * timer, a minute away (the test would time out). */
static void test_as_soon_as_possible_is_a_later_turn(void **state)
{
    scn_loop *loop = new_loop();
    ticks k = {.rearm = 3, .loop = loop}, never = {0};
    scn_timer *asap, *later;

    (void)state;
    assert_int_equal(scn_timer_new(loop, on_asap, &k, &asap), 0);
    assert_int_equal(scn_timer_new(loop, on_tick, &never, &later), 0);
    scn_timer_start(later, 60000);
    scn_timer_start(asap, 0);
    while (k.fired < 4) {
        int before = k.fired;

        assert_int_equal(scn_loop_run_once(loop, 60000), 0);
        assert_true(k.fired - before <= 1);
    }
    assert_int_equal(never.fired, 0);
    scn_timer_free(asap);
    scn_timer_free(later);
    scn_loop_free(loop);
}

static void test_no_run_inside_a_timer_callback(void **state)
{
    scn_loop *loop = new_loop();
    ticks k = {.loop = loop};
    scn_timer *t;

    (void)state;
    assert_int_equal(scn_timer_new(loop, on_recurse, &k, &t), 0);
    scn_timer_start(t, 1);
    assert_int_equal(scn_loop_run(loop), 0);
    assert_int_equal(k.fired, 1);
    assert_int_equal(k.rearm, SCN_ERR_RECURSIVE * 100 + SCN_ERR_RECURSIVE);
    scn_timer_free(t);
    scn_loop_free(loop);
}

static void test_stop_ends_a_loop_with_work_left(void **state)
{
    scn_loop *loop = new_loop();
    ticks k = {0}, never = {0};
    scn_timer *stopper, *later;

    (void)state;
    k.loop = loop;
    assert_int_equal(scn_timer_new(loop, on_stop, &k, &stopper), 0);
    assert_int_equal(scn_timer_new(loop, on_tick, &never, &later), 0);
    scn_timer_start(later, 60000);
    scn_timer_start(stopper, 5);
    assert_int_equal(scn_loop_run(loop), 0);
    assert_int_equal(k.fired, 1);
    assert_int_equal(never.fired, 0);
    scn_timer_free(later);
    scn_timer_free(stopper);
    scn_loop_free(loop);
}

/* A loop on its own thread: scn_loop_run and run_once refuse to run it a
 * second time; stop joins the thread and hands the loop back. */
static void test_own_thread(void **state)
{
    scn_loop *loop = new_loop();
    ticks k = {0};
    scn_timer *t;

    (void)state;
    assert_int_equal(scn_loop_start(loop), 0);
    assert_int_equal(scn_loop_start(loop), SCN_ERR_STATE);
    assert_int_equal(scn_loop_run(loop), SCN_ERR_STATE);
    assert_int_equal(scn_loop_run_once(loop, 0), SCN_ERR_STATE);
    scn_loop_wakeup(loop);
    assert_int_equal(scn_loop_stop(loop), 0);
    /* The caller's again: its timers fire on the caller's thread. */
    assert_int_equal(scn_timer_new(loop, on_tick, &k, &t), 0);
    scn_timer_start(t, 1);
    assert_int_equal(scn_loop_run(loop), 0);
    assert_int_equal(k.fired, 1);
    scn_timer_free(t);
    scn_loop_free(loop);
    assert_int_equal(scn_loop_run(NULL), SCN_ERR_INVALID_ARG);
    assert_int_equal(scn_loop_run_once(NULL, 0), SCN_ERR_INVALID_ARG);
    assert_int_equal(scn_loop_start(NULL), SCN_ERR_INVALID_ARG);
    assert_int_equal(scn_loop_stop(NULL), SCN_ERR_INVALID_ARG);
    assert_int_equal(scn_loop_new(NULL, NULL), SCN_ERR_INVALID_ARG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_own_thread),
        cmocka_unit_test(test_an_empty_loop_returns_at_once),
        cmocka_unit_test(test_runs_until_the_last_timer_fired),
        cmocka_unit_test(test_a_stopped_or_freed_timer_does_not_count),
        cmocka_unit_test(test_stop_ends_a_loop_with_work_left),
        cmocka_unit_test(test_no_run_inside_a_timer_callback),
        cmocka_unit_test(test_timers_fire_in_due_order_never_early),
        cmocka_unit_test(test_as_soon_as_possible_is_a_later_turn),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
