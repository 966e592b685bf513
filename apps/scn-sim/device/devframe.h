/*
 * A simulated device's readings as a published flat frame (PROTOCOL.md
 * 3.1): environment, battery and status drift slowly; compounds come from
 * the plume model at the device's position, those <= 0 omitted.
 */
#ifndef SCN_SIM_DEVFRAME_H
#define SCN_SIM_DEVFRAME_H

#include <stddef.h>
#include <stdint.h>

#include "common/plume.h"

/* Large enough for any frame built here. */
#define DEVFRAME_MAX 4096 /* room for the longest UID */

/* Where device number idx (0-based, in --devices order) sits, in cm:
 * each device sees the plume from its own place. */
void devframe_position(int idx, double *x, double *y, double *z);

/* Writes the frame of device idx at simulation time t (seconds) into out.
 * ts is the TIMESTAMP text. Returns the length, or 0 if it did not fit. */
size_t devframe_build(char *out, size_t cap, const plume *pl, const char *uid,
                      int idx, uint64_t seq, double t, const char *ts);

#endif
