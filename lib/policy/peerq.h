/*
 * One server connection's outbound queue: references to shared messages
 * (shmsg.h), each with the connection's own few bytes in front (a
 * Foxglove subscription id and time), and the policy for a peer that
 * reads too slowly.
 * - A full queue drops its oldest message to make room for the new one:
 *   for a live view the newest data matters most. Drops are counted.
 * - A peer is "slow" from a drop until its queue has drained to half of
 *   both limits: catching up by one message before the next drop is not
 *   catching up.
 * - The server cuts off a peer that stays slow longer than its limit.
 * Limits count each message's prefix and payload, as if it were a copy
 * (they say how far behind a peer may be), though the payload is shared.
 * Pure: the caller passes the time (monotonic ms) and holds the lock;
 * nothing here does I/O.
 */
#ifndef SCN_PEERQ_H
#define SCN_PEERQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shmsg.h"

#define SCN_PEERQ_PREFIX_MAX 14

typedef struct scn_peer_item {
    scn_shmsg *m;
    unsigned char tag;  /* the caller's: text or binary */
    unsigned char plen; /* prefix bytes, sent before m's */
    unsigned char prefix[SCN_PEERQ_PREFIX_MAX];
} scn_peer_item;

typedef struct scn_peerq {
    scn_peer_item *ring; /* grown on demand up to cap_msgs */
    size_t ring_cap;
    size_t cap_msgs, cap_bytes;
    size_t head, count, bytes; /* bytes: prefixes and payloads queued */
    uint64_t dropped;          /* oldest messages dropped so far */
    bool slow;
    uint64_t slow_since_ms; /* when it last became slow */
} scn_peerq;

/* Returns 0 or SCN_ERR_INVALID_ARG (a zero cap). Allocates nothing yet. */
int scn__peerq_init(scn_peerq *pq, size_t cap_msgs, size_t cap_bytes);
/* Drops every reference and frees the ring. Safe twice. */
void scn__peerq_free(scn_peerq *pq);

/* Queues a reference to m with tag and plen prefix bytes, dropping the
 * oldest messages until it fits. *dropped (may be NULL) receives how many
 * this push dropped. A push that drops makes the peer slow (from now_ms,
 * unless it already was); *became_slow (may be NULL) tells whether this
 * push did. Returns 0, SCN_ERR_MESSAGE_TOO_BIG (over cap_bytes: nothing
 * dropped), SCN_ERR_INVALID_ARG (plen too long), SCN_ERR_NOMEM. */
int scn__peerq_push(scn_peerq *pq, scn_shmsg *m, unsigned char tag,
                    const void *prefix, size_t plen, uint64_t now_ms,
                    size_t *dropped, bool *became_slow);

/* Takes the oldest message out: the caller owns its reference
 * (scn__shmsg_unref). A slow peer whose queue is now at or below half of
 * both caps is no longer slow. Returns false when empty. */
bool scn__peerq_take(scn_peerq *pq, scn_peer_item *out);

/* The message scn__peerq_take would return next (still queued), or NULL
 * when empty. */
const scn_peer_item *scn__peerq_peek(const scn_peerq *pq);

size_t scn__peerq_count(const scn_peerq *pq);
size_t scn__peerq_bytes(const scn_peerq *pq);
/* Discards every message; returns how many. The peer is no longer slow:
 * nothing is left to be behind on. */
size_t scn__peerq_clear(scn_peerq *pq);

/* Whether a slow peer is due to be cut off: slow for at least limit_ms.
 * Never when limit_ms is 0 or the peer is not slow. Otherwise
 * *deadline_ms (may be NULL) receives when it will be due (UINT64_MAX:
 * never). */
bool scn__peerq_overdue(const scn_peerq *pq, uint64_t now_ms, uint32_t limit_ms,
                        uint64_t *deadline_ms);

#endif
