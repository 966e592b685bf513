/*
 * Integration-test harness: starts scn-sim (or any app) as a real process on
 * an ephemeral loopback port, runs a loop until a condition holds, and
 * cleans everything up even when an assertion fails.
 */
#ifndef SCN_TEST_HARNESS_H
#define SCN_TEST_HARNESS_H

#include <scentience/scentience.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

typedef struct sim_proc {
    pid_t pid;
    int port;
    char url[64];
    char log_path[256]; /* --log file of the simulator */
    char args[16][128]; /* as started, for a restart on the same port */
    int nargs;
} sim_proc;

/* Starts $SCN_BIN_DIR/scn-sim with args (NULL-terminated) plus --host
 * 127.0.0.1, --port 0 (or port when > 0) and --log. Waits for its
 * "listening" line. Returns 0 or -1. */
int sim_start(sim_proc *p, int port, const char *const *args);
/* Same arguments, same port (after a kill). */
int sim_restart(sim_proc *p);
/* SIGTERM, then SIGKILL after 3 s; reaps. Safe to call twice. */
void sim_stop(sim_proc *p);
/* SIGKILL and reap: the abrupt death of a device. */
void sim_kill(sim_proc *p);
int sim_signal(sim_proc *p, int sig);
/* Lines of the simulator log containing needle. */
int sim_log_count(const sim_proc *p, const char *needle);
/* Waits up to timeout_ms until at least min lines contain needle (the
 * simulator logs an event a moment after the client may have seen it);
 * returns the final count. */
int sim_wait_log(const sim_proc *p, const char *needle, int min,
                 uint32_t timeout_ms);

/* Line number (0-based) of the first log line containing needle, or -1. */
int sim_log_index(const sim_proc *p, const char *needle);
/* The number after "key": on the last log line containing needle. Returns
 * 0 or -1 when there is none. */
int sim_log_number(const sim_proc *p, const char *needle, const char *key,
                   double *value);

/* Runs the loop until *flag becomes true or timeout_ms passes; returns
 * whether the flag became true. */
bool run_until_flag(scn_loop *loop, const volatile bool *flag,
                    uint32_t timeout_ms);
typedef bool (*cond_fn)(void *arg);
bool run_until(scn_loop *loop, cond_fn cond, void *arg, uint32_t timeout_ms);
/* Runs the loop for ms. */
void run_for(scn_loop *loop, uint32_t ms);

/* A file under $SCN_LOG_DIR (created) named after the test; returns path. */
const char *test_log_path(const char *name, char *buf, size_t cap);
/* A path for a key file or key store: under a 0700 directory outside the
 * log directory, so that a test that fails before its cleanup never leaves
 * a key where the log scanner (rightly) objects to it. */
const char *test_secret_path(const char *name, char *buf, size_t cap);
/* Writes text to path with mode. Returns 0 or -1. */
int write_file(const char *path, const char *text, int mode);

/* Library log lines go to a per-test file under $SCN_LOG_DIR so that
 * scripts/check-no-keys-in-logs can scan them. */
void harness_log_to_file(scn_log_level level, const char *component,
                         const char *message, void *user);

#endif
