/*
 * The libwebsockets adapter for servers: the only server code that drives
 * lws. All of it runs on the loop's thread.
 *
 * lws is used as the event loop and the socket layer only: each server
 * opens its listening socket itself; lws watches it as a raw file
 * descriptor; we accept, check the peer against the allow list and the
 * limits, and hand the socket to lws as a *raw* socket. HTTP, the
 * WebSocket handshake and framing are ours (server_conn.c, plain C), as
 * is TLS (tls_server.c, over memory buffers): lws 4.1.6 accepts unmasked
 * client frames and any Sec-WebSocket-Version, can only validate UTF-8
 * for a whole context (clients included), cannot answer an upgrade
 * request with a status of our choosing in every case, and cannot close
 * a vhost's own listener (lws_vhost_destroy() waits for every wsi bound
 * to the vhost, the listener included; with our own socket,
 * scn_server_free() releases the port at once).
 *
 * All servers of a loop share one vhost without a listener, created with
 * the first and kept until the loop goes; raw sockets never move between
 * vhosts. Each connection's wsi carries its scn_server_conn (the opaque
 * pointer); the listener and deadline timer are found by their wsi.
 */
/* accept4(): the accepted socket is close-on-exec from its first moment,
 * so a child started meanwhile by another thread cannot inherit it. */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "lws_loop.h"
#include "server_internal.h"
#include "tls_server.h"

#define LISTEN_BACKLOG 64
/* Connections accepted per readiness event, so that a burst of connects
 * cannot starve the other sockets of the loop. */
#define ACCEPT_BURST 16
/* After running out of file descriptors, accepting pauses this long
 * rather than spin on a listener that stays readable. */
#define ACCEPT_PAUSE_MS 200
#define RX_CHUNK        4096
/* Larger than any one write of the servers (a batch of queued messages
 * is at most 64 KiB, server_conn.c, plus bytes owed before it). */
#define TX_CHUNK (128u * 1024)
/* Plaintext decrypted per step. */
#define TLS_PLAIN_CHUNK 16384
#define PROTOCOL_NAME   "scn-server"

/* What the adapter keeps per server. */
struct scn_server_io {
    struct lws *listener; /* raw wsi watching listen_fd */
    int listen_fd;
    bool accept_paused;
    /* The next deadline on a timerfd that lws polls: an lws 4.1 timer
     * (sul) makes poll() spin for the last fraction of a millisecond
     * before it is due (the wait is rounded down to whole ms), which at 20
     * flushes a second costs percents of a core. */
    struct lws *timer; /* raw wsi watching timer_fd; NULL: timer_sul */
    int timer_fd;
    lws_sorted_usec_list_t timer_sul;  /* the same, without a timerfd */
    lws_sorted_usec_list_t accept_sul; /* resume accepting */
    lws_sorted_usec_list_t free_sul;   /* deferred scn_server_free */
    scn_server *srv;
    /* Ciphertext on its way out (TLS servers). */
    unsigned char *tbuf;
    size_t tcap;
};

/* What the adapter keeps per connection. */
struct scn_conn_io {
    struct lws *wsi; /* NULL once lws let go */
    int fd;
    scn_tls_conn *tls; /* NULL: plain */
    bool killing;      /* a kill is on its way */
};

static scn_loop *loop_of(struct lws *wsi)
{
    return wsi ? lws_context_user(lws_get_context(wsi)) : NULL;
}

void scn__server_wake(scn_server *srv)
{
    /* Even on the loop thread: the work then runs from the loop, never
     * nested inside the caller's own call. */
    scn__lws_wake(srv->loop);
}

/* ------------------------------------------------------------------ */
/* Listening                                                           */
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

    if (loop->lws->server_vhost)
        return loop->lws->server_vhost;
    memset(protocols, 0, sizeof(protocols));
    protocols[0].name = PROTOCOL_NAME;
    protocols[0].callback = server_callback;
    protocols[0].rx_buffer_size = RX_CHUNK;
    /* Without it lws sends at most rx_buffer_size + 20 bytes per send()
     * (lws_issue_raw) and keeps the rest for later loop turns: a
     * dashboard's 12 KiB flush went out as four sends and four polls. */
    protocols[0].tx_packet_size = TX_CHUNK;
    memset(&info, 0, sizeof(info));
    info.vhost_name = "scn-servers";
    /* Serves the sockets we adopt, without a listener of its own. */
    info.port = CONTEXT_PORT_NO_LISTEN_SERVER;
    info.protocols = protocols;
    info.user = loop;
    loop->lws->server_vhost = lws_create_vhost(loop->lws->ctx, &info);
    return loop->lws->server_vhost;
}

int scn__server_listen(scn_server *srv, const scn_ip_addr *bind_addr)
{
    struct lws_vhost *vh = server_vhost(srv->loop);
    struct scn_server_io *io;
    lws_sock_file_fd_type fd;
    char text[SCN_IP_TEXT_MAX];
    int rc;

    if (!vh)
        return SCN_ERR_IO;
    io = calloc(1, sizeof(*io));
    if (!io)
        return SCN_ERR_NOMEM;
    io->srv = srv;
    io->timer_fd = -1;
    rc = bind_socket(srv, bind_addr);
    if (rc < 0) {
        scn__ip_format(bind_addr, text, sizeof(text));
        scn__log(&srv->loop->log, SCN_LOG_ERROR, "server",
                 "cannot listen on %s port %d: %s", text, srv->opts.port,
                 strerror(-rc));
        free(io);
        return scn_err_from_errno(-rc);
    }
    io->listen_fd = rc;
    fd.filefd = io->listen_fd;
    io->listener =
        lws_adopt_descriptor_vhost(vh, LWS_ADOPT_RAW_FILE_DESC, fd, NULL, NULL);
    if (!io->listener) {
        close(io->listen_fd);
        free(io);
        return SCN_ERR_IO;
    }
    srv->io = io;
    /* Best effort: without it, deadlines use an lws timer (see above). */
    io->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (io->timer_fd >= 0) {
        fd.filefd = io->timer_fd;
        io->timer = lws_adopt_descriptor_vhost(vh, LWS_ADOPT_RAW_FILE_DESC, fd,
                                               NULL, NULL);
        if (!io->timer) {
            close(io->timer_fd);
            io->timer_fd = -1;
        }
    }
    /* Found by the wakeup and by its listener's and timer's events. */
    srv->next = srv->loop->lws->servers;
    srv->loop->lws->servers = srv;
    return 0;
}

static void timer_sul_cb(lws_sorted_usec_list_t *sul)
{
    struct scn_server_io *io =
        lws_container_of(sul, struct scn_server_io, timer_sul);

    io->srv->timer_due = UINT64_MAX;
    scn__server_service(io->srv);
}

void scn__server_arm_timer(scn_server *srv, uint64_t due)
{
    struct scn_server_io *io = srv->io;
    struct itimerspec its;
    uint64_t now;

    if (!io)
        return;
    if (!io->timer) {
        now = scn_loop_now_ms(srv->loop);
        if (due == UINT64_MAX)
            lws_sul_cancel(&io->timer_sul);
        else
            lws_sul_schedule(
                srv->loop->lws->ctx, 0, &io->timer_sul, timer_sul_cb,
                (lws_usec_t)(due > now ? due - now : 1) * LWS_US_PER_MS);
        srv->timer_due = due;
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
        if (!its.it_value.tv_sec && !its.it_value.tv_nsec)
            its.it_value.tv_nsec = 1;
    }
    (void)timerfd_settime(io->timer_fd, TFD_TIMER_ABSTIME, &its, NULL);
}

static void free_later(lws_sorted_usec_list_t *sul)
{
    struct scn_server_io *io =
        lws_container_of(sul, struct scn_server_io, free_sul);

    scn__server_destroy(io->srv);
}

void scn__server_defer_free(scn_server *srv)
{
    lws_sul_schedule(srv->loop->lws->ctx, 0, &srv->io->free_sul, free_later, 1);
}

void scn__server_unlisten(scn_server *srv)
{
    struct scn_server_io *io = srv->io;

    if (!io)
        return;
    for (scn_server_conn *c = srv->conns; c; c = c->next)
        scn__server_io_release(c);
    if (io->listener) {
        struct lws *l = io->listener;

        io->listener = NULL;
        /* A raw file closes synchronously: the port is free on return. */
        lws_set_timeout(l, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_SYNC);
        io->listen_fd = -1;
    }
    if (io->timer) {
        struct lws *t = io->timer;

        io->timer = NULL;
        lws_set_timeout(t, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_SYNC);
        io->timer_fd = -1;
    }
    lws_sul_cancel(&io->timer_sul);
    lws_sul_cancel(&io->accept_sul);
    lws_sul_cancel(&io->free_sul);
    free(io->tbuf);
    free(io);
    srv->io = NULL;
    for (scn_server **pp = &srv->loop->lws->servers; *pp; pp = &(*pp)->next) {
        if (*pp == srv) {
            *pp = srv->next;
            break;
        }
    }
}

/* ------------------------------------------------------------------ */
/* Accepting                                                           */
/* ------------------------------------------------------------------ */

static void resume_accepting(lws_sorted_usec_list_t *sul)
{
    struct scn_server_io *io =
        lws_container_of(sul, struct scn_server_io, accept_sul);

    if (io->listener && io->accept_paused) {
        io->accept_paused = false;
        lws_rx_flow_control(io->listener, 1);
    }
}

static void pause_accepting(scn_server *srv, int err)
{
    struct scn_server_io *io = srv->io;
    char detail[96];

    snprintf(detail, sizeof(detail), "accept failed: %s; pausing %d ms",
             strerror(err), ACCEPT_PAUSE_MS);
    if (!io->accept_paused) {
        io->accept_paused = true;
        lws_rx_flow_control(io->listener, 0);
        lws_sul_schedule(srv->loop->lws->ctx, 0, &io->accept_sul,
                         resume_accepting,
                         (lws_usec_t)ACCEPT_PAUSE_MS * LWS_US_PER_MS);
    }
    scn__server_report_error(
        srv, NULL, err == ENOMEM ? SCN_ERR_NOMEM : SCN_ERR_IO, detail);
}

static void adopt(scn_server *srv, int fd, const scn_ip_addr *peer,
                  int refuse_status)
{
    lws_adopt_desc_t ad;
    scn_server_conn *c;
    struct scn_conn_io *cio;

    c = calloc(1, sizeof(*c));
    cio = calloc(1, sizeof(*cio));
    if (!c || !cio || scn__server_conn_init(c, srv, peer, refuse_status)) {
        close(fd);
        if (c)
            scn__server_conn_release(c);
        free(c);
        free(cio);
        scn__server_report_error(srv, NULL, SCN_ERR_NOMEM,
                                 "no memory for a connection");
        return;
    }
    cio->fd = fd;
    if (srv->tls_ctx && !(cio->tls = scn__tls_conn_new(srv->tls_ctx))) {
        close(fd);
        scn__server_conn_release(c);
        free(c);
        free(cio);
        scn__server_report_error(srv, NULL, SCN_ERR_NOMEM,
                                 "no memory for a TLS connection");
        return;
    }
    c->io = cio;
    /* In the list before lws can call back for it. */
    pthread_mutex_lock(&srv->mu);
    c->next = srv->conns;
    srv->conns = c;
    pthread_mutex_unlock(&srv->mu);
    memset(&ad, 0, sizeof(ad));
    ad.vh = srv->loop->lws->server_vhost;
    ad.type = LWS_ADOPT_SOCKET; /* raw: no HTTP, no TLS of lws's */
    ad.fd.sockfd = fd;
    ad.opaque = c;
    /* lws closes fd itself when adopting fails. */
    cio->wsi = lws_adopt_descriptor_vhost_via_info(&ad);
    if (!cio->wsi) {
        scn__server_conn_destroy(c);
        scn__server_report_error(srv, NULL, SCN_ERR_IO,
                                 "cannot adopt an accepted connection");
        return;
    }
    if (!cio->tls)
        scn__server_conn_on_ready(c);
}

static void on_listener_readable(scn_server *srv)
{
    for (int i = 0; i < ACCEPT_BURST && srv->io && srv->io->listener; i++) {
        struct sockaddr_storage ss;
        socklen_t sl = sizeof(ss);
        scn_ip_addr peer;
        char text[SCN_IP_TEXT_MAX];
        int fd, admit;

        fd = accept4(srv->io->listen_fd, (struct sockaddr *)&ss, &sl,
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
        if (scn__ip_from_sockaddr((struct sockaddr *)&ss, sl, &peer) == 0)
            scn__ip_format(&peer, text, sizeof(text));
        if (!text[0] || !scn__peer_allow_match(&srv->allow, &peer)) {
            close(fd);
            SCN_SERVER_COUNT(srv, refused_address, 1);
            scn__log(&srv->loop->log, SCN_LOG_INFO, "server",
                     "port %d: refused %s: not in the allow list", srv->port,
                     text[0] ? text : "(unknown address)");
            continue;
        }
        admit = scn__server_admit(srv, &peer);
        if (admit < 0) {
            /* Even the refusals are too many: no answer at all. */
            close(fd);
            SCN_SERVER_COUNT(srv, connections_refused, 1);
            continue;
        }
        {
            int one = 1;

            /* Our writes are whole batches: nothing is gained by the
             * kernel holding back a batch's last segment (Nagle) while it
             * waits for a delayed ACK. */
            (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        }
        if (srv->opts.socket_send_buffer) {
            int v = srv->opts.socket_send_buffer > (size_t)INT32_MAX
                        ? INT32_MAX
                        : (int)srv->opts.socket_send_buffer;
            /* Best effort: a refusal leaves the default, which only makes
             * a stalled peer slower to notice. */
            (void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v));
        }
        adopt(srv, fd, &peer, admit);
    }
}

/* ------------------------------------------------------------------ */
/* A connection's bytes                                                */
/* ------------------------------------------------------------------ */

static bool tbuf_fit(struct scn_server_io *io, size_t n)
{
    unsigned char *nb;

    if (n <= io->tcap)
        return true;
    nb = realloc(io->tbuf, n);
    if (!nb)
        return false;
    io->tbuf = nb;
    io->tcap = n;
    return true;
}

/* Writes the ciphertext TLS has for the peer. */
static int flush_tls(scn_server_conn *c)
{
    struct scn_server_io *io = c->srv->io;
    size_t n = scn__tls_conn_pending(c->io->tls);

    if (!n)
        return 0;
    if (!tbuf_fit(io, n))
        return -1;
    n = scn__tls_conn_take(c->io->tls, io->tbuf, n);
    return lws_write(c->io->wsi, io->tbuf, n, LWS_WRITE_RAW) < (int)n ? -1 : 0;
}

int scn__server_io_write(scn_server_conn *c, const unsigned char *p, size_t n)
{
    if (!c->io || !c->io->wsi || c->io->killing)
        return -1;
    if (c->io->tls) {
        if (scn__tls_conn_write(c->io->tls, p, n))
            return -1;
        return flush_tls(c);
    }
    /* What the socket does not take, lws keeps and sends before calling
     * us writeable again. */
    return lws_write(c->io->wsi, (unsigned char *)p, n, LWS_WRITE_RAW) < (int)n
               ? -1
               : 0;
}

void scn__server_io_want_write(scn_server_conn *c)
{
    if (c->io && c->io->wsi && !c->io->killing)
        lws_callback_on_writable(c->io->wsi);
}

bool scn__server_io_idle(const scn_server_conn *c)
{
    return c->io && c->io->wsi && !c->io->killing &&
           !lws_partial_buffered(c->io->wsi);
}

void scn__server_io_rx(scn_server_conn *c, bool on)
{
    if (c->io && c->io->wsi && !c->io->killing)
        lws_rx_flow_control(c->io->wsi, on ? 1 : 0);
}

void scn__server_io_shutdown(scn_server_conn *c)
{
    if (!c->io || !c->io->wsi || c->io->killing)
        return;
    if (c->io->tls) {
        scn__tls_conn_shutdown(c->io->tls);
        (void)flush_tls(c);
    }
    (void)shutdown(c->io->fd, SHUT_WR);
}

void scn__server_io_close(scn_server_conn *c, bool abort)
{
    if (!c->io || !c->io->wsi || c->io->killing)
        return;
    c->io->killing = true;
    if (abort) {
        /* A reset: nothing still in the kernel's buffer goes out. */
        struct linger lg = {1, 0};

        (void)setsockopt(c->io->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
    }
    /* Asynchronous: the caller may be walking the connection list. */
    lws_set_timeout(c->io->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
}

void scn__server_io_release(scn_server_conn *c)
{
    struct scn_conn_io *cio = c->io;

    if (!cio)
        return;
    c->io = NULL;
    if (cio->wsi) {
        lws_set_opaque_user_data(cio->wsi, NULL);
        /* A timeout kill is lws's violent close: nothing is left waiting
         * on a peer. */
        lws_set_timeout(cio->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
    }
    scn__tls_conn_free(cio->tls);
    free(cio);
}

static void on_rx(scn_server_conn *c, unsigned char *in, size_t len)
{
    scn_server *srv = c->srv;
    unsigned char plain[TLS_PLAIN_CHUNK];
    bool was_ready;
    int n;

    if (!c->io->tls) {
        scn__server_conn_on_input(c, in, len);
        return;
    }
    was_ready = scn__tls_conn_ready(c->io->tls);
    if (scn__tls_conn_feed(c->io->tls, in, len)) {
        scn__server_io_close(c, true);
        return;
    }
    while (c->io && !c->io->killing &&
           (n = scn__tls_conn_read(c->io->tls, plain, sizeof(plain))) > 0) {
        if (!was_ready) {
            was_ready = true;
            scn__server_conn_on_ready(c);
        }
        scn__server_conn_on_input(c, plain, (size_t)n);
    }
    if (!c->io || c->io->killing)
        return;
    if (n == SCN_ERR_TLS) {
        SCN_SERVER_COUNT(srv, tls_failures, 1);
        scn__log(srv->log, SCN_LOG_INFO, "server",
                 "port %d: TLS with %s failed", srv->port, c->peer);
        (void)flush_tls(c); /* the alert, if any */
        scn__server_io_close(c, false);
        return;
    }
    if (!was_ready && scn__tls_conn_ready(c->io->tls))
        scn__server_conn_on_ready(c);
    /* Handshake messages, tickets, alerts. */
    if (flush_tls(c))
        scn__server_io_close(c, true);
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
    for (scn_server *srv = loop->lws->servers; srv; srv = srv->next)
        scn__server_service(srv);
}

/* The server whose listener (or, with timer set, deadline timer) wsi is. */
static scn_server *raw_owner(struct lws *wsi, bool *timer)
{
    scn_loop *loop = loop_of(wsi);

    for (scn_server *srv = loop ? loop->lws->servers : NULL; srv;
         srv = srv->next) {
        if (srv->io && (srv->io->listener == wsi || srv->io->timer == wsi)) {
            *timer = srv->io->timer == wsi;
            return srv;
        }
    }
    return NULL;
}

static void on_timer_readable(scn_server *srv)
{
    uint64_t expirations;

    /* Read to clear the readiness; it is one-shot, so it is now unarmed. */
    if (read(srv->io->timer_fd, &expirations, sizeof(expirations)) < 0 &&
        errno != EAGAIN)
        return;
    srv->timer_due = UINT64_MAX;
    scn__server_service(srv);
}

static int file_callback(struct lws *wsi, enum lws_callback_reasons reason)
{
    scn_server *srv;
    bool timer = false;

    srv = raw_owner(wsi, &timer);
    if (!srv)
        return 0;
    if (reason == LWS_CALLBACK_RAW_RX_FILE) {
        if (timer)
            on_timer_readable(srv);
        else if (!srv->free_pending)
            on_listener_readable(srv);
        return 0;
    }
    /* RAW_CLOSE_FILE: lws closed it after an error; it closed the fd. */
    if (timer) {
        /* Deadlines fall back to an lws timer from the next service. */
        srv->io->timer = NULL;
        srv->io->timer_fd = -1;
        srv->timer_due = UINT64_MAX;
        scn__server_service(srv);
    } else {
        srv->io->listener = NULL;
        srv->io->listen_fd = -1;
        scn__server_report_error(srv, NULL, SCN_ERR_IO,
                                 "the listening socket failed");
    }
    return 0;
}

static int server_callback(struct lws *wsi, enum lws_callback_reasons reason,
                           void *user, void *in, size_t len)
{
    scn_server_conn *c;

    (void)user;
    switch (reason) {
    case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
        if (loop_of(wsi))
            on_wakeup(loop_of(wsi));
        return 0;
    case LWS_CALLBACK_RAW_RX_FILE:
    case LWS_CALLBACK_RAW_CLOSE_FILE:
        return file_callback(wsi, reason);
    default:
        break;
    }

    /* Everything else concerns one connection: ours only while the wsi
     * carries it (scn__server_io_release detaches them). */
    c = wsi ? lws_get_opaque_user_data(wsi) : NULL;
    if (!c || !c->io)
        return 0;
    switch (reason) {
    case LWS_CALLBACK_RAW_RX:
        if (!c->io->killing)
            on_rx(c, in, len);
        return 0;
    case LWS_CALLBACK_RAW_WRITEABLE:
        if (c->io->killing)
            return 0;
        return scn__server_conn_on_writeable(c) ? -1 : 0;
    case LWS_CALLBACK_RAW_CLOSE:
        scn__server_conn_on_closed(c);
        return 0;
    case LWS_CALLBACK_WSI_DESTROY:
        /* Last word on every wsi. */
        lws_set_opaque_user_data(wsi, NULL);
        c->io->wsi = NULL;
        scn__server_conn_on_closed(c);
        scn__server_conn_destroy(c);
        return 0;
    default:
        return 0;
    }
}
