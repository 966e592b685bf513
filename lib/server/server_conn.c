/*
 * One server connection's protocol, in plain C: the HTTP request, the
 * access checks, plain answers and assets, the WebSocket handshake,
 * client frames, our frames (batched), closing, and the connection's
 * timers. The adapter (server_adapter.c) moves bytes: it calls
 * scn__server_conn_on_input() with what the peer sent and
 * scn__server_conn_on_writeable() when the socket can take more, and this
 * file answers through the scn_server_io_* calls.
 *
 * Writing: every write is put together in the server's buffer from, in
 * order, the bytes owed first (an answer's head, a pong, a close frame),
 * an asset's body, and queued messages as complete frames, and handed to
 * the adapter in one piece. The next one waits for the next writeable,
 * which comes once the socket has taken the previous one: the socket sets
 * the pace.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <scentience/error.h>

#include "http_response.h"
#include "server_internal.h"
#include "ws_handshake.h"

/* One write takes at most this many queued messages and bytes: a batch
 * is one send instead of one per message, and 64 KiB is what a
 * dashboard's socket buffer holds. */
#define WRITE_BATCH_MSGS  64
#define WRITE_BATCH_BYTES (64u * 1024)
/* Reported for a peer cut off for being slow: "try again later" (1013),
 * not policy violation (1008), which a scentience.v1 client takes as
 * final (docs/PROTOCOL.md 5); being behind once is not. */
#define SLOW_CLOSE_CODE 1013
#define IDLE_CLOSE_CODE 1001
#define RX_CHUNK        4096

static uint64_t now_ms(const scn_server_conn *c)
{
    return scn_loop_now_ms(c->srv->loop);
}

static bool is_loopback(const scn_ip_addr *a)
{
    static const unsigned char v6[16] = {0, 0, 0, 0, 0, 0, 0, 0,
                                         0, 0, 0, 0, 0, 0, 0, 1};

    return a->family == 4 ? a->b[0] == 127 : memcmp(a->b, v6, 16) == 0;
}

int scn__server_conn_init(scn_server_conn *c, scn_server *srv,
                          const scn_ip_addr *peer, int refuse_status)
{
    c->srv = srv;
    c->peer_addr = *peer;
    c->peer_loopback = is_loopback(peer);
    scn__ip_format(peer, c->peer, sizeof(c->peer));
    c->refuse_status = refuse_status;
    scn__http_request_init(&c->req);
    scn__conn_clock_phase(&c->clock, SCN_PHASE_HTTP, now_ms(c));
    c->clock.idle_ms = srv->opts.idle_timeout_ms;
    return scn__peerq_init(&c->q, srv->opts.queue_msgs, srv->opts.queue_bytes);
}

void scn__server_conn_release(scn_server_conn *c)
{
    scn__peerq_free(&c->q);
    scn__http_request_free(&c->req);
    free(c->rxbuf);
    free(c->raw);
    c->rxbuf = c->raw = NULL;
}

/* ------------------------------------------------------------------ */
/* Output owed first                                                   */
/* ------------------------------------------------------------------ */

static bool raw_append(scn_server_conn *c, const void *p, size_t n)
{
    if (c->raw_len + n > c->raw_cap) {
        size_t cap = c->raw_cap ? c->raw_cap : 256;
        unsigned char *nb;

        while (cap < c->raw_len + n)
            cap *= 2;
        nb = realloc(c->raw, cap);
        if (!nb)
            return false;
        c->raw = nb;
        c->raw_cap = cap;
    }
    if (n)
        memcpy(c->raw + c->raw_len, p, n);
    c->raw_len += n;
    return true;
}

static void raw_frame(scn_server_conn *c, int opcode, const void *p, size_t n)
{
    unsigned char h[SCN_WS_HDR_MAX];

    if (raw_append(c, h, scn__ws_header(h, opcode, n)))
        raw_append(c, p, n);
}

/* An answer that ends the connection once written. */
static void answer_and_close(scn_server_conn *c, int status, const char *why,
                             const char *extra)
{
    char buf[1024];
    size_t n;
    bool head = c->req.complete && strcmp(c->req.method, "HEAD") == 0;

    n = scn__http_error_response(buf, sizeof(buf), status, why, extra, head,
                                 true);
    if (n)
        raw_append(c, buf, n);
    c->close_after = true;
    c->answering = true;
    scn__conn_clock_phase(&c->clock, SCN_PHASE_CLOSING, now_ms(c));
    scn__server_io_rx(c, false);
    scn__server_io_want_write(c);
}

static void refuse(scn_server_conn *c, int status, const char *why,
                   const char *extra)
{
    scn_server *srv = c->srv;

    SCN_SERVER_COUNT(srv, connections_refused, 1);
    scn__log(srv->log, SCN_LOG_INFO, "server",
             "port %d: refused %s: %s (HTTP %d)", srv->port, c->peer, why,
             status);
    answer_and_close(c, status, why, extra);
}

void scn__server_conn_on_ready(scn_server_conn *c)
{
    char extra[64];

    if (c->refuse_status != 503)
        return;
    snprintf(extra, sizeof(extra), "Retry-After: %u\r\n",
             (unsigned)c->srv->opts.retry_after_s);
    SCN_SERVER_COUNT(c->srv, refused_busy, 1);
    refuse(c, 503, "too many connections; try again later", extra);
}

/* ------------------------------------------------------------------ */
/* Requests                                                            */
/* ------------------------------------------------------------------ */

static const scn_server_route *find_route(scn_server *srv, const char *path,
                                          size_t *idx)
{
    for (size_t i = 0; i < srv->nroutes; i++) {
        if (!srv->routes[i].path || strcmp(srv->routes[i].path, path) == 0) {
            *idx = i;
            return &srv->routes[i];
        }
    }
    return NULL;
}

static void established(scn_server_conn *c, const char *key)
{
    scn_server *srv = c->srv;
    char buf[512];
    size_t n = scn__ws_accept_response(buf, sizeof(buf), key, c->subprotocol);

    if (!n || !raw_append(c, buf, n)) {
        scn__server_io_close(c, true);
        return;
    }
    pthread_mutex_lock(&srv->mu);
    c->state = SCN_CONN_OPEN;
    srv->stats.connections_accepted++;
    srv->stats.connections_open++;
    c->want_write = false;
    pthread_mutex_unlock(&srv->mu);
    /* The head is not needed any more: its buffer goes. */
    scn__http_request_free(&c->req);
    scn__ws_reader_init(&c->rd, srv->opts.max_message_bytes);
    scn__conn_clock_phase(&c->clock, SCN_PHASE_WS, now_ms(c));
    scn__log(srv->log, SCN_LOG_INFO, "server", "port %d: %s connected",
             srv->port, c->peer);
    scn__server_io_want_write(c);
}

static void upgrade(scn_server_conn *c)
{
    scn_server *srv = c->srv;
    const scn_http_request *r = &c->req;
    const scn_server_route *route;
    size_t idx = 0;
    bool any;
    int rc, pick;

    rc = scn__ws_check_upgrade(r);
    if (rc == 426) {
        refuse(c, 426, "only WebSocket version 13 is served",
               "Sec-WebSocket-Version: 13\r\n");
        return;
    }
    if (rc) {
        refuse(c, rc, "not a valid WebSocket upgrade", NULL);
        return;
    }
    route = find_route(srv, r->path, &idx);
    if (!route) {
        refuse(c, 404, "no such path", NULL);
        return;
    }
    pick = scn__ws_pick_subprotocol(r, route->subprotocols,
                                    route->subprotocol_count, &any);
    if (route->subprotocol_count && pick < 0) {
        refuse(c, 400, "subprotocol not offered", NULL);
        return;
    }
    if (!route->subprotocol_count && any) {
        refuse(c, 400, "no subprotocol served", NULL);
        return;
    }
    c->route = idx;
    c->subprotocol = pick >= 0 ? route->subprotocols[pick] : NULL;
    rc = scn__server_call_connect(c, r->path);
    if (rc) {
        refuse(c, 403, "refused by the application", NULL);
        return;
    }
    c->announced = true;
    pthread_mutex_lock(&srv->mu);
    c->state = SCN_CONN_PENDING;
    pthread_mutex_unlock(&srv->mu);
    /* Freed inside on_connect: the connection still gets its on_close
     * (1001) when the free completes; the handshake stops here. */
    if (srv->free_pending) {
        scn__server_io_close(c, true);
        return;
    }
    established(c, scn__http_field_get(r, "sec-websocket-key"));
}

static void serve_asset(scn_server_conn *c, bool pipelined,
                        const scn_access_verdict *v)
{
    scn_server *srv = c->srv;
    const scn_http_request *r = &c->req;
    const char *inm = scn__http_field_get(r, "if-none-match");
    const char *conn = scn__http_field_get(r, "connection");
    bool head = strcmp(r->method, "HEAD") == 0;
    const scn_asset_entry *a;
    char buf[2048], extra[256], quoted[24];
    bool close;
    size_t n;
    int status = 200;

    if (!head && strcmp(r->method, "GET") != 0) {
        refuse(c, 405, "only GET and HEAD", "Allow: GET, HEAD\r\n");
        return;
    }
    a = scn__server_asset_find(srv, r->path);
    if (!a) {
        refuse(c, 404, "no such path", NULL);
        return;
    }
    close = pipelined || r->minor == 0 ||
            (conn && scn__http_list_has(conn, "close"));
    extra[0] = '\0';
    if (v->token_via == SCN_TOKEN_QUERY) {
        /* The token leaves the address bar (and the history) for a
         * cookie the browser sends back by itself, on this origin only. */
        snprintf(extra, sizeof(extra),
                 "Location: %s\r\nSet-Cookie: %s=%s; Path=/; HttpOnly; "
                 "SameSite=Lax%s\r\n",
                 r->path, srv->access.cookie_name, srv->opts.token,
                 srv->tls ? "; Secure" : "");
        n = scn__http_error_response(buf, sizeof(buf), 303,
                                     "the token is now a cookie", extra, head,
                                     close);
        status = 303;
    } else {
        snprintf(quoted, sizeof(quoted), "\"%s\"", a->etag);
        if (inm && (strcmp(inm, quoted) == 0 || strcmp(inm, "*") == 0))
            status = 304;
        n = scn__http_asset_head(buf, sizeof(buf), status, a->a.content_type,
                                 a->a.len, a->etag,
                                 scn__http_field_get(r, "host"), NULL, close);
    }
    if (!n || !raw_append(c, buf, n)) {
        scn__server_io_close(c, true);
        return;
    }
    SCN_SERVER_COUNT(srv, http_requests, 1);
    if (status == 200 && !head) {
        c->body = a->a.data;
        c->body_left = a->a.len;
    }
    c->answering = true;
    c->close_after = close;
    /* The answer has request_timeout_ms to go out, as a head has to come
     * in; reading waits until it has. */
    scn__conn_clock_phase(&c->clock, close ? SCN_PHASE_CLOSING : SCN_PHASE_HTTP,
                          now_ms(c));
    scn__server_io_rx(c, false);
    scn__server_io_want_write(c);
}

static void handle_request(scn_server_conn *c, bool pipelined)
{
    scn_server *srv = c->srv;
    scn_access_verdict v;

    if (srv->free_pending) {
        scn__server_io_close(c, true);
        return;
    }
    scn__http_access_check(&srv->access, &c->req, c->peer_loopback, &v);
    if (v.status)
        SCN_SERVER_COUNT(srv, refused_access, 1);
    if (v.status == 401) {
        refuse(c, 401, v.why,
               "WWW-Authenticate: Bearer realm=\"scentience\"\r\n");
        return;
    }
    if (v.status) {
        refuse(c, v.status, v.why, NULL);
        return;
    }
    if (scn__ws_is_upgrade(&c->req))
        upgrade(c);
    else
        serve_asset(c, pipelined, &v);
}

/* ------------------------------------------------------------------ */
/* WebSocket input                                                     */
/* ------------------------------------------------------------------ */

static void deliver(scn_server_conn *c, const unsigned char *data, size_t len)
{
    scn_server *srv = c->srv;
    bool closing;

    pthread_mutex_lock(&srv->mu);
    srv->stats.messages_in++;
    srv->stats.bytes_in += len;
    c->st.messages_in++;
    c->st.bytes_in += len;
    closing = c->closing;
    pthread_mutex_unlock(&srv->mu);
    scn__conn_clock_message(&c->clock, now_ms(c));
    if (!closing)
        scn__server_call_message(c, data, len, c->rx_binary);
}

static int on_data(void *user, unsigned char *p, size_t n, bool binary,
                   bool first, bool last)
{
    scn_server_conn *c = user;

    if (first)
        c->rx_binary = binary;
    if (first && last) {
        deliver(c, p, n);
        return 0;
    }
    if (first)
        c->rxlen = 0;
    if (c->rxlen + n > c->rxcap) {
        size_t cap = c->rxcap ? c->rxcap : RX_CHUNK;
        unsigned char *nb;

        /* The reader bounds the total by max_message_bytes. */
        while (cap < c->rxlen + n)
            cap *= 2;
        nb = realloc(c->rxbuf, cap);
        if (!nb) {
            scn__server_report_error(c->srv, c, SCN_ERR_NOMEM,
                                     "no memory for a message");
            return 1011;
        }
        c->rxbuf = nb;
        c->rxcap = cap;
    }
    if (n)
        memcpy(c->rxbuf + c->rxlen, p, n);
    c->rxlen += n;
    if (last) {
        deliver(c, c->rxbuf, c->rxlen);
        c->rxlen = 0;
    }
    return 0;
}

static int on_control(void *user, int opcode, const unsigned char *p, size_t n)
{
    scn_server_conn *c = user;
    scn_server *srv = c->srv;
    bool ours;

    switch (opcode) {
    case SCN_WS_PING:
        raw_frame(c, SCN_WS_PONG, p, n);
        scn__server_io_want_write(c);
        return 0;
    case SCN_WS_CLOSE:
        scn__ws_close_payload(p, n, &c->peer_close_code);
        pthread_mutex_lock(&srv->mu);
        ours = c->closing && !c->want_close_code;
        pthread_mutex_unlock(&srv->mu);
        if (ours) {
            /* The answer to our close: done. */
            scn__server_io_close(c, false);
            return 0;
        }
        /* Echo the code (RFC 6455 5.5.1), then close our side. */
        scn__server_conn_close_now(
            c, c->peer_close_code == 1005 ? 1000 : c->peer_close_code, NULL);
        return 0;
    default:
        return 0; /* a pong: the clock saw the bytes */
    }
}

static const scn_ws_events ws_events = {on_data, on_control};

static void ws_input(scn_server_conn *c, unsigned char *in, size_t n)
{
    scn_server *srv = c->srv;
    int rc = scn__ws_reader_feed(&c->rd, in, n, &ws_events, c);

    if (rc == 0 || rc == 1011) {
        if (rc)
            scn__server_conn_close_now(c, rc, "out of memory");
        return;
    }
    if (rc == SCN_WS_TOO_BIG) {
        SCN_SERVER_COUNT(srv, oversize, 1);
        scn__server_conn_close_now(c, rc, "message too big");
        scn__server_report_error(srv, c, SCN_ERR_MESSAGE_TOO_BIG,
                                 "inbound message over max_message_bytes");
        return;
    }
    SCN_SERVER_COUNT(srv, protocol_errors, 1);
    scn__server_conn_close_now(
        c, rc, rc == SCN_WS_INVALID_DATA ? "invalid UTF-8" : "protocol error");
    scn__server_report_error(srv, c, SCN_ERR_MALFORMED,
                             rc == SCN_WS_INVALID_DATA
                                 ? "text that is not UTF-8: closed with 1007"
                                 : "WebSocket protocol error: closed with "
                                   "1002");
}

void scn__server_conn_on_input(scn_server_conn *c, unsigned char *in, size_t n)
{
    size_t used;
    int rc;

    scn__conn_clock_rx(&c->clock, now_ms(c));
    /* Answered and closing, or shut: what still comes is discarded. */
    if (c->close_after || c->shut || c->state == SCN_CONN_CLOSED)
        return;
    if (c->state == SCN_CONN_HTTP) {
        if (c->answering)
            return; /* reading is paused; a late byte waits for nothing */
        rc = scn__http_request_feed(&c->req, in, n, &used);
        if (rc == 0)
            return;
        if (rc != 1) {
            refuse(c, rc, "malformed request", NULL);
            return;
        }
        handle_request(c, used < n);
        if (c->state != SCN_CONN_OPEN)
            return;
        in += used;
        n -= used;
    }
    if (n && c->state == SCN_CONN_OPEN && !c->closing)
        ws_input(c, in, n);
}

/* ------------------------------------------------------------------ */
/* Writing and closing                                                 */
/* ------------------------------------------------------------------ */

void scn__server_conn_close_now(scn_server_conn *c, int code, const char *why)
{
    scn_server *srv = c->srv;

    pthread_mutex_lock(&srv->mu);
    if (!c->closing) {
        c->closing = true;
        c->want_close_code = code;
        snprintf(c->want_close_reason, sizeof(c->want_close_reason), "%s",
                 why ? why : "");
        srv->stats.dropped_unsent += scn__peerq_clear(&c->q);
    }
    pthread_mutex_unlock(&srv->mu);
    scn__server_io_rx(c, false);
    scn__server_io_want_write(c);
}

/* Room for n more bytes in the write buffer (beyond LWS's needs there are
 * none: the adapter writes raw). */
static bool wbuf_fit(scn_server *srv, size_t n)
{
    unsigned char *nb;
    size_t cap;

    if (n <= srv->wcap)
        return true;
    /* A full batch and the slack of a prefix copy (pack_messages). */
    cap = srv->wcap ? srv->wcap : WRITE_BATCH_BYTES + SCN_PEERQ_PREFIX_MAX;
    while (cap < n)
        cap *= 2;
    nb = realloc(srv->wbuf, cap);
    if (!nb)
        return false;
    srv->wbuf = nb;
    srv->wcap = cap;
    return true;
}

static size_t header_len(size_t n)
{
    return n < 126 ? 2 : n <= 0xFFFF ? 4 : SCN_WS_HDR_MAX;
}

/* Queued messages as frames after the at bytes already in the buffer.
 * Returns the new end; counts in *nmsg and *payload. */
static size_t pack_messages(scn_server_conn *c, size_t at, size_t *nmsg,
                            size_t *payload)
{
    scn_server *srv = c->srv;
    scn_peer_item batch[WRITE_BATCH_MSGS];
    const scn_peer_item *head;
    size_t nb = 0, end = at;

    pthread_mutex_lock(&srv->mu);
    /* Whole messages while they fit a batch; the first always goes (the
     * buffer grows for one that is bigger). */
    while (nb < WRITE_BATCH_MSGS && (head = scn__peerq_peek(&c->q))) {
        size_t len = head->plen + head->m->len;
        size_t framed = header_len(len) + len;

        if ((nb || at) && end + framed > WRITE_BATCH_BYTES)
            break;
        /* Room for a whole prefix field too: see below. */
        if (!wbuf_fit(srv, end + framed + SCN_PEERQ_PREFIX_MAX))
            break;
        scn__peerq_take(&c->q, &batch[nb++]);
        end += framed;
    }
    pthread_mutex_unlock(&srv->mu);
    for (size_t i = 0; i < nb; i++) {
        scn_peer_item *it = &batch[i];
        size_t total = it->plen + it->m->len;

        at += scn__ws_header(srv->wbuf + at,
                             it->tag ? SCN_WS_BINARY : SCN_WS_TEXT, total);
        /* The whole field, a fixed-size copy (no call): the payload then
         * overwrites what lies past the prefix, and anything past the
         * frame's end is overwritten by the next frame or never sent. */
        memcpy(srv->wbuf + at, it->prefix, SCN_PEERQ_PREFIX_MAX);
        memcpy(srv->wbuf + at + it->plen, it->m->data, it->m->len);
        at += total;
        *payload += total;
        scn__shmsg_unref(it->m);
    }
    *nmsg = nb;
    return at;
}

int scn__server_conn_on_writeable(scn_server_conn *c)
{
    scn_server *srv = c->srv;
    char reason[SCN_CLOSE_REASON_MAX + 1];
    size_t at = 0, nmsg = 0, payload = 0, take;
    int code = 0;
    bool more;

    if (c->state == SCN_CONN_CLOSED || c->shut)
        return 0;
    pthread_mutex_lock(&srv->mu);
    /* A close after the last queued message: now that it has gone. */
    if (!c->want_close_code && !c->closing && c->drain_close_code &&
        scn__peerq_count(&c->q) == 0) {
        c->closing = true;
        c->want_close_code = c->drain_close_code;
    }
    if (c->want_close_code) {
        code = c->want_close_code;
        memcpy(reason, c->want_close_reason, sizeof(reason));
        c->want_close_code = 0;
    }
    pthread_mutex_unlock(&srv->mu);
    if (code) {
        unsigned char cp[2 + SCN_CLOSE_REASON_MAX];
        size_t rn = strlen(reason);

        cp[0] = (unsigned char)(code >> 8);
        cp[1] = (unsigned char)code;
        memcpy(cp + 2, reason, rn);
        c->close_code = c->close_code ? c->close_code : code;
        /* Only a WebSocket gets a close frame. */
        if (c->state == SCN_CONN_OPEN)
            raw_frame(c, SCN_WS_CLOSE, cp, 2 + rn);
        c->close_after = true;
        scn__conn_clock_phase(&c->clock, SCN_PHASE_CLOSING, now_ms(c));
    }
    /* Owed bytes first, whole. */
    if (c->raw_len) {
        if (!wbuf_fit(srv, c->raw_len))
            return -1;
        memcpy(srv->wbuf, c->raw, c->raw_len);
        at = c->raw_len;
        c->raw_len = 0;
    }
    if (c->body_left && at < WRITE_BATCH_BYTES &&
        wbuf_fit(srv, WRITE_BATCH_BYTES)) {
        take = WRITE_BATCH_BYTES - at;
        if (take > c->body_left)
            take = c->body_left;
        memcpy(srv->wbuf + at, c->body, take);
        c->body += take;
        c->body_left -= take;
        at += take;
    } else if (c->state == SCN_CONN_OPEN && !c->close_after) {
        at = pack_messages(c, at, &nmsg, &payload);
    }
    if (at) {
        if (scn__server_io_write(c, srv->wbuf, at) < 0)
            return -1;
        c->next_write_ms = now_ms(c) + srv->opts.write_interval_ms;
        pthread_mutex_lock(&srv->mu);
        srv->stats.writes++;
        srv->stats.messages_out += nmsg;
        srv->stats.bytes_out += payload;
        c->st.messages_out += nmsg;
        c->st.bytes_out += payload;
        more =
            (scn__peerq_count(&c->q) > 0 || c->drain_close_code) && !c->closing;
        pthread_mutex_unlock(&srv->mu);
        /* Behind (the batch was full), a body not all out, or an end to
         * make once this is flushed: come back when the socket took it. */
        if (more || c->body_left || c->raw_len || c->close_after ||
            c->answering)
            scn__server_io_want_write(c);
        return 0;
    }
    /* Nothing left to write, and the adapter flushed everything before
     * calling: end, or be ready for the next request. */
    if (c->close_after) {
        c->shut = true;
        scn__conn_clock_phase(&c->clock, SCN_PHASE_CLOSING, now_ms(c));
        scn__server_io_shutdown(c);
        /* Reading resumes only to see the peer's end (and discard). */
        scn__server_io_rx(c, true);
        return 0;
    }
    if (c->answering) {
        c->answering = false;
        scn__http_request_reset(&c->req);
        scn__conn_clock_phase(&c->clock, SCN_PHASE_HTTP, now_ms(c));
        scn__server_io_rx(c, true);
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* Timers and the end                                                  */
/* ------------------------------------------------------------------ */

void scn__server_conn_timers(scn_server_conn *c, uint64_t now, uint64_t *next)
{
    scn_server *srv = c->srv;
    scn_conn_due due;

    *next = UINT64_MAX;
    if (c->state == SCN_CONN_CLOSED || c->gone || !c->io)
        return;
    due = scn__conn_timers_check(&c->clock, &srv->limits, now, next);
    switch (due) {
    case SCN_DUE_NONE:
        return;
    case SCN_DUE_PING:
        if (c->state == SCN_CONN_OPEN && !c->closing) {
            raw_frame(c, SCN_WS_PING, NULL, 0);
            scn__server_io_want_write(c);
        }
        c->clock.ping_ms = now;
        break;
    case SCN_DUE_IDLE:
        SCN_SERVER_COUNT(srv, idle_closed, 1);
        scn__log(srv->log, SCN_LOG_INFO, "server",
                 "port %d: closing %s: no message for %u ms", srv->port,
                 c->peer, (unsigned)c->clock.idle_ms);
        c->clock.idle_ms = 0;
        scn__server_conn_close_now(c, IDLE_CLOSE_CODE, "idle timeout");
        break;
    case SCN_DUE_REQUEST_TIME:
        SCN_SERVER_COUNT(srv, idle_closed, 1);
        c->gone = true;
        scn__server_io_close(c, true);
        return;
    case SCN_DUE_DEAD:
        SCN_SERVER_COUNT(srv, dead_peers, 1);
        scn__log(srv->log, SCN_LOG_WARN, "server",
                 "port %d: cutting off %s: no answer to a ping in %u ms",
                 srv->port, c->peer, (unsigned)srv->limits.pong_ms);
        c->close_code = 1006;
        c->gone = true;
        scn__server_io_close(c, true);
        return;
    case SCN_DUE_CLOSE_TIME:
        c->gone = true;
        scn__server_io_close(c, true);
        return;
    }
    scn__conn_timers_check(&c->clock, &srv->limits, now, next);
}

static int close_code_of(const scn_server_conn *c)
{
    if (c->close_code)
        return c->close_code;
    if (c->peer_close_code)
        return c->peer_close_code;
    return 1006;
}

void scn__server_conn_on_closed(scn_server_conn *c)
{
    scn_server *srv = c->srv;
    bool was_open;

    pthread_mutex_lock(&srv->mu);
    was_open = c->state == SCN_CONN_OPEN;
    if (was_open)
        srv->stats.connections_open--;
    c->state = SCN_CONN_CLOSED;
    pthread_mutex_unlock(&srv->mu);
    if (was_open)
        scn__log(srv->log, SCN_LOG_INFO, "server", "port %d: %s closed (%d)",
                 srv->port, c->peer, close_code_of(c));
    scn__server_report_close(c, close_code_of(c));
}

void scn__server_cut_slow(scn_server_conn *c)
{
    c->close_code = SLOW_CLOSE_CODE;
    c->gone = true;
    /* Its socket is full, so a close frame would never leave. */
    scn__server_io_close(c, true);
}
