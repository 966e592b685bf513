/*
 * The session and loop structures, shared by the public API (session.c,
 * loop.c) and the libwebsockets adapter (lib/lws/). Nothing outside lib/
 * sees them. They need no libwebsockets header: the adapter's state sits
 * behind opaque pointers (lib/lws/lws_loop.h; the session's wsi).
 */
#ifndef SCN_SESSION_INTERNAL_H
#define SCN_SESSION_INTERNAL_H

#include <pthread.h>
#include <scentience/error.h>
#include <scentience/session.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "fsm.h"
#include "inq.h"
#include "io.h"
#include "key.h"
#include "loop_child.h"
#include "log.h"
#include "outq.h"
#include "url.h"

#define SCN_SUBPROTOCOL_NAME "scentience.v1"

struct scn_loop {
    struct scn_lws_loop *lws; /* lib/lws/lws_loop.h: context, vhosts */
    scn_logger log;
    pthread_mutex_t mu; /* guards the children list */
    scn_loop_child *children;
    pthread_t thread;
    bool has_thread;
    pthread_t service_thread; /* thread inside lws_service, if any */
    atomic_bool in_service;
    atomic_bool stop;
    /* The user-callback guard, per thread (SCN_LOOP_USER_CALL): the thread
     * in service counts its callbacks in service_depth, which no other
     * thread reads; any other thread (scn_session_dispatch, the reports
     * of scn_loop_free) links a record from its stack on user_calls. */
    int service_depth;
    pthread_mutex_t user_calls_mu;
    struct scn_user_call *user_calls;
    unsigned armed_timers; /* timer.c: scn_timers started, not yet fired */
};

struct scn_session {
    scn_loop *loop;
    scn_loop_child child;     /* on loop->children */
    scn_session_options opts; /* strings below are our copies */
    char *url_text, *key_file, *device_uid, *ca_file, *cert_file, *key_path;
    char *subprotocol_offer;
    scn_url url;
    struct scn_tls_ctx *tls; /* own TLS context when TLS files are set */

    scn_secret *key;
    const char *key_source; /* "option", "environment", "file" */
    char key_redacted[SCN_KEY_REDACTED_SIZE];

    scn_fsm fsm;
    scn_lws_timer *timer; /* runs scn__session_service */
    struct lws *wsi;
    struct scn_ws_link *link; /* ws_adapter.c: the protocol state */

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
    bool rx_paused;
    int close_code; /* we close with this from WRITEABLE */
    const char *close_reason;
    scn_frame *frame;
    uint64_t expect_seq; /* next SEQ expected; 0: none yet */
    /* The last frame delivered, for the discontinuity at the first frame
     * of a later connection (delivering thread only). */
    uint64_t last_frame_conn; /* 0: no frame yet */
    uint64_t last_frame_ms;
    uint64_t last_frame_seq; /* 0: it had none */
    int64_t last_frame_ns;
    char subprotocol[32];

    /* Shared with other threads, under mu. */
    pthread_mutex_t mu;
    scn_outq outq;
    scn_inq inq;
    scn_session_stats stats;
    bool want_write, want_resume, want_close;
    int stream_on; /* -1: never asked; 0 off; 1 on */
    double stream_rate;
    uint32_t next_request_id;
    uint64_t next_ticket; /* scn_session_send_tracked() */

    /* Reentrancy: freeing inside a callback is deferred. */
    atomic_int cb_depth;
    bool free_pending;
    bool pinging;
    bool closing_sent;
    bool attempt_live;  /* a connection attempt awaits its outcome */
    bool aborted;       /* this attempt's socket was reset */
    bool start_pending; /* first state report and connect not done yet */
    scn_transition start_tr;
    /* Which of the host name's addresses the next attempt connects to:
     * moves on when one cannot be connected to, so a name whose first
     * address is unreachable (IPv6 without a route, a host down) is
     * reached through the others on the next attempts. */
    unsigned addr_turn;
};

/* session.c */
void scn__session_notify(scn_session *s, const scn_transition *tr,
                         int http_status, int close_code);
/* Handles one complete inbound text message, received on the conn-th
 * connection (fsm.opens then). */
void scn__session_deliver(scn_session *s, const unsigned char *data, size_t len,
                          uint64_t conn);
void scn__session_report(scn_session *s, int err, const char *detail);
/* Frees the session if scn_session_free() was deferred and no callback is
 * running; true when it did (the session is gone). */
bool scn__session_reap(scn_session *s);
void scn__session_destroy(scn_session *s);
/* (Re)loads the key: option, environment, file. */
int scn__session_load_key(scn_session *s);
/* Queues the request that restores the user's stream setting. */
void scn__session_restore_requests(scn_session *s);

/* loop.c */
bool scn__loop_on_thread(const scn_loop *loop);
void scn__loop_adopt(scn_loop *loop, scn_loop_child *c);
void scn__loop_disown(scn_loop *loop, scn_loop_child *c);
/* Runs every child's wake hook (loop thread, after a wakeup). */
void scn__loop_wake_children(scn_loop *loop);

/* One thread inside a user callback of a loop (on that thread's stack). */
typedef struct scn_user_call {
    pthread_t thread;
    bool in_service; /* counted in service_depth, not linked */
    struct scn_user_call *next;
} scn_user_call;

void scn__loop_enter_user_call(scn_loop *loop, scn_user_call *uc);
void scn__loop_leave_user_call(scn_loop *loop, scn_user_call *uc);
/* True when the calling thread is inside a user callback of loop. */
bool scn__loop_in_user_call(scn_loop *loop);

/*
 * The user-callback guard, its one definition: while a callback of the
 * application runs, the loop knows which thread runs it (scn_loop_run on
 * that thread refuses to recurse, scn_server_free there defers; another
 * thread may still run the loop) and the session counts it on every
 * thread (scn_session_free defers until none runs): scn_session_dispatch()
 * runs callbacks on the application's threads while the loop thread runs
 * its own.
 */
#define SCN_LOOP_USER_CALL(loop, ...)                                          \
    do {                                                                       \
        scn_user_call scn_uc_;                                                 \
        scn__loop_enter_user_call((loop), &scn_uc_);                           \
        __VA_ARGS__;                                                           \
        scn__loop_leave_user_call((loop), &scn_uc_);                           \
    } while (0)

#define SCN_USER_CALL(s, ...)                                                  \
    do {                                                                       \
        atomic_fetch_add(&(s)->cb_depth, 1);                                   \
        SCN_LOOP_USER_CALL((s)->loop, __VA_ARGS__);                            \
        atomic_fetch_sub(&(s)->cb_depth, 1);                                   \
    } while (0)

#endif
