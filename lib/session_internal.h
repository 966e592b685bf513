/*
 * The session and loop structures, shared by the public API (session.c,
 * loop.c) and the libwebsockets adapter (ws_adapter.c). Nothing outside
 * lib/ sees them.
 */
#ifndef SCN_SESSION_INTERNAL_H
#define SCN_SESSION_INTERNAL_H

#include <libwebsockets.h>
#include <pthread.h>
#include <scentience/error.h>
#include <scentience/session.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "fsm.h"
#include "inq.h"
#include "key.h"
#include "log.h"
#include "outq.h"
#include "tls_client.h"
#include "url.h"

#define SCN_SUBPROTOCOL_NAME "scentience.v1"

struct scn_loop {
    struct lws_context *ctx;
    struct lws_vhost *vhost; /* default client vhost: ws:// only */
    scn_tls_vhost tls;       /* wss:// with the system CAs, on first need */
    scn_logger log;
    pthread_mutex_t mu;      /* guards sessions list membership */
    struct scn_session *sessions;
    struct scn_server *servers; /* server.c; loop thread only */
    struct lws_vhost *server_vhost; /* server_adapter.c: all servers' */
    char server_protocol[64];       /* its protocol's name (mutable) */
    pthread_t thread;
    bool has_thread;
    pthread_t service_thread; /* thread inside lws_service, if any */
    atomic_bool in_service;
    atomic_bool stop;
    atomic_int cb_depth;     /* >0 while a user callback runs */
    lws_sorted_usec_list_t run_once_sul;
    uint32_t vhost_serial;
    unsigned armed_timers; /* timer.c: scn_timers started, not yet fired */
};

struct scn_session {
    scn_loop *loop;
    struct scn_session *next; /* loop->sessions */
    scn_session_options opts; /* strings below are our copies */
    char *url_text, *key_file, *device_uid, *ca_file, *cert_file, *key_path;
    char *subprotocol_offer;
    scn_url url;
    scn_tls_vhost tls;       /* own vhost when TLS files are set */

    scn_secret *key;
    const char *key_source;  /* "option", "environment", "file" */
    char key_redacted[SCN_KEY_REDACTED_SIZE];

    scn_fsm fsm;
    lws_sorted_usec_list_t sul;
    struct lws *wsi;

    /* Failure recorded before the wsi closes, reported when it does. */
    bool has_pending_failure;
    scn_failure_kind pending_failure;
    int peer_close_code;
    char peer_close_reason[124];
    bool peer_closed;
    bool user_closing;

    /* Receive side, loop thread only (manual mode: see inq). */
    unsigned char *rxbuf;
    size_t rxlen, rxcap;
    bool rx_discard;         /* skipping a binary message */
    bool rx_paused;
    int close_code;          /* we close with this from WRITEABLE */
    const char *close_reason;
    scn_frame *frame;
    uint64_t expect_seq;     /* next SEQ expected; 0: none yet */
    /* The last frame delivered, for the discontinuity at the first frame
     * of a later connection (delivering thread only). */
    uint64_t last_frame_conn; /* 0: no frame yet */
    uint64_t last_frame_ms;
    uint64_t last_frame_seq;  /* 0: it had none */
    int64_t last_frame_ns;
    char subprotocol[32];

    /* Shared with other threads, under mu. */
    pthread_mutex_t mu;
    scn_outq outq;
    scn_inq inq;
    scn_session_stats stats;
    bool want_write, want_resume, want_close;
    int stream_on;           /* -1: never asked; 0 off; 1 on */
    double stream_rate;
    uint32_t next_request_id;
    uint64_t next_ticket; /* scn_session_send_tracked() */

    /* Reentrancy: freeing inside a callback is deferred. */
    atomic_int cb_depth;
    bool free_pending;
    bool pinging;
    bool closing_sent;
    bool attempt_live;   /* a connection attempt awaits its outcome */
    bool aborted;        /* this attempt's socket was reset */
    bool start_pending;  /* first state report and connect not done yet */
    scn_transition start_tr;
};

/* ws_adapter.c */
extern const struct lws_protocols scn_ws_protocols[];
int scn_ws_connect(scn_session *s);
void scn_ws_detach(scn_session *s);
/* Runs the state machine's timers now and re-arms the session timer. */
void scn_session_service(scn_session *s);
/* Arms the session timer to run scn_session_service in delay_ms. */
void scn_session_schedule(scn_session *s, uint64_t delay_ms);
void scn_loop_service_wakeups(scn_loop *loop);

/* session.c */
void scn_session_notify(scn_session *s, const scn_transition *tr,
                        int http_status, int close_code);
/* Handles one complete inbound text message, received on the conn-th
 * connection (fsm.opens then). */
void scn_session_deliver(scn_session *s, const unsigned char *data,
                         size_t len, uint64_t conn);
void scn_session_report(scn_session *s, int err, const char *detail);
/* Frees the session if scn_session_free() was deferred and no callback is
 * running; true when it did (the session is gone). */
bool scn_session_reap(scn_session *s);
void scn_session_destroy(scn_session *s);
/* (Re)loads the key: option, environment, file. */
int scn_session_load_key(scn_session *s);
/* Queues the request that restores the user's stream setting. */
void scn_session_restore_requests(scn_session *s);

/* server.c: frees every server still on the loop (scn_loop_free). */
void scn_loop_free_servers(scn_loop *loop);

/* loop.c */
bool scn_loop_on_thread(const scn_loop *loop);

/*
 * The user-callback guard, its one definition: while a callback of the
 * application runs, the loop knows (scn_loop_run refuses to recurse,
 * scn_server_free defers) and so does the session (scn_session_free
 * defers). The counters are atomic: scn_session_dispatch() and the
 * thread-safe senders run callbacks on the application's threads while
 * the loop thread runs its own.
 */
#define SCN_LOOP_USER_CALL(loop, ...)                                          \
    do {                                                                       \
        atomic_fetch_add(&(loop)->cb_depth, 1);                                \
        __VA_ARGS__;                                                           \
        atomic_fetch_sub(&(loop)->cb_depth, 1);                                \
    } while (0)

#define SCN_USER_CALL(s, ...)                                                  \
    do {                                                                       \
        atomic_fetch_add(&(s)->cb_depth, 1);                                   \
        SCN_LOOP_USER_CALL((s)->loop, __VA_ARGS__);                            \
        atomic_fetch_sub(&(s)->cb_depth, 1);                                   \
    } while (0)
void scn_loop_attach(scn_loop *loop, scn_session *s);
void scn_loop_detach(scn_loop *loop, scn_session *s);

#endif
