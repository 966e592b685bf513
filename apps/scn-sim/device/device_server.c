/*
 * The device mode's server-wide parts on the common skeleton
 * (common/simserver.c): what the handshake lets in, the connect and
 * listening events, key rechecks, stalls and drops of every connection.
 * The handshake checks are in device_handshake.c, one connection's life
 * in device_session.c.
 */
#include "device.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "common/keycheck.h"
#include "common/simclock.h"
#include "common/simlog.h"

static_assert(sizeof(dev_admission) <= SIM_ADMISSION_MAX,
              "dev_admission fits the skeleton's room");

static dev_srv *dev_of(sim_server *s)
{
    return (dev_srv *)s;
}

static void admit(sim_server *s, struct lws *wsi, sim_admission *r)
{
    dev_admit(dev_of(s), wsi, (dev_admission *)r);
}

static void refused(const sim_admission *r, cJSON *ev)
{
    const dev_admission *d = (const dev_admission *)r;

    if (d->uid[0])
        cJSON_AddStringToObject(ev, "uid", d->uid);
}

/* Closes whatever sessions their key no longer allows. */
static void recheck(sim_server *s)
{
    time_t now = time(NULL);
    const char *reason;
    int code;

    SIM_FOR_EACH (dev_conn, c, s)
        if (!c->h.closing && !c->h.dropped &&
            (code = sim_keys_close_code(c->key, c->peer, now, &reason)))
            dev_conn_close(c, code, reason);
}

static void stall_end_cb(lws_sorted_usec_list_t *sul)
{
    dev_srv *d = lws_container_of(sul, dev_srv, base.sul_stall_end);
    int64_t now = sim_mono_us(), next = INT64_MAX;

    SIM_FOR_EACH (dev_conn, c, &d->base) {
        if (!c->stalled)
            continue;
        if (c->stall_until_us <= now + 1000) {
            cJSON *ev = simlog_event("fault_end");

            cJSON_AddStringToObject(ev, "kind", "stall");
            cJSON_AddNumberToObject(ev, "conn", (double)c->h.id);
            simlog_emit(ev);
            dev_conn_unstall(c);
        } else if (c->stall_until_us < next) {
            next = c->stall_until_us;
        }
    }
    if (next != INT64_MAX)
        lws_sul_schedule(d->base.ctx, 0, &d->base.sul_stall_end, stall_end_cb,
                         next - now);
}

static void stall(sim_server *s, const char *source)
{
    dev_srv *d = dev_of(s);
    double stall_s = d->o->faults.stall_for_s;
    int64_t now = sim_mono_us();
    int64_t until = now + (int64_t)(stall_s * 1e6);
    cJSON *ev = sim_fault_event("stall", source);
    cJSON *ids = cJSON_AddArrayToObject(ev, "conns");

    cJSON_AddNumberToObject(ev, "for_s", stall_s);
    SIM_FOR_EACH (dev_conn, c, s) {
        if (c->h.closing || c->h.dropped)
            continue;
        dev_conn_stall(c, until);
        cJSON_AddItemToArray(ids, cJSON_CreateNumber((double)c->h.id));
    }
    if (cJSON_GetArraySize(ids))
        simlog_info("stall (%s) for %.3g s: %d connection(s)", source, stall_s,
                    cJSON_GetArraySize(ids));
    simlog_emit(ev);
    lws_sul_schedule(s->ctx, 0, &d->base.sul_stall_end, stall_end_cb,
                     until - now);
}

static void drop(sim_server *s, const char *source, int all)
{
    cJSON *ev = sim_fault_event("drop", source);
    cJSON *ids = cJSON_AddArrayToObject(ev, "conns");

    (void)all; /* a device has no links of its own */
    SIM_FOR_EACH (dev_conn, c, s) {
        if (c->h.dropped)
            continue;
        dev_conn_drop(c);
        cJSON_AddItemToArray(ids, cJSON_CreateNumber((double)c->h.id));
    }
    if (cJSON_GetArraySize(ids))
        simlog_info("drop (%s): %d connection(s)", source,
                    cJSON_GetArraySize(ids));
    simlog_emit(ev);
}

static void listening(sim_server *s, cJSON *ev)
{
    const device_opts *o = dev_of(s)->o;
    cJSON *devs = cJSON_AddArrayToObject(ev, "devices");
    int i;

    for (i = 0; i < o->n_uids; i++)
        cJSON_AddItemToArray(devs, cJSON_CreateString(o->uids[i]));
    cJSON_AddNumberToObject(ev, "rate_hz", o->rate_hz);
    cJSON_AddBoolToObject(ev, "tls", o->base.tls_cert != NULL);
    cJSON_AddBoolToObject(ev, "client_certs", o->base.tls_client_ca != NULL);
}

static void log_exit(sim_server *s, cJSON *ev)
{
    cJSON_AddNumberToObject(ev, "frames_sent", (double)dev_of(s)->total_sent);
    cJSON_AddNumberToObject(ev, "frames_skipped",
                            (double)dev_of(s)->total_skipped);
}

static const sim_mode_ops device_ops = {
    .name = "device",
    .protocol = DEV_PROTOCOL,
    .tx_cap = DEV_TX_CAP,
    .admit = admit,
    .refused = refused,
    .conn = &dev_conn_ops,
    .listening = listening,
    .recheck = recheck,
    .stall = stall,
    .drop = drop,
    .exit = log_exit,
};

int device_run(const device_opts *o)
{
    dev_srv d = {.o = o};

    return sim_server_run(&d.base, &device_ops, &o->base);
}
