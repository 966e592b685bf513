/*
 * The server and connection structures, shared by the public API
 * (server.c), the per-connection protocol (server_conn.c, plain C) and the
 * libwebsockets adapter (server_adapter.c). Nothing outside lib/ sees
 * them. No libwebsockets type appears here: what the adapter keeps per
 * server or connection sits behind the io pointers.
 */
#ifndef SCN_SERVER_INTERNAL_H
#define SCN_SERVER_INTERNAL_H

#include <pthread.h>
#include <scentience/server.h>
#include <stdbool.h>

#include "conn_timers.h"
#include "http_access.h"
#include "http_request.h"
#include "loop_child.h"
#include "log.h"
#include "peer_allow.h"
#include "peerq.h"
#include "server_shared.h"
#include "ws_frame.h"

/* Close reasons are sent in a control frame: 125 bytes minus the code. */
#define SCN_CLOSE_REASON_MAX 123

typedef enum scn_conn_state {
    SCN_CONN_HTTP = 0, /* reading requests, answering plain HTTP */
    SCN_CONN_PENDING,  /* on_connect accepted it; 101 not yet out */
    SCN_CONN_OPEN,     /* a WebSocket */
    SCN_CONN_CLOSED    /* ended; freed when the adapter lets go */
} scn_conn_state;

struct scn_server_io;
struct scn_conn_io;
struct scn_tls_conn;

/* A server-wide asset, with its validator computed once. */
typedef struct scn_asset_entry {
    scn_server_asset a;
    char etag[20];
} scn_asset_entry;

struct scn_server_conn {
    scn_server *srv;
    struct scn_server_conn *next; /* srv->conns, under srv->mu */
    struct scn_conn_io *io;       /* the adapter's; NULL once detached */
    char peer[SCN_IP_TEXT_MAX];
    scn_ip_addr peer_addr;
    bool peer_loopback;
    void *user;
    bool announced;      /* on_connect accepted it: on_close is owed */
    bool close_reported; /* on_close ran */
    size_t route;
    const char *subprotocol; /* points into srv's routes */

    /* Loop thread only. */
    scn_http_request req;
    scn_ws_reader rd;
    scn_conn_clock clock;
    unsigned char *rxbuf; /* a message being reassembled */
    size_t rxlen, rxcap;
    bool rx_binary;
    int peer_close_code; /* 0: no close frame seen */
    int close_code;      /* we close (or closed) with this; 0: not us */
    int refuse_status;   /* answer this at once (503), then close */
    bool close_after;    /* end the connection once the output is out */
    bool shut;           /* our side is shut: only waiting for the peer */
    bool answering;      /* a plain HTTP answer is being written */
    bool gone;           /* evicted or cut off: not counted any more */
    /* Bytes to write before anything else: answers, control frames. */
    unsigned char *raw;
    size_t raw_len, raw_cap;
    /* An asset's body being written. */
    const unsigned char *body;
    size_t body_left;
    bool act_write; /* scn__server_service: marks between passes */
    bool act_cut;
    bool act_notice;
    /* A new batch of messages is not written before this (monotonic ms):
     * write_interval_ms after the previous write. */
    uint64_t next_write_ms;

    /* Shared with other threads, under srv->mu. */
    scn_conn_state state;
    bool closing; /* no more sends: a close is decided */
    scn_peerq q;
    scn_server_conn_stats st;
    bool want_write;
    int want_close_code;  /* close frame to write next; 0: none */
    int drain_close_code; /* close once the queue is empty; 0: none */
    char want_close_reason[SCN_CLOSE_REASON_MAX + 1];
    bool slow_notice; /* became slow: report on the loop thread */
};

struct scn_server {
    scn_loop *loop;
    const scn_logger *log;
    struct scn_server *next;     /* the adapter's listening servers */
    struct scn_loop_child child; /* on loop->children */
    scn_server_options opts;     /* strings below are our copies */
    char *token;                 /* wiped when freed */
    scn_server_route *routes;    /* own copy (single route from path) */
    size_t nroutes;
    char **strings; /* every string the copies point to */
    size_t nstrings;
    scn_asset_entry *assets;
    size_t nassets;
    scn_peer_allow allow;
    scn_http_access access;
    scn_conn_limits limits;
    bool tls;
    int port;

    struct scn_server_io *io;    /* the adapter's: listener, timer */
    struct scn_tls_ctx *tls_ctx; /* tls_mem.c; NULL: plain */
    uint64_t timer_due;          /* armed for (monotonic ms); UINT64_MAX: not */

    pthread_mutex_t mu;
    scn_server_conn *conns;
    scn_server_stats stats;
    /* A wake is on its way and scn__server_service has not yet looked:
     * further sends need not wake again (one wake per service, not per
     * message and subscriber). Under mu. */
    bool wake_pending;

    /* Loop thread only: where one write is put together (see
     * scn__server_conn_on_writeable). */
    unsigned char *wbuf;
    size_t wcap;

    bool free_pending; /* freed inside a callback: finished later */
    bool destroying;
};

/* ---- server_adapter.c: sockets, on the loop's epoll set ---- */

/* Opens the listening socket (and the loop's server vhost, the first
 * time). Returns 0, SCN_ERR_IO, SCN_ERR_NOMEM. */
int scn__server_listen(scn_server *srv, const scn_ip_addr *bind_addr);
/* Closes the listener now (the port is free on return) and kills every
 * connection without callbacks. Not from inside a socket callback of this
 * server. */
void scn__server_unlisten(scn_server *srv);
/* Asks the loop thread to run scn__server_service. Any thread. */
void scn__server_wake(scn_server *srv);
/* Arms the server's deadline timer for due (UINT64_MAX: disarm). */
void scn__server_arm_timer(scn_server *srv, uint64_t due);
/* Runs scn__server_destroy from the top of the loop (a deferred free). */
void scn__server_defer_free(scn_server *srv);

/* One write of n bytes (plaintext; TLS is the adapter's). The socket
 * takes what it can; the rest goes out before the next writeable. */
int scn__server_io_write(scn_server_conn *c, const unsigned char *p, size_t n);
/* A writeable callback when the socket can take more. */
void scn__server_io_want_write(scn_server_conn *c);
/* Whether c's writer may run now, outside a writeable callback: the adapter
 * holds nothing unsent for it (its socket took the last write whole). */
bool scn__server_io_idle(const scn_server_conn *c);
/* Stops or resumes reading. */
void scn__server_io_rx(scn_server_conn *c, bool on);
/* Everything is written: FIN (after TLS's close_notify). The connection
 * lives on until the peer closes or the close timer runs out. */
void scn__server_io_shutdown(scn_server_conn *c);
/* Lets go of the connection's socket (killed if still open) and frees
 * the adapter's part; from scn__server_conn_destroy. */
void scn__server_io_release(scn_server_conn *c);
/* Ends the connection now: abort sends a reset (nothing queued in the
 * kernel is sent), else what the kernel holds still goes. */
void scn__server_io_close(scn_server_conn *c, bool abort);

/* ---- server_conn.c: one connection's protocol, plain C ---- */

int scn__server_conn_init(scn_server_conn *c, scn_server *srv,
                          const scn_ip_addr *peer, int refuse_status);
/* Frees what the connection holds (not the struct). */
void scn__server_conn_release(scn_server_conn *c);
/* Plaintext bytes from the peer (writable: unmasked in place). */
void scn__server_conn_on_input(scn_server_conn *c, unsigned char *in, size_t n);
/* The socket can take more: writes at most once. Returns 0, or -1 when
 * the connection must end now. */
int scn__server_conn_on_writeable(scn_server_conn *c);
/* The transport is ready (accepted; TLS handshake done). */
void scn__server_conn_on_ready(scn_server_conn *c);
/* Its timers: acts on what is due; *next receives the next deadline. */
void scn__server_conn_timers(scn_server_conn *c, uint64_t now, uint64_t *next);
/* The connection ended (any cause): on_close once, counters. */
void scn__server_conn_on_closed(scn_server_conn *c);
/* Cuts off a peer that stayed behind too long (1013, no close frame). */
void scn__server_cut_slow(scn_server_conn *c);
/* Decides a close with a close frame (loop thread). */
void scn__server_conn_close_now(scn_server_conn *c, int code, const char *why);

/* ---- server.c ---- */

/* The loop-thread half of every cross-thread call: asks for writeable
 * where there is work, runs connection timers, cuts off overdue slow
 * peers, reports slow peers and re-arms the deadline timer. */
void scn__server_service(scn_server *srv);
/* Admission of a new connection from peer: 0 (admit), 503 (refuse with
 * an answer), -1 (drop at once). May evict a silent connection. */
int scn__server_admit(scn_server *srv, const scn_ip_addr *peer);
/* Removes conn from the list and frees it, counting unsent messages. */
void scn__server_conn_destroy(scn_server_conn *conn);
/* Runs on_close once for a connection on_connect accepted. */
void scn__server_report_close(scn_server_conn *conn, int code);
/* Runs on_error; conn may be NULL. */
void scn__server_report_error(scn_server *srv, scn_server_conn *conn, int err,
                              const char *detail);
/* The user's callbacks, with the loop's callback depth kept (it is what
 * defers scn_server_free()). */
int scn__server_call_connect(scn_server_conn *c, const char *path);
void scn__server_call_message(scn_server_conn *c, const void *data, size_t len,
                              int is_binary);
/* Finishes scn_server_free(): on_close 1001 for open connections, then
 * unlisten and free. Not from inside a socket callback of this server. */
void scn__server_destroy(scn_server *srv);
/* The asset for a request path, or NULL. */
const scn_asset_entry *scn__server_asset_find(const scn_server *srv,
                                              const char *path);
/* Counts under the lock. */
#define SCN_SERVER_COUNT(srv, field, n)                                        \
    do {                                                                       \
        pthread_mutex_lock(&(srv)->mu);                                        \
        (srv)->stats.field += (n);                                             \
        pthread_mutex_unlock(&(srv)->mu);                                      \
    } while (0)

#endif
