/*
 * The drone's side of UAV-Sockets: the lws context, the command server
 * (handshake checks as in device mode: Bearer key, refusals as HTTP
 * statuses), the simulation clock, signals and the fault timers. One
 * connection's life is in uav_conn.c, the drone in uav_drone.c, its links
 * to the app in uav_links.c.
 */
#include "uav_sim.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "device/device.h" /* dev_http_refuse: refusals look the same */
#include "common/keycheck.h"
#include "common/simlog.h"
#include "common/simnet.h"
#include "common/simsig.h"

#define HOUSEKEEPING_US (1000 * 1000)
#define STOP_GRACE_US   (1500 * 1000)

int64_t uav_mono_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

double uav_sim_time(const uav_srv *s)
{
    return (double)(uav_mono_us() - s->t0_us) / 1e6 * s->o->time_scale;
}

uav_conn *uav_find_conn(uav_srv *s, unsigned long id)
{
    uav_conn *c;

    for (c = s->conns; c; c = c->next)
        if (c->id == id)
            return c;
    return NULL;
}

/* ---- handshake ------------------------------------------------------ */

typedef struct uav_admission {
    int status; /* 0: accepted */
    const char *reason;
    const char *auth_desc;
    unsigned retry_after;
    ks_key *key;
    char peer[UAV_PEER_MAX];
} uav_admission;

/* Whether a Sec-WebSocket-Protocol list offers ours. */
static int offers_uav(const char *list)
{
    const char *p = list;

    while (*p) {
        const char *e;

        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        e = p;
        while (*e && *e != ',' && *e != ' ' && *e != '\t')
            e++;
        if ((size_t)(e - p) == strlen(UAV_PROTOCOL) &&
            !strncmp(p, UAV_PROTOCOL, (size_t)(e - p)))
            return 1;
        p = e;
    }
    return 0;
}

static ks_verdict check_key(uav_srv *s, struct lws *wsi, uav_admission *r)
{
    char auth[KS_KEY_MAX + 64];
    const char *key;
    size_t klen;
    ks_verdict v = KS_INVALID;
    int n = lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_AUTHORIZATION);

    r->reason = "missing or malformed Authorization";
    if (n <= 0 || (size_t)n >= sizeof(auth))
        return KS_INVALID;
    n = lws_hdr_copy(wsi, auth, sizeof(auth), WSI_TOKEN_HTTP_AUTHORIZATION);
    if (n >= 0 && !ks_bearer(auth, &key, &klen)) {
        v = ks_admit(s->ks, key, klen, r->peer, time(NULL),
                     (double)uav_mono_us() / 1e6, &r->key, &r->retry_after);
        r->reason = NULL;
    }
    explicit_bzero(auth, sizeof(auth));
    return v;
}

/* Subprotocol (400 unless none or ours is offered), then the key (401,
 * 403, 429), as device mode does without the device selection. */
static void admit(uav_srv *s, struct lws *wsi, uav_admission *r)
{
    char proto[256];
    int n;

    memset(r, 0, sizeof(*r));
    if (!lws_get_peer_simple(wsi, r->peer, sizeof(r->peer)))
        snprintf(r->peer, sizeof(r->peer), "?");
    n = lws_hdr_total_length(wsi, WSI_TOKEN_PROTOCOL);
    if (n > 0 &&
        ((size_t)n >= sizeof(proto) ||
         lws_hdr_copy(wsi, proto, sizeof(proto), WSI_TOKEN_PROTOCOL) < 0 ||
         !offers_uav(proto))) {
        /* lws would hang up without a word: answer instead. */
        r->status = 400;
        r->reason = "no supported subprotocol";
        return;
    }
    switch (check_key(s, wsi, r)) {
    case KS_OK:
        return;
    case KS_EXPIRED:
        r->status = 401;
        r->auth_desc = "expired";
        r->reason = "key expired";
        return;
    case KS_REVOKED:
        r->status = 401;
        r->auth_desc = "revoked";
        r->reason = "key revoked";
        return;
    case KS_ADDRESS:
        r->status = 403;
        r->reason = "address not allowed";
        return;
    case KS_QUOTA:
        r->status = 429;
        r->reason = "quota exhausted";
        return;
    default:
        r->status = 401;
        r->auth_desc = "invalid";
        if (!r->reason)
            r->reason = "key invalid";
        return;
    }
}

static void log_refused(uav_srv *s, const uav_admission *r)
{
    cJSON *ev = simlog_event("refused");

    s->total_refused++;
    cJSON_AddNumberToObject(ev, "status", r->status);
    cJSON_AddStringToObject(ev, "reason", r->reason);
    cJSON_AddStringToObject(ev, "peer", r->peer);
    if (r->key)
        cJSON_AddStringToObject(ev, "key", ks_key_name(r->key));
    else
        cJSON_AddNullToObject(ev, "key");
    if (r->status == 429)
        cJSON_AddNumberToObject(ev, "retry_after", r->retry_after);
    simlog_emit(ev);
    simlog_info("refused %s: %d %s", r->peer, r->status, r->reason);
}

/* The client's port: with its address, it names the client's socket, so a
 * test can tell which of its connections the drone saw. */
static int peer_port(struct lws *wsi)
{
    struct sockaddr_storage sa;
    socklen_t len = sizeof(sa);
    int fd = (int)lws_get_socket_fd(wsi);

    if (fd < 0 || getpeername(fd, (struct sockaddr *)&sa, &len) != 0)
        return 0;
    if (sa.ss_family == AF_INET)
        return ntohs(((struct sockaddr_in *)&sa)->sin_port);
    if (sa.ss_family == AF_INET6)
        return ntohs(((struct sockaddr_in6 *)&sa)->sin6_port);
    return 0;
}

static void established(uav_srv *s, uav_conn *c, struct lws *wsi)
{
    uav_admission r;
    cJSON *ev;

    /* The checks ran at CONFIRM_UPGRADE; lws gives the session its own
     * memory only now, so they run again to fill it. */
    admit(s, wsi, &r);
    uav_conn_open(c, s, wsi, r.key, r.peer);
    ev = simlog_event("connect");
    cJSON_AddNumberToObject(ev, "conn", (double)c->id);
    cJSON_AddStringToObject(ev, "peer", c->peer);
    cJSON_AddNumberToObject(ev, "peer_port", peer_port(wsi));
    cJSON_AddStringToObject(ev, "key", ks_key_name(c->key));
    simlog_emit(ev);
    simlog_info("conn %lu from %s: key %s", c->id, c->peer,
                ks_key_name(c->key));
    if (s->stopping)
        uav_conn_close(c, 1001, "going away");
    else if (r.status == 429)
        uav_conn_close(c, 4029, "quota exhausted");
    else if (r.status == 403)
        uav_conn_close(c, 4003, "address not allowed");
    else if (r.status == 401 && !strcmp(r.auth_desc, "expired"))
        uav_conn_close(c, 4002, "key expired");
    else if (r.status)
        uav_conn_close(c, 4001, "key revoked");
}

/* ---- the drone's hooks ---------------------------------------------- */

static void hook_answer(void *ctx, unsigned long conn, scn_uav_cmd_id id,
                        const char *text)
{
    uav_srv *s = ctx;
    uav_conn *c = uav_find_conn(s, conn);
    cJSON *ev;

    if (c && !c->closing && !c->dropped) {
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

/* ---- faults, signals, timers ---------------------------------------- */

static cJSON *fault_event(const char *kind, const char *source)
{
    cJSON *ev = simlog_event("fault");

    cJSON_AddStringToObject(ev, "kind", kind);
    cJSON_AddStringToObject(ev, "source", source);
    return ev;
}

static void stall_all(uav_srv *s, const char *source)
{
    int64_t until = uav_mono_us() + (int64_t)(s->o->stall_for_s * 1e6);
    cJSON *ev = fault_event("stall", source);
    uav_conn *c;

    cJSON_AddNumberToObject(ev, "for_s", s->o->stall_for_s);
    simlog_emit(ev);
    simlog_info("stall (%s) for %.3g s", source, s->o->stall_for_s);
    s->stalled = 1;
    if (until > s->stall_until_us)
        s->stall_until_us = until;
    for (c = s->conns; c; c = c->next)
        uav_conn_update_rx(c);
}

static void stall_end(uav_srv *s, int64_t now)
{
    cJSON *ev = simlog_event("fault_end");
    uav_conn *c;

    cJSON_AddStringToObject(ev, "kind", "stall");
    simlog_emit(ev);
    s->stalled = 0;
    s->stall_until_us = 0;
    for (c = s->conns; c; c = c->next) {
        uav_conn_update_rx(c);
        uav_conn_poll(c, now);
    }
}

/* Drops the command connections, and the links to the app with them. */
static void drop_all(uav_srv *s, const char *source, int links)
{
    cJSON *ev = fault_event("drop", source);
    cJSON *ids = cJSON_AddArrayToObject(ev, "conns");
    uav_conn *c;

    for (c = s->conns; c; c = c->next) {
        if (c->dropped)
            continue;
        uav_conn_drop(c);
        cJSON_AddItemToArray(ids, cJSON_CreateNumber((double)c->id));
    }
    if (links) {
        cJSON_AddBoolToObject(ev, "state", s->state.live);
        cJSON_AddBoolToObject(ev, "video", s->video.live);
        uav_link_drop(&s->state);
        uav_link_drop(&s->video);
    }
    simlog_emit(ev);
    simlog_info("drop (%s)", source);
}

/* Closes the sessions whose key no longer allows them. */
static void recheck_all(uav_srv *s)
{
    time_t now = time(NULL);
    const char *reason;
    int code;

    for (uav_conn *c = s->conns; c; c = c->next)
        if (!c->closing && !c->dropped &&
            (code = sim_keys_close_code(c->key, c->peer, now, &reason)))
            uav_conn_close(c, code, reason);
}

static void reload_keys(uav_srv *s)
{
    if (sim_keys_reload(s->ks) == 0)
        recheck_all(s);
}

static void begin_stop(uav_srv *s, const char *why)
{
    uav_conn *c;

    if (s->stopping)
        return;
    s->stopping = 1;
    s->stop_deadline_us = uav_mono_us() + STOP_GRACE_US;
    simlog_stopping(why);
    if (s->stalled)
        stall_end(s, uav_mono_us()); /* close frames must get out */
    for (c = s->conns; c; c = c->next)
        uav_conn_close(c, 1001, "going away");
    uav_links_stop(s);
}

static void process_signals(uav_srv *s)
{
    if (simsig_take(SIGHUP))
        reload_keys(s);
    if (simsig_take(SIGUSR1))
        stall_all(s, "SIGUSR1");
    if (simsig_take(SIGUSR2))
        drop_all(s, "SIGUSR2", 1);
    if (simsig_take(SIGINT) | simsig_take(SIGTERM))
        begin_stop(s, "signal");
}

/* The simulation clock: the drone moves, answers fall due, state and
 * video messages fall due. */
static void tick_cb(lws_sorted_usec_list_t *sul)
{
    uav_srv *s = lws_container_of(sul, uav_srv, sul_tick);
    int64_t now;
    uav_conn *c;

    uav_drone_advance(&s->drone, uav_sim_time(s));
    now = uav_mono_us();
    if (s->stalled && now >= s->stall_until_us)
        stall_end(s, now);
    for (c = s->conns; c; c = c->next)
        uav_conn_poll(c, now);
    uav_link_poll(&s->state, now);
    uav_link_poll(&s->video, now);
    lws_sul_schedule(s->ctx, 0, &s->sul_tick, tick_cb, UAV_TICK_US);
}

static void house_cb(lws_sorted_usec_list_t *sul)
{
    uav_srv *s = lws_container_of(sul, uav_srv, sul_house);

    process_signals(s); /* in case a wake-up was lost */
    recheck_all(s);
    lws_sul_schedule(s->ctx, 0, &s->sul_house, house_cb, HOUSEKEEPING_US);
}

static void drop_cb(lws_sorted_usec_list_t *sul)
{
    uav_srv *s = lws_container_of(sul, uav_srv, sul_drop);

    drop_all(s, "drop-every", 0);
    lws_sul_schedule(s->ctx, 0, &s->sul_drop, drop_cb,
                     (lws_usec_t)(s->o->drop_every_s * 1e6));
}

static void stall_cb(lws_sorted_usec_list_t *sul)
{
    uav_srv *s = lws_container_of(sul, uav_srv, sul_stall);

    stall_all(s, "stall-every");
    lws_sul_schedule(s->ctx, 0, &s->sul_stall, stall_cb,
                     (lws_usec_t)(s->o->stall_every_s * 1e6));
}

static void duration_cb(lws_sorted_usec_list_t *sul)
{
    begin_stop(lws_container_of(sul, uav_srv, sul_duration), "duration");
}

/* ---- lws ------------------------------------------------------------ */

static int callback(struct lws *wsi, enum lws_callback_reasons reason,
                    void *user, void *in, size_t len)
{
    struct lws_context *ctx = lws_get_context(wsi);
    uav_srv *s = ctx ? lws_context_user(ctx) : NULL;
    uav_conn *c = user;
    uav_admission r;

    switch (reason) {
    case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
        if (!in || strcasecmp(in, "websocket"))
            return 0;
        admit(s, wsi, &r);
        if (!r.status)
            return 0;
        log_refused(s, &r);
        return dev_http_refuse(wsi, r.status, r.auth_desc, r.retry_after, 1);
    case LWS_CALLBACK_HTTP:
        /* Plain HTTP: this server speaks WebSocket only. */
        if (dev_http_refuse(wsi, 426, NULL, 0, 0) < 0)
            return -1;
        return lws_http_transaction_completed(wsi) ? -1 : 0;
    case LWS_CALLBACK_ESTABLISHED:
        established(s, c, wsi);
        return 0;
    case LWS_CALLBACK_SERVER_WRITEABLE:
        return c && c->linked ? uav_conn_writeable(c) : 0;
    case LWS_CALLBACK_RECEIVE:
        if (c && c->linked)
            uav_conn_receive(c, in, len);
        return 0;
    case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
        if (c && c->linked) {
            const unsigned char *p = in;

            c->peer_close_code = len >= 2 ? p[0] << 8 | p[1] : 1005;
        }
        return 0;
    case LWS_CALLBACK_CLOSED:
        if (c)
            uav_conn_closed(c);
        return 0;
    case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
        if (s)
            process_signals(s);
        return 0;
    default:
        break;
    }
    return lws_callback_http_dummy(wsi, reason, user, in, len);
}

static const struct lws_protocols protocols[] = {
    /* The vhost's default too: a client offering no subprotocol is
     * served by it (the published API names none). */
    {UAV_PROTOCOL, callback, sizeof(uav_conn), 4096, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0}};

static void log_listening(const uav_srv *s, int port)
{
    const uav_opts *o = s->o;
    cJSON *ev = simlog_event("listening");
    char seed[24];

    cJSON_AddStringToObject(ev, "mode", "uav");
    cJSON_AddStringToObject(ev, "host", o->host);
    cJSON_AddNumberToObject(ev, "port", port);
    /* As a string: a 64-bit seed does not fit a JSON double. */
    snprintf(seed, sizeof(seed), "%llu", (unsigned long long)o->seed);
    cJSON_AddStringToObject(ev, "seed", seed);
    cJSON_AddNumberToObject(ev, "time_scale", o->time_scale);
    if (o->state_host)
        cJSON_AddStringToObject(ev, "state_host", o->state_host);
    else
        cJSON_AddNullToObject(ev, "state_host");
    cJSON_AddNumberToObject(ev, "state_port", o->state_port);
    cJSON_AddNumberToObject(ev, "video_port", o->video_port);
    cJSON_AddNumberToObject(ev, "state_rate_hz", o->state_rate_hz);
    cJSON_AddNumberToObject(ev, "video_fps", o->video_fps);
    cJSON_AddNumberToObject(ev, "keys", (double)ks_count(s->ks));
    cJSON_AddBoolToObject(ev, "dev_mode", ks_is_dev(s->ks));
    simlog_emit(ev);
}

static void log_exit(const uav_srv *s)
{
    cJSON *ev = simlog_event("exit");

    cJSON_AddNumberToObject(ev, "connections", (double)s->total_conns);
    cJSON_AddNumberToObject(ev, "refused", (double)s->total_refused);
    cJSON_AddNumberToObject(ev, "commands", (double)s->total_commands);
    simlog_emit(ev);
}

static void schedule_timers(uav_srv *s)
{
    const uav_opts *o = s->o;

    lws_sul_schedule(s->ctx, 0, &s->sul_tick, tick_cb, UAV_TICK_US);
    lws_sul_schedule(s->ctx, 0, &s->sul_house, house_cb, HOUSEKEEPING_US);
    if (o->drop_every_s > 0)
        lws_sul_schedule(s->ctx, 0, &s->sul_drop, drop_cb,
                         (lws_usec_t)(o->drop_every_s * 1e6));
    if (o->stall_every_s > 0)
        lws_sul_schedule(s->ctx, 0, &s->sul_stall, stall_cb,
                         (lws_usec_t)(o->stall_every_s * 1e6));
    if (o->duration_s > 0)
        lws_sul_schedule(s->ctx, 0, &s->sul_duration, duration_cb,
                         (lws_usec_t)(o->duration_s * 1e6));
}

static void cancel_timers(uav_srv *s)
{
    lws_sul_cancel(&s->sul_tick);
    lws_sul_cancel(&s->sul_house);
    lws_sul_cancel(&s->sul_drop);
    lws_sul_cancel(&s->sul_stall);
    lws_sul_cancel(&s->sul_duration);
    lws_sul_cancel(&s->state.sul_retry);
    lws_sul_cancel(&s->video.sul_retry);
}

static int create_vhosts(uav_srv *s, int family)
{
    struct lws_context_creation_info info;

    memset(&info, 0, sizeof(info));
    /* Text that is not UTF-8 closes the connection with 1007: a server
     * of ours never sends it back (or anywhere). */
    info.options =
        LWS_SERVER_OPTION_EXPLICIT_VHOSTS | LWS_SERVER_OPTION_VALIDATE_UTF8;
    if (family == AF_INET)
        info.options |= LWS_SERVER_OPTION_DISABLE_IPV6;
    info.user = s;
    /* Room for a 512-byte key and the other handshake headers. */
    info.max_http_header_data = 4096;
    s->ctx = lws_create_context(&info);
    if (!s->ctx) {
        simlog_error("cannot create the lws context");
        return CLI_EX_SOFTWARE;
    }
    info.vhost_name = "scn-sim-uav";
    info.port = s->o->port;
    info.iface = s->o->host;
    info.protocols = protocols;
    s->vh = lws_create_vhost(s->ctx, &info);
    if (!s->vh || lws_get_vhost_listen_port(s->vh) <= 0) {
        simlog_error("cannot listen on %s port %d", s->o->host, s->o->port);
        return CLI_EX_OSERR;
    }
    /* The links to the app are clients: a vhost of their own, so that no
     * incoming connection can bind to their protocols. */
    info.vhost_name = "scn-sim-uav-links";
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.iface = NULL;
    info.protocols = uav_link_protocols;
    s->vh_links = lws_create_vhost(s->ctx, &info);
    if (!s->vh_links) {
        simlog_error("cannot create the client vhost");
        return CLI_EX_SOFTWARE;
    }
    return CLI_EX_OK;
}

int uav_run(const uav_opts *o)
{
    static uav_srv s; /* big (the drone's queue); one per process */
    uav_hooks hooks = {hook_answer, hook_interrupted, hook_activated,
                       hook_stream, &s};
    unsigned char probe[16];
    char err[256];
    int family, port, rc = CLI_EX_OK;

    memset(&s, 0, sizeof(s));
    s.o = o;
    family = inet_pton(AF_INET, o->host, probe) == 1 ? AF_INET : AF_INET6;
    if (simlog_open(o->log_path, o->quiet))
        return CLI_EX_CANTCREAT;
    if (ks_open(&s.ks, o->keys_path, err, sizeof(err))) {
        simlog_error("cannot load keys: %s", err);
        simlog_close();
        return CLI_EX_CONFIG;
    }
    plume_init(&s.pl, o->seed);
    uav_drone_init(&s.drone, &s.pl, o->seed, o->battery0, o->battery_drain_s,
                   &hooks);
    uav_links_init(&s);
    s.tx = malloc(LWS_PRE + UAV_TX_CAP);
    if (!s.tx) {
        rc = CLI_EX_OSERR;
        goto out;
    }
    if (sim_host_usable(o->host, family)) {
        simlog_error("cannot listen on %s: %s", o->host, strerror(errno));
        rc = CLI_EX_OSERR;
        goto out;
    }
    /* lws speaks only of errors, and to our stderr. */
    lws_set_log_level(LLL_ERR, sim_lws_log_line);
    rc = create_vhosts(&s, family);
    if (rc)
        goto out;
    port = lws_get_vhost_listen_port(s.vh);
    s.t0_us = uav_mono_us();
    printf(family == AF_INET6 ? "scn-sim: listening on [%s]:%d\n"
                              : "scn-sim: listening on %s:%d\n",
           o->host, port);
    fflush(stdout);
    log_listening(&s, port);
    simsig_set_context(s.ctx);
    schedule_timers(&s);

    while (!s.stopping || ((s.conns || uav_links_busy(&s)) &&
                           uav_mono_us() < s.stop_deadline_us)) {
        process_signals(&s);
        if (lws_service(s.ctx, 0) < 0)
            break;
    }
    log_exit(&s);
out:
    s.stopping = 1; /* no link retries from the callbacks of destroy */
    simsig_set_context(NULL);
    cancel_timers(&s);
    if (s.ctx)
        lws_context_destroy(s.ctx); /* closes what is left, logging it */
    ks_free(s.ks);
    free(s.tx);
    simlog_close();
    return rc;
}
