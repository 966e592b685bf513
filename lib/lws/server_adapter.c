/*
 * The servers' sockets: the only server code that touches the loop's
 * event machinery. All of it runs on the loop's thread.
 *
 * Each server opens its listening socket itself; we accept, check the
 * peer against the allow list and the limits, and move the bytes of the
 * accepted sockets ourselves. HTTP, the WebSocket handshake and framing
 * are ours (server_conn.c, plain C), as is TLS (tls_mem.c, over memory
 * buffers): lws 4.1.6 accepts unmasked client frames and any
 * Sec-WebSocket-Version, can only validate UTF-8 for a whole context
 * (clients included), cannot answer an upgrade request with a status of
 * our choosing in every case, and cannot close a vhost's own listener.
 *
 * The listeners, deadline timers and connections of every server of a
 * loop sit in one epoll set (epoll_set.c) that lws polls as one raw file:
 * lws 4.1 polls every descriptor it owns at every turn, which with 50
 * dashboards cost more than everything else the companion does. lws is
 * left the loop itself, the cross-thread wakeup and timers (sul).
 * The set costs an epoll_wait() per readiness, though (lws's poll() only
 * says "the set is readable"), which for the companion's drone was one
 * system call in ten: the first few connections of a loop are polled by
 * lws directly instead (fd_watch.c), as long as all they need is reading.
 * One that has to wait for its socket to take bytes, or stops reading,
 * moves to the set for good, where its events are ours to set: its
 * socket is then watched by one mechanism only, whatever it asks next.
 *
 * A connection's close is decided anywhere (io_close) but done from the
 * top of the loop ("reaped"), never inside a caller that may be walking
 * the connection list; so is a writeable callback asked for while the
 * socket holds nothing of ours (it can take the write at once).
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
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "epoll_set.h"
#include "lws_loop.h"
#include "server_internal.h"
#include "tls_mem.h"

#define LISTEN_BACKLOG 64
/* Connections accepted per readiness event, so that a burst of connects
 * cannot starve the other sockets of the loop. */
#define ACCEPT_BURST 16
/* After running out of file descriptors, accepting pauses this long
 * rather than spin on a listener that stays readable. */
#define ACCEPT_PAUSE_MS 200
/* Read per readiness event (level-triggered: the rest is read next
 * turn). */
#define RX_CHUNK 16384
/* Plaintext decrypted per step. */
#define TLS_PLAIN_CHUNK 16384
#define PROTOCOL_NAME   "scn-server"
/* Connections per loop that lws polls directly (see above): a few cost
 * lws's poll() less than the set's epoll_wait() per readiness. */
#define DIRECT_MAX 4

/* What the adapter keeps per server. */
struct scn_server_io {
    scn_epoll_watch listener; /* listener.set NULL: closed */
    int listen_fd;
    bool accept_paused;
    /* The next deadline on a timerfd in the set: an lws 4.1 timer (sul)
     * makes poll() spin for the last fraction of a millisecond before it
     * is due (the wait is rounded down to whole ms), which at 20 flushes a
     * second costs percents of a core. */
    scn_epoll_watch timer; /* timer.set NULL: timer_sul instead */
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
    scn_epoll_watch w;    /* w.set NULL: out of the set */
    scn_fd_watch *direct; /* polled by lws instead (then w.set NULL) */
    int fd;               /* -1 once closed */
    scn_server_conn *c;
    scn_tls_conn *tls; /* NULL: plain */
    bool killing;      /* a close is decided: reaped from the loop */
    bool rx_on;
    bool want_write; /* scn__server_conn_on_writeable owed */
    bool shut_after; /* FIN once what is below has gone */
    /* What the socket did not take, sent before anything else. */
    unsigned char *out;
    size_t out_off, out_len, out_cap;
    struct scn_conn_io *next_kill, *next_write;
    bool on_kill, on_write;
};

/* What the adapter keeps per loop, in struct scn_lws_loop. */
struct scn_server_loop {
    scn_epoll_set *set;
    struct lws *set_wsi; /* lws's raw file on the set's descriptor */
    struct scn_conn_io *kills, *writes;
    struct scn_conn_io *writing;    /* the writes reap() is running */
    lws_sorted_usec_list_t due_sul; /* reaps the two lists */
    struct lws_context *ctx;
    int direct_conns; /* connections with a direct watch */
};

static scn_loop *loop_of(struct lws *wsi)
{
    return wsi ? lws_context_user(lws_get_context(wsi)) : NULL;
}

static struct scn_server_loop *sloop_of(scn_server *srv)
{
    return srv->loop->lws->server_loop;
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

/* The loop's server state: the vhost all servers share (without a
 * listener: it only carries our protocol, for the wakeup and the set's
 * raw file) and the epoll set. Made with the first server, kept until
 * the loop goes. */
static struct scn_server_loop *server_loop(scn_loop *loop)
{
    struct scn_lws_loop *l = loop->lws;
    struct lws_context_creation_info info;
    struct lws_protocols protocols[2];
    struct scn_server_loop *sl;
    lws_sock_file_fd_type fd;

    if (l->server_loop)
        return l->server_loop;
    if (!l->server_vhost) {
        memset(protocols, 0, sizeof(protocols));
        protocols[0].name = PROTOCOL_NAME;
        protocols[0].callback = server_callback;
        memset(&info, 0, sizeof(info));
        info.vhost_name = "scn-servers";
        info.port = CONTEXT_PORT_NO_LISTEN_SERVER;
        info.protocols = protocols;
        info.user = loop;
        l->server_vhost = lws_create_vhost(l->ctx, &info);
        if (!l->server_vhost)
            return NULL;
    }
    sl = calloc(1, sizeof(*sl));
    if (!sl)
        return NULL;
    if (scn__epoll_set_new(&sl->set)) {
        free(sl);
        return NULL;
    }
    sl->ctx = l->ctx;
    fd.filefd = scn__epoll_set_fd(sl->set);
    /* lws closes the descriptor it adopted, also when adopting fails. */
    sl->set_wsi = lws_adopt_descriptor_vhost(
        l->server_vhost, LWS_ADOPT_RAW_FILE_DESC, fd, NULL, NULL);
    if (!sl->set_wsi) {
        scn__epoll_set_free(sl->set, true);
        free(sl);
        return NULL;
    }
    l->server_loop = sl;
    return sl;
}

void scn__server_loop_free(scn_loop *loop)
{
    struct scn_server_loop *sl = loop->lws->server_loop;

    if (!sl)
        return;
    /* Every server is gone, so both lists are empty; lws closes the set's
     * descriptor with its context. */
    lws_sul_cancel(&sl->due_sul);
    scn__epoll_set_free(sl->set, true);
    free(sl);
    loop->lws->server_loop = NULL;
}

static void on_listener_event(scn_epoll_watch *w, uint32_t events);
static void on_timer_event(scn_epoll_watch *w, uint32_t events);

int scn__server_listen(scn_server *srv, const scn_ip_addr *bind_addr)
{
    struct scn_server_loop *sl = server_loop(srv->loop);
    struct scn_server_io *io;
    char text[SCN_IP_TEXT_MAX];
    int rc;

    if (!sl)
        return SCN_ERR_IO;
    io = calloc(1, sizeof(*io));
    if (!io)
        return SCN_ERR_NOMEM;
    io->srv = srv;
    io->timer_fd = -1;
    rc = bind_socket(srv, bind_addr);
    if (rc < 0) {
        scn__ip_format(bind_addr, text, sizeof(text));
        scn__log(&srv->loop->log, SCN_LOG_WARN, "server",
                 "cannot listen on %s port %d: %s", text, srv->opts.port,
                 strerror(-rc));
        free(io);
        return scn_err_from_errno(-rc);
    }
    io->listen_fd = rc;
    if (scn__epoll_watch_add(sl->set, &io->listener, io->listen_fd, EPOLLIN,
                             on_listener_event, srv)) {
        close(io->listen_fd);
        free(io);
        return SCN_ERR_IO;
    }
    srv->io = io;
    /* Best effort: without it, deadlines use an lws timer (see above). */
    io->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (io->timer_fd >= 0 &&
        scn__epoll_watch_add(sl->set, &io->timer, io->timer_fd, EPOLLIN,
                             on_timer_event, srv)) {
        close(io->timer_fd);
        io->timer_fd = -1;
    }
    /* Found by the wakeup. */
    srv->next = srv->loop->lws->servers;
    srv->loop->lws->servers = srv;
    return 0;
}

static void timer_sul_cb(lws_sorted_usec_list_t *sul)
{
    struct scn_server_io *io =
        lws_container_of(sul, struct scn_server_io, timer_sul);
    scn_server *srv = io->srv;

    srv->timer_due = UINT64_MAX;
    scn__server_service(srv);
}

void scn__server_arm_timer(scn_server *srv, uint64_t due)
{
    struct scn_server_io *io = srv->io;
    struct itimerspec its;
    uint64_t now;

    if (!io)
        return;
    if (!io->timer.set) {
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
    if (io->listener.set) {
        /* The port is free on return. */
        scn__epoll_watch_del(&io->listener);
        close(io->listen_fd);
        io->listen_fd = -1;
    }
    if (io->timer.set)
        scn__epoll_watch_del(&io->timer);
    if (io->timer_fd >= 0)
        close(io->timer_fd);
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

    if (io->listener.set && io->accept_paused) {
        io->accept_paused = false;
        (void)scn__epoll_watch_set(&io->listener, EPOLLIN);
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
        (void)scn__epoll_watch_set(&io->listener, 0);
        lws_sul_schedule(srv->loop->lws->ctx, 0, &io->accept_sul,
                         resume_accepting,
                         (lws_usec_t)ACCEPT_PAUSE_MS * LWS_US_PER_MS);
    }
    scn__server_report_error(
        srv, NULL, err == ENOMEM ? SCN_ERR_NOMEM : SCN_ERR_IO, detail);
}

static void on_conn_event(scn_epoll_watch *w, uint32_t events);
static void on_direct_event(void *user, bool readable, bool writable,
                            bool hangup);

/* Watched for reading: directly while few are, else in the set. */
static int watch_conn(struct scn_server_loop *sl, struct scn_conn_io *cio,
                      scn_loop *loop)
{
    cio->w.user = cio;
    if (sl->direct_conns < DIRECT_MAX &&
        scn__fd_watch_new(loop, cio->fd, on_direct_event, cio, &cio->direct) ==
            0) {
        sl->direct_conns++;
        return 0;
    }
    return scn__epoll_watch_add(sl->set, &cio->w, cio->fd, EPOLLIN,
                                on_conn_event, cio);
}

/* No more events from either watch. Before the socket is closed: a
 * direct watch's dup would keep it open. */
static void unwatch_conn(struct scn_server_loop *sl, struct scn_conn_io *cio)
{
    if (cio->direct) {
        scn__fd_watch_free(cio->direct);
        cio->direct = NULL;
        sl->direct_conns--;
    }
    scn__epoll_watch_del(&cio->w);
}

static void adopt(scn_server *srv, int fd, const scn_ip_addr *peer,
                  int refuse_status)
{
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
    cio->c = c;
    cio->rx_on = true;
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
    pthread_mutex_lock(&srv->mu);
    c->next = srv->conns;
    srv->conns = c;
    pthread_mutex_unlock(&srv->mu);
    if (watch_conn(sloop_of(srv), cio, srv->loop)) {
        scn__server_conn_destroy(c); /* closes fd */
        scn__server_report_error(srv, NULL, SCN_ERR_IO,
                                 "cannot watch an accepted connection");
        return;
    }
    if (!cio->tls)
        scn__server_conn_on_ready(c);
}

static void on_listener_readable(scn_server *srv)
{
    for (int i = 0; i < ACCEPT_BURST && srv->io && srv->io->listener.set; i++) {
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

/* Reaped from the top of the loop: due_sul runs at the next turn unless
 * a dispatch reaps first. */
static void due_expired(lws_sorted_usec_list_t *sul);

static void schedule_due(struct scn_server_loop *sl)
{
    lws_sul_schedule(sl->ctx, 0, &sl->due_sul, due_expired, 1);
}

static void update_events(struct scn_conn_io *cio)
{
    uint32_t ev = (cio->rx_on ? EPOLLIN : 0) | (cio->out_len ? EPOLLOUT : 0);
    struct scn_server_loop *sl;

    if (cio->direct) {
        if (ev == EPOLLIN)
            return;
        /* More than reading: into the set (see the top). */
        sl = sloop_of(cio->c->srv);
        unwatch_conn(sl, cio);
        if (scn__epoll_watch_add(sl->set, &cio->w, cio->fd, ev, on_conn_event,
                                 cio))
            scn__server_io_close(cio->c, true);
        return;
    }
    if (cio->w.set && scn__epoll_watch_set(&cio->w, ev))
        scn__server_io_close(cio->c, true);
}

/* Grows *buf to hold at least n bytes. */
static bool fit(unsigned char **buf, size_t *cap, size_t n)
{
    unsigned char *nb;

    if (n <= *cap)
        return true;
    nb = realloc(*buf, n);
    if (!nb)
        return false;
    *buf = nb;
    *cap = n;
    return true;
}

/* Room for n more owed bytes after those still owed, moved to the front. */
static bool out_fit(struct scn_conn_io *cio, size_t n)
{
    if (cio->out_off && cio->out_len)
        memmove(cio->out, cio->out + cio->out_off, cio->out_len);
    cio->out_off = 0;
    return fit(&cio->out, &cio->out_cap, cio->out_len + n);
}

/* Sends what can go now and keeps the rest, in order. -1: the connection
 * failed (or no memory). */
static int raw_write(struct scn_conn_io *cio, const unsigned char *p, size_t n)
{
    ssize_t sent = 0;

    if (!cio->out_len) {
        do
            sent = send(cio->fd, p, n, MSG_NOSIGNAL);
        while (sent < 0 && errno == EINTR);
        if (sent < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                return -1;
            sent = 0;
        }
        if ((size_t)sent == n)
            return 0;
    }
    if (!out_fit(cio, n - (size_t)sent))
        return -1;
    memcpy(cio->out + cio->out_len, p + sent, n - (size_t)sent);
    cio->out_len += n - (size_t)sent;
    update_events(cio);
    return 0;
}

/* The socket can take more: what it did not take before goes first.
 * Returns whether all of it went. */
static bool flush_out(struct scn_conn_io *cio)
{
    ssize_t sent;

    while (cio->out_len) {
        sent =
            send(cio->fd, cio->out + cio->out_off, cio->out_len, MSG_NOSIGNAL);
        if (sent < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                scn__server_io_close(cio->c, true);
            return false;
        }
        cio->out_off += (size_t)sent;
        cio->out_len -= (size_t)sent;
    }
    cio->out_off = 0;
    if (cio->shut_after) {
        cio->shut_after = false;
        (void)shutdown(cio->fd, SHUT_WR);
    }
    update_events(cio);
    return true;
}

/* Writes the ciphertext TLS has for the peer. */
static int flush_tls(scn_server_conn *c)
{
    struct scn_server_io *io = c->srv->io;
    size_t n = scn__tls_conn_pending(c->io->tls);

    if (!n)
        return 0;
    if (!fit(&io->tbuf, &io->tcap, n))
        return -1;
    n = scn__tls_conn_take(c->io->tls, io->tbuf, n);
    return raw_write(c->io, io->tbuf, n);
}

static bool usable(const scn_server_conn *c)
{
    return c->io && c->io->fd >= 0 && !c->io->killing;
}

int scn__server_io_write(scn_server_conn *c, const unsigned char *p, size_t n)
{
    if (!usable(c))
        return -1;
    if (c->io->tls) {
        if (scn__tls_conn_write(c->io->tls, p, n))
            return -1;
        return flush_tls(c);
    }
    return raw_write(c->io, p, n);
}

void scn__server_io_want_write(scn_server_conn *c)
{
    struct scn_conn_io *cio = c->io;
    struct scn_server_loop *sl;

    if (!usable(c))
        return;
    cio->want_write = true;
    /* Bytes still owed: the socket's EPOLLOUT brings the callback. Else
     * it can take the write now: from the top of the loop, no change of
     * the epoll set (two system calls per dashboard and flush). */
    if (cio->out_len || cio->on_write)
        return;
    sl = sloop_of(c->srv);
    cio->on_write = true;
    cio->next_write = sl->writes;
    sl->writes = cio;
    schedule_due(sl);
}

bool scn__server_io_idle(const scn_server_conn *c)
{
    return usable(c) && !c->io->out_len;
}

void scn__server_io_rx(scn_server_conn *c, bool on)
{
    if (!usable(c) || c->io->rx_on == on)
        return;
    c->io->rx_on = on;
    update_events(c->io);
}

void scn__server_io_shutdown(scn_server_conn *c)
{
    if (!usable(c))
        return;
    if (c->io->tls) {
        scn__tls_conn_shutdown(c->io->tls);
        (void)flush_tls(c);
    }
    /* A FIN now would cut off what the socket has not taken yet. */
    if (c->io->out_len)
        c->io->shut_after = true;
    else
        (void)shutdown(c->io->fd, SHUT_WR);
}

void scn__server_io_close(scn_server_conn *c, bool abort)
{
    struct scn_conn_io *cio = c->io;
    struct scn_server_loop *sl;

    if (!usable(c))
        return;
    cio->killing = true;
    if (abort) {
        /* A reset: nothing still in the kernel's buffer goes out. */
        struct linger lg = {1, 0};

        (void)setsockopt(cio->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
    }
    /* No more events; closed from the top of the loop: the caller may be
     * walking the connection list. */
    sl = sloop_of(c->srv);
    unwatch_conn(sl, cio);
    cio->on_kill = true;
    cio->next_kill = sl->kills;
    sl->kills = cio;
    schedule_due(sl);
}

static void unlink_io(struct scn_conn_io **head, struct scn_conn_io *cio,
                      bool kill_list)
{
    for (struct scn_conn_io **pp = head; *pp;
         pp = kill_list ? &(*pp)->next_kill : &(*pp)->next_write) {
        if (*pp == cio) {
            *pp = kill_list ? cio->next_kill : cio->next_write;
            return;
        }
    }
}

void scn__server_io_release(scn_server_conn *c)
{
    struct scn_conn_io *cio = c->io;
    struct scn_server_loop *sl = sloop_of(c->srv);

    if (!cio)
        return;
    c->io = NULL;
    if (cio->on_kill)
        unlink_io(&sl->kills, cio, true);
    if (cio->on_write) {
        unlink_io(&sl->writes, cio, false);
        unlink_io(&sl->writing, cio, false);
    }
    unwatch_conn(sl, cio);
    if (cio->fd >= 0)
        close(cio->fd);
    scn__tls_conn_free(cio->tls);
    free(cio->out);
    free(cio);
}

/* Closes what was decided and runs the writeable callbacks asked for.
 * Closing runs on_close, which may close or ask for more: closes are
 * taken until none is left, writes once per turn. */
static void reap(struct scn_server_loop *sl)
{
    for (int pass = 0; pass < 2; pass++) {
        while (sl->kills) {
            struct scn_conn_io *cio = sl->kills;
            scn_server_conn *c = cio->c;

            sl->kills = cio->next_kill;
            cio->on_kill = false;
            scn__server_conn_on_closed(c);
            scn__server_conn_destroy(c); /* closes the socket */
        }
        if (pass)
            break;
        /* Asked for from here on: the next turn. */
        sl->writing = sl->writes;
        sl->writes = NULL;
        while (sl->writing) {
            struct scn_conn_io *cio = sl->writing;

            sl->writing = cio->next_write;
            cio->on_write = false;
            if (!usable(cio->c) || cio->out_len || !cio->want_write)
                continue;
            cio->want_write = false;
            if (scn__server_conn_on_writeable(cio->c) < 0)
                scn__server_io_close(cio->c, true);
        }
    }
    if (!sl->kills && !sl->writes)
        lws_sul_cancel(&sl->due_sul);
}

static void due_expired(lws_sorted_usec_list_t *sul)
{
    reap(lws_container_of(sul, struct scn_server_loop, due_sul));
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

/* One readiness report of a connection's socket. */
static void on_conn_event(scn_epoll_watch *w, uint32_t events)
{
    struct scn_conn_io *cio = w->user;
    scn_server_conn *c = cio->c;
    unsigned char buf[RX_CHUNK];
    ssize_t n;

    /* What the socket did not take first; then the callback it owes. */
    if ((events & EPOLLOUT) && flush_out(cio) && cio->want_write && usable(c)) {
        cio->want_write = false;
        if (scn__server_conn_on_writeable(c) < 0) {
            scn__server_io_close(c, true);
            return;
        }
    }
    if (!usable(c))
        return;
    if (events & EPOLLIN) {
        do
            n = recv(cio->fd, buf, sizeof(buf), 0);
        while (n < 0 && errno == EINTR);
        if (n > 0) {
            on_rx(c, buf, (size_t)n);
            return;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        /* 0: the peer's end; else the connection failed. */
        scn__server_io_close(c, n < 0);
        return;
    }
    /* Hung up or failed while we were not reading. */
    if (events & (EPOLLERR | EPOLLHUP))
        scn__server_io_close(c, true);
}

/* lws polled a direct connection. hangup: lws gave its dup up (an error
 * or hangup while not reading). Reaped as after a dispatch of the set. */
static void on_direct_event(void *user, bool readable, bool writable,
                            bool hangup)
{
    struct scn_conn_io *cio = user;
    struct scn_server_loop *sl = sloop_of(cio->c->srv);

    on_conn_event(&cio->w, (readable ? EPOLLIN : 0) |
                               (writable ? EPOLLOUT : 0) |
                               (hangup ? EPOLLHUP : 0));
    reap(sl); /* cio may be gone */
}

static void on_listener_event(scn_epoll_watch *w, uint32_t events)
{
    scn_server *srv = w->user;

    (void)events;
    if (!srv->free_pending)
        on_listener_readable(srv);
}

static void on_timer_event(scn_epoll_watch *w, uint32_t events)
{
    scn_server *srv = w->user;
    uint64_t expirations;

    (void)events;
    /* Read to clear the readiness; it is one-shot, so it is now unarmed. */
    if (read(srv->io->timer_fd, &expirations, sizeof(expirations)) < 0 &&
        errno != EAGAIN)
        return;
    srv->timer_due = UINT64_MAX;
    scn__server_service(srv);
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
    if (loop->lws->server_loop)
        reap(loop->lws->server_loop);
}

static int server_callback(struct lws *wsi, enum lws_callback_reasons reason,
                           void *user, void *in, size_t len)
{
    scn_loop *loop = loop_of(wsi);
    struct scn_server_loop *sl = loop ? loop->lws->server_loop : NULL;

    (void)user;
    (void)in;
    (void)len;
    switch (reason) {
    case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
        if (loop)
            on_wakeup(loop);
        return 0;
    case LWS_CALLBACK_RAW_RX_FILE:
        if (sl && wsi == sl->set_wsi) {
            scn__epoll_set_dispatch(sl->set);
            reap(sl);
        }
        return 0;
    case LWS_CALLBACK_RAW_CLOSE_FILE:
        /* lws let go of the set's descriptor (an error on it, or its
         * context going): it closed it. */
        if (sl && wsi == sl->set_wsi)
            sl->set_wsi = NULL;
        return 0;
    default:
        return 0;
    }
}
