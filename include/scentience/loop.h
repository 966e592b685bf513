/**
 * @file
 *
 * The event loop: one libwebsockets context serving any number of sessions.
 *
 * Threading: a loop is owned by one thread at a time. Either the caller runs
 * it (scn_loop_run / scn_loop_run_once) or scn_loop_start() gives it a
 * thread of its own. Callbacks of every session always run on the loop's
 * thread. From other threads, only the calls documented as thread-safe may
 * be made (scn_session_send*, scn_loop_stop, scn_loop_wakeup).
 */
#ifndef SCENTIENCE_LOOP_H
#define SCENTIENCE_LOOP_H

#include <stdint.h>
#include <scentience/common.h>
#include <scentience/log.h>
#include <scentience/options.h>

#ifdef __cplusplus
extern "C" {
#endif

/** An event loop: one libwebsockets context that sessions, servers and timers
 * run on (opaque). */
typedef struct scn_loop scn_loop;

/** Options of scn_loop_new(); NULL there means all defaults. Otherwise
 * initialise with scn_loop_options_init(). */
typedef struct scn_loop_options {
    size_t struct_size; /**< set by _options_init() (options.h) */
    /** Where log lines go; NULL drops them. */
    scn_log_fn log;
    void *log_user;          /**< passed to log */
    scn_log_level log_level; /**< most verbose level delivered */
    /** libwebsockets' own logging is process-wide and prints to stderr; it is
     * off unless this is set, and then limited to errors and warnings (lws
     * debug levels print raw headers, which would include the API key). */
    int lws_errors_to_stderr;
} scn_loop_options;

/** What scn_loop_options_init() calls, with the caller's
 * sizeof(scn_loop_options) (scentience/options.h). */
SCN_API void scn_loop_options_init_sized(scn_loop_options *opts, size_t size);

/** Fills opts with every default (no log). */
static inline void scn_loop_options_init(scn_loop_options *opts)
{
    scn_loop_options_init_sized(opts, sizeof(*opts));
}

/** Creates a loop. opts may be NULL for defaults. Returns 0,
 * SCN_ERR_INVALID_ARG, SCN_ERR_OPTIONS_SIZE, SCN_ERR_NOMEM or SCN_ERR_IO
 * (lws context failed). */
SCN_API int scn_loop_new(const scn_loop_options *opts, scn_loop **out);

/** Stops the loop's thread if any, closes every session still attached
 * (their state callbacks report CLOSED) and frees the loop. NULL is allowed.
 * Must not be called from a callback. */
SCN_API void scn_loop_free(scn_loop *loop);

/** Runs until scn_loop_stop(), or until nothing can happen any more: every
 * session has ended (CLOSED, or FAILED: a rejected key, an unknown device,
 * the attempt limit...; its on_state callback got the reason), no server
 * listens and no timer is armed. So a program whose only session fails
 * gets control back instead of waiting forever; a loop with nothing on it
 * returns at once. Returns 0, SCN_ERR_STATE if the loop runs on its own
 * thread, or SCN_ERR_RECURSIVE from inside a callback of this loop on the
 * calling thread (another thread being inside one, such as a
 * scn_session_dispatch() callback, does not prevent it). */
SCN_API int scn_loop_run(scn_loop *loop);

/** Serves events for at most timeout_ms (0: only what is ready now).
 * Returns 0 or the errors of scn_loop_run(). */
SCN_API int scn_loop_run_once(scn_loop *loop, uint32_t timeout_ms);

/** Starts a thread that runs the loop. Returns 0, SCN_ERR_STATE (already
 * running) or SCN_ERR_IO. */
SCN_API int scn_loop_start(scn_loop *loop);

/** Makes scn_loop_run return, or ends the loop's thread and joins it (unless
 * called on that thread). Thread-safe. Returns 0. */
SCN_API int scn_loop_stop(scn_loop *loop);

/** Wakes the loop so that it services pending cross-thread work now.
 * Thread-safe. */
SCN_API void scn_loop_wakeup(scn_loop *loop);

/** Monotonic milliseconds, the clock the loop's policy runs on. */
SCN_API uint64_t scn_loop_now_ms(const scn_loop *loop);

#ifdef __cplusplus
}
#endif

#endif
