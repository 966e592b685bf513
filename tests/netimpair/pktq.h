/*
 * Packets waiting for their release time: a binary min-heap on (release
 * time, arrival number), so packets due at the same time keep their order.
 * Bounded in packets and bytes; a packet that does not fit is refused and
 * the caller counts it as dropped.
 */
#ifndef NETIMPAIR_PKTQ_H
#define NETIMPAIR_PKTQ_H

#include <stddef.h>
#include <stdint.h>

typedef struct pkt {
    uint64_t release_us;
    uint64_t order;
    size_t len;
    unsigned char *data;
} pkt;

typedef struct pktq {
    pkt *heap;
    size_t count, cap;
    size_t bytes, max_bytes;
    uint64_t next_order;
} pktq;

/* Returns 0 or -1 (no memory). */
int pktq_init(pktq *q, size_t max_packets, size_t max_bytes);
void pktq_free(pktq *q);
/* Copies the packet in. Returns 0, or -1 when it does not fit. */
int pktq_push(pktq *q, uint64_t release_us, const void *data, size_t len);
/* The earliest packet, or NULL. Valid until the next push or pop. */
const pkt *pktq_peek(const pktq *q);
/* Removes the earliest packet; the caller frees out->data. */
int pktq_pop(pktq *q, pkt *out);

#endif
