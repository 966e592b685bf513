/*
 * `scn-sim cloud`: the Scentience cloud inference service on loopback
 * (docs/PROTOCOL.md section 9): the /v1/stream WebSocket endpoint and the
 * POST /v1/predict HTTP endpoint, with a deterministic toy model so that
 * tests can predict every answer.
 */
#ifndef SCN_SIM_CLOUD_H
#define SCN_SIM_CLOUD_H

#include <cjson/cJSON.h>
#include <libwebsockets.h>
#include <stddef.h>
#include <stdint.h>

#include "common/keystore.h"
#include "common/plume.h"

#define CLOUD_MODEL     "olfa-toy-1"
#define CLOUD_RX_MAX    (64 * 1024) /* largest record or predict body */
#define CLOUD_STREAM_ID 64          /* stream id, bytes */
#define CLOUD_KEYNAME   64
#define CLOUD_KEEP      1024 /* inferences kept per stream for "resend" */

typedef struct cloud_opts {
    const char *host;
    int port;
    const char *keys_path; /* NULL: dev mode */
    uint64_t seed;
    const char *log_path;
    double drop_every_s;   /* 0: off */
    double stall_for_s;    /* SIGUSR1 stall length */
    double refuse_429_for; /* seconds from start, 0: off */
    uint64_t drop_after;   /* drop the connection that carries this seq
                              right after accepting it (once); 0: off */
    int quiet;
} cloud_opts;

int cloud_run(const cloud_opts *o);
/* cloud_main.c: the mode entry (options). */
int cloud_main(int argc, char **argv);

/* The toy model's answer to one frame (a JSON object). state may be NULL.
 * Returns the inference object (without seq), or NULL with *why set when
 * the frame is not a valid v1 frame. */
cJSON *cloud_model_infer(const plume *pl, const cJSON *frame,
                         const cJSON *state, const char **why);

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
    struct cloud_conn *prev, *next; /* cloud_srv.conns, streams only */
    cloud_srv *srv;
    struct lws *wsi;
    unsigned long id;
    int linked;
    ks_key *key;
    char key_name[CLOUD_KEYNAME];
    char stream[CLOUD_STREAM_ID + 1];
    char peer[64];
    cloud_out *q_head, *q_tail;
    int closing, close_code;
    char close_reason[100];
    int dropped, stalled;
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
    const cloud_opts *o;
    struct lws_context *ctx;
    struct lws_vhost *vh;
    keystore *ks;
    plume pl;
    cloud_conn *conns;
    cloud_ackrec *acks;
    unsigned long next_id;
    int64_t t0_us, stall_until_us;
    int stopping;
    int dropped_after; /* --drop-after-accept done */
    int64_t stop_deadline_us;
    lws_sorted_usec_list_t sul_house, sul_drop, sul_stall_end;
};

int64_t cloud_mono_us(void);
/* Seconds left of --refuse-429-for (rounded up), 0 when over. */
unsigned cloud_refusing(const cloud_srv *s);
/* Checks wsi's Authorization header. Returns the verdict, *key the entry. */
ks_verdict cloud_check_key(cloud_srv *s, struct lws *wsi, const char *peer,
                           ks_key **key, unsigned *retry_after);

/* cloud_http.c: POST /v1/predict. Return values as for an lws callback. */
int cloud_http_request(cloud_conn *c, cloud_srv *s, struct lws *wsi,
                       const char *uri);
int cloud_http_body(cloud_conn *c, const void *in, size_t len);
int cloud_http_complete(cloud_conn *c);
void cloud_http_free(cloud_conn *c);

/* Answers an HTTP request (status, optional error body). Returns 0 or -1. */
int cloud_http_answer(struct lws *wsi, int status, const char *body,
                      const char *auth_desc, unsigned retry_after, int upgrade);

#endif
