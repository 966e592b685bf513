/* Command channel policy; see channel_core.h and docs/PROTOCOL.md. */
#include "channel_core.h"

#include <scentience/error.h>
#include <stdlib.h>
#include <string.h>

#define DEF(v, d) ((v) ? (v) : (d))

int scn__uav_core_init(uav_core *c, const scn_uav_channel_options *o,
                       const uav_core_ops *ops)
{
    memset(c, 0, sizeof(*c));
    c->ops = *ops;
    c->short_ms = DEF(o->short_timeout_ms, 3000u);
    c->long_ms = DEF(o->long_timeout_ms, 20000u);
    c->resync_ms = DEF(o->resync_ms, 1000u);
    c->read_retries = o->read_retries;
    c->activation_retry_ms = DEF(o->activation_retry_ms, 1000u);
    c->require_airborne = o->require_airborne != 0;
    c->airborne = UAV_AIRBORNE_UNKNOWN;
    c->cap = DEF(o->queue_max, 32u);
    c->ring = calloc(c->cap, sizeof(*c->ring));
    return c->ring ? 0 : SCN_ERR_NOMEM;
}

static uav_job *at(uav_core *c, size_t i)
{
    return &c->ring[(c->head + i) % c->cap];
}

static bool pop_front(uav_core *c, uav_job *out)
{
    if (!c->count)
        return false;
    *out = *at(c, 0);
    c->head = (c->head + 1) % c->cap;
    c->count--;
    return true;
}

static void push_front(uav_core *c, const uav_job *job)
{
    c->head = (c->head + c->cap - 1) % c->cap;
    c->ring[c->head] = *job;
    c->count++;
}

/* What a finished takeoff, land or emergency tells of the flight. One
 * that was written and not answered may have been carried out: then the
 * channel no longer knows. */
static void note_flight(uav_core *c, const uav_job *job, int err)
{
    scn_uav_cmd_id id = job->cmd.id;

    if (id != SCN_UAV_TAKEOFF && id != SCN_UAV_LAND && id != SCN_UAV_EMERGENCY)
        return;
    if (err == 0)
        c->airborne =
            id == SCN_UAV_TAKEOFF ? UAV_AIRBORNE_YES : UAV_AIRBORNE_NO;
    else if (job->written && err != SCN_ERR_UAV_REFUSED)
        c->airborne = UAV_AIRBORNE_UNKNOWN;
}

static void finish(uav_core *c, const uav_job *job, int err,
                   const scn_uav_answer *answer, uint64_t now)
{
    note_flight(c, job, err);
    c->ops.complete(job, err, answer, now, c->ops.ctx);
}

/* A command whose link is gone. The link was aborted before this is
 * reported: a line not yet written never will be (not sent); one written
 * may have reached the drone, and only the drone knows. */
static void lose(uav_core *c, const uav_job *job, uint64_t now)
{
    if (job->written) {
        c->stats.unknown_outcome++;
        finish(c, job, SCN_ERR_UAV_OUTCOME_UNKNOWN, NULL, now);
    } else {
        c->stats.link_lost++;
        finish(c, job, SCN_ERR_UAV_LINK_LOST, NULL, now);
    }
}

/* require_airborne: a command that moves or points the drone waits for a
 * takeoff answered ok on this channel. */
static bool grounded(const uav_core *c, const scn_uav_cmd *cmd)
{
    return c->require_airborne && scn_uav_cmd_moves(cmd->id) &&
           c->airborne != UAV_AIRBORNE_YES;
}

/* Fails every queued job with err. Jobs are taken out first so that a
 * completion callback may queue new commands safely. */
static void fail_queue(uav_core *c, int err, uint64_t now)
{
    uav_job job;

    while (pop_front(c, &job))
        finish(c, &job, err, NULL, now);
}

void scn__uav_core_free(uav_core *c)
{
    uav_job job;

    if (c->has_inflight && !c->inflight_internal) {
        job = c->inflight;
        c->has_inflight = false;
        finish(c, &job,
               job.written ? SCN_ERR_UAV_OUTCOME_UNKNOWN : SCN_ERR_STATE, NULL,
               0);
    }
    fail_queue(c, SCN_ERR_STATE, 0);
    free(c->ring);
    c->ring = NULL;
}

static uint32_t timeout_for(const uav_core *c, const scn_uav_cmd *cmd)
{
    return scn_uav_cmd_timeout(cmd->id) == SCN_UAV_TIMEOUT_LONG ? c->long_ms
                                                                : c->short_ms;
}

static void start(uav_core *c, uint64_t now, const uav_job *job, bool internal)
{
    if (!internal && grounded(c, &job->cmd)) {
        /* Airborne when queued, not any more (landed meanwhile). */
        c->stats.not_airborne++;
        finish(c, job, SCN_ERR_UAV_NOT_AIRBORNE, NULL, now);
        return;
    }
    c->inflight = *job;
    c->inflight.attempts++;
    c->inflight.sent_at = now;
    c->inflight.written = false;
    c->inflight.ticket = 0;
    c->has_inflight = true;
    c->inflight_internal = internal;
    c->deadline = now + timeout_for(c, &job->cmd);
    c->stats.sent++;
    if (c->ops.send(job->line, job->len, false, &c->inflight.ticket,
                    c->ops.ctx) != 0) {
        /* The link went away under us; link_down will follow. */
        c->has_inflight = false;
        if (!internal)
            lose(c, &c->inflight, now);
    }
}

static void send_hello(uav_core *c, uint64_t now)
{
    uav_job hello;
    char msg[8];

    memset(&hello, 0, sizeof(hello));
    scn_uav_cmd_simple(&hello.cmd, SCN_UAV_HELLO, msg, sizeof(msg));
    scn_uav_cmd_format(&hello.cmd, hello.line, sizeof(hello.line), &hello.len,
                       msg, sizeof(msg));
    hello.queued_at = now;
    start(c, now, &hello, true);
}

/* Nothing owed any more: the next answer is the next command's. */
static void settle(uav_core *c)
{
    c->strays_expected = 0;
    c->hellos_owed = 0;
}

static bool quiet(const uav_core *c, uint64_t now)
{
    return c->strays_expected == 0 || now >= c->stray_until;
}

/* Starts the next queued command when nothing blocks it. */
static void pump(uav_core *c, uint64_t now)
{
    uav_job job;

    if (c->pumping)
        return;
    c->pumping = true;
    while (c->phase == UAV_READY && !c->has_inflight && quiet(c, now) &&
           pop_front(c, &job)) {
        settle(c);
        start(c, now, &job, false);
    }
    c->pumping = false;
}

int scn__uav_core_submit(uav_core *c, uint64_t now, const scn_uav_cmd *cmd,
                         const char *line, size_t len, scn_uav_reply_fn cb,
                         void *user)
{
    uav_job *job;

    if (grounded(c, cmd)) {
        c->stats.not_airborne++;
        return SCN_ERR_UAV_NOT_AIRBORNE;
    }
    if (c->count == c->cap)
        return SCN_ERR_QUEUE_FULL;
    job = at(c, c->count);
    memset(job, 0, sizeof(*job));
    job->cmd = *cmd;
    memcpy(job->line, line, len);
    job->line[len] = '\0';
    job->len = len;
    job->cb = cb;
    job->user = user;
    job->queued_at = now;
    c->count++;
    pump(c, now);
    return 0;
}

int scn__uav_core_emergency(uav_core *c, uint64_t now, scn_uav_reply_fn cb,
                            void *user)
{
    uav_job em, old;
    char msg[8];
    bool had = c->has_inflight && !c->inflight_internal;

    memset(&em, 0, sizeof(em));
    scn_uav_cmd_simple(&em.cmd, SCN_UAV_EMERGENCY, msg, sizeof(msg));
    scn_uav_cmd_format(&em.cmd, em.line, sizeof(em.line), &em.len, msg,
                       sizeof(msg));
    em.cb = cb;
    em.user = user;
    em.queued_at = now;
    c->stats.emergencies++;
    if (c->phase == UAV_DOWN ||
        c->ops.send(em.line, em.len, true, &em.ticket, c->ops.ctx) != 0)
        return SCN_ERR_UAV_LINK_LOST;
    c->stats.sent++;
    /* Whatever was in flight may still answer; its answer is owed. */
    if (c->has_inflight) {
        old = c->inflight;
        if (c->inflight_internal)
            c->hello_at = now + c->resync_ms; /* activate again later */
        c->strays_expected++;
        c->stray_until = now + c->resync_ms;
        c->has_inflight = false;
        if (had)
            finish(c, &old, SCN_ERR_UAV_SUPERSEDED, NULL, now);
    }
    /* Nothing queued before an emergency stop may fly afterwards. */
    fail_queue(c, SCN_ERR_UAV_SUPERSEDED, now);
    /* The emergency is now the command in flight: the first answer after
     * it was written is taken as its answer (best effort: the protocol has
     * no ids; writing it first is what matters). */
    em.attempts = 1;
    em.sent_at = now;
    c->inflight = em;
    c->has_inflight = true;
    c->inflight_internal = false;
    c->deadline = now + c->short_ms;
    settle(c);
    return 0;
}

void scn__uav_core_link_up(uav_core *c, uint64_t now)
{
    c->phase = UAV_ACTIVATING;
    settle(c);
    send_hello(c, now);
}

void scn__uav_core_link_down(uav_core *c, uint64_t now)
{
    uav_job job;
    bool was_ready = c->phase == UAV_READY;

    c->phase = UAV_DOWN;
    settle(c);
    if (c->has_inflight) {
        job = c->inflight;
        c->has_inflight = false;
        if (!c->inflight_internal)
            lose(c, &job, now);
    }
    /* Queued commands are not kept for the next link: a move asked for
     * before an outage must not fly by surprise after it. */
    c->stats.link_lost += c->count;
    fail_queue(c, SCN_ERR_UAV_LINK_LOST, now);
    if (was_ready)
        c->ops.active(0, c->ops.ctx);
}

void scn__uav_core_written(uav_core *c, uint64_t ticket)
{
    if (ticket && c->has_inflight && c->inflight.ticket == ticket)
        c->inflight.written = true;
}

/* While activating, hello_scentience is all the channel sends: when every
 * answer still owed is a hello's, a late one is the hello's answer and is
 * taken as such. Otherwise a drone whose answers take longer than the
 * short timeout would be sent hello after hello and never be used. */
static bool late_hello(uav_core *c, uint64_t now, const char *text, size_t len)
{
    scn_uav_answer ans;

    if (c->phase != UAV_ACTIVATING || !c->hellos_owed ||
        c->strays_expected != c->hellos_owed)
        return false;
    c->hellos_owed--;
    c->strays_expected--;
    c->stats.late_answers++;
    scn_uav_answer_parse(SCN_UAV_HELLO, text, len, &ans);
    if (scn_uav_answer_err(&ans) != 0)
        return true; /* refused: the retry already scheduled stands */
    c->phase = UAV_READY;
    c->hello_at = 0;
    c->stats.activations++;
    c->ops.active(1, c->ops.ctx);
    pump(c, now);
    return true;
}

void scn__uav_core_answer(uav_core *c, uint64_t now, const char *text,
                          size_t len)
{
    scn_uav_answer ans;
    uav_job job;
    int rc;

    if (!c->has_inflight && late_hello(c, now, text, len))
        return;
    if (!c->has_inflight) {
        /* Owed by a command we gave up on, or unsolicited: never given to
         * the next command. */
        c->stats.late_answers++;
        if (c->strays_expected)
            c->strays_expected--;
        if (c->hellos_owed > c->strays_expected)
            c->hellos_owed = c->strays_expected;
        pump(c, now);
        return;
    }
    job = c->inflight;
    job.written = true; /* answered: it got there */
    c->has_inflight = false;
    c->stats.answered++;
    scn_uav_answer_parse(job.cmd.id, text, len, &ans);
    rc = scn_uav_answer_err(&ans);
    if (rc == SCN_ERR_UAV_REFUSED)
        c->stats.refused++;
    else if (rc == SCN_ERR_MALFORMED)
        c->stats.malformed++;
    if (c->inflight_internal) {
        if (rc == 0) {
            c->phase = UAV_READY;
            c->stats.activations++;
            c->ops.active(1, c->ops.ctx);
        } else {
            c->hello_at = now + c->activation_retry_ms;
        }
    } else {
        finish(c, &job, rc, &ans, now);
    }
    pump(c, now);
}

static void on_timeout(uav_core *c, uint64_t now)
{
    uav_job job = c->inflight;
    bool retry;

    c->has_inflight = false;
    c->stats.timeouts++;
    /* Its answer may still come: wait for it or for a quiet period before
     * anything else is sent. */
    c->strays_expected++;
    c->stray_until = now + c->resync_ms;
    if (c->inflight_internal) {
        c->hellos_owed++;
        c->hello_at = c->stray_until;
        return;
    }
    retry = scn_uav_cmd_kind(job.cmd.id) == SCN_UAV_KIND_READ &&
            job.attempts <= c->read_retries;
    if (retry && c->count < c->cap) {
        c->stats.retries++;
        push_front(c, &job);
        return;
    }
    finish(c, &job, SCN_ERR_TIMEOUT, NULL, now);
}

uint64_t scn__uav_core_tick(uav_core *c, uint64_t now)
{
    uint64_t next = UINT64_MAX;

    if (c->has_inflight && now >= c->deadline)
        on_timeout(c, now);
    if (c->phase == UAV_ACTIVATING && !c->has_inflight && c->hello_at &&
        now >= c->hello_at && quiet(c, now)) {
        c->hello_at = 0;
        send_hello(c, now);
    }
    pump(c, now);
    if (c->has_inflight)
        next = c->deadline;
    if (c->strays_expected && c->stray_until > now && c->stray_until < next)
        next = c->stray_until;
    if (c->phase == UAV_ACTIVATING && !c->has_inflight && c->hello_at &&
        c->hello_at < next)
        next = c->hello_at > now ? c->hello_at : now;
    return next;
}
