/*
 * WebSocket servers: the public API, options, per-connection queues and
 * statistics. Everything that touches libwebsockets is in server_adapter.c.
 */
#include <stdlib.h>
#include <string.h>

#include "server_internal.h"

#define DEF(field, value)                                                      \
    do {                                                                       \
        if (!(field))                                                          \
            (field) = (value);                                                 \
    } while (0)

/* Longest path and subprotocol we accept in options; requests with longer
 * ones could never match anyway. */
#define PATH_MAX_LEN        255
#define SUBPROTOCOL_MAX_LEN 63

void scn_server_options_init(scn_server_options *o)
{
    memset(o, 0, sizeof(*o));
    o->max_message_bytes = 1u << 20;
    o->queue_msgs = 1024;
    o->queue_bytes = 4u << 20;
    o->max_connections = 64;
}

static void apply_defaults(scn_server_options *o)
{
    scn_server_options d;

    scn_server_options_init(&d);
    DEF(o->max_message_bytes, d.max_message_bytes);
    DEF(o->queue_msgs, d.queue_msgs);
    DEF(o->queue_bytes, d.queue_bytes);
    DEF(o->max_connections, d.max_connections);
}

/* RFC 6455 token characters: a subprotocol is one token, so that it can be
 * compared with the entries of the client's comma-separated offer. */
static bool is_token(const char *s)
{
    static const char separators[] = "()<>@,;:\\\"/[]?={} \t";

    if (!*s || strlen(s) > SUBPROTOCOL_MAX_LEN)
        return false;
    for (; *s; s++)
        if (*s <= 32 || *s >= 127 || strchr(separators, *s))
            return false;
    return true;
}

static int check_options(const scn_server_options *o, scn_ip_addr *bind_addr)
{
    if (o->port < 0 || o->port > 65535)
        return SCN_ERR_INVALID_ARG;
    if (scn_ip_parse(o->bind_address ? o->bind_address : "127.0.0.1",
                     bind_addr))
        return SCN_ERR_INVALID_ARG;
    if (o->path && (o->path[0] != '/' || strlen(o->path) > PATH_MAX_LEN ||
                    strchr(o->path, '?')))
        return SCN_ERR_INVALID_ARG;
    if (o->subprotocol && !is_token(o->subprotocol))
        return SCN_ERR_INVALID_ARG;
    if (o->allow_count && !o->allow)
        return SCN_ERR_INVALID_ARG;
    return 0;
}

static int dup_opt(const char *in, char **out)
{
    *out = NULL;
    if (!in)
        return 0;
    *out = strdup(in);
    return *out ? 0 : SCN_ERR_NOMEM;
}

static void free_strings(scn_server *srv)
{
    free(srv->bind_address);
    free(srv->path);
    free(srv->subprotocol);
    scn_peer_allow_free(&srv->allow);
}

int scn_server_new(scn_loop *loop, const scn_server_options *opts,
                   scn_server **out)
{
    scn_ip_addr bind_addr;
    char text[SCN_IP_TEXT_MAX];
    scn_server *srv;
    int rc;

    if (!out)
        return SCN_ERR_INVALID_ARG;
    *out = NULL;
    if (!loop || !opts)
        return SCN_ERR_INVALID_ARG;
    rc = check_options(opts, &bind_addr);
    if (rc)
        return rc;
    if (!scn_loop_on_thread(loop))
        return SCN_ERR_STATE;
    srv = calloc(1, sizeof(*srv));
    if (!srv)
        return SCN_ERR_NOMEM;
    srv->loop = loop;
    srv->listen_fd = -1;
    srv->timer_fd = -1;
    srv->timer_due = UINT64_MAX;
    srv->opts = *opts;
    apply_defaults(&srv->opts);
    rc = scn_peer_allow_init(&srv->allow, opts->allow, opts->allow_count);
    if (!rc)
        rc = dup_opt(opts->bind_address, &srv->bind_address);
    if (!rc)
        rc = dup_opt(opts->path, &srv->path);
    if (!rc)
        rc = dup_opt(opts->subprotocol, &srv->subprotocol);
    if (rc) {
        free_strings(srv);
        free(srv);
        return rc;
    }
    srv->opts.bind_address = srv->bind_address;
    srv->opts.path = srv->path;
    srv->opts.subprotocol = srv->subprotocol;
    /* The parsed rules replace the caller's strings. */
    srv->opts.allow = NULL;
    pthread_mutex_init(&srv->mu, NULL);

    rc = scn_server_listen(srv, &bind_addr);
    if (rc) {
        pthread_mutex_destroy(&srv->mu);
        free_strings(srv);
        free(srv);
        return rc;
    }
    srv->next = loop->servers;
    loop->servers = srv;
    scn_ip_format(&bind_addr, text, sizeof(text));
    scn_log(&loop->log, SCN_LOG_INFO, "server",
            "listening on %s port %d%s%s, %zu allowed peer rule(s)", text,
            srv->port, srv->path ? " path " : "", srv->path ? srv->path : "",
            srv->allow.count);
    *out = srv;
    return 0;
}

void scn_server_report_close(scn_server_conn *conn, int code)
{
    scn_server *srv = conn->srv;

    if (!conn->announced || conn->close_reported)
        return;
    conn->close_reported = true;
    if (srv->opts.callbacks.on_close)
        SCN_SERVER_CALL(
            srv, srv->opts.callbacks.on_close(srv, conn, code, srv->opts.user));
}

void scn_server_report_error(scn_server *srv, scn_server_conn *conn, int err,
                             const char *detail)
{
    scn_log(&srv->loop->log, SCN_LOG_WARN, "server", "%s%s%s: %s",
            conn ? "peer " : "", conn ? conn->peer : "", conn ? "" : "server",
            detail);
    if (srv->opts.callbacks.on_error && !srv->free_pending && !srv->destroying)
        SCN_SERVER_CALL(srv, srv->opts.callbacks.on_error(
                                 srv, conn, err, detail, srv->opts.user));
}

static void unlink_server(scn_server *srv)
{
    for (scn_server **pp = &srv->loop->servers; *pp; pp = &(*pp)->next) {
        if (*pp == srv) {
            *pp = srv->next;
            break;
        }
    }
}

void scn_server_destroy(scn_server *srv)
{
    srv->destroying = true;
    lws_sul_cancel(&srv->free_sul);
    /* Every accepted connection gets its on_close, so that the
     * application can release what it keeps per connection. The list
     * cannot change meanwhile: connections leave it only in lws's own
     * close path, which no API call runs synchronously. */
    for (scn_server_conn *c = srv->conns; c; c = c->next)
        scn_server_report_close(c, 1001);
    scn_server_unlisten(srv);
    while (srv->conns)
        scn_server_conn_destroy(srv->conns);
    unlink_server(srv);
    scn_log(&srv->loop->log, SCN_LOG_INFO, "server", "port %d closed",
            srv->port);
    pthread_mutex_destroy(&srv->mu);
    free_strings(srv);
    free(srv->wbuf);
    free(srv);
}

static void free_later(lws_sorted_usec_list_t *sul)
{
    scn_server *srv = lws_container_of(sul, scn_server, free_sul);

    scn_server_destroy(srv);
}

void scn_server_free(scn_server *srv)
{
    if (!srv || srv->destroying)
        return;
    if (srv->loop->cb_depth > 0) {
        /* Inside a callback lws may be walking this server's connections;
         * a timer finishes the job from the top of the loop. */
        if (!srv->free_pending) {
            srv->free_pending = true;
            lws_sul_schedule(srv->loop->ctx, 0, &srv->free_sul, free_later, 1);
        }
        return;
    }
    scn_server_destroy(srv);
}

void scn_loop_free_servers(scn_loop *loop)
{
    while (loop->servers)
        scn_server_destroy(loop->servers);
}

int scn_server_port(const scn_server *srv)
{
    return srv ? srv->port : 0;
}

/* Queues on one connection; caller holds srv->mu. Sets *wake when the
 * loop must look at this connection: it had no write pending, and no wake
 * is on its way already. */
static int push_locked(scn_server_conn *c, const void *data, size_t len,
                       int is_binary, bool *wake)
{
    scn_server *srv = c->srv;
    bool became_slow;
    size_t dropped;
    int rc;

    rc = scn_peerq_push(&c->q, data, len, is_binary ? 1 : 0,
                        scn_loop_now_ms(srv->loop), &dropped, &became_slow);
    c->st.dropped += dropped;
    srv->stats.dropped_slow += dropped;
    if (became_slow)
        c->slow_notice = true;
    /* A connection whose write is already wanted is either about to be
     * served or waiting for its write interval on a timer. */
    if ((rc == 0 && !c->want_write) || became_slow) {
        if (!srv->wake_pending)
            *wake = true;
        srv->wake_pending = true;
    }
    if (rc == 0)
        c->want_write = true;
    return rc;
}

int scn_server_broadcast(scn_server *srv, const void *data, size_t len,
                         int is_binary)
{
    int n = 0, err = 0;
    bool wake = false;

    if (!srv || (!data && len))
        return SCN_ERR_INVALID_ARG;
    if (len > srv->opts.queue_bytes)
        return SCN_ERR_MESSAGE_TOO_BIG;
    pthread_mutex_lock(&srv->mu);
    for (scn_server_conn *c = srv->conns; c; c = c->next) {
        int rc;

        if (c->state != SCN_CONN_OPEN || c->closing)
            continue;
        rc = push_locked(c, data, len, is_binary, &wake);
        if (rc == 0)
            n++;
        else
            err = rc;
    }
    pthread_mutex_unlock(&srv->mu);
    if (wake)
        scn_server_wake(srv);
    return err ? err : n;
}

int scn_server_conn_send(scn_server_conn *conn, const void *data, size_t len,
                         int is_binary)
{
    scn_server *srv;
    bool wake = false;
    int rc;

    if (!conn || (!data && len))
        return SCN_ERR_INVALID_ARG;
    srv = conn->srv;
    if (len > srv->opts.queue_bytes)
        return SCN_ERR_MESSAGE_TOO_BIG;
    pthread_mutex_lock(&srv->mu);
    if (conn->closing || conn->state == SCN_CONN_CLOSED)
        rc = SCN_ERR_STATE;
    else
        rc = push_locked(conn, data, len, is_binary, &wake);
    pthread_mutex_unlock(&srv->mu);
    if (wake)
        scn_server_wake(srv);
    return rc;
}

static bool close_code_ok(int code)
{
    /* The codes an endpoint may send (RFC 6455 7.4, IANA registry);
     * 1004-1006 and 1015 are reserved for reporting, never sent. */
    return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
           (code >= 3000 && code <= 4999);
}

int scn_server_conn_close(scn_server_conn *conn, int code, const char *reason)
{
    scn_server *srv;
    size_t n;

    if (!conn || !close_code_ok(code))
        return SCN_ERR_INVALID_ARG;
    srv = conn->srv;
    pthread_mutex_lock(&srv->mu);
    if (conn->closing || conn->state == SCN_CONN_CLOSED) {
        pthread_mutex_unlock(&srv->mu);
        return SCN_ERR_STATE;
    }
    conn->closing = true;
    conn->want_close_code = code;
    n = reason ? strlen(reason) : 0;
    if (n > SCN_CLOSE_REASON_MAX)
        n = SCN_CLOSE_REASON_MAX;
    memcpy(conn->want_close_reason, reason ? reason : "", n);
    conn->want_close_reason[n] = '\0';
    /* The close goes out next: what is still queued would only delay it. */
    srv->stats.dropped_unsent += scn_peerq_clear(&conn->q);
    pthread_mutex_unlock(&srv->mu);
    scn_server_wake(srv);
    return 0;
}

const char *scn_server_conn_peer(const scn_server_conn *conn)
{
    return conn ? conn->peer : "";
}

void *scn_server_conn_get_user(const scn_server_conn *conn)
{
    return conn ? conn->user : NULL;
}

void scn_server_conn_set_user(scn_server_conn *conn, void *user)
{
    if (conn)
        conn->user = user;
}

scn_server *scn_server_conn_server(const scn_server_conn *conn)
{
    return conn ? conn->srv : NULL;
}

void scn_server_get_stats(scn_server *srv, scn_server_stats *out)
{
    if (!out)
        return;
    memset(out, 0, sizeof(*out));
    if (!srv)
        return;
    pthread_mutex_lock(&srv->mu);
    *out = srv->stats;
    pthread_mutex_unlock(&srv->mu);
}

void scn_server_conn_get_stats(scn_server_conn *conn,
                               scn_server_conn_stats *out)
{
    if (!out)
        return;
    memset(out, 0, sizeof(*out));
    if (!conn)
        return;
    pthread_mutex_lock(&conn->srv->mu);
    *out = conn->st;
    out->queued_msgs = scn_peerq_count(&conn->q);
    out->queued_bytes = scn_peerq_bytes(&conn->q);
    out->slow = conn->q.slow;
    pthread_mutex_unlock(&conn->srv->mu);
}
