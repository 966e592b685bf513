/*
 * Python peers for C integration tests: an independent WebSocket
 * implementation (Debian's python3-websockets) run as a child process whose
 * stdout the test reads while it serves its own loop. Every peer dies with
 * the test, even when the test crashes.
 */
#ifndef SCN_TEST_PY_PEER_H
#define SCN_TEST_PY_PEER_H

#include <scentience/scentience.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define PY_PEER_OUT 8192

typedef struct py_peer {
    pid_t pid;
    int fd;                /* read end of its stdout, non-blocking */
    char out[PY_PEER_OUT]; /* what it printed so far, NUL-terminated */
    size_t len;
    bool exited;
} py_peer;

/* Runs /usr/bin/python3 $SCN_SOURCE_DIR/tests/integration/SCRIPT with args
 * (NULL-terminated, at most 8); its stderr is appended to the test log file
 * log_name. Returns 0 or -1. */
int py_peer_start(py_peer *p, const char *script, const char *log_name,
                  const char *const *args);

/* Reads what the peer printed and notices its exit. */
void py_peer_pump(py_peer *p);

/* Serves the loop for up to ms and pumps every peer in peers[0..n). */
void py_peers_pump(scn_loop *loop, py_peer *peers, int n, uint32_t ms);

/* Serves the loop (pumping all n peers) until p printed needle (in a
 * whole line), exited without it, or timeout_ms passed; returns whether it
 * printed needle and shows its output when not. */
bool py_peer_wait(scn_loop *loop, py_peer *peers, int n, py_peer *p,
                  const char *needle, uint32_t timeout_ms);

/* The same until p exits; returns whether it did. */
bool py_peer_wait_exit(scn_loop *loop, py_peer *peers, int n, py_peer *p,
                       uint32_t timeout_ms);

/* SIGKILL unless exited, reap, close. Safe on a zeroed or stopped peer. */
void py_peer_stop(py_peer *p);

#endif
