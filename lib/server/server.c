/*
 * WebSocket servers: the public API, options, admission, per-connection
 * queues, the loop-thread service and statistics. One connection's
 * protocol is in server_conn.c; sockets are server_adapter.c's.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_response.h"
#include "server_internal.h"
#include "session_internal.h"
#include "tls_mem.h"

#define DEF(field, value)                                                      \
    do {                                                                       \
        if (!(field))                                                          \
            (field) = (value);                                                 \
    } while (0)

/* Longest path and subprotocol we accept in options; requests with longer
 * ones could never match anyway. */
#define PATH_MAX_LEN        255
#define SUBPROTOCOL_MAX_LEN 63
/* A connection we decided to close but whose peer does not read (so the
 * close frame cannot be written) is cut off after this long. */
#define CLOSE_TIMEOUT_MS 5000

/* The first version's last field: the smallest struct_size accepted. */
#define SERVER_OPTIONS_V0 SCN_OPTIONS_END(scn_server_options, user)

static void server_defaults(scn_server_options *o)
{
    memset(o, 0, sizeof(*o));
    o->max_message_bytes = 1u << 20;
    o->queue_msgs = 1024;
    o->queue_bytes = 4u << 20;
    o->max_connections = 64;
    o->retry_after_s = 5;
    o->request_timeout_ms = 10000;
}

void scn_server_options_init_sized(scn_server_options *o, size_t size)
{
    scn_server_options d;

    server_defaults(&d);
    scn_options_give(o, size, &d, sizeof(d));
}

static void apply_defaults(scn_server_options *o)
{
    scn_server_options d;

    scn_server_options_init(&d);
    DEF(o->max_message_bytes, d.max_message_bytes);
    DEF(o->queue_msgs, d.queue_msgs);
    DEF(o->queue_bytes, d.queue_bytes);
    DEF(o->max_connections, d.max_connections);
    DEF(o->max_per_address, o->max_connections);
    DEF(o->retry_after_s, d.retry_after_s);
    DEF(o->request_timeout_ms, d.request_timeout_ms);
    DEF(o->pong_timeout_ms, o->ping_interval_ms);
}

/* RFC 6455 token characters: a subprotocol is one token, so that it can be
 * compared with the entries of the client's comma-separated offer. */
static bool is_token(const char *s)
{
    static const char separators[] = "()<>@,;:\\\"/[]?={} \t";

    if (!s || !*s || strlen(s) > SUBPROTOCOL_MAX_LEN)
        return false;
    for (; *s; s++)
        if (*s <= 32 || *s >= 127 || strchr(separators, *s))
            return false;
    return true;
}

static bool path_ok(const char *p)
{
    return p && p[0] == '/' && strlen(p) <= PATH_MAX_LEN && !strchr(p, '?');
}

static int check_options(const scn_server_options *o, scn_ip_addr *bind_addr)
{
    if (o->port < 0 || o->port > 65535)
        return SCN_ERR_INVALID_ARG;
    if (scn__ip_parse(o->bind_address ? o->bind_address : "127.0.0.1",
                      bind_addr))
        return SCN_ERR_INVALID_ARG;
    if (o->path && !path_ok(o->path))
        return SCN_ERR_INVALID_ARG;
    if (o->subprotocol && !is_token(o->subprotocol))
        return SCN_ERR_INVALID_ARG;
    if ((o->allow_count && !o->allow) || (o->route_count && !o->routes) ||
        (o->asset_count && !o->assets) || (o->origin_count && !o->origins))
        return SCN_ERR_INVALID_ARG;
    for (size_t i = 0; i < o->route_count; i++) {
        const scn_server_route *r = &o->routes[i];

        if (!path_ok(r->path) || (r->subprotocol_count && !r->subprotocols))
            return SCN_ERR_INVALID_ARG;
        for (size_t j = 0; j < r->subprotocol_count; j++)
            if (!is_token(r->subprotocols[j]))
                return SCN_ERR_INVALID_ARG;
    }
    for (size_t i = 0; i < o->asset_count; i++)
        if (!path_ok(o->assets[i].path) ||
            (o->assets[i].len && !o->assets[i].data))
            return SCN_ERR_INVALID_ARG;
    for (size_t i = 0; i < o->origin_count; i++)
        if (!o->origins[i] || !*o->origins[i])
            return SCN_ERR_INVALID_ARG;
    if (o->token && !scn__token_format_ok(o->token, strlen(o->token)))
        return SCN_ERR_INVALID_ARG;
    if (!o->tls_cert_file != !o->tls_key_file)
        return SCN_ERR_INVALID_ARG;
    return 0;
}

/* ------------------------------------------------------------------ */
/* Copies of the options                                               */
/* ------------------------------------------------------------------ */

/* A copy of s that lives as long as the server (NULL stays NULL). */
static int keep(scn_server *srv, const char *s, const char **out)
{
    char **ns;

    *out = NULL;
    if (!s)
        return 0;
    ns = realloc(srv->strings, (srv->nstrings + 1) * sizeof(*ns));
    if (!ns)
        return SCN_ERR_NOMEM;
    srv->strings = ns;
    if (!(ns[srv->nstrings] = strdup(s)))
        return SCN_ERR_NOMEM;
    *out = ns[srv->nstrings++];
    return 0;
}

static int keep_list(scn_server *srv, const char *const *in, size_t n,
                     const char *const **out)
{
    const char **v;
    int rc = 0;

    *out = NULL;
    if (!n)
        return 0;
    v = calloc(n, sizeof(*v));
    if (!v)
        return SCN_ERR_NOMEM;
    /* The array itself is kept as a string entry so it is freed alike. */
    {
        char **ns = realloc(srv->strings, (srv->nstrings + 1) * sizeof(*ns));

        if (!ns) {
            free(v);
            return SCN_ERR_NOMEM;
        }
        srv->strings = ns;
        ns[srv->nstrings++] = (char *)v;
    }
    for (size_t i = 0; i < n && !rc; i++)
        rc = keep(srv, in[i], &v[i]);
    *out = v;
    return rc;
}

/* 64-bit FNV-1a of the asset, as its ETag: the content changes only with
 * a new build, so a cheap hash computed once is enough. */
static void etag_of(const void *data, size_t len, char out[20])
{
    const unsigned char *p = data;
    uint64_t h = 1469598103934665603ull;

    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 1099511628211ull;
    }
    snprintf(out, 20, "%016llx", (unsigned long long)h);
}

static int copy_options(scn_server *srv, const scn_server_options *o)
{
    const char *tmp = NULL;
    int rc;

    srv->opts = *o;
    apply_defaults(&srv->opts);
    if ((rc = scn__peer_allow_init(&srv->allow, o->allow, o->allow_count)) ||
        (rc = keep(srv, o->bind_address, &srv->opts.bind_address)) ||
        (rc = keep(srv, o->path, &srv->opts.path)) ||
        (rc = keep(srv, o->subprotocol, &srv->opts.subprotocol)) ||
        (rc = keep_list(srv, o->origins, o->origin_count, &srv->opts.origins)))
        return rc;
    /* The parsed rules replace the caller's strings; files are read once,
     * at creation. */
    srv->opts.allow = NULL;
    srv->opts.tls_cert_file = srv->opts.tls_key_file = NULL;
    if (o->token) {
        /* Kept apart: wiped before it is freed. */
        if (!(srv->token = strdup(o->token)))
            return SCN_ERR_NOMEM;
        srv->opts.token = srv->token;
    }
    srv->nroutes = o->route_count ? o->route_count : 1;
    srv->routes = calloc(srv->nroutes, sizeof(*srv->routes));
    if (!srv->routes)
        return SCN_ERR_NOMEM;
    if (!o->route_count) {
        srv->routes[0].path = srv->opts.path;
        if (srv->opts.subprotocol) {
            rc = keep_list(srv, &srv->opts.subprotocol, 1,
                           &srv->routes[0].subprotocols);
            srv->routes[0].subprotocol_count = 1;
        }
    }
    for (size_t i = 0; i < o->route_count && !rc; i++) {
        rc = keep(srv, o->routes[i].path, &srv->routes[i].path);
        if (!rc)
            rc = keep_list(srv, o->routes[i].subprotocols,
                           o->routes[i].subprotocol_count,
                           &srv->routes[i].subprotocols);
        srv->routes[i].subprotocol_count = o->routes[i].subprotocol_count;
    }
    srv->opts.routes = srv->routes;
    srv->opts.route_count = srv->nroutes;
    if (rc)
        return rc;
    if (o->asset_count) {
        srv->assets = calloc(o->asset_count, sizeof(*srv->assets));
        if (!srv->assets)
            return SCN_ERR_NOMEM;
        srv->nassets = o->asset_count;
    }
    for (size_t i = 0; i < o->asset_count && !rc; i++) {
        scn_asset_entry *e = &srv->assets[i];

        e->a = o->assets[i];
        rc = keep(srv, o->assets[i].path, &e->a.path);
        if (!rc)
            rc = keep(srv,
                      o->assets[i].content_type
                          ? o->assets[i].content_type
                          : scn__http_content_type(o->assets[i].path),
                      &tmp);
        e->a.content_type = tmp;
        etag_of(e->a.data, e->a.len, e->etag);
    }
    srv->opts.assets = NULL; /* see srv->assets */
    return rc;
}

static void free_options(scn_server *srv)
{
    for (size_t i = 0; i < srv->nstrings; i++)
        free(srv->strings[i]);
    free(srv->strings);
    free(srv->routes);
    free(srv->assets);
    if (srv->token) {
        /* Not the API key, but a secret all the same. */
        volatile char *p = srv->token;

        while (*p)
            *p++ = '\0';
        free(srv->token);
    }
    scn__peer_allow_free(&srv->allow);
}

const scn_asset_entry *scn__server_asset_find(const scn_server *srv,
                                              const char *path)
{
    for (size_t i = 0; i < srv->nassets; i++)
        if (strcmp(srv->assets[i].a.path, path) == 0)
            return &srv->assets[i];
    if (strcmp(path, "/") == 0)
        return scn__server_asset_find(srv, "/index.html");
    return NULL;
}

/* ------------------------------------------------------------------ */
/* Creating and freeing                                                */
/* ------------------------------------------------------------------ */

static void server_discard(scn_server *srv)
{
    scn__tls_ctx_free(srv->tls_ctx);
    free_options(srv);
    free(srv->wbuf);
    free(srv);
}

/* The loop's view of a server (scn_loop_child): a listening server keeps
 * scn_loop_run going; the loop's end frees it. */
static void server_child_destroy(scn_loop_child *c)
{
    scn__server_destroy(SCN_CONTAINER_OF(c, scn_server, child));
}

static bool server_child_busy(scn_loop_child *c)
{
    (void)c;
    return true;
}

int scn_server_new(scn_loop *loop, const scn_server_options *opts,
                   scn_server **out)
{
    scn_server_options own;
    scn_ip_addr bind_addr;
    char text[SCN_IP_TEXT_MAX];
    scn_server *srv;
    int rc;

    if (!out)
        return SCN_ERR_INVALID_ARG;
    *out = NULL;
    if (!loop || !opts)
        return SCN_ERR_INVALID_ARG;
    server_defaults(&own);
    if ((rc = scn_options_take(&own, sizeof(own), SERVER_OPTIONS_V0, opts)))
        return rc;
    opts = &own;
    rc = check_options(opts, &bind_addr);
    if (rc)
        return rc;
    if (!scn__loop_on_thread(loop))
        return SCN_ERR_STATE;
    srv = calloc(1, sizeof(*srv));
    if (!srv)
        return SCN_ERR_NOMEM;
    srv->loop = loop;
    srv->log = &loop->log;
    srv->timer_due = UINT64_MAX;
    rc = copy_options(srv, opts);
    if (!rc && opts->tls_cert_file) {
        rc = scn__tls_server_new(srv->log, opts->tls_cert_file,
                                 opts->tls_key_file, &srv->tls_ctx);
        srv->tls = rc == 0;
    }
    if (rc) {
        server_discard(srv);
        return rc;
    }
    srv->limits.request_ms = srv->opts.request_timeout_ms;
    srv->limits.ping_ms = srv->opts.ping_interval_ms;
    srv->limits.pong_ms = srv->opts.pong_timeout_ms;
    srv->limits.close_ms = CLOSE_TIMEOUT_MS;
    pthread_mutex_init(&srv->mu, NULL);

    rc = scn__server_listen(srv, &bind_addr);
    if (rc) {
        pthread_mutex_destroy(&srv->mu);
        server_discard(srv);
        return rc;
    }
    /* The port is known now: it names the token cookie. */
    scn__http_access_init(&srv->access, srv->opts.token, srv->opts.origins,
                          srv->opts.origin_count, srv->tls, srv->port);
    srv->child.destroy = server_child_destroy;
    srv->child.busy = server_child_busy;
    scn__loop_adopt(loop, &srv->child);
    scn__ip_format(&bind_addr, text, sizeof(text));
    scn__log(&loop->log, SCN_LOG_INFO, "server",
             "listening on %s port %d%s%s%s, %zu allowed peer rule(s)%s", text,
             srv->port, srv->tls ? " (TLS)" : "",
             srv->opts.path ? " path " : "",
             srv->opts.path ? srv->opts.path : "", srv->allow.count,
             srv->token ? ", token required off loopback" : "");
    *out = srv;
    return 0;
}

void scn__server_report_close(scn_server_conn *conn, int code)
{
    scn_server *srv = conn->srv;

    if (!conn->announced || conn->close_reported)
        return;
    conn->close_reported = true;
    if (srv->opts.callbacks.on_close) {
        SCN_LOOP_USER_CALL(srv->loop, srv->opts.callbacks.on_close(
                                          srv, conn, code, srv->opts.user));
    }
}

void scn__server_report_error(scn_server *srv, scn_server_conn *conn, int err,
                              const char *detail)
{
    scn__log(&srv->loop->log, SCN_LOG_WARN, "server", "%s%s%s: %s",
             conn ? "peer " : "", conn ? conn->peer : "", conn ? "" : "server",
             detail);
    if (srv->opts.callbacks.on_error && !srv->free_pending &&
        !srv->destroying) {
        SCN_LOOP_USER_CALL(srv->loop,
                           srv->opts.callbacks.on_error(srv, conn, err, detail,
                                                        srv->opts.user));
    }
}

int scn__server_call_connect(scn_server_conn *c, const char *path)
{
    scn_server *srv = c->srv;
    int rc = 0;

    if (srv->opts.callbacks.on_connect) {
        SCN_LOOP_USER_CALL(srv->loop,
                           rc = srv->opts.callbacks.on_connect(
                               srv, c, c->peer, path, srv->opts.user));
    }
    return rc;
}

void scn__server_call_message(scn_server_conn *c, const void *data, size_t len,
                              int is_binary)
{
    scn_server *srv = c->srv;

    if (srv->opts.callbacks.on_message && !srv->free_pending) {
        SCN_LOOP_USER_CALL(srv->loop,
                           srv->opts.callbacks.on_message(
                               srv, c, data, len, is_binary, srv->opts.user));
    }
}

void scn__server_destroy(scn_server *srv)
{
    srv->destroying = true;
    /* Every accepted connection gets its on_close, so that the
     * application can release what it keeps per connection. The list
     * cannot change meanwhile: connections leave it only in the adapter's
     * close path, which no API call runs synchronously. */
    for (scn_server_conn *c = srv->conns; c; c = c->next)
        scn__server_report_close(c, 1001);
    scn__server_unlisten(srv);
    while (srv->conns)
        scn__server_conn_destroy(srv->conns);
    scn__loop_disown(srv->loop, &srv->child);
    scn__log(&srv->loop->log, SCN_LOG_INFO, "server", "port %d closed",
             srv->port);
    pthread_mutex_destroy(&srv->mu);
    server_discard(srv);
}

void scn_server_free(scn_server *srv)
{
    if (!srv || srv->destroying)
        return;
    if (scn__loop_in_user_call(srv->loop)) {
        /* Inside a callback the adapter may be walking this server's
         * connections; the loop finishes the job from its top. */
        if (!srv->free_pending) {
            srv->free_pending = true;
            scn__server_defer_free(srv);
        }
        return;
    }
    scn__server_destroy(srv);
}

int scn_server_port(const scn_server *srv)
{
    return srv ? srv->port : 0;
}

void scn__server_conn_destroy(scn_server_conn *conn)
{
    scn_server *srv = conn->srv;

    pthread_mutex_lock(&srv->mu);
    for (scn_server_conn **pp = &srv->conns; *pp; pp = &(*pp)->next) {
        if (*pp == conn) {
            *pp = conn->next;
            break;
        }
    }
    if (conn->state == SCN_CONN_OPEN)
        srv->stats.connections_open--;
    srv->stats.dropped_unsent += scn__peerq_count(&conn->q);
    pthread_mutex_unlock(&srv->mu);
    scn__server_io_release(conn);
    scn__server_conn_release(conn);
    free(conn);
}

/* ------------------------------------------------------------------ */
/* Admission                                                           */
/* ------------------------------------------------------------------ */

static bool same_addr(const scn_ip_addr *a, const scn_ip_addr *b)
{
    return a->family == b->family &&
           memcmp(a->b, b->b, a->family == 4 ? 4 : 16) == 0;
}

/* The connection silent for longest (from peer only, if given), if it has
 * been silent at least evict_idle_ms. */
static scn_server_conn *eviction_victim(scn_server *srv,
                                        const scn_ip_addr *peer, uint64_t now)
{
    scn_server_conn *best = NULL;

    if (!srv->opts.evict_idle_ms)
        return NULL;
    for (scn_server_conn *c = srv->conns; c; c = c->next) {
        if (c->gone || c->refuse_status || c->state == SCN_CONN_CLOSED ||
            (peer && !same_addr(&c->peer_addr, peer)))
            continue;
        if (now - c->clock.msg_ms < srv->opts.evict_idle_ms)
            continue;
        if (!best || c->clock.msg_ms < best->clock.msg_ms)
            best = c;
    }
    return best;
}

int scn__server_admit(scn_server *srv, const scn_ip_addr *peer)
{
    size_t total = 0, mine = 0, refusing = 0;
    size_t slack = srv->opts.max_connections / 4 + 4;
    uint64_t now = scn_loop_now_ms(srv->loop);
    scn_server_conn *victim = NULL;

    for (scn_server_conn *c = srv->conns; c; c = c->next) {
        if (c->gone || c->state == SCN_CONN_CLOSED)
            continue;
        if (c->refuse_status) {
            refusing++;
            continue;
        }
        total++;
        if (same_addr(&c->peer_addr, peer))
            mine++;
    }
    if (mine >= srv->opts.max_per_address)
        victim = eviction_victim(srv, peer, now);
    else if (total >= srv->opts.max_connections)
        victim = eviction_victim(srv, NULL, now);
    else
        return 0;
    if (victim) {
        SCN_SERVER_COUNT(srv, evicted, 1);
        scn__log(srv->log, SCN_LOG_INFO, "server",
                 "port %d: %s replaces a connection from %s silent for %llu "
                 "ms",
                 srv->port, "a new connection", victim->peer,
                 (unsigned long long)(now - victim->clock.msg_ms));
        victim->gone = true;
        victim->close_code = 1001;
        scn__server_io_close(victim, true);
        return 0;
    }
    scn__log(srv->log, SCN_LOG_WARN, "server",
             "port %d: refusing a connection: %zu open, %zu from that address",
             srv->port, total, mine);
    return refusing < slack ? 503 : -1;
}

/* ------------------------------------------------------------------ */
/* Sending                                                             */
/* ------------------------------------------------------------------ */

/* Queues on one connection; caller holds srv->mu. Sets *wake when the
 * loop must look at this connection: it had no write pending, and no wake
 * is on its way already. */
static int push_locked(scn_server_conn *c, scn_shmsg *m, int is_binary,
                       const void *prefix, size_t plen, uint64_t now,
                       bool *wake)
{
    scn_server *srv = c->srv;
    bool became_slow;
    size_t dropped;
    int rc;

    rc = scn__peerq_push(&c->q, m, is_binary ? 1 : 0, prefix, plen, now,
                         &dropped, &became_slow);
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
    uint64_t now;
    scn_shmsg *m;

    if (!srv || (!data && len))
        return SCN_ERR_INVALID_ARG;
    if (len > srv->opts.queue_bytes)
        return SCN_ERR_MESSAGE_TOO_BIG;
    /* One copy, shared by every connection. */
    if (!(m = scn__shmsg_new(data, len)))
        return SCN_ERR_NOMEM;
    now = scn_loop_now_ms(srv->loop);
    pthread_mutex_lock(&srv->mu);
    for (scn_server_conn *c = srv->conns; c; c = c->next) {
        int rc;

        if (c->state != SCN_CONN_OPEN || c->closing)
            continue;
        rc = push_locked(c, m, is_binary, NULL, 0, now, &wake);
        if (rc == 0)
            n++;
        else
            err = rc;
    }
    pthread_mutex_unlock(&srv->mu);
    scn__shmsg_unref(m);
    if (wake)
        scn__server_wake(srv);
    return err ? err : n;
}

size_t scn__server_queue_bytes(const scn_server *srv)
{
    return srv->opts.queue_bytes;
}

void scn__server_clear_user(scn_server *srv)
{
    srv->opts.user = NULL;
}

void scn__server_batch_begin(scn_server *srv, scn_server_batch *b)
{
    b->srv = srv;
    b->now_ms = scn_loop_now_ms(srv->loop);
    b->wake = false;
    pthread_mutex_lock(&srv->mu);
}

int scn__server_batch_push(scn_server_batch *b, scn_server_conn *conn,
                           scn_shmsg *m, int is_binary, const void *prefix,
                           size_t plen)
{
    if (plen + m->len > b->srv->opts.queue_bytes)
        return SCN_ERR_MESSAGE_TOO_BIG;
    if (conn->closing || conn->state == SCN_CONN_CLOSED)
        return SCN_ERR_STATE;
    return push_locked(conn, m, is_binary, prefix, plen, b->now_ms, &b->wake);
}

void scn__server_batch_end(scn_server_batch *b)
{
    pthread_mutex_unlock(&b->srv->mu);
    if (b->wake)
        scn__server_wake(b->srv);
}

int scn__server_conn_send_shared(scn_server_conn *conn, scn_shmsg *m,
                                 int is_binary, const void *prefix, size_t plen)
{
    scn_server_batch b;
    int rc;

    scn__server_batch_begin(conn->srv, &b);
    rc = scn__server_batch_push(&b, conn, m, is_binary, prefix, plen);
    scn__server_batch_end(&b);
    return rc;
}

int scn_server_conn_send(scn_server_conn *conn, const void *data, size_t len,
                         int is_binary)
{
    scn_shmsg *m;
    int rc;

    if (!conn || (!data && len))
        return SCN_ERR_INVALID_ARG;
    if (len > conn->srv->opts.queue_bytes)
        return SCN_ERR_MESSAGE_TOO_BIG;
    if (!(m = scn__shmsg_new(data, len)))
        return SCN_ERR_NOMEM;
    rc = scn__server_conn_send_shared(conn, m, is_binary, NULL, 0);
    scn__shmsg_unref(m);
    return rc;
}

int scn_server_conn_close(scn_server_conn *conn, int code, const char *reason)
{
    scn_server *srv;
    size_t n;

    if (!conn || !scn__ws_close_code_ok(code))
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
    srv->stats.dropped_unsent += scn__peerq_clear(&conn->q);
    pthread_mutex_unlock(&srv->mu);
    scn__server_wake(srv);
    return 0;
}

int scn_server_close_all(scn_server *srv, int code, const char *reason)
{
    int n = 0;

    if (!srv || !scn__ws_close_code_ok(code))
        return SCN_ERR_INVALID_ARG;
    pthread_mutex_lock(&srv->mu);
    for (scn_server_conn *c = srv->conns; c; c = c->next) {
        if (c->state != SCN_CONN_OPEN || c->closing || c->drain_close_code)
            continue;
        c->drain_close_code = code;
        snprintf(c->want_close_reason, sizeof(c->want_close_reason), "%s",
                 reason ? reason : "");
        c->want_write = true;
        n++;
    }
    srv->wake_pending = true;
    pthread_mutex_unlock(&srv->mu);
    scn__server_wake(srv);
    return n;
}

/* ------------------------------------------------------------------ */
/* The loop thread's service                                           */
/* ------------------------------------------------------------------ */

void scn__server_service(scn_server *srv)
{
    uint64_t now = scn_loop_now_ms(srv->loop), next = UINT64_MAX, due;
    uint32_t limit = srv->opts.slow_disconnect_ms;
    /* Connections due within a quarter interval are written now too, so
     * that they fall into step and one timer serves them all. */
    uint64_t slack = srv->opts.write_interval_ms / 4;

    if (srv->free_pending || srv->destroying)
        return;
    /* Decide under the lock, act without it: the adapter and user
     * callbacks may call the API. The list changes only on this thread,
     * in the adapter's close path, which runs neither here nor from any
     * API call. */
    pthread_mutex_lock(&srv->mu);
    srv->wake_pending = false;
    for (scn_server_conn *c = srv->conns; c; c = c->next) {
        if (c->state == SCN_CONN_CLOSED || !c->io || c->gone)
            continue;
        /* Connections still in their handshake keep their wants: they are
         * served once open. A write waits for the connection's interval
         * (the timer below comes back for it); a close does not. */
        if (c->state == SCN_CONN_OPEN && c->want_write && !c->want_close_code &&
            now + slack < c->next_write_ms) {
            if (c->next_write_ms < next)
                next = c->next_write_ms;
        } else if (c->want_close_code || c->drain_close_code ||
                   (c->state == SCN_CONN_OPEN && c->want_write)) {
            c->act_write = true;
            c->want_write = false;
        }
        c->act_notice = c->slow_notice;
        c->slow_notice = false;
        if (c->state != SCN_CONN_OPEN || c->closing)
            continue;
        if (scn__peerq_overdue(&c->q, now, limit, &due)) {
            c->act_cut = true;
            c->closing = true;
            srv->stats.disconnected_slow++;
        } else if (due < next) {
            next = due;
        }
    }
    pthread_mutex_unlock(&srv->mu);

    for (scn_server_conn *c = srv->conns; c; c = c->next) {
        if (c->act_cut) {
            c->act_cut = false;
            c->act_write = false;
            scn__log(srv->log, SCN_LOG_WARN, "server",
                     "port %d: cutting off %s: behind for %u ms", srv->port,
                     c->peer, (unsigned)limit);
            scn__server_cut_slow(c);
        }
        if (c->act_write) {
            c->act_write = false;
            /* A socket that took its last write whole is written now:
             * a writeable callback would cost a loop turn per dashboard
             * and flush. What the socket does not take, the adapter
             * keeps, and the next write waits for writeable. */
            if (!scn__server_io_idle(c))
                scn__server_io_want_write(c);
            else if (scn__server_conn_on_writeable(c) < 0)
                scn__server_io_close(c, true);
        }
        scn__server_conn_timers(c, now, &due);
        if (due < next)
            next = due;
    }
    for (scn_server_conn *c = srv->conns; c; c = c->next) {
        if (c->act_notice) {
            c->act_notice = false;
            scn__server_report_error(srv, c, SCN_ERR_QUEUE_FULL,
                                     "peer too slow: oldest messages dropped");
        }
    }
    if (srv->free_pending || srv->destroying)
        return;
    scn__server_arm_timer(srv, next);
}

/* ------------------------------------------------------------------ */
/* Getters                                                             */
/* ------------------------------------------------------------------ */

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

size_t scn_server_conn_route(const scn_server_conn *conn)
{
    return conn ? conn->route : 0;
}

const char *scn_server_conn_subprotocol(const scn_server_conn *conn)
{
    return conn ? conn->subprotocol : NULL;
}

void scn_server_conn_set_idle_timeout(scn_server_conn *conn, uint32_t ms)
{
    if (!conn)
        return;
    conn->clock.idle_ms = ms;
    conn->clock.msg_ms = scn_loop_now_ms(conn->srv->loop);
    /* The deadline timer is re-armed from the loop. */
    scn__server_wake(conn->srv);
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
    out->queued_msgs = scn__peerq_count(&conn->q);
    out->queued_bytes = scn__peerq_bytes(&conn->q);
    out->slow = conn->q.slow;
    pthread_mutex_unlock(&conn->srv->mu);
}
