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
    r->t_ns = calloc(cap, sizeof(*r->t_ns));
    r->late = calloc(cap, sizeof(*r->late));
    if (!r->e || !r->t_ns || !r->late) {
        fuse_free(r);
        return -1;
    }
    r->cap = cap;
    r->keep_ns = keep_ns;
    return 0;
}

void fuse_free(fuse_ring *r)
{
    for (size_t i = 0; r->e && i < r->cap; i++)
        free(r->e[i].big);
    free(r->e);
    free(r->t_ns);
    free(r->late);
    memset(r, 0, sizeof(*r));
}

/* Where e keeps a text of len bytes: its own array, or its heap copy
 * (grown when needed; given back once the slot holds a short one again).
 * NULL when that cannot be allocated. */
static char *entry_room(fuse_entry *e, size_t len)
{
    if (len < sizeof(e->small)) {
        if (e->big) {
            free(e->big);
            e->big = NULL;
            e->big_cap = 0;
        }
        return e->small;
    }
    if (e->big_cap <= len) {
        char *p = realloc(e->big, len + 1);

        if (p == NULL)
            return NULL;
        e->big = p;
        e->big_cap = len + 1;
    }
    return e->big;
}

int fuse_add(fuse_ring *r, int64_t t_ns, const char *json, size_t len)
{
    fuse_entry *e = &r->e[r->head];
    char *to = entry_room(e, len);
    int late;

    if (to == NULL)
        return -1;
    if (r->count == r->cap) /* the oldest is overwritten */
        r->late_count -= r->late[r->head];
    late = r->count > 0 && t_ns < r->t_ns[(r->head + r->cap - 1) % r->cap];
    r->late[r->head] = late;
    r->late_count += late;
    e->t_ns = t_ns;
    e->len = len;
    r->t_ns[r->head] = t_ns;
    memcpy(to, json, len + 1);
    e->json = to;
    r->head = (r->head + 1) % r->cap;
    if (r->count < r->cap)
        r->count++;
    /* Drop the oldest beyond the window so a frame never pairs with a
     * state from long ago (e.g. before the drone link dropped). */
    while (r->count > 1) {
        size_t oldest = (r->head + r->cap - r->count) % r->cap;
        if (t_ns - r->t_ns[oldest] <= r->keep_ns)
            break;
        r->late_count -= r->late[oldest];
        r->count--;
        /* Its copy goes with it: long states stay as many as the window
         * holds, not one per slot the ring has cycled through. */
        free(r->e[oldest].big);
        r->e[oldest].big = NULL;
        r->e[oldest].big_cap = 0;
    }
    return 0;
}

const fuse_entry *fuse_nearest(const fuse_ring *r, int64_t t_ns)
{
    size_t best = 0, slot = r->head;
    int64_t best_d = 0;

    /* Newest first: of two equally near, the newer wins. */
    for (size_t i = 0; i < r->count; i++) {
        int64_t t, d;

        slot = slot == 0 ? r->cap - 1 : slot - 1;
        t = r->t_ns[slot];
        d = t > t_ns ? t - t_ns : t_ns - t;
        if (i == 0 || d < best_d) {
            best = slot;
            best_d = d;
        }
        /* In time order every older entry is at least as far: the
         * first at or before t_ns ends the search (ties keep the newer,
         * as the whole scan would). */
        if (t <= t_ns && r->late_count == 0)
            break;
    }
    /* A state further than the window from the frame says nothing about
     * where the frame was taken. */
    if (r->count == 0 || best_d > r->keep_ns)
        return NULL;
    return &r->e[best];
}
