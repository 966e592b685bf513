/* Reconnect delays: exponential ceiling with full jitter. Pure policy. */
#ifndef SCN_BACKOFF_H
#define SCN_BACKOFF_H

#include <stdbool.h>
#include <stdint.h>
#include <scentience/session.h>
#include "rng.h"

typedef struct scn_backoff {
    scn_backoff_policy policy; /* defaults applied */
    uint32_t attempt;          /* delays handed out since the last reset */
} scn_backoff;

/* Copies policy (NULL: all defaults) filling zero fields with defaults:
 * initial 500 ms, max 30000 ms, factor 2.0, healthy 10000 ms; max_attempts
 * 0 stays 0 (unlimited). factor < 1 is treated as 1; initial > max as max. */
void scn__backoff_init(scn_backoff *b, const scn_backoff_policy *policy);

/* The ceiling for the current attempt: min(max, initial * factor^attempt),
 * computed without overflow. */
uint32_t scn__backoff_ceiling(const scn_backoff *b);

/* Full jitter: uniform in [0, ceiling]; then attempt++. */
uint32_t scn__backoff_next(scn_backoff *b, scn_rng *rng);

/* true when max_attempts is set and attempt >= max_attempts. */
bool scn__backoff_exhausted(const scn_backoff *b);

void scn__backoff_reset(scn_backoff *b);

#endif
