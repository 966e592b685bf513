/*
 * uav/channel_core.c: activation, one command in flight, timeouts by
 * class, read retries, resynchronisation after a timeout, emergency first,
 * link loss (not sent or outcome unknown, by whether the line was
 * written), and holding back what moves the drone until it is airborne.
 * Driven with a fake link and explicit time.
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

/* Tickets are 1 + the index in sent[]; lines count as written only when
 * a test says so (written()). */
static int f_send(const char *line, size_t len, bool urgent, uint64_t *ticket,
                  void *ctx)
{
    fake *f = ctx;

    if (f->link_down)
        return SCN_ERR_UAV_LINK_LOST;
    snprintf(f->sent[f->nsent], sizeof(f->sent[0]), "%.*s", (int)len, line);
    f->urgent[f->nsent++] = urgent;
    *ticket = (uint64_t)f->nsent;
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

static int setup_with(void **state, int require_airborne)
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
    o.require_airborne = require_airborne;
    ops.ctx = &fx.f;
    if (scn__uav_core_init(&fx.c, &o, &ops) != 0)
        return -1;
    *state = &fx;
    return 0;
}

static int setup(void **state)
{
    return setup_with(state, 0);
}

static int setup_airborne(void **state)
{
    return setup_with(state, 1);
}

static int teardown(void **state)
{
    fixture *fx = *state;
    scn__uav_core_free(&fx->c);
    return 0;
}

/* A valid line, queued (err 0) or refused with err. */
static void refused(fixture *fx, uint64_t now, const char *line, int err)
{
    scn_uav_cmd cmd;
    char msg[128];

    assert_int_equal(
        scn_uav_cmd_parse(line, strlen(line), &cmd, msg, sizeof(msg)), 0);
    assert_int_equal(
        scn__uav_core_submit(&fx->c, now, &cmd, line, strlen(line), NULL, NULL),
        err);
}

static void submit(fixture *fx, uint64_t now, const char *line)
{
    refused(fx, now, line, 0);
}

static void answer(fixture *fx, uint64_t now, const char *text)
{
    scn__uav_core_answer(&fx->c, now, text, strlen(text));
}

/* The line sent n-th (0-based) reached the socket. */
static void written(fixture *fx, int n)
{
    scn__uav_core_written(&fx->c, (uint64_t)n + 1);
}

/* Link up and hello answered ok at t=0. */
static void activate(fixture *fx)
{
    scn__uav_core_link_up(&fx->c, 0);
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
    scn__uav_core_link_up(&fx->c, 0);
    assert_int_equal(fx->f.nsent, 1);
    assert_string_equal(fx->f.sent[0], "hello_scentience");
    answer(fx, 5, "error not ready");
    assert_int_equal(fx->f.active, 0);
    assert_int_equal(fx->f.nsent, 1); /* takeoff still waits */
    /* Activation is tried again after the retry delay. */
    scn__uav_core_tick(&fx->c, 5 + 999);
    assert_int_equal(fx->f.nsent, 1);
    scn__uav_core_tick(&fx->c, 5 + 1000);
    assert_int_equal(fx->f.nsent, 2);
    assert_string_equal(fx->f.sent[1], "hello_scentience");
    answer(fx, 1010, "ok");
    assert_int_equal(fx->f.active, 1);
    assert_int_equal(fx->f.nsent, 3);
    assert_string_equal(fx->f.sent[2], "takeoff");
    assert_int_equal(fx->c.stats.activations, 1);
}

static void test_late_hello_answer_activates(void **state)
{
    fixture *fx = *state;

    /* A drone slower than the short timeout: hello times out, and its
     * answer comes later, before the retry. It is hello's: nothing else
     * was sent. */
    submit(fx, 0, "battery?");
    scn__uav_core_link_up(&fx->c, 0);
    scn__uav_core_tick(&fx->c, 100);
    assert_int_equal(fx->c.stats.timeouts, 1);
    answer(fx, 130, "ok");
    assert_int_equal(fx->f.active, 1);
    assert_int_equal(fx->c.stats.activations, 1);
    assert_int_equal(fx->c.stats.late_answers, 1);
    /* No second hello: the queued read goes at once. */
    assert_int_equal(fx->f.nsent, 2);
    assert_string_equal(fx->f.sent[1], "battery?");
    /* A late error to hello is no activation: hello is sent again. */
    scn__uav_core_link_down(&fx->c, 200);
    scn__uav_core_link_up(&fx->c, 300);
    scn__uav_core_tick(&fx->c, 400);
    answer(fx, 410, "error not now");
    assert_int_equal(fx->f.active, 0);
    scn__uav_core_tick(&fx->c, 450);
    assert_string_equal(fx->f.sent[fx->f.nsent - 1], "hello_scentience");
    assert_int_equal(fx->f.nsent, 4);
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
    assert_int_equal(scn__uav_core_tick(&fx->c, 10), 10 + 1000);
    scn__uav_core_tick(&fx->c, 10 + 999);
    assert_int_equal(fx->f.ndone, 0);
    scn__uav_core_tick(&fx->c, 10 + 1000);
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
    assert_int_equal(scn__uav_core_tick(&fx->c, 10), 10 + 100); /* short */
    scn__uav_core_tick(&fx->c, 110);
    /* Timed out: the retry waits for the resync window. */
    assert_int_equal(fx->f.nsent, 2);
    assert_int_equal(fx->c.stats.timeouts, 1);
    scn__uav_core_tick(&fx->c, 159);
    assert_int_equal(fx->f.nsent, 2);
    scn__uav_core_tick(&fx->c, 160);
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
    scn__uav_core_tick(&fx->c, 10 + 1000); /* takeoff times out */
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
    assert_int_equal(scn__uav_core_emergency(&fx->c, 20, NULL, NULL), 0);
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
    scn__uav_core_tick(&fx->c, 5000);
    assert_int_equal(fx->f.nsent, 3);
}

static void test_emergency_without_link(void **state)
{
    fixture *fx = *state;

    assert_int_equal(scn__uav_core_emergency(&fx->c, 0, NULL, NULL),
                     SCN_ERR_UAV_LINK_LOST);
    assert_int_equal(fx->f.nsent, 0);
    activate(fx);
    fx->f.link_down = true;
    assert_int_equal(scn__uav_core_emergency(&fx->c, 5, NULL, NULL),
                     SCN_ERR_UAV_LINK_LOST);
}

static void test_link_loss_fails_everything(void **state)
{
    fixture *fx = *state;

    activate(fx);
    submit(fx, 10, "up 30");
    submit(fx, 10, "land");
    scn__uav_core_link_down(&fx->c, 20);
    assert_int_equal(fx->f.active, 0);
    assert_int_equal(fx->f.ndone, 2);
    assert_int_equal(fx->f.done_err[0], SCN_ERR_UAV_LINK_LOST);
    assert_int_equal(fx->f.done_err[1], SCN_ERR_UAV_LINK_LOST);
    /* A new link activates again before anything else. */
    scn__uav_core_link_up(&fx->c, 30);
    assert_string_equal(fx->f.sent[fx->f.nsent - 1], "hello_scentience");
}

static void test_link_loss_after_write_is_outcome_unknown(void **state)
{
    fixture *fx = *state;

    activate(fx);
    submit(fx, 10, "takeoff");
    answer(fx, 11, "ok");
    submit(fx, 12, "cw 91");
    submit(fx, 12, "land");
    written(fx, 2); /* cw 91 reached the socket; land never left the queue */
    scn__uav_core_link_down(&fx->c, 20);
    assert_int_equal(fx->f.ndone, 3);
    assert_string_equal(fx->f.done_line[1], "cw 91");
    assert_int_equal(fx->f.done_err[1], SCN_ERR_UAV_OUTCOME_UNKNOWN);
    assert_string_equal(fx->f.done_line[2], "land");
    assert_int_equal(fx->f.done_err[2], SCN_ERR_UAV_LINK_LOST);
    assert_int_equal(fx->c.stats.unknown_outcome, 1);
    assert_int_equal(fx->c.stats.link_lost, 1);
    /* A ticket of a finished line changes nothing. */
    written(fx, 2);
    assert_int_equal(fx->f.ndone, 3);
}

static void test_emergency_written_then_link_lost(void **state)
{
    fixture *fx = *state;

    activate(fx);
    submit(fx, 10, "forward 100");
    written(fx, 1);
    assert_int_equal(scn__uav_core_emergency(&fx->c, 20, NULL, NULL), 0);
    written(fx, 2);
    scn__uav_core_link_down(&fx->c, 30);
    assert_int_equal(fx->f.ndone, 2);
    assert_string_equal(fx->f.done_line[1], "emergency");
    assert_int_equal(fx->f.done_err[1], SCN_ERR_UAV_OUTCOME_UNKNOWN);
    /* An emergency that may or may not have stopped the motors. */
    assert_int_equal(fx->c.airborne, UAV_AIRBORNE_UNKNOWN);
}

static void test_motion_waits_for_airborne(void **state)
{
    fixture *fx = *state;
    scn_uav_cmd cmd;
    char msg[64];

    activate(fx);
    assert_int_equal(fx->c.airborne, UAV_AIRBORNE_UNKNOWN);
    /* Not airborne: what moves or points the drone is refused at once. */
    for (const char *const *l =
             (const char *const[]){"oio nh3", "oioon", "up 50", "cw 90",
                                   "rc 0 0 0 0", NULL};
         *l; l++) {
        scn_uav_cmd_parse(*l, strlen(*l), &cmd, msg, sizeof(msg));
        assert_int_equal(
            scn__uav_core_submit(&fx->c, 5, &cmd, *l, strlen(*l), NULL, NULL),
            SCN_ERR_UAV_NOT_AIRBORNE);
    }
    assert_int_equal(fx->c.stats.not_airborne, 5);
    /* Reads, settings, stop and takeoff are not held back. */
    submit(fx, 10, "battery?");
    answer(fx, 11, "80");
    submit(fx, 12, "takeoff");
    submit(fx, 12, "speed 50");
    answer(fx, 13, "ok");
    assert_int_equal(fx->c.airborne, UAV_AIRBORNE_YES);
    answer(fx, 14, "ok");
    submit(fx, 15, "oio nh3");
    submit(fx, 15, "land");
    submit(fx, 15, "up 50"); /* queued while airborne, due after land */
    assert_string_equal(fx->f.sent[fx->f.nsent - 1], "oio nh3");
    answer(fx, 16, "ok");
    answer(fx, 17, "ok"); /* land */
    assert_int_equal(fx->c.airborne, UAV_AIRBORNE_NO);
    /* up 50 never left: checked again when it was about to be written. */
    assert_string_equal(fx->f.sent[fx->f.nsent - 1], "land");
    assert_int_equal(fx->f.ndone, 6);
    assert_string_equal(fx->f.done_line[5], "up 50");
    assert_int_equal(fx->f.done_err[5], SCN_ERR_UAV_NOT_AIRBORNE);
}

static void test_unanswered_land_is_not_airborne(void **state)
{
    fixture *fx = *state;

    activate(fx);
    submit(fx, 10, "takeoff");
    answer(fx, 11, "ok");
    assert_int_equal(fx->c.airborne, UAV_AIRBORNE_YES);
    submit(fx, 12, "land");
    written(fx, 2);
    scn__uav_core_tick(&fx->c, 12 + 1000); /* timed out: it may have landed */
    assert_int_equal(fx->f.done_err[1], SCN_ERR_TIMEOUT);
    assert_int_equal(fx->c.airborne, UAV_AIRBORNE_UNKNOWN);
    refused(fx, 1100, "oio voc", SCN_ERR_UAV_NOT_AIRBORNE);
    /* Its late "ok" is discarded (resynchronisation), not believed. */
    answer(fx, 1200, "ok");
    assert_int_equal(fx->c.airborne, UAV_AIRBORNE_UNKNOWN);
    /* A land that was never written leaves the drone as it was. */
    submit(fx, 1300, "takeoff");
    answer(fx, 1301, "ok");
    submit(fx, 1302, "land");
    scn__uav_core_link_down(&fx->c, 1303);
    assert_int_equal(fx->f.done_err[3], SCN_ERR_UAV_LINK_LOST);
    assert_int_equal(fx->c.airborne, UAV_AIRBORNE_YES);
}

static void test_queue_bound(void **state)
{
    fixture *fx = *state;

    for (int i = 0; i < 4; i++)
        submit(fx, 0, "battery?");
    refused(fx, 0, "battery?", SCN_ERR_QUEUE_FULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_commands_wait_for_activation,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_late_hello_answer_activates, setup,
                                        teardown),
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
        cmocka_unit_test_setup_teardown(
            test_link_loss_after_write_is_outcome_unknown, setup, teardown),
        cmocka_unit_test_setup_teardown(test_emergency_written_then_link_lost,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_motion_waits_for_airborne,
                                        setup_airborne, teardown),
        cmocka_unit_test_setup_teardown(test_unanswered_land_is_not_airborne,
                                        setup_airborne, teardown),
        cmocka_unit_test_setup_teardown(test_queue_bound, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
