/* Inbound flow control: pausing the socket read pushes back on the server
 * through TCP instead of buffering without bound. The low marks sit at half
 * the limits so that reading does not flap on every message. */
#include "inq.h"

#include <scentience/error.h>

#include <stdint.h>
#include <string.h>

int scn__inq_init(scn_inq *q, size_t max_msgs, size_t max_bytes,
                  size_t max_message)
{
    memset(q, 0, sizeof(*q));
    if (max_msgs == 0 || max_bytes == 0 || max_msgs > SIZE_MAX - 16 ||
        max_message > SIZE_MAX - max_bytes)
        return SCN_ERR_INVALID_ARG;
    q->soft_msgs = max_msgs;
    q->soft_bytes = max_bytes;
    q->low_msgs = max_msgs / 2;
    q->low_bytes = max_bytes / 2;
    return scn__msgq_init(&q->q, max_msgs + 16, max_bytes + max_message, 0);
}

void scn__inq_free(scn_inq *q)
{
    scn__msgq_free(&q->q);
    q->paused = false;
}

int scn__inq_push(scn_inq *q, const void *data, size_t len)
{
    return scn__inq_push_tagged(q, data, len, 0);
}

int scn__inq_push_tagged(scn_inq *q, const void *data, size_t len, uint64_t tag)
{
    int rc = scn__msgq_push_tagged(&q->q, data, len, false, tag);

    if (rc == SCN_ERR_MESSAGE_TOO_BIG)
        rc = SCN_ERR_QUEUE_FULL; /* larger than the whole hard cap */
    if (rc)
        return rc;
    if (!q->paused &&
        (q->q.count >= q->soft_msgs || q->q.bytes >= q->soft_bytes)) {
        q->paused = true;
        return SCN_INQ_PAUSE;
    }
    return SCN_INQ_NONE;
}

bool scn__inq_take(scn_inq *q, scn_msg *msg, int *event)
{
    if (event)
        *event = SCN_INQ_NONE;
    if (!scn__msgq_take(&q->q, msg))
        return false;
    if (q->paused && q->q.count <= q->low_msgs && q->q.bytes <= q->low_bytes) {
        q->paused = false;
        if (event)
            *event = SCN_INQ_RESUME;
    }
    return true;
}

size_t scn__inq_count(const scn_inq *q)
{
    return q->q.count;
}

size_t scn__inq_clear(scn_inq *q)
{
    q->paused = false;
    return scn__msgq_clear(&q->q);
}
