/*
 * The server and connection structures, shared by the public API
 * (server.c) and the libwebsockets adapter (server_adapter.c). Nothing
 * outside lib/ sees them.
 */
#ifndef SCN_SERVER_INTERNAL_H
#define SCN_SERVER_INTERNAL_H

#include <libwebsockets.h>
#include <pthread.h>
#include <scentience/server.h>
#include <stdbool.h>

#include "peer_allow.h"
#include "peerq.h"
#include "session_internal.h"

/* Close reasons are sent in a control frame: 125 bytes minus the code. */
#define SCN_CLOSE_REASON_MAX 123

typedef enum scn_conn_state {
    SCN_CONN_HTTP = 0, /* accepted, no upgrade request yet */
    SCN_CONN_PENDING,  /* on_connect accepted it; handshake finishing */
    SCN_CONN_OPEN,     /* handshake done */
    SCN_CONN_CLOSED    /* lws closed it; freed at its WSI_DESTROY */
} scn_conn_state;

struct scn_server_conn {
    scn_server *srv;
    struct scn_server_conn *next; /* srv->conns, under srv->mu */
    struct lws *wsi;
    char peer[SCN_IP_TEXT_MAX];
    void *user;
    bool announced;      /* on_connect accepted it: on_close is owed */
    bool close_reported; /* on_close ran */

    /* Loop thread only. */
    unsigned char *rxbuf;
    size_t rxlen, rxcap;
    bool rx_binary;
    bool rx_paused;
    int peer_close_code; /* 0: no close frame seen */
    int close_code;      /* we close (or closed) with this; 0: not us */
    bool close_armed;    /* the close's safety timeout is set */
    bool act_write;      /* scn_server_service: marks between passes */
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
    int want_close_code; /* close frame to write next; 0: none */
    char want_close_reason[SCN_CLOSE_REASON_MAX + 1];
    bool slow_notice; /* became slow: report on the loop thread */
};

struct scn_server {
    scn_loop *loop;
    struct scn_server *next; /* loop->servers, loop thread only */
    scn_server_options opts; /* strings below are our copies */
    char *bind_address, *path, *subprotocol;
    scn_peer_allow allow;

    struct lws *listener; /* raw wsi watching listen_fd */
    int listen_fd;
    int port;
    bool accept_paused;
    /* The next deadline (slow peer, write interval) on a timerfd that lws
     * polls: an lws 4.1 timer (sul) makes poll() spin for the last
     * fraction of a millisecond before it is due (the wait is rounded
     * down to whole ms), which at 20 flushes a second costs percents of a
     * core. */
    struct lws *timer; /* raw wsi watching timer_fd; NULL: slow_sul */
    int timer_fd;
    uint64_t timer_due;                /* armed for (monotonic ms); MAX: not */
    lws_sorted_usec_list_t slow_sul;   /* the same, without a timerfd */
    lws_sorted_usec_list_t accept_sul; /* resume accepting */
    lws_sorted_usec_list_t free_sul;   /* deferred scn_server_free */

    pthread_mutex_t mu;
    scn_server_conn *conns;
    scn_server_stats stats;
    /* A wake is on its way and scn_server_service has not yet looked:
     * further sends need not wake again (one wake per service, not per
     * message and subscriber). Under mu. */
    bool wake_pending;

    /* Loop thread only: where a batch of queued messages becomes one
     * write (see on_writeable). */
    unsigned char *wbuf;
    size_t wcap;

    bool free_pending; /* freed inside a callback: free_sul finishes */
    bool destroying;
};

/* server_adapter.c */
/* Opens the listening socket (and the loop's server vhost, the first
 * time). Returns 0, SCN_ERR_IO, SCN_ERR_NOMEM. */
int scn_server_listen(scn_server *srv, const scn_ip_addr *bind_addr);
/* Closes the listener now (the port is free on return) and kills every
 * connection without callbacks. Not from inside an lws callback of this
 * server. */
void scn_server_unlisten(scn_server *srv);
/* The loop-thread half of every cross-thread call: asks for WRITEABLE
 * where there is work, arms close timeouts, cuts off overdue slow peers,
 * reports slow peers and re-arms the slow-peer timer. */
void scn_server_service(scn_server *srv);
/* Asks the loop thread to run scn_server_service. Any thread. */
void scn_server_wake(scn_server *srv);
/* Removes conn from the list and frees it, counting unsent messages. */
void scn_server_conn_destroy(scn_server_conn *conn);

/* server.c */
/* Runs on_close once for a connection on_connect accepted. */
void scn_server_report_close(scn_server_conn *conn, int code);
/* Runs on_error; conn may be NULL. */
void scn_server_report_error(scn_server *srv, scn_server_conn *conn, int err,
                             const char *detail);
/* Finishes scn_server_free(): on_close 1001 for open connections, then
 * unlisten and free. Not from inside an lws callback of this server. */
void scn_server_destroy(scn_server *srv);

/* Runs a user callback. The loop's depth is what defers scn_server_free()
 * (and makes scn_loop_run_once refuse to recurse). */
#define SCN_SERVER_CALL(srv, call)                                             \
    do {                                                                       \
        (srv)->loop->cb_depth++;                                               \
        call;                                                                  \
        (srv)->loop->cb_depth--;                                               \
    } while (0)

#endif
