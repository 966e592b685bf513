/* One-shot timers on the loop's own scheduler (lib/lws/lws_loop.c). */
#include <scentience/error.h>
#include <scentience/timer.h>
#include <stdlib.h>

#include "session_internal.h"

struct scn_timer {
    scn_lws_timer *io;
    scn_loop *loop;
    scn_timer_fn fn;
    void *user;
    int in_callback;
    int free_pending;
    int armed; /* counted in loop->armed_timers */
};

/* The loop counts armed timers: scn_loop_run() returns only when none is
 * left that could still make something happen. */
static void disarm(scn_timer *t)
{
    if (t->armed) {
        t->armed = 0;
        t->loop->armed_timers--;
    }
}

static void fire(void *user)
{
    scn_timer *t = user;

    disarm(t);
    t->in_callback = 1;
    SCN_LOOP_USER_CALL(t->loop, t->fn(t, t->user));
    t->in_callback = 0;
    if (t->free_pending) {
        scn__lws_timer_free(t->io);
        free(t);
    }
}

int scn_timer_new(scn_loop *loop, scn_timer_fn fn, void *user, scn_timer **out)
{
    scn_timer *t;

    if (!loop || !fn || !out)
        return SCN_ERR_INVALID_ARG;
    t = calloc(1, sizeof(*t));
    if (!t)
        return SCN_ERR_NOMEM;
    if (scn__lws_timer_new(loop, fire, t, &t->io)) {
        free(t);
        return SCN_ERR_NOMEM;
    }
    t->loop = loop;
    t->fn = fn;
    t->user = user;
    *out = t;
    return 0;
}

int scn_timer_start(scn_timer *t, uint64_t delay_ms)
{
    if (!t)
        return SCN_ERR_INVALID_ARG;
    if (!t->armed) {
        t->armed = 1;
        t->loop->armed_timers++;
    }
    scn__lws_timer_arm(t->io, delay_ms);
    return 0;
}

void scn_timer_stop(scn_timer *t)
{
    if (!t)
        return;
    scn__lws_timer_cancel(t->io);
    disarm(t);
}

void scn_timer_free(scn_timer *t)
{
    if (!t)
        return;
    scn__lws_timer_cancel(t->io);
    disarm(t);
    if (t->in_callback) {
        t->free_pending = 1;
    } else {
        scn__lws_timer_free(t->io);
        free(t);
    }
}
