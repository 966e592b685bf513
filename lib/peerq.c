/* A server connection's outbound queue: drop-oldest and slow-peer timing. */
#include "peerq.h"

#include <scentience/error.h>

#include <stdlib.h>
#include <string.h>

int scn_peerq_init(scn_peerq *pq, size_t cap_msgs, size_t cap_bytes,
                   size_t headroom)
{
    memset(pq, 0, sizeof(*pq));
    /* The tag goes in the first byte, outside the writer's headroom: lws
     * may write frame headers anywhere in the LWS_PRE bytes before the
     * payload. */
    return scn_msgq_init(&pq->q, cap_msgs, cap_bytes, headroom + 1);
}

void scn_peerq_free(scn_peerq *pq)
{
    scn_msgq_free(&pq->q);
    memset(pq, 0, sizeof(*pq));
}

int scn_peerq_push(scn_peerq *pq, const void *data, size_t len,
                   unsigned char tag, uint64_t now_ms, size_t *dropped,
                   bool *became_slow)
{
    size_t n = 0;
    scn_msg *newest;
    int rc;

    if (dropped)
        *dropped = 0;
    if (became_slow)
        *became_slow = false;
    if (len > pq->q.cap_bytes)
        return SCN_ERR_MESSAGE_TOO_BIG;
    /* len fits an empty queue, so this ends. */
    while (!scn_msgq_fits(&pq->q, len)) {
        scn_msgq_pop(&pq->q);
        n++;
    }
    if (n) {
        pq->dropped += n;
        if (!pq->slow) {
            pq->slow = true;
            pq->slow_since_ms = now_ms;
            if (became_slow)
                *became_slow = true;
        }
    }
    if (dropped)
        *dropped = n;
    rc = scn_msgq_push(&pq->q, data, len);
    if (rc)
        return rc;
    newest = &pq->q.ring[(pq->q.head + pq->q.count - 1) % pq->q.cap_msgs];
    newest->buf[0] = tag;
    return 0;
}

bool scn_peerq_take(scn_peerq *pq, scn_msg *msg)
{
    if (!scn_msgq_take(&pq->q, msg))
        return false;
    if (pq->slow && pq->q.count <= pq->q.cap_msgs / 2 &&
        pq->q.bytes <= pq->q.cap_bytes / 2)
        pq->slow = false;
    return true;
}

bool scn_peerq_peek_len(const scn_peerq *pq, size_t *len)
{
    if (pq->q.count == 0)
        return false;
    *len = pq->q.ring[pq->q.head].len;
    return true;
}

unsigned char *scn_peerq_payload(const scn_peerq *pq, const scn_msg *msg)
{
    return msg->buf + pq->q.headroom;
}

unsigned char scn_peerq_tag(const scn_msg *msg)
{
    return msg->buf[0];
}

size_t scn_peerq_count(const scn_peerq *pq)
{
    return pq->q.count;
}

size_t scn_peerq_bytes(const scn_peerq *pq)
{
    return pq->q.bytes;
}

size_t scn_peerq_clear(scn_peerq *pq)
{
    pq->slow = false;
    return scn_msgq_clear(&pq->q);
}

bool scn_peerq_overdue(const scn_peerq *pq, uint64_t now_ms, uint32_t limit_ms,
                       uint64_t *deadline_ms)
{
    uint64_t due;

    if (deadline_ms)
        *deadline_ms = UINT64_MAX;
    if (!pq->slow || limit_ms == 0)
        return false;
    due = pq->slow_since_ms + limit_ms;
    if (now_ms >= due)
        return true;
    if (deadline_ms)
        *deadline_ms = due;
    return false;
}
