/*
 * `scn-sim device`: Scentience devices served over WebSocket
 * (docs/PROTOCOL.md, scentience.v1). Options, and the state shared by
 * device_server.c (context, handshake, server-wide timers and signals) and
 * device_session.c (one connection: streaming, requests, writes, close).
 */
#ifndef SCN_SIM_DEVICE_H
#define SCN_SIM_DEVICE_H

#include <libwebsockets.h>
#include <stddef.h>
#include <stdint.h>

#include "device_request.h"
#include "devframe.h"
#include "faults.h"
#include "common/keystore.h"
#include "common/plume.h"

#define DEV_PROTOCOL    "scentience.v1"
#define DEV_MAX_DEVICES 64
#define DEV_UID_MAX     64
#define DEV_RATE_MIN    DEVREQ_RATE_MIN
#define DEV_RATE_MAX    DEVREQ_RATE_MAX
#define DEV_CTLQ_MAX    64          /* queued replies per connection */
#define DEV_PENDING_MAX 256 /* due frames waiting to be written (a count:
                               frames are built when written) */
#define DEV_RX_MAX      (64 * 1024) /* largest request accepted */
#define DEV_PEER_MAX    64

typedef struct device_opts {
    const char *host;
    int port;
    const char *uids[DEV_MAX_DEVICES];
    int n_uids;
    double rate_hz;
    const char *keys_path; /* NULL: dev mode */
    uint64_t seed;
    double duration_s; /* 0: run until a signal */
    const char *log_path;
    faults faults;
    int quiet;
    /* wss:// when set (both or neither); clients then need a certificate
     * signed by tls_client_ca when that is set too. */
    const char *tls_cert, *tls_key, *tls_client_ca;
} device_opts;

/* Runs the device simulator until SIGINT/SIGTERM or --duration; returns
 * the process exit code. */
int device_run(const device_opts *o);

/* A queued message: a reply text, or a frame to build when written (a
 * sample, so that its SEQ and TIMESTAMP are those of the moment it goes
 * out). */
typedef struct dev_msg {
    char *text; /* NULL: a sample frame */
    size_t len;
} dev_msg;

typedef struct dev_srv dev_srv;

/* One WebSocket connection (lws per-session data, zeroed by lws). */
typedef struct dev_conn {
    struct dev_conn *prev, *next; /* dev_srv.conns */
    dev_srv *srv;
    struct lws *wsi;
    unsigned long id;
    int linked; /* established and on the list */
    int dev;    /* index in device_opts.uids */
    ks_key *key;
    char peer[DEV_PEER_MAX];
    int v1; /* scentience.v1 selected: hello and typed messages */

    int hello_pending;
    dev_msg q[DEV_CTLQ_MAX]; /* ring */
    unsigned q_head, q_len;

    /* Stream schedule, in monotonic microseconds. */
    int stream_on;
    double rate_hz;
    int64_t period_us, next_due_us;
    unsigned frames_pending;
    uint64_t oversize_after; /* SEQ an oversize message follows, or 0 */

    uint64_t seq; /* last SEQ used (sent or skipped) */
    uint64_t sent, skipped, malformed, oversize;

    int stalled;
    int64_t stall_until_us;
    int rx_paused;       /* flow control currently off */
    int rx_paused_queue; /* replies queued beyond DEV_CTLQ_MAX / 2 */

    int closing; /* a close frame is due */
    int close_code;
    char close_reason[124];
    int dropped;         /* closed abruptly by a fault */
    int peer_close_code; /* from the client's close frame, 0: none */

    char *rx; /* request being reassembled */
    size_t rx_len, rx_cap;
    int rx_started, rx_overflow, rx_binary;
} dev_conn;

struct dev_srv {
    const device_opts *o;
    struct lws_context *ctx;
    struct lws_vhost *vh;
    keystore *ks;
    plume pl;
    dev_conn *conns;
    unsigned long next_id;
    int64_t t0_us; /* start, for plume time */
    int stopping;
    int64_t stop_deadline_us;
    uint64_t total_sent, total_skipped, total_conns, total_refused;
    lws_sorted_usec_list_t sul_house, sul_drop, sul_stall, sul_stall_end,
        sul_duration;
    unsigned char *tx; /* LWS_PRE + tx_cap scratch for writes */
    size_t tx_cap;
};

/* What the handshake decided about a client. status 0: accepted. */
typedef struct dev_admission {
    int status;
    const char *reason;    /* for logs */
    const char *auth_desc; /* 401: WWW-Authenticate error_description */
    unsigned retry_after;  /* 429 */
    int dev;
    ks_key *key;
    int v1;
    char uid[DEV_UID_MAX + 1];
    char peer[DEV_PEER_MAX];
} dev_admission;

int64_t dev_mono_us(void);

/* device_handshake.c */
/* Runs the handshake checks on wsi's request headers: subprotocol, key
 * (401, 403), device (404), quota (429), in that order. */
void dev_admit(dev_srv *s, struct lws *wsi, dev_admission *r);
/* Answers the upgrade request with an HTTP status (and WWW-Authenticate
 * for 401, Retry-After for 429, Upgrade for 426). Returns 1 (answered) or
 * -1 (failed: hang up). */
int dev_http_refuse(struct lws *wsi, int status, const char *auth_desc,
                    unsigned retry_after, int close);

/* device_session.c */
void dev_conn_open(dev_conn *c, dev_srv *srv, struct lws *wsi);
int dev_conn_writeable(dev_conn *c);
void dev_conn_timer(dev_conn *c);
void dev_conn_receive(dev_conn *c, const void *in, size_t len);
void dev_conn_closed(dev_conn *c);
/* Ends the session with a close frame (code, reason) as soon as possible. */
void dev_conn_close(dev_conn *c, int code, const char *reason);
/* Closes the TCP connection at once, without a close frame. */
void dev_conn_drop(dev_conn *c);
void dev_conn_stall(dev_conn *c, int64_t until_us);
void dev_conn_unstall(dev_conn *c);

#endif
