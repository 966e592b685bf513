/*
 * The drone's side of UAV-Sockets on the common server skeleton
 * (common/simserver.c): the handshake checks (Bearer key, refusals as HTTP
 * statuses, as in device mode), the simulation clock, the drone's hooks,
 * and what stalls and drops do. One connection's life is in uav_conn.c,
 * the drone in uav_drone.c, its links to the app in uav_links.c.
 */
#include "uav_sim.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "common/keycheck.h"
#include "common/simclock.h"
#include "common/simhttp.h"
#include "common/simlog.h"

static uav_srv *uav_of(sim_server *s)
{
    return (uav_srv *)s;
}

double uav_sim_time(const uav_srv *s)
{
    return (double)(sim_mono_us() - s->base.t0_us) / 1e6 * s->o->time_scale;
}

uav_conn *uav_find_conn(uav_srv *s, unsigned long id)
{
    SIM_FOR_EACH (uav_conn, c, &s->base)
        if (c->h.id == id)
            return c;
    return NULL;
}

/* ---- handshake ------------------------------------------------------ */

/* Subprotocol (400 unless none or ours is offered), then the key (401,
 * 403, 429), as device mode does without the device selection. */
static void admit(sim_server *s, struct lws *wsi, sim_admission *r)
{
    char proto[256];
    int n;

    sim_admission_init(r, sizeof(*r), wsi);
    n = lws_hdr_total_length(wsi, WSI_TOKEN_PROTOCOL);
    if (n > 0 &&
        ((size_t)n >= sizeof(proto) ||
         lws_hdr_copy(wsi, proto, sizeof(proto), WSI_TOKEN_PROTOCOL) < 0 ||
         !sim_offers_protocol(proto, UAV_PROTOCOL))) {
        /* lws would hang up without a word: answer instead. */
        r->status = 400;
        r->reason = "no supported subprotocol";
        return;
    }
    if (sim_admit_key(s, wsi, r) == KS_QUOTA) {
        r->status = 429;
        r->reason = "quota exhausted";
    }
}

/* ---- the drone's hooks ---------------------------------------------- */

static void hook_answer(void *ctx, unsigned long conn, scn_uav_cmd_id id,
                        const char *text)
{
    uav_srv *s = ctx;
    uav_conn *c = uav_find_conn(s, conn);
    cJSON *ev;

    if (c && !c->h.closing && !c->h.dropped) {
        uav_conn_answer(c, (int)id, text);
        return;
    }
    if (c && c->inflight)
        c->inflight--;
    ev = simlog_event("answer");
    cJSON_AddNumberToObject(ev, "conn", (double)conn);
    cJSON_AddStringToObject(ev, "cmd", scn_uav_cmd_name(id));
    cJSON_AddStringToObject(ev, "answer", text);
    cJSON_AddBoolToObject(ev, "delivered", 0);
    simlog_emit(ev);
}

static void hook_interrupted(void *ctx, unsigned long conn, scn_uav_cmd_id id,
                             const char *by)
{
    uav_srv *s = ctx;
    uav_conn *c = uav_find_conn(s, conn);
    cJSON *ev = simlog_event("interrupted");

    cJSON_AddNumberToObject(ev, "conn", (double)conn);
    cJSON_AddStringToObject(ev, "cmd", scn_uav_cmd_name(id));
    cJSON_AddStringToObject(ev, "by", by);
    simlog_emit(ev);
    if (c && c->inflight) {
        c->inflight--;
        uav_conn_update_rx(c);
    }
}

static void hook_activated(void *ctx, unsigned long conn)
{
    uav_srv *s = ctx;
    uav_conn *c = uav_find_conn(s, conn);
    cJSON *ev = simlog_event("activated");

    /* State and video go to whoever entered SDK mode last, unless the
     * command line names the app. */
    snprintf(s->app_host, sizeof(s->app_host), "%s",
             s->o->state_host ? s->o->state_host
             : c              ? c->peer
                              : "127.0.0.1");
    cJSON_AddNumberToObject(ev, "conn", (double)conn);
    cJSON_AddStringToObject(ev, "app_host", s->app_host);
    simlog_emit(ev);
    uav_link_want(&s->state, 1, s->app_host, s->o->state_port);
    if (s->drone.streaming)
        uav_link_want(&s->video, 1, s->app_host, s->o->video_port);
}

static void hook_stream(void *ctx, int on)
{
    uav_srv *s = ctx;
    cJSON *ev = simlog_event("stream");

    cJSON_AddBoolToObject(ev, "on", on);
    simlog_emit(ev);
    uav_link_want(&s->video, on, s->app_host, s->o->video_port);
}

/* ---- faults, keys, stop -------------------------------------------- */

static void stall(sim_server *s, const char *source)
{
    uav_srv *u = uav_of(s);
    int64_t until = sim_mono_us() + (int64_t)(u->o->stall_for_s * 1e6);
    cJSON *ev = sim_fault_event("stall", source);

    cJSON_AddNumberToObject(ev, "for_s", u->o->stall_for_s);
    simlog_emit(ev);
    simlog_info("stall (%s) for %.3g s", source, u->o->stall_for_s);
    u->stalled = 1;
    if (until > u->stall_until_us)
        u->stall_until_us = until;
    SIM_FOR_EACH (uav_conn, c, s)
        uav_conn_update_rx(c);
}

static void stall_end(uav_srv *u, int64_t now)
{
    cJSON *ev = simlog_event("fault_end");

    cJSON_AddStringToObject(ev, "kind", "stall");
    simlog_emit(ev);
    u->stalled = 0;
    u->stall_until_us = 0;
    SIM_FOR_EACH (uav_conn, c, &u->base) {
        uav_conn_update_rx(c);
        uav_conn_poll(c, now);
    }
}

/* Drops the command connections; a signal drops the links to the app with
 * them. */
static void drop(sim_server *s, const char *source, int links)
{
    uav_srv *u = uav_of(s);
    cJSON *ev = sim_fault_event("drop", source);
    cJSON *ids = cJSON_AddArrayToObject(ev, "conns");

    SIM_FOR_EACH (uav_conn, c, s) {
        if (c->h.dropped)
            continue;
        uav_conn_drop(c);
        cJSON_AddItemToArray(ids, cJSON_CreateNumber((double)c->h.id));
    }
    if (links) {
        cJSON_AddBoolToObject(ev, "state", u->state.live);
        cJSON_AddBoolToObject(ev, "video", u->video.live);
        uav_link_drop(&u->state);
        uav_link_drop(&u->video);
    }
    simlog_emit(ev);
    simlog_info("drop (%s)", source);
}

/* Closes the sessions whose key no longer allows them. */
static void recheck(sim_server *s)
{
    time_t now = time(NULL);
    const char *reason;
    int code;

    SIM_FOR_EACH (uav_conn, c, s)
        if (!c->h.closing && !c->h.dropped &&
            (code = sim_keys_close_code(c->key, c->peer, now, &reason)))
            uav_conn_close(c, code, reason);
}

static void stop(sim_server *s)
{
    uav_srv *u = uav_of(s);

    if (u->stalled)
        stall_end(u, sim_mono_us()); /* close frames must get out */
    uav_links_stop(u);
}

static int busy(const sim_server *s)
{
    return uav_links_busy((const uav_srv *)s);
}

/* The simulation clock: the drone moves, answers fall due, state and
 * video messages fall due. */
static void tick_cb(lws_sorted_usec_list_t *sul)
{
    uav_srv *u = lws_container_of(sul, uav_srv, sul_tick);
    int64_t now;

    uav_drone_advance(&u->drone, uav_sim_time(u));
    now = sim_mono_us();
    if (u->stalled && now >= u->stall_until_us)
        stall_end(u, now);
    SIM_FOR_EACH (uav_conn, c, &u->base)
        uav_conn_poll(c, now);
    uav_link_poll(&u->state, now);
    uav_link_poll(&u->video, now);
    lws_sul_schedule(u->base.ctx, 0, &u->sul_tick, tick_cb, UAV_TICK_US);
}

/* ---- start and stop ------------------------------------------------- */

/* The drone, and the links to the app: clients, on a vhost of their own
 * so that no incoming connection can bind to their protocols. */
static int start(sim_server *s, int family)
{
    uav_srv *u = uav_of(s);
    const uav_opts *o = u->o;
    uav_hooks hooks = {hook_answer, hook_interrupted, hook_activated,
                       hook_stream, u};
    struct lws_context_creation_info info;

    uav_drone_init(&u->drone, &s->pl, o->base.seed, o->battery0,
                   o->battery_drain_s, &hooks);
    uav_links_init(u);
    memset(&info, 0, sizeof(info));
    info.options =
        LWS_SERVER_OPTION_EXPLICIT_VHOSTS | LWS_SERVER_OPTION_VALIDATE_UTF8;
    if (family == AF_INET)
        info.options |= LWS_SERVER_OPTION_DISABLE_IPV6;
    info.user = u;
    info.max_http_header_data = 4096;
    info.vhost_name = "scn-sim-uav-links";
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = uav_link_protocols;
    u->vh_links = lws_create_vhost(s->ctx, &info);
    if (!u->vh_links) {
        simlog_error("cannot create the client vhost");
        return CLI_EX_SOFTWARE;
    }
    lws_sul_schedule(s->ctx, 0, &u->sul_tick, tick_cb, UAV_TICK_US);
    return CLI_EX_OK;
}

static void listening(sim_server *s, cJSON *ev)
{
    const uav_opts *o = uav_of(s)->o;

    cJSON_AddNumberToObject(ev, "time_scale", o->time_scale);
    if (o->state_host)
        cJSON_AddStringToObject(ev, "state_host", o->state_host);
    else
        cJSON_AddNullToObject(ev, "state_host");
    cJSON_AddNumberToObject(ev, "state_port", o->state_port);
    cJSON_AddNumberToObject(ev, "video_port", o->video_port);
    cJSON_AddNumberToObject(ev, "state_rate_hz", o->state_rate_hz);
    cJSON_AddNumberToObject(ev, "video_fps", o->video_fps);
}

static void log_exit(sim_server *s, cJSON *ev)
{
    cJSON_AddNumberToObject(ev, "commands", (double)uav_of(s)->total_commands);
}

static void cancel(sim_server *s)
{
    uav_srv *u = uav_of(s);

    lws_sul_cancel(&u->sul_tick);
    lws_sul_cancel(&u->state.sul_retry);
    lws_sul_cancel(&u->video.sul_retry);
}

static const sim_mode_ops uav_ops = {
    .name = "uav",
    .protocol = UAV_PROTOCOL,
    .tx_cap = UAV_TX_CAP,
    .admit = admit,
    .conn = &uav_conn_ops,
    .start = start,
    .listening = listening,
    .recheck = recheck,
    .stall = stall,
    .drop = drop,
    .stop = stop,
    .busy = busy,
    .exit = log_exit,
    .cancel = cancel,
};

int uav_run(const uav_opts *o)
{
    static uav_srv u; /* big (the drone's queue); one per process */

    memset(&u, 0, sizeof(u));
    u.o = o;
    return sim_server_run(&u.base, &uav_ops, &o->base);
}
