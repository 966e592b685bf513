/*
 * A recording test client: one loop, one session, and everything the
 * callbacks saw, so integration tests can assert on real behaviour.
 */
#ifndef SCN_TEST_CLIENT_H
#define SCN_TEST_CLIENT_H

#include <stdio.h>

#include "harness.h"

#define CLIENT_MAX_EVENTS 256

typedef struct client {
    scn_loop *loop;
    scn_session *s;
    FILE *log;
    scn_state_event events[CLIENT_MAX_EVENTS];
    int nevents;
    scn_state state;
    uint64_t frames;
    uint64_t opens;
    uint64_t seq_errors; /* SEQ not last+1 within a connection */
    uint64_t last_seq;
    uint64_t messages; /* typed messages */
    uint64_t errors;   /* on_error calls */
    int gaps;          /* on_discontinuity calls */
    scn_discontinuity last_gap;
    uint64_t frames_at_gap; /* frames before the last discontinuity */
    int last_error;
    bool sleep_in_frame; /* slow consumer */
} client;

/* Creates the loop (logging to a file named after test) and fills opts
 * with the client's callbacks. The caller sets url, key, limits. */
int client_init(client *c, const char *test, scn_session_options *opts);
int client_connect(client *c, const scn_session_options *opts);
void client_free(client *c);
/* Waits until the session reaches state (any time in its history after
 * from_event), returns the event index or -1. */
int client_wait_state(client *c, scn_state state, int from_event,
                      uint32_t timeout_ms);
bool client_wait_frames(client *c, uint64_t n, uint32_t timeout_ms);

#endif
