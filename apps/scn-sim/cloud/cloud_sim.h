/*
 * `scn-sim cloud`: the Scentience cloud inference service on loopback
 * (docs/PROTOCOL.md section 9): the /v1/stream WebSocket endpoint and the
 * POST /v1/predict HTTP endpoint, with a deterministic toy model so that
 * tests can predict every answer. On the common server skeleton
 * (common/simserver.h): cloud_main.c (options), cloud_server.c (handshake,
 * faults, the ack store), cloud_stream.c (one /v1/stream session),
 * cloud_http.c (predict), cloud_model.c, cloud_keep.c.
 */
#ifndef SCN_SIM_CLOUD_H
#define SCN_SIM_CLOUD_H

#include <cjson/cJSON.h>
#include <libwebsockets.h>
#include <stddef.h>
#include <stdint.h>

#include "common/keystore.h"
#include "common/plume.h"
#include "common/simserver.h"

#define CLOUD_PROTOCOL  "scentience.cloud.v1"
#define CLOUD_MODEL     "olfa-toy-1"
#define CLOUD_RX_MAX    (64 * 1024) /* largest record or predict body */
#define CLOUD_STREAM_ID 64          /* stream id, bytes */
#define CLOUD_KEYNAME   64
#define CLOUD_KEEP      1024 /* inferences kept per stream for "resend" */

typedef struct cloud_opts {
    sim_opts base;
    double stall_for_s;    /* SIGUSR1 stall length */
    double refuse_429_for; /* seconds from start, 0: off */
    uint64_t drop_after;   /* drop the connection that carries this seq
                              right after accepting it (once); 0: off */
    int control_labels;    /* --control-labels */
} cloud_opts;

int cloud_run(const cloud_opts *o);
/* cloud_main.c: the mode entry (options). */
int cloud_main(int argc, char **argv);

/* The toy model's answer to one frame (a JSON object). state may be NULL.
 * Returns the inference object (without seq), or NULL with *why set when
 * the frame is not a valid v1 frame. */
cJSON *cloud_model_infer(const plume *pl, const cJSON *frame,
                         const cJSON *state, const char **why);

/* --control-labels: replaces inf's labels with 16 of 63 control
 * characters each (label i: bytes 1 + (i + j) % 31), scores decreasing. */
void cloud_model_control_labels(cJSON *inf);

/* One queued outgoing message. */
typedef struct cloud_out {
    struct cloud_out *next;
    size_t len;
    char text[]; /* NUL-terminated */
} cloud_out;

typedef struct cloud_srv cloud_srv;

/* One connection: a WebSocket stream session or an HTTP request (lws
 * per-session data, zeroed by lws). */
typedef struct cloud_conn {
    sim_conn h; /* linked: streams only */
    cloud_srv *srv;
    struct lws *wsi;
    ks_key *key;
    char key_name[CLOUD_KEYNAME];
    char stream[CLOUD_STREAM_ID + 1];
    char peer[SIM_PEER_MAX];
    cloud_out *q_head, *q_tail;
    int stalled;
    uint64_t accepted, duplicates;
    /* Record or predict body being reassembled. */
    char *rx;
    size_t rx_len;
    int rx_overflow;
    /* HTTP: the verdict on the headers, answered when the body is in. */
    int http_status;
    unsigned retry_after;
    const char *http_code, *auth_desc;
} cloud_conn;

/* An inference as sent, for a later "resend". */
typedef struct cloud_kept {
    uint64_t seq;
    char *text; /* NULL: empty slot */
} cloud_kept;

/* Last ack per (key name, stream id), and the newest inferences. */
typedef struct cloud_ackrec {
    struct cloud_ackrec *next;
    char key[CLOUD_KEYNAME];
    char stream[CLOUD_STREAM_ID + 1];
    uint64_t acked;
    cloud_kept kept[CLOUD_KEEP];
} cloud_ackrec;

/* cloud_keep.c: the newest CLOUD_KEEP inferences of a stream, by seq. */
void cloud_keep_put(cloud_ackrec *a, uint64_t seq, const char *text);
/* The inference sent for seq, or NULL when no longer (or never) kept. */
const char *cloud_keep_get(const cloud_ackrec *a, uint64_t seq);
void cloud_keep_free(cloud_ackrec *a);

struct cloud_srv {
    sim_server base;
    const cloud_opts *o;
    cloud_ackrec *acks;
    int dropped_after; /* --drop-after-accept done */
};

/* Seconds left of --refuse-429-for (rounded up), 0 when over. */
unsigned cloud_refusing(const cloud_srv *s);
/* The ack record of (key name, stream id), made when new; NULL: no memory. */
cloud_ackrec *cloud_ack_find(cloud_srv *s, const char *key, const char *stream);

/* What the handshake decided, and the stream id asked for. */
typedef struct cloud_admission {
    sim_admission a;
    char stream[CLOUD_STREAM_ID + 1];
} cloud_admission;

/* cloud_stream.c: one /v1/stream session; its life, for the skeleton. */
extern const sim_conn_ops cloud_stream_ops;
/* An error message ({"type":"error"}; seq, retry_after when not 0). */
void cloud_stream_error(cloud_conn *c, const char *code, const char *message,
                        uint64_t seq, unsigned retry_after);
/* Ends the session with a close frame; reading stops. */
void cloud_stream_close(cloud_conn *c, int code, const char *reason);
/* Closes the connection at once, no close frame. */
void cloud_stream_drop(cloud_conn *c);
/* Neither reads nor writes (stall), or both again. */
void cloud_stream_stall(cloud_conn *c, int on);

/* cloud_http.c: POST /v1/predict. */
extern const sim_http_ops cloud_http_ops;

#endif
