/* The nearest-state ring buffer: drone states kept for a few seconds with
 * their receive time, so a frame can be paired with the state closest to
 * its own TIMESTAMP rather than simply the latest one (frames and states
 * arrive at different rates and with different delays). */
#include <stdlib.h>
#include <string.h>

#include "companion.h"

int fuse_init(fuse_ring *r, size_t cap, int64_t keep_ns)
{
    memset(r, 0, sizeof(*r));
    r->e = calloc(cap, sizeof(*r->e));
    if (!r->e)
        return -1;
    r->cap = cap;
    r->keep_ns = keep_ns;
    return 0;
}

void fuse_free(fuse_ring *r)
{
    free(r->e);
    memset(r, 0, sizeof(*r));
}

void fuse_add(fuse_ring *r, int64_t t_ns, const char *json)
{
    size_t len = strlen(json);
    fuse_entry *e;

    if (len >= FUSE_JSON_MAX)
        return; /* larger than any documented state: not worth fusing */
    e = &r->e[r->head];
    e->t_ns = t_ns;
    memcpy(e->json, json, len + 1);
    r->head = (r->head + 1) % r->cap;
    if (r->count < r->cap)
        r->count++;
    /* Drop the oldest beyond the window so a frame never pairs with a
     * state from long ago (e.g. before the drone link dropped). */
    while (r->count > 1) {
        size_t oldest = (r->head + r->cap - r->count) % r->cap;
        if (t_ns - r->e[oldest].t_ns <= r->keep_ns)
            break;
        r->count--;
    }
}

const fuse_entry *fuse_nearest(const fuse_ring *r, int64_t t_ns)
{
    const fuse_entry *best = NULL;
    int64_t best_d = 0;

    for (size_t i = 0; i < r->count; i++) {
        const fuse_entry *e = &r->e[(r->head + r->cap - 1 - i) % r->cap];
        int64_t d = e->t_ns > t_ns ? e->t_ns - t_ns : t_ns - e->t_ns;

        if (!best || d < best_d) {
            best = e;
            best_d = d;
        }
    }
    /* A state further than the window from the frame says nothing about
     * where the frame was taken. */
    if (best && best_d > r->keep_ns)
        return NULL;
    return best;
}
