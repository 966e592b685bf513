/*
 * What the rest of the library asks of libwebsockets, in plain C types:
 * the loop's context, its scheduler, the client sessions' link, a
 * foreign socket's readiness and a one-shot HTTP POST. The files in lib/lws/
 * implement it; no other file includes libwebsockets.h
 * (scripts/check-lws-boundary). The servers' part of the seam is in
 * server_internal.h ("server_adapter.c").
 */
#ifndef SCN_LWS_IO_H
#define SCN_LWS_IO_H

#include <scentience/loop.h>
#include <scentience/session.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "loop_child.h"
#include "resolve.h"

/* Every client connection: lws times each step itself (the TCP connect
 * gets 5 s by default). Those timeouts are set above the longest
 * connect_timeout_ms a session may ask for, so that the session's own,
 * the one the application chose, is the one that fires. */
#define SCN_CONNECT_TIMEOUT_MAX_MS 60000u
#define SCN_LWS_TIMEOUT_S          65u

/* ---- lws_loop.c: the loop's context ---- */

/* Sets lws's process-wide logging: errors and warnings to stderr (escaped:
 * they may quote a peer) when asked, else nothing. Never more: lws's debug
 * levels would print header values, the API key among them. */
void scn__lws_logging(bool errors_to_stderr);
/* Makes the loop's lws context and its plain client vhost (loop->lws).
 * Returns 0, SCN_ERR_IO or SCN_ERR_NOMEM. */
int scn__lws_loop_new(scn_loop *loop, bool errors_to_stderr);
/* Frees what scn__lws_loop_new made; after every session and server. */
void scn__lws_loop_free(scn_loop *loop);
/* One turn of the event loop, waiting at most timeout_ms (<= 0: does not
 * wait). Loop thread only. */
void scn__lws_service(scn_loop *loop, int timeout_ms);
/* Wakes the loop thread, which then looks at every child's pending work
 * (scn_loop_child.wake) and every server's. Any thread. */
void scn__lws_wake(scn_loop *loop);

/* A one-shot timer on the loop's scheduler. Loop thread only. */
typedef struct scn_lws_timer scn_lws_timer;
typedef void (*scn_lws_timer_fn)(void *user);
int scn__lws_timer_new(scn_loop *loop, scn_lws_timer_fn fn, void *user,
                       scn_lws_timer **out);
/* (Re)arms it to fire once in delay_ms (0: as soon as possible). */
void scn__lws_timer_arm(scn_lws_timer *t, uint64_t delay_ms);
void scn__lws_timer_cancel(scn_lws_timer *t);
/* Cancels and frees; may be called from the timer's own callback. */
void scn__lws_timer_free(scn_lws_timer *t);

/* ---- fd_watch.c: a foreign socket serviced by the loop ---- */

/* Readiness of a descriptor another library owns (libmosquitto's
 * socket): lws polls a dup of it as a raw file, so the loop, not a
 * thread, services it. Loop thread only. */
typedef struct scn_fd_watch scn_fd_watch;
/* readable/writable: what poll said; hangup: lws gave the descriptor up
 * (an error or hangup on it); the watch is inert afterwards, free it. */
typedef void (*scn_fd_watch_fn)(void *user, bool readable, bool writable,
                                bool hangup);
/* Watches fd for reading (always) and writing (when asked). fd stays the
 * caller's: free the watch before closing it, as the dup keeps the socket
 * open. Returns 0, SCN_ERR_IO (a system error of dup: see errno) or
 * SCN_ERR_NOMEM. */
int scn__fd_watch_new(scn_loop *loop, int fd, scn_fd_watch_fn fn, void *user,
                      scn_fd_watch **out);
/* Asks for one writable event (then it must be asked again), also from
 * inside the writable callback: that one comes at the next turn. */
void scn__fd_watch_want_write(scn_fd_watch *w);
/* Stops watching and frees; NULL allowed; safe inside its own callback. */
void scn__fd_watch_free(scn_fd_watch *w);

/* ---- resolve_watch.c: a host name resolved off the loop ---- */

/* The name's addresses (err 0, n >= 1) or why not (SCN_ERR_RESOLVE,
 * SCN_ERR_NOMEM), on the loop thread. The watch is already freed. */
typedef void (*scn_resolved_fn)(void *user, int err, const scn_addr_text *addrs,
                                size_t n);
typedef struct scn_resolve_watch scn_resolve_watch;
/* Resolves host on a thread of its own (lib/core/resolve.h) and calls fn
 * once, from the loop, with the result. Returns 0, SCN_ERR_NOMEM or
 * SCN_ERR_IO (fn is never called then). Loop thread only. */
int scn__resolve_watch_start(scn_loop *loop, const char *host,
                             scn_resolved_fn fn, void *user,
                             scn_resolve_watch **out);
/* Stops waiting (fn is not called); never waits for the thread. NULL
 * allowed; not from fn (the watch is gone then). */
void scn__resolve_watch_free(scn_resolve_watch *w);

/* ---- ws_adapter.c: a client session's link ---- */

/* Bytes the outbound queue keeps free in front of every message (lws
 * writes its frame header there). */
size_t scn__ws_headroom(void);
/* What the adapter keeps per session (its timer); scn__ws_release frees
 * it, and the TLS vhost the session may have made. */
int scn__ws_attach(scn_session *s);
void scn__ws_release(scn_session *s);
/* Starts a connection attempt. */
int scn__ws_connect(scn_session *s);
/* Lets go of the session's connection (reset unless closing cleanly). */
void scn__ws_detach(scn_session *s);
/* The session's scn_loop_child.wake: writes, resumes reading and closes
 * that other threads asked for. */
void scn__ws_wake(scn_loop_child *c);
/* Asks for a writeable callback on the open link. Loop thread only. */
void scn__ws_want_write(scn_session *s);
/* Runs the state machine's timers now and re-arms the session timer. */
void scn__session_service(scn_session *s);
/* Arms the session timer to run scn__session_service in delay_ms. */
void scn__session_schedule(scn_session *s, uint64_t delay_ms);

/* ---- http_post.c: one blocking HTTP(S) POST (scn_cloud_predict) ---- */

typedef struct scn_http_post {
    /* In. */
    const char *host, *path;
    int port;
    bool tls, insecure;
    const char *ca_file; /* NULL: the system store */
    const char *bearer;  /* NULL: no Authorization */
    const char *body;    /* application/json */
    size_t body_len;
    size_t reply_max; /* a longer answer fails the exchange */
    uint32_t timeout_ms;
    bool lws_errors_to_stderr;
    /* Out. */
    int status;  /* 0: no answer */
    char *reply; /* NUL-terminated, the caller frees */
    size_t reply_len;
} scn_http_post;

/* Runs the exchange in a context of its own. Returns 0 (p->status and
 * p->reply hold the answer), SCN_ERR_NETWORK, SCN_ERR_TIMEOUT or
 * SCN_ERR_IO. */
int scn__http_post_run(scn_http_post *p);

#endif
