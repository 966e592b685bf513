/*
 * The deadlines of one server connection, decided in plain C from the
 * times the adapter records and the server's limits. Pure: the caller
 * passes the time (monotonic ms) and acts on the answer.
 *
 * - HTTP: a request head must be complete within request_ms of the
 *   connection (or of the previous answer, on a persistent connection):
 *   a peer that trickles bytes or sends nothing holds no slot for long.
 * - WebSocket, idle: a connection from which no message has come for
 *   idle_ms (its own limit, which the application may change; 0: never)
 *   is closed.
 * - WebSocket, keepalive: after ping_ms without a byte from the peer, a
 *   ping goes out; a peer that then stays silent for pong_ms is dead and
 *   cut off (a pong, or anything else, clears it). 0 disables pings.
 * - Closing: a connection whose close frame or last answer is written but
 *   whose peer has not finished within close_ms is cut off.
 */
#ifndef SCN_CONN_TIMERS_H
#define SCN_CONN_TIMERS_H

#include <stdint.h>

typedef enum scn_conn_phase {
    SCN_PHASE_HTTP,   /* reading a request head */
    SCN_PHASE_WS,     /* an open WebSocket */
    SCN_PHASE_CLOSING /* closing: a last answer or close frame is out */
} scn_conn_phase;

typedef enum scn_conn_due {
    SCN_DUE_NONE,
    SCN_DUE_PING,         /* write a ping */
    SCN_DUE_REQUEST_TIME, /* no complete request head in time */
    SCN_DUE_IDLE,         /* no message in time: close it */
    SCN_DUE_DEAD,         /* no answer to a ping: cut it off */
    SCN_DUE_CLOSE_TIME    /* the close did not finish: cut it off */
} scn_conn_due;

typedef struct scn_conn_limits {
    uint32_t request_ms;
    uint32_t ping_ms, pong_ms;
    uint32_t close_ms;
} scn_conn_limits;

typedef struct scn_conn_clock {
    scn_conn_phase phase;
    uint64_t phase_ms; /* when the phase began */
    uint64_t rx_ms;    /* last byte from the peer */
    uint64_t msg_ms;   /* last complete message (or the phase's start) */
    uint64_t ping_ms;  /* our outstanding ping; 0: none */
    uint32_t idle_ms;  /* this connection's idle limit; 0: none */
} scn_conn_clock;

/* What is due now, if anything; *next (may be NULL) receives when the
 * next deadline falls (UINT64_MAX: none). The most severe due action
 * wins. */
scn_conn_due scn__conn_timers_check(const scn_conn_clock *c,
                                    const scn_conn_limits *l, uint64_t now,
                                    uint64_t *next);

/* Bookkeeping helpers. */
void scn__conn_clock_phase(scn_conn_clock *c, scn_conn_phase phase,
                           uint64_t now);
/* Bytes came in: the peer is alive; an outstanding ping is answered. */
void scn__conn_clock_rx(scn_conn_clock *c, uint64_t now);
/* A complete message came in. */
void scn__conn_clock_message(scn_conn_clock *c, uint64_t now);

#endif
