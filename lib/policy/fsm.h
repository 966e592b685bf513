/*
 * The connection state machine with its reconnect and keepalive decisions.
 * Pure policy: it is told what happened and what time it is (monotonic ms),
 * and answers what the adapter must do. It never touches a socket.
 *
 *   IDLE --start--> CONNECTING --opened--> OPEN
 *   CONNECTING/OPEN --failed(retry)--> RECONNECTING --tick(due)--> CONNECTING
 *   CONNECTING/OPEN/RECONNECTING --failed(fatal)|exhausted--> FAILED
 *   any live state --close--> CLOSING --closed--> CLOSED
 */
#ifndef SCN_FSM_H
#define SCN_FSM_H

#include <stdbool.h>
#include <stdint.h>
#include <scentience/session.h>
#include "backoff.h"
#include "classify.h"
#include "rng.h"

typedef struct scn_fsm_config {
    scn_backoff_policy backoff;
    uint32_t ping_interval_ms;   /* 0: default 5000 */
    uint32_t idle_timeout_ms;    /* 0: default 15000 */
    uint32_t connect_timeout_ms; /* 0: default 10000 */
    uint64_t seed;               /* jitter seed; 0: scn__rng_os_seed() */
} scn_fsm_config;

typedef struct scn_fsm {
    scn_state state;
    scn_backoff backoff;
    scn_rng rng;
    uint32_t ping_interval_ms, idle_timeout_ms, connect_timeout_ms;
    uint64_t state_since;  /* when the current state was entered */
    uint64_t last_rx;      /* last inbound traffic of any kind */
    uint64_t last_ping;    /* last ping sent; 0: none outstanding */
    uint64_t reconnect_at; /* RECONNECTING: when to connect again */
    uint32_t failures;     /* consecutive failed attempts; with
                              backoff.max_attempts set, reaching it is
                              final (1: never reconnect) */
    uint32_t last_delay_ms;
    uint64_t opens; /* successful opens so far */
    int reason;     /* last reason reported */
} scn_fsm;

/* What a call changed, for the state callback. changed false: nothing to
 * report. */
typedef struct scn_transition {
    bool changed;
    scn_state state, previous;
    int reason;
    int last_error; /* FAILED by the attempt limit: the last attempt's */
    uint32_t delay_ms;
    uint32_t attempt;
} scn_transition;

typedef enum scn_fsm_action {
    SCN_ACT_NONE = 0,
    SCN_ACT_CONNECT, /* RECONNECTING delay over: start a connection */
    SCN_ACT_PING,    /* OPEN and idle: send a ping now */
    SCN_ACT_DROP     /* connection is dead or the handshake hangs: drop it
                        and report scn__fsm_failed(DEAD_PEER/CONNECT_TIMEOUT) */
} scn_fsm_action;

typedef struct scn_tick {
    scn_fsm_action action;
    scn_failure_kind drop_kind; /* SCN_ACT_DROP: what to report */
    uint64_t next_deadline;     /* call tick again no later than this */
} scn_tick;

void scn__fsm_init(scn_fsm *f, const scn_fsm_config *cfg);
/* IDLE -> CONNECTING. */
scn_transition scn__fsm_start(scn_fsm *f, uint64_t now);
/* CONNECTING -> OPEN. */
scn_transition scn__fsm_opened(scn_fsm *f, uint64_t now);
/* A connection attempt or an open connection failed. Classifies it;
 * -> RECONNECTING with a jittered delay (never below the verdict's
 * min_delay_ms), or -> FAILED when fatal or the attempt limit is reached,
 * or -> CLOSED (reason END_OF_STREAM) when the server said it has no more
 * data.
 * A connection that stayed open at least healthy_ms resets the schedule
 * first. Ignored (changed false) in CLOSING/CLOSED/FAILED/IDLE. */
scn_transition scn__fsm_failed(scn_fsm *f, uint64_t now,
                               const scn_failure *failure);
/* A local error that no retry can fix (e.g. the key file became unreadable
 * before a reconnect): any state but CLOSED/FAILED -> FAILED with err.
 * failures is not incremented. */
scn_transition scn__fsm_fatal(scn_fsm *f, uint64_t now, int err);
/* Any inbound traffic (message, pong). */
void scn__fsm_rx(scn_fsm *f, uint64_t now);
/* Records that a ping was sent. */
void scn__fsm_ping_sent(scn_fsm *f, uint64_t now);
/* A pong arrived: counts as inbound traffic (scn__fsm_rx); returns the round
 * trip in ms (0 if no ping was out). */
uint32_t scn__fsm_pong(scn_fsm *f, uint64_t now);
/* What to do now, and when to ask again. RECONNECTING due -> the fsm moves
 * to CONNECTING itself and returns SCN_ACT_CONNECT (*tr reports it; tr may
 * be NULL). next_deadline assumes the action is carried out (a PING is
 * sent now); after SCN_ACT_DROP it is now: report the failure, then tick
 * again. UINT64_MAX when nothing is pending. */
scn_tick scn__fsm_tick(scn_fsm *f, uint64_t now, scn_transition *tr);
/* User close: live state -> CLOSING (IDLE/RECONNECTING go straight to
 * CLOSED). */
scn_transition scn__fsm_close(scn_fsm *f, uint64_t now);
/* The connection finished closing: CLOSING -> CLOSED. */
scn_transition scn__fsm_closed(scn_fsm *f, uint64_t now);

#endif
