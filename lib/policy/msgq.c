/* Bounded FIFO of byte messages: a ring of pointers, one allocation per
 * message so that the WebSocket layer can write each one in place. */
#include "msgq.h"

#include <scentience/error.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int scn__msgq_init(scn_msgq *q, size_t cap_msgs, size_t cap_bytes,
                   size_t headroom)
{
    memset(q, 0, sizeof(*q));
    if (cap_msgs == 0 || cap_bytes == 0)
        return SCN_ERR_INVALID_ARG;
    /* Checked here too: sanitizers abort on an overflowing calloc. */
    if (cap_msgs > SIZE_MAX / sizeof(*q->ring))
        return SCN_ERR_NOMEM;
    q->ring = calloc(cap_msgs, sizeof(*q->ring));
    if (!q->ring)
        return SCN_ERR_NOMEM;
    q->cap_msgs = cap_msgs;
    q->cap_bytes = cap_bytes;
    q->headroom = headroom;
    return 0;
}

void scn__msgq_free(scn_msgq *q)
{
    scn__msgq_clear(q);
    free(q->ring);
    memset(q, 0, sizeof(*q));
}

bool scn__msgq_fits(const scn_msgq *q, size_t len)
{
    /* Written as a subtraction: bytes + len could wrap. */
    return q->count < q->cap_msgs && q->bytes <= q->cap_bytes &&
           len <= q->cap_bytes - q->bytes;
}

int scn__msgq_push_tagged(scn_msgq *q, const void *data, size_t len, bool front,
                          uint64_t tag)
{
    scn_msg *slot;
    unsigned char *buf;

    if (len > q->cap_bytes)
        return SCN_ERR_MESSAGE_TOO_BIG;
    if (!scn__msgq_fits(q, len))
        return SCN_ERR_QUEUE_FULL;
    if (len > SIZE_MAX - q->headroom - 1)
        return SCN_ERR_NOMEM;
    /* +1 so that an empty message without headroom is still a real
     * allocation, distinct from NULL. */
    buf = malloc(q->headroom + len + 1);
    if (!buf)
        return SCN_ERR_NOMEM;
    if (len)
        memcpy(buf + q->headroom, data, len);
    if (front) {
        q->head = (q->head + q->cap_msgs - 1) % q->cap_msgs;
        slot = &q->ring[q->head];
    } else {
        slot = &q->ring[(q->head + q->count) % q->cap_msgs];
    }
    slot->buf = buf;
    slot->len = len;
    slot->tag = tag;
    q->count++;
    q->bytes += len;
    return 0;
}

int scn__msgq_push(scn_msgq *q, const void *data, size_t len)
{
    return scn__msgq_push_tagged(q, data, len, false, 0);
}

int scn__msgq_push_front(scn_msgq *q, const void *data, size_t len)
{
    return scn__msgq_push_tagged(q, data, len, true, 0);
}

scn_msg *scn__msgq_peek(scn_msgq *q)
{
    return q->count ? &q->ring[q->head] : NULL;
}

bool scn__msgq_take(scn_msgq *q, scn_msg *msg)
{
    scn_msg *m;

    if (q->count == 0)
        return false;
    m = &q->ring[q->head];
    *msg = *m;
    m->buf = NULL;
    m->len = 0;
    m->tag = 0;
    q->head = (q->head + 1) % q->cap_msgs;
    q->count--;
    q->bytes -= msg->len;
    return true;
}

void scn__msgq_pop(scn_msgq *q)
{
    scn_msg m;

    if (scn__msgq_take(q, &m))
        free(m.buf);
}

size_t scn__msgq_clear(scn_msgq *q)
{
    size_t n = 0;

    while (q->count) {
        scn__msgq_pop(q);
        n++;
    }
    q->head = 0;
    return n;
}
