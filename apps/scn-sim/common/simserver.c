#include "simserver.h"

#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include "cli.h"
#include "keycheck.h"
#include "simclock.h"
#include "simhttp.h"
#include "simlog.h"
#include "simnet.h"
#include "simsig.h"

#define HOUSEKEEPING_US (1000 * 1000)
#define STOP_GRACE_US   (1500 * 1000) /* for close frames at shutdown */

static sim_server *server_of(struct lws *wsi)
{
    struct lws_context *ctx = lws_get_context(wsi);

    return ctx ? lws_context_user(ctx) : NULL;
}

void sim_conn_link(sim_server *s, sim_conn *c)
{
    c->id = ++s->next_id;
    c->linked = 1;
    c->prev = NULL;
    c->next = s->conns;
    if (s->conns)
        s->conns->prev = c;
    s->conns = c;
    s->total_conns++;
}

void sim_conn_unlink(sim_server *s, sim_conn *c)
{
    if (!c->linked)
        return;
    if (c->prev)
        c->prev->next = c->next;
    else
        s->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    c->linked = 0;
}

int sim_conn_closing(sim_conn *c, int code, const char *reason)
{
    if (c->closing)
        return 0;
    c->closing = 1;
    c->close_code = code;
    snprintf(c->close_reason, sizeof(c->close_reason), "%s", reason);
    return 1;
}

int sim_conn_close_frame(const sim_conn *c, struct lws *wsi)
{
    lws_close_reason(wsi, (enum lws_close_status)c->close_code,
                     (unsigned char *)c->close_reason, strlen(c->close_reason));
    return -1;
}

void sim_conn_report_close(sim_server *s, sim_conn *c, const char *key_name,
                           const sim_count *counts, size_t ncounts)
{
    const char *by = "network", *reason = "";
    int code = 1006;
    char line[256];
    size_t n = 0;
    cJSON *ev;

    if (c->closing) {
        by = "server";
        code = c->close_code;
        reason = c->close_reason;
    } else if (c->dropped) {
        by = "fault";
        reason = "dropped";
    } else if (c->peer_close_code) {
        by = "client";
        code = c->peer_close_code;
    }
    ev = simlog_event("close");
    cJSON_AddNumberToObject(ev, "conn", (double)c->id);
    cJSON_AddNumberToObject(ev, "code", code);
    cJSON_AddStringToObject(ev, "reason", reason);
    cJSON_AddStringToObject(ev, "by", by);
    cJSON_AddStringToObject(ev, "key", key_name);
    line[0] = '\0';
    for (size_t i = 0; i < ncounts; i++) {
        cJSON_AddNumberToObject(ev, counts[i].name, (double)counts[i].value);
        if (counts[i].words && n < sizeof(line))
            n += (size_t)snprintf(line + n, sizeof(line) - n, ", %llu %s",
                                  (unsigned long long)counts[i].value,
                                  counts[i].words);
    }
    simlog_emit(ev);
    simlog_info("conn %lu closed: %d %s (%s)%s", c->id, code, reason, by, line);
    sim_conn_unlink(s, c);
}

void sim_admission_init(void *r, size_t size, struct lws *wsi)
{
    sim_admission *a = r;

    memset(r, 0, size);
    if (!lws_get_peer_simple(wsi, a->peer, sizeof(a->peer)))
        snprintf(a->peer, sizeof(a->peer), "?");
}

ks_verdict sim_admit_key(sim_server *s, struct lws *wsi, sim_admission *r)
{
    int malformed;
    ks_verdict v = sim_check_bearer(s->ks, wsi, r->peer, &r->key,
                                    &r->retry_after, &malformed);

    switch (v) {
    case KS_OK:
    case KS_QUOTA:
        break;
    case KS_EXPIRED:
        r->status = 401;
        r->auth_desc = "expired";
        r->reason = "key expired";
        break;
    case KS_REVOKED:
        r->status = 401;
        r->auth_desc = "revoked";
        r->reason = "key revoked";
        break;
    case KS_ADDRESS:
        r->status = 403;
        r->reason = "address not allowed";
        break;
    default:
        r->status = 401;
        r->auth_desc = "invalid";
        r->reason =
            malformed ? "missing or malformed Authorization" : "key invalid";
        break;
    }
    return v;
}

int sim_admission_close_code(const sim_admission *r, const char **reason)
{
    static const struct {
        int status, code;
        const char *reason;
    } map[] = {{429, 4029, "quota exhausted"},
               {404, 4004, "device unknown"},
               {403, 4003, "address not allowed"}};
    size_t i;

    *reason = NULL;
    if (!r->status)
        return 0;
    for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (r->status == map[i].status) {
            *reason = map[i].reason;
            return map[i].code;
        }
    if (r->status == 401 && !strcmp(r->auth_desc, "expired")) {
        *reason = "key expired";
        return 4002;
    }
    *reason = "key revoked";
    return 4001;
}

cJSON *sim_fault_event(const char *kind, const char *source)
{
    cJSON *ev = simlog_event("fault");

    cJSON_AddStringToObject(ev, "kind", kind);
    cJSON_AddStringToObject(ev, "source", source);
    return ev;
}

/* ---- server-wide: signals, timers, stop ---------------------------- */

void sim_server_stop(sim_server *s, const char *why)
{
    if (s->stopping)
        return;
    s->stopping = 1;
    s->stop_deadline_us = sim_mono_us() + STOP_GRACE_US;
    simlog_stopping(why);
    if (s->ops->stop)
        s->ops->stop(s);
    for (sim_conn *c = s->conns; c; c = c->next)
        s->ops->conn->close(c, 1001, "going away");
}

static void process_signals(sim_server *s)
{
    if (simsig_take(SIGHUP) && sim_keys_reload(s->ks) == 0)
        s->ops->recheck(s);
    if (simsig_take(SIGUSR1))
        s->ops->stall(s, "SIGUSR1");
    if (simsig_take(SIGUSR2))
        s->ops->drop(s, "SIGUSR2", 1);
    if (simsig_take(SIGINT) | simsig_take(SIGTERM))
        sim_server_stop(s, "signal");
}

static void house_cb(lws_sorted_usec_list_t *sul)
{
    sim_server *s = lws_container_of(sul, sim_server, sul_house);

    process_signals(s); /* in case a wake-up was lost */
    s->ops->recheck(s); /* expiry, once a second */
    lws_sul_schedule(s->ctx, 0, &s->sul_house, house_cb, HOUSEKEEPING_US);
}

static void drop_cb(lws_sorted_usec_list_t *sul)
{
    sim_server *s = lws_container_of(sul, sim_server, sul_drop);

    s->ops->drop(s, "drop-every", 0);
    lws_sul_schedule(s->ctx, 0, &s->sul_drop, drop_cb,
                     (lws_usec_t)(s->o->drop_every_s * 1e6));
}

static void stall_cb(lws_sorted_usec_list_t *sul)
{
    sim_server *s = lws_container_of(sul, sim_server, sul_stall);

    s->ops->stall(s, "stall-every");
    lws_sul_schedule(s->ctx, 0, &s->sul_stall, stall_cb,
                     (lws_usec_t)(s->o->stall_every_s * 1e6));
}

static void duration_cb(lws_sorted_usec_list_t *sul)
{
    sim_server_stop(lws_container_of(sul, sim_server, sul_duration),
                    "duration");
}

static void schedule_timers(sim_server *s)
{
    const sim_opts *o = s->o;

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

static void cancel_timers(sim_server *s)
{
    lws_sul_cancel(&s->sul_house);
    lws_sul_cancel(&s->sul_drop);
    lws_sul_cancel(&s->sul_stall);
    lws_sul_cancel(&s->sul_duration);
    lws_sul_cancel(&s->sul_stall_end);
    if (s->ops->cancel)
        s->ops->cancel(s);
}

/* ---- the protocol callback ----------------------------------------- */

static void log_refused(sim_server *s, const sim_admission *r)
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
    if (s->ops->refused)
        s->ops->refused(r, ev);
    if (r->status == 429)
        cJSON_AddNumberToObject(ev, "retry_after", r->retry_after);
    simlog_emit(ev);
    simlog_info("refused %s: %d %s", r->peer, r->status, r->reason);
}

/* An upgrade request: 0 lets it through, 1 (answered) or -1 refuse it. */
static int confirm_upgrade(sim_server *s, struct lws *wsi, const char *in)
{
    _Alignas(max_align_t) unsigned char room[SIM_ADMISSION_MAX];
    sim_admission *r = (sim_admission *)room;

    if (!in || strcasecmp(in, "websocket"))
        return 0;
    s->ops->admit(s, wsi, r);
    if (!r->status)
        return 0;
    log_refused(s, r);
    return sim_http_answer(wsi, r->status, NULL, r->auth_desc, r->retry_after,
                           1)
               ? -1
               : 1;
}

static void established(sim_server *s, sim_conn *c, struct lws *wsi)
{
    _Alignas(max_align_t) unsigned char room[SIM_ADMISSION_MAX];
    sim_admission *r = (sim_admission *)room;
    const sim_conn_ops *ops = s->ops->conn;
    const char *reason;
    int code;

    /* The checks ran at CONFIRM_UPGRADE; lws gives the session its own
     * memory only now, so they run again to fill it (same answer unless
     * a key expired in between). */
    s->ops->admit(s, wsi, r);
    ops->established(s, c, wsi, r);
    code = ops->refusal ? ops->refusal(r, &reason)
                        : sim_admission_close_code(r, &reason);
    if (s->stopping)
        ops->close(c, 1001, "going away");
    else if (code)
        ops->close(c, code, reason);
}

/* Plain HTTP: the mode's, or this server speaks WebSocket only. */
static int http_request(sim_server *s, void *pss, struct lws *wsi,
                        const char *uri)
{
    if (s->ops->http)
        return pss ? s->ops->http->request(s, pss, wsi, uri ? uri : "") : -1;
    if (sim_http_answer(wsi, 426, NULL, NULL, 0, 0))
        return -1;
    return lws_http_transaction_completed(wsi) ? -1 : 0;
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason,
                    void *user, void *in, size_t len)
{
    sim_server *s = server_of(wsi);
    const sim_conn_ops *ops = s ? s->ops->conn : NULL;
    const sim_http_ops *http = s ? s->ops->http : NULL;
    sim_conn *c = user;

    switch (reason) {
    case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
        return confirm_upgrade(s, wsi, in);
    case LWS_CALLBACK_HTTP:
        return http_request(s, user, wsi, in);
    case LWS_CALLBACK_HTTP_BODY:
        if (!http)
            break;
        return user ? http->body(user, in, len) : -1;
    case LWS_CALLBACK_HTTP_BODY_COMPLETION:
        if (!http)
            break;
        return user ? http->complete(user) : -1;
    case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
        if (!http)
            break;
        if (c && !c->linked)
            http->drop(user);
        return 0;
    case LWS_CALLBACK_ESTABLISHED:
        established(s, c, wsi);
        return 0;
    case LWS_CALLBACK_SERVER_WRITEABLE:
        return c && c->linked ? ops->writeable(c) : 0;
    case LWS_CALLBACK_TIMER:
        if (c && c->linked && ops->timer)
            ops->timer(c);
        return 0;
    case LWS_CALLBACK_RECEIVE:
        if (c && c->linked)
            ops->receive(c, in, len);
        return 0;
    case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
        if (c && c->linked) {
            const unsigned char *p = in;

            c->peer_close_code = len >= 2 ? p[0] << 8 | p[1] : 1005;
        }
        return 0;
    case LWS_CALLBACK_CLOSED:
        if (c)
            ops->closed(c);
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

/* ---- run ------------------------------------------------------------ */

static void log_listening(sim_server *s, int port)
{
    cJSON *ev = simlog_event("listening");
    char seed[24];

    cJSON_AddStringToObject(ev, "mode", s->ops->name);
    cJSON_AddStringToObject(ev, "host", s->o->host);
    cJSON_AddNumberToObject(ev, "port", port);
    /* As a string: a 64-bit seed does not fit a JSON double. */
    snprintf(seed, sizeof(seed), "%llu", (unsigned long long)s->o->seed);
    cJSON_AddStringToObject(ev, "seed", seed);
    cJSON_AddNumberToObject(ev, "keys", (double)ks_count(s->ks));
    cJSON_AddBoolToObject(ev, "dev_mode", ks_is_dev(s->ks));
    if (s->ops->listening)
        s->ops->listening(s, ev);
    simlog_emit(ev);
}

static void log_exit(sim_server *s)
{
    cJSON *ev = simlog_event("exit");

    cJSON_AddNumberToObject(ev, "connections", (double)s->total_conns);
    cJSON_AddNumberToObject(ev, "refused", (double)s->total_refused);
    if (s->ops->exit)
        s->ops->exit(s, ev);
    simlog_emit(ev);
}

/* The context and the listening vhost; returns the port or -1. */
static int listen_on(sim_server *s, int family)
{
    const sim_opts *o = s->o;
    struct lws_context_creation_info info;
    char name[64];

    memset(&info, 0, sizeof(info));
    /* Text that is not UTF-8 closes the connection with 1007: a server
     * of ours never sends it back (or anywhere). */
    info.options =
        LWS_SERVER_OPTION_EXPLICIT_VHOSTS | LWS_SERVER_OPTION_VALIDATE_UTF8;
    if (o->tls_cert)
        info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
    if (family == AF_INET)
        info.options |= LWS_SERVER_OPTION_DISABLE_IPV6;
    info.user = s;
    /* Room for a 512-byte key and the other handshake headers. */
    info.max_http_header_data = 4096;
    s->ctx = lws_create_context(&info);
    if (!s->ctx) {
        simlog_error("cannot create the lws context");
        return -CLI_EX_SOFTWARE;
    }
    snprintf(name, sizeof(name), "scn-sim-%s", s->ops->name);
    info.vhost_name = name;
    info.port = o->port;
    info.iface = o->host;
    info.protocols = s->protocols;
    info.ssl_cert_filepath = o->tls_cert;
    info.ssl_private_key_filepath = o->tls_key;
    if (o->tls_client_ca) {
        info.ssl_ca_filepath = o->tls_client_ca;
        info.options |= LWS_SERVER_OPTION_REQUIRE_VALID_OPENSSL_CLIENT_CERT;
    }
    s->vh = lws_create_vhost(s->ctx, &info);
    if (!s->vh || lws_get_vhost_listen_port(s->vh) <= 0) {
        /* lws has logged which TLS file it could not use, if any. */
        simlog_error("cannot listen on %s port %d%s", o->host, o->port,
                     o->tls_cert ? " with TLS" : "");
        return -CLI_EX_OSERR;
    }
    return lws_get_vhost_listen_port(s->vh);
}

static int busy(const sim_server *s)
{
    return s->conns || (s->ops->busy && s->ops->busy(s));
}

static int serve(sim_server *s, int family)
{
    int rc, port;

    /* The only protocol, hence the vhost's default: a client that offers
     * no subprotocol is served by it too. */
    s->protocols[0].name = s->ops->protocol;
    s->protocols[0].callback = callback;
    s->protocols[0].per_session_data_size = s->ops->conn->size;
    s->protocols[0].rx_buffer_size = 4096;

    if (sim_host_usable(s->o->host, family)) {
        simlog_error("cannot listen on %s: %s", s->o->host, strerror(errno));
        return CLI_EX_OSERR;
    }
    /* lws speaks only of errors, and to our stderr. */
    lws_set_log_level(LLL_ERR, sim_lws_log_line);
    port = listen_on(s, family);
    if (port < 0)
        return -port;
    s->tx = malloc(LWS_PRE + s->ops->tx_cap);
    if (!s->tx)
        return CLI_EX_OSERR;
    rc = s->ops->start ? s->ops->start(s, family) : CLI_EX_OK;
    if (rc)
        return rc;
    s->t0_us = sim_mono_us();
    printf(family == AF_INET6 ? "scn-sim: listening on [%s]:%d\n"
                              : "scn-sim: listening on %s:%d\n",
           s->o->host, port);
    fflush(stdout);
    log_listening(s, port);
    simsig_set_context(s->ctx);
    schedule_timers(s);
    while (!s->stopping || (busy(s) && sim_mono_us() < s->stop_deadline_us)) {
        process_signals(s);
        if (lws_service(s->ctx, 0) < 0)
            break;
    }
    log_exit(s);
    return CLI_EX_OK;
}

int sim_server_run(sim_server *s, const sim_mode_ops *ops, const sim_opts *o)
{
    unsigned char probe[16];
    char err[256];
    int family, rc;

    s->ops = ops;
    s->o = o;
    family = inet_pton(AF_INET, s->o->host, probe) == 1 ? AF_INET : AF_INET6;
    if (simlog_open(s->o->log_path, s->o->quiet))
        return CLI_EX_CANTCREAT;
    if (ks_open(&s->ks, s->o->keys_path, err, sizeof(err))) {
        simlog_error("cannot load keys: %s", err);
        simlog_close();
        return CLI_EX_CONFIG;
    }
    plume_init(&s->pl, s->o->seed);
    rc = serve(s, family);
    s->stopping = 1; /* nothing new from the callbacks of destroy */
    simsig_set_context(NULL);
    cancel_timers(s);
    if (s->ctx)
        lws_context_destroy(s->ctx); /* closes what is left, logging it */
    if (s->ops->release)
        s->ops->release(s);
    free(s->tx);
    ks_free(s->ks);
    simlog_close();
    return rc;
}
