/* The release-time heap; see pktq.h. */
#include "pktq.h"

#include <stdlib.h>
#include <string.h>

int pktq_init(pktq *q, size_t max_packets, size_t max_bytes)
{
    memset(q, 0, sizeof(*q));
    q->heap = calloc(max_packets, sizeof(*q->heap));
    q->cap = max_packets;
    q->max_bytes = max_bytes;
    return q->heap ? 0 : -1;
}

void pktq_free(pktq *q)
{
    for (size_t i = 0; i < q->count; i++)
        free(q->heap[i].data);
    free(q->heap);
    memset(q, 0, sizeof(*q));
}

static int earlier(const pkt *a, const pkt *b)
{
    if (a->release_us != b->release_us)
        return a->release_us < b->release_us;
    return a->order < b->order;
}

static void swap(pkt *a, pkt *b)
{
    pkt t = *a;

    *a = *b;
    *b = t;
}

int pktq_push(pktq *q, uint64_t release_us, const void *data, size_t len)
{
    size_t i;
    pkt *p;

    if (q->count == q->cap || q->bytes + len > q->max_bytes)
        return -1;
    p = &q->heap[q->count];
    p->data = malloc(len ? len : 1);
    if (!p->data)
        return -1;
    memcpy(p->data, data, len);
    p->len = len;
    p->release_us = release_us;
    p->order = q->next_order++;
    q->bytes += len;
    for (i = q->count++; i > 0 && earlier(&q->heap[i], &q->heap[(i - 1) / 2]);
         i = (i - 1) / 2)
        swap(&q->heap[i], &q->heap[(i - 1) / 2]);
    return 0;
}

const pkt *pktq_peek(const pktq *q)
{
    return q->count ? &q->heap[0] : NULL;
}

int pktq_pop(pktq *q, pkt *out)
{
    size_t i = 0;

    if (!q->count)
        return -1;
    *out = q->heap[0];
    q->bytes -= out->len;
    q->heap[0] = q->heap[--q->count];
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;

        if (l < q->count && earlier(&q->heap[l], &q->heap[m]))
            m = l;
        if (r < q->count && earlier(&q->heap[r], &q->heap[m]))
            m = r;
        if (m == i)
            break;
        swap(&q->heap[i], &q->heap[m]);
        i = m;
    }
    return 0;
}
