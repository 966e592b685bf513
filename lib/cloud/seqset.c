/* A bounded sorted set of seqs; see seqset.h. */
#include "seqset.h"

#include <scentience/error.h>
#include <stdlib.h>
#include <string.h>

int scn__seqset_init(scn_seqset *s, size_t cap)
{
    memset(s, 0, sizeof(*s));
    if (cap == 0)
        return SCN_ERR_INVALID_ARG;
    s->v = calloc(cap, sizeof(*s->v));
    if (!s->v)
        return SCN_ERR_NOMEM;
    s->cap = cap;
    return 0;
}

void scn__seqset_free(scn_seqset *s)
{
    free(s->v);
    memset(s, 0, sizeof(*s));
}

/* Index of the first member >= seq. */
static size_t lower_bound(const scn_seqset *s, uint64_t seq)
{
    size_t lo = 0, hi = s->len;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (s->v[mid] < seq)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

bool scn__seqset_add(scn_seqset *s, uint64_t seq)
{
    size_t i = lower_bound(s, seq);
    bool dropped = false;

    if (i < s->len && s->v[i] == seq)
        return false;
    if (s->len == s->cap) {
        dropped = true;
        if (i == 0)
            return true; /* smaller than everything kept */
        memmove(s->v, s->v + 1, (s->len - 1) * sizeof(*s->v));
        s->len--;
        i--;
    }
    memmove(s->v + i + 1, s->v + i, (s->len - i) * sizeof(*s->v));
    s->v[i] = seq;
    s->len++;
    return dropped;
}

bool scn__seqset_remove(scn_seqset *s, uint64_t seq)
{
    size_t i = lower_bound(s, seq);

    if (i == s->len || s->v[i] != seq)
        return false;
    memmove(s->v + i, s->v + i + 1, (s->len - i - 1) * sizeof(*s->v));
    s->len--;
    return true;
}

size_t scn__seqset_range(const scn_seqset *s, uint64_t after, uint64_t upto,
                         uint64_t *out, size_t max)
{
    size_t n = 0;

    for (size_t i = lower_bound(s, after + 1); i < s->len && n < max; i++) {
        if (s->v[i] > upto)
            break;
        out[n++] = s->v[i];
    }
    return n;
}

size_t scn__seqset_count(const scn_seqset *s)
{
    return s->len;
}
