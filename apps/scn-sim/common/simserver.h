/*
 * The server skeleton every simulator mode runs on: the lws context and
 * listening vhost, the protocol callback, signals (HUP reloads keys, USR1
 * stalls, USR2 drops, INT/TERM stop), the fault and duration timers, the
 * list of open connections, the listening/refused/exit events and a
 * graceful stop. A mode fills a sim_mode_ops with what is its own: the
 * handshake checks, one connection's life, and what a stall or a drop
 * does to it.
 */
#ifndef SCN_SIM_SERVER_H
#define SCN_SIM_SERVER_H

#include <cjson/cJSON.h>
#include <libwebsockets.h>
#include <stddef.h>
#include <stdint.h>

#include "keystore.h"
#include "plume.h"

#define SIM_PEER_MAX 64

/* The options every mode has. */
typedef struct sim_opts {
    const char *host;
    int port;
    const char *keys_path; /* NULL: dev mode */
    uint64_t seed;
    double duration_s; /* 0: until a signal */
    const char *log_path;
    int quiet;
    double drop_every_s;  /* 0: off */
    double stall_every_s; /* 0: off */
    /* wss:// when set (both or neither); clients then need a certificate
     * signed by tls_client_ca when that is set too. */
    const char *tls_cert, *tls_key, *tls_client_ca;
} sim_opts;

/* The first member of a mode's connection (lws per-session data, zeroed
 * by lws): what the skeleton needs to list it, and how it ends. */
typedef struct sim_conn {
    struct sim_conn *prev, *next; /* sim_server.conns */
    unsigned long id;
    int linked;  /* established and on the list */
    int closing; /* a close frame is due: close_code, close_reason */
    int close_code;
    char close_reason[124];
    int dropped;         /* closed abruptly by a fault */
    int peer_close_code; /* from the client's close frame, 0: none */
} sim_conn;

/* What the handshake checks decided: the first member of a mode's own
 * (at most SIM_ADMISSION_MAX bytes). */
typedef struct sim_admission {
    int status;            /* 0: accepted; else the refusal's HTTP status */
    const char *reason;    /* for logs */
    const char *auth_desc; /* 401: WWW-Authenticate error_description */
    unsigned retry_after;  /* 429 */
    ks_key *key;
    char peer[SIM_PEER_MAX];
} sim_admission;

#define SIM_ADMISSION_MAX 2048 /* a device UID of up to 1536 bytes */

typedef struct sim_server sim_server;

/* One connection's life: the mode's session file exports these. */
typedef struct sim_conn_ops {
    size_t size; /* the mode's connection (lws per-session data) */
    /* A new session (r: the handshake checks, run again now that lws has
     * given the session its memory): link it (sim_conn_link). The
     * skeleton then closes it when stopping or when r now refuses. */
    void (*established)(sim_server *s, sim_conn *c, struct lws *wsi,
                        const sim_admission *r);
    /* Optional: the close code (and *reason) for a session r refuses;
     * default sim_admission_close_code. */
    int (*refusal)(const sim_admission *r, const char **reason);
    /* Ends a session with a close frame (code, reason). */
    void (*close)(sim_conn *c, int code, const char *reason);
    /* Called for linked connections only. Returns as an lws callback. */
    int (*writeable)(sim_conn *c);
    void (*receive)(sim_conn *c, const void *in, size_t len);
    void (*timer)(sim_conn *c); /* optional: lws_set_timer_usecs */
    /* Every session that closes (linked or not): unlink and free. */
    void (*closed)(sim_conn *c);
} sim_conn_ops;

/* Plain HTTP requests (pss: the per-session data). Return as an lws
 * callback. */
typedef struct sim_http_ops {
    int (*request)(sim_server *s, void *pss, struct lws *wsi, const char *uri);
    int (*body)(void *pss, const void *in, size_t len);
    int (*complete)(void *pss);
    void (*drop)(void *pss);
} sim_http_ops;

typedef struct sim_mode_ops {
    const char *name;     /* "device": in the log, vhost "scn-sim-device" */
    const char *protocol; /* the vhost's default: clients offering none too */
    size_t tx_cap;        /* sim_server.tx: LWS_PRE + tx_cap bytes */
    /* Runs the handshake checks on wsi's request into r (the mode's
     * admission, at most SIM_ADMISSION_MAX bytes). */
    void (*admit)(sim_server *s, struct lws *wsi, sim_admission *r);
    /* Optional: the mode's members of the "refused" event. */
    void (*refused)(const sim_admission *r, cJSON *ev);
    const sim_conn_ops *conn;
    const sim_http_ops *http; /* NULL: every plain request gets 426 */

    /* Optional: once the listener is made, before it is announced (more
     * vhosts, timers); an exit code. */
    int (*start)(sim_server *s, int family);
    /* Optional: the mode's members of the "listening" event. */
    void (*listening)(sim_server *s, cJSON *ev);
    /* Closes the sessions whose key no longer allows them. */
    void (*recheck)(sim_server *s);
    /* Faults, source "SIGUSR1", "stall-every"...; all: a signal, which
     * drops the mode's outgoing links too. */
    void (*stall)(sim_server *s, const char *source);
    void (*drop)(sim_server *s, const char *source, int all);
    /* Optional: what else stops when the sessions are closed ("going
     * away"). */
    void (*stop)(sim_server *s);
    /* Optional: something besides the sessions still open. */
    int (*busy)(const sim_server *s);
    /* Optional: the mode's counters in the "exit" event. */
    void (*exit)(sim_server *s, cJSON *ev);
    /* Optional: cancel the mode's timers (before the context goes). */
    void (*cancel)(sim_server *s);
    /* Optional: free what the mode holds (after the context is gone). */
    void (*release)(sim_server *s);
} sim_mode_ops;

/* The server; a mode's own server struct starts with it. */
struct sim_server {
    const sim_mode_ops *ops;
    const sim_opts *o;
    struct lws_context *ctx;
    struct lws_vhost *vh;
    keystore *ks;
    plume pl;
    sim_conn *conns;
    unsigned long next_id;
    int64_t t0_us; /* start (monotonic) */
    int stopping;
    int64_t stop_deadline_us;
    uint64_t total_conns, total_refused;
    lws_sorted_usec_list_t sul_house, sul_drop, sul_stall, sul_duration;
    lws_sorted_usec_list_t sul_stall_end; /* the mode's: when stalls end */
    /* Scratch for one write: lws keeps what the socket does not take and
     * holds WRITEABLE back until it is out, so one buffer serves all. */
    unsigned char *tx;
    struct lws_protocols protocols[2]; /* lws keeps a pointer to them */
};

/* Runs s (the base of a mode's server, zeroed but for the mode's own
 * members) as ops says until a signal or o->duration_s; returns the
 * process exit code. */
int sim_server_run(sim_server *s, const sim_mode_ops *ops, const sim_opts *o);

/* Stops: the "stopping" event, ops->stop, and the loop ends when every
 * session is closed or after a grace period. */
void sim_server_stop(sim_server *s, const char *why);

/* A new session: its id, on the list, counted. */
void sim_conn_link(sim_server *s, sim_conn *c);
void sim_conn_unlink(sim_server *s, sim_conn *c);

/* Marks c closing with code and reason; 0 when it already was. */
int sim_conn_closing(sim_conn *c, int code, const char *reason);

/* The close frame of a closing session (from WRITEABLE): returns -1,
 * which has lws send it and close. */
int sim_conn_close_frame(const sim_conn *c, struct lws *wsi);

/* One counter of a connection, for its close report. */
typedef struct sim_count {
    const char *name; /* in the "close" event */
    uint64_t value;
    const char *words; /* in the stderr line ("frames sent"); NULL: not */
} sim_count;

/* Reports a linked session that ended and unlinks it: the "close" event
 * (conn, code, reason, by: server, fault, client or network, key: its
 * name, never the key; then the mode's counts) and one stderr line. */
void sim_conn_report_close(sim_server *s, sim_conn *c, const char *key_name,
                           const sim_count *counts, size_t ncounts);

/* The close code and reason for a session that was let in although the
 * handshake check (r, run again at ESTABLISHED) now refuses it: 0 when it
 * may go on. */
int sim_admission_close_code(const sim_admission *r, const char **reason);

/* Zeroes a mode's admission r (size bytes) and names the client. */
void sim_admission_init(void *r, size_t size, struct lws *wsi);

/* Fills the key part of r from wsi's Authorization header: status 401
 * (invalid, expired, revoked) or 403 (address). A quota verdict
 * (KS_QUOTA) is left to the caller, whose order of checks decides. */
ks_verdict sim_admit_key(sim_server *s, struct lws *wsi, sim_admission *r);

/* A "fault" event: kind, source. */
cJSON *sim_fault_event(const char *kind, const char *source);

/* The sessions of a mode, as the mode's connection type. */
#define SIM_FOR_EACH(type, c, srv)                                             \
    for (type *c = (type *)(srv)->conns; c; c = (type *)((sim_conn *)c)->next)

#endif
