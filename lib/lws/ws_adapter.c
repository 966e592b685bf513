/*
 * The libwebsockets adapter: the only file that drives lws for client
 * sessions. It turns lws events into policy inputs (fsm, queues) and policy
 * decisions into lws calls. All of it runs on the loop's thread.
 *
 * lws is the transport only: TCP, its poll loop and timers. The
 * connection is an lws RAW client on both schemes; the WebSocket protocol
 * is ours, as in the servers: the upgrade request is written here, the
 * answer read with ws_client_handshake.c, frames read with ws_frame.c's
 * reader (its client role) and written with our own headers and masks.
 * lws 4.1.6's client parser walks every received byte through a state
 * machine, which cost more than anything else per frame in scn-companion.
 *
 * On wss:// TLS is ours too (lib/tls/, OpenSSL over memory buffers, as in
 * the servers): lws carries ciphertext on a plain socket. lws 4.1.6 as
 * Debian builds it (no LWS_WITH_SYS_ASYNC_DNS) cannot start its own TLS on
 * a RAW client ("tls start fail": it tries before the socket exists).
 *
 * Names are ours as well: that lws resolves a host name with a blocking
 * getaddrinfo() inside lws_client_connect_via_info(), on the loop thread,
 * so a silent DNS server would stop every session for the resolver's
 * timeout. A name is resolved first on a thread of its own (resolve.c)
 * and lws is given the numeric address; the upgrade request's Host, SNI
 * and the certificate check keep the URL's name.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <scentience/version.h>

#include "lws_loop.h"
#include "sock_abort.h"
#include "tls_mem.h"
#include "ws_client_handshake.h"
#include "ws_frame.h"

/* The protocol state of one connection attempt (the session's link). */
struct scn_ws_link {
    scn_resolve_watch *resolve; /* the host name, while being resolved */
    scn_addr_text addr;         /* the name's address lws connects to */
    scn_tls_conn *tls;          /* wss://: the TLS state; NULL on ws:// */
    bool tls_started;           /* the ClientHello went out */
    char key[25];               /* the Sec-WebSocket-Key sent */
    bool request_sent;          /* the upgrade request was written */
    bool upgraded;              /* 101 checked: frames from here on */
    bool close_now;             /* the receive path asks lws to close */
    scn_ws_reply reply;         /* the answer, until upgraded */
    scn_ws_reader reader;
    /* Bytes read but not parsed while reading is paused (manual
     * dispatch behind): at most one read's worth. */
    unsigned char *held;
    size_t held_len;
    bool resume_due; /* the session timer parses it, then reads again */
    /* A ping's payload to answer (the last one: RFC 6455 5.5.3). */
    bool pong_due;
    unsigned char pong[SCN_WS_CONTROL_MAX];
    size_t pong_len;
};

#define USER_AGENT "scentience-c/" SCN_VERSION_STRING

static uint64_t now_ms(scn_session *s)
{
    return scn_loop_now_ms(s->loop);
}

static void session_timer(void *user)
{
    scn__session_service(user);
}

size_t scn__ws_headroom(void)
{
    return LWS_PRE;
}

int scn__ws_attach(scn_session *s)
{
    s->link = calloc(1, sizeof(*s->link));
    if (!s->link)
        return SCN_ERR_NOMEM;
    return scn__lws_timer_new(s->loop, session_timer, s, &s->timer);
}

/* The name is no longer awaited; a thread still resolving it ends by
 * itself and touches nothing of ours. */
static void stop_resolving(struct scn_ws_link *k)
{
    scn__resolve_watch_free(k->resolve);
    k->resolve = NULL;
}

void scn__ws_release(scn_session *s)
{
    if (s->link) {
        stop_resolving(s->link);
        free(s->link->held);
        scn__tls_conn_free(s->link->tls);
    }
    free(s->link);
    s->link = NULL;
    scn__lws_timer_free(s->timer);
    s->timer = NULL;
    scn__tls_ctx_free(s->tls);
    s->tls = NULL;
}

static bool write_now(scn_session *s);

void scn__ws_want_write(scn_session *s)
{
    if (!write_now(s))
        lws_callback_on_writable(s->wsi);
}

void scn__session_schedule(scn_session *s, uint64_t delay_ms)
{
    scn__lws_timer_arm(s->timer, delay_ms);
}

static void schedule_next(scn_session *s, uint64_t deadline)
{
    uint64_t now = now_ms(s);

    if (deadline == UINT64_MAX)
        scn__lws_timer_cancel(s->timer);
    else
        scn__session_schedule(s, deadline > now ? deadline - now : 0);
}

/* After any event: let the service routine decide what is due next. */
static void rearm(scn_session *s)
{
    scn__session_schedule(s, 0);
}

static void wipe_transient_key(scn_session *s)
{
    if (s->key_source && strcmp(s->key_source, "option") != 0)
        scn__secret_wipe(s->key);
}

/*
 * A link given up on is reset, never left to drain. lws closes a killed or
 * failed client connection with a plain close(), after which the kernel
 * keeps retransmitting whatever was queued and then sends FIN: a command
 * written before an outage would reach the peer when the link came back,
 * long after the application was told the link was lost. The reset
 * happens here, before that is reported, and drops the socket's queue.
 */
static void abort_link(scn_session *s, struct lws *wsi)
{
    size_t unsent = 0;
    int fd = wsi ? (int)lws_get_socket_fd(wsi) : -1;

    if (s->aborted || fd < 0)
        return;
    s->aborted = true;
    if (scn__sock_abort(fd, &unsent) != 0)
        return; /* not connected (yet): nothing was queued on it */
    pthread_mutex_lock(&s->mu);
    s->stats.links_aborted++;
    pthread_mutex_unlock(&s->mu);
    scn__log(&s->loop->log, SCN_LOG_INFO, "session",
             "link to %s reset, %zu unacknowledged bytes discarded",
             s->url.host, unsent);
}

/* discard_unsent_on_link_loss: what was not written dies with the link. */
static void discard_unsent(scn_session *s)
{
    if (!s->opts.discard_unsent_on_link_loss)
        return;
    pthread_mutex_lock(&s->mu);
    s->stats.dropped_unsent += scn__outq_clear(&s->outq);
    pthread_mutex_unlock(&s->mu);
}

static void report_failure(scn_session *s, scn_failure *f)
{
    scn_transition tr;

    if (!s->attempt_live)
        return;
    s->attempt_live = false;
    if (f->kind == SCN_FAIL_CONNECT && s->link->addr[0])
        s->addr_turn++; /* that address is not reachable: the next one */
    s->wsi = NULL;
    wipe_transient_key(s);
    discard_unsent(s);
    if (s->has_pending_failure) {
        f->kind = s->pending_failure;
        s->has_pending_failure = false;
    }
    if (s->user_closing) {
        tr = scn__fsm_closed(&s->fsm, now_ms(s));
        scn__session_notify(s, &tr, 0, 0);
        return;
    }
    tr = scn__fsm_failed(&s->fsm, now_ms(s), f);
    pthread_mutex_lock(&s->mu);
    s->stats.current_backoff_ms = tr.delay_ms;
    pthread_mutex_unlock(&s->mu);
    scn__session_notify(s, &tr, f->http_status, f->close_code);
    if (!s->free_pending)
        rearm(s);
}

static void kill_connection(scn_session *s, scn_failure_kind why)
{
    if (!s->wsi) {
        if (s->link->resolve) { /* no socket yet: stop waiting for DNS */
            scn_failure f = {.kind = why};

            stop_resolving(s->link);
            report_failure(s, &f);
        }
        return;
    }
    s->has_pending_failure = true;
    s->pending_failure = why;
    abort_link(s, s->wsi);
    /* No close frame: the peer is dead or stuck; lws closes at once. */
    lws_set_timeout(s->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
}

/* A wss:// attempt's TLS state. Its context is made at the first attempt
 * that needs one: the session's own when it names TLS files, else the
 * loop's (system trust store), shared. Until then OpenSSL is not touched.
 * Returns 0 or SCN_ERR_TLS (files unreadable, tried again at the next
 * attempt) or SCN_ERR_NOMEM. */
static int tls_begin(scn_session *s)
{
    struct scn_lws_loop *l = s->loop->lws;
    bool own = s->ca_file || s->cert_file;
    scn_tls_ctx **t = own ? &s->tls : &l->tls;
    int rc;

    if (!*t &&
        (rc = scn__tls_client_new(
             &s->loop->log, own ? s->ca_file : NULL, own ? s->cert_file : NULL,
             own && s->cert_file ? s->key_path : NULL, t)) != 0)
        return rc;
    if (s->opts.insecure)
        scn__log(&s->loop->log, SCN_LOG_WARN, "tls",
                 "certificate verification is OFF for %s (insecure mode)",
                 s->url.host);
    s->link->tls = scn__tls_conn_client(*t, s->url.host, !s->opts.insecure);
    return s->link->tls ? 0 : SCN_ERR_NOMEM;
}

/* lws connects to a numeric address (so lws resolves nothing); the rest
 * is ours. Returns 0 or SCN_ERR_NETWORK (reported). */
static int connect_lws(scn_session *s, const char *address)
{
    struct lws_client_connect_info ci;
    scn_failure f = {.kind = SCN_FAIL_CONNECT};

    /* A RAW client on the plain vhost. */
    memset(&ci, 0, sizeof(ci));
    ci.context = s->loop->lws->ctx;
    ci.vhost = s->loop->lws->vhost;
    ci.address = address;
    ci.port = s->url.port;
    ci.path = s->url.path;
    ci.host = s->url.host;
    ci.local_protocol_name = SCN_SUBPROTOCOL_NAME;
    ci.method = "RAW";
    ci.userdata = s;
    ci.pwsi = &s->wsi;
    if (!lws_client_connect_via_info(&ci)) {
        /* lws may already have reported CONNECTION_ERROR; report_failure
         * runs once per attempt either way. */
        report_failure(s, &f);
        return SCN_ERR_NETWORK;
    }
    return 0;
}

/* The resolver thread is done: connect to one of its addresses, or fail
 * the attempt (the reconnect policy retries it). One address per
 * attempt: the first, until a connect to it fails; the next attempt then
 * resolves again and takes the next (addr_turn), so every address is
 * tried in turn, each after the policy's backoff (lws 4.1.6 walked them
 * within one attempt). */
static void on_resolved(void *user, int rc, const scn_addr_text *addrs,
                        size_t n)
{
    scn_session *s = user;
    struct scn_ws_link *k = s->link;

    k->resolve = NULL;
    if (rc == 0) {
        memcpy(k->addr, addrs[s->addr_turn % n], sizeof(k->addr));
        connect_lws(s, k->addr);
    } else {
        scn_failure f = {.kind = rc == SCN_ERR_RESOLVE ? SCN_FAIL_RESOLVE
                                                       : SCN_FAIL_CONNECT};

        scn__log(&s->loop->log, SCN_LOG_INFO, "session",
                 "connection to %s:%d failed: %s", s->url.host, s->url.port,
                 scn_strerror(rc));
        report_failure(s, &f);
    }
    scn__session_reap(s);
}

/* Resolves the URL's host name off the loop, then connects. Returns 0, or
 * an SCN_ERR_* after reporting the attempt failed. */
static int start_resolving(scn_session *s)
{
    struct scn_ws_link *k = s->link;
    scn_failure f = {.kind = SCN_FAIL_CONNECT};
    int rc = scn__resolve_watch_start(s->loop, s->url.host, on_resolved, s,
                                      &k->resolve);

    if (rc) {
        scn__session_report(s, rc, "cannot start resolving the host name");
        report_failure(s, &f);
    }
    return rc;
}

int scn__ws_connect(scn_session *s)
{
    scn_failure f = {.kind = SCN_FAIL_CONNECT};
    int rc;

    pthread_mutex_lock(&s->mu);
    s->stats.connect_attempts++;
    pthread_mutex_unlock(&s->mu);
    s->attempt_live = true;
    s->aborted = false;
    s->peer_closed = false;
    s->closing_sent = false;
    s->has_pending_failure = false;
    s->rxlen = 0;
    s->rx_paused = false;
    s->close_code = 0;
    stop_resolving(s->link);
    free(s->link->held);
    scn__tls_conn_free(s->link->tls);
    memset(s->link, 0, sizeof(*s->link));
    scn__ws_reply_init(&s->link->reply);
    scn__ws_reader_init_client(&s->link->reader, s->opts.max_message_bytes);

    /* The key is read again at every attempt, so a rotated key file or
     * environment is picked up without a restart. */
    if (s->key_source && strcmp(s->key_source, "option") != 0) {
        rc = scn__session_load_key(s);
        if (rc) {
            scn_transition tr;

            s->attempt_live = false;
            tr = scn__fsm_fatal(&s->fsm, now_ms(s), rc);
            scn__session_notify(s, &tr, 0, 0);
            return rc;
        }
    }

    if (s->url.tls && (rc = tls_begin(s)) != 0) {
        scn__session_report(s, rc,
                            rc == SCN_ERR_TLS ? "cannot load TLS files"
                                              : "no memory for TLS");
        f.kind = SCN_FAIL_TLS;
        report_failure(s, &f);
        return rc;
    }
    if (scn__resolve_is_address(s->url.host))
        return connect_lws(s, s->url.host);
    return start_resolving(s);
}

void scn__ws_detach(scn_session *s)
{
    if (s->link)
        stop_resolving(s->link);
    if (!s->wsi)
        return;
    /* Freed with the link up: its queue is discarded, the socket's too. */
    if (!s->user_closing)
        abort_link(s, s->wsi);
    /* Later lws callbacks for this wsi see no session. */
    lws_set_wsi_user(s->wsi, NULL);
    lws_set_timeout(s->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
    s->wsi = NULL;
}

static int read_frames(scn_session *s, struct lws *wsi, unsigned char *in,
                       size_t len);
static int pump_tls(scn_session *s, struct lws *wsi);

/* The application caught up: what was held is parsed first (it may pause
 * reading again), then the socket is read again. */
static void resume_reading(scn_session *s)
{
    struct scn_ws_link *k = s->link;
    unsigned char *held = k->held;

    s->rx_paused = false;
    if (held) {
        k->held = NULL;
        if (read_frames(s, s->wsi, held, k->held_len) < 0)
            lws_set_timeout(s->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
        free(held);
        if (s->free_pending || !s->wsi || s->rx_paused)
            return;
    }
    /* Records TLS decrypted no further wait for no socket event. */
    if (k->tls && pump_tls(s, s->wsi) < 0) {
        lws_set_timeout(s->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
        return;
    }
    if (s->free_pending || !s->wsi || s->rx_paused)
        return;
    lws_rx_flow_control(s->wsi, 1);
}

void scn__session_service(scn_session *s)
{
    scn_transition tr;
    scn_tick t;
    bool close_now;

    if (s->link->resume_due) {
        s->link->resume_due = false;
        if (s->wsi && s->rx_paused)
            resume_reading(s);
        if (scn__session_reap(s))
            return;
    }
    if (s->start_pending) {
        s->start_pending = false;
        scn__session_notify(s, &s->start_tr, 0, 0);
        if (scn__session_reap(s))
            return;
        scn__ws_connect(s);
        if (scn__session_reap(s))
            return;
    }

    pthread_mutex_lock(&s->mu);
    close_now = s->want_close;
    s->want_close = false;
    pthread_mutex_unlock(&s->mu);
    if (close_now && !s->user_closing) {
        bool handshaking = s->fsm.state == SCN_STATE_CONNECTING;

        s->user_closing = true;
        tr = scn__fsm_close(&s->fsm, now_ms(s));
        scn__session_notify(s, &tr, 0, 0);
        if (scn__session_reap(s))
            return;
        /* An open link gets a close frame; a handshake (or the name's
         * resolution) is simply cut. */
        if (handshaking) {
            kill_connection(s, SCN_FAIL_CONNECT);
            if (scn__session_reap(s))
                return;
        } else if (s->wsi)
            lws_callback_on_writable(s->wsi);
    }

    t = scn__fsm_tick(&s->fsm, now_ms(s), &tr);
    scn__session_notify(s, &tr, 0, 0);
    if (scn__session_reap(s))
        return;
    switch (t.action) {
    case SCN_ACT_CONNECT:
        scn__ws_connect(s);
        if (scn__session_reap(s))
            return;
        t = scn__fsm_tick(&s->fsm, now_ms(s), &tr);
        break;
    case SCN_ACT_PING:
        s->pinging = true;
        if (s->wsi)
            lws_callback_on_writable(s->wsi);
        /* Count the ping as sent now so tick does not ask again. */
        scn__fsm_ping_sent(&s->fsm, now_ms(s));
        t = scn__fsm_tick(&s->fsm, now_ms(s), &tr);
        break;
    case SCN_ACT_DROP:
        scn__log(&s->loop->log, SCN_LOG_WARN, "session",
                 "dropping connection to %s: %s", s->url.host,
                 t.drop_kind == SCN_FAIL_DEAD_PEER ? "peer silent"
                                                   : "handshake timed out");
        kill_connection(s, t.drop_kind);
        /* The close callback (or, while resolving, kill_connection)
         * reports it and re-arms the timer. */
        scn__session_reap(s);
        return;
    case SCN_ACT_NONE:
        break;
    }
    schedule_next(s, t.next_deadline);
}

void scn__ws_wake(scn_loop_child *c)
{
    scn_session *s = SCN_CONTAINER_OF(c, scn_session, child);
    bool write, resume, close;

    pthread_mutex_lock(&s->mu);
    write = s->want_write;
    resume = s->want_resume;
    close = s->want_close;
    s->want_write = false;
    s->want_resume = false;
    pthread_mutex_unlock(&s->mu);
    if (write && s->wsi && s->fsm.state == SCN_STATE_OPEN)
        lws_callback_on_writable(s->wsi);
    if (resume && s->wsi && s->rx_paused) {
        if (s->link->held || s->link->tls) {
            /* Parsing runs callbacks: from the session's timer. */
            s->link->resume_due = true;
            scn__session_schedule(s, 0);
        } else {
            s->rx_paused = false;
            lws_rx_flow_control(s->wsi, 1);
        }
    }
    /* Closing runs user callbacks: do it from the session's timer, not
     * while the loop walks its children. */
    if (close)
        scn__session_schedule(s, 0);
}

/* Hands n bytes to lws as they are (LWS_WRITE_HTTP is lws's way to write
 * raw bytes; it keeps what the socket did not take, in order, and asks for
 * writeable itself). */
static int put_raw(struct lws *wsi, unsigned char *p, size_t n)
{
    return lws_write(wsi, p, n, LWS_WRITE_HTTP) < (int)n ? -1 : 0;
}

/* Sends the ciphertext TLS has for the server (handshake messages,
 * alerts, records). Returns 0 or -1. */
static int flush_tls(scn_session *s, struct lws *wsi)
{
    struct scn_lws_loop *l = s->loop->lws;
    size_t n = scn__tls_conn_pending(s->link->tls);

    if (!n)
        return 0;
    if (LWS_PRE + n > l->tls_out_cap) {
        unsigned char *nb = realloc(l->tls_out, LWS_PRE + n);

        if (!nb)
            return -1;
        l->tls_out = nb;
        l->tls_out_cap = LWS_PRE + n;
    }
    n = scn__tls_conn_take(s->link->tls, l->tls_out + LWS_PRE, n);
    return put_raw(wsi, l->tls_out + LWS_PRE, n);
}

/* Writes bytes of the WebSocket stream: on wss:// encrypted first. p is
 * the caller's; OpenSSL encrypts a copy of it in its own record buffer,
 * which then holds only ciphertext. Returns 0 or -1. */
static int link_write(scn_session *s, struct lws *wsi, unsigned char *p,
                      size_t n)
{
    if (!s->link->tls)
        return put_raw(wsi, p, n);
    if (scn__tls_conn_write(s->link->tls, p, n) != 0)
        return -1;
    return flush_tls(s, wsi);
}

/* Writes a frame of ours (masked with a key from the pool) carrying the
 * n <= 125 bytes at p. Returns 0 or -1. */
static int send_control(scn_session *s, struct lws *wsi, int opcode,
                        const void *p, size_t n)
{
    unsigned char f[LWS_PRE + SCN_WS_CONTROL_MAX];
    unsigned char key[4];
    size_t hs = scn__ws_client_header_size(n);

    if (scn__mask_pool_take(&s->loop->lws->masks, key) != 0)
        return -1;
    if (n) /* p may be NULL then */
        memcpy(f + LWS_PRE, p, n);
    scn__ws_client_frame(f + LWS_PRE, opcode, n, key);
    return link_write(s, wsi, f + LWS_PRE - hs, hs + n);
}

/* Our close frame: the code and the reason. */
static int send_close(scn_session *s, struct lws *wsi, int code,
                      const char *reason)
{
    unsigned char b[SCN_WS_CONTROL_MAX];
    size_t n = strlen(reason);

    if (n > sizeof(b) - 2)
        n = sizeof(b) - 2;
    b[0] = (unsigned char)(code >> 8);
    b[1] = (unsigned char)code;
    memcpy(b + 2, reason, n);
    return send_control(s, wsi, SCN_WS_CLOSE, b, n + 2);
}

/*
 * The upgrade request: the request line and headers lws wrote when it ran
 * the handshake, then ours (the key, the device's uid, the user agent).
 * The API key is in the buffer only until it is written. On ws:// lws
 * copies what the socket did not take at once into its own buffer, as it
 * did before; on wss:// lws only ever sees ciphertext.
 */
static int send_upgrade_request(scn_session *s, struct lws *wsi)
{
    struct scn_ws_link *k = s->link;
    const char *path = *s->url.path ? s->url.path : "/";
    unsigned char nonce[16];
    char proto[160] = "", uid[160] = "";
    size_t klen = s->opts.no_key ? 0 : scn__secret_len(s->key);
    size_t cap, n;
    unsigned char *buf;
    int len, rc = -1;

    for (int i = 0; i < 16; i += 4)
        if (scn__mask_pool_take(&s->loop->lws->masks, nonce + i) != 0)
            return -1;
    scn__ws_client_key(nonce, k->key);
    if (s->subprotocol_offer)
        snprintf(proto, sizeof(proto), "Sec-WebSocket-Protocol: %s\r\n",
                 s->subprotocol_offer);
    if (s->device_uid)
        snprintf(uid, sizeof(uid), "x-scentience-uid: %s\r\n", s->device_uid);
    cap = 512 + strlen(path) + 2 * strlen(s->url.host) + strlen(proto) +
          strlen(uid) + klen;
    buf = malloc(LWS_PRE + cap);
    if (!buf)
        return -1;
    len = snprintf((char *)buf + LWS_PRE, cap,
                   "GET %s%s HTTP/1.1\r\n"
                   "Pragma: no-cache\r\n"
                   "Cache-Control: no-cache\r\n"
                   "Host: %s\r\n"
                   "Origin: http://%s\r\n"
                   "Upgrade: websocket\r\n"
                   "Connection: Upgrade\r\n"
                   "Sec-WebSocket-Key: %s\r\n"
                   "%s"
                   "Sec-WebSocket-Version: 13\r\n",
                   *path == '/' ? "" : "/", path, s->url.host, s->url.host,
                   k->key, proto);
    n = len > 0 ? (size_t)len : cap;
    if (klen && n + klen + 32 < cap) {
        memcpy(buf + LWS_PRE + n, "authorization: Bearer ", 22);
        memcpy(buf + LWS_PRE + n + 22, scn__secret_str(s->key), klen);
        memcpy(buf + LWS_PRE + n + 22 + klen, "\r\n", 2);
        n += 22 + klen + 2;
    }
    len = snprintf((char *)buf + LWS_PRE + n, cap - n,
                   "%suser-agent: " USER_AGENT "\r\n\r\n", uid);
    if (len > 0 && n + (size_t)len < cap) {
        n += (size_t)len;
        rc = link_write(s, wsi, buf + LWS_PRE, n);
    }
    explicit_bzero(buf, LWS_PRE + cap);
    free(buf);
    wipe_transient_key(s);
    k->request_sent = rc == 0;
    return rc;
}

static bool mentions_tls(const char *text, size_t len)
{
    static const char *const words[] = {"ssl", "tls", "cert", "x509"};
    char low[128];
    size_t n = len < sizeof(low) - 1 ? len : sizeof(low) - 1;

    for (size_t i = 0; i < n; i++)
        low[i] = (char)tolower((unsigned char)text[i]);
    low[n] = '\0';
    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
        if (strstr(low, words[i]))
            return true;
    return false;
}

/* The attempt failed before the link opened: why (lws's words or ours),
 * and the server's answer when it gave one (rep: its status, not 101). */
static void fail_attempt(scn_session *s, const scn_ws_reply *rep,
                         const char *in, size_t len)
{
    scn_failure f = {.kind = SCN_FAIL_CONNECT};
    int status = rep ? rep->status : 0;

    if (status > 0 && status != 101) {
        f.kind = SCN_FAIL_HTTP_STATUS;
        f.http_status = status;
        if (rep->www_authenticate && *rep->www_authenticate)
            f.detail = rep->www_authenticate;
        if (rep->retry_after)
            scn__parse_retry_after(rep->retry_after, (int64_t)time(NULL),
                                   &f.retry_after_ms);
    } else if (in && mentions_tls(in, len)) {
        f.kind = SCN_FAIL_TLS;
    }
    scn__log(&s->loop->log, SCN_LOG_INFO, "session",
             "connection to %s:%d failed: %.*s (HTTP %d)", s->url.host,
             s->url.port, in ? (int)(len > 200 ? 200 : len) : 0, in ? in : "",
             status);
    report_failure(s, &f);
}

static void on_established(scn_session *s, struct lws *wsi)
{
    scn_transition tr;
    bool more;

    s->wsi = wsi;
    s->link->upgraded = true;
    s->expect_seq = 0;
    tr = scn__fsm_opened(&s->fsm, now_ms(s));
    pthread_mutex_lock(&s->mu);
    if (s->fsm.opens > 1)
        s->stats.reconnects++;
    s->stats.current_backoff_ms = 0;
    pthread_mutex_unlock(&s->mu);
    scn__session_notify(s, &tr, 0, 0);
    if (s->free_pending)
        return;
    /* The device forgets requests across connections: repeat them. */
    scn__session_restore_requests(s);
    pthread_mutex_lock(&s->mu);
    more = scn__outq_count(&s->outq) > 0;
    pthread_mutex_unlock(&s->mu);
    if (more)
        lws_callback_on_writable(wsi);
    rearm(s);
}

static void complete_message(scn_session *s, struct lws *wsi,
                             const unsigned char *data, size_t len)
{
    pthread_mutex_lock(&s->mu);
    s->stats.messages_in++;
    pthread_mutex_unlock(&s->mu);
    if (!s->opts.manual_dispatch) {
        scn__session_deliver(s, data, len, s->fsm.opens);
        return;
    }
    pthread_mutex_lock(&s->mu);
    int ev = scn__inq_push_tagged(&s->inq, data, len, s->fsm.opens);
    if (ev == SCN_ERR_QUEUE_FULL || ev == SCN_ERR_NOMEM)
        s->stats.dropped_inbound++;
    if (ev == SCN_INQ_PAUSE)
        s->stats.rx_pauses++;
    s->stats.inbound_queued_msgs = scn__inq_count(&s->inq);
    pthread_mutex_unlock(&s->mu);
    if (ev == SCN_INQ_PAUSE && !s->rx_paused) {
        /* The application is behind: stop reading so that memory stays
         * bounded whatever the peer sends; TCP pushes back on it. */
        s->rx_paused = true;
        lws_rx_flow_control(wsi, 0);
    } else if (ev < 0) {
        scn__session_report(s, ev, "inbound queue over its hard cap");
    }
}

/*
 * The receive path closes from WRITEABLE: our close frame must not cut
 * into a frame lws is still writing (a partial write it buffered). Reading
 * stops, the rest is discarded, the close frame goes out, the link ends.
 */
static void close_from_writeable(scn_session *s, struct lws *wsi, int code,
                                 const char *reason)
{
    s->close_code = code;
    s->close_reason = reason;
    if (!s->rx_paused) {
        s->rx_paused = true;
        lws_rx_flow_control(wsi, 0);
    }
    lws_callback_on_writable(wsi);
}

/* The reader's callbacks stop it with this when the session went away
 * or the link is being closed: not a close code. */
#define STOP_READING 1

/* Refuses a message over max_message_bytes (the reader knows it from the
 * first frame header, before buffering any of it). */
static void refuse_too_big(scn_session *s, struct lws *wsi)
{
    pthread_mutex_lock(&s->mu);
    s->stats.oversize_in++;
    pthread_mutex_unlock(&s->mu);
    scn__session_report(s, SCN_ERR_MESSAGE_TOO_BIG,
                        "inbound message over max_message_bytes");
    s->has_pending_failure = true;
    s->pending_failure = SCN_FAIL_TOO_BIG;
    close_from_writeable(s, wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE,
                         "message too big");
}

/* After a message: whether the reader goes on. Reading paused (the
 * application is behind) stops it where it is, as lws did: the rest of
 * what was read waits for the resume, and memory stays bounded. */
static int after_message(scn_session *s)
{
    if (s->free_pending)
        return STOP_READING;
    return s->rx_paused && !s->close_code ? SCN_WS_PAUSE : 0;
}

static void count_rx(scn_session *s, size_t len)
{
    scn__fsm_rx(&s->fsm, now_ms(s));
    pthread_mutex_lock(&s->mu);
    s->stats.bytes_in += len;
    pthread_mutex_unlock(&s->mu);
}

/* A piece of a data message from the reader (see scn_ws_events). */
static int on_data(void *user, unsigned char *in, size_t len, bool binary,
                   bool first, bool last)
{
    scn_session *s = user;

    count_rx(s, len);
    if (binary) {
        if (last)
            scn__session_report(s, SCN_ERR_UNSUPPORTED,
                                "binary message ignored");
        return 0;
    }
    if (first && last) {
        complete_message(s, s->wsi, in, len);
        return after_message(s);
    }
    if (first)
        s->rxlen = 0;
    if (s->rxlen + len > s->rxcap) {
        size_t cap = s->rxcap ? s->rxcap : 4096;
        unsigned char *nb;

        while (cap < s->rxlen + len)
            cap *= 2;
        if (cap > s->opts.max_message_bytes)
            cap = s->opts.max_message_bytes;
        nb = realloc(s->rxbuf, cap);
        if (!nb) {
            scn__session_report(s, SCN_ERR_NOMEM, "no memory for a message");
            close_from_writeable(s, s->wsi,
                                 LWS_CLOSE_STATUS_UNEXPECTED_CONDITION,
                                 "out of memory");
            return STOP_READING;
        }
        s->rxbuf = nb;
        s->rxcap = cap;
    }
    memcpy(s->rxbuf + s->rxlen, in, len);
    s->rxlen += len;
    if (last) {
        complete_message(s, s->wsi, s->rxbuf, s->rxlen);
        s->rxlen = 0;
    }
    return after_message(s);
}

static void on_peer_close(scn_session *s, const unsigned char *in, size_t len)
{
    s->peer_closed = true;
    s->peer_close_code = len >= 2 ? (in[0] << 8) | in[1] : 1005;
    s->peer_close_reason[0] = '\0';
    if (len > 2) {
        size_t n = len - 2;
        if (n >= sizeof(s->peer_close_reason))
            n = sizeof(s->peer_close_reason) - 1;
        memcpy(s->peer_close_reason, in + 2, n);
        s->peer_close_reason[n] = '\0';
    }
}

static void on_pong(scn_session *s)
{
    uint32_t rtt = scn__fsm_pong(&s->fsm, now_ms(s));

    pthread_mutex_lock(&s->mu);
    if (rtt)
        s->stats.last_rtt_ms = rtt;
    pthread_mutex_unlock(&s->mu);
}

/* A ping, pong or close from the server (see scn_ws_events). */
static int on_control(void *user, int opcode, const unsigned char *p, size_t n)
{
    scn_session *s = user;
    struct scn_ws_link *k = s->link;

    switch (opcode) {
    case SCN_WS_PING:
        /* Answered from WRITEABLE, after what is being written. */
        memcpy(k->pong, p, n);
        k->pong_len = n;
        k->pong_due = true;
        lws_callback_on_writable(s->wsi);
        return 0;
    case SCN_WS_PONG:
        on_pong(s);
        return 0;
    default: /* SCN_WS_CLOSE, checked by the reader */
        /* The answer to our close ends the link; a close of the server's
         * own is recorded and echoed first. */
        if (!s->closing_sent) {
            on_peer_close(s, p, n);
            send_control(s, s->wsi, SCN_WS_CLOSE, p, n);
        }
        k->close_now = true;
        return STOP_READING;
    }
}

static const scn_ws_events client_events = {on_data, on_control};

/* The reader refused what the server sent: close with its code. */
static void refuse_frames(scn_session *s, struct lws *wsi, int code)
{
    if (code == SCN_WS_TOO_BIG) {
        refuse_too_big(s, wsi);
        return;
    }
    scn__log(&s->loop->log, SCN_LOG_WARN, "session",
             "closing the link to %s: %s (%d)", s->url.host,
             code == SCN_WS_INVALID_DATA ? "text that is not UTF-8"
                                         : "a WebSocket protocol error",
             code);
    close_from_writeable(s, wsi, code,
                         code == SCN_WS_INVALID_DATA ? "invalid UTF-8"
                                                     : "protocol error");
}

/* Frames from the server. Returns -1 when lws must close the link. */
static int read_frames(scn_session *s, struct lws *wsi, unsigned char *in,
                       size_t len)
{
    struct scn_ws_link *k = s->link;
    int rc;

    size_t used;

    if (s->close_code || !len)
        return 0; /* closing: the rest is discarded */
    rc =
        scn__ws_reader_feed_some(&k->reader, in, len, &client_events, s, &used);
    if (s->free_pending)
        return 0;
    if (rc == SCN_WS_PAUSE) {
        /* in may be held itself (see resume_reading). */
        unsigned char *h = malloc(len - used);

        if (!h) {
            scn__session_report(s, SCN_ERR_NOMEM, "no memory for a message");
            close_from_writeable(s, wsi, LWS_CLOSE_STATUS_UNEXPECTED_CONDITION,
                                 "out of memory");
            return 0;
        }
        memcpy(h, in + used, len - used);
        free(k->held);
        k->held = h;
        k->held_len = len - used;
        return 0;
    }
    if (k->close_now)
        return -1;
    if (rc && rc != STOP_READING && !s->close_code)
        refuse_frames(s, wsi, rc);
    return 0;
}

/* The server's answer to the upgrade, then frames. */
static int read_upgrade_answer(scn_session *s, struct lws *wsi,
                               unsigned char *in, size_t len)
{
    struct scn_ws_link *k = s->link;
    const char *why;
    size_t used = 0;
    int rc = scn__ws_reply_feed(&k->reply, in, len, &used);

    if (rc == 0)
        return 0;
    why = rc < 0 ? "unreadable or oversized upgrade answer"
          : k->reply.status != 101
              ? "upgrade refused"
              : scn__ws_reply_check(&k->reply, k->key, s->subprotocol_offer);
    if (why) {
        /* Nothing of this connection reaches the session any more. */
        fail_attempt(s, rc < 0 ? NULL : &k->reply, why, strlen(why));
        lws_set_wsi_user(wsi, NULL);
        return -1;
    }
    snprintf(s->subprotocol, sizeof(s->subprotocol), "%s",
             k->reply.protocol ? k->reply.protocol : "");
    on_established(s, wsi);
    if (s->free_pending || s->wsi != wsi)
        return 0;
    return read_frames(s, wsi, in + used, len - used);
}

/* Plaintext from the server: the answer to the upgrade, then frames.
 * Returns -1 when lws must close the link. */
static int read_plain(scn_session *s, struct lws *wsi, unsigned char *in,
                      size_t len)
{
    return s->link->upgraded ? read_frames(s, wsi, in, len)
                             : read_upgrade_answer(s, wsi, in, len);
}

/* Read from TLS while the session takes it: the handshake advances, then
 * records are decrypted and read as plaintext. What TLS holds while
 * reading is paused waits for the resume (resume_reading). Whatever TLS
 * has to say goes out after (handshake messages, alerts). Returns -1
 * when lws must close the link. */
static int pump_tls(scn_session *s, struct lws *wsi)
{
    struct scn_ws_link *k = s->link;
    bool was_ready = scn__tls_conn_ready(k->tls);
    unsigned char plain[16384]; /* one record's worth */
    int n = 0;

    while (!s->rx_paused) {
        n = scn__tls_conn_read(k->tls, plain, sizeof(plain));
        if (n <= 0)
            break;
        if (read_plain(s, wsi, plain, (size_t)n) < 0)
            return -1;
        if (s->free_pending || s->wsi != wsi)
            return 0;
    }
    if (flush_tls(s, wsi) != 0)
        return -1;
    if (n == SCN_ERR_TLS && !k->upgraded) {
        char why[200];

        snprintf(why, sizeof(why), "TLS handshake failed: %s",
                 scn__tls_conn_why(k->tls));
        fail_attempt(s, NULL, why, strlen(why));
        lws_set_wsi_user(wsi, NULL);
        return -1;
    }
    if (n == SCN_ERR_TLS) {
        scn__log(&s->loop->log, SCN_LOG_WARN, "session",
                 "closing the link to %s: %s", s->url.host,
                 scn__tls_conn_why(k->tls));
        return -1;
    }
    if (n < 0) /* the server's close_notify: it sends nothing more */
        return -1;
    if (!was_ready && scn__tls_conn_ready(k->tls))
        lws_callback_on_writable(wsi); /* the upgrade request */
    return 0;
}

/* Ciphertext from the server. */
static int read_tls(scn_session *s, struct lws *wsi, const void *in, size_t len)
{
    if (scn__tls_conn_feed(s->link->tls, in, len) != 0) {
        scn__session_report(s, SCN_ERR_NOMEM, "no memory for TLS input");
        return -1;
    }
    return pump_tls(s, wsi);
}

/* The frame is made here, masked with a key from the loop's pool, and
 * written as raw bytes: lws 4.1.6 masks a client frame with 4 bytes read()
 * from /dev/urandom per frame (lws_get_random, no hook for another
 * source). */
static int send_text(scn_session *s, struct lws *wsi, scn_msg *m)
{
    unsigned char key[4];
    size_t hs = scn__ws_client_header_size(m->len);

    if (scn__mask_pool_take(&s->loop->lws->masks, key) != 0)
        return -1;
    scn__ws_client_frame(m->buf + LWS_PRE, 1, m->len, key);
    if (link_write(s, wsi, m->buf + LWS_PRE - hs, hs + m->len) != 0) {
        /* Masked in place: unmasked again, so that the message, still
         * queued, goes out intact if it is sent on a later link. */
        scn__ws_mask(m->buf + LWS_PRE, m->len, key, 0);
        return -1;
    }
    return 0;
}

/*
 * Writes the message just queued at once, instead of asking for a
 * writeable callback, which costs a poll() and a loop turn per message:
 * when the link is open, nothing else is queued or waiting in lws, no
 * ping or close is due, and writing it runs no user callback (no ticket,
 * no low watermark to report). lws buffers a partial write and asks for
 * writeable itself, as after any write. Loop thread only. Returns false
 * when the caller should ask for writeable instead.
 */
static bool write_now(scn_session *s)
{
    struct lws *wsi = s->wsi;
    scn_lane lane;
    scn_msg *m;
    int wm = SCN_WM_NONE;
    bool sent = false;

    if (!wsi || s->fsm.state != SCN_STATE_OPEN || s->close_code ||
        s->user_closing || s->pinging || s->peer_closed ||
        lws_partial_buffered(wsi))
        return false;
    pthread_mutex_lock(&s->mu);
    m = scn__outq_count(&s->outq) == 1 && !s->outq.above
            ? scn__outq_peek(&s->outq, &lane)
            : NULL;
    if (m && m->tag == 0 && send_text(s, wsi, m) == 0) {
        s->stats.messages_out++;
        s->stats.bytes_out += m->len;
        scn__outq_pop(&s->outq, lane, &wm);
        sent = true;
    }
    pthread_mutex_unlock(&s->mu);
    return sent;
}

_Static_assert(LWS_PRE >= SCN_WS_CLIENT_HDR_MAX,
               "a client frame header fits in the lws headroom");

/* How long our close waits for the server's (lws waited as long). */
#define CLOSE_ACK_SECS 5

static int on_writeable(scn_session *s, struct lws *wsi)
{
    struct scn_ws_link *k = s->link;
    scn_lane lane;
    scn_msg *m;
    int wm = SCN_WM_NONE;
    uint64_t ticket;
    bool more;

    if (!k->upgraded) {
        /* Connected: TLS first on wss://, the upgrade request next. */
        if (k->tls && !k->tls_started) {
            k->tls_started = true;
            return pump_tls(s, wsi);
        }
        if (k->tls && !scn__tls_conn_ready(k->tls))
            return 0;
        if (!k->request_sent && send_upgrade_request(s, wsi) != 0) {
            static const char why[] = "cannot write the upgrade request";

            fail_attempt(s, NULL, why, sizeof(why) - 1);
            lws_set_wsi_user(wsi, NULL);
            return -1;
        }
        return 0;
    }
    if (s->close_code) {
        send_close(s, wsi, s->close_code, s->close_reason);
        return -1;
    }
    if (s->user_closing) {
        /* Sent once; the link ends with the server's answer, or when it
         * does not come in time. */
        if (!s->closing_sent) {
            s->closing_sent = true;
            if (send_close(s, wsi, LWS_CLOSE_STATUS_NORMAL, "client closing") !=
                0)
                return -1;
            lws_set_timeout(wsi, PENDING_TIMEOUT_CLOSE_ACK, CLOSE_ACK_SECS);
        }
        return 0;
    }
    if (k->pong_due) {
        k->pong_due = false;
        if (send_control(s, wsi, SCN_WS_PONG, k->pong, k->pong_len) != 0)
            return -1;
        lws_callback_on_writable(wsi);
        return 0;
    }
    if (s->pinging) {
        s->pinging = false;
        if (send_control(s, wsi, SCN_WS_PING, NULL, 0) != 0)
            return -1;
        lws_callback_on_writable(wsi);
        return 0;
    }
    pthread_mutex_lock(&s->mu);
    m = scn__outq_peek(&s->outq, &lane);
    if (!m) {
        pthread_mutex_unlock(&s->mu);
        return 0;
    }
    /* One write per callback: lws buffers a partial write and calls us
     * again only when the socket drained, which is the backpressure. */
    if (send_text(s, wsi, m) != 0) {
        pthread_mutex_unlock(&s->mu);
        return -1;
    }
    s->stats.messages_out++;
    s->stats.bytes_out += m->len;
    ticket = m->tag;
    scn__outq_pop(&s->outq, lane, &wm);
    more = scn__outq_count(&s->outq) > 0;
    pthread_mutex_unlock(&s->mu);
    SCN_USER_CALL(s, {
        if (ticket && s->opts.callbacks.on_written)
            s->opts.callbacks.on_written(s, ticket, s->opts.user);
        if (wm == SCN_WM_LOW && s->opts.callbacks.on_watermark)
            s->opts.callbacks.on_watermark(s, 0, s->opts.user);
    });
    if (more)
        lws_callback_on_writable(wsi);
    return 0;
}

static void on_closed(scn_session *s, struct lws *wsi)
{
    scn_failure f = {.kind = SCN_FAIL_LOST};

    if (!s->attempt_live || wsi != s->wsi)
        return; /* a connection this attempt no longer owns */
    if (!s->link->upgraded) {
        /* A server that hangs up during the TLS handshake refused it (a
         * client certificate, a protocol version): a TLS failure. */
        const char *why = s->link->tls && !scn__tls_conn_ready(s->link->tls)
                              ? "closed during the TLS handshake"
                              : "closed before the server replied";

        fail_attempt(s, NULL, why, strlen(why));
        return;
    }
    /* The socket is still open here (lws closes it after this callback):
     * reset it before the loss is reported, unless the user asked for a
     * graceful close. */
    if (!s->user_closing)
        abort_link(s, wsi);
    if (s->peer_closed) {
        f.kind = SCN_FAIL_CLOSE;
        f.close_code = s->peer_close_code;
        f.detail = s->peer_close_reason;
        scn__log(&s->loop->log, SCN_LOG_INFO, "session",
                 "server closed the session: %d %s", s->peer_close_code,
                 s->peer_close_reason);
    }
    report_failure(s, &f);
}

static bool is_client_event(enum lws_callback_reasons reason)
{
    switch (reason) {
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
    case LWS_CALLBACK_RAW_CONNECTED:
    case LWS_CALLBACK_RAW_ADOPT:
    case LWS_CALLBACK_RAW_RX:
    case LWS_CALLBACK_RAW_WRITEABLE:
    case LWS_CALLBACK_RAW_CLOSE:
        return true;
    default:
        return false;
    }
}

static int ws_callback(struct lws *wsi, enum lws_callback_reasons reason,
                       void *user, void *in, size_t len)
{
    scn_session *s = user;
    int rc = 0;

    if (reason == LWS_CALLBACK_EVENT_WAIT_CANCELLED) {
        scn_loop *loop = lws_context_user(lws_get_context(wsi));
        if (loop)
            scn__loop_wake_children(loop);
        return 0;
    }
    /* Only connection events carry our session as user data; vhost and
     * protocol events pass unrelated pointers there. */
    if (!s || !is_client_event(reason))
        return 0;
    switch (reason) {
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
        fail_attempt(s, NULL, in, in ? len : 0);
        break;
    /* Our own WebSocket (and TLS) over lws's RAW client. */
    case LWS_CALLBACK_RAW_CONNECTED: /* TCP up */
    case LWS_CALLBACK_RAW_ADOPT:     /* lws made the RAW client */
        if (wsi == s->wsi)
            lws_callback_on_writable(wsi);
        break;
    case LWS_CALLBACK_RAW_RX:
        if (wsi != s->wsi)
            break;
        rc = s->link->tls ? read_tls(s, wsi, in, len)
                          : read_plain(s, wsi, in, len);
        break;
    case LWS_CALLBACK_RAW_WRITEABLE:
        if (wsi == s->wsi)
            rc = on_writeable(s, wsi);
        break;
    case LWS_CALLBACK_RAW_CLOSE:
        on_closed(s, wsi);
        break;
    default:
        break;
    }
    /* Freed inside a callback: destroy detached the wsi (no user, killed
     * asynchronously). */
    if (scn__session_reap(s))
        return 0;
    return rc;
}

const struct lws_protocols scn__ws_protocols[] = {
    {SCN_SUBPROTOCOL_NAME, ws_callback, 0, 65536, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0}};
