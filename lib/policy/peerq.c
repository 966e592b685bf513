/* A server connection's outbound queue: shared messages, drop-oldest and
 * slow-peer timing. */
#include "peerq.h"

#include <scentience/error.h>

#include <stdlib.h>
#include <string.h>

#define FIRST_RING 16

int scn__peerq_init(scn_peerq *pq, size_t cap_msgs, size_t cap_bytes)
{
    memset(pq, 0, sizeof(*pq));
    if (!cap_msgs || !cap_bytes)
        return SCN_ERR_INVALID_ARG;
    pq->cap_msgs = cap_msgs;
    pq->cap_bytes = cap_bytes;
    return 0;
}

static size_t item_len(const scn_peer_item *it)
{
    return it->plen + it->m->len;
}

/* The ring index after i (a compare, not a division: once per message
 * and subscriber). */
static size_t next_index(const scn_peerq *pq, size_t i)
{
    return i + 1 == pq->ring_cap ? 0 : i + 1;
}

static void pop_oldest(scn_peerq *pq)
{
    scn_peer_item *it = &pq->ring[pq->head];

    pq->bytes -= item_len(it);
    scn__shmsg_unref(it->m);
    pq->head = next_index(pq, pq->head);
    pq->count--;
}

size_t scn__peerq_clear(scn_peerq *pq)
{
    size_t n = pq->count;

    while (pq->count)
        pop_oldest(pq);
    pq->head = 0;
    pq->slow = false;
    return n;
}

void scn__peerq_free(scn_peerq *pq)
{
    if (pq->ring)
        scn__peerq_clear(pq);
    free(pq->ring);
    memset(pq, 0, sizeof(*pq));
}

/* Room for one more item in the ring (not the caps: those drop). */
static int grow(scn_peerq *pq)
{
    size_t cap = pq->ring_cap ? pq->ring_cap * 2 : FIRST_RING;
    scn_peer_item *nr;

    if (pq->count < pq->ring_cap)
        return 0;
    if (cap > pq->cap_msgs)
        cap = pq->cap_msgs;
    nr = malloc(cap * sizeof(*nr));
    if (!nr)
        return SCN_ERR_NOMEM;
    /* Unrolled into the new ring from its start. */
    for (size_t i = 0; i < pq->count; i++)
        nr[i] = pq->ring[(pq->head + i) % pq->ring_cap];
    free(pq->ring);
    pq->ring = nr;
    pq->ring_cap = cap;
    pq->head = 0;
    return 0;
}

int scn__peerq_push(scn_peerq *pq, scn_shmsg *m, unsigned char tag,
                    const void *prefix, size_t plen, uint64_t now_ms,
                    size_t *dropped, bool *became_slow)
{
    size_t n = 0, len, at;
    scn_peer_item *it;
    int rc;

    if (dropped)
        *dropped = 0;
    if (became_slow)
        *became_slow = false;
    if (plen > SCN_PEERQ_PREFIX_MAX)
        return SCN_ERR_INVALID_ARG;
    len = plen + m->len;
    if (len > pq->cap_bytes)
        return SCN_ERR_MESSAGE_TOO_BIG;
    /* len fits an empty queue, so this ends. */
    while (pq->count &&
           (pq->count >= pq->cap_msgs || pq->bytes + len > pq->cap_bytes)) {
        pop_oldest(pq);
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
    if ((rc = grow(pq)) != 0)
        return rc;
    at = pq->head + pq->count;
    it = &pq->ring[at < pq->ring_cap ? at : at - pq->ring_cap];
    it->m = scn__shmsg_ref(m);
    it->tag = tag;
    it->plen = (unsigned char)plen;
    if (plen)
        memcpy(it->prefix, prefix, plen);
    pq->count++;
    pq->bytes += len;
    return 0;
}

bool scn__peerq_take(scn_peerq *pq, scn_peer_item *out)
{
    if (pq->count == 0)
        return false;
    *out = pq->ring[pq->head];
    pq->bytes -= item_len(out);
    pq->head = next_index(pq, pq->head);
    pq->count--;
    if (pq->slow && pq->count <= pq->cap_msgs / 2 &&
        pq->bytes <= pq->cap_bytes / 2)
        pq->slow = false;
    return true;
}

const scn_peer_item *scn__peerq_peek(const scn_peerq *pq)
{
    return pq->count ? &pq->ring[pq->head] : NULL;
}

size_t scn__peerq_count(const scn_peerq *pq)
{
    return pq->count;
}

size_t scn__peerq_bytes(const scn_peerq *pq)
{
    return pq->bytes;
}

bool scn__peerq_overdue(const scn_peerq *pq, uint64_t now_ms, uint32_t limit_ms,
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
