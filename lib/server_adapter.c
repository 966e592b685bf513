/*
 * The libwebsockets adapter for servers: the only server code that drives
 * lws. All of it runs on the loop's thread.
 *
 * Each server opens its listening socket itself; lws watches it as a raw
 * file descriptor; we accept, check the peer against the allow list and
 * hand the socket to lws, which serves the HTTP upgrade and the WebSocket.
 * Two lws 4.1.6 behaviours shape this (a third, lws's 4 KiB sends and
 * timers that spin poll(), the writing and deadline code below):
 * - It cannot close a vhost's own listener: lws_vhost_destroy() waits for
 *   every wsi bound to the vhost, the listener included, and nothing ever
 *   ends the wait, so the port would stay open (and keep accepting) until
 *   the loop is freed. With our own socket, scn_server_free() releases the
 *   port at once. The peer check LWS_CALLBACK_FILTER_NETWORK_CONNECTION
 *   would have made (it passes the address in `user`, the fd in `in`) is
 *   made right after accept(), before lws sees the socket.
 * - When a request's headers are complete, lws moves the connection to the
 *   first vhost whose listen port equals its own vhost's (lws_select_vhost,
 *   by Host header, else by port). Every vhost without a listener has the
 *   same "port", so with a vhost per server, connections would land on
 *   another server's vhost, whose protocol name decides the subprotocol
 *   match. So all servers of a loop share one vhost, created with the
 *   first and kept until the loop goes; each connection knows its server
 *   (the wsi's opaque pointer), and the one protocol's name is set to the
 *   server's subprotocol just before lws matches it (on_confirm_upgrade).
 */
/* accept4(): the accepted socket is close-on-exec from its first moment,
 * so a child started meanwhile by another thread cannot inherit it. */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "server_internal.h"

#define LISTEN_BACKLOG 64
/* Connections accepted per readiness event, so that a burst of connects
 * cannot starve the other sockets of the loop. */
#define ACCEPT_BURST 16
/* After running out of file descriptors, accepting pauses this long
 * rather than spin on a listener that stays readable. */
#define ACCEPT_PAUSE_MS 200
/* A connection we decided to close but whose peer does not read (so the
 * close frame cannot be written) is cut off after this long. */
#define CLOSE_TIMEOUT_S 5
#define RX_CHUNK        4096
/* Reported for a peer cut off for being slow: "try again later" (1013),
 * not policy violation (1008), which a scentience.v1 client takes as
 * final (docs/PROTOCOL.md 5); being behind once is not. */
#define SLOW_CLOSE_CODE 1013
/* The shared protocol's name while no subprotocol is being selected. */
#define DEFAULT_PROTOCOL_NAME "scn-server"
/* One write takes at most this many queued messages and bytes: a batch
 * is one send instead of one per message, and 64 KiB is what a
 * dashboard's socket buffer holds (scn_fanout sets SO_SNDBUF to that). */
#define WRITE_BATCH_MSGS  64
#define WRITE_BATCH_BYTES (64u * 1024)
/* The longest header of a server frame (unmasked, 64-bit length). */
#define WS_HDR_MAX 10

static scn_loop *loop_of(struct lws *wsi)
{
    return wsi ? lws_context_user(lws_get_context(wsi)) : NULL;
}

void scn_server_wake(scn_server *srv)
{
    /* Even on the loop thread: the work then runs from the loop, never
     * nested inside the caller's own call. */
    lws_cancel_service(srv->loop->ctx);
}

/* ------------------------------------------------------------------ */
/* Listening and accepting                                             */
/* ------------------------------------------------------------------ */

static int bind_socket(scn_server *srv, const scn_ip_addr *a)
{
    struct sockaddr_storage ss;
    socklen_t sl;
    int fd, one = 1, zero = 0;

    memset(&ss, 0, sizeof(ss));
    if (a->family == 4) {
        struct sockaddr_in *in = (struct sockaddr_in *)&ss;

        in->sin_family = AF_INET;
        in->sin_port = htons((uint16_t)srv->opts.port);
        memcpy(&in->sin_addr, a->b, 4);
        sl = sizeof(*in);
    } else {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;

        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t)srv->opts.port);
        memcpy(&in6->sin6_addr, a->b, 16);
        sl = sizeof(*in6);
    }
    fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    /* A restart must not wait for the previous run's TIME_WAIT sockets. */
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    /* "::" means every address, IPv4 included, whatever the system's
     * default for IPV6_V6ONLY. */
    if (a->family == 6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
    if (bind(fd, (struct sockaddr *)&ss, sl) < 0 ||
        listen(fd, LISTEN_BACKLOG) < 0) {
        int e = errno;

        close(fd);
        return -e;
    }
    sl = sizeof(ss);
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) < 0) {
        int e = errno;

        close(fd);
        return -e;
    }
    srv->port = ntohs(ss.ss_family == AF_INET
                          ? ((struct sockaddr_in *)&ss)->sin_port
                          : ((struct sockaddr_in6 *)&ss)->sin6_port);
    return fd;
}

static int server_callback(struct lws *wsi, enum lws_callback_reasons reason,
                           void *user, void *in, size_t len);

/* The vhost all servers of the loop share (see the top of this file). */
static struct lws_vhost *server_vhost(scn_loop *loop)
{
    struct lws_context_creation_info info;
    struct lws_protocols protocols[2];

    if (loop->server_vhost)
        return loop->server_vhost;
    /* lws copies the array, not the name: the name lives in the loop. */
    memset(protocols, 0, sizeof(protocols));
    snprintf(loop->server_protocol, sizeof(loop->server_protocol), "%s",
             DEFAULT_PROTOCOL_NAME);
    protocols[0].name = loop->server_protocol;
    protocols[0].callback = server_callback;
    protocols[0].rx_buffer_size = RX_CHUNK;
    /* lws 4.1 hands the socket at most this (else rx_buffer_size) per
     * send and keeps the rest for later POLLOUTs: a batch would take a
     * send and a loop turn per 4 KiB. */
    protocols[0].tx_packet_size = WRITE_BATCH_BYTES;
    memset(&info, 0, sizeof(info));
    info.vhost_name = "scn-servers";
    /* Serves the sockets we adopt, without a listener of its own. */
    info.port = CONTEXT_PORT_NO_LISTEN_SERVER;
    info.protocols = protocols;
    info.user = loop;
    loop->server_vhost = lws_create_vhost(loop->ctx, &info);
    return loop->server_vhost;
}

int scn_server_listen(scn_server *srv, const scn_ip_addr *bind_addr)
{
    struct lws_vhost *vh = server_vhost(srv->loop);
    lws_sock_file_fd_type fd;
    char text[SCN_IP_TEXT_MAX];
    int rc;

    if (!vh)
        return SCN_ERR_IO;
    rc = bind_socket(srv, bind_addr);
    if (rc < 0) {
        scn_ip_format(bind_addr, text, sizeof(text));
        scn_log(&srv->loop->log, SCN_LOG_ERROR, "server",
                "cannot listen on %s port %d: %s", text, srv->opts.port,
                strerror(-rc));
        return scn_err_from_errno(-rc);
    }
    srv->listen_fd = rc;
    fd.filefd = srv->listen_fd;
    srv->listener =
        lws_adopt_descriptor_vhost(vh, LWS_ADOPT_RAW_FILE_DESC, fd, NULL, NULL);
    if (!srv->listener) {
        close(srv->listen_fd);
        srv->listen_fd = -1;
        return SCN_ERR_IO;
    }
    /* Best effort: without it, deadlines use an lws timer (see
     * server_internal.h). */
    srv->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (srv->timer_fd >= 0) {
        fd.filefd = srv->timer_fd;
        srv->timer = lws_adopt_descriptor_vhost(vh, LWS_ADOPT_RAW_FILE_DESC, fd,
                                                NULL, NULL);
        if (!srv->timer) {
            close(srv->timer_fd);
            srv->timer_fd = -1;
        }
    }
    return 0;
}

/* Arms the deadline timer for due (monotonic ms; UINT64_MAX: none). */
static void arm_timer(scn_server *srv, uint64_t due, uint64_t now, sul_cb_t cb)
{
    struct itimerspec its;

    if (!srv->timer) {
        if (due == UINT64_MAX)
            lws_sul_cancel(&srv->slow_sul);
        else
            lws_sul_schedule(srv->loop->ctx, 0, &srv->slow_sul, cb,
                             (lws_usec_t)(due > now ? due - now : 1) *
                                 LWS_US_PER_MS);
        return;
    }
    if (due == srv->timer_due)
        return;
    srv->timer_due = due;
    memset(&its, 0, sizeof(its));
    /* scn_loop_now_ms() is CLOCK_MONOTONIC too; all zeros disarms. */
    if (due != UINT64_MAX) {
        its.it_value.tv_sec = (time_t)(due / 1000);
        its.it_value.tv_nsec = (long)(due % 1000) * 1000000L;
    }
    (void)timerfd_settime(srv->timer_fd, TFD_TIMER_ABSTIME, &its, NULL);
}

void scn_server_unlisten(scn_server *srv)
{
    for (scn_server_conn *c = srv->conns; c; c = c->next) {
        if (!c->wsi)
            continue;
        lws_set_opaque_user_data(c->wsi, NULL);
        /* A timeout kill is lws's violent close: no close frame, no flush,
         * no lingering shutdown, so nothing is left waiting on a peer. */
        lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
        c->wsi = NULL;
    }
    if (srv->listener) {
        struct lws *l = srv->listener;

        srv->listener = NULL;
        /* A raw file closes synchronously: the port is free on return. */
        lws_set_timeout(l, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_SYNC);
        srv->listen_fd = -1;
    }
    if (srv->timer) {
        struct lws *t = srv->timer;

        srv->timer = NULL;
        lws_set_timeout(t, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_SYNC);
        srv->timer_fd = -1;
    }
    lws_sul_cancel(&srv->slow_sul);
    lws_sul_cancel(&srv->accept_sul);
}

static size_t conn_count(scn_server *srv)
{
    size_t n = 0;

    for (scn_server_conn *c = srv->conns; c; c = c->next)
        n++;
    return n;
}

static void resume_accepting(lws_sorted_usec_list_t *sul)
{
    scn_server *srv = lws_container_of(sul, scn_server, accept_sul);

    if (srv->listener && srv->accept_paused) {
        srv->accept_paused = false;
        lws_rx_flow_control(srv->listener, 1);
    }
}

static void pause_accepting(scn_server *srv, int err)
{
    char detail[96];

    snprintf(detail, sizeof(detail), "accept failed: %s; pausing %d ms",
             strerror(err), ACCEPT_PAUSE_MS);
    if (!srv->accept_paused) {
        srv->accept_paused = true;
        lws_rx_flow_control(srv->listener, 0);
        lws_sul_schedule(srv->loop->ctx, 0, &srv->accept_sul, resume_accepting,
                         (lws_usec_t)ACCEPT_PAUSE_MS * LWS_US_PER_MS);
    }
    scn_server_report_error(srv, NULL,
                            err == ENOMEM ? SCN_ERR_NOMEM : SCN_ERR_IO, detail);
}

/* Frees a connection that lws never saw or no longer knows. */
static void conn_free(scn_server_conn *c)
{
    scn_peerq_free(&c->q);
    free(c->rxbuf);
    free(c);
}

static void adopt(scn_server *srv, int fd, const scn_ip_addr *peer)
{
    lws_sock_file_fd_type d;
    scn_server_conn *c;
    struct lws *wsi;
    int rc;

    c = calloc(1, sizeof(*c));
    if (!c) {
        close(fd);
        scn_server_report_error(srv, NULL, SCN_ERR_NOMEM,
                                "no memory for a connection");
        return;
    }
    c->srv = srv;
    scn_ip_format(peer, c->peer, sizeof(c->peer));
    rc = scn_peerq_init(&c->q, srv->opts.queue_msgs, srv->opts.queue_bytes,
                        LWS_PRE);
    if (rc) {
        close(fd);
        conn_free(c);
        scn_server_report_error(srv, NULL, rc, "no memory for a connection");
        return;
    }
    d.sockfd = fd;
    /* lws closes fd itself when adopting fails. The connection is tied to
     * the wsi only afterwards, so adoption's own callbacks see none. */
    wsi = lws_adopt_descriptor_vhost(srv->loop->server_vhost,
                                     LWS_ADOPT_SOCKET | LWS_ADOPT_HTTP, d, NULL,
                                     NULL);
    if (!wsi) {
        conn_free(c);
        scn_server_report_error(srv, NULL, SCN_ERR_IO,
                                "cannot adopt an accepted connection");
        return;
    }
    c->wsi = wsi;
    lws_set_opaque_user_data(wsi, c);
    pthread_mutex_lock(&srv->mu);
    c->next = srv->conns;
    srv->conns = c;
    pthread_mutex_unlock(&srv->mu);
}

static void on_listener_readable(scn_server *srv)
{
    for (int i = 0; i < ACCEPT_BURST && srv->listener; i++) {
        struct sockaddr_storage ss;
        socklen_t sl = sizeof(ss);
        scn_ip_addr peer;
        char text[SCN_IP_TEXT_MAX];
        int fd;

        fd = accept4(srv->listen_fd, (struct sockaddr *)&ss, &sl,
                     SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
                errno == ENOMEM)
                pause_accepting(srv, errno);
            /* EAGAIN: drained. ECONNABORTED and the like concern one
             * connection that is gone already. */
            return;
        }
        text[0] = '\0';
        if (scn_ip_from_sockaddr((struct sockaddr *)&ss, sl, &peer) == 0)
            scn_ip_format(&peer, text, sizeof(text));
        if (!text[0] || !scn_peer_allow_match(&srv->allow, &peer)) {
            close(fd);
            pthread_mutex_lock(&srv->mu);
            srv->stats.refused_address++;
            pthread_mutex_unlock(&srv->mu);
            scn_log(&srv->loop->log, SCN_LOG_INFO, "server",
                    "port %d: refused %s: not in the allow list", srv->port,
                    text[0] ? text : "(unknown address)");
            continue;
        }
        if (conn_count(srv) >= srv->opts.max_connections) {
            close(fd);
            pthread_mutex_lock(&srv->mu);
            srv->stats.connections_refused++;
            pthread_mutex_unlock(&srv->mu);
            scn_log(&srv->loop->log, SCN_LOG_WARN, "server",
                    "port %d: refused a connection: %zu already", srv->port,
                    srv->opts.max_connections);
            continue;
        }
        if (srv->opts.socket_send_buffer) {
            int v = srv->opts.socket_send_buffer > (size_t)INT32_MAX
                        ? INT32_MAX
                        : (int)srv->opts.socket_send_buffer;
            /* Best effort: a refusal leaves the default, which only makes
             * a stalled peer slower to notice. */
            (void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v));
        }
        adopt(srv, fd, &peer);
    }
}

/* ------------------------------------------------------------------ */
/* Upgrade                                                             */
/* ------------------------------------------------------------------ */

/* Answers with a bodiless status and asks lws to close. Written by hand:
 * lws_return_http_status() answers an upgrade request "HTTP/1.0" (the
 * request's version is only recorded for plain HTTP requests), which
 * strict clients such as Python's websockets reject as an invalid
 * response instead of reading the status. */
static int refuse(scn_server *srv, struct lws *wsi, unsigned status,
                  const char *why, const char *peer)
{
    unsigned char buf[LWS_PRE + 128];
    const char *phrase = status == 400   ? "Bad Request"
                         : status == 403 ? "Forbidden"
                                         : "Not Found";
    int n;

    pthread_mutex_lock(&srv->mu);
    srv->stats.connections_refused++;
    pthread_mutex_unlock(&srv->mu);
    scn_log(&srv->loop->log, SCN_LOG_INFO, "server",
            "port %d: refused %s: %s (HTTP %u)", srv->port, peer, why, status);
    n = snprintf((char *)buf + LWS_PRE, sizeof(buf) - LWS_PRE,
                 "HTTP/1.1 %u %s\r\nContent-Length: 0\r\n"
                 "Connection: close\r\n\r\n",
                 status, phrase);
    /* lws keeps what the socket does not take and flushes it before the
     * close that -1 asks for. */
    lws_write(wsi, buf + LWS_PRE, (size_t)n, LWS_WRITE_HTTP);
    return -1;
}

/* Whether the comma-separated offer names want; sets *any when it names
 * something at all. */
static bool offer_has(const char *offer, const char *want, bool *any)
{
    const char *p = offer;

    *any = false;
    while (*p) {
        size_t n;

        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        n = strcspn(p, " \t,");
        if (n) {
            *any = true;
            if (want && strlen(want) == n && strncmp(p, want, n) == 0)
                return true;
        }
        p += n;
    }
    return false;
}

static int on_confirm_upgrade(scn_server *srv, scn_server_conn *c,
                              struct lws *wsi, const char *upgrade)
{
    char path[256] = "", offer[256] = "";
    bool any, has;
    int rc = 0;

    if (srv->free_pending)
        return -1;
    if (!upgrade || strcasecmp(upgrade, "websocket") != 0)
        return refuse(srv, wsi, 400, "not a WebSocket upgrade", c->peer);
    if (lws_hdr_copy(wsi, path, sizeof(path), WSI_TOKEN_GET_URI) < 0)
        return refuse(srv, wsi, 400, "path too long", c->peer);
    if (srv->path && strcmp(path, srv->path) != 0)
        return refuse(srv, wsi, 404, "no such path", c->peer);
    if (lws_hdr_copy(wsi, offer, sizeof(offer), WSI_TOKEN_PROTOCOL) < 0)
        return refuse(srv, wsi, 400, "subprotocol offer too long", c->peer);
    has = offer_has(offer, srv->subprotocol, &any);
    if (srv->subprotocol && !has)
        return refuse(srv, wsi, 400, "subprotocol not offered", c->peer);
    if (!srv->subprotocol && any)
        return refuse(srv, wsi, 400, "no subprotocol served", c->peer);
    if (c->state != SCN_CONN_HTTP)
        return refuse(srv, wsi, 400, "second upgrade", c->peer);
    if (srv->opts.callbacks.on_connect)
        SCN_SERVER_CALL(srv, rc = srv->opts.callbacks.on_connect(
                                 srv, c, c->peer, path, srv->opts.user));
    if (rc)
        return refuse(srv, wsi, 403, "refused by the application", c->peer);
    c->announced = true;
    pthread_mutex_lock(&srv->mu);
    c->state = SCN_CONN_PENDING;
    pthread_mutex_unlock(&srv->mu);
    /* Freed inside on_connect: the connection still gets its on_close
     * (1001) when the free completes; the handshake stops here. */
    if (srv->free_pending)
        return -1;
    /* lws now matches the offer against the shared protocol's name and
     * answers with it, before any other connection can run: give it this
     * server's subprotocol. Without one, nothing was offered (checked
     * above), lws takes the default protocol and answers none. */
    snprintf(srv->loop->server_protocol, sizeof(srv->loop->server_protocol),
             "%s", srv->subprotocol ? srv->subprotocol : DEFAULT_PROTOCOL_NAME);
    return 0;
}

static void on_established(scn_server *srv, scn_server_conn *c, struct lws *wsi)
{
    bool work, closing;

    pthread_mutex_lock(&srv->mu);
    c->state = SCN_CONN_OPEN;
    srv->stats.connections_accepted++;
    srv->stats.connections_open++;
    /* Sent or closed from on_connect on: that work waited for now. */
    work = scn_peerq_count(&c->q) > 0 || c->want_close_code;
    closing = c->want_close_code != 0;
    c->want_write = false;
    pthread_mutex_unlock(&srv->mu);
    scn_log(&srv->loop->log, SCN_LOG_INFO, "server", "port %d: %s connected",
            srv->port, c->peer);
    if (closing && !c->close_armed) {
        c->close_armed = true;
        lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, CLOSE_TIMEOUT_S);
    }
    if (work)
        lws_callback_on_writable(wsi);
}

/* ------------------------------------------------------------------ */
/* Receiving                                                           */
/* ------------------------------------------------------------------ */

/*
 * Closing must not be started by returning -1 from RECEIVE: lws 4.1.6 then
 * keeps parsing the rest of its read buffer into the rx buffer without
 * resetting it and writes past its end (see ws_adapter.c). So the receive
 * path stops reading, discards, and closes from WRITEABLE; a peer that
 * does not read our close frame is cut off after CLOSE_TIMEOUT_S.
 */
static void close_from_writeable(scn_server *srv, scn_server_conn *c,
                                 struct lws *wsi, int code, const char *why)
{
    pthread_mutex_lock(&srv->mu);
    if (!c->closing) {
        c->closing = true;
        c->want_close_code = code;
        snprintf(c->want_close_reason, sizeof(c->want_close_reason), "%s", why);
        srv->stats.dropped_unsent += scn_peerq_clear(&c->q);
    }
    pthread_mutex_unlock(&srv->mu);
    if (!c->rx_paused) {
        c->rx_paused = true;
        lws_rx_flow_control(wsi, 0);
    }
    if (!c->close_armed) {
        c->close_armed = true;
        lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, CLOSE_TIMEOUT_S);
    }
    lws_callback_on_writable(wsi);
}

static void deliver(scn_server *srv, scn_server_conn *c,
                    const unsigned char *data, size_t len)
{
    pthread_mutex_lock(&srv->mu);
    srv->stats.messages_in++;
    srv->stats.bytes_in += len;
    c->st.messages_in++;
    c->st.bytes_in += len;
    pthread_mutex_unlock(&srv->mu);
    if (srv->opts.callbacks.on_message && !srv->free_pending)
        SCN_SERVER_CALL(srv, srv->opts.callbacks.on_message(srv, c, data, len,
                                                            c->rx_binary,
                                                            srv->opts.user));
}

static void on_receive(scn_server *srv, scn_server_conn *c, struct lws *wsi,
                       const unsigned char *in, size_t len)
{
    size_t remaining = lws_remaining_packet_payload(wsi);
    bool first = lws_is_first_fragment(wsi);
    bool final = lws_is_final_fragment(wsi);
    size_t max = srv->opts.max_message_bytes;
    bool closing;

    pthread_mutex_lock(&srv->mu);
    closing = c->closing;
    pthread_mutex_unlock(&srv->mu);
    if (closing)
        return; /* the rest is discarded */
    if (first) {
        c->rxlen = 0;
        c->rx_binary = lws_frame_is_binary(wsi);
    }
    /* Written as subtractions: the sums could wrap on a hostile length. */
    if (len > max || c->rxlen > max - len || remaining > max - len - c->rxlen) {
        /* Refused before buffering it: the limit bounds our memory. */
        pthread_mutex_lock(&srv->mu);
        srv->stats.oversize++;
        pthread_mutex_unlock(&srv->mu);
        close_from_writeable(srv, c, wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE,
                             "message too big");
        scn_server_report_error(srv, c, SCN_ERR_MESSAGE_TOO_BIG,
                                "inbound message over max_message_bytes");
        return;
    }
    if (first && final) {
        deliver(srv, c, in, len);
        return;
    }
    if (c->rxlen + len > c->rxcap) {
        size_t cap = c->rxcap ? c->rxcap : RX_CHUNK;
        unsigned char *nb;

        while (cap < c->rxlen + len)
            cap *= 2;
        if (cap > max)
            cap = max;
        nb = realloc(c->rxbuf, cap);
        if (!nb) {
            close_from_writeable(srv, c, wsi,
                                 LWS_CLOSE_STATUS_UNEXPECTED_CONDITION,
                                 "out of memory");
            scn_server_report_error(srv, c, SCN_ERR_NOMEM,
                                    "no memory for a message");
            return;
        }
        c->rxbuf = nb;
        c->rxcap = cap;
    }
    memcpy(c->rxbuf + c->rxlen, in, len);
    c->rxlen += len;
    if (final) {
        deliver(srv, c, c->rxbuf, c->rxlen);
        c->rxlen = 0;
    }
}

/* ------------------------------------------------------------------ */
/* Writing and closing                                                 */
/* ------------------------------------------------------------------ */

/* Puts a server frame's header (FIN, opcode, length; server frames are
 * not masked) in h; returns its size. */
static size_t ws_header(unsigned char *h, size_t len, bool binary)
{
    h[0] = binary ? 0x82 : 0x81;
    if (len < 126) {
        h[1] = (unsigned char)len;
        return 2;
    }
    if (len <= 0xffff) {
        h[1] = 126;
        h[2] = (unsigned char)(len >> 8);
        h[3] = (unsigned char)len;
        return 4;
    }
    h[1] = 127;
    for (int i = 0; i < 8; i++)
        h[2 + i] = (unsigned char)((uint64_t)len >> (56 - 8 * i));
    return WS_HDR_MAX;
}

/* Copies the batch into srv->wbuf as complete frames back to back and
 * frees each message. Returns the bytes to write. */
static size_t pack_batch(scn_server *srv, scn_server_conn *c, scn_msg *batch,
                         size_t nb)
{
    unsigned char *out = srv->wbuf + LWS_PRE;
    size_t at = 0;

    for (size_t i = 0; i < nb; i++) {
        at += ws_header(out + at, batch[i].len, scn_peerq_tag(&batch[i]) != 0);
        memcpy(out + at, scn_peerq_payload(&c->q, &batch[i]), batch[i].len);
        at += batch[i].len;
        free(batch[i].buf);
    }
    return at;
}

static int on_writeable(scn_server *srv, scn_server_conn *c, struct lws *wsi)
{
    char reason[SCN_CLOSE_REASON_MAX + 1];
    scn_msg batch[WRITE_BATCH_MSGS];
    size_t nb = 0, limit, len, framed = 0, payload = 0, out;
    int code = 0, n;
    bool more;

    /* The batch buffer, once per server: without it, one message per
     * write as before. */
    if (!srv->wbuf && (srv->wbuf = malloc(LWS_PRE + WRITE_BATCH_BYTES)))
        srv->wcap = WRITE_BATCH_BYTES;
    limit = srv->wbuf ? WRITE_BATCH_MSGS : 1;
    pthread_mutex_lock(&srv->mu);
    if (c->want_close_code) {
        code = c->want_close_code;
        memcpy(reason, c->want_close_reason, sizeof(reason));
        c->want_close_code = 0;
    } else if (!c->closing) {
        /* Whole messages while they fit the buffer; the first always goes
         * (alone, in place, when it is too big to share a write). */
        while (nb < limit && scn_peerq_peek_len(&c->q, &len)) {
            if (nb && framed + WS_HDR_MAX + len > srv->wcap)
                break;
            scn_peerq_take(&c->q, &batch[nb++]);
            framed += WS_HDR_MAX + len;
            payload += len;
        }
    }
    pthread_mutex_unlock(&srv->mu);
    if (code) {
        c->close_code = code;
        lws_close_reason(wsi, (enum lws_close_status)code,
                         (unsigned char *)reason, strlen(reason));
        return -1;
    }
    if (!nb)
        return 0;
    /* One write per callback: lws keeps what the socket did not take and
     * calls us again only when it drained, which is the backpressure.
     * Several messages go as complete frames in one raw write (lws frames
     * nothing for LWS_WRITE_RAW on a WebSocket), so each is still one
     * message to the peer and none can be cut by a control frame. */
    if (nb == 1) {
        n = lws_write(wsi, scn_peerq_payload(&c->q, &batch[0]), batch[0].len,
                      scn_peerq_tag(&batch[0]) ? LWS_WRITE_BINARY
                                               : LWS_WRITE_TEXT);
        out = batch[0].len;
        free(batch[0].buf);
    } else {
        out = pack_batch(srv, c, batch, nb);
        n = lws_write(wsi, srv->wbuf + LWS_PRE, out, LWS_WRITE_RAW);
    }
    if (n < (int)out)
        return -1;
    c->next_write_ms = scn_loop_now_ms(srv->loop) + srv->opts.write_interval_ms;
    pthread_mutex_lock(&srv->mu);
    srv->stats.messages_out += nb;
    srv->stats.bytes_out += payload;
    srv->stats.writes++;
    c->st.messages_out += nb;
    c->st.bytes_out += payload;
    more = scn_peerq_count(&c->q) > 0;
    pthread_mutex_unlock(&srv->mu);
    /* Behind (the batch was full): drain at the socket's pace. */
    if (more)
        lws_callback_on_writable(wsi);
    return 0;
}

static void on_peer_close(scn_server_conn *c, const unsigned char *in,
                          size_t len)
{
    c->peer_close_code = len >= 2 ? (in[0] << 8) | in[1] : 1005;
}

static int close_code_of(const scn_server_conn *c)
{
    if (c->close_code)
        return c->close_code;
    if (c->peer_close_code)
        return c->peer_close_code;
    return 1006;
}

static void on_closed(scn_server *srv, scn_server_conn *c)
{
    bool was_open;

    pthread_mutex_lock(&srv->mu);
    was_open = c->state == SCN_CONN_OPEN;
    if (was_open)
        srv->stats.connections_open--;
    c->state = SCN_CONN_CLOSED;
    pthread_mutex_unlock(&srv->mu);
    if (was_open)
        scn_log(&srv->loop->log, SCN_LOG_INFO, "server",
                "port %d: %s closed (%d)", srv->port, c->peer,
                close_code_of(c));
    scn_server_report_close(c, close_code_of(c));
}

void scn_server_conn_destroy(scn_server_conn *conn)
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
    srv->stats.dropped_unsent += scn_peerq_count(&conn->q);
    pthread_mutex_unlock(&srv->mu);
    conn_free(conn);
}

/* ------------------------------------------------------------------ */
/* Cross-thread work and slow peers                                    */
/* ------------------------------------------------------------------ */

static void slow_timer(lws_sorted_usec_list_t *sul)
{
    scn_server *srv = lws_container_of(sul, scn_server, slow_sul);

    scn_server_service(srv);
}

void scn_server_service(scn_server *srv)
{
    uint64_t now = scn_loop_now_ms(srv->loop), next = UINT64_MAX, due;
    uint32_t limit = srv->opts.slow_disconnect_ms;
    /* Connections due within a quarter interval are written now too, so
     * that they fall into step and one timer serves them all. */
    uint64_t slack = srv->opts.write_interval_ms / 4;

    if (srv->free_pending || srv->destroying)
        return;
    /* Decide under the lock, act without it: lws calls may call back into
     * protocols[0], and user callbacks may call the API. The list changes
     * only on this thread, in lws's close path, which runs neither here nor
     * from any API call. */
    pthread_mutex_lock(&srv->mu);
    srv->wake_pending = false;
    for (scn_server_conn *c = srv->conns; c; c = c->next) {
        if (c->state == SCN_CONN_CLOSED || !c->wsi)
            continue;
        /* Connections still in their handshake keep their wants: they are
         * served at ESTABLISHED. A write waits for the connection's
         * interval (the timer below comes back for it); a close does not. */
        if (c->state == SCN_CONN_OPEN && c->want_write && !c->want_close_code &&
            now + slack < c->next_write_ms) {
            if (c->next_write_ms < next)
                next = c->next_write_ms;
        } else if (c->state == SCN_CONN_OPEN &&
                   (c->want_write || c->want_close_code)) {
            c->act_write = true;
            c->want_write = false;
        }
        c->act_notice = c->slow_notice;
        c->slow_notice = false;
        if (c->state != SCN_CONN_OPEN || c->closing)
            continue;
        if (scn_peerq_overdue(&c->q, now, limit, &due)) {
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
            c->close_code = SLOW_CLOSE_CODE;
            scn_log(&srv->loop->log, SCN_LOG_WARN, "server",
                    "port %d: cutting off %s: behind for %u ms", srv->port,
                    c->peer, (unsigned)limit);
            /* Its socket is full, so a close frame would never leave. */
            lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
        }
        if (c->act_write) {
            c->act_write = false;
            if (c->closing && !c->close_armed) {
                c->close_armed = true;
                lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK,
                                CLOSE_TIMEOUT_S);
            }
            lws_callback_on_writable(c->wsi);
        }
    }
    for (scn_server_conn *c = srv->conns; c; c = c->next) {
        if (c->act_notice) {
            c->act_notice = false;
            scn_server_report_error(srv, c, SCN_ERR_QUEUE_FULL,
                                    "peer too slow: oldest messages dropped");
        }
    }
    if (srv->free_pending || srv->destroying)
        return;
    arm_timer(srv, next, now, slow_timer);
}

/* ------------------------------------------------------------------ */
/* The protocol callback                                               */
/* ------------------------------------------------------------------ */

/* lws_cancel_service() reaches every protocol of every vhost: the shared
 * vhost's picks up the cross-thread work of every server. */
static void on_wakeup(scn_loop *loop)
{
    /* A server created meanwhile by a callback joins at the head, behind
     * us; freeing is deferred while callbacks run. */
    for (scn_server *srv = loop->servers; srv; srv = srv->next)
        scn_server_service(srv);
}

/* The server whose listener (or, with timer set, deadline timer) wsi is. */
static scn_server *raw_owner(struct lws *wsi, bool *timer)
{
    scn_loop *loop = loop_of(wsi);

    for (scn_server *srv = loop ? loop->servers : NULL; srv; srv = srv->next) {
        if (srv->listener == wsi || srv->timer == wsi) {
            *timer = srv->timer == wsi;
            return srv;
        }
    }
    return NULL;
}

static void on_timer_readable(scn_server *srv)
{
    uint64_t expirations;

    /* Read to clear the readiness; it is one-shot, so it is now unarmed. */
    if (read(srv->timer_fd, &expirations, sizeof(expirations)) < 0 &&
        errno != EAGAIN)
        return;
    srv->timer_due = UINT64_MAX;
    scn_server_service(srv);
}

static int server_callback(struct lws *wsi, enum lws_callback_reasons reason,
                           void *user, void *in, size_t len)
{
    scn_server_conn *c;
    scn_server *srv;
    bool timer;

    (void)user;
    switch (reason) {
    case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
        if (loop_of(wsi))
            on_wakeup(loop_of(wsi));
        return 0;
    case LWS_CALLBACK_RAW_RX_FILE:
        srv = raw_owner(wsi, &timer);
        if (srv && timer)
            on_timer_readable(srv);
        else if (srv && !srv->free_pending)
            on_listener_readable(srv);
        return 0;
    case LWS_CALLBACK_RAW_CLOSE_FILE:
        srv = raw_owner(wsi, &timer);
        if (srv && timer) {
            /* Deadlines fall back to an lws timer from the next service. */
            srv->timer = NULL;
            srv->timer_fd = -1;
            srv->timer_due = UINT64_MAX;
            scn_server_service(srv);
        } else if (srv) {
            /* lws closed it (an error on the socket); it closed the fd. */
            srv->listener = NULL;
            srv->listen_fd = -1;
            scn_server_report_error(srv, NULL, SCN_ERR_IO,
                                    "the listening socket failed");
        }
        return 0;
    default:
        break;
    }

    /* Everything else concerns one connection: ours only while the wsi
     * carries it (scn_server_unlisten detaches them). */
    c = wsi ? lws_get_opaque_user_data(wsi) : NULL;
    if (!c)
        return reason == LWS_CALLBACK_HTTP ? -1 : 0;
    srv = c->srv;
    switch (reason) {
    case LWS_CALLBACK_HTTP:
        /* A plain HTTP request: there is nothing here but the upgrade. */
        return refuse(srv, wsi, 404, "not a WebSocket request", c->peer);
    case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
        return on_confirm_upgrade(srv, c, wsi, in);
    case LWS_CALLBACK_ESTABLISHED:
        on_established(srv, c, wsi);
        return 0;
    case LWS_CALLBACK_RECEIVE:
        /* Always 0 here: see close_from_writeable. */
        on_receive(srv, c, wsi, in, len);
        return 0;
    case LWS_CALLBACK_SERVER_WRITEABLE:
        return on_writeable(srv, c, wsi);
    case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
        on_peer_close(c, in, len);
        return 0;
    case LWS_CALLBACK_CLOSED:
        on_closed(srv, c);
        return 0;
    case LWS_CALLBACK_WSI_DESTROY:
        /* Last word on every wsi, whether or not it got as far as
         * ESTABLISHED. */
        lws_set_opaque_user_data(wsi, NULL);
        scn_server_report_close(c, close_code_of(c));
        scn_server_conn_destroy(c);
        return 0;
    default:
        return 0;
    }
}
