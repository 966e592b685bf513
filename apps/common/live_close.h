/*
 * Ending a live listener the way dashboards expect: every connection
 * closed with 1001 once what is queued for it has gone out, within a
 * second, then freed (a peer that does not read is cut off by the free).
 */
#ifndef SCN_APP_LIVE_CLOSE_H
#define SCN_APP_LIVE_CLOSE_H

#include <scentience/live.h>

/* Runs loop until live's connections are closed (at most 1 s), then
 * frees live. NULL allowed. Remove the channels first: their unadvertise
 * then goes out before the close. */
void live_close_and_free(scn_live *live, scn_loop *loop);

#endif
