/*
 * The UAV command channel: glue between a raw-text session, a loop timer
 * and the channel policy in channel_core.c.
 */
#include <scentience/error.h>
#include <scentience/timer.h>
#include <scentience/uav_channel.h>
#include <stdlib.h>
#include <string.h>

#include "channel_core.h"

/* The dialect has its own name; servers that only know the device
 * protocol name may pick that one (the port says which dialect it is). */
#define UAV_SUBPROTOCOL "scentience.uav.v1, scentience.v1"

struct scn_uav_channel {
    scn_loop *loop;
    scn_session *session;
    scn_timer *timer;
    uav_core core;
    scn_uav_channel_options opts;
    bool link_up;
    bool active;
    bool failed;
};

static uint64_t now_ms(scn_uav_channel *ch)
{
    return scn_loop_now_ms(ch->loop);
}

/* After every event, the timer follows the policy's next deadline. */
static void rearm(scn_uav_channel *ch)
{
    uint64_t now = now_ms(ch);
    uint64_t next = scn__uav_core_tick(&ch->core, now);

    if (next == UINT64_MAX)
        scn_timer_stop(ch->timer);
    else
        scn_timer_start(ch->timer, next > now ? next - now : 0);
}

static void on_timer(scn_timer *t, void *user)
{
    (void)t;
    rearm(user);
}

static int core_send(const char *line, size_t len, bool urgent,
                     uint64_t *ticket, void *ctx)
{
    scn_uav_channel *ch = ctx;

    if (!ch->link_up)
        return SCN_ERR_UAV_LINK_LOST;
    return scn_session_send_tracked(ch->session, urgent, line, len, ticket);
}

static void core_complete(const uav_job *job, int err,
                          const scn_uav_answer *answer, uint64_t now, void *ctx)
{
    scn_uav_channel *ch = ctx;
    char shown[SCN_UAV_LINE_MAX + 1], msg[8];
    scn_uav_reply r;

    if (job->cmd.id == SCN_UAV_EMERGENCY && err && ch->opts.on_error)
        ch->opts.on_error(ch, err,
                          job->written ? "EMERGENCY NOT CONFIRMED: written, "
                                         "no answer"
                                       : "EMERGENCY NOT SENT",
                          ch->opts.user);
    if (!job->cb)
        return;
    if (scn_uav_cmd_format_redacted(&job->cmd, shown, sizeof(shown), NULL, msg,
                                    sizeof(msg)) != 0)
        shown[0] = '\0';
    memset(&r, 0, sizeof(r));
    r.err = err;
    r.line = shown;
    r.answer = answer;
    r.attempts = job->attempts;
    r.elapsed_ms = now > job->queued_at ? (uint32_t)(now - job->queued_at) : 0;
    job->cb(ch, &r, job->user);
}

static void core_active(int active, void *ctx)
{
    scn_uav_channel *ch = ctx;

    ch->active = active;
    if (ch->opts.on_active)
        ch->opts.on_active(ch, active, ch->opts.user);
}

static void on_state(scn_session *s, const scn_state_event *ev, void *user)
{
    scn_uav_channel *ch = user;
    uint64_t now = now_ms(ch);

    (void)s;
    if (ev->state == SCN_STATE_OPEN) {
        ch->link_up = true;
        scn__uav_core_link_up(&ch->core, now);
    } else if (ch->link_up) {
        ch->link_up = false;
        scn__uav_core_link_down(&ch->core, now);
    }
    if (ev->state == SCN_STATE_FAILED)
        ch->failed = true;
    if (ch->opts.on_state)
        ch->opts.on_state(ch, ev, ch->opts.user);
    rearm(ch);
}

static void on_written(scn_session *s, uint64_t ticket, void *user)
{
    scn_uav_channel *ch = user;

    (void)s;
    scn__uav_core_written(&ch->core, ticket);
}

static void on_text(scn_session *s, const char *data, size_t len, void *user)
{
    scn_uav_channel *ch = user;

    (void)s;
    scn__uav_core_answer(&ch->core, now_ms(ch), data, len);
    rearm(ch);
}

/* The first version's last field: the smallest struct_size accepted. */
#define CHANNEL_OPTIONS_V0 SCN_OPTIONS_END(scn_uav_channel_options, user)

static void channel_defaults(scn_uav_channel_options *o)
{
    memset(o, 0, sizeof(*o));
    o->short_timeout_ms = 3000;
    o->long_timeout_ms = 20000;
    o->resync_ms = 1000;
    o->read_retries = 1;
    o->activation_retry_ms = 1000;
    o->queue_max = 32;
    /* A drone link answers pings at once; 5 s of silence is an outage.
     * Giving up sooner bounds how late a command written into the outage
     * may still arrive (the aborted link drops it). */
    o->ping_interval_ms = 1000;
    o->idle_timeout_ms = 5000;
}

void scn_uav_channel_options_init_sized(scn_uav_channel_options *o, size_t size)
{
    scn_uav_channel_options d;

    channel_defaults(&d);
    scn_options_give(o, size, &d, sizeof(d));
}

int scn_uav_channel_new(scn_loop *loop, const scn_uav_channel_options *opts,
                        scn_uav_channel **out)
{
    scn_uav_channel_options own;
    scn_uav_channel *ch;
    scn_session_options so;
    uav_core_ops ops;
    int rc;

    if (!loop || !opts || !out)
        return SCN_ERR_INVALID_ARG;
    *out = NULL;
    channel_defaults(&own);
    if ((rc = scn_options_take(&own, sizeof(own), CHANNEL_OPTIONS_V0, opts)))
        return rc;
    opts = &own;
    if (!opts->session)
        return SCN_ERR_INVALID_ARG;
    if ((rc = scn_session_options_copy(&so, opts->session)))
        return rc;
    ch = calloc(1, sizeof(*ch));
    if (!ch)
        return SCN_ERR_NOMEM;
    ch->loop = loop;
    ch->opts = *opts;
    ch->opts.session = NULL; /* the caller's; not kept */
    ops.send = core_send;
    ops.complete = core_complete;
    ops.active = core_active;
    ops.ctx = ch;
    if ((rc = scn__uav_core_init(&ch->core, opts, &ops)) != 0 ||
        (rc = scn_timer_new(loop, on_timer, ch, &ch->timer)) != 0)
        goto fail;
    memset(&so.callbacks, 0, sizeof(so.callbacks));
    so.callbacks.on_state = on_state;
    so.callbacks.on_text = on_text;
    so.callbacks.on_written = on_written;
    so.raw_text = 1;
    /* A command not written before its link died is reported not sent:
     * it must never go out on the next link. */
    so.discard_unsent_on_link_loss = 1;
    so.stream_rate_hz = 0;
    so.ping_interval_ms = opts->ping_interval_ms;
    so.idle_timeout_ms = opts->idle_timeout_ms;
    if (!so.subprotocol)
        so.subprotocol = UAV_SUBPROTOCOL;
    so.user = ch;
    if ((rc = scn_session_new(loop, &so, &ch->session)) != 0)
        goto fail;
    *out = ch;
    return 0;
fail:
    scn_timer_free(ch->timer);
    scn__uav_core_free(&ch->core);
    free(ch);
    return rc;
}

void scn_uav_channel_free(scn_uav_channel *ch)
{
    if (!ch)
        return;
    scn_session_free(ch->session);
    scn_timer_free(ch->timer);
    scn__uav_core_free(&ch->core);
    free(ch);
}

static int submit(scn_uav_channel *ch, const scn_uav_cmd *cmd,
                  scn_uav_reply_fn cb, void *user, char *why, size_t why_cap)
{
    char line[SCN_UAV_LINE_MAX + 1];
    size_t len;
    int rc;

    rc = scn_uav_cmd_format(cmd, line, sizeof(line), &len, why, why_cap);
    if (rc) {
        ch->core.stats.rejected++;
        return rc;
    }
    if (ch->failed)
        return SCN_ERR_STATE;
    if (cmd->id == SCN_UAV_EMERGENCY)
        return scn_uav_channel_emergency(ch, cb, user);
    rc = scn__uav_core_submit(&ch->core, now_ms(ch), cmd, line, len, cb, user);
    rearm(ch);
    return rc;
}

int scn_uav_channel_send(scn_uav_channel *ch, const scn_uav_cmd *cmd,
                         scn_uav_reply_fn cb, void *user, char *why,
                         size_t why_cap)
{
    if (!ch || !cmd)
        return SCN_ERR_INVALID_ARG;
    return submit(ch, cmd, cb, user, why, why_cap);
}

int scn_uav_channel_send_text(scn_uav_channel *ch, const char *line,
                              scn_uav_reply_fn cb, void *user, char *why,
                              size_t why_cap)
{
    scn_uav_cmd cmd;
    int rc;

    if (!ch || !line)
        return SCN_ERR_INVALID_ARG;
    rc = scn_uav_cmd_parse(line, strlen(line), &cmd, why, why_cap);
    if (rc) {
        ch->core.stats.rejected++;
        return rc;
    }
    return submit(ch, &cmd, cb, user, why, why_cap);
}

int scn_uav_channel_emergency(scn_uav_channel *ch, scn_uav_reply_fn cb,
                              void *user)
{
    int rc;

    if (!ch)
        return SCN_ERR_INVALID_ARG;
    rc = scn__uav_core_emergency(&ch->core, now_ms(ch), cb, user);
    if (rc && ch->opts.on_error)
        ch->opts.on_error(ch, rc, "EMERGENCY NOT SENT: no link to the drone",
                          ch->opts.user);
    rearm(ch);
    return rc;
}

int scn_uav_channel_active(const scn_uav_channel *ch)
{
    return ch && ch->active;
}

int scn_uav_channel_airborne(const scn_uav_channel *ch)
{
    return ch ? (int)ch->core.airborne : UAV_AIRBORNE_UNKNOWN;
}

void scn_uav_channel_assume_airborne(scn_uav_channel *ch, int airborne)
{
    if (ch)
        ch->core.airborne = airborne > 0    ? UAV_AIRBORNE_YES
                            : airborne == 0 ? UAV_AIRBORNE_NO
                                            : UAV_AIRBORNE_UNKNOWN;
}

void scn_uav_channel_get_stats(const scn_uav_channel *ch,
                               scn_uav_channel_stats *out)
{
    if (ch && out)
        *out = ch->core.stats;
}

scn_session *scn_uav_channel_session(scn_uav_channel *ch)
{
    return ch ? ch->session : NULL;
}
