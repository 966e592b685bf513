/*
 * The outbound queue: two lanes over scn_msgq, with watermarks on the total
 * queued bytes. Control is never dropped (a full lane refuses the push);
 * telemetry drops its oldest to make room. Pure policy, not thread-safe.
 */
#ifndef SCN_OUTQ_H
#define SCN_OUTQ_H

#include <stdint.h>
#include <scentience/session.h>
#include "msgq.h"

typedef struct scn_outq_limits {
    size_t control_msgs, control_bytes;
    size_t telemetry_msgs, telemetry_bytes;
    size_t high_water, low_water; /* total bytes; low < high; low may be 0 */
} scn_outq_limits;

typedef struct scn_outq {
    scn_msgq lane[2]; /* indexed by scn_lane */
    size_t high_water, low_water;
    bool above; /* between crossing high and falling to low */
    uint64_t dropped_telemetry;
    uint64_t rejected_control;
} scn_outq;

/* Watermark crossings reported by push and pop: HIGH when the total reaches
 * high_water (>=), LOW when it then falls to low_water (<=). Each is
 * reported once per crossing. */
enum { SCN_WM_NONE = 0, SCN_WM_HIGH = 1, SCN_WM_LOW = 2 };

/* Returns 0, SCN_ERR_INVALID_ARG (a zero limit, low >= high), NOMEM. */
int scn__outq_init(scn_outq *q, const scn_outq_limits *limits, size_t headroom);
void scn__outq_free(scn_outq *q);

/* Queues a copy of data. Control: SCN_ERR_QUEUE_FULL when it does not fit
 * (counted in rejected_control). Telemetry: drops oldest telemetry until it
 * fits; *dropped receives how many this push dropped (0 otherwise; set, not
 * added to) and dropped_telemetry accumulates them. Both:
 * SCN_ERR_MESSAGE_TOO_BIG when len exceeds the lane's byte cap.
 * *wm receives SCN_WM_HIGH when this push crossed the high watermark.
 * dropped and wm may be NULL. A telemetry push may drop the message a peek
 * returned: hold the owner's lock from peek to pop. */
int scn__outq_push(scn_outq *q, scn_lane lane, const void *data, size_t len,
                   size_t *dropped, int *wm);

/* Queues a copy of data at the front of the control lane, ahead of
 * everything queued (a drone's emergency stop). Same errors as a control
 * push; *wm as for scn__outq_push. */
int scn__outq_push_urgent(scn_outq *q, const void *data, size_t len, int *wm);

/* A control message at the back of its lane or (urgent) ahead of
 * everything, carrying tag (the peeked message's tag). Errors and *wm as
 * for scn__outq_push_urgent. */
int scn__outq_push_tagged(scn_outq *q, bool urgent, const void *data,
                          size_t len, uint64_t tag, int *wm);

/* Next message to write: control first. NULL when empty. *lane receives
 * its lane. */
scn_msg *scn__outq_peek(scn_outq *q, scn_lane *lane);

/* Removes the message returned by the last peek (of that lane). *wm
 * receives SCN_WM_LOW when this pop fell to the low watermark after a high
 * crossing. */
void scn__outq_pop(scn_outq *q, scn_lane lane, int *wm);

size_t scn__outq_count(const scn_outq *q);
size_t scn__outq_bytes(const scn_outq *q);
/* Discards everything; returns how many messages were discarded. Resets
 * the watermark state without reporting LOW. */
size_t scn__outq_clear(scn_outq *q);

#endif
