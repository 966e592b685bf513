/*
 * `scn-sim device`: Scentience devices served over WebSocket
 * (docs/PROTOCOL.md, scentience.v1), on the common server skeleton
 * (common/simserver.h). Options, and the state shared by device_main.c
 * (options), device_server.c (the mode's server-wide parts),
 * device_handshake.c (which key, which device) and device_session.c (one
 * connection: streaming, requests, writes, close).
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
#include "common/simserver.h"

#define DEV_PROTOCOL    "scentience.v1"
#define DEV_MAX_DEVICES 64
#define DEV_UID_MAX     1536 /* long ones test clients' buffers */
#define DEV_RATE_MIN    DEVREQ_RATE_MIN
#define DEV_RATE_MAX    DEVREQ_RATE_MAX
#define DEV_CTLQ_MAX    64 /* queued replies per connection */
/* Due frames waiting to be written (a count: frames are built when
 * written). */
#define DEV_PENDING_MAX 256
#define DEV_RX_MAX      (64 * 1024) /* largest request accepted */
#define DEV_PEER_MAX    64
#define DEV_TX_CAP      (4 * DEVFRAME_MAX) /* frames are built in place */

typedef struct device_opts {
    sim_opts base;
    const char *uids[DEV_MAX_DEVICES];
    int n_uids;
    double rate_hz;
    faults faults;
} device_opts;

/* `scn-sim device [options]` (device_main.c). */
int device_main(int argc, char **argv);
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
    sim_conn h;
    dev_srv *srv;
    struct lws *wsi;
    int dev; /* index in device_opts.uids */
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

    char *rx; /* request being reassembled */
    size_t rx_len, rx_cap;
    int rx_started, rx_overflow, rx_binary;
} dev_conn;

struct dev_srv {
    sim_server base; /* base.t0_us: plume time 0 */
    const device_opts *o;
    uint64_t total_sent, total_skipped;
};

/* What the handshake decided about a client. a.status 0: accepted. */
typedef struct dev_admission {
    sim_admission a;
    int dev;
    int v1;
    char uid[DEV_UID_MAX + 1];
} dev_admission;

/* device_handshake.c */
/* Runs the handshake checks on wsi's request headers: subprotocol, key
 * (401, 403), device (404), quota (429), in that order. */
void dev_admit(dev_srv *s, struct lws *wsi, dev_admission *r);

/* device_session.c */
/* One connection's life, for the skeleton. */
extern const sim_conn_ops dev_conn_ops;
/* Ends the session with a close frame (code, reason) as soon as possible. */
void dev_conn_close(dev_conn *c, int code, const char *reason);
/* Closes the TCP connection at once, without a close frame. */
void dev_conn_drop(dev_conn *c);
void dev_conn_stall(dev_conn *c, int64_t until_us);
void dev_conn_unstall(dev_conn *c);

#endif
