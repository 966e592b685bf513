/**
 * @file
 *
 * One-shot timers on an scn_loop, for layers above sessions (the UAV
 * command channel's timeouts, the companion's periodic work). Callbacks run
 * on the loop's thread. Not thread-safe: use them on the loop's thread.
 */
#ifndef SCENTIENCE_TIMER_H
#define SCENTIENCE_TIMER_H

#include <stdint.h>
#include <scentience/common.h>
#include <scentience/loop.h>

#ifdef __cplusplus
extern "C" {
#endif

/** A one-shot timer on a loop (opaque). */
typedef struct scn_timer scn_timer;
/** Called on the loop's thread when the timer expires. */
typedef void (*scn_timer_fn)(scn_timer *t, void *user);

/** Creates a stopped timer. Returns 0, SCN_ERR_INVALID_ARG, SCN_ERR_NOMEM. */
SCN_API int scn_timer_new(scn_loop *loop, scn_timer_fn fn, void *user,
                          scn_timer **out);
/** (Re)arms the timer to fire once after delay_ms (0: on the next loop
 * turn). Returns 0 or SCN_ERR_INVALID_ARG. */
SCN_API int scn_timer_start(scn_timer *t, uint64_t delay_ms);
/** Disarms; no callback after return. NULL allowed. */
SCN_API void scn_timer_stop(scn_timer *t);
/** Stops and frees; NULL allowed; safe inside its own callback. */
SCN_API void scn_timer_free(scn_timer *t);

#ifdef __cplusplus
}
#endif

#endif
