/*
 * The device server: lws context, vhost and protocol callback, and what
 * acts on all connections at once: signals, fault timers, key reloads,
 * expiry checks and shutdown. The handshake checks are in
 * device_handshake.c, one connection's life in device_session.c.
 */
#include "device.h"

#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "common/keycheck.h"
#include "common/simlog.h"
#include "common/simnet.h"
#include "common/simsig.h"

#define HOUSEKEEPING_US (1000 * 1000)
#define STOP_GRACE_US   (1500 * 1000) /* for close frames at shutdown */
#define TX_CAP          (4 * DEVFRAME_MAX)

int64_t dev_mono_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void log_refused(dev_srv *s, const dev_admission *r)
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
    if (r->uid[0])
        cJSON_AddStringToObject(ev, "uid", r->uid);
    if (r->status == 429)
        cJSON_AddNumberToObject(ev, "retry_after", r->retry_after);
    simlog_emit(ev);
    simlog_info("refused %s: %d %s", r->peer, r->status, r->reason);
}

static void log_connect(const dev_conn *c, const dev_admission *r)
{
    cJSON *ev = simlog_event("connect");
    const char *uid = c->srv->o->uids[c->dev];

    cJSON_AddNumberToObject(ev, "conn", (double)c->id);
    cJSON_AddStringToObject(ev, "peer", c->peer);
    cJSON_AddStringToObject(ev, "key", ks_key_name(c->key));
    cJSON_AddStringToObject(ev, "uid", uid);
    if (r->v1)
        cJSON_AddStringToObject(ev, "protocol", DEV_PROTOCOL);
    else
        cJSON_AddNullToObject(ev, "protocol");
    simlog_emit(ev);
    simlog_info("conn %lu from %s: key %s, device %s%s", c->id, c->peer,
                ks_key_name(c->key), uid,
                r->v1 ? ", " DEV_PROTOCOL : ", no subprotocol");
}

/* Closes whatever sessions their key no longer allows. */
static void recheck_all(dev_srv *s)
{
    time_t now = time(NULL);
    const char *reason;
    int code;

    for (dev_conn *c = s->conns; c; c = c->next)
        if (!c->closing && !c->dropped &&
            (code = sim_keys_close_code(c->key, c->peer, now, &reason)))
            dev_conn_close(c, code, reason);
}

static void reload_keys(dev_srv *s)
{
    if (sim_keys_reload(s->ks) == 0)
        recheck_all(s);
}

/* A fault event naming the connections it hit. */
static cJSON *fault_event(const char *kind, const char *source)
{
    cJSON *ev = simlog_event("fault");

    cJSON_AddStringToObject(ev, "kind", kind);
    cJSON_AddStringToObject(ev, "source", source);
    return ev;
}

static void stall_end_cb(lws_sorted_usec_list_t *sul);

static void stall_all(dev_srv *s, const char *source)
{
    int64_t now = dev_mono_us();
    int64_t until = now + (int64_t)(s->o->faults.stall_for_s * 1e6);
    cJSON *ev = fault_event("stall", source);
    cJSON *ids = cJSON_AddArrayToObject(ev, "conns");
    dev_conn *c;

    cJSON_AddNumberToObject(ev, "for_s", s->o->faults.stall_for_s);
    for (c = s->conns; c; c = c->next) {
        if (c->closing || c->dropped)
            continue;
        dev_conn_stall(c, until);
        cJSON_AddItemToArray(ids, cJSON_CreateNumber((double)c->id));
    }
    if (cJSON_GetArraySize(ids))
        simlog_info("stall (%s) for %.3g s: %d connection(s)", source,
                    s->o->faults.stall_for_s, cJSON_GetArraySize(ids));
    simlog_emit(ev);
    lws_sul_schedule(s->ctx, 0, &s->sul_stall_end, stall_end_cb, until - now);
}

static void stall_end_cb(lws_sorted_usec_list_t *sul)
{
    dev_srv *s = lws_container_of(sul, dev_srv, sul_stall_end);
    int64_t now = dev_mono_us(), next = INT64_MAX;
    dev_conn *c;

    for (c = s->conns; c; c = c->next) {
        if (!c->stalled)
            continue;
        if (c->stall_until_us <= now + 1000) {
            cJSON *ev = simlog_event("fault_end");

            cJSON_AddStringToObject(ev, "kind", "stall");
            cJSON_AddNumberToObject(ev, "conn", (double)c->id);
            simlog_emit(ev);
            dev_conn_unstall(c);
        } else if (c->stall_until_us < next) {
            next = c->stall_until_us;
        }
    }
    if (next != INT64_MAX)
        lws_sul_schedule(s->ctx, 0, &s->sul_stall_end, stall_end_cb,
                         next - now);
}

static void drop_all(dev_srv *s, const char *source)
{
    cJSON *ev = fault_event("drop", source);
    cJSON *ids = cJSON_AddArrayToObject(ev, "conns");
    dev_conn *c;

    for (c = s->conns; c; c = c->next) {
        if (c->dropped)
            continue;
        dev_conn_drop(c);
        cJSON_AddItemToArray(ids, cJSON_CreateNumber((double)c->id));
    }
    if (cJSON_GetArraySize(ids))
        simlog_info("drop (%s): %d connection(s)", source,
                    cJSON_GetArraySize(ids));
    simlog_emit(ev);
}

static void begin_stop(dev_srv *s, const char *why)
{
    dev_conn *c;

    if (s->stopping)
        return;
    s->stopping = 1;
    s->stop_deadline_us = dev_mono_us() + STOP_GRACE_US;
    simlog_stopping(why);
    for (c = s->conns; c; c = c->next)
        dev_conn_close(c, 1001, "going away");
}

static void process_signals(dev_srv *s)
{
    if (simsig_take(SIGHUP))
        reload_keys(s);
    if (simsig_take(SIGUSR1))
        stall_all(s, "SIGUSR1");
    if (simsig_take(SIGUSR2))
        drop_all(s, "SIGUSR2");
    if (simsig_take(SIGINT) | simsig_take(SIGTERM))
        begin_stop(s, "signal");
}

static void house_cb(lws_sorted_usec_list_t *sul)
{
    dev_srv *s = lws_container_of(sul, dev_srv, sul_house);

    process_signals(s); /* in case a wake-up was lost */
    recheck_all(s);     /* expiry, once a second */
    lws_sul_schedule(s->ctx, 0, &s->sul_house, house_cb, HOUSEKEEPING_US);
}

static void drop_cb(lws_sorted_usec_list_t *sul)
{
    dev_srv *s = lws_container_of(sul, dev_srv, sul_drop);

    drop_all(s, "drop-every");
    lws_sul_schedule(s->ctx, 0, &s->sul_drop, drop_cb,
                     (lws_usec_t)(s->o->faults.drop_every_s * 1e6));
}

static void stall_cb(lws_sorted_usec_list_t *sul)
{
    dev_srv *s = lws_container_of(sul, dev_srv, sul_stall);

    stall_all(s, "stall-every");
    lws_sul_schedule(s->ctx, 0, &s->sul_stall, stall_cb,
                     (lws_usec_t)(s->o->faults.stall_every_s * 1e6));
}

static void duration_cb(lws_sorted_usec_list_t *sul)
{
    begin_stop(lws_container_of(sul, dev_srv, sul_duration), "duration");
}

static void established(dev_srv *s, dev_conn *c, struct lws *wsi)
{
    dev_admission r;

    /* The checks ran at CONFIRM_UPGRADE; lws gives the session its own
     * memory only now, so they run again to fill it (same answer unless
     * a key expired in between). */
    dev_admit(s, wsi, &r);
    c->dev = r.dev < 0 ? 0 : r.dev;
    c->key = r.key;
    c->v1 = r.v1;
    snprintf(c->peer, sizeof(c->peer), "%s", r.peer);
    dev_conn_open(c, s, wsi);
    log_connect(c, &r);
    if (s->stopping)
        dev_conn_close(c, 1001, "going away");
    else if (r.status == 429)
        dev_conn_close(c, 4029, "quota exhausted");
    else if (r.status == 404)
        dev_conn_close(c, 4004, "device unknown");
    else if (r.status == 403)
        dev_conn_close(c, 4003, "address not allowed");
    else if (r.status == 401 && !strcmp(r.auth_desc, "expired"))
        dev_conn_close(c, 4002, "key expired");
    else if (r.status)
        dev_conn_close(c, 4001, "key revoked");
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason,
                    void *user, void *in, size_t len)
{
    struct lws_context *ctx = lws_get_context(wsi);
    dev_srv *s = ctx ? lws_context_user(ctx) : NULL;
    dev_conn *c = user;
    dev_admission r;

    switch (reason) {
    case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
        if (!in || strcasecmp(in, "websocket"))
            return 0;
        dev_admit(s, wsi, &r);
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
        return c && c->linked ? dev_conn_writeable(c) : 0;
    case LWS_CALLBACK_TIMER:
        if (c && c->linked)
            dev_conn_timer(c);
        return 0;
    case LWS_CALLBACK_RECEIVE:
        if (c && c->linked)
            dev_conn_receive(c, in, len);
        return 0;
    case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
        if (c && c->linked) {
            const unsigned char *p = in;

            c->peer_close_code = len >= 2 ? p[0] << 8 | p[1] : 1005;
        }
        return 0;
    case LWS_CALLBACK_CLOSED:
        if (c)
            dev_conn_closed(c);
        return 0;
    case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
        if (s)
            process_signals(s);
        return 0;
    case LWS_CALLBACK_OPENSSL_PERFORM_CLIENT_CERT_VERIFICATION:
        /* lws takes our answer over OpenSSL's (len holds preverify_ok):
         * a 0 here would accept a client certificate from any issuer. */
        return !len;
    default:
        break;
    }
    return lws_callback_http_dummy(wsi, reason, user, in, len);
}

static const struct lws_protocols protocols[] = {
    /* First, hence the vhost's default: a client that offers no
     * subprotocol is served by it too (without typed messages). */
    {DEV_PROTOCOL, callback, sizeof(dev_conn), 4096, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0}};

static void log_listening(const dev_srv *s, int port)
{
    cJSON *ev = simlog_event("listening");
    cJSON *devs;
    char seed[24];
    int i;

    cJSON_AddStringToObject(ev, "mode", "device");
    cJSON_AddStringToObject(ev, "host", s->o->host);
    cJSON_AddNumberToObject(ev, "port", port);
    devs = cJSON_AddArrayToObject(ev, "devices");
    for (i = 0; i < s->o->n_uids; i++)
        cJSON_AddItemToArray(devs, cJSON_CreateString(s->o->uids[i]));
    cJSON_AddNumberToObject(ev, "rate_hz", s->o->rate_hz);
    /* As a string: a 64-bit seed does not fit a JSON double. */
    snprintf(seed, sizeof(seed), "%llu", (unsigned long long)s->o->seed);
    cJSON_AddStringToObject(ev, "seed", seed);
    cJSON_AddNumberToObject(ev, "keys", (double)ks_count(s->ks));
    cJSON_AddBoolToObject(ev, "dev_mode", ks_is_dev(s->ks));
    cJSON_AddBoolToObject(ev, "tls", s->o->tls_cert != NULL);
    cJSON_AddBoolToObject(ev, "client_certs", s->o->tls_client_ca != NULL);
    simlog_emit(ev);
}

static void log_exit(const dev_srv *s)
{
    cJSON *ev = simlog_event("exit");

    cJSON_AddNumberToObject(ev, "connections", (double)s->total_conns);
    cJSON_AddNumberToObject(ev, "refused", (double)s->total_refused);
    cJSON_AddNumberToObject(ev, "frames_sent", (double)s->total_sent);
    cJSON_AddNumberToObject(ev, "frames_skipped", (double)s->total_skipped);
    simlog_emit(ev);
}

static void schedule_timers(dev_srv *s)
{
    const faults *f = &s->o->faults;

    lws_sul_schedule(s->ctx, 0, &s->sul_house, house_cb, HOUSEKEEPING_US);
    if (f->drop_every_s > 0)
        lws_sul_schedule(s->ctx, 0, &s->sul_drop, drop_cb,
                         (lws_usec_t)(f->drop_every_s * 1e6));
    if (f->stall_every_s > 0)
        lws_sul_schedule(s->ctx, 0, &s->sul_stall, stall_cb,
                         (lws_usec_t)(f->stall_every_s * 1e6));
    if (s->o->duration_s > 0)
        lws_sul_schedule(s->ctx, 0, &s->sul_duration, duration_cb,
                         (lws_usec_t)(s->o->duration_s * 1e6));
}

static void cancel_timers(dev_srv *s)
{
    lws_sul_cancel(&s->sul_house);
    lws_sul_cancel(&s->sul_drop);
    lws_sul_cancel(&s->sul_stall);
    lws_sul_cancel(&s->sul_stall_end);
    lws_sul_cancel(&s->sul_duration);
}

int device_run(const device_opts *o)
{
    struct lws_context_creation_info info;
    unsigned char probe[16];
    dev_srv s;
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
    s.tx_cap = TX_CAP;
    s.tx = malloc(LWS_PRE + s.tx_cap);
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
    memset(&info, 0, sizeof(info));
    /* Text that is not UTF-8 closes the connection with 1007: a server
     * of ours never sends it back (or anywhere). */
    info.options =
        LWS_SERVER_OPTION_EXPLICIT_VHOSTS | LWS_SERVER_OPTION_VALIDATE_UTF8;
    if (o->tls_cert)
        info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
    if (family == AF_INET)
        info.options |= LWS_SERVER_OPTION_DISABLE_IPV6;
    info.user = &s;
    /* Room for a 512-byte key and the other handshake headers. */
    info.max_http_header_data = 4096;
    s.ctx = lws_create_context(&info);
    if (!s.ctx) {
        simlog_error("cannot create the lws context");
        rc = CLI_EX_SOFTWARE;
        goto out;
    }
    info.vhost_name = "scn-sim-device";
    info.port = o->port;
    info.iface = o->host;
    info.protocols = protocols;
    info.ssl_cert_filepath = o->tls_cert;
    info.ssl_private_key_filepath = o->tls_key;
    if (o->tls_client_ca) {
        info.ssl_ca_filepath = o->tls_client_ca;
        info.options |= LWS_SERVER_OPTION_REQUIRE_VALID_OPENSSL_CLIENT_CERT;
    }
    s.vh = lws_create_vhost(s.ctx, &info);
    port = s.vh ? lws_get_vhost_listen_port(s.vh) : -1;
    if (port <= 0) {
        /* lws has logged which TLS file it could not use, if any. */
        simlog_error("cannot listen on %s port %d%s", o->host, o->port,
                     o->tls_cert ? " with TLS" : "");
        rc = CLI_EX_OSERR;
        goto out;
    }
    s.t0_us = dev_mono_us();
    printf(family == AF_INET6 ? "scn-sim: listening on [%s]:%d\n"
                              : "scn-sim: listening on %s:%d\n",
           o->host, port);
    fflush(stdout);
    log_listening(&s, port);
    simsig_set_context(s.ctx);
    schedule_timers(&s);

    while (!s.stopping || (s.conns && dev_mono_us() < s.stop_deadline_us)) {
        process_signals(&s);
        if (lws_service(s.ctx, 0) < 0)
            break;
    }
    log_exit(&s);
out:
    simsig_set_context(NULL);
    cancel_timers(&s);
    if (s.ctx)
        lws_context_destroy(s.ctx); /* closes what is left, logging it */
    ks_free(s.ks);
    free(s.tx);
    simlog_close();
    return rc;
}
