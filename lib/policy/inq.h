/*
 * The inbound queue: received messages wait here until dispatched. When it
 * fills (messages or bytes), the adapter stops reading the socket; when it
 * drains to the low watermark, reading resumes. A hard cap of the limits
 * plus one maximum-size message bounds what arrives after the pause
 * (libwebsockets may finish a buffer it had already read).
 */
#ifndef SCN_INQ_H
#define SCN_INQ_H

#include <stdbool.h>
#include "msgq.h"

typedef struct scn_inq {
    scn_msgq q;
    size_t soft_msgs, soft_bytes; /* pause at or above these */
    size_t low_bytes, low_msgs;   /* resume at or below these */
    bool paused;
} scn_inq;

enum { SCN_INQ_NONE = 0, SCN_INQ_PAUSE = 1, SCN_INQ_RESUME = 2 };

/* Soft limits max_msgs/max_bytes; resume at half of each. The hard cap is
 * max_msgs + 16 messages and max_bytes + max_message bytes. */
int scn__inq_init(scn_inq *q, size_t max_msgs, size_t max_bytes,
                  size_t max_message);
void scn__inq_free(scn_inq *q);
/* Copies a message in. Returns SCN_INQ_NONE or SCN_INQ_PAUSE (reading must
 * stop now), or SCN_ERR_QUEUE_FULL above the hard cap (the caller counts a
 * drop), SCN_ERR_NOMEM. */
int scn__inq_push(scn_inq *q, const void *data, size_t len);
/* The same, the message tagged (scn_msg.tag when taken). */
int scn__inq_push_tagged(scn_inq *q, const void *data, size_t len,
                         uint64_t tag);
/* Takes the oldest message (caller frees msg->buf). Returns false when
 * empty. *event (may be NULL) receives SCN_INQ_RESUME when reading may
 * resume: both count and bytes at or below their low marks. */
bool scn__inq_take(scn_inq *q, scn_msg *msg, int *event);
size_t scn__inq_count(const scn_inq *q);
/* Discards everything and clears paused without an event: the caller
 * resumes reading itself if it had paused. */
size_t scn__inq_clear(scn_inq *q);

#endif
