/*
 * uav/channel_core.c: activation, one command in flight, timeouts by
 * class, read retries, resynchronisation after a timeout, emergency first,
 * link loss. Driven with a fake link and explicit time.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <scentience/error.h>

#include "channel_core.h"

typedef struct fake {
    char sent[32][SCN_UAV_LINE_MAX + 1];
    bool urgent[32];
    int nsent;
    bool link_down;
    char done_line[32][SCN_UAV_LINE_MAX + 1];
    int done_err[32];
    char done_answer[32][SCN_UAV_RAW_MAX + 1];
    uint32_t done_attempts[32];
    int ndone;
    int active;
} fake;

static int f_send(const char *line, size_t len, bool urgent, void *ctx)
{
    fake *f = ctx;

    if (f->link_down)
        return SCN_ERR_UAV_LINK_LOST;
    snprintf(f->sent[f->nsent], sizeof(f->sent[0]), "%.*s", (int)len, line);
    f->urgent[f->nsent++] = urgent;
    return 0;
}

static void f_complete(const uav_job *job, int err, const scn_uav_answer *a,
                       uint64_t now, void *ctx)
{
    fake *f = ctx;

    (void)now;
    snprintf(f->done_line[f->ndone], sizeof(f->done_line[0]), "%s", job->line);
    f->done_err[f->ndone] = err;
    snprintf(f->done_answer[f->ndone], sizeof(f->done_answer[0]), "%s",
             a ? a->raw : "");
    f->done_attempts[f->ndone++] = job->attempts;
}

static void f_active(int active, void *ctx)
{
    ((fake *)ctx)->active = active;
}

typedef struct fixture {
    fake f;
    uav_core c;
} fixture;

static int setup(void **state)
{
    static fixture fx;
    scn_uav_channel_options o;
    uav_core_ops ops = {f_send, f_complete, f_active, NULL};

    memset(&fx, 0, sizeof(fx));
    scn_uav_channel_options_init(&o);
    o.short_timeout_ms = 100;
    o.long_timeout_ms = 1000;
    o.resync_ms = 50;
    o.read_retries = 1;
    o.queue_max = 4;
    ops.ctx = &fx.f;
    if (uav_core_init(&fx.c, &o, &ops) != 0)
        return -1;
    *state = &fx;
    return 0;
}

static int teardown(void **state)
{
    fixture *fx = *state;
    uav_core_free(&fx->c);
    return 0;
}

static void submit(fixture *fx, uint64_t now, const char *line)
{
    scn_uav_cmd cmd;
    char msg[128];

    assert_int_equal(
        scn_uav_cmd_parse(line, strlen(line), &cmd, msg, sizeof(msg)), 0);
    assert_int_equal(
        uav_core_submit(&fx->c, now, &cmd, line, strlen(line), NULL, NULL), 0);
}

static void answer(fixture *fx, uint64_t now, const char *text)
{
    uav_core_answer(&fx->c, now, text, strlen(text));
}

/* Link up and hello answered ok at t=0. */
static void activate(fixture *fx)
{
    uav_core_link_up(&fx->c, 0);
    assert_int_equal(fx->f.nsent, 1);
    assert_string_equal(fx->f.sent[0], "hello_scentience");
    answer(fx, 1, "ok");
    assert_int_equal(fx->f.active, 1);
}

static void test_commands_wait_for_activation(void **state)
{
    fixture *fx = *state;

    submit(fx, 0, "takeoff");
    assert_int_equal(fx->f.nsent, 0); /* no link yet */
    uav_core_link_up(&fx->c, 0);
    assert_int_equal(fx->f.nsent, 1);
    assert_string_equal(fx->f.sent[0], "hello_scentience");
    answer(fx, 5, "error not ready");
    assert_int_equal(fx->f.active, 0);
    assert_int_equal(fx->f.nsent, 1); /* takeoff still waits */
    /* Activation is tried again after the retry delay. */
    uav_core_tick(&fx->c, 5 + 999);
    assert_int_equal(fx->f.nsent, 1);
    uav_core_tick(&fx->c, 5 + 1000);
    assert_int_equal(fx->f.nsent, 2);
    assert_string_equal(fx->f.sent[1], "hello_scentience");
    answer(fx, 1010, "ok");
    assert_int_equal(fx->f.active, 1);
    assert_int_equal(fx->f.nsent, 3);
    assert_string_equal(fx->f.sent[2], "takeoff");
    assert_int_equal(fx->c.stats.activations, 1);
}

static void test_one_in_flight(void **state)
{
    fixture *fx = *state;

    activate(fx);
    submit(fx, 2, "battery?");
    submit(fx, 2, "speed 50");
    assert_int_equal(fx->f.nsent, 2);
    assert_string_equal(fx->f.sent[1], "battery?");
    answer(fx, 3, "80");
    assert_int_equal(fx->f.ndone, 1);
    assert_int_equal(fx->f.done_err[0], 0);
    assert_string_equal(fx->f.done_answer[0], "80");
    assert_int_equal(fx->f.nsent, 3);
    assert_string_equal(fx->f.sent[2], "speed 50");
    answer(fx, 4, "error out of range");
    assert_int_equal(fx->f.done_err[1], SCN_ERR_UAV_REFUSED);
}

static void test_timeouts_by_class(void **state)
{
    fixture *fx = *state;

    activate(fx);
    submit(fx, 10, "up 50");
    /* Motion: the long timeout. */
    assert_int_equal(uav_core_tick(&fx->c, 10), 10 + 1000);
    uav_core_tick(&fx->c, 10 + 999);
    assert_int_equal(fx->f.ndone, 0);
    uav_core_tick(&fx->c, 10 + 1000);
    assert_int_equal(fx->f.ndone, 1);
    assert_int_equal(fx->f.done_err[0], SCN_ERR_TIMEOUT);
    /* Never retried: written once. */
    assert_int_equal(fx->f.done_attempts[0], 1);
    assert_int_equal(fx->c.stats.retries, 0);
}

static void test_read_retried_after_quiet_period(void **state)
{
    fixture *fx = *state;

    activate(fx);
    submit(fx, 10, "battery?");
    assert_int_equal(uav_core_tick(&fx->c, 10), 10 + 100); /* short */
    uav_core_tick(&fx->c, 110);
    /* Timed out: the retry waits for the resync window. */
    assert_int_equal(fx->f.nsent, 2);
    assert_int_equal(fx->c.stats.timeouts, 1);
    uav_core_tick(&fx->c, 159);
    assert_int_equal(fx->f.nsent, 2);
    uav_core_tick(&fx->c, 160);
    assert_int_equal(fx->f.nsent, 3);
    assert_string_equal(fx->f.sent[2], "battery?");
    answer(fx, 170, "75");
    assert_int_equal(fx->f.ndone, 1);
    assert_int_equal(fx->f.done_err[0], 0);
    assert_int_equal(fx->f.done_attempts[0], 2);
    assert_int_equal(fx->c.stats.retries, 1);
}

static void test_late_answer_never_taken_by_next(void **state)
{
    fixture *fx = *state;

    activate(fx);
    submit(fx, 10, "takeoff");
    submit(fx, 10, "battery?");
    uav_core_tick(&fx->c, 10 + 1000); /* takeoff times out */
    assert_int_equal(fx->f.done_err[0], SCN_ERR_TIMEOUT);
    assert_int_equal(fx->f.nsent, 2); /* battery? held back */
    /* takeoff's late "ok" arrives: discarded, and the channel is in step
     * again at once. */
    answer(fx, 1020, "ok");
    assert_int_equal(fx->c.stats.late_answers, 1);
    assert_int_equal(fx->f.ndone, 1);
    assert_int_equal(fx->f.nsent, 3);
    assert_string_equal(fx->f.sent[2], "battery?");
    answer(fx, 1030, "64");
    assert_int_equal(fx->f.ndone, 2);
    assert_string_equal(fx->f.done_answer[1], "64");
}

static void test_unexpected_answer_is_malformed(void **state)
{
    fixture *fx = *state;

    activate(fx);
    submit(fx, 10, "takeoff");
    answer(fx, 20, "17");
    assert_int_equal(fx->f.done_err[0], SCN_ERR_MALFORMED);
    assert_string_equal(fx->f.done_answer[0], "17");
    assert_int_equal(fx->c.stats.malformed, 1);
}

static void test_emergency_overtakes_everything(void **state)
{
    fixture *fx = *state;

    activate(fx);
    submit(fx, 10, "forward 100");
    submit(fx, 10, "cw 90");
    assert_int_equal(uav_core_emergency(&fx->c, 20, NULL, NULL), 0);
    assert_int_equal(fx->f.nsent, 3);
    assert_string_equal(fx->f.sent[2], "emergency");
    assert_true(fx->f.urgent[2]);
    /* The move in flight and the queued one are superseded, at once. */
    assert_int_equal(fx->f.ndone, 2);
    assert_string_equal(fx->f.done_line[0], "forward 100");
    assert_int_equal(fx->f.done_err[0], SCN_ERR_UAV_SUPERSEDED);
    assert_string_equal(fx->f.done_line[1], "cw 90");
    assert_int_equal(fx->f.done_err[1], SCN_ERR_UAV_SUPERSEDED);
    answer(fx, 25, "ok");
    assert_int_equal(fx->f.ndone, 3);
    assert_string_equal(fx->f.done_line[2], "emergency");
    assert_int_equal(fx->f.done_err[2], 0);
    /* cw 90 never flies. */
    uav_core_tick(&fx->c, 5000);
    assert_int_equal(fx->f.nsent, 3);
}

static void test_emergency_without_link(void **state)
{
    fixture *fx = *state;

    assert_int_equal(uav_core_emergency(&fx->c, 0, NULL, NULL),
                     SCN_ERR_UAV_LINK_LOST);
    assert_int_equal(fx->f.nsent, 0);
    activate(fx);
    fx->f.link_down = true;
    assert_int_equal(uav_core_emergency(&fx->c, 5, NULL, NULL),
                     SCN_ERR_UAV_LINK_LOST);
}

static void test_link_loss_fails_everything(void **state)
{
    fixture *fx = *state;

    activate(fx);
    submit(fx, 10, "up 30");
    submit(fx, 10, "land");
    uav_core_link_down(&fx->c, 20);
    assert_int_equal(fx->f.active, 0);
    assert_int_equal(fx->f.ndone, 2);
    assert_int_equal(fx->f.done_err[0], SCN_ERR_UAV_LINK_LOST);
    assert_int_equal(fx->f.done_err[1], SCN_ERR_UAV_LINK_LOST);
    /* A new link activates again before anything else. */
    uav_core_link_up(&fx->c, 30);
    assert_string_equal(fx->f.sent[fx->f.nsent - 1], "hello_scentience");
}

static void test_queue_bound(void **state)
{
    fixture *fx = *state;
    scn_uav_cmd cmd;
    char msg[64];

    for (int i = 0; i < 4; i++)
        submit(fx, 0, "battery?");
    scn_uav_cmd_parse("battery?", 8, &cmd, msg, sizeof(msg));
    assert_int_equal(
        uav_core_submit(&fx->c, 0, &cmd, "battery?", 8, NULL, NULL),
        SCN_ERR_QUEUE_FULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_commands_wait_for_activation,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_one_in_flight, setup, teardown),
        cmocka_unit_test_setup_teardown(test_timeouts_by_class, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_read_retried_after_quiet_period,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_late_answer_never_taken_by_next,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_unexpected_answer_is_malformed,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_emergency_overtakes_everything,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_emergency_without_link, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_link_loss_fails_everything, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_queue_bound, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
