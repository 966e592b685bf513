/*
 * Integration-test harness: starts scn-sim (or any app) as a real process on
 * an ephemeral loopback port, runs a loop until a condition holds, and
 * cleans everything up even when an assertion fails.
 *
 * Every timeout_ms given to a wait here is a deadline for something
 * expected to happen, multiplied by the run's time scale (runner.h): a
 * slow or loaded machine only makes a passing test slower. run_for is a
 * fixed span and is not scaled: never use it to wait for something.
 */
#ifndef SCN_TEST_HARNESS_H
#define SCN_TEST_HARNESS_H

#include <scentience/scentience.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>
#include <sys/types.h>

#include "runner.h"
#include "verdict.h"

#define MUST_CHECK __attribute__((warn_unused_result))

typedef struct sim_proc {
    pid_t pid;
    int port;
    char url[64];
    char log_path[256]; /* --log file of the simulator */
    char err_path[256]; /* its stderr */
    char args[16][128]; /* as started, for a restart on the same port */
    int nargs;
} sim_proc;

/* Starts $SCN_BIN_DIR/scn-sim with args (NULL-terminated) plus --host
 * 127.0.0.1, --port 0 (or port when > 0: from reserve_port, for a
 * simulator that will be restarted) and --log, its stderr in a file.
 * Waits for its "listening" line. Returns 0 or -1. */
int sim_start(sim_proc *p, int port, const char *const *args);
/* Same arguments, same port (after a kill). */
int sim_restart(sim_proc *p);
/* SIGTERM (SIGKILL if it outlives the deadline), reap, and judge: 0 when
 * it exited 0 with no sanitizer report (or was not running), else -1 after
 * saying why. Teardowns return it: a crash of the simulator fails the
 * test. Safe to call twice. */
int sim_stop(sim_proc *p) MUST_CHECK;
/* SIGKILL and reap, the abrupt death of a device; -1 when it had died
 * already by itself or left a sanitizer report. */
int sim_kill(sim_proc *p) MUST_CHECK;
int sim_signal(sim_proc *p, int sig);
/* Lines of the simulator log containing needle. */
int sim_log_count(const sim_proc *p, const char *needle);
/* Waits up to timeout_ms until at least min lines contain needle (the
 * simulator logs an event a moment after the client may have seen it);
 * returns the final count. Runs no loop: for what needs nothing more from
 * the test's side, else run_until_logged. */
int sim_wait_log(const sim_proc *p, const char *needle, int min,
                 uint32_t timeout_ms);
/* The same while running loop (the client must still act for it). */
int run_until_logged(scn_loop *loop, const sim_proc *p, const char *needle,
                     int min, uint32_t timeout_ms);

/* Line number (0-based) of the first log line containing needle, or -1
 * (assert it is >= 0 before comparing positions). */
int sim_log_index(const sim_proc *p, const char *needle);
/* The number after "key": on the last log line containing needle. Returns
 * 0 or -1 when there is none. */
int sim_log_number(const sim_proc *p, const char *needle, const char *key,
                   double *value);

/* Runs the loop until *flag becomes true or timeout_ms passes; returns
 * whether the flag became true. The flag may be set by another thread. */
bool run_until_flag(scn_loop *loop, const atomic_bool *flag,
                    uint32_t timeout_ms);
typedef bool (*cond_fn)(void *arg);
bool run_until(scn_loop *loop, cond_fn cond, void *arg, uint32_t timeout_ms);
/* Runs the loop for ms: a span to watch for what must NOT happen, or to
 * let things go on; never a wait for something that must happen. */
void run_for(scn_loop *loop, uint32_t ms);
/* The loop time timeout_ms (scaled) from now, for a wait of one's own. */
uint64_t deadline_ms(scn_loop *loop, uint32_t timeout_ms);

/* A loopback port nobody else will take while this process lives (see
 * ports.c), for a server the test must name before it starts, or restart
 * on the same port. -1 if none is free. */
int reserve_port(void);

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
